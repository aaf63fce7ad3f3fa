/*
 * slurm-jupyter-shim: runs a Jupyter kernel on a Slurm compute node.
 * One binary, two ends: the login side (Jupyter's kernel process) and the
 * node side (--node, the Slurm step's task).
 */
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "log.h"
#include "shim.h"

int main(int argc, char **argv)
{
	struct shim_args a;
	struct sj_err err;
	int rv;

	if (shim_args_parse(argc, argv, &a, &err)) {
		shim_error("%s", err.msg);
		fputs(shim_usage, stderr);
		shim_args_free(&a);
		return 2;
	}
	if (getenv("SLURM_JUPYTER_SHIM_DEBUG") != NULL)
		a.verbose = 1;
	shim_verbose = a.verbose;
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
