#include "zfront.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "evio.h"

#define READ_CHUNK (64 * 1024)
#define HANDSHAKE_FRAME_MAX 4096
/* A subscription longer than this is refused with its client. */
#define SUB_MAX 1024

/*
 * Jupyter picks its ports by binding port 0 and closing again, then starts
 * us and at once connects its clients.  A connect attempt made before we
 * have bound can take one of those very ports as its source port for a
 * moment; the bind then fails although nothing keeps the port.  No event
 * says when it is free again, so: a short, bounded retry.
 */
#define BIND_RETRIES 200
#define BIND_RETRY_NS (10 * 1000000L)

#define note(f, debug, ...) sj_notef((f)->note, (f)->note_arg, debug, __VA_ARGS__)

static int is_router(int ch)
{
	return ch != SJ_IOPUB;
}

/* ------------------------------------------------------------- listening */

static int listen_on(struct sj_zfront *f, int ch, const char *ep,
		     struct sj_err *err)
{
	struct timespec pause = { .tv_nsec = BIND_RETRY_NS };
	struct sockaddr_storage sa;
	socklen_t sl;
	int fd, one = 1;

	if (sj_zmtp_parse_endpoint(ep, &sa, &sl))
		return sj_err_set(err, "cannot listen for the %s channel on "
				  "%s: not an endpoint we can bind",
				  sj_channel_name(ch), ep);
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return sj_err_errno(err, errno, "%s: socket",
				    sj_channel_name(ch));
	f->listen_fd[ch] = fd;
	if (sa.ss_family == AF_UNIX) {
		const char *path = ((struct sockaddr_un *)&sa)->sun_path;

		/* Like libzmq: a socket file left by an earlier run is in
		 * the way; ours is removed when we close. */
		(void)unlink(path);
		snprintf(f->ipc_path[ch], sizeof(f->ipc_path[ch]), "%s", path);
	} else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			      sizeof(one)) != 0) {
		return sj_err_errno(err, errno, "%s: SO_REUSEADDR",
				    sj_channel_name(ch));
	}
	for (int tries = 0;; tries++) {
		if (bind(fd, (struct sockaddr *)&sa, sl) == 0)
			break;
		if (errno != EADDRINUSE || tries == BIND_RETRIES) {
			f->ipc_path[ch][0] = '\0';
			return sj_err_errno(err, errno, "cannot listen for the "
					    "%s channel on %s",
					    sj_channel_name(ch), ep);
		}
		nanosleep(&pause, NULL);
	}
	if (listen(fd, 64) != 0)
		return sj_err_errno(err, errno, "cannot listen for the %s "
				    "channel on %s", sj_channel_name(ch), ep);
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = (uint64_t)ch };
	if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return sj_err_errno(err, errno, "epoll_ctl");
	return 0;
}

/* ------------------------------------------------------------ peers */

static int watch(struct sj_zfront *f, struct sj_zfront_peer *p, int op)
{
	return sj_evio_watch(f->epfd, op, p->fd, p, p->out_armed);
}

static void peer_free(struct sj_zfront *f, struct sj_zfront_peer *p)
{
	struct sj_zfront_peer **slot = f->peer[p->ch];

	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
		if (slot[i] == p)
			slot[i] = NULL;
	if (p->fd >= 0) {
		(void)epoll_ctl(f->epfd, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
	}
	sj_buf_free(&p->in);
	sj_buf_free(&p->out);
	sj_buf_free(&p->subs);
	free(p);
}

static int peer_write(struct sj_zfront *f, struct sj_zfront_peer *p)
{
	return sj_evio_send(f->epfd, p->fd, p, &p->out, &p->out_armed);
}

static int on_accept(struct sj_zfront *f, int ch, struct sj_err *err)
{
	uint8_t g[SJ_ZMTP_GREETING_BYTES];

	for (;;) {
		int fd = accept4(f->listen_fd[ch], NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		int slot = -1, one = 1;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				note(f, 0, "%s channel: accept: %s",
				     sj_channel_name(ch), strerror(errno));
			return 0;
		}
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS && slot < 0; i++)
			if (f->peer[ch][i] == NULL)
				slot = i;
		if (slot < 0) {
			note(f, 0, "%s channel: more than %d clients; one "
			     "more refused", sj_channel_name(ch),
			     SJ_ZFRONT_MAX_PEERS);
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));	/* fails on ipc: no matter */
		struct sj_zfront_peer *p = calloc(1, sizeof(*p));
		if (p == NULL) {
			close(fd);
			return sj_err_set(err, "out of memory");
		}
		p->fd = fd;
		p->ch = ch;
		p->serial = ++f->next_serial;
		p->state = SJ_ZMTP_GREETING;
		f->peer[ch][slot] = p;
		sj_zmtp_greeting(g);
		if (sj_buf_reserve(&p->out, sizeof(g)) ||
		    watch(f, p, EPOLL_CTL_ADD)) {
			peer_free(f, p);
			return sj_err_set(err, "out of memory");
		}
		memcpy(p->out.p, g, sizeof(g));
		p->out.len = sizeof(g);
		if (sj_zmtp_put_ready(&p->out, is_router(ch) ? "ROUTER" :
				      "XPUB", NULL, 0) ||
		    peer_write(f, p))
			peer_free(f, p);
	}
}

static int peer_type_ok(int ch, const char *type)
{
	static const char *const router_peers[] = { "DEALER", "REQ", "ROUTER",
						    NULL };
	static const char *const xpub_peers[] = { "SUB", "XSUB", NULL };

	for (const char *const *t = is_router(ch) ? router_peers : xpub_peers;
	     *t != NULL; t++)
		if (strcmp(type, *t) == 0)
			return 1;
	return 0;
}

static int rid_taken(struct sj_zfront *f, int ch, const uint8_t *rid,
		     size_t n)
{
	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
		struct sj_zfront_peer *q = f->peer[ch][i];

		if (q != NULL && q->state == SJ_ZMTP_OPEN && q->rid_len == n &&
		    memcmp(q->rid, rid, n) == 0)
			return 1;
	}
	return 0;
}

/* The peer's READY: its type, and its routing id.  Returns 0, or 1 to
 * drop it. */
static int peer_ready(struct sj_zfront *f, struct sj_zfront_peer *p,
		      const uint8_t *body, size_t n)
{
	const uint8_t *id;
	size_t idlen;
	char type[16];

	if (sj_zmtp_ready_parse(body, n, type, sizeof(type), &id, &idlen) ||
	    !peer_type_ok(p->ch, type)) {
		note(f, 0, "%s channel: a client that is not a %s's peer "
		     "(%s); dropped", sj_channel_name(p->ch),
		     is_router(p->ch) ? "ROUTER" : "XPUB",
		     type[0] ? type : "no READY");
		return 1;
	}
	if (is_router(p->ch)) {
		/* Like libzmq: an id of its own choosing, unless empty or
		 * starting with 0 (ours are); a duplicate is refused. */
		if (idlen > 0 && idlen <= sizeof(p->rid) && id[0] != 0) {
			if (rid_taken(f, p->ch, id, idlen)) {
				note(f, 0, "%s channel: a second client with "
				     "the same identity; dropped",
				     sj_channel_name(p->ch));
				return 1;
			}
			memcpy(p->rid, id, idlen);
			p->rid_len = idlen;
		} else {
			uint32_t v = ++f->next_id;

			p->rid[0] = 0;
			sj_put_be32(p->rid + 1, v);
			p->rid_len = 5;
		}
	}
	p->state = SJ_ZMTP_OPEN;
	return 0;
}

/* A subscription (1) or unsubscription (0) from an iopub client.
 * Returns 1 if it travels on toward the kernel, 0 if not, -1 to drop the
 * client. */
static int subscription(struct sj_zfront_peer *p, const uint8_t *body,
			size_t n)
{
	struct sj_buf *s = &p->subs;

	if (n == 0 || body[0] > 1 || n - 1 > SUB_MAX)
		return -1;
	if (body[0] == 1) {
		if (sj_buf_reserve(s, 4 + n - 1))
			return -1;
		sj_put_be32(s->p + s->len, (uint32_t)(n - 1));
		memcpy(s->p + s->len + 4, body + 1, n - 1);
		s->len += 4 + n - 1;
		return 1;
	}
	for (size_t i = 0; i < s->len;) {
		size_t l = sj_get_be32(s->p + i);

		if (l == n - 1 && memcmp(s->p + i + 4, body + 1, l) == 0) {
			memmove(s->p + i, s->p + i + 4 + l,
				s->len - i - 4 - l);
			s->len -= 4 + l;
			break;
		}
		i += 4 + l;
	}
	return 0;
}

/* Returns 0, 1 to drop the peer, -1 if delivery failed. */
static int peer_input(struct sj_zfront *f, struct sj_zfront_peer *p)
{
	struct sj_buf *b = &p->in;

	for (;;) {
		const uint8_t *q = b->p + b->off, *body;
		size_t avail = b->len - b->off, n, end;
		uint8_t flags;
		long fl;
		int command, nframes;

		if (p->state == SJ_ZMTP_GREETING) {
			if (avail < SJ_ZMTP_GREETING_BYTES)
				break;
			if (!sj_zmtp_greeting_ok(q)) {
				note(f, 0, "%s channel: a client that does not "
				     "speak ZMTP 3 with the NULL mechanism; "
				     "dropped", sj_channel_name(p->ch));
				return 1;
			}
			b->off += SJ_ZMTP_GREETING_BYTES;
			p->state = SJ_ZMTP_READY_WAIT;
			continue;
		}
		if (p->state == SJ_ZMTP_READY_WAIT) {
			fl = sj_zmtp_parse_frame(q, avail, &flags, &body, &n);
			if (fl == 0 && avail > HANDSHAKE_FRAME_MAX)
				fl = -1;
			if (fl == 0)
				break;
			if (fl < 0 || !(flags & SJ_ZMTP_COMMAND) ||
			    peer_ready(f, p, body, n))
				return 1;
			b->off += (size_t)fl;
			continue;
		}
		fl = sj_zmtp_message_len(q, avail, &command, &nframes);
		if (fl < 0)
			return 1;
		if (fl == 0)
			break;
		end = (size_t)fl;
		if (!command && is_router(p->ch)) {
			if (f->on_message(f->arg, p->ch, p->rid, p->rid_len, q,
					  end))
				return -1;
		} else if (!command) {
			/* iopub: one frame, a (un)subscription. */
			int r = -1;

			if (nframes == 1 &&
			    sj_zmtp_parse_frame(q, end, &flags, &body, &n) > 0)
				r = subscription(p, body, n);

			if (r < 0) {
				note(f, 0, "iopub channel: a client sent "
				     "something other than a subscription; "
				     "dropped");
				return 1;
			}
			if (r == 1 && f->on_message(f->arg, p->ch, NULL, 0, q,
						    end))
				return -1;
		}
		b->off += end;
	}
	sj_buf_consumed(b);
	return 0;
}

static int peer_event(struct sj_zfront *f, struct sj_zfront_peer *p,
		      uint32_t ev, struct sj_err *err)
{
	int r = 0;

	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		struct sj_buf *b = &p->in;
		ssize_t got;

		sj_buf_compact(b);
		if (sj_buf_reserve(b, READ_CHUNK))
			return sj_err_set(err, "out of memory");
		do
			got = recv(p->fd, b->p + b->len, b->cap - b->len, 0);
		while (got < 0 && errno == EINTR);
		if (got == 0 || (got < 0 && errno != EAGAIN))
			r = 1;
		else if (got > 0) {
			b->len += (size_t)got;
			r = peer_input(f, p);
			if (r < 0)
				return sj_err_set(err, "%s channel: delivery "
						  "failed",
						  sj_channel_name(p->ch));
		}
	}
	if (r == 0 && p->out.off < p->out.len && peer_write(f, p))
		r = 1;
	if (r == 1)
		peer_free(f, p);
	return 0;
}

static int known(struct sj_zfront *f, void *ptr)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
			if (f->peer[ch][i] == ptr)
				return 1;
	return 0;
}

int sj_zfront_service(struct sj_zfront *f, struct sj_err *err)
{
	struct epoll_event ev[32];
	int n = epoll_wait(f->epfd, ev, 32, 0);

	if (n < 0)
		return errno == EINTR ? 0 :
		       sj_err_errno(err, errno, "epoll_wait");
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 < SJ_NCHANNELS) {
			if (on_accept(f, (int)ev[i].data.u64, err))
				return -1;
		} else if (known(f, ev[i].data.ptr) &&
			   peer_event(f, ev[i].data.ptr, ev[i].events, err)) {
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ sending */

static int subscribed(const struct sj_zfront_peer *p, const uint8_t *topic,
		      size_t n)
{
	const struct sj_buf *s = &p->subs;

	for (size_t i = 0; i < s->len;) {
		size_t l = sj_get_be32(s->p + i);

		if (l <= n && memcmp(s->p + i + 4, topic, l) == 0)
			return 1;
		i += 4 + l;
	}
	return 0;
}

/* Writes frames [from, len) of a link-layout message to p. */
static int put_frames(struct sj_zfront_peer *p, const uint8_t *fr,
		      size_t from, size_t len)
{
	for (size_t i = from; i < len;) {
		size_t n = sj_get_be32(fr + i);
		int more = i + 4 + n < len;

		if (sj_zmtp_put_frame(&p->out, more ? SJ_ZMTP_MORE : 0,
				      fr + i + 4, n))
			return -1;
		i += 4 + n;
	}
	return 0;
}

int sj_zfront_send(struct sj_zfront *f, int ch, const uint8_t *fr,
		   size_t len, struct sj_err *err)
{
	size_t n0;

	sj_zfront_abort_stream(f, ch);	/* one left unfinished */
	if (len < 4)
		return 1;	/* an empty message has no one to go to */
	n0 = sj_get_be32(fr);
	if (!is_router(ch)) {
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
			struct sj_zfront_peer *p = f->peer[ch][i];

			if (p != NULL && p->state == SJ_ZMTP_OPEN &&
			    subscribed(p, fr + 4, n0) &&
			    put_frames(p, fr, 0, len))
				return sj_err_set(err, "out of memory");
		}
		return 0;
	}
	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
		struct sj_zfront_peer *p = f->peer[ch][i];

		if (p == NULL || p->state != SJ_ZMTP_OPEN ||
		    p->rid_len != n0 || memcmp(p->rid, fr + 4, n0) != 0)
			continue;
		if (4 + n0 == len)
			return 0;	/* nothing after the id */
		if (put_frames(p, fr, 4 + n0, len))
			return sj_err_set(err, "out of memory");
		return 0;
	}
	return 1;
}

/* The entry at e: header word, START's more flag and total, its bytes. */
struct entry {
	uint32_t head;
	int more;
	size_t total;
	const uint8_t *data;
	size_t n;
};

static size_t next_entry(const uint8_t *e, size_t at, struct entry *x)
{
	x->head = sj_get_be32(e + at);
	x->n = x->head & SJ_LINK_LEN_MASK;
	at += 4;
	x->more = 0;
	x->total = x->n;
	if (x->head & SJ_LINK_START) {
		x->more = e[at];
		x->total = sj_get_be32(e + at + 1);
		at += 5;
	}
	x->data = e + at;
	return at + x->n;
}

static void choose_targets(struct sj_zfront *f, int ch,
			   struct sj_zfront_stream *st, const struct entry *x)
{
	st->n = 0;
	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
		struct sj_zfront_peer *p = f->peer[ch][i];
		int want;

		if (p == NULL || p->state != SJ_ZMTP_OPEN)
			continue;
		want = is_router(ch) ?
		       p->rid_len == x->n && !(x->head & SJ_LINK_START) &&
		       memcmp(p->rid, x->data, x->n) == 0 :
		       subscribed(p, x->data, x->n);
		if (want) {
			st->slot[st->n] = i;
			st->serial[st->n] = p->serial;
			st->n++;
		}
	}
}

void sj_zfront_abort_stream(struct sj_zfront *f, int ch)
{
	for (int c = ch < 0 ? 0 : ch; c < (ch < 0 ? SJ_NCHANNELS : ch + 1);
	     c++) {
		struct sj_zfront_stream *st = &f->stream[c];

		for (int i = 0; st->active && i < st->n; i++) {
			struct sj_zfront_peer *p = f->peer[c][st->slot[i]];

			if (p != NULL && p->serial == st->serial[i]) {
				note(f, 1, "%s channel: a client dropped: the "
				     "message it was getting in parts was cut",
				     sj_channel_name(c));
				peer_free(f, p);
			}
		}
		st->active = 0;
		st->n = 0;
	}
}

int sj_zfront_stream(struct sj_zfront *f, int kind, const uint8_t *e,
		     size_t len, struct sj_err *err)
{
	int ch = kind & ~(SJ_LINK_CONT | SJ_LINK_MORE);
	struct sj_zfront_stream *st = &f->stream[ch];
	size_t at = 0;
	struct entry x;

	if (!(kind & SJ_LINK_CONT)) {
		sj_zfront_abort_stream(f, ch);	/* one left unfinished */
		if (len == 0)
			return 0;
		size_t next = next_entry(e, 0, &x);
		choose_targets(f, ch, st, &x);
		st->active = 1;
		if (is_router(ch))
			at = next;	/* the routing id goes no further */
	}
	if (!st->active)
		return 0;	/* the rest of a message with nobody to go to */
	while (at < len) {
		at = next_entry(e, at, &x);
		for (int i = 0; i < st->n; i++) {
			struct sj_zfront_peer *p = f->peer[ch][st->slot[i]];
			uint8_t flags;
			int r;

			if (p == NULL || p->serial != st->serial[i])
				continue;	/* gone meanwhile */
			if (x.head & SJ_LINK_PIECE) {
				r = sj_buf_reserve(&p->out, x.n);
				if (r == 0 && x.n > 0) {
					memcpy(p->out.p + p->out.len, x.data,
					       x.n);
					p->out.len += x.n;
				}
			} else if (x.head & SJ_LINK_START) {
				flags = x.more ? SJ_ZMTP_MORE : 0;
				r = sj_zmtp_put_head(&p->out, flags, x.total);
				if (r == 0 && sj_buf_reserve(&p->out, x.n) == 0) {
					if (x.n > 0)
						memcpy(p->out.p + p->out.len,
						       x.data, x.n);
					p->out.len += x.n;
				} else {
					r = -1;
				}
			} else {
				/* A whole frame: the message goes on after
				 * it unless it is the last entry of its last
				 * record. */
				int more = at < len || (kind & SJ_LINK_MORE);

				r = sj_zmtp_put_frame(&p->out, more ?
						      SJ_ZMTP_MORE : 0,
						      x.data, x.n);
			}
			if (r)
				return sj_err_set(err, "out of memory");
		}
	}
	if (!(kind & SJ_LINK_MORE))
		st->active = 0;
	return 0;
}

void sj_zfront_flush(struct sj_zfront *f)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
			struct sj_zfront_peer *p = f->peer[ch][i];

			if (p != NULL && p->out.off < p->out.len &&
			    peer_write(f, p))
				peer_free(f, p);
		}
}

static int unsent(struct sj_zfront *f, struct pollfd *pfd, int max)
{
	int n = 0;

	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS && n < max; i++) {
			struct sj_zfront_peer *p = f->peer[ch][i];

			if (p != NULL && p->out.off < p->out.len) {
				pfd[n].fd = p->fd;
				pfd[n].events = POLLOUT;
				n++;
			}
		}
	return n;
}

void sj_zfront_flush_wait(struct sj_zfront *f, int timeout_ms)
{
	struct pollfd pfd[SJ_NCHANNELS * SJ_ZFRONT_MAX_PEERS];
	struct timespec t0, t;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((n = unsent(f, pfd, SJ_NCHANNELS * SJ_ZFRONT_MAX_PEERS)) > 0) {
		long spent;

		clock_gettime(CLOCK_MONOTONIC, &t);
		spent = (t.tv_sec - t0.tv_sec) * 1000L +
			(t.tv_nsec - t0.tv_nsec) / 1000000L;
		if (spent >= timeout_ms ||
		    poll(pfd, (nfds_t)n, (int)(timeout_ms - spent)) <= 0)
			return;
		sj_zfront_flush(f);
	}
}

/* ------------------------------------------------------------ open/close */

int sj_zfront_open(struct sj_zfront *f, const char *const *endpoints,
		   sj_zfront_message_fn on_message, void *arg,
		   sj_note_fn note_fn, void *note_arg, struct sj_err *err)
{
	memset(f, 0, sizeof(*f));
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		f->listen_fd[ch] = -1;
	f->on_message = on_message;
	f->arg = arg;
	f->note = note_fn;
	f->note_arg = note_arg;
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (f->epfd < 0)
		return sj_err_errno(err, errno, "epoll_create1");
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		if (listen_on(f, ch, endpoints[ch], err))
			return -1;
	return 0;
}

void sj_zfront_close(struct sj_zfront *f)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
			if (f->peer[ch][i] != NULL)
				peer_free(f, f->peer[ch][i]);
		if (f->listen_fd[ch] >= 0)
			close(f->listen_fd[ch]);
		f->listen_fd[ch] = -1;
		if (f->ipc_path[ch][0] != '\0')
			(void)unlink(f->ipc_path[ch]);
		f->ipc_path[ch][0] = '\0';
	}
	if (f->epfd >= 0)
		close(f->epfd);
	f->epfd = -1;
}
