// SPDX-License-Identifier: GPL-2.0-or-later
#include "janitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "child.h"
#include "log.h"
#include "proc.h"

struct janitor_state {
	char jobid[32];
	char lock_dir[400];
	unsigned linger;
};

static void take_line(struct janitor_state *js, const char *line)
{
	const char *v = strchr(line, ' ');
	size_t kl;

	if (v == NULL)
		return;
	kl = (size_t)(v - line);
	v++;
	if (kl == 3 && strncmp(line, "job", 3) == 0 &&
	    strlen(v) < sizeof(js->jobid))
		strcpy(js->jobid, v);
	else if (kl == 7 && strncmp(line, "lockdir", 7) == 0 &&
		 strlen(v) < sizeof(js->lock_dir))
		strcpy(js->lock_dir, v);
	else if (kl == 6 && strncmp(line, "linger", 6) == 0)
		js->linger = (unsigned)strtoul(v, NULL, 10);
}

/* Returns once the shim has exited: the kernel closes a process's files
 * (and so drops its flocks) before its pidfd becomes readable. */
static void await_exit(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd < 0)
		return;
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	close(pidfd);
}

static void janitor_main(int rfd, int shim_pidfd)
{
	struct janitor_state js = { .linger = 0 };
	char buf[1024];
	size_t used = 0;
	ssize_t n;

	for (;;) {
		n = read(rfd, buf + used, sizeof(buf) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		buf[used] = '\0';
		char *nl;
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			take_line(&js, buf);
			used -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, used + 1);
		}
		if (used == sizeof(buf) - 1)
			used = 0;	/* garbage: nobody else writes here */
	}
	if (js.jobid[0] == '\0' || js.lock_dir[0] == '\0')
		_exit(0);
	await_exit(shim_pidfd);
	alloc_stamp_leave(js.jobid, js.lock_dir);
	/* The linger: a restarted kernel arrives in this window and finds
	 * the allocation still there. */
	for (unsigned left = js.linger; left > 0;)
		left = sleep(left);
	alloc_release_if_unused(js.jobid, js.lock_dir, js.linger);
	_exit(0);
}

int janitor_start(int *wfd, struct sj_err *err)
{
	int p[2];
	pid_t pid, shim = getpid();

	if (pipe2(p, O_CLOEXEC) != 0)
		return sj_err_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return sj_err_errno(err, errno, "fork");
	}
	if (pid == 0) {
		/* The grandchild does the work, so nobody has to reap it
		 * and the shim's SIGCHLD means only srun. */
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		int pidfd = (int)syscall(SYS_pidfd_open, shim, 0);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_DFL);
		close(p[1]);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		int keep[2] = { p[0], pidfd };
		proc_close_fds(3, keep, pidfd >= 0 ? 2 : 1);
		janitor_main(p[0], pidfd);
	}
	close(p[0]);
	(void)sj_wait_child(pid, NULL);
	*wfd = p[1];
	return 0;
}

int janitor_tell(int wfd, const char *key, const char *value,
		 struct sj_err *err)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "%s %s\n", key, value);

	if (n < 0 || (size_t)n >= sizeof(line) || strchr(value, '\n'))
		return sj_err_set(err, "janitor: bad %s", key);
	/* One write below PIPE_BUF: the line arrives whole. */
	if (write(wfd, line, (size_t)n) != n)
		return sj_err_errno(err, errno, "telling the janitor");
	return 0;
}

int janitor_own_job(int wfd, const char *jobid, struct sj_err *err)
{
	return janitor_tell(wfd, "job", jobid, err);
}
