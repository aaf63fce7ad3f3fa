// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * login.c - the shim on the login node, as Jupyter's kernel process.
 *
 * Order matters: Jupyter connects to its five ports as soon as it has
 * started us, so they are bound first; the allocation and the step come
 * after, and messages sent meanwhile wait in the sockets' queues.
 */
#include <errno.h>
#include <pwd.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>

#include "alloc.h"
#include "args.h"
#include "child.h"
#include "clock.h"
#include "connfile.h"
#include "curvekey.h"
#include "forward.h"
#include "fsutil.h"
#include "idle.h"
#include "janitor.h"
#include "kernelstep.h"
#include "news.h"
#include "newstext.h"
#include "log.h"
#include "logtext.h"
#include "proc.h"
#include "ratelimit.h"
#include "rdv_server.h"
#include "shim.h"
#include "slurm.h"
#include "standin.h"

/* Longest wait for the plugin to call after srun started; srun itself
 * fails much sooner when the step cannot start. */
#define RENDEZVOUS_TIMEOUT_MS (5 * 60 * 1000)

struct login {
	const struct shim_args *args;
	struct sj_connfile cf;
	char jobid[32];
	pid_t srun;
	int srun_status;
	int srun_done;
	int sfd;
	int stopping;
	struct sj_hello hello;
	int have_hello;
	int parent_fd;		/* pidfd of Jupyter, -1 if unsupported */
	struct sj_channels *ch;	/* Jupyter's clients, served meanwhile */
	struct sj_news news;	/* Slurm's news for the cells (news.h) */
	struct sj_warn_plan warn;	/* a copy: sj_warn_step marks it */
	char last_end[512];	/* the note for the next kernel ("": none) */
	unsigned prev_idle;	/* the previous kernel ended idle this long */
	struct sj_idle idle;	/* --idle-timeout's clock */
	int idle_ended;		/* we asked the kernel to shut down */
	struct sj_standin *si;	/* signs the shim's own requests */
	const char *last_end_path;
};

/*
 * Jupyter started us; if it dies (even by SIGKILL) nobody will ever stop
 * us, so we stop ourselves, like ipykernel's parent poller, but woken by
 * a pidfd instead of a timer.
 */
static int watch_parent(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getppid(), 0);

	if (fd < 0)
		shim_debug("pidfd_open: %s; not watching the parent",
			   strerror(errno));
	return fd;
}

/* Reaps children; notes srun's status.  Other children are our scancels. */
static void reap(struct login *l)
{
	int status;
	pid_t p;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p == l->srun) {
			l->srun_status = status;
			l->srun_done = 1;
		}
	}
}

static void stop_srun(struct login *l)
{
	if (l->srun > 0 && !l->srun_done && !l->stopping) {
		/* srun relays SIGTERM to the step and ends it. */
		kill(l->srun, SIGTERM);
		l->stopping = 1;
	}
}

/* Signals while forwarding.  Returns 1 when srun has ended. */
static int handle_signals(struct login *l)
{
	int sig;

	while ((sig = proc_signal_read(l->sfd)) != 0) {
		switch (sig) {
		case SIGCHLD:
			reap(l);
			break;
		case SIGINT:
			/* Jupyter's interrupt: to the kernel, through Slurm,
			 * never to srun. */
			if (l->have_hello)
				slurm_signal_step(l->jobid, l->hello.step_id,
						  "INT");
			break;
		default:
			shim_debug("signal %d: ending the kernel step", sig);
			stop_srun(l);
			break;
		}
	}
	return l->srun_done;
}

static int on_signal(struct sj_fwd_watch *w)
{
	return handle_signals(w->arg);
}

static void parent_exited(struct login *l)
{
	if (!l->stopping)
		shim_error("Jupyter (our parent) is gone: ending the kernel");
	stop_srun(l);
	close(l->parent_fd);
	l->parent_fd = -1;
}

static int on_parent_exit(struct sj_fwd_watch *w)
{
	struct login *l = w->arg;

	parent_exited(l);
	w->fd = -1;
	return l->srun_done;
}

/* Waits for the plugin's HELLO, srun's early death, or a signal.  The
 * rendezvous connections are served here, beside the signals, so that
 * strangers holding some open delay neither the plugin's nor an
 * interrupt. */
static int await_rendezvous(struct login *l, struct rdv_server *r,
			    const char *client_public, struct sj_err *err)
{
	long long give_up = sj_monotonic_ms() + RENDEZVOUS_TIMEOUT_MS;

	while (!l->have_hello) {
		struct pollfd fds[RDV_POLLFDS + 3];
		long long left = give_up - sj_monotonic_ms();
		int timeout, k, n, got;

		if (left <= 0)
			return sj_err_set(err, "the compute node never called "
					  "back (is spank_jupyter.so in the "
					  "node's plugstack.conf, and can the "
					  "node reach this host?)");
		timeout = left > INT_MAX ? INT_MAX : (int)left;
		k = rdv_server_pollfds(r, fds, &timeout);
		fds[k] = (struct pollfd){ .fd = l->sfd, .events = POLLIN };
		fds[k + 1] = (struct pollfd){ .fd = l->parent_fd,
					      .events = POLLIN };
		fds[k + 2] = (struct pollfd){ .fd = l->ch->front->epfd,
					      .events = POLLIN };
		n = poll(fds, (nfds_t)k + 3, timeout);
		if (n < 0) {
			if (errno != EINTR)
				return sj_err_errno(err, errno, "poll");
			continue;
		}
		if (fds[k + 1].revents & POLLIN)
			parent_exited(l);
		if ((fds[k + 2].revents & POLLIN) &&
		    sj_channels_serve_early(l->ch, err))
			return -1;
		if ((fds[k].revents & POLLIN) || l->stopping) {
			handle_signals(l);
			if (l->srun_done)
				return sj_err_set(err, "the kernel step ended "
						  "before it started (srun exit "
						  "status %d; its message is "
						  "above)",
						  proc_exit_code(l->srun_status));
			if (l->stopping)
				return sj_err_set(err, "stopped while the "
						  "kernel step was starting");
		}
		got = rdv_server_serve(r, fds, &l->cf, client_public,
				       l->args->kernel_transport, &l->hello,
				       err);
		if (got < 0)
			return -1;
		l->have_hello = got;
	}
	return 0;
}

/* The link to the node shim, keyed with what the rendezvous exchanged. */
static int open_link(struct sj_channels *c, const struct sj_hello *h,
		     const char *source, const char *pub, const char *sec,
		     struct sj_err *err)
{
	struct sj_link_keys keys;
	int r;

	/* h->nonce is ours: rdv_server refused a HELLO with another. */
	if (sj_link_keys_from_z85(&keys, pub, sec, h->server_key, err) ||
	    sj_link_bind(&keys, h->nonce, h->node_nonce, h->job_id,
			 h->step_id, err)) {
		sodium_memzero(&keys, sizeof(keys));
		return -1;
	}
	r = sj_channels_link_client(c, h->addr, h->port,
				    source[0] != '\0' ? source : NULL, &keys,
				    shim_note, NULL, err);
	sodium_memzero(&keys, sizeof(keys));
	return r;
}

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
static void spec_state_path(const struct shim_args *a,
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
static int standin_open(struct sj_standin *si, const struct shim_args *a,
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

static int serve_early(void *arg, struct sj_err *err)
{
	struct login *l = arg;

	return sj_channels_serve_early(l->ch, err);
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
static void on_pending(void *arg, const char *jobid,
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

/* Slurm ended the request while it waited (scancel, jupyter slurm
 * cancel): the held cell is told why before the shim exits. */
static void tell_not_started(struct login *l, const char *jobid)
{
	char cause[512], text[1024];
	struct slurm_job_facts f;
	struct sj_err err;

	if (slurm_job_facts(jobid, &f) != 0 ||
	    sj_text_cause(cause, sizeof(cause), jobid, f.base_state, f.reason,
			  "", f.time_limit) != 1)
		return;
	if (sj_text_not_started(text, sizeof(text), cause) ||
	    sj_news_death(&l->news, text, &err))
		shim_error("the notebook is not told why the kernel did not "
			   "start");
	news_flush(l);
}

/* The lock of the user's own allocation is only for `jupyter slurm ps`:
 * a kernel that cannot take it runs all the same. */
static void use_own(struct alloc *al, const struct shim_args *a,
		    const char *jobid, const char *kernelspec)
{
	struct sj_err err;

	if (alloc_use_own(al, a, jobid, kernelspec, &err))
		shim_info("%s; jupyter slurm ps will not list allocation %s",
			  err.msg, jobid);
}

/*
 * In order: the allocation named with --jobid; the one a user's
 * `salloc --jupyter-kernel` shell runs Jupyter in; a lingering (or, with
 * --share, busy) one of ours; a new one.  Only the last two are released
 * by the janitor, and only when no kernel uses them.
 */
static int choose_allocation(struct login *l, struct alloc *al, int janitor,
			     struct sj_err *err)
{
	const struct shim_args *a = l->args;
	const char *env_job = getenv("SLURM_JOB_ID");
	const char *marker = getenv("SLURM_JUPYTER_ALLOCATION");
	char linger[16];
	int r;

	if (a->jobid != NULL) {
		snprintf(l->jobid, sizeof(l->jobid), "%s", a->jobid);
		use_own(al, a, l->jobid, l->cf.kernel_name);
		return 0;
	}
	if (env_job != NULL && marker != NULL && strcmp(marker, "1") == 0) {
		if (strlen(env_job) >= sizeof(l->jobid))
			return sj_err_set(err, "SLURM_JOB_ID too long");
		strcpy(l->jobid, env_job);
		shim_info("using allocation %s (salloc --jupyter-kernel)",
			  l->jobid);
		use_own(al, a, l->jobid, l->cf.kernel_name);
		return 0;
	}
	snprintf(linger, sizeof(linger), "%u", a->linger);
	if (alloc_init(al, a, err) ||
	    janitor_tell(janitor, "lockdir", al->lock_dir, err) ||
	    janitor_tell(janitor, "linger", linger, err))
		return -1;
	snprintf(al->info.kernelspec, sizeof(al->info.kernelspec), "%s",
		 l->cf.kernel_name);
	r = alloc_find(al, a->share, err);
	if (r < 0)
		return -1;
	if (r == 1) {
		shim_info("reusing allocation %s", al->jobid);
		strcpy(l->jobid, al->jobid);
		return janitor_own_job(janitor, al->jobid, err);
	}
	struct slurm_wait_also also = { .fd = l->ch->front->epfd,
					.ready = serve_early,
					.pending = on_pending, .arg = l,
					.named = alloc_named, .named_arg = al };

	r = slurm_allocate(a, al->name, janitor, l->sfd, &also, al->jobid,
			   sizeof(al->jobid), err);
	if (r == 1)
		tell_not_started(l, al->jobid);
	if (r != 0 || alloc_lock(al, err))
		return -1;
	strcpy(l->jobid, al->jobid);
	return 0;
}

/* See kernelstep.h.  known: what alloc_find already learnt of the job
 * ("" state: ask).  What Slurm cannot tell now, the kernel goes without:
 * that is no reason to fail its start. */
static void job_env_for_step(const char *jobid,
			     const struct slurm_job_facts *known)
{
	struct slurm_job_facts f;
	char num[16], end[32];

	unsetenv(SJ_ENV_JOB_NODELIST);
	unsetenv(SJ_ENV_JOB_NUM_NODES);
	unsetenv(SJ_ENV_END_TIME);
	if (known->state[0] != '\0')
		f = *known;
	else if (slurm_job_facts(jobid, &f) != 0)
		f.nodes[0] = '\0';
	if (f.nodes[0] == '\0') {
		shim_debug("job %s: Slurm did not say its nodes and end time",
			   jobid);
		return;
	}
	snprintf(num, sizeof(num), "%u", (unsigned)f.num_nodes);
	if (setenv(SJ_ENV_JOB_NODELIST, f.nodes, 1) ||
	    setenv(SJ_ENV_JOB_NUM_NODES, num, 1))
		shim_debug("setenv: %s", strerror(errno));
	if (f.end_time > 0) {
		snprintf(end, sizeof(end), "%lld", (long long)f.end_time);
		if (setenv(SJ_ENV_END_TIME, end, 1))
			shim_debug("setenv: %s", strerror(errno));
	}
}

/* The warning clock (a timerfd) strikes at t; 0 stops it. */
static void warn_arm(int fd, time_t t)
{
	struct itimerspec its = { .it_value = { .tv_sec = t } };

	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		shim_error("timerfd_settime: %s; no more warnings before the "
			   "allocation ends", strerror(errno));
}

/* The idle clock strikes at t. */
static void idle_arm(int fd, time_t t)
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
static int on_warn_clock(struct sj_fwd_watch *w)
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
static void take_last_end(struct login *l, const char *path)
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
static void note_idle_end(struct login *l, unsigned idle)
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
static void tell_started(struct login *l)
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
static void tell_death(struct login *l, const struct slurm_job_facts *f,
		       const char *path)
{
	char cause[512], text[1024];
	struct sj_err err;

	if (sj_text_cause(cause, sizeof(cause), l->jobid, f->base_state,
			  f->reason, l->hello.node, f->time_limit) != 1)
		return;
	if (sj_text_death(text, sizeof(text), cause) ||
	    sj_news_death(&l->news, text, &err))
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
static int on_idle_clock(struct sj_fwd_watch *w)
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

/*
 * The previous kernel of this kernelspec was shut down idle: this one
 * asks Slurm for nothing until a request needs the kernel.  Meanwhile
 * the standin answers kernel_info and holds the rest.  Returns 0 when the
 * kernel is needed, 1 when the shim is to exit instead (a shutdown
 * request, Jupyter gone, a signal), -1 on error.
 */
static int await_first_request(struct login *l, struct sj_err *err)
{
	shim_info("the previous kernel was shut down idle: no allocation "
		  "until a cell runs");
	while (!l->ch->early_wanted) {
		struct pollfd fds[3] = {
			{ .fd = l->ch->front->epfd, .events = POLLIN },
			{ .fd = l->sfd, .events = POLLIN },
			{ .fd = l->parent_fd, .events = POLLIN },
		};
		int sig;

		if (poll(fds, l->parent_fd >= 0 ? 3 : 2, -1) < 0) {
			if (errno != EINTR)
				return sj_err_errno(err, errno, "poll");
			continue;
		}
		if (fds[0].revents & POLLIN &&
		    sj_channels_serve_early(l->ch, err))
			return -1;
		if (l->ch->early_shutdown && !l->ch->early_wanted) {
			/* A restart stays lazy: nothing would be lost. */
			shim_info("shut down before any cell ran: no "
				  "allocation to release");
			note_idle_end(l, l->prev_idle);
			return 1;
		}
		if (l->parent_fd >= 0 && (fds[2].revents & POLLIN))
			return 1;
		while ((sig = proc_signal_read(l->sfd)) != 0) {
			if (sig == SIGCHLD)
				reap(l);
			else if (sig != SIGINT)
				return 1;
		}
	}
	return 0;
}

int login_main(const struct shim_args *a)
{
	struct alloc al = { .lock_fd = -1 };
	struct login l = { .args = a, .srun = -1, .sfd = -1,
			   .parent_fd = watch_parent(), .si = NULL };
	struct rdv_server r = { .fd = -1 };
	struct sj_channels ch;
	struct sj_standin si = { .info = NULL };
	struct sj_endpoints jo;
	char ep[SJ_NCHANNELS][300];
	char pub[SJ_Z85_KEY_LEN + 1], sec[SJ_Z85_KEY_LEN + 1];
	struct sj_err err;
	int janitor = -1, rv = 1, clock_fd = -1, idle_fd = -1, lazy;
	char last_end_path[512] = "";

	memset(&ch, 0, sizeof(ch));
	memset(&l.news, 0, sizeof(l.news));
	l.warn = a->warn;
	/* Before any thread exists: the janitor is a fork (and before any
	 * socket is open, so that it holds none, and before the key is
	 * read, so that it never has a copy). */
	if (janitor_start(&janitor, &err)) {
		shim_error("%s", err.msg);
		return 1;
	}
	if (sj_connfile_load(a->connection_file, &l.cf, &err)) {
		shim_error("%s", err.msg);
		close(janitor);
		return 2;
	}
	if (proc_signals_init(&l.sfd, &err))
		goto fail;

	/* Jupyter's ports first: they are free only since Jupyter closed
	 * them, and the rendezvous socket's port 0 could be any of them. */
	memset(&jo, 0, sizeof(jo));
	for (int c = 0; c < SJ_NCHANNELS; c++) {
		if (sj_connfile_endpoint(&l.cf, c, ep[c], sizeof(ep[c]), &err))
			goto fail;
		jo.endpoint[c] = ep[c];
	}
	/* Root reads the connection file and can trace us anyway:
	 * refusing root's clients would protect nothing. */
	struct sj_zfront_auth auth = { .owner = getuid(), .root_too = 1,
				       .key = l.cf.key,
				       .scheme = l.cf.signature_scheme };
	if (sj_channels_open_jupyter(&ch, &jo, &auth, shim_note, NULL, &err) ||
	    standin_open(&si, a, &l.cf, &err) ||
	    rdv_server_open(&r, a->rendezvous_host, &err) ||
	    sj_curve_keypair(pub, sec, &err))
		goto fail;
	sj_channels_standin(&ch, &si, shim_note, NULL);
	l.ch = &ch;
	if (sj_news_init(&l.news, &si.maker, &err))
		goto fail;
	sj_channels_news(&ch, &l.news);
	l.si = &si;
	spec_state_path(a, &l.cf, "last-end", "txt", last_end_path,
			sizeof(last_end_path));
	l.last_end_path = last_end_path;
	take_last_end(&l, last_end_path);
	if (l.prev_idle > 0) {
		lazy = await_first_request(&l, &err);
		if (lazy < 0)
			goto fail;
		if (lazy == 1) {
			rv = 0;
			goto out;
		}
	}

	if (choose_allocation(&l, &al, janitor, &err))
		goto fail;
	shim_debug("allocation %s; starting the kernel step", l.jobid);
	job_env_for_step(l.jobid, &al.facts);

	char spec[512];
	if (sj_rdv_spec_format(&r.spec, spec, sizeof(spec), &err) ||
	    slurm_start_step(a, l.jobid, spec, &l.srun, &err))
		goto fail;
	if (await_rendezvous(&l, &r, pub, &err))
		goto fail;
	rdv_server_close(&r);
	shim_info(SJ_LOG_KERNEL_STARTING "%s (job %s, step %u)", l.hello.node,
		  l.jobid, l.hello.step_id);
	tell_started(&l);

	if (open_link(&ch, &l.hello, r.local_addr, pub, sec, &err))
		goto fail;
	explicit_bzero(sec, sizeof(sec));
	if (l.warn.n > 0) {
		clock_fd = timerfd_create(CLOCK_REALTIME,
					  TFD_CLOEXEC | TFD_NONBLOCK);
		if (clock_fd < 0)
			shim_error("timerfd_create: %s; no warnings before "
				   "the allocation ends", strerror(errno));
		else
			warn_arm(clock_fd, time(NULL));	/* ask Slurm now */
	}
	if (a->idle_timeout > 0) {
		idle_fd = timerfd_create(CLOCK_REALTIME,
					 TFD_CLOEXEC | TFD_NONBLOCK);
		if (idle_fd < 0) {
			shim_error("timerfd_create: %s; the kernel is not shut "
				   "down when idle", strerror(errno));
		} else {
			sj_idle_start(&l.idle, a->idle_timeout, time(NULL));
			sj_channels_idle(&ch, &l.idle);
			idle_arm(idle_fd, time(NULL) + (time_t)a->idle_timeout);
		}
	}
	struct sj_fwd_watch w[4] = {
		{ .fd = l.sfd, .on_ready = on_signal, .arg = &l },
		{ .fd = clock_fd, .on_ready = on_warn_clock, .arg = &l },
		{ .fd = idle_fd, .on_ready = on_idle_clock, .arg = &l },
		{ .fd = l.parent_fd, .on_ready = on_parent_exit, .arg = &l },
	};
	if (sj_forward_run(&ch, w, l.parent_fd >= 0 ? 4 : 3, &err))
		goto fail;
	/* The kernel's last words (a shutdown reply) may still be queued. */
	if (sj_forward_drain(&ch, 100, &err))
		goto fail;

	{
		char st[512];

		sj_channels_stats(&ch, st, sizeof(st));
		shim_debug("forwarded: %s", st);
	}
	rv = proc_exit_code(l.srun_status);
	/* A kernel that replied to a shutdown and whose step ended cleanly
	 * needs no explaining: spare slurmctld the question. */
	if (!l.stopping && !(rv == 0 && ch.shutdown_replied)) {
		char why[512];
		struct slurm_job_facts f;

		/* srun exits 0 when Slurm ends the job under the kernel (a
		 * failed node, for one): ask Slurm how the job is. */
		if (slurm_explain_end(l.jobid, l.hello.node, l.srun_status,
				      why, sizeof(why), &f)) {
			shim_error("%s", why);
			if (rv == 0)
				rv = 1;
		}
		tell_death(&l, &f, last_end_path);
	}
	goto out;
fail:
	shim_error("%s", err.msg);
	rv = 1;
out:
	explicit_bzero(sec, sizeof(sec));
	explicit_bzero(l.cf.key, sizeof(l.cf.key));
	if (l.srun > 0 && !l.srun_done) {
		kill(l.srun, SIGTERM);
		(void)sj_wait_child(l.srun, NULL);
	}
	sj_channels_close(&ch, 1000);	/* Jupyter may still read */
	sj_news_free(&l.news);
	sj_standin_free(&si);
	if (clock_fd >= 0)
		close(clock_fd);
	if (idle_fd >= 0)
		close(idle_fd);
	rdv_server_close(&r);
	if (l.parent_fd >= 0)
		close(l.parent_fd);
	/* The lock says a kernel uses the allocation; then closing the pipe
	 * tells the janitor to release it if nobody else does. */
	if (al.lock_fd >= 0)
		close(al.lock_fd);
	if (janitor >= 0)
		close(janitor);
	return rv;
}
