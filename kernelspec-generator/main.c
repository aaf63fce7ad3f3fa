// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jupyter-slurm: per-user kernelspecs that run an installed kernel on a
 * Slurm compute node.  Jupyter's command dispatcher runs it for
 * `jupyter slurm ...`.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "logtext.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "add", cmd_add, gen_usage_add },
	{ "list", cmd_list, gen_usage_list },
	{ "show", cmd_show, gen_usage_show },
	{ "remove", cmd_remove, gen_usage_remove },
	{ "doctor", cmd_doctor, gen_usage_doctor },
	{ "ps", cmd_ps, gen_usage_ps },
	{ "cancel", cmd_cancel, gen_usage_cancel },
};

static int dispatch(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : NULL;

	if (c == NULL) {
		fputs(gen_usage, stderr);
		return GEN_EXIT_USAGE;
	}
	if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0) {
		fputs(gen_usage, stdout);
		return GEN_EXIT_OK;
	}
	if (strcmp(c, "--version") == 0) {
		printf("jupyter-slurm %s\n", SJ_VERSION);
		return GEN_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(c, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
		if (strcmp(c, "help") == 0 && argc > 2 &&
		    strcmp(argv[2], commands[i].name) == 0) {
			fputs(commands[i].usage, stdout);
			return GEN_EXIT_OK;
		}
	}
	if (strcmp(c, "help") == 0 && argc == 2) {
		fputs(gen_usage, stdout);
		return GEN_EXIT_OK;
	}
	if (strcmp(c, "help") == 0)
		c = argv[2];
	gen_error("unknown command \"%.100s\" (allowed: add, list, show, "
		  "remove, doctor, ps, cancel; jupyter slurm --help)", c);
	return GEN_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	int rv;

	sj_log_init(SJ_GEN_LOG_PREFIX, sj_log_to_terminal);
	rv = dispatch(argc, argv);
	/* A list piped into a full disk must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		gen_error("cannot write the output");
		if (rv == GEN_EXIT_OK)
			rv = GEN_EXIT_FAIL;
	}
	return rv;
}
