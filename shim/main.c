// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * slurm-jupyter-shim: runs a Jupyter kernel on a Slurm compute node.
 * One binary, two ends: the login side (Jupyter's kernel process) and the
 * node side (--node, the Slurm step's task).
 */
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "jsonwipe.h"
#include "log.h"
#include "proc.h"
#include "shim.h"

int main(int argc, char **argv)
{
	struct shim_args a;
	struct sj_err err;
	int rv;

	shim_log_init();
	/* First: the key is read later, and nothing before it needs us to
	 * be dumpable.  jansson then clears what it frees (the key passes
	 * through it in both shims). */
	if (proc_harden(&err)) {
		shim_error("%s", err.msg);
		return 1;
	}
	sj_json_wipe_frees();
	if (shim_args_parse(argc, argv, &a, &err)) {
		shim_error("%s", err.msg);
		fputs(shim_usage, stderr);
		shim_args_free(&a);
		return 2;
	}
	if (getenv("SLURM_JUPYTER_SHIM_DEBUG") != NULL)
		a.verbose = 1;
	sj_log_set_debug(a.verbose);
	switch (a.mode) {
	case SHIM_HELP:
		fputs(shim_usage, stdout);
		rv = 0;
		break;
	case SHIM_VERSION:
		printf("slurm-jupyter-shim %s (built for Slurm %s)\n",
		       SJ_VERSION, SJ_SLURM_VERSION);
		rv = 0;
		break;
	case SHIM_NODE:
		rv = node_main(&a);
		break;
	default:
		rv = login_main(&a);
		break;
	}
	shim_args_free(&a);
	return rv;
}
