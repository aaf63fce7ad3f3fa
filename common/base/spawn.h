// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spawn.h - the one way our programs start another: fork, plumbing,
 * execvp, and for the commands whose answer we read, pipes and a timeout.
 *
 * The child gets an empty signal mask and the default disposition of the
 * signals our programs handle (SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT),
 * only the descriptors it is given, and the environment it is given.
 * Descriptors we open are close-on-exec; the ones handed to the child are
 * the only ones without it.  Not for the plugin: slurmstepd runs nothing.
 */
#ifndef SJ_SPAWN_H
#define SJ_SPAWN_H

#include <sys/resource.h>
#include <sys/types.h>

#include "sj_err.h"

/* What an exec failure does. */
enum sj_exec_fail {
	/* sj_spawn fails: "cannot run NAME: REASON", the child reaped. */
	SJ_EXEC_FAIL_RETURN,
	/* As a shell: the child says "PREFIXcannot run NAME: REASON" on its
	 * stderr (PREFIX: the logger's) and exits 127; sj_spawn succeeds. */
	SJ_EXEC_FAIL_EXIT127,
};

struct sj_spawn {
	char *const *argv;	/* argv[0] found on PATH as execvp does */
	char *const *envp;	/* NULL: ours */
	int new_pgrp;		/* setpgid(0, 0): out of our caller's killpg */
	int new_session;	/* setsid() */
	int parent_death_sig;	/* prctl(PR_SET_PDEATHSIG), 0 for none */
	int stdin_fd;		/* -1: /dev/null */
	int stdout_fd;		/* -1: inherit */
	int stderr_fd;		/* -1: inherit */
	const int *keep_fds;	/* fds >= 3 to keep open (others close) */
	int nkeep;
	const struct rlimit *core;	/* RLIMIT_CORE for it; NULL: ours */
	enum sj_exec_fail exec_fail;
};

/* Starts sp->argv; *pid is the child's.  -1 with err when it could not be
 * forked, or (SJ_EXEC_FAIL_RETURN) not run. */
int sj_spawn(const struct sj_spawn *sp, pid_t *pid, struct sj_err *err);

/* Closes every fd >= lowfd but those in keep[0..nkeep); for a child
 * between fork and exec (async-signal-safe). */
void sj_close_fds(int lowfd, const int *keep, int nkeep);

/* Waits for pid without blocking; returns 1 and the status if it ended. */
int sj_reap(pid_t pid, int *status);

/* Exit status in the shell's convention: code, or 128 + signal. */
int sj_exit_code(int status);

/* The most a command run by sj_run may print on each of its outputs. */
#define SJ_RUN_MAX_OUTPUT (4 * 1024 * 1024)

/* Runs argv (on PATH, our environment, stdin from /dev/null) and keeps
 * what it prints, waiting at most timeout_ms; past that it is killed.
 * -1 with err when it could not be run, printed more than
 * SJ_RUN_MAX_OUTPUT or did not finish in time; 0 otherwise with *status
 * its exit code (-1 if a signal ended it).  *out and *errtext are set
 * either way (NUL-terminated, maybe empty, NULL only when out of memory)
 * and are the caller's to free. */
int sj_run(char *const argv[], int timeout_ms, char **out, char **errtext,
	   int *status, struct sj_err *err);

#endif
