// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * args.h - the shim's command line.
 *
 * Login side (kernel.json argv):
 *   slurm-jupyter-shim [SHIM OPTIONS] [SLURM OPTIONS] -f CONNECTION_FILE
 *                      -- KERNEL ARGV...
 * Node side (started by srun; not for typing by hand):
 *   slurm-jupyter-shim --node -- KERNEL ARGV...
 *
 * SLURM OPTIONS are every argument before -f that is not a shim option;
 * they go to salloc unchanged, so any salloc option a site uses works.
 */
#ifndef SHIM_ARGS_H
#define SHIM_ARGS_H

#include "kernelstep.h"
#include "news.h"
#include "shimconf.h"
#include "sj_err.h"

enum shim_mode { SHIM_LOGIN, SHIM_NODE, SHIM_HELP, SHIM_VERSION };

struct shim_args {
	enum shim_mode mode;
	int verbose;
	const char *connection_file;
	const char *jobid;		/* --jobid: an existing allocation */
	const char *rendezvous_host;	/* address nodes reach us at */
	const char *setup;		/* shell command before the kernel */
	const char *kernel_node;	/* node of the allocation to use */
	const char *node_shim;		/* the shim's path on the nodes */
	int share;			/* --share: join a busy allocation */
	const char *kernel_transport;	/* "default", "ipc", "tcp" */
	unsigned linger;		/* --linger seconds */
	struct sj_warn_plan warn;	/* --warn-before */
	unsigned idle_timeout;		/* --idle-timeout seconds; 0: off */
	/* Given in argv (the kernelspec): the site's default yields. */
	int linger_given, warn_given, idle_given;
	char **srun_argv;		/* --srun-arg values, borrowed */
	int srun_argc;
	char **slurm_argv;		/* borrowed from argv; n entries */
	int slurm_argc;
	char **kernel_argv;		/* NULL-terminated, borrowed */
	int kernel_argc;
};

/* Parses argv (not modified); slurm_argv is malloc'd, free with
 * shim_args_free. */
int shim_args_parse(int argc, char **argv, struct shim_args *a,
		    struct sj_err *err);
void shim_args_free(struct shim_args *a);

/* The site's defaults (shimconf.h) for the options argv did not give:
 * the kernelspec's option > the site's file > the built-in default. */
void shim_args_site(struct shim_args *a, const struct sj_shimconf *c);

extern const char shim_usage[];

#endif
