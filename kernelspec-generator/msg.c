// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * msg.c - the arguments of the simple subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int gen_simple_args(int argc, char **argv, const char *usage, int want_name,
		    const char **name)
{
	*name = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 1;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			gen_error("%s: unknown option %.100s (jupyter slurm "
				  "%s --help)", argv[0], argv[i], argv[0]);
			return -1;
		}
		if (!want_name || *name != NULL) {
			gen_error("%s: unexpected argument \"%.100s\" (jupyter "
				  "slurm %s --help)", argv[0], argv[i],
				  argv[0]);
			return -1;
		}
		*name = argv[i];
	}
	if (want_name && *name == NULL) {
		gen_error("%s: missing NAME (jupyter slurm list shows them)",
			  argv[0]);
		return -1;
	}
	return 0;
}

