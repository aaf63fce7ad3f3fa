// SPDX-License-Identifier: GPL-2.0-or-later
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"

/* scontrol's answers are a few kilobytes per partition or job. */
#define MAX_OUTPUT (4 * 1024 * 1024)

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
		if (cap > MAX_OUTPUT)
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

/* In the child: plumbing, then exec; the exec error goes back on errp. */
static void child(char *const argv[], int outw, int errw, int errp)
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int e;

	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(outw, 1) < 0 ||
	    dup2(errw, 2) < 0) {
		e = errno;
		goto out;
	}
	execvp(argv[0], argv);
	e = errno;
out:
	if (write(errp, &e, sizeof(e)) != (ssize_t)sizeof(e))
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

int gen_run(char *const argv[], int timeout_ms, struct gen_output *out,
	    struct sj_err *err)
{
	struct sink so = { .fd = -1 }, se = { .fd = -1 };
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, xp[2] = { -1, -1 };
	int status = 0, e, rv = -1, open_fds = 2;
	long long deadline = sj_monotonic_ms() + timeout_ms;
	pid_t pid = -1;

	memset(out, 0, sizeof(*out));
	if (pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC) ||
	    pipe2(xp, O_CLOEXEC)) {
		sj_err_errno(err, errno, "pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		sj_err_errno(err, errno, "fork");
		goto out;
	}
	if (pid == 0)
		child(argv, op[1], ep[1], xp[1]);
	close(op[1]);
	close(ep[1]);
	close(xp[1]);
	op[1] = ep[1] = xp[1] = -1;
	e = exec_error(xp[0]);
	if (e != 0) {
		/* It exits at once; its status says nothing more. */
		(void)sj_wait_child(pid, &status);
		pid = -1;
		sj_err_errno(err, e, "cannot run %s", argv[0]);
		goto out;
	}
	so.fd = op[0];
	se.fd = ep[0];
	while (open_fds > 0) {
		struct pollfd fds[2] = { { .fd = so.fd, .events = POLLIN },
					 { .fd = se.fd, .events = POLLIN } };
		long long left = deadline - sj_monotonic_ms();
		int n;

		if (left <= 0) {
			sj_err_set(err, "%s did not answer within %d s",
				   argv[0], timeout_ms / 1000);
			goto out;
		}
		n = poll(fds, 2, (int)left);
		if (n < 0 && errno != EINTR) {
			sj_err_errno(err, errno, "poll");
			goto out;
		}
		for (int i = 0; n > 0 && i < 2; i++) {
			struct sink *s = i == 0 ? &so : &se;
			int r;

			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			r = drain(s, argv[0], err);
			if (r < 0)
				goto out;
			if (r == 1) {
				s->fd = -1;
				open_fds--;
			}
		}
	}
	if (sj_wait_child(pid, &status)) {
		sj_err_errno(err, errno, "waitpid %s", argv[0]);
		goto out;
	}
	pid = -1;
	out->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	rv = 0;
out:
	if (pid > 0) {
		/* Best effort: the first error is the one reported. */
		(void)kill(pid, SIGKILL);
		(void)sj_wait_child(pid, &status);
	}
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
		if (xp[i] >= 0)
			close(xp[i]);
	}
	out->out = so.buf != NULL ? so.buf : strdup("");
	out->errtext = se.buf != NULL ? se.buf : strdup("");
	if (rv == 0 && (out->out == NULL || out->errtext == NULL))
		rv = sj_err_set(err, "out of memory");
	return rv;
}

void gen_output_free(struct gen_output *out)
{
	free(out->out);
	free(out->errtext);
	out->out = out->errtext = NULL;
}

void gen_first_line(const char *text, char *buf, size_t len)
{
	size_t n;

	while (*text == '\n')
		text++;
	n = strcspn(text, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
}
