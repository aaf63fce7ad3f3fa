// SPDX-License-Identifier: GPL-2.0-or-later
#include "rdv_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "evio.h"
#include "log.h"

int rdv_server_open(struct rdv_server *r, const char *host,
		    struct sj_err *err)
{
	struct sockaddr_in6 sa;
	socklen_t salen = sizeof(sa);
	int off = 0;

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0);
	if (r->fd < 0)
		return sj_err_errno(err, errno, "rendezvous socket");
	/* Dual stack: nodes may reach us over IPv4 or IPv6. */
	if (setsockopt(r->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
		return sj_err_errno(err, errno, "IPV6_V6ONLY");
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_any;
	/* A backlog of a few table's worth: strangers' connections queued
	 * ahead of the plugin's are taken, and pushed out, in a few rounds
	 * of the poll loop. */
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(r->fd, 4 * SJ_RDV_SLOTS) != 0 ||
	    getsockname(r->fd, (struct sockaddr *)&sa, &salen) != 0)
		return sj_err_errno(err, errno, "rendezvous listen");
	r->spec.port = ntohs(sa.sin6_port);
	if (host != NULL) {
		if (strlen(host) >= sizeof(r->spec.host))
			return sj_err_set(err, "--rendezvous-host too long");
		strcpy(r->spec.host, host);
	}
	return sj_random_hex(r->spec.nonce, SJ_NONCE_BYTES, err);
}

/* The log line of a stranger's refused connection, rate-limited. */
static void log_refusal(struct rdv_server *r, const char *peer,
			const char *why)
{
	sj_notef_limited(&r->refusals, shim_note, NULL,
			 "rendezvous connection from %s refused: %s", peer, why);
}

static void conn_close(struct rdv_server *r, int i)
{
	struct rdv_conn *c = &r->conn[i];

	if (close(c->fd) != 0)
		shim_debug("rendezvous: close: %s", strerror(errno));
	free(c->body);
	if (c->out != NULL) {
		explicit_bzero(c->out, c->out_len);
		free(c->out);
	}
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	sj_rdv_table_release(&r->table, i);
}

static void refuse(struct rdv_server *r, int i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct rdv_server *r, int i, const char *fmt, ...)
{
	struct sj_err why;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why.msg, sizeof(why.msg), fmt, ap);
	va_end(ap);
	log_refusal(r, r->conn[i].peer, why.msg);
	conn_close(r, i);
}

/* Sends what is left of the WELCOME without blocking.  Returns 1 when all
 * of it went, 0 to wait for POLLOUT, -1 when the connection was closed. */
static int send_welcome(struct rdv_server *r, int i)
{
	struct rdv_conn *c = &r->conn[i];

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			/* Only the plugin gets this far: not a stranger's
			 * doing, so never rate-limited. */
			shim_error("rendezvous: sending the WELCOME to %s: %s",
				   c->peer, strerror(errno));
			conn_close(r, i);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	return 1;
}

/* The WELCOME for c's HELLO, framed, into c->out. */
static int make_welcome(struct rdv_conn *c, const char *nonce,
			const struct sj_connfile *cf, const char *client_public,
			const char *transport, struct sj_err *err)
{
	char *text = NULL, *cred = NULL;
	struct sj_welcome w;
	size_t n;
	int rv = -1;

	memset(&w, 0, sizeof(w));
	strcpy(w.nonce, nonce);
	strcpy(w.node_nonce, c->hello.node_nonce);
	strcpy(w.key, cf->key);
	strcpy(w.signature_scheme, cf->signature_scheme);
	strcpy(w.client_key, client_public);
	snprintf(w.transport, sizeof(w.transport), "%s", transport);
	text = sj_welcome_encode(&w, err);
	if (text == NULL ||
	    sj_seal(text, strlen(text), getuid(), &cred, err) != 0)
		goto out;
	n = strlen(cred);
	if (n > SJ_FRAME_MAX) {
		sj_err_set(err, "WELCOME of %zu bytes exceeds the limit of %d",
			   n, SJ_FRAME_MAX);
		goto out;
	}
	c->out = malloc(SJ_FRAME_HEADER + n);
	if (c->out == NULL) {
		sj_err_set(err, "out of memory");
		goto out;
	}
	memcpy(c->out, "SJR1", 4);
	c->out[4] = (char)(unsigned char)(n >> 24);
	c->out[5] = (char)(unsigned char)(n >> 16);
	c->out[6] = (char)(unsigned char)(n >> 8);
	c->out[7] = (char)(unsigned char)n;
	memcpy(c->out + SJ_FRAME_HEADER, cred, n);
	c->out_len = SJ_FRAME_HEADER + n;
	c->out_off = 0;
	rv = 0;
out:
	explicit_bzero(&w, sizeof(w));
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	free(cred);
	return rv;
}

/* A whole frame came on slot i: a genuine HELLO is answered (1: the whole
 * WELCOME went at once), anything else refused (-1).  0: wait to send the
 * rest of the WELCOME. */
static int on_frame(struct rdv_server *r, int i, const struct sj_connfile *cf,
		    const char *client_public, const char *transport)
{
	struct rdv_conn *c = &r->conn[i];
	char *payload = NULL;
	size_t plen = 0;
	struct sj_err e;

	/* Garbage needs no trip to munged. */
	if (c->len < 6 || memcmp(c->body, "MUNGE:", 6) != 0) {
		refuse(r, i, "not a MUNGE credential");
		return -1;
	}
	/* Only a credential made by our own uid is a HELLO for us. */
	if (sj_unseal(c->body, getuid(), &payload, &plen, &e) != 0 ||
	    sj_hello_decode(payload, plen, &c->hello, &e) != 0) {
		if (payload != NULL) {
			explicit_bzero(payload, plen);
			free(payload);
		}
		refuse(r, i, "%s", e.msg);
		return -1;
	}
	explicit_bzero(payload, plen);
	free(payload);
	if (strcmp(c->hello.nonce, r->spec.nonce) != 0) {
		refuse(r, i, "HELLO for another kernel (nonce mismatch)");
		return -1;
	}
	if (make_welcome(c, r->spec.nonce, cf, client_public, transport,
			 &e) != 0) {
		shim_error("rendezvous: answering %s: %s", c->peer, e.msg);
		conn_close(r, i);
		return -1;
	}
	/* The plugin's: strangers may no longer push it out, and the
	 * WELCOME gets a deadline of its own. */
	r->table.slot[i].keep = 1;
	r->table.slot[i].deadline = sj_monotonic_ms() + RDV_DEADLINE_MS;
	return send_welcome(r, i);
}

/* Reads what slot i has without blocking; 1 when its HELLO was answered
 * whole, else 0 (waiting, or the connection was closed). */
static int read_conn(struct rdv_server *r, int i, const struct sj_connfile *cf,
		     const char *client_public, const char *transport)
{
	struct rdv_conn *c = &r->conn[i];
	struct sj_err e;

	for (;;) {
		size_t want;
		char *dst;
		ssize_t n;

		if (c->got < SJ_FRAME_HEADER) {
			dst = (char *)c->hdr + c->got;
			want = SJ_FRAME_HEADER - c->got;
		} else {
			dst = c->body + (c->got - SJ_FRAME_HEADER);
			want = SJ_FRAME_HEADER + c->len - c->got;
		}
		n = recv(c->fd, dst, want, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			refuse(r, i, "recv: %s", strerror(errno));
			return 0;
		}
		if (n == 0) {
			if (c->got == 0)
				refuse(r, i, "closed without a word");
			else
				refuse(r, i, "closed after %zu bytes",
				       c->got);
			return 0;
		}
		c->got += (size_t)n;
		if (c->got == SJ_FRAME_HEADER) {
			/* Refused by its length before a byte of it: a HELLO
			 * is never this long. */
			if (sj_frame_header_parse(c->hdr, SJ_HELLO_FRAME_MAX,
						  &c->len, &e) != 0) {
				refuse(r, i, "%s", e.msg);
				return 0;
			}
			c->body = malloc(c->len + 1);
			if (c->body == NULL) {
				refuse(r, i, "out of memory");
				return 0;
			}
		}
		if (c->got == SJ_FRAME_HEADER + c->len) {
			c->body[c->len] = '\0';
			return on_frame(r, i, cf, client_public,
					transport) == 1;
		}
	}
}

/* The address of sa, numeric, an IPv4-mapped one as IPv4: 1 if IPv4. */
static int numeric_addr(const struct sockaddr_in6 *sa, char *buf, size_t len)
{
	const void *src = &sa->sin6_addr;
	int family = AF_INET6;

	if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
		src = sa->sin6_addr.s6_addr + 12;
		family = AF_INET;
	}
	if (inet_ntop(family, src, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return family == AF_INET;
}

static void format_peer(const struct sockaddr_in6 *sa, char *buf,
			size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int v4 = numeric_addr(sa, a, sizeof(a));

	snprintf(buf, len, v4 ? "%s:%u" : "[%s]:%u", a,
		 (unsigned)ntohs(sa->sin6_port));
}

/* Takes one connection off the listening socket.  Returns 1 to go on
 * accepting, 0 when none is left for now, -1 when the socket failed. */
static int accept_one(struct rdv_server *r, struct sj_err *err)
{
	struct sockaddr_in6 sa;
	socklen_t salen = sizeof(sa);
	unsigned char source[16];
	struct rdv_conn *c;
	int fd, i, evict;

	memset(&sa, 0, sizeof(sa));
	fd = accept4(r->fd, (struct sockaddr *)&sa, &salen,
		     SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		switch (errno) {
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return 0;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
			/* That connection is gone; others may wait. */
			return 1;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			log_refusal(r, "(not accepted)", strerror(errno));
			return 0;
		default:
			/* Linux hands pending network errors to accept. */
			if (errno == ENETDOWN || errno == ENOPROTOOPT ||
			    errno == EHOSTDOWN || errno == ENONET ||
			    errno == EHOSTUNREACH || errno == EOPNOTSUPP ||
			    errno == ENETUNREACH)
				return 1;
			return sj_err_errno(err, errno, "rendezvous accept");
		}
	}
	sj_rdv_source((struct sockaddr *)&sa, salen, source);
	i = sj_rdv_table_pick(&r->table, &evict);
	if (i < 0) {
		char peer[64];

		/* Every slot holds a HELLO being answered: not strangers. */
		format_peer(&sa, peer, sizeof(peer));
		if (close(fd) != 0)
			shim_debug("rendezvous: close: %s", strerror(errno));
		log_refusal(r, peer, "no room");
		return 1;
	}
	if (evict)
		refuse(r, i, "made room for a newer connection (after %zu "
		       "bytes)", r->conn[i].got);
	sj_rdv_table_take(&r->table, i, source, sj_monotonic_ms() + RDV_DEADLINE_MS);
	c = &r->conn[i];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	format_peer(&sa, c->peer, sizeof(c->peer));
	return 1;
}

int rdv_server_pollfds(struct rdv_server *r, struct pollfd *pfd,
		       int *timeout_ms)
{
	int n = 0, cap = *timeout_ms < 0 ? INT_MAX : *timeout_ms, w;

	pfd[n] = (struct pollfd){ .fd = r->fd, .events = POLLIN };
	r->polled[n++] = -1;
	for (int i = 0; i < SJ_RDV_SLOTS; i++) {
		const struct sj_rdv_slot *s = &r->table.slot[i];

		if (!s->used)
			continue;
		pfd[n] = (struct pollfd){ .fd = r->conn[i].fd,
					  .events = s->keep ? POLLOUT : POLLIN };
		r->polled[n] = i;
		r->polled_seq[n++] = s->seq;
	}
	r->npolled = n;
	w = sj_rdv_table_wait_ms(&r->table, sj_monotonic_ms(), cap);
	if (w < cap)
		*timeout_ms = w;
	return n;
}

/* Slot i past its deadline. */
static void expire(struct rdv_server *r, int i)
{
	struct rdv_conn *c = &r->conn[i];

	if (r->table.slot[i].keep) {
		shim_error("rendezvous: the WELCOME to %s did not go out "
			   "within %d ms", c->peer, RDV_DEADLINE_MS);
		conn_close(r, i);
	} else if (c->got == 0) {
		refuse(r, i, "nothing came within %d ms", RDV_DEADLINE_MS);
	} else if (c->got < SJ_FRAME_HEADER) {
		refuse(r, i, "%zu bytes of a frame header came within %d ms",
		       c->got, RDV_DEADLINE_MS);
	} else {
		refuse(r, i, "%zu of %zu bytes of a frame came within %d ms",
		       c->got - SJ_FRAME_HEADER, c->len, RDV_DEADLINE_MS);
	}
}

static void answered(struct rdv_server *r, int i, struct sj_hello *hello)
{
	struct sockaddr_in6 sa;
	socklen_t sl = sizeof(sa);

	*hello = r->conn[i].hello;
	r->local_addr[0] = '\0';
	if (getsockname(r->conn[i].fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    sa.sin6_family == AF_INET6)
		(void)numeric_addr(&sa, r->local_addr, sizeof(r->local_addr));
	conn_close(r, i);
}

int rdv_server_serve(struct rdv_server *r, const struct pollfd *pfd,
		     const struct sj_connfile *cf, const char *client_public,
		     const char *transport, struct sj_hello *hello,
		     struct sj_err *err)
{
	long long now;
	int i, rv;

	/* Connections first: an accept below may reuse a slot polled. */
	for (int k = 1; k < r->npolled; k++) {
		const struct sj_rdv_slot *s;

		i = r->polled[k];
		s = &r->table.slot[i];
		if (pfd[k].revents == 0 || !s->used ||
		    s->seq != r->polled_seq[k])
			continue;
		if (s->keep)
			rv = send_welcome(r, i);
		else
			rv = read_conn(r, i, cf, client_public, transport);
		if (rv == 1) {
			answered(r, i, hello);
			return 1;
		}
	}
	r->npolled = 0;
	now = sj_monotonic_ms();
	while ((i = sj_rdv_table_expired(&r->table, now)) >= 0)
		expire(r, i);
	if (pfd[0].revents != 0) {
		for (int k = 0; k < 4 * SJ_RDV_SLOTS; k++) {
			rv = accept_one(r, err);
			if (rv < 0)
				return -1;
			if (rv == 0)
				break;
		}
	}
	return 0;
}

void rdv_server_close(struct rdv_server *r)
{
	for (int i = 0; i < SJ_RDV_SLOTS; i++)
		if (r->table.slot[i].used)
			refuse(r, i, "the rendezvous is over");
	sj_note_flush(&r->refusals, shim_note, NULL);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
