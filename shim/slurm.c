// SPDX-License-Identifier: GPL-2.0-or-later
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "canceller.h"
#include "child.h"
#include "clock.h"
#include "connfile.h"
#include "janitor.h"
#include "kernelstep.h"
#include "log.h"
#include "newstext.h"
#include "proc.h"
#include "ratelimit.h"

/* "... job allocation 123 ..." or "... job 123 queued ..." */
static int find_jobid(const char *line, char *jobid, size_t len)
{
	static const char *const marks[] = { "job allocation ", "job " };

	for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
		const char *p = strstr(line, marks[m]);
		size_t n;

		if (p == NULL)
			continue;
		p += strlen(marks[m]);
		n = strspn(p, "0123456789");
		if (n == 0 || n >= len)
			continue;
		memcpy(jobid, p, n);
		jobid[n] = '\0';
		return 1;
	}
	return 0;
}

/* What salloc has said so far about the request. */
struct salloc_watch {
	char *jobid;
	size_t len;
	int janitor_fd;
	const struct slurm_wait_also *also;
	int pending;		/* "Pending job allocation N", not granted */
	char reason[128];	/* last pending reason logged */
};

static int handle_salloc_line(const char *line, struct salloc_watch *w,
			      struct sj_err *err)
{
	/* salloc's lines already start with "salloc: ". */
	fprintf(stderr, "%s\n", line);
	if (w->jobid[0] == '\0' && find_jobid(line, w->jobid, w->len)) {
		if (janitor_own_job(w->janitor_fd, w->jobid, err))
			return -1;
		if (w->also != NULL && w->also->named != NULL &&
		    w->also->named(w->also->named_arg, w->jobid, err))
			return -1;
	}
	if (strstr(line, "Pending job allocation") != NULL)
		w->pending = 1;
	if (strstr(line, "Granted job allocation") != NULL ||
	    strstr(line, "has been allocated resources") != NULL)
		w->pending = 0;
	return 0;
}

/* While the job waits, Slurm's reason goes to the Jupyter server's log at
 * first and whenever it changes: there is no event for it, so it is asked
 * for every PENDING_CHECK_MS. */
#define PENDING_CHECK_MS 5000

static void log_pending_reason(struct salloc_watch *w,
			       const struct slurm_wait_also *also)
{
	struct slurm_job_facts f;

	if (slurm_job_facts(w->jobid, &f) != 0 ||
	    strcmp(f.state, "PENDING") != 0 || strcmp(f.reason, "None") == 0)
		return;
	if (also != NULL && also->pending != NULL)
		also->pending(also->arg, w->jobid, &f);
	if (strcmp(f.reason, w->reason) == 0)
		return;
	snprintf(w->reason, sizeof(w->reason), "%s", f.reason);
	shim_info("job %s is pending (reason: %s); the kernel starts when "
		  "Slurm grants the allocation", w->jobid, f.reason);
}

int slurm_allocate(const struct shim_args *a, const char *job_name,
		   int janitor_fd, int sfd, const struct slurm_wait_also *also,
		   char *jobid, size_t len, struct sj_err *err)
{
	char name_opt[128];
	char **argv = NULL;
	char buf[4096];
	size_t used = 0;
	int pipefd[2] = { -1, -1 }, status = 0, rv = -1, n = 0, done = 0;
	pid_t pid = -1;
	struct salloc_watch w = { .jobid = jobid, .len = len,
				  .janitor_fd = janitor_fd, .also = also };

	jobid[0] = '\0';
	if (slurm_release_check(err))
		return -1;
	argv = calloc((size_t)a->slurm_argc + 4, sizeof(char *));
	if (argv == NULL)
		return sj_err_set(err, "out of memory");
	argv[n++] = "salloc";
	argv[n++] = "--no-shell";
	snprintf(name_opt, sizeof(name_opt), "--job-name=%s", job_name);
	argv[n++] = name_opt;
	for (int i = 0; i < a->slurm_argc; i++)
		argv[n++] = a->slurm_argv[i];
	argv[n] = NULL;

	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		sj_err_errno(err, errno, "pipe");
		goto fail;
	}
	struct proc_spawn ps = {
		.argv = argv, .new_pgrp = 1, .parent_death_sig = SIGTERM,
		.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = pipefd[1],
	};
	if (proc_spawn(&ps, &pid, err))
		goto fail;
	close(pipefd[1]);
	pipefd[1] = -1;

	int64_t next_check = 0;

	while (!done) {
		struct pollfd fds[3] = {
			{ .fd = pipefd[0], .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = also != NULL ? also->fd : -1, .events = POLLIN },
		};
		int was_pending = w.pending;
		int64_t left = next_check - sj_monotonic_ms();
		/* By the clock, not by a quiet poll: Jupyter's clients, served
		 * here too, keep it from ever being quiet. */
		int ready = poll(fds, 3, !w.pending ? -1 :
				 left < 0 ? 0 : (int)left);

		if (ready < 0) {
			if (errno == EINTR)
				continue;
			sj_err_errno(err, errno, "poll");
			goto fail;
		}
		if (w.pending && sj_monotonic_ms() >= next_check) {
			log_pending_reason(&w, also);
			next_check = sj_monotonic_ms() + PENDING_CHECK_MS;
		}
		if (ready == 0)
			continue;
		if ((fds[2].revents & POLLIN) &&
		    also->ready(also->arg, err))
			goto fail;
		if (fds[1].revents & POLLIN) {
			int sig = proc_signal_read(sfd);

			if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP ||
			    sig == SIGQUIT) {
				sj_err_set(err, "stopped (signal %d) while "
					   "waiting for the allocation", sig);
				goto fail;
			}
		}
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(pipefd[0], buf + used,
					 sizeof(buf) - 1 - used);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				done = 1;
				if (used > 0) {
					buf[used] = '\0';
					if (handle_salloc_line(buf, &w, err))
						goto fail;
				}
				break;
			}
			used += (size_t)r;
			buf[used] = '\0';
			char *nl;
			while ((nl = strchr(buf, '\n')) != NULL) {
				*nl = '\0';
				if (handle_salloc_line(buf, &w, err))
					goto fail;
				used -= (size_t)(nl + 1 - buf);
				memmove(buf, nl + 1, used + 1);
			}
			if (used == sizeof(buf) - 1)
				used = 0;	/* an absurd line: drop it */
			if (w.pending && !was_pending) {
				log_pending_reason(&w, also);
				next_check = sj_monotonic_ms() +
					     PENDING_CHECK_MS;
			}
		}
	}
	if (sj_wait_child(pid, &status)) {
		sj_err_errno(err, errno, "waitpid salloc");
		goto fail;
	}
	pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		sj_err_set(err, "salloc failed (exit status %d); its message "
			   "is above", proc_exit_code(status));
		if (jobid[0] != '\0')
			rv = 1;
		goto fail;
	}
	if (jobid[0] == '\0') {
		sj_err_set(err, "salloc succeeded but named no job id");
		goto fail;
	}
	rv = 0;
fail:
	if (pid > 0) {
		/* salloc cancels its own pending request on SIGINT. */
		kill(pid, SIGINT);
		(void)sj_wait_child(pid, NULL);
	}
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(argv);
	return rv;
}

/*
 * Jupyter substitutes {connection_file} in the whole argv, the wrapped
 * kernel's part included, so the kernel's arguments name the login node's
 * file.  Put the token back: the node shim replaces it with the kernel's
 * own connection file there.  Returns a malloc'd string.
 */
static char *untemplate(const char *arg, const char *path)
{
	static const char token[] = SJ_CONNFILE_TOKEN;
	size_t pl = strlen(path), tl = sizeof(token) - 1, n = 0;
	const char *p;
	char *out, *o;

	for (p = arg; (p = strstr(p, path)) != NULL; p += pl)
		n++;
	out = malloc(strlen(arg) + 1 + n * tl);
	if (out == NULL)
		return NULL;
	for (o = out, p = arg; *p;) {
		if (pl > 0 && strncmp(p, path, pl) == 0) {
			memcpy(o, token, tl);
			o += tl;
			p += pl;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

int slurm_start_step(const struct shim_args *a, const char *jobid,
		     const char *spec, pid_t *pid, struct sj_err *err)
{
	char self[PATH_MAX], jobopt[64], specopt[512], nodeopt[300];
	char **argv;
	ssize_t n;
	int i = 0, rv;

	char *setup_script = NULL;

	if (slurm_release_check(err))
		return -1;
	/* By default the same binary on the node: sites install it at one
	 * path. */
	if (a->node_shim != NULL) {
		snprintf(self, sizeof(self), "%s", a->node_shim);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			return sj_err_errno(err, errno,
					    "readlink /proc/self/exe");
		self[n] = '\0';
	}
	snprintf(jobopt, sizeof(jobopt), "--jobid=%s", jobid);
	if ((size_t)snprintf(specopt, sizeof(specopt), "--jupyter-kernel=%s",
			     spec) >= sizeof(specopt))
		return sj_err_set(err, "rendezvous spec too long");

	if (a->setup != NULL &&
	    (setup_script = sj_setup_script(a->setup)) == NULL)
		return sj_err_set(err, "out of memory");
	argv = calloc((size_t)a->kernel_argc + (size_t)a->srun_argc + 16,
		      sizeof(char *));
	if (argv == NULL) {
		free(setup_script);
		return sj_err_set(err, "out of memory");
	}
	argv[i++] = "srun";
	argv[i++] = jobopt;
	argv[i++] = "--overlap";
	argv[i++] = "--nodes=1";
	argv[i++] = "--ntasks=1";
	argv[i++] = "--job-name=" SJ_JOB_NAME;
	argv[i++] = specopt;
	if (a->kernel_node != NULL) {
		snprintf(nodeopt, sizeof(nodeopt), "--nodelist=%s",
			 a->kernel_node);
		argv[i++] = nodeopt;
	}
	for (int k = 0; k < a->srun_argc; k++)
		argv[i++] = a->srun_argv[k];
	argv[i++] = self;
	argv[i++] = "--node";
	argv[i++] = "--";
	if (a->setup != NULL) {
		argv[i++] = "/bin/sh";
		argv[i++] = "-c";
		argv[i++] = setup_script;
		argv[i++] = "slurm-jupyter-setup";
	}
	int first_kernel_arg = i;
	for (int k = 0; k < a->kernel_argc; k++) {
		argv[i] = untemplate(a->kernel_argv[k], a->connection_file);
		if (argv[i++] == NULL) {
			rv = sj_err_set(err, "out of memory");
			goto out;
		}
	}
	argv[i] = NULL;

	/* Own process group: Jupyter interrupts with killpg(SIGINT), and
	 * srun kills the step on a second SIGINT.  SIGTERM when we die:
	 * srun then ends the step. */
	struct proc_spawn ps = {
		.argv = argv, .new_pgrp = 1, .parent_death_sig = SIGTERM,
		.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
	};
	rv = proc_spawn(&ps, pid, err);
out:
	for (int k = first_kernel_arg; k < i; k++)
		free(argv[k]);
	free(argv);
	free(setup_script);
	return rv;
}

void slurm_signal_step(const char *jobid, unsigned step, const char *sig)
{
	char target[64], sigopt[32];
	char *argv[] = { "scancel", "--quiet", sigopt, target, NULL };
	/* Slurm 22.05's scancel delivers a step signal and then reports
	 * "Invalid job id specified" (non-zero exit) for every node of the
	 * allocation that does not run the step, so neither its message nor
	 * its status says anything about the kernel: both are dropped.  The
	 * user sees the KeyboardInterrupt, or its absence. */
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct proc_spawn ps = {
		.argv = argv, .new_pgrp = 1, .stdin_fd = -1,
		.stdout_fd = -1, .stderr_fd = devnull,
	};
	struct sj_err err;
	pid_t pid;

	snprintf(target, sizeof(target), "%s.%u", jobid, step);
	snprintf(sigopt, sizeof(sigopt), "--signal=%s", sig);
	shim_debug("interrupt: scancel --signal=%s %s", sig, target);
	if (proc_spawn(&ps, &pid, &err))
		shim_error("cannot signal the kernel: %s", err.msg);
	if (devnull >= 0)
		close(devnull);
	/* Reaped with the others in the SIGCHLD handler of the caller. */
}

/* Copies the value of "Key=" from scontrol's one-line output. */
int slurm_explain_end(const char *jobid, const char *node, int status,
		      char *buf, size_t len, struct slurm_job_facts *f)
{
	const char *state = f->base_state, *reason = f->reason;
	int code = proc_exit_code(status);

	if (slurm_job_facts(jobid, f) != 0) {
		if (code == 0)
			return 0;
		snprintf(buf, len, "the kernel on %s ended with exit status %d "
			 "(Slurm does not know job %s any more)", node, code,
			 jobid);
		return 1;
	}
	/* The state without its flags: while the job completes, scontrol
	 * shows COMPLETING, which tells nothing of why. */
	if (strcmp(state, "TIMEOUT") == 0 || strcmp(state, "DEADLINE") == 0 ||
	    strcmp(reason, "TimeLimit") == 0)
		snprintf(buf, len, "the kernel on %s was stopped: job %s "
			 "reached its time limit", node, jobid);
	else if (strcmp(state, "NODE_FAIL") == 0 ||
		 strcmp(reason, "NodeDown") == 0)
		snprintf(buf, len, "the kernel on %s was lost: the node failed "
			 "(job %s %s)", node, jobid, state);
	else if (strcmp(state, "CANCELLED") == 0)
		snprintf(buf, len, "the kernel on %s was stopped: job %s was "
			 "cancelled", node, jobid);
	else if (strcmp(state, "PREEMPTED") == 0)
		snprintf(buf, len, "the kernel on %s was stopped: job %s was "
			 "preempted", node, jobid);
	else if (code == 0)
		return 0;
	else if (WIFEXITED(status))
		snprintf(buf, len, "the kernel on %s exited with status %d",
			 node, code);
	else
		snprintf(buf, len, "the kernel on %s ended with status %d "
			 "(job %s %s)", node, code, jobid, state);
	return 1;
}

/* scancel attempts while slurmctld does not answer: about two minutes. */
#define CANCEL_TRIES 12

int slurm_cancel(const char *jobid)
{
	char *argv[] = { "scancel", "--quiet", (char *)jobid, NULL };
	struct proc_spawn ps = { .argv = argv, .stdin_fd = -1,
				 .stdout_fd = -1, .stderr_fd = -1 };
	struct sj_err err;
	int status = 0x100;	/* "exit 1" until waitpid says otherwise */
	pid_t pid;

	for (int i = 0; i < CANCEL_TRIES; i++) {
		if (i > 0)
			sleep(i < 3 ? 1 : 10);
		if (proc_spawn(&ps, &pid, &err) != 0)
			continue;
		(void)sj_wait_child(pid, &status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return 0;
	}
	return -1;
}

/* slurmctld tells slurmdbd of a job's end a moment after it: until then
 * sacct shows the job still RUNNING.  The notebook's error waits for the
 * answer, so not long. */
#define CANCELLER_WAIT_MS 8000
#define CANCELLER_RETRY_MS 500

/* One sacct for job's State: its output (the first bytes) into out.  0
 * when sacct exited 0 before deadline; -1 otherwise, and then it is
 * killed. */
static int sacct_state(const char *jobid, int64_t deadline, char *out,
		       size_t len)
{
	char *argv[] = { "sacct", "--noheader", "--allocations",
			 "--parsable2", "--format=State", "--jobs",
			 (char *)jobid, NULL };
	int p[2], devnull, status = 0, eof = 0;
	size_t got = 0;
	struct sj_err err;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct proc_spawn ps = {
		.argv = argv, .new_pgrp = 1, .parent_death_sig = SIGKILL,
		.stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = devnull,
	};
	int spawned = proc_spawn(&ps, &pid, &err);

	close(p[1]);
	if (devnull >= 0)
		close(devnull);
	if (spawned != 0) {
		close(p[0]);
		shim_debug("%s", err.msg);
		return -1;
	}
	while (got + 1 < len) {
		int64_t left = deadline - sj_monotonic_ms();
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		ssize_t k;
		int r;

		if (left <= 0)
			break;
		r = poll(&pf, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		k = read(p[0], out + got, len - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			eof = k == 0;
			break;
		}
		got += (size_t)k;
	}
	close(p[0]);
	out[got] = '\0';
	if (!eof)
		kill(pid, SIGKILL);
	(void)sj_wait_child(pid, &status);
	if (!eof || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		shim_debug("sacct -j %s: %s (exit status %d)", jobid,
			   eof ? "failed" : "no answer in time",
			   proc_exit_code(status));
		return -1;
	}
	return 0;
}

static void pause_ms(long ms)
{
	struct timespec t = { .tv_sec = ms / 1000,
			      .tv_nsec = ms % 1000 * 1000000L };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

int slurm_cancel_cause(const char *jobid, char *cause, size_t len)
{
	int64_t deadline = sj_monotonic_ms() + CANCELLER_WAIT_MS;
	char state[256], text[512];
	struct passwd *pw = NULL;
	unsigned by;

	for (;;) {
		if (sacct_state(jobid, deadline, state, sizeof(state)))
			return 0;
		if (sj_cancelled_by(state, &by))
			break;
		/* CANCELLED with no uid is final; anything else is the
		 * job's record before its end reached accounting. */
		if (strncmp(state, "CANCELLED", 9) == 0 ||
		    sj_monotonic_ms() + CANCELLER_RETRY_MS >= deadline) {
			shim_debug("accounting does not say who cancelled job "
				   "%s (sacct: \"%.*s\")", jobid,
				   (int)strcspn(state, "\n"), state);
			return 0;
		}
		pause_ms(CANCELLER_RETRY_MS);
	}
	if (by != (unsigned)getuid() && by != 0)
		pw = getpwuid((uid_t)by);
	if (sj_text_cancelled(text, sizeof(text), jobid, by,
			      (unsigned)getuid(), pw != NULL ? pw->pw_name : "")
	    || strlen(text) >= len)
		return 0;
	strcpy(cause, text);
	return 1;
}
