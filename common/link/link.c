// SPDX-License-Identifier: GPL-2.0-or-later
#include "link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "evio.h"
#include "logtext.h"

/* The greeting; its last byte is the protocol's version. */
static const uint8_t MAGIC[SJ_LINK_GREETING_BYTES] = {
	'S', 'J', 'L', SJ_LINK_VERSION
};
static const char LABEL[] = "spank-jupyter link";

/* A read asks for at least this much room: big messages arrive in few
 * system calls. */
#define READ_CHUNK (256 * 1024)
/* Past this much sealed output, a message written is sent at once rather
 * than at the end of the loop's round: a 20 MB stream flows, not piles. */
#define EAGER_FLUSH (256 * 1024)
/* A lost connection is made again this soon (the login shim's side). */
#define RECONNECT_MS 100
/* A connect unanswered this long is given up and made anew: TCP would
 * wait for its SYN retransmissions (1, 2, 4, ... s) after a network
 * outage ends. */
#define CONNECT_TIMEOUT_MS 1000
/* A connection whose server has not proven itself this long after
 * connecting is given up and made anew: something else may hold the port
 * (the node shim gone, another program there), or the node shim is stuck. */
#define HANDSHAKE_TIMEOUT_MS 5000
/* The client's first transport message holds its HELLO record alone (21
 * bytes sealed): anything longer from a connection not yet proven is
 * refused at its length. */
#define HELLO_MSG_MAX 64
/* Each Noise message on the wire follows its length, 2 bytes. */
#define MSG_HEAD 2
/* A stage buffer bigger than this is given back after its message. */
#define STAGE_KEEP (256 * 1024)
/* epoll data of the listening socket and the timer; a connection's is
 * its serial, from FIRST_SERIAL on. */
#define TAG_LISTEN 0
#define TAG_TIMER 1
#define FIRST_SERIAL 2
/* A peer silent this long with data unacknowledged, or with keepalives
 * unanswered, is gone (a node that failed, a cable pulled). */
#define USER_TIMEOUT_MS 15000
#define KEEPALIVE_S 5

/* ----------------------------------------------------------------- crypto */

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 16 bytes from 32 lowercase hex digits: the rendezvous's nonces. */
static int nonce_bytes(const char *hex, uint8_t out[16])
{
	if (hex == NULL || strlen(hex) != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int sj_link_bind(struct sj_link_keys *k, const char *nonce,
		 const char *node_nonce, uint32_t job_id, uint32_t step_id,
		 struct sj_err *err)
{
	uint8_t *p = k->prologue;

	k->bound = 0;
	memcpy(p, LABEL, sizeof(LABEL) - 1);
	p += sizeof(LABEL) - 1;
	memcpy(p, MAGIC, sizeof(MAGIC));
	p += sizeof(MAGIC);
	if (nonce_bytes(nonce, p) || nonce_bytes(node_nonce, p + 16))
		return sj_err_set(err, "link: a rendezvous nonce is not 32 "
				  "lowercase hex digits");
	p += 32;
	sj_put_be32(p, job_id);
	sj_put_be32(p + 4, step_id);
	k->bound = 1;
	return 0;
}

/* Noise's Rekey before every rekey_every-th transport message of a
 * direction (n counts them from 0); both ends count, nothing is said. */
static int rekey_due(struct sj_noise_cipher *cs, uint64_t rekey_every,
		     struct sj_err *err)
{
	if (cs->n == 0 || rekey_every == 0 || cs->n % rekey_every != 0)
		return 0;
	return sj_noise_rekey(cs, err);
}

int sj_link_seal(struct sj_noise_cipher *cs, uint64_t rekey_every,
		 const uint8_t *plain, size_t len, struct sj_buf *out,
		 struct sj_err *err)
{
	size_t msgs = len / SJ_NOISE_PAYLOAD_MAX +
		      (len % SJ_NOISE_PAYLOAD_MAX != 0);
	size_t start = out->len;

	/* All the room at once: an allocation failing half way would leave
	 * the first messages sealed, their nonces spent, the rest not. */
	if (msgs > (SIZE_MAX - len) / (MSG_HEAD + SJ_NOISE_TAGLEN) ||
	    sj_buf_reserve(out, len + msgs * (MSG_HEAD + SJ_NOISE_TAGLEN)))
		return sj_err_set(err, "out of memory");
	while (len > 0) {
		size_t n = len < SJ_NOISE_PAYLOAD_MAX ? len :
			   SJ_NOISE_PAYLOAD_MAX;
		size_t sealed;

		if (rekey_due(cs, rekey_every, err) ||
		    sj_noise_encrypt(cs, NULL, 0, plain, n,
				     out->p + out->len + MSG_HEAD,
				     out->cap - out->len - MSG_HEAD, &sealed,
				     err)) {
			/* Nonces exhausted: cs is spent, and nothing of
			 * this goes out. */
			out->len = start;
			return sj_err_wrap(err, "link");
		}
		out->p[out->len] = (uint8_t)(sealed >> 8);
		out->p[out->len + 1] = (uint8_t)sealed;
		out->len += MSG_HEAD + sealed;
		plain += n;
		len -= n;
	}
	return 0;
}

int sj_link_open_msg(struct sj_noise_cipher *cs, uint64_t rekey_every,
		     const uint8_t *msg, size_t len, struct sj_buf *plain)
{
	size_t opened;

	/* One byte more than the plaintext: an empty one must not leave
	 * plain->p NULL, and NULL + 0 is undefined. */
	if (len < SJ_NOISE_TAGLEN || len > SJ_NOISE_MSG_MAX ||
	    sj_buf_reserve(plain, len - SJ_NOISE_TAGLEN + 1) ||
	    rekey_due(cs, rekey_every, NULL) ||
	    sj_noise_decrypt(cs, NULL, 0, msg, len, plain->p + plain->len,
			     plain->cap - plain->len, &opened, NULL))
		return -1;
	plain->len += opened;
	return 0;
}

int sj_link_frames_valid(const uint8_t *f, size_t len, int parts)
{
	size_t i = 0;

	while (i < len) {
		if (len - i < 4)
			return 0;
		uint32_t h = sj_get_be32(f + i);
		uint32_t n = h & SJ_LINK_LEN_MASK;
		i += 4;
		if ((h & SJ_LINK_START) && (h & SJ_LINK_PIECE))
			return 0;
		if (!parts && (h & (SJ_LINK_START | SJ_LINK_PIECE)))
			return 0;
		if (h & SJ_LINK_START) {
			/* A flag byte, the frame's whole length. */
			if (len - i < 5 || f[i] > 1 ||
			    sj_get_be32(f + i + 1) > SJ_LINK_LEN_MASK ||
			    sj_get_be32(f + i + 1) < n)
				return 0;
			i += 5;
		}
		if (n > len - i)
			return 0;
		i += n;
	}
	return 1;
}

/* ------------------------------------------------------------ connections */

#define note(L, debug, ...) sj_notef((L)->note, (L)->note_arg, debug, __VA_ARGS__)
/* What a stranger can make us write: bounded (ratelimit.h). */
#define refused(L, ...) \
	sj_notef_limited(&(L)->refusals, (L)->note, (L)->note_arg, __VA_ARGS__)

static int arm_timer(struct sj_link *L, long ms)
{
	return sj_evio_arm(L->timer_fd, ms);
}

static void arm_timer_or_note(struct sj_link *L, long ms)
{
	if (arm_timer(L, ms))
		note(L, 0, "link: timerfd_settime: %s", strerror(errno));
}

static int watch(struct sj_link *L, struct sj_link_conn *c, int op)
{
	return sj_evio_watch(L->epfd, op, c->fd, c->serial, c->ev);
}

int sj_link_hold(struct sj_link *L, int hold)
{
	struct sj_link_conn *c = L->live;

	return c == NULL ? 0 :
	       sj_evio_hold(L->epfd, c->fd, c->serial, &c->ev, hold);
}

size_t sj_link_queued(const struct sj_link *L)
{
	const struct sj_link_conn *c = L->live;

	return L->backlog.len + (c != NULL ? c->out.len - c->out.off : 0);
}

static int conn_write(struct sj_link *L, struct sj_link_conn *c)
{
	return sj_evio_send(L->epfd, c->fd, c->serial, &c->out, &c->ev);
}

static void conn_free(struct sj_link *L, struct sj_link_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0) {
		(void)epoll_ctl(L->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	sj_buf_free(&c->in);
	sj_buf_free(&c->out);
	sj_buf_free(&c->plain);
	sj_noise_kk_wipe(&c->hs);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* The unproven connections are kept in the order they came, oldest
 * first, so the one that gives way to a newcomer is the oldest of those
 * it may push out (SJ_LINK_UNPROVEN_MAX). */
static void pending_remove(struct sj_link *L, const struct sj_link_conn *c)
{
	for (int i = 0; i < SJ_LINK_PENDING; i++) {
		if (L->pending[i] != c)
			continue;
		memmove(L->pending + i, L->pending + i + 1,
			(size_t)(SJ_LINK_PENDING - 1 - i) *
			sizeof(L->pending[0]));
		L->pending[SJ_LINK_PENDING - 1] = NULL;
		return;
	}
}

/* Frees the oldest pending connection that is (unproven) or is not
 * (!unproven) past the first handshake message, if there is one. */
static void pending_evict(struct sj_link *L, int unproven)
{
	for (int i = 0; i < SJ_LINK_PENDING && L->pending[i] != NULL; i++) {
		struct sj_link_conn *c = L->pending[i];

		if ((c->state == SJ_CONN_UNPROVEN) != unproven)
			continue;
		pending_remove(L, c);
		conn_free(L, c);
		return;
	}
}

/* With at most SJ_LINK_UNPROVEN_MAX unproven, a full list always holds
 * one that is not for a newcomer to push out. */
static void pending_add(struct sj_link *L, struct sj_link_conn *c)
{
	int i = 0;

	if (L->pending[SJ_LINK_PENDING - 1] != NULL)
		pending_evict(L, 0);
	while (L->pending[i] != NULL)
		i++;
	L->pending[i] = c;
}

/* c has passed the first handshake message: it is unproven now, and the
 * oldest other such gives way if there are too many. */
static void pending_unproven(struct sj_link *L, struct sj_link_conn *c)
{
	int n = 0;

	for (int i = 0; i < SJ_LINK_PENDING && L->pending[i] != NULL; i++)
		n += L->pending[i]->state == SJ_CONN_UNPROVEN;
	if (n >= SJ_LINK_UNPROVEN_MAX)
		pending_evict(L, 1);
	c->state = SJ_CONN_UNPROVEN;
}

static struct sj_link_conn *conn_by_serial(struct sj_link *L, uint64_t s)
{
	if (L->live != NULL && L->live->serial == s)
		return L->live;
	for (int i = 0; i < SJ_LINK_PENDING && L->pending[i] != NULL; i++)
		if (L->pending[i]->serial == s)
			return L->pending[i];
	return NULL;
}

static void sockopts(int fd)
{
	int one = 1, idle = KEEPALIVE_S, cnt = 2;
	unsigned int uto = USER_TIMEOUT_MS;

	/* Best effort each: the link works without them, only slower to
	 * notice a dead peer or slower per message. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		(void)getnameinfo((struct sockaddr *)&ss, sl, host,
				  sizeof(host), port, sizeof(port),
				  NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, len, "%s:%s", host, port);
}

/* A new connection: its handshake state, our greeting, and from the
 * client Noise's first message with it (it needs nothing of the server's
 * but what the rendezvous said). */
static struct sj_link_conn *conn_new(struct sj_link *L, int fd,
				     enum sj_conn_state st)
{
	struct sj_link_conn *c = calloc(1, sizeof(*c));
	size_t n = 0;

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->state = st;
	c->serial = L->next_serial++;
	c->ev = st == SJ_CONN_CONNECTING ? SJ_EV_OUT : 0;
	c->hs = L->hs_template;
	if (sj_buf_reserve(&c->out, SJ_LINK_GREETING_BYTES + MSG_HEAD +
			   SJ_NOISE_KK_MSG_LEN(0)))
		goto fail;
	memcpy(c->out.p, MAGIC, sizeof(MAGIC));
	c->out.len = SJ_LINK_GREETING_BYTES;
	if (!L->server) {
		if (sj_noise_kk_write(&c->hs, NULL, 0,
				      c->out.p + c->out.len + MSG_HEAD,
				      c->out.cap - c->out.len - MSG_HEAD, &n,
				      NULL))
			goto fail;
		c->out.p[c->out.len] = (uint8_t)(n >> 8);
		c->out.p[c->out.len + 1] = (uint8_t)n;
		c->out.len += MSG_HEAD + n;
	}
	if (watch(L, c, EPOLL_CTL_ADD))
		goto fail;
	return c;
fail:
	c->fd = -1;	/* the caller still owns fd */
	conn_free(L, c);
	return NULL;
}

/* Seals plaintext records (each its length and its bytes) onto c. */
static int seal_onto(struct sj_link *L, struct sj_link_conn *c,
		     const uint8_t *plain, size_t len, struct sj_err *err)
{
	return sj_link_seal(&c->tx, L->rekey_every, plain, len, &c->out, err);
}

/* The HELLO record: its length, 1, and its kind. */
static const uint8_t hello_record[5] = { 0, 0, 0, 1, SJ_LINK_HELLO };

/* c has proven itself: it becomes the live connection, and the backlog
 * goes out on it (after the client's HELLO, its proof in turn). */
static int go_live(struct sj_link *L, struct sj_link_conn *c,
		   struct sj_err *err)
{
	struct sj_buf *b = &L->backlog;

	if (L->live != NULL) {
		/* Only the login shim can prove itself: this is it, back
		 * before we noticed that its old connection had died. */
		note(L, 1, "login side reconnected from %s; the "
		     "connection from %s is dropped", c->peer, L->live->peer);
		conn_free(L, L->live);
		L->live = NULL;
	}
	if (L->server)
		note(L, 1, SJ_LOG_LOGIN_CONNECTED "%s", c->peer);
	else
		note(L, 1, "link to %s:%d up", L->host, L->port);
	pending_remove(L, c);
	c->state = SJ_CONN_LIVE;
	L->live = c;
	L->ever_live = 1;
	L->epoch++;
	if (arm_timer(L, 0))
		return sj_err_errno(err, errno, "timerfd_settime");
	/* The HELLO alone in the first transport message: the server judges
	 * that message by its length before it has opened it. */
	if (!L->server &&
	    seal_onto(L, c, hello_record, sizeof(hello_record), err))
		return -1;
	/* The backlog is records back to back, as the stream inside the
	 * transport messages is: it goes as it is. */
	if (b->off < b->len &&
	    seal_onto(L, c, b->p + b->off, b->len - b->off, err))
		return -1;
	sj_buf_free(b);
	return 0;
}

static void lost_live(struct sj_link *L)
{
	struct sj_link_conn *c = L->live;

	L->live = NULL;
	if (L->server) {
		note(L, 1, "login side %s disconnected", c->peer);
		arm_timer_or_note(L, (long)L->grace_s * 1000);
	} else {
		note(L, 1, "link to %s:%d lost; reconnecting", L->host,
		     L->port);
		arm_timer_or_note(L, RECONNECT_MS);
	}
	conn_free(L, c);
}

/* Drops a connection that is not (or no longer) usable. */
static void conn_drop(struct sj_link *L, struct sj_link_conn *c)
{
	if (c == L->live) {
		lost_live(L);
		return;
	}
	pending_remove(L, c);
	if (!L->server)
		arm_timer_or_note(L, RECONNECT_MS);
	conn_free(L, c);
}

/* The peer's greeting.  Returns 0, or 1 to drop the connection. */
static int greeted(struct sj_link *L, struct sj_link_conn *c)
{
	const uint8_t *g = c->in.p + c->in.off;

	if (memcmp(g, MAGIC, sizeof(MAGIC)) != 0) {
		if (memcmp(g, MAGIC, sizeof(MAGIC) - 1) == 0 &&
		    g[3] >= '0' && g[3] <= '9')
			refused(L, "link: refused %s: it speaks version %c "
				"of the link protocol, this shim version %c "
				"(install the same spank-jupyter on login and "
				"compute nodes)", c->peer, g[3], MAGIC[3]);
		else
			refused(L, "link: refused %s: not the link protocol",
				c->peer);
		return 1;
	}
	c->in.off += SJ_LINK_GREETING_BYTES;
	c->state = SJ_CONN_HANDSHAKE;
	return 0;
}

/* The peer's handshake message m (n bytes): the server answers it, the
 * client is through.  Returns 0, 1 to drop the connection, -1 on a
 * failure of ours. */
static int handshake(struct sj_link *L, struct sj_link_conn *c,
		     const uint8_t *m, size_t n, struct sj_err *err)
{
	uint8_t payload[SJ_NOISE_KK_MSG_LEN(0)];
	size_t plen, out = 0;

	if (sj_noise_kk_read(&c->hs, m, n, payload, sizeof(payload), &plen,
			     NULL) || plen != 0) {
		/* Noise's own check: an end without the static secret it was
		 * expected to hold cannot make the payload's tag. */
		if (L->server)
			refused(L, "link: refused %s: it does not hold the "
				"login shim's key", c->peer);
		else
			refused(L, "link: refused %s: it does not hold the "
				"node shim's key", c->peer);
		L->refused++;
		return 1;
	}
	if (L->server) {
		if (sj_buf_reserve(&c->out, MSG_HEAD + SJ_NOISE_KK_MSG_LEN(0)))
			return sj_err_set(err, "out of memory");
		if (sj_noise_kk_write(&c->hs, NULL, 0,
				      c->out.p + c->out.len + MSG_HEAD,
				      c->out.cap - c->out.len - MSG_HEAD, &out,
				      NULL)) {
			refused(L, "link: refused %s: an unusable key",
				c->peer);
			return 1;
		}
		c->out.p[c->out.len] = (uint8_t)(out >> 8);
		c->out.p[c->out.len + 1] = (uint8_t)out;
		c->out.len += MSG_HEAD + out;
	}
	if (sj_noise_kk_split(&c->hs, &c->tx, &c->rx, NULL, err))
		return sj_err_wrap(err, "link");
	if (L->server) {
		/* The first message can be replayed: no proof yet. */
		pending_unproven(L, c);
		return 0;
	}
	/* The second cannot: it answers our fresh ephemeral key, with the
	 * node shim's static secret. */
	return go_live(L, c, err) ? -1 : 0;
}

/* The client's first transport message, opened: it must be the HELLO
 * record alone.  Returns 0, 1 to drop the connection, -1 on a failure
 * of ours. */
static int first_message(struct sj_link *L, struct sj_link_conn *c,
			 struct sj_err *err)
{
	struct sj_buf *p = &c->plain;

	if (p->len - p->off != sizeof(hello_record) ||
	    memcmp(p->p + p->off, hello_record, sizeof(hello_record)) != 0) {
		refused(L, "link: refused %s: it did not begin with a HELLO",
			c->peer);
		L->refused++;
		return 1;
	}
	p->off = p->len = 0;
	return go_live(L, c, err) ? -1 : 0;
}

/* Handles one opened record.  Returns 0, 1 to drop the connection, -1 if
 * delivery failed. */
static int on_record(struct sj_link *L, struct sj_link_conn *c,
		     const uint8_t *p, size_t n, struct sj_err *err)
{
	int parts;

	/* Only the node shim (the server) sends messages in parts. */
	parts = n > 0 && (p[0] & (SJ_LINK_CONT | SJ_LINK_MORE));
	if (n == 0 || (parts && L->server) ||
	    (p[0] & ~(SJ_LINK_CONT | SJ_LINK_MORE)) >= SJ_NCHANNELS ||
	    !sj_link_frames_valid(p + 1, n - 1, parts)) {
		note(L, 0, "link: %s sent a malformed message; connection "
		     "dropped", c->peer);
		return 1;
	}
	if (L->deliver(L->deliver_arg, p[0], p + 1, n - 1))
		return sj_err_wrap(err, "link");
	return 0;
}

/* Every whole record in c's opened plaintext.  Returns 0, 1 if the
 * connection is to be dropped, -1 on a failure of ours. */
static int records(struct sj_link *L, struct sj_link_conn *c,
		   struct sj_err *err)
{
	struct sj_buf *b = &c->plain;

	for (;;) {
		size_t have = b->len - b->off;

		if (have < 4)
			break;
		uint32_t rl = sj_get_be32(b->p + b->off);
		if (rl == 0 || rl > SJ_LINK_PLAIN_MAX) {
			note(L, 0, "link: %s sent a record of %u bytes; "
			     "connection dropped", c->peer, rl);
			return 1;
		}
		if (have - 4 < rl) {
			/* Room for the rest in one go. */
			if (sj_buf_reserve(b, rl + 4 - have))
				return sj_err_set(err, "out of memory");
			break;
		}
		b->off += 4 + rl;
		int r = on_record(L, c, b->p + b->off - rl, rl, err);
		if (r != 0)
			return r;
	}
	sj_buf_consumed(b);
	return 0;
}

/* The greeting, the handshake message and the transport messages in c's
 * input.  Returns 0, 1 if the connection is to be dropped, -1 on a
 * failure of ours. */
static int conn_input(struct sj_link *L, struct sj_link_conn *c,
		      struct sj_err *err)
{
	struct sj_buf *b = &c->in;

	for (;;) {
		size_t have = b->len - b->off;
		int r;

		if (c->state == SJ_CONN_GREETING) {
			if (have < SJ_LINK_GREETING_BYTES)
				break;
			r = greeted(L, c);
			if (r != 0)
				return r;
			continue;
		}
		if (have < MSG_HEAD)
			break;
		size_t ml = (size_t)b->p[b->off] << 8 | b->p[b->off + 1];
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
			return 1;
		}
		if (have - MSG_HEAD < ml)
			break;	/* at most 64 KiB: the buffer has room */
		const uint8_t *m = b->p + b->off + MSG_HEAD;
		b->off += MSG_HEAD + ml;
		if (c->state == SJ_CONN_HANDSHAKE) {
			r = handshake(L, c, m, ml, err);
			if (r != 0)
				return r;
			continue;
		}
		if (sj_buf_reserve(&c->plain, ml))
			return sj_err_set(err, "out of memory");
		if (sj_link_open_msg(&c->rx, L->rekey_every, m, ml,
				     &c->plain)) {
			if (c->state == SJ_CONN_LIVE) {
				note(L, 0, "link: a message from %s failed "
				     "authentication; connection dropped",
				     c->peer);
			} else {
				refused(L, "link: refused %s: it does not "
					"hold the login shim's key", c->peer);
				L->refused++;
			}
			return 1;
		}
		r = c->state == SJ_CONN_UNPROVEN ? first_message(L, c, err) :
		    records(L, c, err);
		if (r != 0)
			return r;
	}
	sj_buf_consumed(b);
	return 0;
}

static int conn_read(struct sj_link *L, struct sj_link_conn *c,
		     struct sj_err *err)
{
	ssize_t got = sj_evio_recv(c->fd, &c->in, READ_CHUNK);

	if (got == -2)
		return sj_err_set(err, "out of memory");
	if (got < 0) {
		if (errno == 0)
			note(L, 1, "link: %s closed the connection", c->peer);
		else
			note(L, 1, "link: %s: %s", c->peer, strerror(errno));
		return 1;
	}
	return got > 0 ? conn_input(L, c, err) : 0;
}

/* Binds fd to L->source (port 0), if there is one of fd's family. */
static int bind_source(struct sj_link *L, int fd, int family)
{
	struct addrinfo hints = { .ai_family = family,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai = NULL;
	int r;

	if (L->source[0] == '\0' ||
	    getaddrinfo(L->source, NULL, &hints, &ai) != 0)
		return 0;	/* none, or of the other family */
	r = bind(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return r;
}

static int connect_now(struct sj_link *L, struct sj_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST |
					      AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char port[8];
	int fd, r;

	snprintf(port, sizeof(port), "%d", L->port);
	r = getaddrinfo(L->host, port, &hints, &ai);
	if (r != 0)
		return sj_err_set(err, "link: %s: %s", L->host,
				  gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return sj_err_errno(err, errno, "link: socket");
	}
	sockopts(fd);
	r = bind_source(L, fd, ai->ai_family);
	if (r != 0)
		note(L, 0, "link: cannot connect from %s: %s", L->source,
		     strerror(errno));
	else if ((r = connect(fd, ai->ai_addr, ai->ai_addrlen)) != 0 &&
		 errno != EINPROGRESS)
		note(L, 1, "link: cannot connect to %s:%d: %s", L->host,
		     L->port, strerror(errno));
	else
		r = 0;
	freeaddrinfo(ai);
	if (r != 0) {
		close(fd);
		return arm_timer(L, RECONNECT_MS) ?
		       sj_err_errno(err, errno, "timerfd_settime") : 0;
	}
	struct sj_link_conn *c = conn_new(L, fd, SJ_CONN_CONNECTING);
	if (c == NULL) {
		close(fd);
		return sj_err_set(err, "link: out of memory");
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%d", L->host, L->port);
	pending_add(L, c);
	return arm_timer(L, CONNECT_TIMEOUT_MS) ?
	       sj_err_errno(err, errno, "timerfd_settime") : 0;
}

/* Whether fd's peer is at the one address connections are taken from. */
static int from_peer_only(struct sj_link *L, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned char key[SJ_ADDR_KEY_BYTES];

	if (!L->peer_only_set)
		return 1;
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	       sj_addr_key((struct sockaddr *)&ss, sl, key) == 0 &&
	       memcmp(key, L->peer_only, sizeof(key)) == 0;
}

/* Takes up to SJ_LINK_ACCEPT_BATCH new connections; the rest wait for
 * the next turn, after what the ones already here have sent is read. */
static int on_accept(struct sj_link *L, struct sj_err *err)
{
	for (int taken = 0; taken < SJ_LINK_ACCEPT_BATCH;) {
		int fd = accept4(L->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				return 0;
			/* Out of descriptors, say: the ones we have go on. */
			refused(L, "link: accept: %s", strerror(errno));
			return 0;
		}
		if (!from_peer_only(L, fd)) {
			char peer[80];

			peer_name(fd, peer, sizeof(peer));
			refused(L, "link: refused %s: not the login shim's "
				"address (%s)", peer, L->peer_only_text);
			close(fd);
			continue;
		}
		taken++;
		sockopts(fd);
		/* With all slots taken, the oldest connection not past its
		 * first handshake message makes room, so strangers that
		 * connect and stay silent cannot fill them for good, nor
		 * push out the login shim's (SJ_LINK_UNPROVEN_MAX). */
		struct sj_link_conn *c = conn_new(L, fd, SJ_CONN_GREETING);
		if (c == NULL) {
			close(fd);
			return sj_err_set(err, "link: out of memory");
		}
		peer_name(fd, c->peer, sizeof(c->peer));
		pending_add(L, c);
		if (conn_write(L, c))
			conn_drop(L, c);
	}
	return 0;
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
		return connect_now(L, err);
	if (c->state == SJ_CONN_CONNECTING)
		note(L, 1, "link: no answer from %s:%d; connecting again",
		     L->host, L->port);
	else
		note(L, 0, "link: %s:%d did not complete the link's "
		     "handshake within %d ms; connecting again", L->host,
		     L->port, L->handshake_ms);
	conn_drop(L, c);	/* arms the retry */
	return 0;
}

static int on_conn(struct sj_link *L, struct sj_link_conn *c, uint32_t ev,
		   struct sj_err *err)
{
	int r = 0;

	if (c->state == SJ_CONN_CONNECTING && (ev & (EPOLLOUT | EPOLLERR |
						     EPOLLHUP))) {
		int e = 0;
		socklen_t el = sizeof(e);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e != 0) {
			note(L, 1, "link: cannot connect to %s: %s", c->peer,
			     strerror(e));
			conn_drop(L, c);
			return 0;
		}
		c->state = SJ_CONN_GREETING;
		if (arm_timer(L, L->handshake_ms))
			return sj_err_errno(err, errno, "timerfd_settime");
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		r = conn_read(L, c, err);
		if (r < 0)
			return -1;
	}
	if (r == 0 && c->out.off < c->out.len && conn_write(L, c))
		r = 1;
	if (r == 1)
		conn_drop(L, c);
	return 0;
}

int sj_link_service(struct sj_link *L, struct sj_err *err)
{
	struct epoll_event ev[SJ_LINK_PENDING + 3];
	int n, accept = 0, timer = 0;

	n = epoll_wait(L->epfd, ev, SJ_LINK_PENDING + 3, 0);
	if (n < 0)
		return errno == EINTR ? 0 :
		       sj_err_errno(err, errno, "link: epoll_wait");
	/* Connections first: a newcomer accepted before them could push
	 * out one whose proof is already waiting to be read. */
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		struct sj_link_conn *c;

		if (tag == TAG_LISTEN)
			accept = 1;
		else if (tag == TAG_TIMER)
			timer = 1;
		else if ((c = conn_by_serial(L, tag)) != NULL &&
			 on_conn(L, c, ev[i].events, err))
			return -1;	/* (none if dropped by an earlier event) */
	}
	if ((timer && on_timer(L, err)) || (accept && on_accept(L, err)))
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- messages */

/* Takes back the record being written, as if it had not been begun: a
 * failed message leaves nothing half-written to be sealed later. */
static void rec_abort(struct sj_link *L)
{
	if (L->rec_buf != NULL)
		L->rec_buf->len = L->rec_start;
	L->rec_buf = NULL;
}

int sj_link_msg_begin(struct sj_link *L, int kind, struct sj_err *err)
{
	/* For the live connection a record is sealed when it ends: what is
	 * in the stage never outlives the call that wrote it. */
	struct sj_buf *b = L->live != NULL ? &L->stage : &L->backlog;

	rec_abort(L);
	if (sj_buf_reserve(b, 5))
		return sj_err_set(err, "out of memory");
	L->rec_buf = b;
	L->rec_start = b->len;
	b->p[b->len + 4] = (uint8_t)kind;
	b->len += 5;
	return 0;
}

/* One entry: its header word, the start's flag byte and length, bytes. */
static int put_entry(struct sj_link *L, uint32_t head, const uint8_t *extra,
		     size_t xn, const void *data, size_t len,
		     struct sj_err *err)
{
	struct sj_buf *b = L->rec_buf;
	size_t used;

	if (b == NULL)
		return sj_err_set(err, "link: no message begun");
	used = b->len - L->rec_start - 4 + SJ_LINK_TAG_BYTES;
	if (len > SJ_LINK_LEN_MASK ||
	    4 + xn + len > SJ_LINK_RECORD_MAX - used) {
		rec_abort(L);
		return sj_err_set(err, "a message over the link's limit of %u "
				  "bytes", SJ_LINK_RECORD_MAX -
				  SJ_LINK_TAG_BYTES);
	}
	if (sj_buf_reserve(b, 4 + xn + len)) {
		rec_abort(L);
		return sj_err_set(err, "out of memory");
	}
	sj_put_be32(b->p + b->len, head | (uint32_t)len);
	b->len += 4;
	if (xn > 0)
		memcpy(b->p + b->len, extra, xn);
	b->len += xn;
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

int sj_link_msg_frame(struct sj_link *L, const void *data, size_t len,
		      struct sj_err *err)
{
	return put_entry(L, 0, NULL, 0, data, len, err);
}

int sj_link_msg_frame_start(struct sj_link *L, size_t total, int more,
			    const void *data, size_t len, struct sj_err *err)
{
	uint8_t extra[5] = { (uint8_t)(more != 0) };

	if (total > SJ_LINK_LEN_MASK || total < len) {
		rec_abort(L);
		return sj_err_set(err, "a frame of %zu bytes is over the "
				  "link's limit", total);
	}
	sj_put_be32(extra + 1, (uint32_t)total);
	return put_entry(L, SJ_LINK_START, extra, sizeof(extra), data, len,
			 err);
}

int sj_link_msg_piece(struct sj_link *L, const void *data, size_t len,
		      struct sj_err *err)
{
	return put_entry(L, SJ_LINK_PIECE, NULL, 0, data, len, err);
}

void sj_link_msg_more(struct sj_link *L)
{
	if (L->rec_buf != NULL)
		L->rec_buf->p[L->rec_start + 4] |= SJ_LINK_MORE;
}

void sj_link_msg_abort(struct sj_link *L)
{
	rec_abort(L);
}

int sj_link_msg_end(struct sj_link *L, struct sj_err *err)
{
	struct sj_buf *b = L->rec_buf;
	size_t start = L->rec_start;
	int r = 0;

	if (b == NULL)
		return sj_err_set(err, "link: no message begun");
	L->rec_buf = NULL;
	/* put_entry kept it within the limit. */
	sj_put_be32(b->p + start, (uint32_t)(b->len - start - 4));
	if (b == &L->backlog)
		return 0;
	if (L->live != NULL)
		r = seal_onto(L, L->live, b->p + start, b->len - start, err);
	else if (sj_buf_reserve(&L->backlog, b->len - start) == 0) {
		memcpy(L->backlog.p + L->backlog.len, b->p + start,
		       b->len - start);
		L->backlog.len += b->len - start;
	} else {
		r = sj_err_set(err, "out of memory");
	}
	b->len = start;
	if (b->cap > STAGE_KEEP)
		sj_buf_free(b);
	if (r != 0)
		return -1;
	if (L->live != NULL && L->live->out.len - L->live->out.off >=
	    EAGER_FLUSH)
		return sj_link_flush(L, err);
	return 0;
}

int sj_link_flush(struct sj_link *L, struct sj_err *err)
{
	(void)err;
	if (L->live != NULL && L->live->out.off < L->live->out.len &&
	    conn_write(L, L->live))
		lost_live(L);
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
		if (conn_write(L, L->live)) {
			lost_live(L);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ open/close */

/* Exactly 2 * SJ_LINK_KEY_BYTES hex digits and nothing after them. */
static int key_from_hex(const char *hex, unsigned char out[SJ_LINK_KEY_BYTES])
{
	size_t n = 0;
	const char *end = NULL;

	return strnlen(hex, 2 * SJ_LINK_KEY_BYTES + 1) ==
		       2 * SJ_LINK_KEY_BYTES &&
	       sodium_hex2bin(out, SJ_LINK_KEY_BYTES, hex,
			      2 * SJ_LINK_KEY_BYTES, NULL, &n, &end) == 0 &&
	       n == SJ_LINK_KEY_BYTES && *end == '\0';
}

int sj_link_keys_from_hex(struct sj_link_keys *k, const char *self_public,
			  const char *self_secret, const char *peer_public,
			  struct sj_err *err)
{
	k->bound = 0;
	if (!key_from_hex(self_public, k->self_public) ||
	    !key_from_hex(self_secret, k->self_secret) ||
	    !key_from_hex(peer_public, k->peer_public)) {
		sodium_memzero(k, sizeof(*k));
		return sj_err_set(err, "link: a key is not %d hex digits",
				  2 * SJ_LINK_KEY_BYTES);
	}
	return 0;
}

static int open_common(struct sj_link *L, int server,
		       const struct sj_link_keys *keys,
		       sj_link_deliver_fn deliver, void *deliver_arg,
		       sj_note_fn note_fn, void *note_arg,
		       struct sj_err *err)
{
	memset(L, 0, sizeof(*L));
	L->server = server;
	L->epfd = L->listen_fd = L->timer_fd = -1;
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
	if (sj_evio_open(&L->epfd, &L->timer_fd, TAG_TIMER, err))
		return sj_err_wrap(err, "link");
	return 0;
}

int sj_link_open_client(struct sj_link *L, const char *host, int port,
			const char *source, const struct sj_link_keys *keys,
			sj_link_deliver_fn deliver, void *deliver_arg,
			sj_note_fn note_fn, void *note_arg,
			struct sj_err *err)
{
	if (open_common(L, 0, keys, deliver, deliver_arg, note_fn,
			note_arg, err))
		return -1;
	if (strlen(host) >= sizeof(L->host) ||
	    (source != NULL && strlen(source) >= sizeof(L->source)))
		return sj_err_set(err, "link: address too long");
	strcpy(L->host, host);
	if (source != NULL)
		strcpy(L->source, source);
	L->port = port;
	return connect_now(L, err);
}

int sj_link_open_server(struct sj_link *L, int listen_fd, int grace_s,
			const char *peer_only, const struct sj_link_keys *keys,
			sj_link_deliver_fn deliver, void *deliver_arg,
			sj_note_fn note_fn, void *note_arg,
			struct sj_err *err)
{
	if (open_common(L, 1, keys, deliver, deliver_arg, note_fn,
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
	if (sj_evio_watch(L->epfd, EPOLL_CTL_ADD, listen_fd, TAG_LISTEN, 0))
		return sj_err_errno(err, errno, "link: epoll_ctl");
	if (arm_timer(L, (long)grace_s * 1000))
		return sj_err_errno(err, errno, "link: timerfd_settime");
	return 0;
}

void sj_link_close(struct sj_link *L)
{
	conn_free(L, L->live);
	L->live = NULL;
	for (int i = 0; i < SJ_LINK_PENDING; i++) {
		conn_free(L, L->pending[i]);
		L->pending[i] = NULL;
	}
	if (L->listen_fd >= 0)
		close(L->listen_fd);
	if (L->timer_fd >= 0)
		close(L->timer_fd);
	if (L->epfd >= 0)
		close(L->epfd);
	L->listen_fd = L->timer_fd = L->epfd = -1;
	sj_buf_free(&L->backlog);
	sj_buf_free(&L->stage);
	sodium_memzero(&L->keys, sizeof(L->keys));
	sj_noise_kk_wipe(&L->hs_template);
	sj_note_flush(&L->refusals, L->note, L->note_arg);
}
