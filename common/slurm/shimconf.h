// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shimconf.h - a site's defaults for the login shim's options (issue 16):
 * $(SYSCONFDIR)/slurm-jupyter/shim.conf, e.g.
 *
 *   # Kernels idle for an hour give their allocation back.
 *   idle_timeout=1h
 *   warn_before=15m,2m
 *   linger=30s
 *
 * One key=value a line (blanks around key and value are ignored), '#'
 * starts a comment line, blank lines are fine.  An unknown key, a key
 * given twice or a bad value is an error naming the file, the line and
 * the problem, and the shim then refuses to start, as the plugin does
 * with a bad plugstack.conf argument.  Values take the shim's one
 * duration grammar (shimopt.h: "90s", "30m", "2h"), or 0 for off.
 *
 * A default is no policy: the kernelspec's own option wins over the file,
 * and the file over the built-in default.  The file must still be root's
 * and writable by nobody else (nor may the directories above it be), as
 * MUNGE treats its key: a file anybody could write is refused, not read.
 */
#ifndef SJ_SHIMCONF_H
#define SJ_SHIMCONF_H

#include <stddef.h>
#include <sys/stat.h>

#include "news.h"
#include "sj_err.h"

/* The compiled-in path: SYSCONFDIR of the build (Makefile). */
#ifndef SJ_SYSCONFDIR
#define SJ_SYSCONFDIR "/etc"
#endif
#define SJ_SHIMCONF_PATH SJ_SYSCONFDIR "/slurm-jupyter/shim.conf"

/* Names another file instead (see docs/decisions.md: it escapes nothing,
 * and the file it names is checked like the real one). */
#define SJ_SHIMCONF_ENV "SLURM_JUPYTER_SHIM_CONF"

/* A file longer than this is no configuration. */
#define SJ_SHIMCONF_MAX (64 * 1024)

enum sj_shimconf_key {
	SJ_SHIMCONF_IDLE_TIMEOUT,	/* --idle-timeout */
	SJ_SHIMCONF_WARN_BEFORE,	/* --warn-before */
	SJ_SHIMCONF_LINGER,		/* --linger */
	SJ_SHIMCONF_NKEYS
};

struct sj_shimconf {
	int line[SJ_SHIMCONF_NKEYS];	/* where each key was set; 0: not */
	unsigned idle_timeout;		/* seconds, 0: off */
	struct sj_warn_plan warn;	/* n 0: no warnings */
	char warn_text[128];		/* warn_before as written */
	unsigned linger;		/* seconds, 0 to SJ_MAX_LINGER */
};

/* "idle_timeout", "warn_before", "linger"; NULL for anything else. */
const char *sj_shimconf_key_name(enum sj_shimconf_key k);

/*
 * Parses len bytes of a file's text; path only names it in messages.  c
 * is written only on success (with no key set for an empty file).  -1
 * with err "PATH line N: PROBLEM" (or "PATH: PROBLEM" for the file as a
 * whole, e.g. a NUL byte).
 */
int sj_shimconf_parse(const char *text, size_t len, const char *path,
		      struct sj_shimconf *c, struct sj_err *err);

/*
 * Whether st (of path) may be trusted: the file itself (dir 0) must be a
 * regular file of root's that neither group nor others may write; a
 * directory above it (dir 1) must be root's and not writable by group or
 * others unless sticky.  -1 with err naming path and what is wrong.
 */
int sj_shimconf_check_stat(const struct stat *st, const char *path, int dir,
			   struct sj_err *err);

/* The file this process reads: $SLURM_JUPYTER_SHIM_CONF if set and not
 * empty, else SJ_SHIMCONF_PATH. */
const char *sj_shimconf_path(void);

/*
 * Reads the site file at path: 0 with *found 0 (c with no key set) if
 * there is none, 0 with *found 1 and c filled if it is trusted
 * (sj_shimconf_check_stat for it and every directory above it) and
 * parses; -1 with err otherwise.
 */
int sj_shimconf_load(const char *path, struct sj_shimconf *c, int *found,
		     struct sj_err *err);

#endif
