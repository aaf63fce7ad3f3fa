// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * slurmstepd.c - the compute node (remote context).
 *
 * Only a step whose --jupyter-kernel carried a rendezvous is touched, and
 * only if it is a normal step (not batch, extern or interactive).  For it:
 *
 *   init_post_opt         stepd, root   decide; remember any problem
 *   task_init_privileged  task, root    create <runtime_dir>/<job>.<step>
 *   task_init             task, user    rendezvous, relay sockets, files
 *   task_exit, exit       stepd, root   remove the directory, if made
 *
 * init_post_opt never fails (that would drain the node); the problems it
 * and task_init_privileged find fail the task in task_init, with a message
 * that reaches srun's stderr.
 * task_init_privileged and task_init run in the forked task, so what they
 * learn stays there, except which directory task_init_privileged made: it
 * tells stepd in a page shared across the fork (struct made_dir), and stepd
 * removes that directory and nothing else.  Root only ever works below
 * runtime_dir through a descriptor of it, opened with the same checks
 * (owner root, not writable by others, no symlink) each time.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include <slurm/slurm.h>

#include "connfile.h"
#include "fsutil.h"
#include "handshake.h"
#include "netaddr.h"
#include "plugin.h"
#include "relay.h"
#include "relayinfo.h"

#ifndef SLURM_BATCH_SCRIPT
#define SLURM_BATCH_SCRIPT (0xfffffffb)
#endif
#ifndef SLURM_EXTERN_CONT
#define SLURM_EXTERN_CONT (0xfffffffc)
#endif
#ifndef SLURM_INTERACTIVE_STEP
#define SLURM_INTERACTIVE_STEP (0xfffffffa)
#endif

/* What the task tells stepd: made is set (release) once id names the step
 * directory task_init_privileged created. */
struct made_dir {
	atomic_int made;
	struct sj_file_id id;
};

struct plugin_context {
	int kernel_step;		/* a rendezvous, in a normal step */
	int failed;			/* err says why the task must fail */
	struct sj_err err;
	const struct sj_config *config;
	uint32_t job_id;
	uint32_t step_id;
	uid_t uid;
	gid_t gid;
	char dir[PATH_MAX];		/* "" until known */
	char name[32];			/* "<job>.<step>", in runtime_dir */
	struct made_dir *made;		/* shared with the task; or NULL */
};

static struct plugin_context context;

__attribute__((format(printf, 1, 2)))
static void fail_later(const char *fmt, ...)
{
	va_list ap;

	if (context.failed)
		return;
	context.failed = 1;
	va_start(ap, fmt);
	vsnprintf(context.err.msg, sizeof(context.err.msg), fmt, ap);
	va_end(ap);
}

static int get_u32(spank_t sp, spank_item_t item, const char *what,
		   uint32_t *v)
{
	spank_err_t rc = spank_get_item(sp, item, v);

	if (rc != ESPANK_SUCCESS) {
		fail_later("cannot get the %s: %s", what, spank_strerror(rc));
		return -1;
	}
	return 0;
}

static int normal_step(uint32_t step_id)
{
	return step_id != SLURM_BATCH_SCRIPT && step_id != SLURM_EXTERN_CONT &&
	       step_id != SLURM_INTERACTIVE_STEP;
}

int sj_stepd_post_opt(spank_t sp, int ac, char **av)
{
	const struct sj_opt *o = sj_option();
	const char *error = NULL;
	uint32_t ntasks = 0;
	spank_err_t rc;
	int n;

	(void)ac;
	(void)av;
	memset(&context, 0, sizeof(context));
	if (o->kind != SJ_OPT_RENDEZVOUS && o->kind != SJ_OPT_BAD)
		return 0;
	if (spank_get_item(sp, S_JOB_STEPID, &context.step_id) !=
	    ESPANK_SUCCESS) {
		/* Should not happen; treat it as a kernel step so that it
		 * fails rather than runs without its rendezvous. */
		context.kernel_step = 1;
		fail_later("cannot get the step id");
		return 0;
	}
	if (!normal_step(context.step_id))
		return 0;
	context.kernel_step = 1;

	if (o->kind == SJ_OPT_BAD)
		fail_later("--" SJ_OPTION ": %s", o->err.msg);
	context.config = sj_plugin_config(&error);
	if (context.config == NULL)
		fail_later("the plugin is misconfigured (plugstack.conf: %s); "
			   "tell your Slurm administrator", error);
	if (get_u32(sp, S_JOB_ID, "job id", &context.job_id) != 0 ||
	    get_u32(sp, S_JOB_TOTAL_TASK_COUNT, "task count", &ntasks) != 0)
		return 0;
	if (ntasks != 1)
		fail_later("--" SJ_OPTION ": a kernel step runs exactly one "
			   "task, this one has %" PRIu32, ntasks);
	if ((rc = spank_get_item(sp, S_JOB_UID, &context.uid)) !=
		    ESPANK_SUCCESS ||
	    (rc = spank_get_item(sp, S_JOB_GID, &context.gid)) !=
		    ESPANK_SUCCESS) {
		fail_later("cannot get the job's uid/gid: %s",
			   spank_strerror(rc));
		return 0;
	}
	if (context.config == NULL)
		return 0;
	snprintf(context.name, sizeof(context.name), "%" PRIu32 ".%" PRIu32,
		 context.job_id, context.step_id);
	n = snprintf(context.dir, sizeof(context.dir), "%s/%s",
		     context.config->runtime_dir, context.name);
	if (n < 0 || (size_t)n >= sizeof(context.dir)) {
		context.dir[0] = '\0';
		fail_later("runtime_dir=%s is too long",
			   context.config->runtime_dir);
		return 0;
	}
	/* Before the fork of the task, so that both see the page. */
	context.made = mmap(NULL, sizeof(*context.made),
			    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, 0);
	if (context.made == MAP_FAILED) {
		context.made = NULL;
		fail_later("cannot share a page with the task: %s",
			   strerror(errno));
		return 0;
	}
	atomic_init(&context.made->made, 0);
	return 0;
}

int sj_stepd_task_init_privileged(spank_t sp, int ac, char **av)
{
	struct sj_file_id id;
	struct sj_err err;
	int rt = -1;

	(void)sp;
	(void)ac;
	(void)av;
	/* Failing here makes slurmstepd log a misleading "write to unblock
	 * task" error besides ours; task_init, in this same process, fails
	 * the task cleanly. */
	if (!context.kernel_step || context.failed)
		return 0;
	/* A directory of the same name is a leftover of this job (requeued)
	 * in a directory only root can write: ours to remove. */
	if (sj_mkdir_root(context.config->runtime_dir, 0755, &rt, &err) != 0 ||
	    sj_rmtree_at(rt, context.name, NULL, &err) != 0 ||
	    sj_mkdir_private_at(rt, context.name, context.uid, context.gid,
				&id, &err) != 0) {
		fail_later("step directory %s: %s", context.dir, err.msg);
	} else {
		context.made->id = id;
		atomic_store_explicit(&context.made->made, 1,
				      memory_order_release);
	}
	if (rt >= 0)
		close(rt);
	return 0;
}

/* Slurm's name for this node, for the login shim's messages. */
static void node_name(spank_t sp, char *buf, size_t len)
{
	char *dot;

	if (spank_getenv(sp, "SLURMD_NODENAME", buf, (int)len) ==
	    ESPANK_SUCCESS && buf[0] != '\0')
		return;
	if (gethostname(buf, len) != 0)
		snprintf(buf, len, "unknown");
	buf[len - 1] = '\0';
	if ((dot = strchr(buf, '.')) != NULL)
		*dot = '\0';
}

static int rendezvous_host(spank_t sp, const struct sj_rdv_spec *spec,
			   char *buf, size_t len, struct sj_err *err)
{
	spank_err_t rc;

	if (spec->host[0] != '\0') {
		if ((size_t)snprintf(buf, len, "%s", spec->host) >= len)
			return sj_err_set(err, "rendezvous host too long");
		return 0;
	}
	rc = spank_getenv(sp, "SLURM_LAUNCH_NODE_IPADDR", buf, (int)len);
	if (rc != ESPANK_SUCCESS || buf[0] == '\0')
		return sj_err_set(err, "--" SJ_OPTION " names no host and "
				  "SLURM_LAUNCH_NODE_IPADDR is unknown: %s",
				  spank_strerror(rc));
	return 0;
}

static int path_in_dir(char *buf, size_t len, const char *name,
		       struct sj_err *err)
{
	int n = snprintf(buf, len, "%s/%s", context.dir, name);

	if (n < 0 || (size_t)n >= len)
		return sj_err_set(err, "%s/%s: path too long", context.dir,
				  name);
	return 0;
}

/* The kernel's connection file: ipc sockets in the private directory, or
 * tcp on loopback. */
static int kernel_connfile(const struct sj_welcome *w, struct sj_connfile *cf,
			   struct sj_err *err)
{
	struct sockaddr_un sun;

	/* The kernelspec may ask for tcp: some kernels cannot do ipc. */
	enum sj_kernel_transport t = strcmp(w->transport, "tcp") == 0 ?
		SJ_TRANSPORT_TCP : strcmp(w->transport, "ipc") == 0 ?
		SJ_TRANSPORT_IPC : context.config->kernel_transport;

	memset(cf, 0, sizeof(*cf));
	if (t == SJ_TRANSPORT_TCP) {
		strcpy(cf->transport, "tcp");
		strcpy(cf->ip, "127.0.0.1");
		if (sj_loopback_ports(SJ_NCHANNELS, cf->ports, err) != 0)
			return sj_err_wrap(err, "kernel ports");
	} else {
		strcpy(cf->transport, "ipc");
		if (path_in_dir(cf->ip, sizeof(cf->ip), "kernel", err) != 0)
			return -1;
		/* zmq appends "-<port>" to make each socket's path. */
		if (strlen(cf->ip) + 3 > sizeof(sun.sun_path))
			return sj_err_set(err, "runtime_dir=%s is too long for "
					  "the kernel's unix sockets (%zu bytes "
					  "at most); shorten it or use "
					  "kernel_transport=tcp",
					  context.config->runtime_dir,
					  sizeof(sun.sun_path) - 1);
		for (int c = 0; c < SJ_NCHANNELS; c++)
			cf->ports[c] = c + 1;
	}
	memcpy(cf->key, w->key, sizeof(cf->key));
	memcpy(cf->signature_scheme, w->signature_scheme,
	       sizeof(cf->signature_scheme));
	return 0;
}

int sj_stepd_task_init(spank_t sp, int ac, char **av)
{
	const struct sj_rdv_spec *spec = &sj_option()->spec;
	char host[256], kernel_path[PATH_MAX], relay_path[PATH_MAX];
	struct sj_relay_addr addr;
	struct sj_relayinfo ri;
	struct sj_connfile cf;
	struct sj_deadline deadline;
	struct sj_welcome w;
	struct sj_hello h;
	struct sj_err err;
	spank_err_t rc;
	int fd = -1, ms, rv = -1, relay_fd = -1;
	const char *what = "rendezvous";

	(void)ac;
	(void)av;
	if (!context.kernel_step)
		return 0;
	if (context.failed) {
		sj_error("%s", context.err.msg);
		return -1;
	}
	memset(&ri, 0, sizeof(ri));
	memset(&cf, 0, sizeof(cf));
	memset(&w, 0, sizeof(w));
	memset(&h, 0, sizeof(h));

	if (rendezvous_host(sp, spec, host, sizeof(host), &err) != 0 ||
	    sj_deadline_start(&deadline, context.config->rendezvous_timeout,
			      &err) != 0 ||
	    (ms = sj_deadline_left_ms(&deadline, &err)) < 0)
		goto fail;
	if (sj_tcp_connect(host, spec->port, ms, &fd, &err) != 0)
		goto fail;

	what = "relay";
	if (sj_relay_addr_of_peer(fd, &addr, &err) != 0)
		goto fail;
	memcpy(ri.login_address, addr.text, sizeof(ri.login_address));
	if (context.config->relay_address[0] != '\0') {
		if (sj_relay_addr_parse(context.config->relay_address, &addr,
					&err) != 0)
			goto fail;
	} else if (sj_relay_addr_of_socket(fd, &addr, &err) != 0) {
		goto fail;
	}
	if (sj_relay_listen(&addr, &context.config->relay_ports, &relay_fd,
			    &ri.port, &err) != 0 ||
	    sj_rdv_keypair(ri.server_public, ri.server_secret, &err) != 0)
		goto fail;
	ri.fd = relay_fd;
	memcpy(ri.address, addr.text, sizeof(ri.address));

	what = "rendezvous";
	memcpy(h.nonce, spec->nonce, sizeof(h.nonce));
	if (sj_random_hex(h.node_nonce, SJ_NONCE_BYTES, &err) != 0)
		goto fail;
	node_name(sp, h.node, sizeof(h.node));
	memcpy(h.addr, addr.text, sizeof(h.addr));
	h.port = ri.port;
	memcpy(h.server_key, ri.server_public, sizeof(h.server_key));
	h.job_id = context.job_id;
	h.step_id = context.step_id;
	if (sj_handshake(fd, &h, context.uid, &deadline, &w, &err) != 0) {
		sj_err_wrap(&err, "%s port %d", host, spec->port);
		goto fail;
	}
	memcpy(ri.client_public, w.client_key, sizeof(ri.client_public));
	memcpy(ri.nonce, h.nonce, sizeof(ri.nonce));
	memcpy(ri.node_nonce, h.node_nonce, sizeof(ri.node_nonce));
	ri.job_id = h.job_id;
	ri.step_id = h.step_id;

	what = "kernel files";
	if (kernel_connfile(&w, &cf, &err) != 0 ||
	    path_in_dir(kernel_path, sizeof(kernel_path), SJ_KERNEL_FILE,
			&err) != 0 ||
	    path_in_dir(relay_path, sizeof(relay_path), SJ_RELAY_FILE,
			&err) != 0 ||
	    sj_connfile_write(kernel_path, &cf, &err) != 0 ||
	    sj_relayinfo_write(relay_path, &ri, &err) != 0)
		goto fail;
	rc = spank_setenv(sp, SJ_ENV_DIR, context.dir, 1);
	if (rc != ESPANK_SUCCESS) {
		sj_err_set(&err, "spank_setenv %s: %s", SJ_ENV_DIR,
			   spank_strerror(rc));
		goto fail;
	}

	sj_info("%" PRIu32 ".%" PRIu32 ": kernel of uid %ju: "
		"relay on %s port %d, rendezvous %s port %d",
		context.job_id, context.step_id, (uintmax_t)context.uid,
		ri.address, ri.port, host, spec->port);
	rv = 0;
fail:
	if (rv != 0) {
		sj_error("%s: %s", what, err.msg);
		if (relay_fd >= 0)
			close(relay_fd);
	}
	if (fd >= 0)
		close(fd);
	explicit_bzero(&ri, sizeof(ri));
	explicit_bzero(&cf, sizeof(cf));
	explicit_bzero(&w, sizeof(w));
	return rv;
}

/* Removes the step directory if task_init_privileged made it, and only
 * that very one; never fails the step (root in stepd: log and go on). */
static void remove_dir(const char *when)
{
	struct sj_file_id id;
	struct sj_err err;
	int rt;

	if (!context.kernel_step || context.made == NULL ||
	    !atomic_load_explicit(&context.made->made, memory_order_acquire))
		return;
	id = context.made->id;
	if (sj_open_owned_dir(context.config->runtime_dir, 0, &rt, &err) != 0) {
		sj_error("%s: %s left in place: %s", when,
			 context.dir, err.msg);
		return;
	}
	if (rt < 0) {
		sj_error("%s: runtime_dir %s is gone", when,
			 context.config->runtime_dir);
	} else {
		if (sj_rmtree_at(rt, context.name, &id, &err) != 0)
			sj_error("%s: cannot remove %s: %s",
				 when, context.dir, err.msg);
		close(rt);
	}
	/* Once is enough, whatever came of it: exit follows task_exit. */
	atomic_store_explicit(&context.made->made, 0, memory_order_relaxed);
}

int sj_stepd_task_exit(spank_t sp, int ac, char **av)
{
	(void)sp;
	(void)ac;
	(void)av;
	remove_dir("task_exit");
	return 0;
}

/* task_exit does not run for a task that never started. */
int sj_stepd_exit(spank_t sp, int ac, char **av)
{
	(void)sp;
	(void)ac;
	(void)av;
	remove_dir("exit");
	if (context.made != NULL &&
	    munmap(context.made, sizeof(*context.made)) != 0)
		sj_error("exit: munmap: %s", strerror(errno));
	memset(&context, 0, sizeof(context));
	return 0;
}
