// SPDX-License-Identifier: GPL-2.0-or-later
/* What the tests of the listener for Jupyter's clients share: a record
 * of what it delivered, libzmq's and raw clients, and a pump. */
#ifndef SJ_LISTENER_CLIENTS_H
#define SJ_LISTENER_CLIENTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>


#include "jupyter_listener.h"
#include "testutil.h"
#include "testloop.h"

#define MAX_GOT 64

struct got {
	int n;
	int ch[MAX_GOT];
	char rid[MAX_GOT][32];
	size_t rid_len[MAX_GOT];
	char text[MAX_GOT][256];	/* frames joined with '|' */
	size_t nframes[MAX_GOT];
	char notes[4096];
};

static inline void noted(void *arg, int debug, const char *msg)
{
	struct got *g = arg;
	size_t l = strlen(g->notes);

	(void)debug;
	snprintf(g->notes + l, sizeof(g->notes) - l, "%s\n", msg);
}

static inline int on_message(void *arg, int ch, const uint8_t *rid,
			     size_t rid_len, const uint8_t *frames, size_t len)
{
	struct got *g = arg;
	const uint8_t *d;
	size_t off = 0, n, used = 0;
	int i = 0;

	assert_true(g->n < MAX_GOT);
	assert_true(rid_len <= sizeof(g->rid[0]));
	g->ch[g->n] = ch;
	if (rid != NULL)
		memcpy(g->rid[g->n], rid, rid_len);
	g->rid_len[g->n] = rid_len;
	while (sj_zmtp_frame_next(frames, len, &off, &d, &n)) {
		if (used < sizeof(g->text[0]))
			used += (size_t)snprintf(g->text[g->n] + used,
						 sizeof(g->text[0]) - used,
						 "%s%.*s", i ? "|" : "",
						 (int)n, (const char *)d);
		i++;
	}
	g->nframes[g->n] = (size_t)i;
	g->n++;
	return 0;
}

/* The test's own uid as the owner; root only if it is the owner. */
static inline const struct sj_zfront_auth *me(void)
{
	static struct sj_zfront_auth a = { .key = "", .scheme = "" };

	a.owner = getuid();
	return &a;
}

static inline void pump(struct sj_zfront *f)
{
	test_loop_serve(f->loop, 10);
	sj_zfront_flush(f);
}

/* A link-layout message from frames given as (pointer, length) pairs. */
static inline size_t msg(uint8_t *buf, int nf, ...)
{
	struct sj_buf b = { 0 };
	va_list ap;
	size_t o;

	va_start(ap, nf);
	for (int i = 0; i < nf; i++) {
		const void *p = va_arg(ap, const void *);
		size_t n = va_arg(ap, size_t);

		assert_int_equal(sj_link_entry_put(&b, 0, n, 0, p, n), 0);
	}
	va_end(ap);
	o = b.len;
	if (o > 0)
		memcpy(buf, b.p, o);
	sj_buf_free(&b);
	return o;
}

/* Receives a whole message within ~5 s, joined with '|'. */
static inline void recv_text(struct sj_zfront *f, void *s, char *out,
			     size_t len)
{
	size_t used = 0;
	int more = 1;
	size_t ml = sizeof(more);

	out[0] = '\0';
	for (int i = 0; i < 500; i++) {
		char buf[256];
		int r = zmq_recv(s, buf, sizeof(buf) - 1, ZMQ_DONTWAIT);

		if (r < 0) {
			pump(f);
			continue;
		}
		buf[r] = '\0';
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 used ? "|" : "", buf);
		assert_int_equal(zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml), 0);
		while (more) {
			r = zmq_recv(s, buf, sizeof(buf) - 1, 0);
			assert_true(r >= 0);
			buf[r] = '\0';
			used += (size_t)snprintf(out + used, len - used, "|%s",
						 buf);
			assert_int_equal(zmq_getsockopt(s, ZMQ_RCVMORE, &more,
							&ml), 0);
		}
		return;
	}
	fail_msg("no message arrived");
}

/* Five ipc endpoints in the test's directory, and a server on them. */
static inline void open_front(struct tmp *t, const char *prefix,
			      struct sj_zfront *f, struct got *g,
			      char ep[][300])
{
	const char *eps[SJ_NCHANNELS];
	struct sj_err err = { "" };

	ipc_endpoints(t, prefix, ep, eps, SJ_NCHANNELS);
	assert_ok(sj_zfront_open(f, test_loop(), eps, me(), on_message, g,
				 noted, g, &err), err);
}

static inline void write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		assert_true(w > 0);
		b += w;
		n -= (size_t)w;
	}
}

/* A client of our own making: connected to ep, and, given a socket
 * type, through its side of the handshake. */
static inline int raw_client(const char *ep, const char *type)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(ep + 6) < sizeof(un.sun_path));
	memcpy(un.sun_path, ep + 6, strlen(ep + 6) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	if (type != NULL) {
		uint8_t g[SJ_ZMTP_GREETING_BYTES];
		struct sj_buf b = { 0 };

		sj_zmtp_greeting(g);
		write_all(fd, g, sizeof(g));
		assert_int_equal(sj_zmtp_put_ready(&b, type, NULL, 0), 0);
		write_all(fd, b.p, b.len);
		sj_buf_free(&b);
	}
	return fd;
}

static inline void raw_send(int fd, uint8_t flags, const void *data, size_t n)
{
	struct sj_buf b = { 0 };

	assert_int_equal(sj_zmtp_put_frame(&b, flags, data, n), 0);
	write_all(fd, b.p, b.len);
	sj_buf_free(&b);
}

static inline int npeers(const struct sj_zfront *f, int ch)
{
	int n = 0;

	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
		n += f->peer[ch][i] != NULL;
	return n;
}

/* What a client gets before the server closes: the bytes, or -1 if it
 * is still open after ~5 s. */
static inline long bytes_before_close(struct sj_zfront *f, int fd)
{
	uint8_t buf[4096];
	long got = 0;

	for (int i = 0; i < 500; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		pump(f);
		if (poll(&p, 1, 0) == 1) {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r <= 0)
				return got;
			got += r;
		}
	}
	return -1;
}

/* Whether fd was closed by the server (after what it sent us). */
static inline int closed_by_server(struct sj_zfront *f, int fd)
{
	return bytes_before_close(f, fd) >= 0;
}

#endif
