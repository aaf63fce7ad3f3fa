// SPDX-License-Identifier: GPL-2.0-or-later
/* The connections and who gives way among them (link_conn.h). */
#include "link_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link_hs.h"
#include "link_seal.h"
#include "logtext.h"

/* A lost connection is made again this soon (the login shim's side). */
#define RECONNECT_MS 100

/* A connect unanswered this long is given up and made anew: TCP would
 * wait for its SYN retransmissions (1, 2, 4, ... s) after a network
 * outage ends. */
#define CONNECT_TIMEOUT_MS 1000

/* A peer silent this long with data unacknowledged, or with keepalives
 * unanswered, is gone (a node that failed, a cable pulled). */
#define USER_TIMEOUT_MS 15000
#define KEEPALIVE_S 5

int sj_link_arm(struct sj_link *L, long ms)
{
	return sj_evio_arm(L->timer_fd, ms);
}

void sj_link_arm_or_note(struct sj_link *L, long ms)
{
	if (sj_link_arm(L, ms))
		note(L, 0, "link: timerfd_settime: %s", strerror(errno));
}

static int watch(struct sj_link *L, struct sj_link_conn *c, int op)
{
	return sj_evio_watch(L->loop, op, c->fd, sj_link_tag(c), c->ev);
}

enum sj_io_result sj_link_conn_write(struct sj_link *L,
				     struct sj_link_conn *c)
{
	return sj_evio_send(L->loop, c->fd, sj_link_tag(c), &c->out, &c->ev) ?
	       SJ_IO_DROP : SJ_IO_MORE;
}

void sj_link_conn_free(struct sj_link *L, struct sj_link_conn *c)
{
	if (c == NULL)
		return;
	sj_evio_close(L->loop, &c->fd, sj_link_tag(c));
	sj_buf_free(&c->in);
	sj_buf_free(&c->out);
	sj_noise_kk_wipe(&c->hs);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* The unproven connections are kept in the order they came, oldest
 * first, so the one that gives way to a newcomer is the oldest of those
 * it may push out (SJ_LINK_UNPROVEN_MAX). */
void sj_link_pending_remove(struct sj_link *L, const struct sj_link_conn *c)
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
		sj_link_pending_remove(L, c);
		sj_link_conn_free(L, c);
		return;
	}
}

/* With at most SJ_LINK_UNPROVEN_MAX unproven, a full list always holds
 * one that is not for a newcomer to push out. */
void sj_link_pending_add(struct sj_link *L, struct sj_link_conn *c)
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
void sj_link_pending_unproven(struct sj_link *L, struct sj_link_conn *c)
{
	int n = 0;

	for (int i = 0; i < SJ_LINK_PENDING && L->pending[i] != NULL; i++)
		n += L->pending[i]->state == SJ_CONN_UNPROVEN;
	if (n >= SJ_LINK_UNPROVEN_MAX)
		pending_evict(L, 1);
	c->state = SJ_CONN_UNPROVEN;
}

struct sj_link_conn *sj_link_conn_by_serial(struct sj_link *L, uint64_t s)
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

void sj_link_peer_name(int fd, char *buf, size_t len)
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
 * client Noise's first message with it (link_hs.h). */
struct sj_link_conn *sj_link_conn_new(struct sj_link *L, int fd,
				      enum sj_conn_state st)
{
	struct sj_link_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->state = st;
	c->serial = L->next_serial++;
	c->ev = st == SJ_CONN_CONNECTING ? SJ_EV_OUT : 0;
	if (sj_link_hs_start(L, c))
		goto fail;
	if (watch(L, c, EPOLL_CTL_ADD))
		goto fail;
	return c;
fail:
	c->fd = -1;	/* the caller still owns fd */
	sj_link_conn_free(L, c);
	return NULL;
}

/* c has proven itself: it becomes the live connection, and the backlog
 * goes out on it (after the client's HELLO, its proof in turn). */
int sj_link_go_live(struct sj_link *L, struct sj_link_conn *c,
		    struct sj_err *err)
{
	struct sj_buf *b = &L->backlog;

	if (L->live != NULL) {
		/* Only the login shim can prove itself: this is it, back
		 * before we noticed that its old connection had died. */
		note(L, 1, "login side reconnected from %s; the "
		     "connection from %s is dropped", c->peer, L->live->peer);
		sj_link_conn_free(L, L->live);
		L->live = NULL;
	}
	if (L->server)
		note(L, 1, SJ_LOG_LOGIN_CONNECTED "%s", c->peer);
	else
		note(L, 1, "link to %s:%d up", L->host, L->port);
	sj_link_pending_remove(L, c);
	c->state = SJ_CONN_LIVE;
	L->live = c;
	L->ever_live = 1;
	L->epoch++;
	if (sj_link_arm(L, 0))
		return sj_err_errno(err, errno, "timerfd_settime");
	/* The HELLO alone in the first transport message: the server judges
	 * that message by its length before it has opened it. */
	if (!L->server &&
	    sj_link_seal_onto(L, c, sj_link_hello_record,
			      sizeof(sj_link_hello_record), err))
		return -1;
	/* The backlog is records back to back, as the stream inside the
	 * transport messages is: it goes as it is. */
	if (b->off < b->len &&
	    sj_link_seal_onto(L, c, b->p + b->off, b->len - b->off, err))
		return -1;
	sj_buf_free(b);
	return 0;
}

void sj_link_lost_live(struct sj_link *L)
{
	struct sj_link_conn *c = L->live;

	L->live = NULL;
	if (L->server) {
		note(L, 1, "login side %s disconnected", c->peer);
		sj_link_arm_or_note(L, (long)L->grace_s * 1000);
	} else {
		note(L, 1, "link to %s:%d lost; reconnecting", L->host,
		     L->port);
		sj_link_arm_or_note(L, RECONNECT_MS);
	}
	sj_link_conn_free(L, c);
}

/* Drops a connection that is not (or no longer) usable. */
void sj_link_conn_drop(struct sj_link *L, struct sj_link_conn *c)
{
	if (c == L->live) {
		sj_link_lost_live(L);
		return;
	}
	sj_link_pending_remove(L, c);
	if (!L->server)
		sj_link_arm_or_note(L, RECONNECT_MS);
	sj_link_conn_free(L, c);
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

int sj_link_connect_now(struct sj_link *L, struct sj_err *err)
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
		return sj_link_arm(L, RECONNECT_MS) ?
		       sj_err_errno(err, errno, "timerfd_settime") : 0;
	}
	struct sj_link_conn *c = sj_link_conn_new(L, fd, SJ_CONN_CONNECTING);
	if (c == NULL) {
		close(fd);
		return sj_err_set(err, "link: out of memory");
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%d", L->host, L->port);
	sj_link_pending_add(L, c);
	return sj_link_arm(L, CONNECT_TIMEOUT_MS) ?
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
int sj_link_on_accept(struct sj_link *L, struct sj_err *err)
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

			sj_link_peer_name(fd, peer, sizeof(peer));
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
		struct sj_link_conn *c = sj_link_conn_new(L, fd,
							  SJ_CONN_GREETING);
		if (c == NULL) {
			close(fd);
			return sj_err_set(err, "link: out of memory");
		}
		sj_link_peer_name(fd, c->peer, sizeof(c->peer));
		sj_link_pending_add(L, c);
		if (sj_link_conn_write(L, c) == SJ_IO_DROP)
			sj_link_conn_drop(L, c);
	}
	return 0;
}
