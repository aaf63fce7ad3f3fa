// SPDX-License-Identifier: GPL-2.0-or-later
#include "jupyter_listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "evio.h"
#include "jupyter_listener_peer.h"
#include "netaddr.h"
#include "peercred.h"

#define READ_CHUNK (64 * 1024)
/* Subscriptions one client may hold (Jupyter's hold one); more, or one
 * longer than SJ_ZMTP_TOPIC_MAX, and the client is dropped. */
#define SUBS_PER_PEER 32
/* A message from a client goes to the kernel in one record of the link:
 * a bigger one drops its client (libzmq would take it whole).  On iopub
 * only a subscription comes: kind, one frame, its flag and topic. */
#define MESSAGE_MAX (SJ_LINK_RECORD_MAX - SJ_LINK_TAG_BYTES)
#define SUBSCRIPTION_MAX (1 + SJ_LINK_ENTRY_HEAD + 1 + SJ_ZMTP_TOPIC_MAX)
/* Heartbeat pings are not signed: from a client on another host only a
 * ping's size (jupyter_client's is 4 bytes, a uuid 36) crosses the link. */
#define REMOTE_PING_MAX 256

/*
 * Jupyter picks its ports by binding port 0 and closing again, then starts
 * us and at once connects its clients.  Until we have bound them, any
 * other socket on the machine may take one of those very ports: a connect
 * attempt as its source port for a moment, another login shim's
 * rendezvous socket (port 0) until its kernel has answered.  No event says
 * when it is free again, so: a bounded retry, 10 s at most.
 */
#define BIND_RETRIES 1000
#define BIND_RETRY_NS (10 * 1000000L)

#define note(f, debug, ...) sj_notef((f)->note, (f)->note_arg, debug, __VA_ARGS__)

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
	if (sj_evio_watch(f->loop, EPOLL_CTL_ADD, fd,
			  SJ_EV_TAG(SJ_EV_OWNER_LISTENER, ch), 0) != 0)
		return sj_err_errno(err, errno, "epoll_ctl");
	return 0;
}

/* ------------------------------------------------------------ peers */

/* A peer's tag, our 56 bits of it: its serial (40 bits: they never
 * wrap), channel and slot.  Serials start at 1, so a peer's tag is never
 * a listening socket's (its channel, 0-4), and never repeat, so an event
 * for a peer already freed finds nobody. */
static uint64_t tag_of(const struct sj_zfront_peer *p)
{
	return (uint64_t)p->serial << 16 | (uint64_t)p->ch << 8 |
	       (uint64_t)p->slot;
}

static uint64_t loop_tag(const struct sj_zfront_peer *p)
{
	return SJ_EV_TAG(SJ_EV_OWNER_LISTENER, tag_of(p));
}

static struct sj_zfront_peer *peer_of_tag(struct sj_zfront *f, uint64_t tag)
{
	unsigned ch = (tag >> 8) & 0xff, slot = tag & 0xff;
	struct sj_zfront_peer *p;

	if (ch >= SJ_NCHANNELS || slot >= SJ_ZFRONT_MAX_PEERS)
		return NULL;
	p = f->peer[ch][slot];
	return p != NULL && tag_of(p) == tag ? p : NULL;
}

/* The channels whose input waits while the link is full: requests.  A
 * ping or a subscription is small and comes seldom. */
static int holdable(int ch)
{
	return ch == SJ_SHELL || ch == SJ_STDIN || ch == SJ_CONTROL;
}

static int watch(struct sj_zfront *f, struct sj_zfront_peer *p, int op)
{
	if (f->held && holdable(p->ch))
		p->ev |= SJ_EV_HELD;
	return sj_evio_watch(f->loop, op, p->fd, loop_tag(p), p->ev);
}

void sj_zfront_peer_free(struct sj_zfront *f, struct sj_zfront_peer *p)
{
	f->peer[p->ch][p->slot] = NULL;
	sj_evio_close(f->loop, &p->fd, loop_tag(p));
	sj_buf_free(&p->in);
	sj_buf_free(&p->out);
	sj_zmtp_topics_free(&p->subs);
	free(p);
}

int sj_zfront_peer_write(struct sj_zfront *f, struct sj_zfront_peer *p)
{
	return sj_evio_send(f->loop, p->fd, loop_tag(p), &p->out, &p->ev);
}

/* A free slot on ch.  With all taken, the oldest client still in its
 * handshake makes room (one that connects and says nothing must not hold
 * a slot for good); with all of them open, none: -1. */
static int free_slot(struct sj_zfront *f, int ch)
{
	struct sj_zfront_peer *oldest = NULL;

	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
		struct sj_zfront_peer *p = f->peer[ch][i];

		if (p == NULL)
			return i;
		if (p->state != SJ_ZMTP_OPEN &&
		    (oldest == NULL || p->serial < oldest->serial))
			oldest = p;
	}
	if (oldest == NULL)
		return -1;
	int slot = oldest->slot;
	note(f, 1, "%s channel: a client that never finished its handshake "
	     "makes room for a new one", sj_channel_name(ch));
	sj_zfront_peer_free(f, oldest);
	return slot;
}

#define refused(f, ...) \
	sj_notef_limited(&(f)->refusals, (f)->note, (f)->note_arg, __VA_ARGS__)

/* Whether the client on fd may stay: 1 as a local client of the owner
 * (or root, if root_too), 2 as a remote one whose messages are to be checked, 0 not
 * (and the line says why). */
static int admitted(struct sj_zfront *f, int ch, int fd)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	unsigned char key[SJ_ADDR_KEY_BYTES];
	enum sj_peer_kind kind;
	struct sj_err e;
	uid_t uid;

	if (sj_peer_uid(fd, &kind, &uid, &e) != 0) {
		refused(f, "%s channel: a client refused: who it is cannot be "
			"known (%s)", sj_channel_name(ch), e.msg);
		return 0;
	}
	if (kind == SJ_PEER_LOCAL) {
		if (uid == f->owner || (uid == 0 && f->root_too))
			return 1;
		refused(f, "%s channel: a client of uid %u refused: only the "
			"kernel's owner (uid %u) may connect",
			sj_channel_name(ch), (unsigned)uid,
			(unsigned)f->owner);
		return 0;
	}
	/* Not a socket of this host's: from loopback that means it has
	 * gone already. */
	if (getpeername(fd, (struct sockaddr *)&sa, &sl) != 0 ||
	    sj_addr_key((struct sockaddr *)&sa, sl, key) != 0 ||
	    sj_addr_key_loopback(key))
		return 0;
	if (!f->can_check) {
		refused(f, "%s channel: a client on another host refused: "
			"without a key and hmac-sha256 or hmac-sha512 in the "
			"connection file its messages cannot be checked",
			sj_channel_name(ch));
		return 0;
	}
	return 2;
}

static int on_accept(struct sj_zfront *f, int ch, struct sj_err *err)
{
	uint8_t g[SJ_ZMTP_GREETING_BYTES];

	for (;;) {
		int fd = accept4(f->listen_fd[ch], NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		int slot, one = 1;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				refused(f, "%s channel: accept: %s",
					sj_channel_name(ch), strerror(errno));
			return 0;
		}
		int who = admitted(f, ch, fd);
		if (who == 0) {
			close(fd);
			continue;
		}
		slot = free_slot(f, ch);
		if (slot < 0) {
			refused(f, "%s channel: more than %d clients; one "
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
		p->remote = who == 2;
		p->ch = ch;
		p->slot = slot;
		p->serial = ++f->next_serial;
		p->state = SJ_ZMTP_GREETING;
		f->peer[ch][slot] = p;
		sj_zmtp_greeting(g);
		if (sj_buf_reserve(&p->out, sizeof(g)) ||
		    watch(f, p, EPOLL_CTL_ADD)) {
			sj_zfront_peer_free(f, p);
			return sj_err_set(err, "out of memory");
		}
		memcpy(p->out.p, g, sizeof(g));
		p->out.len = sizeof(g);
		if (sj_zmtp_put_ready(&p->out, sj_zfront_router(ch) ? "ROUTER" :
				      "XPUB", NULL, 0) ||
		    sj_zfront_peer_write(f, p))
			sj_zfront_peer_free(f, p);
	}
}

static int peer_type_ok(int ch, const char *type)
{
	static const char *const router_peers[] = { "DEALER", "REQ", "ROUTER",
						    NULL };
	static const char *const xpub_peers[] = { "SUB", "XSUB", NULL };

	for (const char *const *t = sj_zfront_router(ch) ? router_peers : xpub_peers;
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

/* The peer's READY: its type, and its routing id. */
static enum sj_io_result peer_ready(struct sj_zfront *f,
				    struct sj_zfront_peer *p,
				    const uint8_t *body, size_t n)
{
	const uint8_t *id;
	size_t idlen;
	char type[16];

	if (sj_zmtp_ready_parse(body, n, type, sizeof(type), &id, &idlen) ||
	    !peer_type_ok(p->ch, type)) {
		refused(f, "%s channel: a client that is not a %s's peer "
			"(%s); dropped", sj_channel_name(p->ch),
			sj_zfront_router(p->ch) ? "ROUTER" : "XPUB",
			type[0] ? type : "no READY");
		return SJ_IO_DROP;
	}
	if (sj_zfront_router(p->ch)) {
		/* Like libzmq: an id of its own choosing, unless empty or
		 * starting with 0 (ours are); a duplicate is refused. */
		if (idlen > 0 && idlen <= sizeof(p->rid) && id[0] != 0) {
			if (rid_taken(f, p->ch, id, idlen)) {
				refused(f, "%s channel: a second client with "
					"the same identity; dropped",
					sj_channel_name(p->ch));
				return SJ_IO_DROP;
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
	return SJ_IO_MORE;
}

/* A subscription (1) or unsubscription (0) from an iopub client.
 * Returns 1 if it travels on toward the kernel, 0 if not, -1 to drop the
 * client.  Like libzmq's, a client's subscriptions are a set. */
static int subscription(struct sj_zfront_peer *p, const uint8_t *body,
			size_t n)
{
	if (n == 0 || body[0] > 1 || n - 1 > SJ_ZMTP_TOPIC_MAX)
		return -1;
	if (body[0] == 0) {
		sj_zmtp_topics_remove(&p->subs, body + 1, n - 1);
		return 0;
	}
	if (sj_zmtp_topics_find(&p->subs, body + 1, n - 1, 0) >= 0)
		return 0;
	if (p->subs.n == SUBS_PER_PEER ||
	    sj_zmtp_topics_add(&p->subs, body + 1, n - 1))
		return -1;
	return 1;
}

/* The size of p's message so far, as one link record: a bigger one could
 * not go on, and is not waited for. */
static size_t link_size(const struct sj_zfront_peer *p)
{
	const struct sj_zmtp_scan *s = &p->scan;

	return 1 + (sj_zfront_router(p->ch) ?
		    SJ_LINK_ENTRY_HEAD + p->rid_len : 0) +
	       SJ_LINK_ENTRY_HEAD * s->frames + s->body +
	       (s->next_size > 0 ? SJ_LINK_ENTRY_HEAD + s->next_size : 0);
}

/* One message from an open peer (at q, len bytes); FATAL if delivery
 * failed. */
static enum sj_io_result peer_message(struct sj_zfront *f,
				      struct sj_zfront_peer *p,
				      const uint8_t *q, size_t len,
				      int command, size_t nframes)
{
	const uint8_t *body;
	uint8_t flags;
	size_t n;
	int r = -1;	/* subscription()'s: 1 on, 0 not, -1 drop */

	if (command)
		return SJ_IO_MORE;	/* PING and the like: nothing for us */
	if (p->remote && p->ch == SJ_HB && len > REMOTE_PING_MAX) {
		refused(f, "hb channel: a client on another host sent a ping "
			"of more than %d bytes; dropped", REMOTE_PING_MAX);
		return SJ_IO_DROP;
	}
	if (p->remote && sj_zfront_router(p->ch) && p->ch != SJ_HB) {
		struct sj_err e;

		if (sj_jsign_check_zmtp(&f->sign, q, len, &e) != 0) {
			refused(f, "%s channel: a client on another host sent "
				"%s; not forwarded", sj_channel_name(p->ch),
				e.msg);
			return ++p->bad_signatures >= SJ_ZFRONT_BAD_SIGNATURES ?
			       SJ_IO_DROP : SJ_IO_MORE;
		}
	}
	if (sj_zfront_router(p->ch))
		return f->on_message(f->arg, p->ch, p->rid, p->rid_len, q,
				     len) ? SJ_IO_FATAL : SJ_IO_MORE;
	/* iopub: one frame, a (un)subscription. */
	if (nframes == 1 && sj_zmtp_parse_frame(q, len, &flags, &body, &n) > 0)
		r = subscription(p, body, n);
	if (r < 0) {
		refused(f, "iopub channel: a client sent something other than "
			"a subscription, or more than %d; dropped",
			SUBS_PER_PEER);
		return SJ_IO_DROP;
	}
	if (r == 1 && f->on_message(f->arg, p->ch, NULL, 0, q, len))
		return SJ_IO_FATAL;
	return SJ_IO_MORE;
}

/* What has arrived from p; FATAL if delivery failed. */
static enum sj_io_result peer_input(struct sj_zfront *f,
				    struct sj_zfront_peer *p)
{
	struct sj_buf *b = &p->in;

	while (p->state != SJ_ZMTP_OPEN) {
		const uint8_t *body;
		size_t n;
		int r = sj_zmtp_handshake(b, &p->state, &body, &n);

		if (r == 0)
			goto done;
		if (r == -1) {
			refused(f, "%s channel: a client that does not speak "
				"ZMTP 3 with the NULL mechanism; dropped",
				sj_channel_name(p->ch));
			return SJ_IO_DROP;
		}
		if (r == -2) {
			refused(f, "%s channel: a client without a READY; "
				"dropped", sj_channel_name(p->ch));
			return SJ_IO_DROP;
		}
		if (peer_ready(f, p, body, n) != SJ_IO_MORE)
			return SJ_IO_DROP;
	}
	for (;;) {
		const uint8_t *q = b->p + b->off;
		int command, r = sj_zmtp_scan(&p->scan, q, b->len - b->off,
					      &command);

		if (r < 0) {
			refused(f, "%s channel: a client sent a malformed "
				"frame; dropped", sj_channel_name(p->ch));
			return SJ_IO_DROP;
		}
		if (p->remote && link_size(p) > SJ_ZFRONT_REMOTE_MAX) {
			refused(f, "%s channel: a client on another host sent "
				"a message of more than %d MiB; dropped",
				sj_channel_name(p->ch),
				SJ_ZFRONT_REMOTE_MAX >> 20);
			return SJ_IO_DROP;
		}
		if (sj_zfront_router(p->ch) && link_size(p) > MESSAGE_MAX) {
			refused(f, "%s channel: a client sent a message of "
				"more than %u bytes, over the link's limit; "
				"dropped", sj_channel_name(p->ch), MESSAGE_MAX);
			return SJ_IO_DROP;
		}
		if (!sj_zfront_router(p->ch) && link_size(p) > SUBSCRIPTION_MAX) {
			refused(f, "iopub channel: a client sent a message of "
				"more than %d bytes, too long for a "
				"subscription; dropped", SUBSCRIPTION_MAX);
			return SJ_IO_DROP;
		}
		if (r == 0)
			break;
		size_t end = p->scan.end, nframes = p->scan.frames;
		memset(&p->scan, 0, sizeof(p->scan));
		enum sj_io_result res = peer_message(f, p, q, end, command,
						     nframes);
		if (res != SJ_IO_MORE)
			return res;
		b->off += end;
	}
done:
	sj_buf_consumed(b);
	return SJ_IO_MORE;
}

static int peer_event(struct sj_zfront *f, struct sj_zfront_peer *p,
		      uint32_t ev, struct sj_err *err)
{
	enum sj_io_result r = SJ_IO_MORE;

	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		size_t got;

		r = sj_evio_read(p->fd, &p->in, READ_CHUNK, &got);
		if (r == SJ_IO_FATAL)
			return sj_err_set(err, "out of memory");
		if (r == SJ_IO_MORE && got > 0)
			r = peer_input(f, p);
		if (r == SJ_IO_FATAL)
			return sj_err_set(err, "%s channel: delivery failed",
					  sj_channel_name(p->ch));
	}
	if (r == SJ_IO_MORE && p->out.off < p->out.len && sj_zfront_peer_write(f, p))
		r = SJ_IO_DROP;
	if (r == SJ_IO_DROP)
		sj_zfront_peer_free(f, p);
	return 0;
}

/* The loop's handler: a listening socket's event (its tag is its
 * channel) or a peer's. */
static int on_event(void *arg, uint64_t tag, uint32_t events,
		    struct sj_err *err)
{
	struct sj_zfront *f = arg;
	struct sj_zfront_peer *p;

	if (tag < SJ_NCHANNELS)
		return on_accept(f, (int)tag, err);
	if ((p = peer_of_tag(f, tag)) != NULL)
		return peer_event(f, p, events, err);
	return 0;
}

/* ------------------------------------------------------------ open/close */

int sj_zfront_open(struct sj_zfront *f, struct sj_evloop *lp,
		   const char *const *endpoints,
		   const struct sj_zfront_auth *auth,
		   sj_zfront_message_fn on_message, void *arg,
		   sj_note_fn note_fn, void *note_arg, struct sj_err *err)
{
	struct sj_err e;

	memset(f, 0, sizeof(*f));
	f->owner = auth->owner;
	f->root_too = auth->root_too;
	/* Without a signature to check, clients on other hosts are refused
	 * (admitted() says why). */
	f->can_check = auth->key[0] != '\0' &&
		       sj_jsign_init(&f->sign, auth->key, auth->scheme, &e) == 0;
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		f->listen_fd[ch] = -1;
	f->on_message = on_message;
	f->arg = arg;
	f->note = note_fn;
	f->note_arg = note_arg;
	f->loop = lp;
	sj_evloop_handler(lp, SJ_EV_OWNER_LISTENER, on_event, NULL, f);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		if (listen_on(f, ch, endpoints[ch], err))
			return -1;
	return 0;
}

int sj_zfront_hold(struct sj_zfront *f, int hold)
{
	int rv = 0;

	hold = hold != 0;
	if (hold == f->held)
		return 0;
	f->held = hold;
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		if (!holdable(ch))
			continue;
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
			struct sj_zfront_peer *p = f->peer[ch][i];

			if (p != NULL &&
			    sj_evio_hold(f->loop, p->fd, loop_tag(p), &p->ev,
					 hold))
				rv = -1;
		}
	}
	return rv;
}

void sj_zfront_close(struct sj_zfront *f)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
			if (f->peer[ch][i] != NULL)
				sj_zfront_peer_free(f, f->peer[ch][i]);
		sj_evio_close(f->loop, &f->listen_fd[ch],
			      SJ_EV_TAG(SJ_EV_OWNER_LISTENER, ch));
		if (f->ipc_path[ch][0] != '\0')
			(void)unlink(f->ipc_path[ch]);
		f->ipc_path[ch][0] = '\0';
	}
	sj_evloop_handler(f->loop, SJ_EV_OWNER_LISTENER, NULL, NULL, NULL);
	sj_note_flush(&f->refusals, f->note, f->note_arg);
	sj_jsign_wipe(&f->sign);
}
