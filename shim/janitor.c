#include "janitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* scancel attempts while slurmctld does not answer: about two minutes. */
#define CANCEL_TRIES 12

static int run_scancel(const char *jobid)
{
	int status;
	pid_t p = fork();

	if (p < 0)
		return -1;
	if (p == 0) {
		execlp("scancel", "scancel", "--quiet", jobid, (char *)NULL);
		_exit(127);
	}
	while (waitpid(p, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void janitor_main(int rfd)
{
	char buf[256], jobid[32] = "";
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
			if (strncmp(buf, "job ", 4) == 0 &&
			    strlen(buf + 4) < sizeof(jobid))
				strcpy(jobid, buf + 4);
			used -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, used + 1);
		}
		if (used == sizeof(buf) - 1)
			used = 0;	/* garbage: nobody else writes here */
	}
	if (jobid[0] == '\0')
		_exit(0);
	for (int i = 0; i < CANCEL_TRIES; i++) {
		if (run_scancel(jobid) == 0) {
			shim_debug("released allocation %s", jobid);
			_exit(0);
		}
		sleep(i < 3 ? 1 : 10);
	}
	shim_error("could not cancel allocation %s (slurmctld unreachable?); "
		   "cancel it with: scancel %s", jobid, jobid);
	_exit(1);
}

int janitor_start(int *wfd, struct sj_err *err)
{
	int p[2];
	pid_t pid;

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
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				close(fd);
		janitor_main(p[0]);
	}
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0)
		if (errno != EINTR)
			break;
	*wfd = p[1];
	return 0;
}

int janitor_own_job(int wfd, const char *jobid, struct sj_err *err)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "job %s\n", jobid);

	if (n < 0 || (size_t)n >= sizeof(line))
		return sj_err_set(err, "job id too long");
	if (write(wfd, line, (size_t)n) != n)
		return sj_err_errno(err, errno, "telling the janitor");
	return 0;
}
