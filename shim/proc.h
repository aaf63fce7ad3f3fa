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

/* fork + execvp; an exec failure exits the child with 127 after a message. */
int proc_spawn(const struct proc_spawn *ps, pid_t *pid, struct sj_err *err);

/* Closes every fd >= lowfd but those in keep[0..nkeep); for a child
 * between fork and exec (async-signal-safe). */
void proc_close_fds(int lowfd, const int *keep, int nkeep);

/* Waits for pid without blocking; returns 1 and the status if it ended. */
int proc_reap(pid_t pid, int *status);

/* Exit status in the shell's convention: code, or 128 + signal. */
int proc_exit_code(int status);

#endif
