// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * run.h - run a Slurm command and keep what it printed.
 */
#ifndef GEN_RUN_H
#define GEN_RUN_H

#include <stddef.h>

#include "sj_err.h"

/* Longest a Slurm command may take; scontrol gives up on an unreachable
 * slurmctld after about MessageTimeout. */
#define GEN_RUN_TIMEOUT_MS (60 * 1000)

struct gen_output {
	char *out;		/* stdout, NUL-terminated */
	char *errtext;		/* stderr, NUL-terminated */
	int status;		/* exit status; -1 if killed by a signal */
};

/* Runs argv (found on PATH) with stdin from /dev/null and waits for it, at
 * most timeout_ms.  Returns -1 (err set) when it could not be run or did
 * not finish in time; its exit status is in out->status otherwise.  Free
 * out with gen_output_free either way. */
int gen_run(char *const argv[], int timeout_ms, struct gen_output *out,
	    struct sj_err *err);
void gen_output_free(struct gen_output *out);

/* The first line of text, at most len-1 characters, for messages. */
void gen_first_line(const char *text, char *buf, size_t len);

#endif
