// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernel_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "evio.h"

#define F_MORE SJ_ZMTP_MORE
#define F_COMMAND SJ_ZMTP_COMMAND

#define RETRY_MS 10
#define READ_CHUNK (256 * 1024)

static const char *const type_name[] = {
	[SJ_ZMTP_DEALER] = "DEALER", [SJ_ZMTP_SUB] = "SUB",
};

#define note(z, debug, ...) sj_notef((z)->note, (z)->note_arg, debug, __VA_ARGS__)

/* Tags in the loop: a connection's channel and its connection's number,
 * so an event of a connection already dropped is known for what it is. */
#define TAG_TIMER 0xffu

static uint64_t tag_of(const struct sj_zmtp *z, const struct sj_zmtp_conn *c)
{
	return SJ_EV_TAG(SJ_EV_OWNER_KERNEL,
			 (uint64_t)c->gen << 8 | (uint64_t)(c - z->c));
}

/* The kernel's sockets whose output waits while the link is full: all
 * but the heartbeat, whose echo is small and says the kernel lives. */
static int holdable(const struct sj_zmtp *z, const struct sj_zmtp_conn *c)
{
	return c != &z->c[SJ_HB];
}

static int watch(struct sj_zmtp *z, struct sj_zmtp_conn *c, int op)
{
	if (z->held && holdable(z, c))
		c->ev |= SJ_EV_HELD;
	return sj_evio_watch(z->loop, op, c->fd, tag_of(z, c), c->ev);
}

int sj_zmtp_hold(struct sj_zmtp *z, int hold)
{
	int rv = 0;

	z->held = hold != 0;
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		struct sj_zmtp_conn *c = &z->c[ch];

		if (holdable(z, c) && c->fd >= 0 &&
		    sj_evio_hold(z->loop, c->fd, tag_of(z, c), &c->ev, hold))
			rv = -1;
	}
	return rv;
}

size_t sj_zmtp_queued(const struct sj_zmtp *z)
{
	size_t n = 0;

	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		n += z->c[ch].out.len - z->c[ch].out.off + z->c[ch].queue.len;
	return n;
}

static int put_ready(struct sj_zmtp *z, struct sj_zmtp_conn *c)
{
	return sj_zmtp_put_ready(&c->out, type_name[c->type],
				 c->type == SJ_ZMTP_DEALER ? z->rid : NULL,
				 z->rid_len);
}

static int conn_write(struct sj_zmtp *z, struct sj_zmtp_conn *c)
{
	return sj_evio_send(z->loop, c->fd, tag_of(z, c), &c->out,
			    &c->ev);
}

static void drop(struct sj_zmtp *z, struct sj_zmtp_conn *c, const char *why)
{
	if (c->state == SJ_ZMTP_OPEN)
		note(z, 1, "kernel %s %s: %s", type_name[c->type], c->endpoint,
		     why);
	sj_evio_close(z->loop, &c->fd, tag_of(z, c));
	c->state = SJ_ZMTP_WAITING;
	c->ev = 0;
	/* What was on its way is lost with the connection, as in libzmq. */
	c->in.off = c->in.len = 0;
	memset(&c->scan, 0, sizeof(c->scan));
	c->streaming = 0;
	c->frame_left = 0;
	c->out.off = c->out.len = 0;
	if (sj_evio_arm(z->timer_fd, RETRY_MS))
		note(z, 0, "zmtp: timerfd_settime: %s", strerror(errno));
}

static int start_connect(struct sj_zmtp *z, struct sj_zmtp_conn *c)
{
	uint8_t g[SJ_ZMTP_GREETING_BYTES];
	int fd = socket(c->sa.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (c->sa.ss_family != AF_UNIX) {
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
	}
	c->fd = fd;
	c->gen++;
	c->state = SJ_ZMTP_CONNECTING;
	c->ev = SJ_EV_OUT;
	sj_zmtp_greeting(g);
	c->out.off = c->out.len = 0;
	if (sj_buf_reserve(&c->out, sizeof(g)))
		return -1;
	memcpy(c->out.p, g, sizeof(g));
	c->out.len = sizeof(g);
	if (put_ready(z, c) || watch(z, c, EPOLL_CTL_ADD))
		return -1;
	if (connect(fd, (struct sockaddr *)&c->sa, c->salen) != 0 &&
	    errno != EINPROGRESS) {
		/* The kernel has not bound yet (ENOENT, ECONNREFUSED): the
		 * timer tries again. */
		drop(z, c, strerror(errno));
	}
	return 0;
}

/* The handshake is done: what waited goes out, a SUB's subscriptions
 * first (again, after a reconnect). */
static int opened(struct sj_zmtp *z, struct sj_zmtp_conn *c)
{
	c->state = SJ_ZMTP_OPEN;
	note(z, 1, "kernel %s connected on %s", type_name[c->type],
	     c->endpoint);
	for (struct sj_buf *b = &c->subs.frames; b != NULL;
	     b = b == &c->subs.frames ? &c->queue : NULL) {
		size_t n = b->len - b->off;

		if (n == 0)
			continue;
		if (sj_buf_reserve(&c->out, n))
			return -1;
		memcpy(c->out.p + c->out.len, b->p + b->off, n);
		c->out.len += n;
	}
	c->queue.off = c->queue.len = 0;
	sj_buf_consumed(&c->queue);
	return 0;
}

/* A message too big to wait for, part by part: *moved says whether a
 * part went on (else more bytes are needed). */
static enum sj_io_result stream_step(struct sj_zmtp *z,
				     struct sj_zmtp_conn *c, int ch,
				     int *moved)
{
	struct sj_buf *b = &c->in;
	const uint8_t *p = b->p + b->off;
	size_t avail = b->len - b->off, head, size;
	uint8_t flags;

	*moved = 0;
	if (c->frame_left > 0) {
		/* More of a frame that is going on in pieces. */
		size_t take = avail < c->frame_left ? avail : c->frame_left;
		int last;

		if (take == 0)
			return SJ_IO_MORE;
		c->frame_left -= take;
		last = c->frame_left == 0 && !c->frame_more;
		if (z->on_part(z->arg, ch, SJ_ZMTP_PART_PIECE, p, take, 0, 0,
			       0, last))
			return SJ_IO_FATAL;
		b->off += take;
		if (last)
			c->streaming = 0;
		*moved = 1;
		return SJ_IO_MORE;
	}
	int r = sj_zmtp_parse_head(p, avail, &flags, &head, &size);
	if (r == 0)
		return SJ_IO_MORE;
	if (r < 0 || (flags & F_COMMAND)) {
		note(z, 0, "kernel socket %s sent a malformed frame",
		     c->endpoint);
		return SJ_IO_DROP;
	}
	int more = (flags & F_MORE) != 0, first = c->first;
	if (avail - head >= size) {
		if (z->on_part(z->arg, ch, SJ_ZMTP_PART_FRAME, p + head, size,
			       size, more, first, !more))
			return SJ_IO_FATAL;
		b->off += head + size;
		c->first = 0;
		c->streaming = more;
		*moved = 1;
		return SJ_IO_MORE;
	}
	/* Too big to wait for: on in pieces, if it is big enough to be worth
	 * it and some of it is here.  A message's first piece holds the
	 * whole of any topic a subscription could match (the login side's
	 * listener matches on it). */
	size_t have = avail - head;
	if (size < SJ_ZMTP_STREAM_MIN || have == 0 ||
	    (first && have < SJ_ZMTP_TOPIC_MAX))
		return SJ_IO_MORE;
	if (z->on_part(z->arg, ch, SJ_ZMTP_PART_START, p + head, have, size,
		       more, first, 0))
		return SJ_IO_FATAL;
	b->off += head + have;
	c->first = 0;
	c->frame_left = size - have;
	c->frame_more = more;
	*moved = 1;
	return SJ_IO_MORE;
}

/* Handles what has arrived (FATAL: the message callback failed). */
static enum sj_io_result conn_input(struct sj_zmtp *z,
				    struct sj_zmtp_conn *c, int ch)
{
	struct sj_buf *b = &c->in;

	while (c->state != SJ_ZMTP_OPEN) {
		const uint8_t *body;
		size_t n;
		int r = sj_zmtp_handshake(b, &c->state, &body, &n);

		if (r == 0)
			goto done;
		if (r == -1) {
			note(z, 0, "kernel socket %s does not speak ZMTP 3 "
			     "with the NULL mechanism", c->endpoint);
			return SJ_IO_DROP;
		}
		if (r == -2 || !sj_zmtp_ready_ok(body, n, c->type)) {
			note(z, 0, "kernel socket %s is not a %s's peer",
			     c->endpoint, type_name[c->type]);
			return SJ_IO_DROP;
		}
		if (opened(z, c))
			return SJ_IO_FATAL;
	}
	for (;;) {
		if (c->streaming) {
			int moved;
			enum sj_io_result r = stream_step(z, c, ch, &moved);

			if (r != SJ_IO_MORE)
				return r;
			if (!moved)
				break;
			continue;
		}
		/* A whole message, or wait for the rest of it. */
		const uint8_t *p = b->p + b->off;
		size_t avail = b->len - b->off;
		int command, r = sj_zmtp_scan(&c->scan, p, avail, &command);

		if (r < 0) {
			note(z, 0, "kernel socket %s sent a malformed frame",
			     c->endpoint);
			return SJ_IO_DROP;
		}
		if (r == 0) {
			/* A message this big goes on as it arrives: no shim
			 * holds all of it, and the hops overlap. */
			if (avail >= SJ_ZMTP_STREAM_MIN) {
				memset(&c->scan, 0, sizeof(c->scan));
				c->streaming = 1;
				c->first = 1;
				continue;
			}
			break;
		}
		size_t end = c->scan.end;
		memset(&c->scan, 0, sizeof(c->scan));
		if (!command && z->on_message(z->arg, ch, p, end))
			return SJ_IO_FATAL;
		b->off += end;
	}
done:
	sj_buf_consumed(b);
	return SJ_IO_MORE;
}

static int on_conn(struct sj_zmtp *z, struct sj_zmtp_conn *c, uint32_t ev,
		   struct sj_err *err)
{
	int ch = (int)(c - z->c);
	enum sj_io_result r = SJ_IO_MORE;

	if (c->state == SJ_ZMTP_CONNECTING) {
		int e = 0;
		socklen_t el = sizeof(e);

		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return 0;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e != 0) {
			drop(z, c, strerror(e));
			return 0;
		}
		c->state = SJ_ZMTP_GREETING;
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		size_t got;

		r = sj_evio_read(c->fd, &c->in, READ_CHUNK, &got);
		if (r == SJ_IO_FATAL)
			return sj_err_set(err, "%s channel: out of memory",
					  sj_channel_name(ch));
		if (r == SJ_IO_MORE && got > 0)
			r = conn_input(z, c, ch);
		if (r == SJ_IO_FATAL)
			return sj_err_set(err, "%s channel: out of memory or "
					  "delivery failed",
					  sj_channel_name(ch));
	}
	if (r == SJ_IO_MORE && c->out.off < c->out.len && conn_write(z, c))
		r = SJ_IO_DROP;
	if (r == SJ_IO_DROP)
		drop(z, c, "connection closed");
	return 0;
}

/* The loop's handler: the timer reconnects what is waiting. */
static int on_event(void *arg, uint64_t tag, uint32_t events,
		    struct sj_err *err)
{
	struct sj_zmtp *z = arg;
	struct sj_zmtp_conn *c;

	if (tag == TAG_TIMER) {
		uint64_t t;

		if (read(z->timer_fd, &t, sizeof(t)) != sizeof(t))
			return 0;
		for (int ch = 0; ch < SJ_NCHANNELS; ch++)
			if (z->c[ch].state == SJ_ZMTP_WAITING &&
			    start_connect(z, &z->c[ch]))
				return sj_err_errno(err, errno,
						    "zmtp: connect");
		return 0;
	}
	if ((tag & 0xff) >= SJ_NCHANNELS)
		return 0;
	c = &z->c[tag & 0xff];
	if (c->fd < 0 || (tag_of(z, c) & SJ_EV_TAG_MASK) != tag)
		return 0;
	return on_conn(z, c, events, err);
}

/* A subscription from Jupyter's side: kept once (sent again on every
 * connection as it opens) and sent if it is new.  Once everything is
 * subscribed to (the empty prefix, what Jupyter asks for), nothing more
 * is: the login shim gives each client only what it subscribed to.
 * Unsubscriptions are not expected (the login shim keeps them) and go
 * nowhere. */
static int subscribe(struct sj_zmtp_conn *c, const uint8_t *f, size_t len)
{
	struct sj_link_entry x;
	const uint8_t *topic;
	size_t at = 0, n;

	if (sj_link_entry_next(f, len, &at, &x) != 1 || at != len ||
	    x.n < 1 || x.data[0] != 1 || c->subs_all)
		return 0;
	topic = x.data + 1;
	n = x.n - 1;
	if (sj_zmtp_topics_find(&c->subs, topic, n, 0) >= 0)
		return 0;	/* the kernel has it already */
	if (c->subs.n == SJ_ZMTP_SUBS_MAX)
		n = 0;		/* full: everything, which covers them all */
	if (sj_zmtp_topics_add(&c->subs, topic, n))
		return -1;
	c->subs_all = n == 0;
	return c->state == SJ_ZMTP_OPEN ?
	       sj_zmtp_put_frame(&c->out, 0, x.data, 1 + n) : 0;
}

int sj_zmtp_send(struct sj_zmtp *z, int ch, const uint8_t *f, size_t len,
		 struct sj_err *err)
{
	struct sj_zmtp_conn *c = &z->c[ch];
	/* A DEALER's messages wait in the queue while it is not open. */
	struct sj_buf *to = c->state == SJ_ZMTP_OPEN ? &c->out : &c->queue;
	struct sj_link_entry x;
	size_t at = 0;

	if (c->type == SJ_ZMTP_SUB)
		return subscribe(c, f, len) ?
		       sj_err_set(err, "out of memory") : 0;
	while (sj_link_entry_next(f, len, &at, &x) == 1)
		if (sj_zmtp_put_frame(to, at < len ? F_MORE : 0, x.data,
				      x.n))
			return sj_err_set(err, "out of memory");
	return 0;
}

void sj_zmtp_flush(struct sj_zmtp *z)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		struct sj_zmtp_conn *c = &z->c[ch];

		if (c->state >= SJ_ZMTP_GREETING &&
		    c->out.off < c->out.len && conn_write(z, c))
			drop(z, c, "connection lost");
	}
}

int sj_zmtp_open(struct sj_zmtp *z, struct sj_evloop *lp,
		 const char *const *endpoints,
		 const uint8_t *rid, size_t rid_len,
		 sj_zmtp_message_fn on_message, sj_zmtp_part_fn on_part,
		 void *arg, sj_note_fn note_fn, void *note_arg,
		 struct sj_err *err)
{
	memset(z, 0, sizeof(*z));
	z->loop = lp;
	z->timer_fd = -1;
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		z->c[ch].fd = -1;
	if (rid_len > sizeof(z->rid))
		return sj_err_set(err, "zmtp: routing id too long");
	memcpy(z->rid, rid, rid_len);
	z->rid_len = rid_len;
	z->on_message = on_message;
	z->on_part = on_part;
	z->arg = arg;
	z->note = note_fn;
	z->note_arg = note_arg;
	if (sj_evloop_timer(lp, SJ_EV_TAG(SJ_EV_OWNER_KERNEL, TAG_TIMER),
			    &z->timer_fd, err))
		return sj_err_wrap(err, "zmtp");
	sj_evloop_handler(lp, SJ_EV_OWNER_KERNEL, on_event, NULL, z);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		struct sj_zmtp_conn *c = &z->c[ch];

		c->type = ch == SJ_IOPUB ? SJ_ZMTP_SUB : SJ_ZMTP_DEALER;
		if (strlen(endpoints[ch]) >= sizeof(c->endpoint) ||
		    sj_zmtp_parse_endpoint(endpoints[ch], &c->sa, &c->salen))
			return sj_err_set(err, "%s: cannot connect to \"%s\"",
					  sj_channel_name(ch), endpoints[ch]);
		strcpy(c->endpoint, endpoints[ch]);
		if (start_connect(z, c))
			return sj_err_errno(err, errno, "%s: connect",
					    sj_channel_name(ch));
	}
	return 0;
}

void sj_zmtp_close(struct sj_zmtp *z)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		struct sj_zmtp_conn *c = &z->c[ch];

		sj_evio_close(z->loop, &c->fd, tag_of(z, c));
		sj_buf_free(&c->in);
		sj_buf_free(&c->out);
		sj_buf_free(&c->queue);
		sj_zmtp_topics_free(&c->subs);
	}
	sj_evio_close(z->loop, &z->timer_fd,
		      SJ_EV_TAG(SJ_EV_OWNER_KERNEL, TAG_TIMER));
	sj_evloop_handler(z->loop, SJ_EV_OWNER_KERNEL, NULL, NULL, NULL);
}
