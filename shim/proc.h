// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * proc.h - child processes and signals of the shim.
 *
 * The shim blocks the signals it cares about and reads them from a
 * signalfd, so the forwarding loop wakes on a signal like on a message.
 * Children get the default mask and dispositions back before execve.
 */
#ifndef SHIM_PROC_H
#define SHIM_PROC_H

#include <signal.h>
#include <sys/types.h>

#include "sj_err.h"
#include "spawn.h"

/* Keeps the HMAC key out of core dumps and away from other processes of
 * the user: not dumpable (no core, no ptrace, /proc/PID owned by root, its
 * environ, fds and memory unreadable but to root) and a soft core size of
 * 0.  Forks (the janitor) inherit both; programs run with proc_spawn get
 * the user's core limit back, and execve makes them dumpable again. */
int proc_harden(struct sj_err *err);

/* Blocks SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT and returns a signalfd
 * for them (nonblocking, close-on-exec). */
int proc_signals_init(int *sfd, struct sj_err *err);

/* Reads one pending signal number from the signalfd, 0 if none. */
int proc_signal_read(int sfd);

struct proc_spawn {
	char *const *argv;
	int new_pgrp;		/* setpgid(0, 0): out of Jupyter's killpg */
	int new_session;	/* setsid() */
	int parent_death_sig;	/* prctl(PR_SET_PDEATHSIG), 0 for none */
	int stdin_fd;		/* -1: /dev/null */
	int stdout_fd;		/* -1: inherit */
	int stderr_fd;		/* -1: inherit */
	const int *keep_fds;	/* fds to keep open (others >= 3 close) */
	int nkeep;
};

/* sj_spawn (spawn.h) with the user's core limit back, and an exec
 * failure told on the child's stderr with exit status 127. */
int proc_spawn(const struct proc_spawn *ps, pid_t *pid, struct sj_err *err);

static inline void proc_close_fds(int lowfd, const int *keep, int nkeep)
{
	sj_close_fds(lowfd, keep, nkeep);
}

static inline int proc_reap(pid_t pid, int *status)
{
	return sj_reap(pid, status);
}

static inline int proc_exit_code(int status)
{
	return sj_exit_code(status);
}

#endif
