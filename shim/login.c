// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * login.c - the shim on the login node, as Jupyter's kernel process.
 *
 * Order matters: Jupyter connects to its five ports as soon as it has
 * started us, so they are bound first; the allocation and the step come
 * after, and messages sent meanwhile wait in the sockets' queues.
 */
#include <errno.h>
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
#include "rdv_text.h"
#include "forward.h"
#include "idle.h"
#include "janitor.h"
#include "kernelstep.h"
#include "news.h"
#include "log.h"
#include "login.h"
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

void stop_srun(struct login *l)
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
		fds[k + 2] = (struct pollfd){ .fd = l->ch->loop.epfd,
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
	if (sj_link_keys_from_hex(&keys, pub, sec, h->server_key, err) ||
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

static int serve_early(void *arg, struct sj_err *err)
{
	struct login *l = arg;

	return sj_channels_serve_early(l->ch, err);
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
	struct slurm_wait_also also = { .fd = l->ch->loop.epfd,
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
			{ .fd = l->ch->loop.epfd, .events = POLLIN },
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
	char pub[SJ_KEY_HEX + 1], sec[SJ_KEY_HEX + 1];
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
	    sj_rdv_keypair(pub, sec, &err))
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
	shim_debug_forwarded(&ch);
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
