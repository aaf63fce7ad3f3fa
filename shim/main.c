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
#include "shimconf.h"
#include "shim.h"

/* The site's defaults for the options the kernelspec left out; a file
 * that is wrong or not to be trusted stops the shim, as a bad plugstack
 * line stops the plugin: the admin meant something by it. */
static int site_defaults(struct shim_args *a)
{
	struct sj_shimconf c;
	struct sj_err err;
	const char *path = sj_shimconf_path();
	int found;

	if (sj_shimconf_load(path, &c, &found, &err)) {
		shim_error("site defaults: %s", err.msg);
		return -1;
	}
	if (found)
		shim_debug("site defaults from %s", path);
	shim_args_site(a, &c);
	return 0;
}

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
	if (a.mode == SHIM_LOGIN && site_defaults(&a)) {
		shim_args_free(&a);
		return 2;
	}
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
