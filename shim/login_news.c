// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the login shim tells the notebook and the next kernel, and its
 * clocks: the stand-in for the kernel until it is up (standin.h), Slurm's
 * news in the cells (waiting, warnings before the end, why the kernel
 * ended: news.h), the file in which a kernel leaves why it ended for the
 * next one, and the idle clock (--idle-timeout).  login.c calls these.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "alloc.h"
#include "fsutil.h"
#include "idle.h"
#include "log.h"
#include "login.h"
#include "news.h"
#include "newstext.h"
#include "slurm.h"
#include "standin.h"

/* The wrapped kernel's language, for the standin's own kernel_info_reply
 * (standin.h): known kernels by their argv, else "". */
static const char *kernel_language(const struct shim_args *a)
{
	for (int i = 0; i < a->kernel_argc; i++) {
		const char *b = strrchr(a->kernel_argv[i], '/');

		b = b != NULL ? b + 1 : a->kernel_argv[i];
		if (strstr(b, "ipykernel") != NULL ||
		    strncmp(b, "xpython", 7) == 0)
			return "python";
		if (strstr(b, "IRkernel") != NULL)
			return "R";
	}
	return "";
}

/*
 * A file the kernels of one kernelspec keep: in the lock directory (ours
 * alone), "<what>-<hash>.<ext>", the hash of the kernelspec's name and
 * the kernel's argv (without the connection file, new at every start).
 * "" if there is no lock directory.  Used for the kernel's
 * kernel_info_reply (the standin then answers with its own content
 * without one) and for why the last kernel ended.
 */
void spec_state_path(const struct shim_args *a,
		     const struct sj_connfile *cf, const char *what,
		     const char *ext, char *out, size_t len)
{
	struct alloc tmp;
	struct sj_err err;
	crypto_generichash_state st;
	uint8_t h[8];
	char hex[sizeof(h) * 2 + 1];

	out[0] = '\0';
	if (alloc_init(&tmp, a, &err)) {
		shim_debug("%s; no %s file is kept", err.msg, what);
		return;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)cf->kernel_name,
				  strlen(cf->kernel_name) + 1);
	for (int i = 0; i < a->kernel_argc; i++) {
		const char *v = a->kernel_argv[i];

		if (strstr(v, a->connection_file) == NULL)
			crypto_generichash_update(&st, (const uint8_t *)v,
						  strlen(v) + 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if ((size_t)snprintf(out, len, "%s/%s-%s.%s", tmp.lock_dir, what, hex,
			     ext) >= len)
		out[0] = '\0';
}

/* The standin answers for the kernel until the link is opened. */
int standin_open(struct sj_standin *si, const struct shim_args *a,
		 const struct sj_connfile *cf, struct sj_err *err)
{
	struct passwd *pw = getpwuid(getuid());
	char path[512];

	spec_state_path(a, cf, "kernel-info", "json", path, sizeof(path));
	if (sj_standin_init(si, cf->key, cf->signature_scheme,
			    pw != NULL ? pw->pw_name : "", kernel_language(a),
			    SJ_VERSION, path, err))
		return -1;
	shim_debug("until the kernel is up, kernel_info_request is answered "
		   "with %s", si->info_recorded ? path : "the shim's content");
	return 0;
}

/* Publishes what the news queued; a failure (memory) costs the news,
 * not the kernel. */
static void news_flush(struct login *l)
{
	struct sj_err err;

	if (sj_channels_news_flush(l->ch, &err))
		shim_error("%s", err.msg);
}

/* slurm_wait_also's pending: the waiting line in the held cell. */
void on_pending(void *arg, const char *jobid,
		const struct slurm_job_facts *f)
{
	struct login *l = arg;
	char text[512];
	struct sj_err err;

	if (sj_text_waiting(text, sizeof(text), jobid, f->partition,
			    f->reason, f->start_time) == 0 &&
	    sj_news_waiting(&l->news, text, &err))
		shim_error("%s", err.msg);
	news_flush(l);
}

void tell_not_started(struct login *l, const char *jobid)
{
	char cause[512], text[1024], not_run[1024];
	struct slurm_job_facts f;
	struct sj_err err;

	if (slurm_job_facts(jobid, &f) != 0 ||
	    sj_text_cause(cause, sizeof(cause), jobid, f.base_state, f.reason,
			  "", f.time_limit) != 1)
		return;
	if (sj_text_not_granted(text, sizeof(text), jobid) ||
	    sj_news_started(&l->news, text, &err))
		shim_error("the waiting line is not updated");
	if (sj_text_not_started(text, sizeof(text), cause) ||
	    sj_text_not_run(not_run, sizeof(not_run), cause) ||
	    sj_news_death(&l->news, text, not_run, &err))
		shim_error("the notebook is not told why the kernel did not "
			   "start");
	news_flush(l);
}

/* The warning clock (a timerfd) strikes at t; 0 stops it. */
void warn_arm(int fd, time_t t)
{
	struct itimerspec its = { .it_value = { .tv_sec = t } };

	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		shim_error("timerfd_settime: %s; no more warnings before the "
			   "allocation ends", strerror(errno));
}

/* The idle clock strikes at t. */
void idle_arm(int fd, time_t t)
{
	struct itimerspec its = { .it_value = { .tv_sec = t } };

	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		shim_error("timerfd_settime: %s; the kernel is no longer shut "
			   "down when idle", strerror(errno));
}

/* While Slurm cannot say, it is asked again this much later. */
#define WARN_RETRY_S 60

/* The warning clock: asks Slurm for the job's end (scontrol update may
 * have moved it) and warns the running cell when a --warn-before time is
 * reached. */
int on_warn_clock(struct sj_fwd_watch *w)
{
	struct login *l = w->arg;
	struct slurm_job_facts f;
	char text[512];
	struct sj_err err;
	uint64_t ticks;
	time_t now, next;

	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		shim_debug("timerfd read: %s", strerror(errno));
	now = time(NULL);
	if (slurm_job_facts(l->jobid, &f) != 0) {
		warn_arm(w->fd, now + WARN_RETRY_S);
		return 0;
	}
	if (strcmp(f.state, "RUNNING") != 0)
		return 0;	/* ending: its end is news enough */
	if (sj_warn_step(&l->warn, f.end_time, now, &next)) {
		if (sj_text_warning(text, sizeof(text), l->jobid,
				    (long)(f.end_time - now), f.end_time) ||
		    sj_news_say(&l->news, text, &err))
			shim_error("no warning before the end: %s",
				   text[0] != '\0' ? err.msg : "text too long");
		else
			shim_info("job %s ends at %lld: warned the notebook",
				  l->jobid, (long long)f.end_time);
		news_flush(l);
	}
	warn_arm(w->fd, next);
	return 0;
}

/* The last-end file's content when the previous kernel was shut down
 * idle: then the seconds it was idle.  Slurm's causes never start so. */
#define IDLE_END "idle "

/* Why the last kernel of this kernelspec ended, if Slurm ended it (or
 * the idle timeout did): read once, and forgotten. */
void take_last_end(struct login *l, const char *path)
{
	struct sj_err err;
	char *text = NULL;
	size_t len = 0;

	l->last_end[0] = '\0';
	if (path[0] == '\0' ||
	    sj_read_file(path, sizeof(l->last_end) - 1, &text, &len, &err))
		return;
	if (unlink(path) != 0)
		shim_debug("unlink %s: %s", path, strerror(errno));
	snprintf(l->last_end, sizeof(l->last_end), "%s", text);
	l->last_end[strcspn(l->last_end, "\n")] = '\0';
	free(text);
	if (strncmp(l->last_end, IDLE_END, strlen(IDLE_END)) == 0) {
		unsigned long s = strtoul(l->last_end + strlen(IDLE_END),
					  NULL, 10);

		l->prev_idle = s > 0 && s <= SJ_IDLE_LONGEST ? (unsigned)s : 1;
		l->last_end[0] = '\0';
	}
}

/* Tells the next kernel of this kernelspec that this one ended idle
 * (after idle seconds), so that it starts without an allocation. */
void note_idle_end(struct login *l, unsigned idle)
{
	char text[32];
	struct sj_err err;
	int n = snprintf(text, sizeof(text), IDLE_END "%u", idle);

	if (l->last_end_path[0] != '\0' &&
	    sj_write_file_atomic(l->last_end_path, text, (size_t)n, &err))
		shim_error("%s", err.msg);
}

/* The kernel runs: the waiting line says where, and the first cell hears
 * what happened to the previous kernel. */
void tell_started(struct login *l)
{
	char text[1024];
	struct sj_err err;

	if (sj_text_started(text, sizeof(text), l->jobid, l->hello.node) ||
	    sj_news_started(&l->news, text, &err))
		shim_error("the waiting line is not updated");
	if (l->last_end[0] != '\0' &&
	    (sj_text_previous(text, sizeof(text), l->last_end, l->hello.node,
			      l->jobid) ||
	     sj_news_say(&l->news, text, &err)))
		shim_error("the previous kernel's end is not told");
	if (l->prev_idle > 0 &&
	    (sj_text_idle_previous(text, sizeof(text), l->prev_idle,
				   l->hello.node, l->jobid) ||
	     sj_news_say(&l->news, text, &err)))
		shim_error("the previous kernel's idle end is not told");
	news_flush(l);
}

/* Slurm ended the kernel: the running cell is told why, and so is the
 * next kernel of this kernelspec (the file at path). */
void tell_death(struct login *l, const struct slurm_job_facts *f,
		const char *path)
{
	char cause[512], text[1024], not_run[1024];
	struct sj_err err;

	if (sj_text_cause(cause, sizeof(cause), l->jobid, f->base_state,
			  f->reason, l->hello.node, f->time_limit) != 1)
		return;
	if (strcmp(f->base_state, "CANCELLED") == 0)
		(void)slurm_cancel_cause(l->jobid, cause, sizeof(cause));
	if (sj_text_death(text, sizeof(text), cause) ||
	    sj_text_not_run(not_run, sizeof(not_run), cause) ||
	    sj_news_death(&l->news, text, not_run, &err))
		shim_error("the notebook is not told why the kernel ended");
	news_flush(l);
	if (path[0] != '\0' &&
	    sj_write_file_atomic(path, cause, strlen(cause), &err))
		shim_error("%s", err.msg);
}

/* After the shim's shutdown_request, the kernel gets this long to exit
 * before its step is ended. */
#define IDLE_GRACE_S 10

/* Asks the kernel to shut down, as a front end would, so that it exits
 * cleanly (its atexit hooks run); the reply goes nowhere. */
static int ask_shutdown(struct login *l, struct sj_err *err)
{
	static const char content[] = "{\"restart\": false}";
	struct sj_buf rid = { 0 }, m = { 0 };
	struct timespec now;
	int r = -1;

	clock_gettime(CLOCK_REALTIME, &now);
	if (sj_jmsg_put_frame(&rid, l->si->own_rid, sizeof(l->si->own_rid))) {
		sj_err_set(err, "out of memory");
		goto out;
	}
	if (sj_jmsg_build(&l->si->maker, &m, rid.p, rid.len,
			  "shutdown_request", "{}", 2, content,
			  sizeof(content) - 1, &now, err) ||
	    sj_channels_send_own(l->ch, SJ_CONTROL, &m, err))
		goto out;
	r = 0;
out:
	sj_buf_free(&rid);
	sj_buf_free(&m);
	return r;
}

/* The idle clock strikes: the kernel idle for --idle-timeout is shut
 * down, and the next kernel of this kernelspec is told to start lazily
 * (the janitor releases the allocation after the linger, as for any
 * kernel that ends).  Returns 0; ending the kernel ends forwarding. */
int on_idle_clock(struct sj_fwd_watch *w)
{
	struct login *l = w->arg;
	struct sj_err err;
	uint64_t ticks;
	time_t now = time(NULL), next;

	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		shim_debug("timerfd read: %s", strerror(errno));
	if (l->idle_ended) {
		shim_error("the kernel did not exit within %d s of the "
			   "shutdown request: ending its step", IDLE_GRACE_S);
		stop_srun(l);
		return 0;
	}
	if (!sj_idle_due(&l->idle, now, &next)) {
		/* Busy: look again a timeout later; the wait restarts when
		 * the kernel says idle, and is then exact. */
		idle_arm(w->fd, next != 0 ? next :
			 now + (time_t)l->idle.timeout);
		return 0;
	}
	shim_info("the kernel was idle for %u s (--idle-timeout): shutting "
		  "it down; job %s is released after the linger",
		  l->idle.timeout, l->jobid);
	note_idle_end(l, l->idle.timeout);
	if (ask_shutdown(l, &err)) {
		shim_error("%s; ending the kernel step", err.msg);
		stop_srun(l);
		return 0;
	}
	l->idle_ended = 1;
	idle_arm(w->fd, now + IDLE_GRACE_S);
	return 0;
}
