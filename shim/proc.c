// SPDX-License-Identifier: GPL-2.0-or-later
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logtext.h"

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

/* close_range(2) around the kept fds: one system call per gap instead of
 * a close per possible descriptor.  Async-signal-safe. */
static void close_gap(unsigned int lo, unsigned int hi)
{
	if (lo > hi)
		return;
	if (close_range(lo, hi, 0) == 0)
		return;
	for (unsigned int fd = lo; fd <= hi && fd < 65536; fd++)
		close((int)fd);		/* kernels before 5.9 */
}

void proc_close_fds(int lowfd, const int *keep, int nkeep)
{
	unsigned int cur = (unsigned int)lowfd;

	for (;;) {
		int next = -1;

		for (int i = 0; i < nkeep; i++)
			if (keep[i] >= (int)cur && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0)
			break;
		if ((unsigned int)next > cur)
			close_gap(cur, (unsigned int)next - 1);
		cur = (unsigned int)next + 1;
	}
	close_gap(cur, ~0U);
}

/* In the child: nothing but async-signal-safe calls until execvp. */
static void child(const struct proc_spawn *ps)
{
	sigset_t none;
	int devnull;

	sigemptyset(&none);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		signal(handled[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (ps->new_session)
		setsid();
	else if (ps->new_pgrp)
		setpgid(0, 0);
	if (ps->parent_death_sig)
		prctl(PR_SET_PDEATHSIG, ps->parent_death_sig);

	devnull = open("/dev/null", O_RDWR);
	if (dup2(ps->stdin_fd >= 0 ? ps->stdin_fd : devnull, 0) < 0)
		_exit(127);
	if (ps->stdout_fd >= 0 && dup2(ps->stdout_fd, 1) < 0)
		_exit(127);
	if (ps->stderr_fd >= 0 && dup2(ps->stderr_fd, 2) < 0)
		_exit(127);
	/* Inherited sockets (Jupyter's ports, the rendezvous listener) must
	 * not outlive us in srun or the kernel. */
	proc_close_fds(3, ps->keep_fds, ps->nkeep);
	/* Dumpable comes back with execve by itself; the limit does not.
	 * Raising the soft limit up to the hard one cannot fail. */
	if (core_lowered)
		(void)setrlimit(RLIMIT_CORE, &given_core);
	execvp(ps->argv[0], ps->argv);
	dprintf(2, SJ_SHIM_LOG_PREFIX "cannot run %s: %s\n", ps->argv[0],
		strerror(errno));
	_exit(127);
}

int proc_spawn(const struct proc_spawn *ps, pid_t *pid, struct sj_err *err)
{
	pid_t p = fork();

	if (p < 0)
		return sj_err_errno(err, errno, "fork for %s", ps->argv[0]);
	if (p == 0)
		child(ps);
	/* Also in the parent, so there is no window in which a signal to
	 * our group still reaches the child. */
	if (ps->new_pgrp && !ps->new_session)
		(void)setpgid(p, p);
	*pid = p;
	return 0;
}

int proc_reap(pid_t pid, int *status)
{
	pid_t r;

	do {
		r = waitpid(pid, status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	return r == pid;
}

int proc_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}
