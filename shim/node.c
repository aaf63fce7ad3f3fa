// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * node.c - the shim on the compute node: the step's task.
 *
 * The plugin has already met the login shim, written the kernel's
 * connection file and bound the relay's listening socket (inherited
 * here).  This side starts the kernel, serves the link (link.h) to the
 * login shim and forwards to the kernel over loopback or ipc.
 *
 * Signals: Slurm delivers a step signal (scancel --signal=INT, the end of
 * the step) to every process of the step, the kernel included, so the
 * kernel stays in our process group and we pass nothing on ourselves;
 * doing so would interrupt it twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>

#include "args.h"
#include "child.h"
#include "connfile.h"
#include "forward.h"
#include "kernelstep.h"
#include "log.h"
#include "logtext.h"
#include "proc.h"
#include "relayinfo.h"
#include "shim.h"

/* Seconds without the login shim before the kernel is ended: well above
 * a reconnect after a network blip, well below linger + 30 s. */
#define LOGIN_GRACE_S 20


struct node {
	pid_t kernel;
	int kernel_status;
	int kernel_done;
	int sfd;
};

/* Replaces every {connection_file} in argv; the result is malloc'd. */
static char **kernel_argv(const struct shim_args *a, const char *path,
			  struct sj_err *err)
{
	char **v = calloc((size_t)a->kernel_argc + 1, sizeof(char *));
	size_t tl = strlen(SJ_CONNFILE_TOKEN), pl = strlen(path);

	if (v == NULL)
		goto oom;
	for (int i = 0; i < a->kernel_argc; i++) {
		const char *s = a->kernel_argv[i], *p;
		size_t n = 0, len = strlen(s) + 1;

		for (p = s; (p = strstr(p, SJ_CONNFILE_TOKEN)); p += tl)
			n++;
		v[i] = malloc(len + n * pl);
		if (v[i] == NULL)
			goto oom;
		char *o = v[i];
		for (p = s; *p;) {
			if (strncmp(p, SJ_CONNFILE_TOKEN, tl) == 0) {
				memcpy(o, path, pl);
				o += pl;
				p += tl;
			} else {
				*o++ = *p++;
			}
		}
		*o = '\0';
	}
	return v;
oom:
	if (v != NULL)
		for (int i = 0; i < a->kernel_argc; i++)
			free(v[i]);
	free(v);
	sj_err_set(err, "out of memory");
	return NULL;
}

static int on_signal(struct sj_fwd_watch *w)
{
	struct node *n = w->arg;
	int sig, status;

	while ((sig = proc_signal_read(n->sfd)) != 0) {
		if (sig != SIGCHLD) {
			shim_debug("signal %d (the kernel has it too)", sig);
			continue;
		}
		if (proc_reap(n->kernel, &status)) {
			n->kernel_status = status;
			n->kernel_done = 1;
		}
	}
	return n->kernel_done;
}

/* SIGTERM, and SIGKILL if the kernel is still there after KILL_WAIT_MS;
 * woken by its SIGCHLD, not by a timer loop. */
#define KILL_WAIT_MS 5000

static void end_kernel(struct node *n)
{
	struct pollfd p = { .fd = n->sfd, .events = POLLIN };
	struct sj_fwd_watch w = { .arg = n };

	kill(n->kernel, SIGTERM);
	while (!n->kernel_done && poll(&p, 1, KILL_WAIT_MS) > 0)
		on_signal(&w);
	if (!n->kernel_done) {
		kill(n->kernel, SIGKILL);
		(void)sj_wait_child(n->kernel, &n->kernel_status);
		n->kernel_done = 1;
	}
}

/* Nothing ever came from the kernel, on any channel. */
static int never_answered(const struct sj_channels *ch)
{
	for (int c = 0; c < SJ_NCHANNELS; c++)
		if (ch->forwarded[c][1] != 0)
			return 0;
	return 1;
}

/* A kernel that aborts over ipc before its first word is most likely one
 * that cannot use ipc (xeus: kernelkind.h); its own message ("terminate
 * called ... Invalid argument") does not say what to do, this line does.
 * Returns 1 when it said it. */
static int hint_transport(const struct sj_connfile *kcf,
			  const struct sj_channels *ch, int status)
{
	if (strcmp(kcf->transport, "ipc") != 0 || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGABRT || !never_answered(ch))
		return 0;
	shim_error("the kernel aborted before it answered, on ipc sockets: "
		   "if it cannot use ipc (xeus kernels such as xpython "
		   "cannot), add --kernel-transport=tcp to the kernelspec's "
		   "argv before -f");
	return 1;
}

/* See kernelstep.h.  Runs before any thread exists: setenv is safe. */
static int job_env_for_kernel(struct sj_err *err)
{
	static const char *const step_layout[] = {
		"SLURM_NTASKS", "SLURM_NPROCS", "SLURM_TASKS_PER_NODE",
		"SLURM_DISTRIBUTION",
	};
	const char *nodes = getenv(SJ_ENV_JOB_NODELIST);
	const char *count = getenv(SJ_ENV_JOB_NUM_NODES);

	if (nodes == NULL || count == NULL || nodes[0] == '\0' ||
	    count[0] == '\0')
		return 0;	/* the login shim could not ask Slurm */
	if (setenv("SLURM_NODELIST", nodes, 1) ||
	    setenv("SLURM_JOB_NODELIST", nodes, 1) ||
	    setenv("SLURM_NNODES", count, 1) ||
	    setenv("SLURM_JOB_NUM_NODES", count, 1))
		return sj_err_errno(err, errno, "setenv");
	for (size_t i = 0; i < sizeof(step_layout) / sizeof(*step_layout); i++)
		unsetenv(step_layout[i]);
	unsetenv(SJ_ENV_JOB_NODELIST);
	unsetenv(SJ_ENV_JOB_NUM_NODES);
	return 0;
}

int node_main(const struct shim_args *a)
{
	struct node n = { .kernel = -1, .sfd = -1 };
	struct sj_relayinfo ri;
	struct sj_connfile kcf;
	struct sj_channels ch;
	struct sj_endpoints ko;
	struct sj_link_keys keys;
	char relay_path[PATH_MAX], kernel_path[PATH_MAX];
	char kep[SJ_NCHANNELS][300];
	char **kargv = NULL;
	struct sj_err err;
	int rv = 1;
	const char *dir = getenv(SJ_ENV_DIR);

	memset(&ch, 0, sizeof(ch));
	memset(&ri, 0, sizeof(ri));
	ri.fd = -1;
	if (dir == NULL || dir[0] != '/') {
		shim_error("--node: %s is not set; this mode is started by "
			   "srun --jupyter-kernel, not by hand", SJ_ENV_DIR);
		return 2;
	}
	if ((size_t)snprintf(relay_path, sizeof(relay_path), "%s/%s", dir,
			     SJ_RELAY_FILE) >= sizeof(relay_path) ||
	    (size_t)snprintf(kernel_path, sizeof(kernel_path), "%s/%s", dir,
			     SJ_KERNEL_FILE) >= sizeof(kernel_path)) {
		shim_error("%s: path too long", SJ_ENV_DIR);
		return 2;
	}
	if (sj_relayinfo_load(relay_path, &ri, &err) ||
	    sj_connfile_load(kernel_path, &kcf, &err))
		goto fail;
	/* The key stays in the kernel's file; we forward signed frames
	 * untouched and never need it. */
	explicit_bzero(kcf.key, sizeof(kcf.key));
	kargv = kernel_argv(a, kernel_path, &err);
	if (kargv == NULL || job_env_for_kernel(&err) ||
	    proc_signals_init(&n.sfd, &err))
		goto fail;

	memset(&ko, 0, sizeof(ko));
	for (int c = 0; c < SJ_NCHANNELS; c++) {
		if (sj_connfile_endpoint(&kcf, c, kep[c], sizeof(kep[c]), &err))
			goto fail;
		ko.endpoint[c] = kep[c];
	}
	if (sj_channels_open_kernel(&ch, &ko, shim_note, NULL, &err))
		goto fail;
	/* The link is served from our event loop: accept must not block. */
	int fl = fcntl(ri.fd, F_GETFL);
	if (fl < 0 || fcntl(ri.fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(ri.fd, F_SETFD, FD_CLOEXEC) != 0) {
		sj_err_errno(&err, errno, "relay socket %d", ri.fd);
		goto fail;
	}
	if (sj_link_keys_from_hex(&keys, ri.server_public, ri.server_secret,
				  ri.client_public, &err) ||
	    sj_link_bind(&keys, ri.nonce, ri.node_nonce, ri.job_id,
			 ri.step_id, &err)) {
		sodium_memzero(&keys, sizeof(keys));
		goto fail;
	}
	explicit_bzero(ri.server_secret, sizeof(ri.server_secret));
	int lfd = ri.fd;
	ri.fd = -1;	/* the link's now, closed with it */
	int r = sj_channels_link_server(&ch, lfd, LOGIN_GRACE_S,
					ri.login_address, &keys, shim_note,
					NULL, &err);
	sodium_memzero(&keys, sizeof(keys));
	if (r)
		goto fail;

	struct proc_spawn ps = {
		.argv = kargv, .parent_death_sig = SIGKILL,
		.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
	};
	if (proc_spawn(&ps, &n.kernel, &err))
		goto fail;
	shim_debug("kernel pid %d" SJ_LOG_RELAY_ON "%s port %d", (int)n.kernel,
		   ri.address, ri.port);

	struct sj_fwd_watch w[1] = {
		{ .fd = n.sfd, .on_ready = on_signal, .arg = &n },
	};
	if (sj_forward_run(&ch, w, 1, &err))
		goto fail;
	if (ch.link.gone && !n.kernel_done) {
		/* Not a kernel failure: nobody is there to use it. */
		shim_error("the login side has been gone for %d s (srun or the "
			   "login shim was killed?): ending the kernel",
			   LOGIN_GRACE_S);
		end_kernel(&n);
		rv = 1;
		goto out;
	}
	if (sj_forward_drain(&ch, 200, &err))
		goto fail;
	shim_debug_forwarded(&ch);
	rv = proc_exit_code(n.kernel_status);
	if (hint_transport(&kcf, &ch, n.kernel_status))
		;
	else if (WIFSIGNALED(n.kernel_status))
		shim_error("the kernel was killed by signal %d",
			   WTERMSIG(n.kernel_status));
	else if (rv != 0)
		shim_error("the kernel exited with status %d", rv);
	goto out;
fail:
	shim_error("%s", err.msg);
	rv = 1;
out:
	if (n.kernel > 0 && !n.kernel_done) {
		kill(n.kernel, SIGTERM);
		(void)sj_wait_child(n.kernel, NULL);
	}
	sj_channels_close(&ch, 0);	/* the kernel has gone */
	if (ri.fd >= 0)
		close(ri.fd);
	if (kargv != NULL) {
		for (int i = 0; i < a->kernel_argc; i++)
			free(kargv[i]);
		free(kargv);
	}
	explicit_bzero(&ri, sizeof(ri));
	return rv;
}
