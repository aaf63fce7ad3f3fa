// SPDX-License-Identifier: GPL-2.0-or-later
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "logger.h"

static const int handled[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };

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

void sj_close_fds(int lowfd, const int *keep, int nkeep)
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

/* fd as the child's descriptor to; an fd already there keeps it, but
 * without close-on-exec. */
static int plumb(int fd, int to)
{
	if (fd == to)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, to) < 0 ? -1 : 0;
}

/* In the child: nothing but async-signal-safe calls until exec.  keep
 * holds sp's fds and errw, which reports an exec failure to the parent. */
static void child(const struct sj_spawn *sp, const int *keep, int nkeep,
		  int errw, const char *prefix)
{
	sigset_t none;
	int devnull, e;

	sigemptyset(&none);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		signal(handled[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (sp->new_session)
		setsid();
	else if (sp->new_pgrp)
		setpgid(0, 0);
	if (sp->parent_death_sig)
		prctl(PR_SET_PDEATHSIG, sp->parent_death_sig);

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (plumb(sp->stdin_fd >= 0 ? sp->stdin_fd : devnull, 0) ||
	    (sp->stdout_fd >= 0 && plumb(sp->stdout_fd, 1)) ||
	    (sp->stderr_fd >= 0 && plumb(sp->stderr_fd, 2))) {
		e = errno;
		goto fail;
	}
	/* Inherited sockets (Jupyter's ports, the rendezvous listener) must
	 * not outlive us in what we run. */
	sj_close_fds(3, keep, nkeep);
	/* Raising a soft limit up to the hard one cannot fail. */
	if (sp->core != NULL)
		(void)setrlimit(RLIMIT_CORE, sp->core);
	execvpe(sp->argv[0], sp->argv, sp->envp ? sp->envp : environ);
	e = errno;
fail:
	if (sp->exec_fail == SJ_EXEC_FAIL_EXIT127)
		dprintf(2, "%scannot run %s: %s\n", prefix, sp->argv[0],
			strerror(e));
	else if (write(errw, &e, sizeof(e)) != (ssize_t)sizeof(e))
		_exit(127);
	_exit(127);
}

/* The exec error the child sent, 0 if exec succeeded (pipe closed). */
static int exec_error(int fd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

int sj_spawn(const struct sj_spawn *sp, pid_t *pid, struct sj_err *err)
{
	const char *prefix = sj_log_prefix();
	int xp[2], *keep, e;
	pid_t p;

	/* The child may not allocate: its list of fds is made here. */
	keep = calloc((size_t)sp->nkeep + 1, sizeof(*keep));
	if (keep == NULL)
		return sj_err_set(err, "out of memory");
	if (pipe2(xp, O_CLOEXEC) != 0) {
		free(keep);
		return sj_err_errno(err, errno, "pipe");
	}
	if (sp->nkeep > 0)
		memcpy(keep, sp->keep_fds, (size_t)sp->nkeep * sizeof(*keep));
	keep[sp->nkeep] = xp[1];
	p = fork();
	if (p == 0)
		child(sp, keep, sp->nkeep + 1, xp[1], prefix);
	e = errno;
	free(keep);
	close(xp[1]);
	if (p < 0) {
		close(xp[0]);
		return sj_err_errno(err, e, "fork for %s", sp->argv[0]);
	}
	/* Also in the parent, so there is no window in which a signal to
	 * our group still reaches the child. */
	if (sp->new_pgrp && !sp->new_session)
		(void)setpgid(p, p);
	e = exec_error(xp[0]);
	close(xp[0]);
	if (e != 0) {
		/* It exits at once; its status says nothing more. */
		(void)sj_wait_child(p, NULL);
		return sj_err_errno(err, e, "cannot run %s", sp->argv[0]);
	}
	*pid = p;
	return 0;
}

int sj_reap(pid_t pid, int *status)
{
	pid_t r;

	do {
		r = waitpid(pid, status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	return r == pid;
}

int sj_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

struct sink {
	int fd;
	char *buf;
	size_t used, cap;
};

/* Reads what is there; returns 1 at end of file, 0 to go on, -1. */
static int drain(struct sink *s, const char *what, struct sj_err *err)
{
	char chunk[4096];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0
			: sj_err_errno(err, errno, "reading %s", what);
	if (n == 0)
		return 1;
	if (s->used + (size_t)n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8192;
		char *p;

		while (cap < s->used + (size_t)n + 1)
			cap *= 2;
		if (cap > SJ_RUN_MAX_OUTPUT)
			return sj_err_set(err, "%s printed too much", what);
		p = realloc(s->buf, cap);
		if (p == NULL)
			return sj_err_set(err, "out of memory");
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->used, chunk, (size_t)n);
	s->used += (size_t)n;
	s->buf[s->used] = '\0';
	return 0;
}

/* Reads both outputs to their ends, or until deadline: 0, or -1. */
static int collect(struct sink *s, const char *what, int timeout_ms,
		   struct sj_err *err)
{
	int64_t deadline = sj_monotonic_ms() + timeout_ms;
	int open_fds = 2;

	while (open_fds > 0) {
		struct pollfd fds[2] = { { .fd = s[0].fd, .events = POLLIN },
					 { .fd = s[1].fd, .events = POLLIN } };
		int64_t left = deadline - sj_monotonic_ms();
		int n;

		if (left <= 0)
			return sj_err_set(err, "%s did not answer within "
					  "%d s", what, timeout_ms / 1000);
		n = poll(fds, 2, (int)left);
		if (n < 0 && errno != EINTR)
			return sj_err_errno(err, errno, "poll");
		for (int i = 0; n > 0 && i < 2; i++) {
			int r;

			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			r = drain(&s[i], what, err);
			if (r < 0)
				return -1;
			if (r == 1) {
				close(s[i].fd);
				s[i].fd = -1;
				open_fds--;
			}
		}
	}
	return 0;
}

int sj_run(char *const argv[], int timeout_ms, char **out, char **errtext,
	   int *status, struct sj_err *err)
{
	struct sink s[2] = { { .fd = -1 }, { .fd = -1 } };
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, st = 0, rv = -1;
	struct sj_spawn sp = { .argv = argv, .stdin_fd = -1,
			       .exec_fail = SJ_EXEC_FAIL_RETURN };
	pid_t pid = -1;

	*status = -1;
	if (pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		sj_err_errno(err, errno, "pipe");
		goto out;
	}
	sp.stdout_fd = op[1];
	sp.stderr_fd = ep[1];
	if (sj_spawn(&sp, &pid, err))
		goto out;
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	s[0].fd = op[0];
	s[1].fd = ep[0];
	op[0] = ep[0] = -1;
	if (collect(s, argv[0], timeout_ms, err))
		goto out;
	if (sj_wait_child(pid, &st)) {
		sj_err_errno(err, errno, "waitpid %s", argv[0]);
		goto out;
	}
	pid = -1;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	rv = 0;
out:
	if (pid > 0) {
		/* Best effort: the first error is the one reported. */
		(void)kill(pid, SIGKILL);
		(void)sj_wait_child(pid, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
		if (s[i].fd >= 0)
			close(s[i].fd);
	}
	*out = s[0].buf != NULL ? s[0].buf : strdup("");
	*errtext = s[1].buf != NULL ? s[1].buf : strdup("");
	if (rv == 0 && (*out == NULL || *errtext == NULL))
		rv = sj_err_set(err, "out of memory");
	return rv;
}
