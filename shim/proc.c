// SPDX-License-Identifier: GPL-2.0-or-later
#include "proc.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int handled[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* The core size limit we were given, for the programs we run. */
static struct rlimit given_core;
static int core_lowered;

int proc_harden(struct sj_err *err)
{
	struct rlimit none;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return sj_err_errno(err, errno, "prctl(PR_SET_DUMPABLE)");
	/* Only the soft limit: the kernel and srun get the user's back. */
	if (getrlimit(RLIMIT_CORE, &given_core) != 0)
		return sj_err_errno(err, errno, "getrlimit(RLIMIT_CORE)");
	none = given_core;
	none.rlim_cur = 0;
	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return sj_err_errno(err, errno, "setrlimit(RLIMIT_CORE)");
	core_lowered = 1;
	return 0;
}

int proc_signals_init(int *sfd, struct sj_err *err)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(&set, handled[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return sj_err_errno(err, errno, "sigprocmask");
	*sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (*sfd < 0)
		return sj_err_errno(err, errno, "signalfd");
	return 0;
}

int proc_signal_read(int sfd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do {
		n = read(sfd, &si, sizeof(si));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

int proc_spawn(const struct proc_spawn *ps, pid_t *pid, struct sj_err *err)
{
	struct sj_spawn sp = {
		.argv = ps->argv,
		.new_pgrp = ps->new_pgrp,
		.new_session = ps->new_session,
		.parent_death_sig = ps->parent_death_sig,
		.stdin_fd = ps->stdin_fd,
		.stdout_fd = ps->stdout_fd,
		.stderr_fd = ps->stderr_fd,
		.keep_fds = ps->keep_fds,
		.nkeep = ps->nkeep,
		/* Dumpable comes back with execve by itself; the limit
		 * does not. */
		.core = core_lowered ? &given_core : NULL,
		.exec_fail = SJ_EXEC_FAIL_EXIT127,
	};

	return sj_spawn(&sp, pid, err);
}
