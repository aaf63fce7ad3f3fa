// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The link's events: what the event loop (evloop.h) hands it (a
 * connection's input, room to write, the timer, the listening socket), in
 * the order that keeps the login shim's connection from being pushed out;
 * opening,
 * flushing and closing it.  The parts: link_hs.h (greeting, prologue,
 * handshake), link_seal.h (transport), link_rec.h (records), link_conn.h
 * (connections).
 */
#include "link.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evio.h"
#include "link_conn.h"
#include "link_hs.h"
#include "link_rec.h"
#include "link_seal.h"

/* A connection whose server has not proven itself this long after
 * connecting is given up and made anew: something else may hold the port
 * (the node shim gone, another program there), or the node shim is stuck. */
#define HANDSHAKE_TIMEOUT_MS 5000

/* The client's first transport message holds its HELLO record alone (21
 * bytes sealed): anything longer from a connection not yet proven is
 * refused at its length. */
#define HELLO_MSG_MAX 64

/* The tags (the owner's part) of the listening socket and the timer; a
 * connection's is its serial, from FIRST_SERIAL on. */
#define TAG_LISTEN 0
#define TAG_TIMER 1
#define FIRST_SERIAL 2

int sj_link_hold(struct sj_link *L, int hold)
{
	struct sj_link_conn *c = L->live;

	return c == NULL ? 0 :
	       sj_evio_hold(L->loop, c->fd, sj_link_tag(c), &c->ev, hold);
}

size_t sj_link_queued(const struct sj_link *L)
{
	const struct sj_link_conn *c = L->live;

	return L->backlog.len + (c != NULL ? c->out.len - c->out.off : 0);
}

/* The greeting, the handshake message and the transport messages in c's
 * input: MORE, DROP (the peer broke the protocol or failed to prove
 * itself: logged), or FATAL on a failure of ours (err says). */
static enum sj_io_result conn_input(struct sj_link *L, struct sj_link_conn *c,
				    struct sj_err *err)
{
	struct sj_buf *b = &c->in;

	for (;;) {
		/* The bytes not yet opened: after the plaintext and gap. */
		size_t used = c->plain + c->gap;
		size_t have = b->len - b->off - used;
		enum sj_io_result r;

		if (c->state == SJ_CONN_GREETING) {
			if (have < SJ_LINK_GREETING_BYTES)
				break;
			r = sj_link_greeted(L, c);
			if (r != SJ_IO_MORE)
				return r;
			continue;
		}
		if (have < SJ_LINK_MSG_HEAD)
			break;
		uint8_t *w = b->p + b->off + used;
		size_t ml = (size_t)w[0] << 8 | w[1];
		int ok = c->state == SJ_CONN_HANDSHAKE ?
			 ml == SJ_NOISE_KK_MSG_LEN(0) :
			 ml >= SJ_NOISE_TAGLEN &&
			 (c->state == SJ_CONN_LIVE || ml <= HELLO_MSG_MAX);
		if (!ok) {
			if (c->state != SJ_CONN_LIVE)
				refused(L, "link: refused %s: a message of "
					"%zu bytes", c->peer, ml);
			else
				note(L, 0, "link: %s sent a message of %zu "
				     "bytes; connection dropped", c->peer,
				     ml);
			return SJ_IO_DROP;
		}
		if (have - SJ_LINK_MSG_HEAD < ml)
			break;	/* at most 64 KiB: the buffer has room */
		if (c->state == SJ_CONN_HANDSHAKE) {
			/* Before any plaintext: nothing precedes it. */
			b->off += SJ_LINK_MSG_HEAD + ml;
			r = sj_link_handshake(L, c, w + SJ_LINK_MSG_HEAD, ml,
					      err);
			if (r != SJ_IO_MORE)
				return r;
			continue;
		}
		uint8_t *m = w + SJ_LINK_MSG_HEAD;
		size_t pl;
		if (sj_link_open_in_place(&c->rx, L->rekey_every, m, ml,
					  &pl)) {
			if (c->state == SJ_CONN_LIVE) {
				note(L, 0, "link: a message from %s failed "
				     "authentication; connection dropped",
				     c->peer);
			} else {
				refused(L, "link: refused %s: it does not "
					"hold the login shim's key", c->peer);
				L->refused++;
			}
			return SJ_IO_DROP;
		}
		sj_link_plain_join(c, ml, pl);
		r = c->state == SJ_CONN_UNPROVEN ?
		    sj_link_first_message(L, c, err) :
		    sj_link_records(L, c, err);
		if (r != SJ_IO_MORE)
			return r;
	}
	sj_buf_consumed(b);
	return SJ_IO_MORE;
}

/* One read of c and what it brought: as conn_input. */
static enum sj_io_result conn_read(struct sj_link *L, struct sj_link_conn *c,
				   struct sj_err *err)
{
	size_t got;
	enum sj_io_result r = sj_evio_read(c->fd, &c->in,
					   sj_link_read_chunk(c), &got);

	if (r == SJ_IO_FATAL) {
		sj_err_set(err, "out of memory");
		return SJ_IO_FATAL;
	}
	if (r == SJ_IO_DROP) {
		if (errno == 0)
			note(L, 1, "link: %s closed the connection", c->peer);
		else
			note(L, 1, "link: %s: %s", c->peer, strerror(errno));
		return SJ_IO_DROP;
	}
	return got > 0 ? conn_input(L, c, err) : SJ_IO_MORE;
}

static int on_timer(struct sj_link *L, struct sj_err *err)
{
	uint64_t ticks;
	struct sj_link_conn *c = L->pending[0];

	if (read(L->timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return 0;	/* disarmed meanwhile */
	if (L->server) {
		if (L->live == NULL)
			L->gone = 1;
		return 0;
	}
	if (L->live != NULL)
		return 0;
	if (c == NULL)
		return sj_link_connect_now(L, err);
	if (c->state == SJ_CONN_CONNECTING)
		note(L, 1, "link: no answer from %s:%d; connecting again",
		     L->host, L->port);
	else
		note(L, 0, "link: %s:%d did not complete the link's "
		     "handshake within %d ms; connecting again", L->host,
		     L->port, L->handshake_ms);
	sj_link_conn_drop(L, c);	/* arms the retry */
	return 0;
}

/* An event of c's: 0, or -1 when the shim cannot go on (err says). */
static int on_conn(struct sj_link *L, struct sj_link_conn *c, uint32_t ev,
		   struct sj_err *err)
{
	enum sj_io_result r = SJ_IO_MORE;

	if (c->state == SJ_CONN_CONNECTING && (ev & (EPOLLOUT | EPOLLERR |
						     EPOLLHUP))) {
		int e = 0;
		socklen_t el = sizeof(e);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e != 0) {
			note(L, 1, "link: cannot connect to %s: %s", c->peer,
			     strerror(e));
			sj_link_conn_drop(L, c);
			return 0;
		}
		c->state = SJ_CONN_GREETING;
		if (sj_link_arm(L, L->handshake_ms))
			return sj_err_errno(err, errno, "timerfd_settime");
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		r = conn_read(L, c, err);
		if (r == SJ_IO_FATAL)
			return -1;
	}
	if (r == SJ_IO_MORE && c->out.off < c->out.len)
		r = sj_link_conn_write(L, c);
	if (r == SJ_IO_DROP)
		sj_link_conn_drop(L, c);
	return 0;
}

/* The loop's handler: a connection's event now; the listening socket's
 * and the timer's once the batch's connections have had theirs. */
static int on_event(void *arg, uint64_t tag, uint32_t events,
		    struct sj_err *err)
{
	struct sj_link *L = arg;
	struct sj_link_conn *c;

	if (tag == TAG_LISTEN)
		L->accept_due = 1;
	else if (tag == TAG_TIMER)
		L->timer_due = 1;
	else if ((c = sj_link_conn_by_serial(L, tag)) != NULL)
		return on_conn(L, c, events, err);
	return 0;	/* (none if dropped by an earlier event) */
}

/* Connections first: a newcomer accepted before them could push out one
 * whose proof is already waiting to be read. */
static int on_batch_end(void *arg, struct sj_err *err)
{
	struct sj_link *L = arg;
	int timer = L->timer_due, accept = L->accept_due;

	L->timer_due = L->accept_due = 0;
	if ((timer && on_timer(L, err)) ||
	    (accept && sj_link_on_accept(L, err)))
		return -1;
	return 0;
}

int sj_link_flush(struct sj_link *L, struct sj_err *err)
{
	(void)err;
	if (L->live != NULL && L->live->out.off < L->live->out.len &&
	    sj_link_conn_write(L, L->live) == SJ_IO_DROP)
		sj_link_lost_live(L);
	return 0;
}

int sj_link_unsent(const struct sj_link *L)
{
	return L->live != NULL && L->live->out.off < L->live->out.len;
}

int sj_link_flush_wait(struct sj_link *L, int timeout_ms)
{
	while (sj_link_unsent(L)) {
		struct pollfd p = { .fd = L->live->fd, .events = POLLOUT };
		int r = poll(&p, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (sj_link_conn_write(L, L->live) == SJ_IO_DROP) {
			sj_link_lost_live(L);
			return -1;
		}
	}
	return 0;
}

static int open_common(struct sj_link *L, struct sj_evloop *lp, int server,
		       const struct sj_link_keys *keys,
		       sj_link_deliver_fn deliver, void *deliver_arg,
		       sj_note_fn note_fn, void *note_arg,
		       struct sj_err *err)
{
	memset(L, 0, sizeof(*L));
	L->server = server;
	L->loop = lp;
	L->listen_fd = L->timer_fd = -1;
	/* An empty prologue would still make a handshake: one not tied to
	 * this rendezvous. */
	if (!keys->bound)
		return sj_err_set(err, "link: keys not bound to a rendezvous "
				  "(sj_link_bind)");
	L->keys = *keys;
	L->deliver = deliver;
	L->deliver_arg = deliver_arg;
	L->note = note_fn;
	L->note_arg = note_arg;
	L->handshake_ms = HANDSHAKE_TIMEOUT_MS;
	L->rekey_every = SJ_LINK_REKEY_EVERY;
	L->next_serial = FIRST_SERIAL;
	if (sodium_init() < 0)
		return sj_err_set(err, "link: libsodium failed to start");
	if (sj_noise_kk_init(&L->hs_template, !server, L->keys.prologue,
			     sizeof(L->keys.prologue), L->keys.self_secret,
			     L->keys.peer_public, err))
		return sj_err_wrap(err, "link");
	if (sj_evloop_timer(lp, SJ_EV_TAG(SJ_EV_OWNER_LINK, TAG_TIMER),
			    &L->timer_fd, err))
		return sj_err_wrap(err, "link");
	sj_evloop_handler(lp, SJ_EV_OWNER_LINK, on_event, on_batch_end, L);
	return 0;
}

int sj_link_open_client(struct sj_link *L, struct sj_evloop *lp,
			const char *host, int port,
			const char *source, const struct sj_link_keys *keys,
			sj_link_deliver_fn deliver, void *deliver_arg,
			sj_note_fn note_fn, void *note_arg,
			struct sj_err *err)
{
	if (open_common(L, lp, 0, keys, deliver, deliver_arg, note_fn,
			note_arg, err))
		return -1;
	if (strlen(host) >= sizeof(L->host) ||
	    (source != NULL && strlen(source) >= sizeof(L->source)))
		return sj_err_set(err, "link: address too long");
	strcpy(L->host, host);
	if (source != NULL)
		strcpy(L->source, source);
	L->port = port;
	return sj_link_connect_now(L, err);
}

int sj_link_open_server(struct sj_link *L, struct sj_evloop *lp,
			int listen_fd, int grace_s,
			const char *peer_only, const struct sj_link_keys *keys,
			sj_link_deliver_fn deliver, void *deliver_arg,
			sj_note_fn note_fn, void *note_arg,
			struct sj_err *err)
{
	if (open_common(L, lp, 1, keys, deliver, deliver_arg, note_fn,
			note_arg, err)) {
		close(listen_fd);
		return -1;
	}
	L->listen_fd = listen_fd;
	if (peer_only != NULL) {
		struct addrinfo hints = { .ai_flags = AI_NUMERICHOST,
					  .ai_socktype = SOCK_STREAM };
		struct addrinfo *ai = NULL;
		int bad = getaddrinfo(peer_only, NULL, &hints, &ai) != 0 ||
			  sj_addr_key(ai->ai_addr, ai->ai_addrlen,
				      L->peer_only) != 0;

		if (ai != NULL)
			freeaddrinfo(ai);
		if (bad)
			return sj_err_set(err, "link: %s is not a numeric "
					  "address", peer_only);
		L->peer_only_set = 1;
		snprintf(L->peer_only_text, sizeof(L->peer_only_text), "%s",
			 peer_only);
	}
	L->grace_s = grace_s;
	if (sj_evio_watch(lp, EPOLL_CTL_ADD, listen_fd,
			  SJ_EV_TAG(SJ_EV_OWNER_LINK, TAG_LISTEN), 0))
		return sj_err_errno(err, errno, "link: epoll_ctl");
	if (sj_link_arm(L, (long)grace_s * 1000))
		return sj_err_errno(err, errno, "link: timerfd_settime");
	return 0;
}

void sj_link_close(struct sj_link *L)
{
	sj_link_conn_free(L, L->live);
	L->live = NULL;
	for (int i = 0; i < SJ_LINK_PENDING; i++) {
		sj_link_conn_free(L, L->pending[i]);
		L->pending[i] = NULL;
	}
	if (L->loop != NULL) {
		sj_evio_close(L->loop, &L->listen_fd,
			      SJ_EV_TAG(SJ_EV_OWNER_LINK, TAG_LISTEN));
		sj_evio_close(L->loop, &L->timer_fd,
			      SJ_EV_TAG(SJ_EV_OWNER_LINK, TAG_TIMER));
		sj_evloop_handler(L->loop, SJ_EV_OWNER_LINK, NULL, NULL, NULL);
	}
	L->loop = NULL;
	sj_buf_free(&L->backlog);
	sj_buf_free(&L->stage);
	sodium_memzero(&L->keys, sizeof(L->keys));
	sj_noise_kk_wipe(&L->hs_template);
	sj_note_flush(&L->refusals, L->note, L->note_arg);
}
