// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * split.h - a generated argv taken apart the way the shim reads it
 * (shim/args.c): shim options, the salloc options (everything else before
 * -f), and the kernel's argv after "--".  list and show use it, so they
 * describe what the kernelspec does, even after a hand edit.
 */
#ifndef GEN_SPLIT_H
#define GEN_SPLIT_H

#include <jansson.h>
#include <stddef.h>

#include "opts.h"
#include "sj_err.h"

struct gen_split {
	const char *shim;
	const char *jobid;
	const char *kernel_node;
	const char *setup;
	const char *rendezvous_host;
	const char *kernel_transport;
	const char *node_shim;		/* NULL: the shim above, on the nodes */
	int verbose;
	int share;
	const char *linger;		/* NULL: the shim's default */
	const char *warn_before;	/* NULL: the shim's default */
	const char *idle_timeout;	/* NULL: the shim's default (off) */
	struct gen_strv srun;		/* --srun-arg values */
	struct gen_strv salloc;		/* what goes to salloc */
	struct gen_strv kernel;		/* after "--" */
	struct gen_strv options;	/* all of them before -f, in order */
	const char **all;		/* every argument; kernel.v points in */
};

/* Strings are borrowed from argv; free with gen_split_free. */
int gen_split_argv(const json_t *argv, struct gen_split *s,
		   struct sj_err *err);
void gen_split_free(struct gen_split *s);

#endif
