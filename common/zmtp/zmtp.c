// SPDX-License-Identifier: GPL-2.0-or-later
#include "zmtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "evio.h"

#define F_MORE 0x01
#define F_LONG 0x02
#define F_COMMAND 0x04

#define RETRY_MS 10
#define READ_CHUNK (256 * 1024)
/* The peer's READY: socket type and a few properties, well under this. */
#define HANDSHAKE_FRAME_MAX 4096

static const char *const type_name[] = {
	[SJ_ZMTP_DEALER] = "DEALER", [SJ_ZMTP_SUB] = "SUB",
};

#define note(z, debug, ...) sj_notef((z)->note, (z)->note_arg, debug, __VA_ARGS__)

/* ------------------------------------------------------------- the wire */

/* A frame's header alone: 1 with its flags, header length and body
 * length, 0 if more bytes are needed, -1 if malformed. */
static int parse_head(const uint8_t *p, size_t avail, uint8_t *flags,
		      size_t *head, size_t *size)
{
	if (avail < 2)
		return 0;
	*flags = p[0];
	if (p[0] & ~(F_MORE | F_LONG | F_COMMAND))
		return -1;
	if (!(p[0] & F_LONG)) {
		*head = 2;
		*size = p[1];
		return 1;
	}
	if (avail < 9)
		return 0;
	uint64_t v = 0;
	for (int i = 1; i <= 8; i++)
		v = v << 8 | p[i];
	if (v > SJ_LINK_LEN_MASK)	/* the most a link entry can carry */
		return -1;
	*head = 9;
	*size = (size_t)v;
	return 1;
}

long sj_zmtp_parse_frame(const uint8_t *p, size_t avail, uint8_t *flags,
			 const uint8_t **body, size_t *n)
{
	size_t head, size;
	int r = parse_head(p, avail, flags, &head, &size);

	if (r <= 0)
		return r;
	if (avail - head < size)
		return 0;
	*body = p + head;
	*n = size;
	return (long)(head + size);
}

int sj_zmtp_frame_next(const uint8_t *frames, size_t len, size_t *off,
		       const uint8_t **data, size_t *n)
{
	uint8_t flags;
	long fl;

	if (*off >= len)
		return 0;
	fl = sj_zmtp_parse_frame(frames + *off, len - *off, &flags, data, n);
	if (fl <= 0)
		return 0;	/* checked whole before it was handed out */
	*off += (size_t)fl;
	return 1;
}

int sj_zmtp_put_head(struct sj_buf *b, uint8_t flags, size_t n)
{
	if (sj_buf_reserve(b, 9))
		return -1;
	uint8_t *p = b->p + b->len;
	if (n > 255) {
		p[0] = flags | F_LONG;
		for (int i = 0; i < 8; i++)
			p[1 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		b->len += 9;
	} else {
		p[0] = flags;
		p[1] = (uint8_t)n;
		b->len += 2;
	}
	return 0;
}

int sj_zmtp_put_frame(struct sj_buf *b, uint8_t flags, const void *data,
		      size_t n)
{
	if (sj_buf_reserve(b, 9 + n) || sj_zmtp_put_head(b, flags, n))
		return -1;
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

void sj_zmtp_greeting(uint8_t g[SJ_ZMTP_GREETING_BYTES])
{
	memset(g, 0, SJ_ZMTP_GREETING_BYTES);
	g[0] = 0xff;
	g[9] = 0x7f;
	g[10] = 3;		/* ZMTP 3.0: subscriptions are messages */
	g[11] = 0;
	memcpy(g + 12, "NULL", 4);
	g[32] = 0;		/* as-server: no, we connect */
}

int sj_zmtp_greeting_ok(const uint8_t *g)
{
	static const uint8_t null_mech[20] = "NULL";

	return g[0] == 0xff && g[9] == 0x7f && g[10] >= 3 &&
	       memcmp(g + 12, null_mech, sizeof(null_mech)) == 0;
}

int sj_zmtp_scan(struct sj_zmtp_scan *s, const uint8_t *p, size_t avail,
		 int *command)
{
	*command = 0;
	s->next_size = 0;
	while (s->end < avail) {
		uint8_t flags;
		size_t head, size;
		int r = parse_head(p + s->end, avail - s->end, &flags, &head,
				   &size);

		if (r <= 0)
			return r;
		if (avail - s->end - head < size) {
			s->next_size = size;
			return 0;
		}
		s->end += head + size;
		s->frames++;
		s->body += size;
		if (flags & F_COMMAND) {
			*command = 1;
			return 1;
		}
		if (!(flags & F_MORE))
			return 1;
	}
	return 0;
}

int sj_zmtp_handshake(struct sj_buf *in, enum sj_zmtp_state *state,
		      const uint8_t **body, size_t *n)
{
	const uint8_t *p = in->p + in->off;
	size_t avail = in->len - in->off;
	uint8_t flags;
	long fl;

	if (*state == SJ_ZMTP_GREETING) {
		if (avail < SJ_ZMTP_GREETING_BYTES)
			return 0;
		if (!sj_zmtp_greeting_ok(p))
			return -1;
		in->off += SJ_ZMTP_GREETING_BYTES;
		*state = SJ_ZMTP_READY_WAIT;
		p += SJ_ZMTP_GREETING_BYTES;
		avail -= SJ_ZMTP_GREETING_BYTES;
	}
	fl = sj_zmtp_parse_frame(p, avail, &flags, body, n);
	if (fl == 0 && avail > HANDSHAKE_FRAME_MAX)
		return -2;
	if (fl == 0)
		return 0;
	if (fl < 0 || !(flags & F_COMMAND))
		return -2;
	in->off += (size_t)fl;
	return 1;
}

static int put_property(struct sj_buf *b, const char *name,
			const void *value, size_t n)
{
	size_t nl = strlen(name);

	if (sj_buf_reserve(b, 1 + nl + 4 + n))
		return -1;
	b->p[b->len++] = (uint8_t)nl;
	memcpy(b->p + b->len, name, nl);
	b->len += nl;
	sj_put_be32(b->p + b->len, (uint32_t)n);
	b->len += 4;
	if (n > 0)
		memcpy(b->p + b->len, value, n);
	b->len += n;
	return 0;
}

int sj_zmtp_put_ready(struct sj_buf *out, const char *type,
		      const uint8_t *rid, size_t rid_len)
{
	struct sj_buf body = { 0 };
	int r = -1;

	if (sj_buf_reserve(&body, 6))
		goto out;
	body.p[0] = 5;
	memcpy(body.p + 1, "READY", 5);
	body.len = 6;
	if (put_property(&body, "Socket-Type", type, strlen(type)))
		goto out;
	if (rid != NULL && put_property(&body, "Identity", rid, rid_len))
		goto out;
	r = sj_zmtp_put_frame(out, F_COMMAND, body.p, body.len);
out:
	sj_buf_free(&body);
	return r;
}

static int put_ready(struct sj_zmtp *z, struct sj_zmtp_conn *c)
{
	return sj_zmtp_put_ready(&c->out, type_name[c->type],
				 c->type == SJ_ZMTP_DEALER ? z->rid : NULL,
				 z->rid_len);
}

int sj_zmtp_ready_parse(const uint8_t *body, size_t n, char *type,
			size_t tlen, const uint8_t **id, size_t *idlen)
{
	size_t i = 6;

	type[0] = '\0';
	*id = NULL;
	*idlen = 0;
	if (n < 6 || body[0] != 5 || memcmp(body + 1, "READY", 5) != 0)
		return -1;
	while (i < n) {
		size_t nl = body[i], vl;
		const uint8_t *name = body + i + 1, *value;

		if (n - i - 1 < nl + 4)
			return -1;
		vl = sj_get_be32(name + nl);
		value = name + nl + 4;
		if (vl > n - (size_t)(value - body))
			return -1;
		if (nl == 11 && strncasecmp((const char *)name, "Socket-Type",
					    11) == 0) {
			if (vl >= tlen)
				return -1;
			memcpy(type, value, vl);
			type[vl] = '\0';
		} else if (nl == 8 && strncasecmp((const char *)name,
						   "Identity", 8) == 0) {
			*id = value;
			*idlen = vl;
		}
		i = (size_t)(value - body) + vl;
	}
	return type[0] != '\0' ? 0 : -1;
}

int sj_zmtp_ready_ok(const uint8_t *body, size_t n, enum sj_zmtp_type us)
{
	static const char *const dealer_peers[] = { "ROUTER", "DEALER", "REP",
						    NULL };
	static const char *const sub_peers[] = { "PUB", "XPUB", NULL };
	const char *const *ok = us == SJ_ZMTP_DEALER ? dealer_peers : sub_peers;
	const uint8_t *id;
	size_t idlen;
	char type[16];

	if (sj_zmtp_ready_parse(body, n, type, sizeof(type), &id, &idlen))
		return 0;
	for (; *ok != NULL; ok++)
		if (strcmp(type, *ok) == 0)
			return 1;
	return 0;
}

int sj_zmtp_parse_endpoint(const char *ep, struct sockaddr_storage *sa,
			   socklen_t *salen)
{
	memset(sa, 0, sizeof(*sa));
	if (strncmp(ep, "ipc://", 6) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)sa;
		size_t n = strlen(ep + 6);

		if (n == 0 || n >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, ep + 6, n + 1);
		*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				     n + 1);
		return 0;
	}
	if (strncmp(ep, "tcp://", 6) != 0)
		return -1;
	char host[256];
	const char *h = ep + 6, *colon = strrchr(h, ':');
	size_t hl;

	if (colon == NULL)
		return -1;
	hl = (size_t)(colon - h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';

	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST |
					      AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* ------------------------------------------------------- connections */

/* epoll tags: a connection's channel and its connection's number, so an
 * event of a connection already dropped is known for what it is. */
#define TAG_TIMER 0xffu

static uint64_t tag_of(const struct sj_zmtp *z, const struct sj_zmtp_conn *c)
{
	return (uint64_t)c->gen << 8 | (uint64_t)(c - z->c);
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
	return sj_evio_watch(z->epfd, op, c->fd, tag_of(z, c), c->ev);
}

int sj_zmtp_hold(struct sj_zmtp *z, int hold)
{
	int rv = 0;

	z->held = hold != 0;
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		struct sj_zmtp_conn *c = &z->c[ch];

		if (holdable(z, c) && c->fd >= 0 &&
		    sj_evio_hold(z->epfd, c->fd, tag_of(z, c), &c->ev, hold))
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

static int conn_write(struct sj_zmtp *z, struct sj_zmtp_conn *c)
{
	return sj_evio_send(z->epfd, c->fd, tag_of(z, c), &c->out,
			    &c->ev);
}

static void drop(struct sj_zmtp *z, struct sj_zmtp_conn *c, const char *why)
{
	if (c->state == SJ_ZMTP_OPEN)
		note(z, 1, "kernel %s %s: %s", type_name[c->type], c->endpoint,
		     why);
	if (c->fd >= 0) {
		(void)epoll_ctl(z->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
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
	for (struct sj_buf *b = &c->subs; b != NULL;
	     b = b == &c->subs ? &c->queue : NULL) {
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

/* A message too big to wait for, part by part.  Returns 1 when a part
 * went on, 0 if more bytes are needed, 2 if the connection is to be
 * dropped, -1 if the callback failed. */
static int stream_step(struct sj_zmtp *z, struct sj_zmtp_conn *c, int ch)
{
	struct sj_buf *b = &c->in;
	const uint8_t *p = b->p + b->off;
	size_t avail = b->len - b->off, head, size;
	uint8_t flags;

	if (c->frame_left > 0) {
		/* More of a frame that is going on in pieces. */
		size_t take = avail < c->frame_left ? avail : c->frame_left;
		int last;

		if (take == 0)
			return 0;
		c->frame_left -= take;
		last = c->frame_left == 0 && !c->frame_more;
		if (z->on_part(z->arg, ch, SJ_ZMTP_PART_PIECE, p, take, 0, 0,
			       0, last))
			return -1;
		b->off += take;
		if (last)
			c->streaming = 0;
		return 1;
	}
	int r = parse_head(p, avail, &flags, &head, &size);
	if (r == 0)
		return 0;
	if (r < 0 || (flags & F_COMMAND)) {
		note(z, 0, "kernel socket %s sent a malformed frame",
		     c->endpoint);
		return 2;
	}
	int more = (flags & F_MORE) != 0, first = c->first;
	if (avail - head >= size) {
		if (z->on_part(z->arg, ch, SJ_ZMTP_PART_FRAME, p + head, size,
			       size, more, first, !more))
			return -1;
		b->off += head + size;
		c->first = 0;
		c->streaming = more;
		return 1;
	}
	/* Too big to wait for: on in pieces, if it is big enough to be worth
	 * it and some of it is here.  A message's first piece holds the
	 * whole of any topic a subscription could match (jupyter_listener.c matches
	 * on it). */
	size_t have = avail - head;
	if (size < SJ_ZMTP_STREAM_MIN || have == 0 ||
	    (first && have < SJ_ZMTP_TOPIC_MAX))
		return 0;
	if (z->on_part(z->arg, ch, SJ_ZMTP_PART_START, p + head, have, size,
		       more, first, 0))
		return -1;
	b->off += head + have;
	c->first = 0;
	c->frame_left = size - have;
	c->frame_more = more;
	return 1;
}

/* Handles what has arrived.  Returns 0, 1 to drop the connection, -1 if
 * the message callback failed. */
static int conn_input(struct sj_zmtp *z, struct sj_zmtp_conn *c, int ch)
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
			return 1;
		}
		if (r == -2 || !sj_zmtp_ready_ok(body, n, c->type)) {
			note(z, 0, "kernel socket %s is not a %s's peer",
			     c->endpoint, type_name[c->type]);
			return 1;
		}
		if (opened(z, c))
			return -1;
	}
	for (;;) {
		if (c->streaming) {
			int r = stream_step(z, c, ch);

			if (r == 0)
				break;
			if (r < 0)
				return -1;
			if (r == 2)
				return 1;
			continue;
		}
		/* A whole message, or wait for the rest of it. */
		const uint8_t *p = b->p + b->off;
		size_t avail = b->len - b->off;
		int command, r = sj_zmtp_scan(&c->scan, p, avail, &command);

		if (r < 0) {
			note(z, 0, "kernel socket %s sent a malformed frame",
			     c->endpoint);
			return 1;
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
			return -1;
		b->off += end;
	}
done:
	sj_buf_consumed(b);
	return 0;
}

static int on_conn(struct sj_zmtp *z, struct sj_zmtp_conn *c, uint32_t ev,
		   struct sj_err *err)
{
	int ch = (int)(c - z->c), r = 0;

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
		ssize_t got = sj_evio_recv(c->fd, &c->in, READ_CHUNK);

		if (got == -2)
			return sj_err_set(err, "%s channel: out of memory",
					  sj_channel_name(ch));
		r = got < 0 ? 1 : got > 0 ? conn_input(z, c, ch) : 0;
		if (r < 0)
			return sj_err_set(err, "%s channel: out of memory or "
					  "delivery failed",
					  sj_channel_name(ch));
	}
	if (r == 0 && c->out.off < c->out.len && conn_write(z, c))
		r = 1;
	if (r == 1)
		drop(z, c, "connection closed");
	return 0;
}

int sj_zmtp_service(struct sj_zmtp *z, struct sj_err *err)
{
	struct epoll_event ev[SJ_NCHANNELS + 1];
	int n = epoll_wait(z->epfd, ev, SJ_NCHANNELS + 1, 0);

	if (n < 0)
		return errno == EINTR ? 0 :
		       sj_err_errno(err, errno, "zmtp: epoll_wait");
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;

		if (tag == TAG_TIMER) {
			uint64_t t;

			if (read(z->timer_fd, &t, sizeof(t)) != sizeof(t))
				continue;
			for (int ch = 0; ch < SJ_NCHANNELS; ch++)
				if (z->c[ch].state == SJ_ZMTP_WAITING &&
				    start_connect(z, &z->c[ch]))
					return sj_err_errno(err, errno,
							    "zmtp: connect");
			continue;
		}
		struct sj_zmtp_conn *c = &z->c[tag & 0xff];
		if (c->fd >= 0 && tag_of(z, c) == tag &&
		    on_conn(z, c, ev[i].events, err))
			return -1;
	}
	return 0;
}

/* A subscription from Jupyter's side: kept once (sent again on every
 * connection as it opens) and sent if it is new.  Once everything is
 * subscribed to (the empty prefix, what Jupyter asks for), nothing more
 * is: the login shim gives each client only what it subscribed to.
 * Unsubscriptions are not expected (the login shim keeps them) and go
 * nowhere. */
static int subscribe(struct sj_zmtp_conn *c, const uint8_t *f, size_t len)
{
	static const uint8_t everything[] = { 0, 0, 0, 1, 1 };
	const uint8_t *s = c->subs.p;
	size_t n, i;

	if (len < 4 || (n = sj_get_be32(f)) + 4 != len || n == 0 ||
	    f[4] != 1 || c->subs_all)
		return 0;
	for (i = 0; i < c->subs.len;) {
		size_t head, size;
		uint8_t flags;

		(void)parse_head(s + i, c->subs.len - i, &flags, &head, &size);
		if (size == n && memcmp(s + i + head, f + 4, n) == 0)
			return 0;	/* the kernel has it already */
		i += head + size;
	}
	if (c->nsubs == SJ_ZMTP_SUBS_MAX) {
		/* Full: everything instead, which covers them all. */
		f = everything;
		n = 1;
	}
	if (sj_zmtp_put_frame(&c->subs, 0, f + 4, n))
		return -1;
	c->nsubs++;
	c->subs_all = n == 1;
	return c->state == SJ_ZMTP_OPEN ?
	       sj_zmtp_put_frame(&c->out, 0, f + 4, n) : 0;
}

int sj_zmtp_send(struct sj_zmtp *z, int ch, const uint8_t *f, size_t len,
		 struct sj_err *err)
{
	struct sj_zmtp_conn *c = &z->c[ch];
	/* A DEALER's messages wait in the queue while it is not open. */
	struct sj_buf *to = c->state == SJ_ZMTP_OPEN ? &c->out : &c->queue;
	size_t i = 0;

	if (c->type == SJ_ZMTP_SUB)
		return subscribe(c, f, len) ?
		       sj_err_set(err, "out of memory") : 0;
	while (i < len) {
		size_t n = sj_get_be32(f + i);
		uint8_t flags = i + 4 + n < len ? F_MORE : 0;

		if (sj_zmtp_put_frame(to, flags, f + i + 4, n))
			return sj_err_set(err, "out of memory");
		i += 4 + n;
	}
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

int sj_zmtp_open(struct sj_zmtp *z, const char *const *endpoints,
		 const uint8_t *rid, size_t rid_len,
		 sj_zmtp_message_fn on_message, sj_zmtp_part_fn on_part,
		 void *arg, sj_note_fn note_fn, void *note_arg,
		 struct sj_err *err)
{
	memset(z, 0, sizeof(*z));
	z->epfd = z->timer_fd = -1;
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
	if (sj_evio_open(&z->epfd, &z->timer_fd, TAG_TIMER, err))
		return sj_err_wrap(err, "zmtp");
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

		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		sj_buf_free(&c->in);
		sj_buf_free(&c->out);
		sj_buf_free(&c->queue);
		sj_buf_free(&c->subs);
	}
	if (z->timer_fd >= 0)
		close(z->timer_fd);
	if (z->epfd >= 0)
		close(z->epfd);
	z->timer_fd = z->epfd = -1;
}
