// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * opts.h - the command line of `jupyter slurm add`.
 *
 * Parsing only collects; gen_opts_check says whether the values make
 * sense on their own (numbers are numbers, times are Slurm times).  What
 * needs Slurm (does the partition exist?) is check.h's job.
 */
#ifndef GEN_OPTS_H
#define GEN_OPTS_H

#include <stddef.h>

#include "sj_err.h"

/* Values of a repeatable option, borrowed from argv. */
struct gen_strv {
	const char **v;
	size_t n;
};

struct gen_opts {
	const char *kernel;		/* the kernelspec to wrap */
	const char *name;
	const char *display_name;
	/* salloc options */
	const char *account;
	const char *partition;
	const char *nodes;
	const char *time;
	const char *gpus;
	const char *gres;
	const char *reservation;
	const char *qos;
	const char *constraint;
	const char *mem;
	const char *cpus_per_task;
	struct gen_strv salloc_args;
	/* shim options */
	const char *jobid;
	const char *kernel_node;
	const char *setup;
	const char *rendezvous_host;
	const char *kernel_transport;	/* "ipc" or "tcp" */
	int share;
	const char *linger;		/* seconds */
	const char *warn_before;	/* --warn-before: news.h */
	const char *idle_timeout;	/* --idle-timeout: idle.h */
	struct gen_strv srun_args;
	int shim_verbose;
	/* the kernelspec itself */
	struct gen_strv env;		/* NAME=VALUE */
	const char *shim;
	int no_check;
	int force;
	int help;
};

/* Parses argv[1..argc-1] (argv[0] is "add").  Strings are borrowed from
 * argv; free with gen_opts_free.  --help stops parsing with o->help set. */
int gen_opts_parse(int argc, char **argv, struct gen_opts *o,
		   struct sj_err *err);
void gen_opts_free(struct gen_opts *o);

/* Checks every value on its own and the combinations. */
int gen_opts_check(const struct gen_opts *o, struct sj_err *err);

/* Kernelspec names as jupyter_client accepts them, lowercase only (it
 * lowercases directory names when it lists them). */
int gen_name_check(const char *name, struct sj_err *err);

/* One salloc option of the generated argv, e.g. "--partition=debug".  The
 * table drives the argv, the metadata and `list`, in this order. */
struct gen_salloc_opt {
	const char *flag;		/* "--partition" */
	const char *key;		/* "partition" in the metadata */
	size_t off;			/* of the const char * in gen_opts */
};
extern const struct gen_salloc_opt gen_salloc_opts[];
extern const size_t gen_n_salloc_opts;

static inline const char *gen_salloc_value(const struct gen_opts *o,
					   const struct gen_salloc_opt *s)
{
	return *(const char *const *)(const void *)((const char *)o + s->off);
}

#endif
