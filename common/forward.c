#include "forward.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
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

#define MAX_ITEMS (2 * SJ_NCHANNELS + 8)

/* One zmq_poll round over the channels and the watches; returns the
 * number of messages moved, or -1, and sets *stop when a watch says so. */
static int poll_round(struct sj_channels *c, struct sj_fwd_watch *w, int nw,
		      long timeout_ms, int *stop, struct sj_err *err)
{
	zmq_pollitem_t items[MAX_ITEMS];
	int n = 0, moved = 0, ch, i, r;

	if (nw > MAX_ITEMS - 2 * SJ_NCHANNELS)
		return sj_err_set(err, "too many watches (%d)", nw);
	for (ch = 0; ch < SJ_NCHANNELS; ch++) {
		items[n++] = (zmq_pollitem_t){ .socket = c->front[ch],
					       .events = ZMQ_POLLIN };
		items[n++] = (zmq_pollitem_t){ .socket = c->back[ch],
					       .events = ZMQ_POLLIN };
	}
	for (i = 0; i < nw; i++)
		items[n++] = (zmq_pollitem_t){ .socket = w[i].socket,
					       .fd = w[i].fd,
					       .events = ZMQ_POLLIN };

	if (zmq_poll(items, n, timeout_ms) < 0) {
		if (zmq_errno() == EINTR)
			return 0;
		return sj_err_set(err, "zmq_poll: %s",
				  zmq_strerror(zmq_errno()));
	}
	for (ch = 0; ch < SJ_NCHANNELS; ch++) {
		for (int dir = 0; dir < 2; dir++) {
			if (!(items[2 * ch + dir].revents & ZMQ_POLLIN))
				continue;
			r = move_burst(c, ch, dir, err);
			if (r < 0)
				return -1;
			moved += r;
		}
	}
	for (i = 0; i < nw; i++) {
		if (!(items[2 * SJ_NCHANNELS + i].revents &
		      (ZMQ_POLLIN | ZMQ_POLLERR)))
			continue;
		r = w[i].on_ready(&w[i]);
		if (r < 0)
			return sj_err_set(err, "watch %d failed", i);
		if (r > 0)
			*stop = 1;
	}
	return moved;
}

int sj_forward_run(struct sj_channels *c, struct sj_fwd_watch *w, int nw,
		   struct sj_err *err)
{
	int stop = 0;

	while (!stop) {
		if (poll_round(c, w, nw, -1, &stop, err) < 0)
			return -1;
	}
	return 0;
}

int sj_forward_drain(struct sj_channels *c, int quiet_ms, struct sj_err *err)
{
	int stop = 0, r;

	/* The kernel has said its last word: forward what is queued, but do
	 * not wait long for more. */
	if (c->shutdown_replied && quiet_ms > REPLIED_QUIET_MS)
		quiet_ms = REPLIED_QUIET_MS;
	do {
		r = poll_round(c, NULL, 0, quiet_ms, &stop, err);
		if (r < 0)
			return -1;
	} while (r > 0);
	return 0;
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
