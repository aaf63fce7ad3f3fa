// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lookup.h - a Slurm kernelspec by name, for list, show and remove.
 */
#ifndef GEN_LOOKUP_H
#define GEN_LOOKUP_H

#include <jansson.h>
#include <stdio.h>

#include "kspath.h"
#include "sj_err.h"
#include "split.h"

struct gen_lookup {
	struct gen_kspath path;
	struct gen_kspec_list specs;
	const struct gen_kspec *k;
	json_t *spec;
	json_t *mark;			/* metadata.slurm_jupyter, borrowed */
};

/* Reads the Jupyter path and everything on it. */
int gen_lookup_init(struct gen_lookup *lk, struct sj_err *err);

/* Finds name (what Jupyter would use) and loads it.  Returns GEN_EXIT_OK,
 * or the exit status with err set: GEN_EXIT_USAGE when there is no such
 * kernelspec or jupyter slurm did not make it. */
int gen_lookup_ours(struct gen_lookup *lk, const char *name,
		    struct sj_err *err);

void gen_lookup_free(struct gen_lookup *lk);

/* The start of show and remove: NAME from the command line (usage for
 * --help), then that kernelspec, which must be ours.  0 with lk loaded;
 * -1 when the command is over already (--help, or a message printed),
 * *rv then being its exit status.  Free lk with gen_lookup_free either
 * way. */
int gen_lookup_cmd(int argc, char **argv, const char *usage,
		   struct gen_lookup *lk, int *rv);

/* The options of a spec as a command line: what its argv gives the shim
 * and salloc, in order, then --env for what add was given. */
void gen_print_options(FILE *f, const struct gen_split *s,
		       const json_t *mark);

#endif
