// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_remove.c - jupyter slurm remove NAME: only what add made.
 */
#include "cmd.h"
#include "install.h"
#include "lookup.h"

int cmd_remove(int argc, char **argv)
{
	struct gen_lookup lk;
	struct sj_err err;
	int rv;

	if (gen_lookup_cmd(argc, argv, gen_usage_remove, &lk, &rv) == 0) {
		if (gen_uninstall(lk.k->dir, &err)) {
			gen_error("%s", err.msg);
			rv = GEN_EXIT_FAIL;
		} else {
			sj_info("removed %s (%s)", lk.k->name, lk.k->dir);
		}
	}
	gen_lookup_free(&lk);
	return rv;
}
