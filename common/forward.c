#include "forward.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "curvekey.h"

/* Messages moved from one socket per wake-up before the others get a turn,
 * so a 20 MB stream on iopub cannot starve heartbeats or a shell reply. */
#define BURST 256

/* ZMTP heartbeats on the links that cross the network: a peer that
 * vanished without closing its TCP connection is noticed in seconds. */
#define HEARTBEAT_IVL_MS 5000
#define LOCAL_RECONNECT_IVL_MS 10
/* After a shutdown_reply: long enough for ZMQ's I/O thread to hand over
 * what the exited kernel had written. */
#define REPLIED_QUIET_MS 20
#define HEARTBEAT_TIMEOUT_MS 15000

static const int front_type[SJ_NCHANNELS] = {
	[SJ_SHELL] = ZMQ_ROUTER, [SJ_IOPUB] = ZMQ_XPUB, [SJ_STDIN] = ZMQ_ROUTER,
	[SJ_CONTROL] = ZMQ_ROUTER, [SJ_HB] = ZMQ_ROUTER,
};
static const int back_type[SJ_NCHANNELS] = {
	[SJ_SHELL] = ZMQ_DEALER, [SJ_IOPUB] = ZMQ_XSUB, [SJ_STDIN] = ZMQ_DEALER,
	[SJ_CONTROL] = ZMQ_DEALER, [SJ_HB] = ZMQ_DEALER,
};

static int set_int(void *s, int opt, int v, const char *what,
		   struct sj_err *err)
{
	if (zmq_setsockopt(s, opt, &v, sizeof(v)) != 0)
		return sj_err_set(err, "%s: zmq_setsockopt(%d): %s", what, opt,
				  zmq_strerror(zmq_errno()));
	return 0;
}

static int set_str(void *s, int opt, const char *v, const char *what,
		   struct sj_err *err)
{
	if (zmq_setsockopt(s, opt, v, strlen(v)) != 0)
		return sj_err_set(err, "%s: zmq_setsockopt(%d): %s", what, opt,
				  zmq_strerror(zmq_errno()));
	return 0;
}

/* Unbounded queues: a slow front end must slow the kernel down, not lose
 * its output.  Jupyter's own local kernels behave the same way. */
static int common_opts(void *s, const char *what, struct sj_err *err)
{
	if (set_int(s, ZMQ_SNDHWM, 0, what, err) ||
	    set_int(s, ZMQ_RCVHWM, 0, what, err) ||
	    set_int(s, ZMQ_LINGER, 1000, what, err))
		return -1;
	return 0;
}

static int heartbeat_opts(void *s, const char *what, struct sj_err *err)
{
	if (set_int(s, ZMQ_HEARTBEAT_IVL, HEARTBEAT_IVL_MS, what, err) ||
	    set_int(s, ZMQ_HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS, what, err))
		return -1;
	return 0;
}

int sj_channels_open_front(struct sj_channels *c, void *ctx,
			   const struct sj_front_opts *o, struct sj_err *err)
{
	int ch;

	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	for (ch = 0; ch < SJ_NCHANNELS; ch++) {
		const char *name = sj_channel_name(ch);
		void *s = zmq_socket(ctx, front_type[ch]);

		if (s == NULL)
			return sj_err_set(err, "%s: zmq_socket: %s", name,
					  zmq_strerror(zmq_errno()));
		c->front[ch] = s;
		if (common_opts(s, name, err))
			return -1;
		if (front_type[ch] == ZMQ_ROUTER &&
		    set_int(s, ZMQ_ROUTER_MANDATORY, 1, name, err))
			return -1;
		if (o->curve_secret != NULL) {
			if (set_int(s, ZMQ_CURVE_SERVER, 1, name, err) ||
			    set_str(s, ZMQ_CURVE_SECRETKEY, o->curve_secret,
				    name, err) ||
			    heartbeat_opts(s, name, err))
				return -1;
		}
		if (o->fd[ch] >= 0 &&
		    set_int(s, ZMQ_USE_FD, o->fd[ch], name, err))
			return -1;
		if (zmq_bind(s, o->endpoint[ch]) != 0)
			return sj_err_set(err, "cannot listen for the %s channel "
					  "on %s: %s", name, o->endpoint[ch],
					  zmq_strerror(zmq_errno()));
	}
	return 0;
}

int sj_channels_open_back(struct sj_channels *c,
			  const struct sj_back_opts *o, struct sj_err *err)
{
	uint8_t rid[16];
	int ch;

	/* One routing id for shell and stdin (see forward.h). */
	if (getrandom(rid, sizeof(rid), 0) != (ssize_t)sizeof(rid))
		return sj_err_errno(err, errno, "getrandom");
	rid[0] |= 1;	/* a leading zero byte is reserved by ZMQ */

	for (ch = 0; ch < SJ_NCHANNELS; ch++) {
		const char *name = sj_channel_name(ch);
		void *s = zmq_socket(c->ctx, back_type[ch]);

		if (s == NULL)
			return sj_err_set(err, "%s: zmq_socket: %s", name,
					  zmq_strerror(zmq_errno()));
		c->back[ch] = s;
		if (common_opts(s, name, err))
			return -1;
		if ((ch == SJ_SHELL || ch == SJ_STDIN) &&
		    zmq_setsockopt(s, ZMQ_ROUTING_ID, rid, sizeof(rid)) != 0)
			return sj_err_set(err, "%s: routing id: %s", name,
					  zmq_strerror(zmq_errno()));
		if (o->curve_server != NULL) {
			if (set_str(s, ZMQ_CURVE_SERVERKEY, o->curve_server,
				    name, err) ||
			    set_str(s, ZMQ_CURVE_PUBLICKEY, o->curve_public,
				    name, err) ||
			    set_str(s, ZMQ_CURVE_SECRETKEY, o->curve_secret,
				    name, err) ||
			    heartbeat_opts(s, name, err))
				return -1;
		}
		/* The local kernel binds a moment after we connect; ZMQ
		 * would retry only every 100 ms, most of a kernel's start. */
		if (o->curve_server == NULL &&
		    set_int(s, ZMQ_RECONNECT_IVL, LOCAL_RECONNECT_IVL_MS, name,
			    err))
			return -1;
		if (zmq_connect(s, o->endpoint[ch]) != 0)
			return sj_err_set(err, "cannot connect the %s channel "
					  "to %s: %s", name, o->endpoint[ch],
					  zmq_strerror(zmq_errno()));
	}
	return 0;
}

void sj_channels_close(struct sj_channels *c, int front_linger_ms,
		       int back_linger_ms)
{
	int ch;

	for (ch = 0; ch < SJ_NCHANNELS; ch++) {
		void *pair[2] = { c->front[ch], c->back[ch] };
		int linger[2] = { front_linger_ms, back_linger_ms };

		for (int i = 0; i < 2; i++) {
			if (pair[i] == NULL)
				continue;
			/* Best effort: the socket closes either way. */
			(void)zmq_setsockopt(pair[i], ZMQ_LINGER, &linger[i],
					     sizeof(linger[i]));
			zmq_close(pair[i]);
		}
		c->front[ch] = c->back[ch] = NULL;
	}
}

/*
 * Moves one whole multipart message.  Returns 1 if a message moved, 0 if
 * none was waiting, -1 on error.  A ROUTER that cannot route (the peer the
 * reply is for has gone) drops the message; that is counted, not fatal.
 */
int sj_header_has_type(const void *data, size_t n, const char *msg_type)
{
	static const char key[] = "\"msg_type\"";
	const char *p = data;
	size_t tl = strlen(msg_type);

	for (size_t i = 0; i + sizeof(key) - 1 <= n; i++) {
		size_t j;

		if (memcmp(p + i, key, sizeof(key) - 1) != 0)
			continue;
		j = i + sizeof(key) - 1;
		while (j < n && (p[j] == ' ' || p[j] == ':'))
			j++;
		return n - j >= tl + 2 && p[j] == '"' &&
		       memcmp(p + j + 1, msg_type, tl) == 0 &&
		       p[j + 1 + tl] == '"';
	}
	return 0;
}

static int is_delimiter(const zmq_msg_t *m)
{
	static const char delim[] = "<IDS|MSG>";

	return zmq_msg_size(m) == sizeof(delim) - 1 &&
	       memcmp(zmq_msg_data((zmq_msg_t *)m), delim,
		      sizeof(delim) - 1) == 0;
}

static int move_one(void *from, void *to, uint64_t *dropped,
		    int *shutdown_replied, struct sj_err *err)
{
	int first = 1, lost = 0, after_delim = -1;

	for (;;) {
		zmq_msg_t msg;
		int more;
		size_t more_len = sizeof(more);

		if (zmq_msg_init(&msg) != 0)
			return sj_err_set(err, "zmq_msg_init: %s",
					  zmq_strerror(zmq_errno()));
		if (zmq_msg_recv(&msg, from, first ? ZMQ_DONTWAIT : 0) < 0) {
			int e = zmq_errno();

			zmq_msg_close(&msg);
			if (first && e == EAGAIN)
				return 0;
			if (e == EINTR)
				continue;
			return sj_err_set(err, "receive: %s", zmq_strerror(e));
		}
		first = 0;
		if (shutdown_replied != NULL) {
			if (after_delim >= 0)
				after_delim++;
			else if (is_delimiter(&msg))
				after_delim = 0;
			if (after_delim == 2 &&
			    sj_header_has_type(zmq_msg_data(&msg),
					       zmq_msg_size(&msg),
					       "shutdown_reply"))
				*shutdown_replied = 1;
		}
		if (zmq_getsockopt(from, ZMQ_RCVMORE, &more, &more_len) != 0) {
			zmq_msg_close(&msg);
			return sj_err_set(err, "ZMQ_RCVMORE: %s",
					  zmq_strerror(zmq_errno()));
		}
		if (lost) {
			zmq_msg_close(&msg);
		} else if (zmq_msg_send(&msg, to, more ? ZMQ_SNDMORE : 0) < 0) {
			int e = zmq_errno();

			zmq_msg_close(&msg);
			if (e != EHOSTUNREACH)
				return sj_err_set(err, "send: %s",
						  zmq_strerror(e));
			/* Unroutable: swallow the rest of this message. */
			lost = 1;
			(*dropped)++;
		}
		if (!more)
			return 1;
	}
}

static int move_burst(struct sj_channels *c, int ch, int dir,
		      struct sj_err *err)
{
	void *from = dir == 0 ? c->front[ch] : c->back[ch];
	void *to = dir == 0 ? c->back[ch] : c->front[ch];
	int n, r;

	for (n = 0; n < BURST; n++) {
		/* Replies travel back to front on both ends. */
		r = move_one(from, to, &c->dropped[ch],
			     ch == SJ_CONTROL && dir == 1 ?
			     &c->shutdown_replied : NULL, err);
		if (r < 0)
			return sj_err_wrap(err, "%s channel",
					   sj_channel_name(ch));
		if (r == 0)
			break;
		c->forwarded[ch][dir]++;
	}
	return n;
}

/*
 * The loop: one epoll set, made once, over the ZMQ_FD of each socket and
 * the watches' fds.  zmq_poll would rebuild its list and ask every socket
 * for ZMQ_EVENTS on each wake-up, a system call per socket, so a message
 * would cost a dozen system calls per hop.  Here only the sockets whose fd
 * fired, and the sockets a message was just sent to, are asked.
 *
 * The rule that makes this correct: ZMQ_FD only tells that a socket's
 * mailbox has commands, and any call on the socket (a send included) may
 * consume them.  So after sending on a socket, its ZMQ_EVENTS must be
 * checked even though its fd will not fire; and a socket whose burst was
 * cut short is checked again.
 */
#define NSOCK (2 * SJ_NCHANNELS)
#define MAX_WATCHES 8

struct fwd_loop {
	int epfd;
	int nw;
	struct sj_fwd_watch *w;
	int wfd[MAX_WATCHES];		/* the fd registered for each watch */
	unsigned dirty;			/* sockets to ask: bit i = sock(i) */
	unsigned wready;		/* watches to call: bit i = w[i] */
};

/* Socket i: front of channel i/2 for even i, back for odd. */
static void *sock_of(struct sj_channels *c, int i)
{
	return (i & 1) ? c->back[i / 2] : c->front[i / 2];
}

static int zmq_fd_of(void *s, int *fd)
{
	size_t len = sizeof(*fd);

	return zmq_getsockopt(s, ZMQ_FD, fd, &len);
}

static int watch_fd(const struct sj_fwd_watch *w)
{
	int fd = -1;

	if (w->socket != NULL)
		return zmq_fd_of(w->socket, &fd) == 0 ? fd : -1;
	return w->fd;
}

static int loop_add(struct fwd_loop *L, int fd, unsigned tag,
		    struct sj_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return sj_err_errno(err, errno, "epoll_ctl");
	return 0;
}

static void loop_close(struct fwd_loop *L)
{
	if (L->epfd >= 0)
		close(L->epfd);
	L->epfd = -1;
}

static int loop_open(struct fwd_loop *L, struct sj_channels *c,
		     struct sj_fwd_watch *w, int nw, struct sj_err *err)
{
	memset(L, 0, sizeof(*L));
	L->epfd = -1;
	if (nw > MAX_WATCHES)
		return sj_err_set(err, "too many watches (%d)", nw);
	L->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L->epfd < 0)
		return sj_err_errno(err, errno, "epoll_create1");
	for (int i = 0; i < NSOCK; i++) {
		int fd;

		if (zmq_fd_of(sock_of(c, i), &fd) != 0) {
			sj_err_set(err, "ZMQ_FD: %s", zmq_strerror(zmq_errno()));
			goto fail;
		}
		if (loop_add(L, fd, (unsigned)i, err))
			goto fail;
	}
	L->w = w;
	L->nw = nw;
	for (int i = 0; i < nw; i++) {
		L->wfd[i] = watch_fd(&w[i]);
		if (L->wfd[i] >= 0 &&
		    loop_add(L, L->wfd[i], (unsigned)(NSOCK + i), err))
			goto fail;
	}
	/* Whatever arrived before the loop began has no wake-up of its
	 * own any more: ask every socket once. */
	L->dirty = (1u << NSOCK) - 1;
	for (int i = 0; i < nw; i++)
		if (w[i].socket != NULL)
			L->wready |= 1u << i;
	return 0;
fail:
	loop_close(L);
	return -1;
}

static int has_input(void *s, struct sj_err *err)
{
	int events;
	size_t len = sizeof(events);

	if (zmq_getsockopt(s, ZMQ_EVENTS, &events, &len) != 0)
		return sj_err_set(err, "ZMQ_EVENTS: %s",
				  zmq_strerror(zmq_errno()));
	return (events & ZMQ_POLLIN) != 0;
}

/* Asks each socket marked dirty once, and moves a burst from those with
 * input; returns how many messages moved.  Sockets marked on the way are
 * asked in the next round, after a look at the others: a stream on one
 * channel cannot starve the heartbeat. */
static int move_dirty(struct fwd_loop *L, struct sj_channels *c,
		      struct sj_err *err)
{
	unsigned todo = L->dirty;
	int moved = 0;

	L->dirty = 0;
	while (todo != 0) {
		int i = __builtin_ctz(todo);
		int in, r;

		todo &= ~(1u << i);
		in = has_input(sock_of(c, i), err);
		if (in < 0)
			return -1;
		if (!in)
			continue;
		/* Front sockets (even) move to the back: direction 0. */
		r = move_burst(c, i / 2, i & 1, err);
		if (r < 0)
			return -1;
		moved += r;
		if (r > 0)
			L->dirty |= 1u << (i ^ 1);	/* we sent on it */
		if (r == BURST)
			L->dirty |= 1u << i;		/* more to come */
	}
	return moved;
}

static void retire_if_done(struct fwd_loop *L, int i)
{
	struct sj_fwd_watch *w = &L->w[i];

	if (L->wfd[i] >= 0 && w->fd < 0 && w->socket == NULL) {
		(void)epoll_ctl(L->epfd, EPOLL_CTL_DEL, L->wfd[i], NULL);
		L->wfd[i] = -1;
	}
}

/* One wake-up: waits up to timeout_ms (-1: for ever) unless something is
 * already known to be ready, then forwards and calls the ready watches.
 * Returns the number of messages moved, or -1; sets *stop when a watch
 * says so. */
static int loop_round(struct fwd_loop *L, struct sj_channels *c,
		      int timeout_ms, int *stop, struct sj_err *err)
{
	struct epoll_event ev[NSOCK + MAX_WATCHES];
	int n, moved;

	n = epoll_wait(L->epfd, ev, NSOCK + MAX_WATCHES,
		       L->dirty || L->wready ? 0 : timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return sj_err_errno(err, errno, "epoll_wait");
	}
	for (int k = 0; k < n; k++) {
		unsigned tag = ev[k].data.u32;

		if (tag < NSOCK)
			L->dirty |= 1u << tag;
		else
			L->wready |= 1u << (tag - NSOCK);
	}
	moved = move_dirty(L, c, err);
	if (moved < 0)
		return -1;
	while (L->wready != 0) {
		int i = __builtin_ctz(L->wready);
		struct sj_fwd_watch *w = &L->w[i];
		int r;

		L->wready &= ~(1u << i);
		if (L->wfd[i] < 0)
			continue;
		r = w->on_ready(w);
		if (r < 0)
			return sj_err_set(err, "watch %d failed", i);
		if (r > 0)
			*stop = 1;
		retire_if_done(L, i);
	}
	return moved;
}

int sj_forward_run(struct sj_channels *c, struct sj_fwd_watch *w, int nw,
		   struct sj_err *err)
{
	struct fwd_loop L;
	int stop = 0, rv = 0;

	if (loop_open(&L, c, w, nw, err))
		return -1;
	while (!stop) {
		if (loop_round(&L, c, -1, &stop, err) < 0) {
			rv = -1;
			break;
		}
	}
	loop_close(&L);
	return rv;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int sj_forward_drain(struct sj_channels *c, int quiet_ms, struct sj_err *err)
{
	struct fwd_loop L;
	int stop = 0, r = 0;
	long quiet_until;

	/* The kernel has said its last word: forward what is queued, but do
	 * not wait long for more. */
	if (c->shutdown_replied && quiet_ms > REPLIED_QUIET_MS)
		quiet_ms = REPLIED_QUIET_MS;
	if (loop_open(&L, c, NULL, 0, err))
		return -1;
	quiet_until = now_ms() + quiet_ms;
	for (;;) {
		long left = quiet_until - now_ms();

		if (left <= 0 && L.dirty == 0)
			break;
		r = loop_round(&L, c, left > 0 ? (int)left : 0, &stop, err);
		if (r < 0)
			break;
		if (r > 0)
			quiet_until = now_ms() + quiet_ms;
	}
	loop_close(&L);
	return r < 0 ? -1 : 0;
}

void sj_channels_stats(const struct sj_channels *c, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int ch = 0; ch < SJ_NCHANNELS && used < len; ch++) {
		int n = snprintf(buf + used, len - used,
				 "%s%s %llu>%llu< dropped %llu", ch ? ", " : "",
				 sj_channel_name(ch),
				 (unsigned long long)c->forwarded[ch][0],
				 (unsigned long long)c->forwarded[ch][1],
				 (unsigned long long)c->dropped[ch]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
