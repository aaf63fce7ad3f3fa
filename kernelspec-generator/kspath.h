// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kspath.h - where Jupyter looks for kernelspecs, in jupyter_core's order.
 *
 *   each JUPYTER_PATH entry, the user data directory (JUPYTER_DATA_DIR,
 *   else $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter), Python's
 *   user base (~/.local/share/jupyter), /usr/local/share/jupyter,
 *   /usr/share/jupyter
 *
 * each with /kernels appended.  A name found in an earlier directory hides
 * the same name further down.  Python environments' own share/jupyter
 * (sys.prefix) are not known to a C program: list them in JUPYTER_PATH.
 */
#ifndef GEN_KSPATH_H
#define GEN_KSPATH_H

#include <stddef.h>

#include "sj_err.h"

struct gen_kspath {
	char **dirs;		/* ".../kernels", in search order */
	size_t n;
	size_t user;		/* index of the user's own: where add writes */
};

/* One kernelspec found on the path. */
struct gen_kspec {
	char *name;		/* as jupyter lists it: lowercased */
	char *dir;		/* the directory holding kernel.json */
	size_t where;		/* index into gen_kspath.dirs */
};

struct gen_kspec_list {
	struct gen_kspec *v;
	size_t n;
};

/* Reads the environment (JUPYTER_PATH, JUPYTER_DATA_DIR, XDG_DATA_HOME,
 * PYTHONUSERBASE, HOME). */
int gen_kspath_init(struct gen_kspath *p, struct sj_err *err);
void gen_kspath_free(struct gen_kspath *p);

/* Every kernelspec on the path, first occurrence of each name only,
 * sorted by name.  Unreadable or missing directories are skipped, as
 * Jupyter does. */
int gen_kspath_list(const struct gen_kspath *p, struct gen_kspec_list *l,
		    struct sj_err *err);
void gen_kspec_list_free(struct gen_kspec_list *l);

/* The entry named name (case-insensitive, as Jupyter), or NULL. */
const struct gen_kspec *gen_kspec_find(const struct gen_kspec_list *l,
				       const char *name);

#endif
