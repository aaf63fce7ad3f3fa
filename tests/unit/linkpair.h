// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linkpair.h - the harness the link's unit tests share (test_link.c,
 * test_link_strangers.c, test_link_interop.c): an end (a struct sj_link,
 * the messages it delivered and the lines it logged), key pairs bound to
 * one rendezvous, a listening socket on loopback, a server end and a
 * client end toward it, servicing one or two ends until a condition
 * holds, and messages of frames sent and checked.  Include after
 * <cmocka.h> and testutil.h; all static inline, as each test is one
 * binary of its own.
 */
#ifndef SJ_LINKPAIR_H
#define SJ_LINKPAIR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link.h"

#define NONCE "00112233445566778899aabbccddeeff"
#define NODE_NONCE "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

#define MAX_GOT 64

struct end {
	struct sj_evloop lp;		/* L's, its own */
	struct sj_link L;
	int n;				/* messages delivered */
	int ch[MAX_GOT];		/* each one's kind */
	struct sj_buf data[MAX_GOT];	/* and entries */
	char notes[4096];		/* the lines it logged */
};

/* The deliver function of an end: keeps a copy. */
static inline int got(void *arg, int ch, const uint8_t *entries, size_t len)
{
	struct end *e = arg;

	assert_true(e->n < MAX_GOT);
	e->ch[e->n] = ch;
	assert_int_equal(sj_buf_reserve(&e->data[e->n], len + 1), 0);
	memcpy(e->data[e->n].p, entries, len);
	e->data[e->n].len = len;
	e->n++;
	return 0;
}

/* The note function of an end: the lines one after another. */
static inline void noted(void *arg, int debug, const char *msg)
{
	struct end *e = arg;
	size_t l = strlen(e->notes);

	(void)debug;
	snprintf(e->notes + l, sizeof(e->notes) - l, "%s\n", msg);
}

static inline struct end *end_new(void)
{
	struct end *e = calloc(1, sizeof(*e));
	struct sj_err err = { "" };

	assert_non_null(e);
	assert_ok(sj_evloop_open(&e->lp, &err), err);
	return e;
}

/* Closes e's link (opened or not, if e came from end_new) and frees e. */
static inline void end_free(struct end *e)
{
	sj_link_close(&e->L);
	sj_evloop_close(&e->lp);
	for (int i = 0; i < e->n; i++)
		sj_buf_free(&e->data[i]);
	free(e);
}

/* A listening socket on 127.0.0.1, non-blocking; *port is where. */
static inline int listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 256), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A static key pair, as the plugin and the login shim make them. */
struct key {
	uint8_t pub[32], sec[32];
};

static inline void make_key(struct key *k)
{
	assert_true(sodium_init() >= 0);
	assert_int_equal(crypto_box_keypair(k->pub, k->sec), 0);
}

/* lk: self's pair and the peer's public key, bound to the rendezvous of
 * NONCE, node_nonce, job and step 0. */
static inline void link_keys(struct sj_link_keys *lk, const struct key *self,
			     const uint8_t *peer_pub, const char *node_nonce,
			     uint32_t job)
{
	struct sj_err err = { "" };

	memcpy(lk->self_public, self->pub, 32);
	memcpy(lk->self_secret, self->sec, 32);
	memcpy(lk->peer_public, peer_pub, 32);
	assert_ok(sj_link_bind(lk, NONCE, node_nonce, job, 0, &err), err);
}

/* Both ends' keys for one kernel. */
struct pair {
	struct key c, s;
	struct sj_link_keys client, server;
};

static inline void bind_both(struct pair *p, const char *node_nonce,
			     uint32_t job)
{
	link_keys(&p->client, &p->c, p->s.pub, node_nonce, job);
	link_keys(&p->server, &p->s, p->c.pub, node_nonce, job);
}

static inline void make_pair(struct pair *p)
{
	make_key(&p->c);
	make_key(&p->s);
	bind_both(p, NODE_NONCE, 42);
}

/* A server end listening on loopback with p's (new) keys, taking
 * connections from peer_only alone; *port is where. */
static inline struct end *serve_for(struct pair *p, int *port,
				    const char *peer_only)
{
	struct end *s = end_new();
	struct sj_err err = { "" };

	make_pair(p);
	assert_ok(sj_link_open_server(&s->L, &s->lp, listener(port), 30,
				      peer_only, &p->server, got, s, noted, s,
				      &err), err);
	return s;
}

static inline struct end *serve(struct pair *p, int *port)
{
	return serve_for(p, port, "127.0.0.1");
}

/* The client end c toward 127.0.0.1:port with keys k. */
static inline void connect_end(struct end *c, int port,
			       const struct sj_link_keys *k)
{
	struct sj_err err = { "" };

	assert_ok(sj_link_open_client(&c->L, &c->lp, "127.0.0.1", port, NULL,
				      k, got, c, noted, c, &err), err);
}

/* A server end, and a client end that has (if connect) been opened
 * toward it with the matching keys. */
struct duo {
	struct pair p;
	struct end *c, *s;
	int port;
};

static inline void duo_open(struct duo *d, int connect)
{
	d->c = end_new();
	d->s = serve(&d->p, &d->port);
	if (connect)
		connect_end(d->c, d->port, &d->p.client);
}

static inline void duo_close(struct duo *d)
{
	end_free(d->c);
	end_free(d->s);
}

/* Services e until cond holds (or 30 s of nothing happening). */
#define SERVE_UNTIL(e, cond) do { \
	for (int spins_ = 0; !(cond) && spins_ < 3000; spins_++) { \
		struct pollfd p_ = { .fd = (e)->lp.epfd, .events = POLLIN }; \
		struct sj_err e_ = { "" }; \
		assert_true(poll(&p_, 1, 10) >= 0); \
		assert_ok(sj_evloop_run_once(&(e)->lp, 0, &e_), e_); \
		assert_ok(sj_link_flush(&(e)->L, &e_), e_); \
	} \
	assert_true(cond); \
} while (0)

/* Services both ends once, waiting up to 10 ms for something. */
#define PUMP_ONCE(a, b) do { \
	struct pollfd p_[2] = { { .fd = (a)->lp.epfd, .events = POLLIN }, \
				{ .fd = (b)->lp.epfd, .events = POLLIN } }; \
	struct sj_err e_ = { "" }; \
	assert_true(poll(p_, 2, 10) >= 0); \
	assert_ok(sj_evloop_run_once(&(a)->lp, 0, &e_), e_); \
	assert_ok(sj_evloop_run_once(&(b)->lp, 0, &e_), e_); \
	assert_ok(sj_link_flush(&(a)->L, &e_), e_); \
	assert_ok(sj_link_flush(&(b)->L, &e_), e_); \
} while (0)

/* Services both ends until cond holds (or 5 s of nothing happening). */
#define PUMP(a, b, cond) do { \
	for (int spins_ = 0; !(cond) && spins_ < 500; spins_++) \
		PUMP_ONCE(a, b); \
	assert_true(cond); \
} while (0)

/* A message of two whole frames: f1 (a string) and l2 bytes of f2. */
static inline void send_frames(struct end *e, int ch, const char *f1,
			       const void *f2, size_t l2)
{
	struct sj_err err = { "" };

	assert_ok(sj_link_msg_begin(&e->L, ch, &err), err);
	assert_ok(sj_link_msg_frame(&e->L, f1, strlen(f1), &err), err);
	assert_ok(sj_link_msg_frame(&e->L, f2, l2, &err), err);
	assert_ok(sj_link_msg_end(&e->L, &err), err);
}

static inline void send_msg(struct end *e, int ch, const char *f1,
			    const char *f2)
{
	send_frames(e, ch, f1, f2, strlen(f2));
}

/* Message i of e is of kind ch and has nf whole frames, each given as a
 * pointer and a size_t length, and nothing else. */
static inline void check_frames(const struct end *e, int i, int ch, int nf,
				...)
{
	const struct sj_buf *b = &e->data[i];
	struct sj_link_entry x;
	size_t at = 0;
	va_list ap;

	assert_true(i < e->n);
	assert_int_equal(e->ch[i], ch);
	va_start(ap, nf);
	for (int f = 0; f < nf; f++) {
		const void *want = va_arg(ap, const void *);
		size_t wl = va_arg(ap, size_t);

		assert_int_equal(sj_link_entry_next(b->p, b->len, &at, &x), 1);
		assert_int_equal(x.head, wl);	/* a whole frame */
		assert_memory_equal(x.data, want, wl);
	}
	va_end(ap);
	assert_int_equal(at, b->len);
}

/* Message i of e: the two string frames send_msg sent. */
static inline void check_msg(const struct end *e, int i, int ch,
			     const char *f1, const char *f2)
{
	check_frames(e, i, ch, 2, f1, strlen(f1), f2, strlen(f2));
}

#endif
