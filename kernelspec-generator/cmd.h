// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd.h - the subcommands of jupyter-slurm, and how they end.
 */
#ifndef GEN_CMD_H
#define GEN_CMD_H

#include <stdio.h>

#include "logger.h"

enum {
	GEN_EXIT_OK = 0,
	GEN_EXIT_FAIL = 1,	/* could not do it (I/O, memory) */
	GEN_EXIT_USAGE = 2,	/* refused: a bad option, a failed check */
};

/* argv[0] is the subcommand's name. */
int cmd_add(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_cancel(int argc, char **argv);

/* SJ_GEN_LOG_PREFIX and one line on stderr (the one logger, which
 * main() sets up). */
#define gen_error(...) sj_error(__VA_ARGS__)

/* Subcommands without options of their own: NAME (or nothing) and
 * --help.  Returns 1 when --help was given (usage printed), 0 with *name
 * set, -1 after a usage error was printed. */
int gen_simple_args(int argc, char **argv, const char *usage, int want_name,
		    const char **name);

extern const char gen_usage[], gen_usage_add[], gen_usage_list[],
	gen_usage_show[], gen_usage_remove[], gen_usage_doctor[],
	gen_usage_ps[], gen_usage_cancel[];

#endif
