// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * doctor_kernel.c - a trial kernel, started the way Jupyter starts one:
 * a connection file of ours, the shim with it, and a client on the shell
 * channel.  The shim runs with SLURM_JUPYTER_SHIM_DEBUG=1, which srun
 * carries to the node shim, so its log (kept in a file) says how far the
 * kernel got: "kernel starting on NODE" (the rendezvous), "relay on ADDR
 * port P" and "login side connected" (the node saw our link
 * handshake), then our kernel_info_reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "connfile.h"
#include "doctor.h"
#include "fsutil.h"
#include "logtext.h"
#include "netaddr.h"
#include "spawn.h"

/* What makes the shim log its progress (debug lines). */
#define SHIM_DEBUG_ENV "SLURM_JUPYTER_SHIM_DEBUG"

#define MAX_LOG (1024 * 1024)
#define RESEND_MS 5000
#define STOP_WAIT_MS 30000
/* The relay is connected right after the rendezvous, before the kernel
 * starts: longer than this means the connection does not get through. */
#define RELAY_WAIT_MS 20000

struct trial {
	char dir[PATH_MAX];
	char connfile[PATH_MAX + 32];
	char logpath[PATH_MAX + 32];
	struct sj_connfile cf;
	char session[33];
	void *ctx, *sock;
	int logfd;		/* the shim's stderr and stdout */
	int readfd;
	size_t used, cap;
	char *log;
	pid_t pid;
	int status;
	int exited;
};

static int prepare(struct trial *t, struct sj_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char ep[300];
	int zero = 0;

	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(t->dir, sizeof(t->dir),
			     "%s/jupyter-slurm-doctor.XXXXXX", tmp) >=
	    sizeof(t->dir))
		return sj_err_set(err, "TMPDIR too long");
	if (mkdtemp(t->dir) == NULL) {
		sj_err_errno(err, errno, "mkdtemp %s", t->dir);
		t->dir[0] = '\0';
		return -1;
	}
	snprintf(t->connfile, sizeof(t->connfile), "%s/kernel.json", t->dir);
	snprintf(t->logpath, sizeof(t->logpath), "%s/shim.log", t->dir);
	strcpy(t->cf.transport, "tcp");
	strcpy(t->cf.ip, "127.0.0.1");
	strcpy(t->cf.signature_scheme, "hmac-sha256");
	if (sj_loopback_ports(SJ_NCHANNELS, t->cf.ports, err) ||
	    sj_random_hex(t->cf.key, 32, err) ||
	    sj_random_hex(t->session, 16, err) ||
	    sj_connfile_write(t->connfile, &t->cf, err))
		return -1;
	t->logfd = open(t->logpath, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
			O_CLOEXEC, 0600);
	if (t->logfd < 0)
		return sj_err_errno(err, errno, "%s", t->logpath);
	t->readfd = open(t->logpath, O_RDONLY | O_CLOEXEC);
	if (t->readfd < 0)
		return sj_err_errno(err, errno, "%s", t->logpath);

	t->ctx = zmq_ctx_new();
	if (t->ctx == NULL ||
	    (t->sock = zmq_socket(t->ctx, ZMQ_DEALER)) == NULL)
		return sj_err_set(err, "zmq: %s", zmq_strerror(zmq_errno()));
	if (sj_connfile_endpoint(&t->cf, SJ_SHELL, ep, sizeof(ep), err))
		return -1;
	if (zmq_setsockopt(t->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_connect(t->sock, ep) != 0)
		return sj_err_set(err, "zmq connect %s: %s", ep,
				  zmq_strerror(zmq_errno()));
	return 0;
}

/* Our environment with debug on, for the shim and (through srun) the node
 * shim; NULL when out of memory. */
static char **debug_env(void)
{
	static char debug[] = SHIM_DEBUG_ENV "=1";
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], SHIM_DEBUG_ENV "=",
			    sizeof(SHIM_DEBUG_ENV)) != 0)
			env[k++] = environ[i];
	env[k] = debug;
	return env;
}

static int spawn(struct trial *t, char *const *argv, struct sj_err *err)
{
	struct sj_spawn sp = { .argv = argv, .stdin_fd = -1,
			       .stdout_fd = t->logfd, .stderr_fd = t->logfd,
			       .exec_fail = SJ_EXEC_FAIL_EXIT127 };
	int rv;

	sp.envp = debug_env();
	if (sp.envp == NULL)
		return sj_err_set(err, "out of memory");
	rv = sj_spawn(&sp, &t->pid, err);
	free((void *)sp.envp);
	return rv;
}

/* Appends what the shim wrote since last time. */
static void read_log(struct trial *t)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(t->readfd, chunk, sizeof(chunk))) > 0) {
		if (t->used + (size_t)n + 1 > t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16384;
			char *p;

			while (cap < t->used + (size_t)n + 1)
				cap *= 2;
			if (cap > MAX_LOG || (p = realloc(t->log, cap)) == NULL)
				return;		/* enough to judge by */
			t->log = p;
			t->cap = cap;
		}
		memcpy(t->log + t->used, chunk, (size_t)n);
		t->used += (size_t)n;
		t->log[t->used] = '\0';
	}
}

/* Copies p up to its end of line into out, at most len-1 characters;
 * returns 1. */
static int copy_line(const char *p, char *out, size_t len)
{
	size_t n = strcspn(p, "\n");

	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* The rest of the line after mark, at most len-1 characters. */
static int after(const char *log, const char *mark, char *out, size_t len)
{
	const char *p = log ? strstr(log, mark) : NULL;

	if (p == NULL)
		return 0;
	return copy_line(p + strlen(mark), out, len);
}

/* The whole line that contains mark (the last such line if last). */
static int line_with(const char *log, const char *mark, int last, char *out,
		     size_t len)
{
	const char *p = NULL, *q = log;

	while (q != NULL && (q = strstr(q, mark)) != NULL) {
		p = q;
		q += strlen(mark);
		if (!last)
			break;
	}
	if (p == NULL)
		return 0;
	while (p > log && p[-1] != '\n')
		p--;
	return copy_line(p, out, len);
}

static void update_stage(struct trial *t, struct dk_result *r)
{
	if (r->stage < DK_RENDEZVOUS &&
	    after(t->log, SJ_SHIM_LOG_PREFIX SJ_LOG_KERNEL_STARTING, r->node,
		  sizeof(r->node))) {
		r->node[strcspn(r->node, " ")] = '\0';
		r->stage = DK_RENDEZVOUS;
		r->reached = 1;
	}
	if (r->relay[0] == '\0')
		(void)after(t->log, SJ_LOG_RELAY_ON, r->relay, sizeof(r->relay));
	if (r->stage == DK_RENDEZVOUS &&
	    strstr(t->log ? t->log : "", SJ_LOG_LOGIN_CONNECTED))
		r->stage = DK_RELAY;
}

/* Why it stopped short, from the log, before our SIGTERM adds to it. */
static void classify(struct trial *t, struct dk_result *r)
{
	static const char *const marks[] = { "salloc: error:",
					     "srun: error:" };
	const char *log = t->log ? t->log : "";

	if (line_with(log, SJ_PLUGIN_LOG_PREFIX "relay:", 0, r->why,
		      sizeof(r->why))) {
		/* The node connected before it tried to listen. */
		r->reached = 1;
		return;
	}
	if (line_with(log, SJ_PLUGIN_LOG_PREFIX, 0, r->why, sizeof(r->why)))
		return;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (line_with(log, marks[i], 0, r->why, sizeof(r->why)))
			return;
	if (t->exited)
		line_with(log, SJ_SHIM_LOG_PREFIX, 1, r->why,
			  sizeof(r->why));
}

static void stop(struct trial *t)
{
	long long end = sj_monotonic_ms() + STOP_WAIT_MS;
	int sent_kill = 0;

	if (t->pid <= 0 || t->exited)
		return;
	/* What Jupyter does to a kernel that will not shut down: the shim
	 * ends the step, its janitor releases the allocation. */
	(void)kill(t->pid, SIGTERM);
	for (;;) {
		errno = 0;
		if (sj_reap(t->pid, &t->status) || errno == ECHILD)
			break;
		if (!sent_kill && sj_monotonic_ms() > end) {
			(void)kill(t->pid, SIGKILL);
			sent_kill = 1;
		}
		usleep(50 * 1000);
	}
	t->exited = 1;
}

static void cleanup(struct trial *t)
{
	if (t->sock != NULL)
		zmq_close(t->sock);
	if (t->ctx != NULL)
		zmq_ctx_term(t->ctx);
	if (t->logfd >= 0)
		close(t->logfd);
	if (t->readfd >= 0)
		close(t->readfd);
	explicit_bzero(t->cf.key, sizeof(t->cf.key));
	if (t->dir[0] != '\0') {
		/* The key is in there: best effort, nothing else to do. */
		(void)unlink(t->connfile);
		(void)unlink(t->logpath);
		(void)rmdir(t->dir);
	}
}

static int watch(struct trial *t, struct dk_result *r, int timeout,
		 struct sj_err *err)
{
	long long start = sj_monotonic_ms(), end = start + (long long)timeout * 1000;
	long long last_send = 0, relay_by = 0;

	for (;;) {
		zmq_pollitem_t it = { .socket = t->sock, .events = ZMQ_POLLIN };
		long long now = sj_monotonic_ms();
		int n;

		if (now - last_send >= RESEND_MS) {
			/* Resent like jupyter_client does while it waits:
			 * replies to the extra ones are harmless. */
			if (dk_send_kernel_info(t->sock, t->cf.key, t->session,
						err))
				return -1;
			last_send = now;
		}
		n = zmq_poll(&it, 1, 100);
		if (n < 0 && zmq_errno() != EINTR)
			return sj_err_set(err, "zmq_poll: %s",
					  zmq_strerror(zmq_errno()));
		if (n > 0) {
			int got = dk_recv_kernel_info(t->sock, t->cf.key,
						      r->banner,
						      sizeof(r->banner), err);

			if (got < 0)
				return -1;
			if (got == 1) {
				read_log(t);
				update_stage(t, r);
				r->stage = DK_ANSWERED;
				r->seconds = (double)(sj_monotonic_ms() - start) / 1000;
				return 0;
			}
		}
		read_log(t);
		update_stage(t, r);
		if (r->stage == DK_RENDEZVOUS && relay_by == 0)
			relay_by = sj_monotonic_ms() + RELAY_WAIT_MS;
		if (sj_reap(t->pid, &t->status)) {
			t->exited = 1;
			read_log(t);
			update_stage(t, r);
			classify(t, r);
			return 0;
		}
		if (sj_monotonic_ms() > end ||
		    (r->stage == DK_RENDEZVOUS && sj_monotonic_ms() > relay_by)) {
			classify(t, r);
			return 0;
		}
	}
}

int dk_run(char *const *argv_in, size_t connfile_arg, int timeout,
	   struct dk_result *r, struct sj_err *err)
{
	struct trial t = { .logfd = -1, .readfd = -1, .pid = -1 };
	char **argv = NULL;
	size_t n = 0;
	int rv = -1;

	memset(r, 0, sizeof(*r));
	while (argv_in[n] != NULL)
		n++;
	argv = calloc(n + 1, sizeof(*argv));
	if (argv == NULL) {
		sj_err_set(err, "out of memory");
		goto out;
	}
	memcpy(argv, argv_in, n * sizeof(*argv));
	if (prepare(&t, err))
		goto out;
	argv[connfile_arg] = t.connfile;
	if (spawn(&t, argv, err))
		goto out;
	rv = watch(&t, r, timeout, err);
out:
	stop(&t);
	read_log(&t);
	r->log = t.log;
	cleanup(&t);
	free(argv);
	return rv;
}

void dk_result_free(struct dk_result *r)
{
	free(r->log);
	r->log = NULL;
}
