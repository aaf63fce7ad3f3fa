// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_remove.c - jupyter slurm remove NAME: only what add made.
 */
#include <stdio.h>

#include "cmd.h"
#include "install.h"
#include "lookup.h"

int cmd_remove(int argc, char **argv)
{
	struct gen_lookup lk;
	struct sj_err err;
	const char *name;
	int r, rv;

	r = gen_simple_args(argc, argv, gen_usage_remove, 1, &name);
	if (r != 0)
		return r > 0 ? GEN_EXIT_OK : GEN_EXIT_USAGE;
	if (gen_lookup_init(&lk, &err)) {
		rv = GEN_EXIT_FAIL;
		goto fail;
	}
	rv = gen_lookup_ours(&lk, name, &err);
	if (rv != GEN_EXIT_OK)
		goto fail;
	if (gen_uninstall(lk.k->dir, &err)) {
		rv = GEN_EXIT_FAIL;
		goto fail;
	}
	printf("jupyter-slurm: removed %s (%s)\n", lk.k->name, lk.k->dir);
	goto out;
fail:
	gen_error("%s", err.msg);
out:
	gen_lookup_free(&lk);
	return rv;
}
