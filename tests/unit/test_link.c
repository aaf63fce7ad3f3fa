// SPDX-License-Identifier: GPL-2.0-or-later
/* The link between the shims (common/link/link.c): the prologue, sealing into
 * Noise transport messages, Rekey, and both ends talking over loopback TCP
 * in this one process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rdv_text.h"
#include "link.h"
#include "testutil.h"

struct pair {
	struct sj_link_keys client, server;
};

/* test_seal_out_of_memory asks for terabytes: under ASan too, malloc is
 * to say no, as it does to the shims. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

#define NONCE "00112233445566778899aabbccddeeff"
#define NODE_NONCE "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

static void bind_both(struct pair *p, const char *node_nonce, uint32_t job)
{
	struct sj_err err = { "" };

	assert_ok(sj_link_bind(&p->client, NONCE, node_nonce, job, 0, &err),
		  err);
	assert_ok(sj_link_bind(&p->server, NONCE, node_nonce, job, 0, &err),
		  err);
}

static void make_pair(struct pair *p)
{
	uint8_t cpub[32], csec[32], spub[32], ssec[32];

	assert_int_equal(sodium_init() >= 0, 1);
	crypto_box_keypair(cpub, csec);
	crypto_box_keypair(spub, ssec);
	memcpy(p->client.self_public, cpub, 32);
	memcpy(p->client.self_secret, csec, 32);
	memcpy(p->client.peer_public, spub, 32);
	memcpy(p->server.self_public, spub, 32);
	memcpy(p->server.self_secret, ssec, 32);
	memcpy(p->server.peer_public, cpub, 32);
	bind_both(p, NODE_NONCE, 42);
}

/* The prologue, byte for byte as docs/link.md has it. */
static void test_bind(void **state)
{
	struct sj_link_keys k;
	struct sj_err err = { "" };
	static const uint8_t want[SJ_LINK_PROLOGUE_BYTES] =
		"spank-jupyter linkSJL3"
		"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff"
		"\x0f\x1e\x2d\x3c\x4b\x5a\x69\x78\x87\x96\xa5\xb4\xc3\xd2\xe1\xf0"
		"\x00\x01\x02\x03" "\xff\xff\xff\xfe";

	(void)state;
	assert_int_equal(SJ_LINK_PROLOGUE_BYTES, 62);
	assert_ok(sj_link_bind(&k, NONCE, NODE_NONCE, 0x010203, 0xfffffffe,
			       &err), err);
	assert_memory_equal(k.prologue, want, sizeof(want));
	assert_fails(sj_link_bind(&k, NONCE, "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
				  1, 0, &err), err,
		     "link: a rendezvous nonce is not 32 lowercase hex digits");
	assert_fails(sj_link_bind(&k, "0011", NODE_NONCE, 1, 0, &err), err,
		     "not 32 lowercase hex digits");
}

/* Sealing into Noise transport messages of at most 65535 bytes, each
 * after its 2-byte length, and opening them; Rekey before every
 * rekey_every-th message, on both ends or neither. */
static void test_seal_open(void **state)
{
	struct sj_buf out = { 0 }, plain = { 0 }, lagged = { 0 };
	struct sj_err err = { "" };
	struct sj_noise_cipher tx, rx, lag;
	uint8_t key[32];
	size_t big = 3 * SJ_NOISE_PAYLOAD_MAX + 100, at = 0, msgs = 0;
	uint8_t *msg = malloc(big);

	(void)state;
	assert_non_null(msg);
	assert_int_equal(sodium_init() >= 0, 1);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(msg, big);
	sj_noise_cipher_init(&tx, key);
	sj_noise_cipher_init(&rx, key);
	sj_noise_cipher_init(&lag, key);
	assert_ok(sj_link_seal(&tx, 2, msg, big, &out, &err), err);
	/* Four messages: three full, one of 100 bytes; n counts them. */
	assert_int_equal(out.len, 4 * (2 + 16) + big);
	assert_int_equal(tx.n, 4);
	assert_null(memmem(out.p, out.len, msg, 32));
	while (at < out.len) {
		size_t ml = (size_t)out.p[at] << 8 | out.p[at + 1];
		struct sj_noise_cipher tmp = rx;

		assert_true(ml <= SJ_NOISE_MSG_MAX);
		/* An end that does not rekey fails from the third on. */
		assert_int_equal(sj_link_open_msg(&lag, 0, out.p + at + 2, ml,
						  &lagged),
				 msgs < 2 ? 0 : -1);
		/* Any flipped bit fails, and adds nothing. */
		out.p[at + 2 + ml / 2] ^= 0x04;
		assert_int_equal(sj_link_open_msg(&tmp, 2, out.p + at + 2, ml,
						  &plain), -1);
		assert_int_equal(plain.len, at == 0 ? 0 : at - 18 * msgs);
		out.p[at + 2 + ml / 2] ^= 0x04;
		assert_int_equal(sj_link_open_msg(&rx, 2, out.p + at + 2, ml,
						  &plain), 0);
		at += 2 + ml;
		msgs++;
	}
	assert_int_equal(msgs, 4);
	assert_int_equal(plain.len, big);
	assert_memory_equal(plain.p, msg, big);
	/* Too short to hold a tag. */
	assert_int_equal(sj_link_open_msg(&rx, 2, out.p + 2, 15, &plain), -1);
	/* An empty one (a tag alone) opens to nothing, into an empty buffer
	 * too (the fuzzer's find: no NULL + 0). */
	uint8_t tag[SJ_NOISE_TAGLEN];
	size_t tl;
	struct sj_buf empty = { 0 };
	assert_ok(sj_noise_encrypt(&tx, NULL, 0, NULL, 0, tag, sizeof(tag),
				   &tl, &err), err);
	assert_int_equal(sj_link_open_msg(&rx, 0, tag, tl, &empty), 0);
	assert_int_equal(empty.len, 0);
	sj_buf_free(&empty);
	free(msg);
	sj_buf_free(&out);
	sj_buf_free(&plain);
	sj_buf_free(&lagged);
}

/* Out of memory, a seal fails whole: nothing on out, no nonce spent (an
 * allocation failing half way once left the first messages sealed). */
static void test_seal_out_of_memory(void **state)
{
	struct sj_buf out = { 0 };
	struct sj_err err = { "" };
	struct sj_noise_cipher tx;
	uint8_t key[32] = { 1 };
	/* More than any x86-64 or arm64 address space holds, so that no
	 * malloc gives the room whatever the machine's overcommit; and a
	 * page that faults if the seal read a byte before it had room. */
	size_t huge = (size_t)1 << 60;
	long page = sysconf(_SC_PAGESIZE);
	void *plain = mmap(NULL, (size_t)page, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	assert_true(plain != MAP_FAILED);
	sj_noise_cipher_init(&tx, key);
	assert_fails(sj_link_seal(&tx, 0, plain, huge, &out, &err), err,
		     "out of memory");
	assert_int_equal(out.len, 0);
	assert_int_equal(tx.n, 0);
	/* A size whose room does not fit in size_t fails the same way. */
	assert_fails(sj_link_seal(&tx, 0, plain, SIZE_MAX - 10, &out, &err),
		     err, "out of memory");
	assert_int_equal(tx.n, 0);
	assert_int_equal(munmap(plain, (size_t)page), 0);
	sj_buf_free(&out);
}

static void test_frames_valid(void **state)
{
	(void)state;
	assert_true(sj_link_frames_valid((const uint8_t *)"", 0, 1));
	assert_true(sj_link_frames_valid(
		(const uint8_t *)"\0\0\0\0\0\0\0\2ab", 10, 1));
	assert_false(sj_link_frames_valid((const uint8_t *)"\0\0\0", 3, 1));
	assert_false(sj_link_frames_valid(
		(const uint8_t *)"\0\0\0\3ab", 6, 1));
	assert_false(sj_link_frames_valid(
		(const uint8_t *)"\xff\xff\xff\xff", 4, 1));
	/* START: 2 bytes of a 5-byte frame, another frame after it; PIECE:
	 * 3 more. */
	assert_true(sj_link_frames_valid(
		(const uint8_t *)"\x80\0\0\2\1\0\0\0\5ab", 11, 1));
	assert_true(sj_link_frames_valid(
		(const uint8_t *)"\x40\0\0\3cde", 7, 1));
	/* A START whose piece is longer than its frame, a bad more flag,
	 * both flags at once, a START cut short. */
	assert_false(sj_link_frames_valid(
		(const uint8_t *)"\x80\0\0\2\1\0\0\0\1ab", 11, 1));
	assert_false(sj_link_frames_valid(
		(const uint8_t *)"\x80\0\0\2\2\0\0\0\5ab", 11, 1));
	assert_false(sj_link_frames_valid(
		(const uint8_t *)"\xc0\0\0\0", 4, 1));
	assert_false(sj_link_frames_valid(
		(const uint8_t *)"\x80\0\0\0\1\0", 6, 1));
	/* Outside a message in parts, only whole frames. */
	assert_true(sj_link_frames_valid(
		(const uint8_t *)"\0\0\0\0\0\0\0\2ab", 10, 0));
	assert_false(sj_link_frames_valid(
		(const uint8_t *)"\x80\0\0\2\1\0\0\0\5ab", 11, 0));
	assert_false(sj_link_frames_valid(
		(const uint8_t *)"\0\0\0\0\x40\0\0\3cde", 11, 0));
}

/* ------------------------------------------- both ends over loopback */

#define MAX_GOT 64

struct end {
	struct sj_link L;
	int n;
	int ch[MAX_GOT];
	size_t len[MAX_GOT];
	uint8_t *data[MAX_GOT];
	char notes[2048];
};

static int got(void *arg, int ch, const uint8_t *frames, size_t len)
{
	struct end *e = arg;

	assert_true(e->n < MAX_GOT);
	e->ch[e->n] = ch;
	e->len[e->n] = len;
	e->data[e->n] = malloc(len + 1);
	assert_non_null(e->data[e->n]);
	memcpy(e->data[e->n], frames, len);
	e->n++;
	return 0;
}

static void noted(void *arg, int debug, const char *msg)
{
	struct end *e = arg;
	size_t l = strlen(e->notes);

	(void)debug;
	snprintf(e->notes + l, sizeof(e->notes) - l, "%s\n", msg);
}

static int listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 256), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Services both ends once, waiting up to 10 ms for something. */
#define PUMP_ONCE(a, b) do { \
	struct pollfd p_[2] = { { .fd = (a)->L.epfd, .events = POLLIN }, \
				{ .fd = (b)->L.epfd, .events = POLLIN } }; \
	struct sj_err e_ = { "" }; \
	assert_true(poll(p_, 2, 10) >= 0); \
	assert_ok(sj_link_service(&(a)->L, &e_), e_); \
	assert_ok(sj_link_service(&(b)->L, &e_), e_); \
	assert_ok(sj_link_flush(&(a)->L, &e_), e_); \
	assert_ok(sj_link_flush(&(b)->L, &e_), e_); \
} while (0)

/* Services both ends until cond holds (or 5 s of nothing happening). */
#define PUMP(a, b, cond) do { \
	for (int spins_ = 0; !(cond) && spins_ < 500; spins_++) \
		PUMP_ONCE(a, b); \
	assert_true(cond); \
} while (0)

static void send_msg(struct end *e, int ch, const char *f1, const char *f2)
{
	struct sj_err err = { "" };

	assert_ok(sj_link_msg_begin(&e->L, ch, &err), err);
	assert_ok(sj_link_msg_frame(&e->L, f1, strlen(f1), &err), err);
	assert_ok(sj_link_msg_frame(&e->L, f2, strlen(f2), &err), err);
	assert_ok(sj_link_msg_end(&e->L, &err), err);
}

static void check_msg(const struct end *e, int i, int ch, const char *f1,
		      const char *f2)
{
	size_t l1 = strlen(f1), l2 = strlen(f2);

	assert_int_equal(e->ch[i], ch);
	assert_int_equal(e->len[i], 8 + l1 + l2);
	assert_int_equal(e->data[i][3], (uint8_t)l1);
	assert_memory_equal(e->data[i] + 4, f1, l1);
	assert_int_equal(e->data[i][4 + l1 + 3], (uint8_t)l2);
	assert_memory_equal(e->data[i] + 8 + l1, f2, l2);
}

static void end_free(struct end *e)
{
	sj_link_close(&e->L);
	for (int i = 0; i < e->n; i++)
		free(e->data[i]);
}

/* A server end listening on loopback with p's keys, taking connections
 * from peer_only alone; *port is where. */
static struct end *serve_for(struct pair *p, int *port, const char *peer_only)
{
	struct end *s = calloc(1, sizeof(*s));
	struct sj_err err = { "" };

	assert_non_null(s);
	make_pair(p);
	assert_ok(sj_link_open_server(&s->L, listener(port), 30, peer_only,
				      &p->server, got, s, noted, s, &err),
		  err);
	return s;
}

static struct end *serve(struct pair *p, int *port)
{
	return serve_for(p, port, "127.0.0.1");
}

/* Keys as the shims make them, from the rendezvous's hex text, open
 * nothing until bound to it: neither end, nor after a failed bind. */
static void test_unbound_keys_refused(void **state)
{
	struct sj_link_keys k;
	struct sj_link L;
	struct sj_err err = { "" };
	uint8_t pub[32], sec[32];
	char zpub[65], zsec[65];
	int port;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	crypto_box_keypair(pub, sec);
	sodium_bin2hex(zpub, sizeof(zpub), pub, 32);
	sodium_bin2hex(zsec, sizeof(zsec), sec, 32);
	/* Garbage where the stack left it (shim/login.c's keys live there). */
	memset(&k, 0xa5, sizeof(k));
	assert_ok(sj_link_keys_from_hex(&k, zpub, zsec, zpub, &err), err);
	assert_fails(sj_link_open_server(&L, listener(&port), 30, NULL, &k,
					 got, NULL, NULL, NULL, &err),
		     err, "link: keys not bound to a rendezvous");
	sj_link_close(&L);
	assert_fails(sj_link_open_client(&L, "127.0.0.1", port, NULL, &k, got,
					 NULL, NULL, NULL, &err),
		     err, "link: keys not bound to a rendezvous");
	sj_link_close(&L);
	assert_fails(sj_link_bind(&k, NONCE, "not hex", 1, 0, &err), err,
		     "nonce");
	assert_fails(sj_link_open_client(&L, "127.0.0.1", port, NULL, &k, got,
					 NULL, NULL, NULL, &err),
		     err, "link: keys not bound to a rendezvous");
	sj_link_close(&L);
	/* Bound, the same keys open. */
	assert_ok(sj_link_bind(&k, NONCE, NODE_NONCE, 1, 0, &err), err);
	assert_ok(sj_link_open_server(&L, listener(&port), 30, NULL, &k, got,
				      NULL, NULL, NULL, &err), err);
	sj_link_close(&L);
	sodium_memzero(&k, sizeof(k));
}

/* A server end, and a client end that has (if connect) been opened
 * toward it with the matching keys. */
struct duo {
	struct pair p;
	struct end *c, *s;
	int port;
};

static void duo_open(struct duo *d, int connect)
{
	struct sj_err err = { "" };

	d->c = calloc(1, sizeof(*d->c));
	assert_non_null(d->c);
	d->s = serve(&d->p, &d->port);
	if (connect)
		assert_ok(sj_link_open_client(&d->c->L, "127.0.0.1", d->port, NULL,
					      &d->p.client, got, d->c, noted,
					      d->c, &err), err);
}

static void duo_close(struct duo *d)
{
	end_free(d->c);
	end_free(d->s);
	free(d->c);
	free(d->s);
}

static void test_both_ends(void **state)
{
	struct pair p;
	struct end *c = calloc(1, sizeof(*c)), *s;
	struct sj_err err = { "" };
	int port;

	(void)state;
	assert_non_null(c);
	s = serve(&p, &port);
	/* Written before anybody connected: waits, then arrives first. */
	send_msg(s, SJ_IOPUB, "status", "starting");
	assert_ok(sj_link_open_client(&c->L, "127.0.0.1", port, NULL, &p.client,
				      got, c, noted, c, &err), err);
	send_msg(c, SJ_IOPUB, "\x01", "");
	send_msg(c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	PUMP(c, s, s->n == 2 && c->n == 1);
	check_msg(c, 0, SJ_IOPUB, "status", "starting");
	check_msg(s, 0, SJ_IOPUB, "\x01", "");
	check_msg(s, 1, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	assert_non_null(strstr(s->notes, "login side connected from "
			       "127.0.0.1:"));

	/* A big message, in both directions. */
	size_t big = 3 * 1024 * 1024;
	char *b = malloc(big + 1);
	assert_non_null(b);
	memset(b, 'x', big);
	b[big] = '\0';
	send_msg(s, SJ_IOPUB, "stream", b);
	send_msg(c, SJ_STDIN, b, "input_reply");
	PUMP(c, s, s->n == 3 && c->n == 2);
	check_msg(c, 1, SJ_IOPUB, "stream", b);
	check_msg(s, 2, SJ_STDIN, b, "input_reply");
	free(b);

	/* The client loses its connection and makes a new one. */
	shutdown(c->L.live->fd, SHUT_RDWR);
	PUMP(c, s, s->L.live == NULL);
	send_msg(c, SJ_CONTROL, "again", "after the break");
	PUMP(c, s, s->n == 4);
	check_msg(s, 3, SJ_CONTROL, "again", "after the break");
	assert_int_equal(s->L.refused, 0);
	end_free(c);
	end_free(s);
	free(c);
	free(s);
}

/* A client with another key, and a stranger sending junk: neither is
 * taken for the login shim, neither hears anything from the kernel. */
static void test_strangers_refused(void **state)
{
	struct pair p, q;
	struct end *c = calloc(1, sizeof(*c)), *s;
	struct sj_err err = { "" };
	int port;

	(void)state;
	assert_non_null(c);
	s = serve(&p, &port);
	make_pair(&q);
	send_msg(s, SJ_IOPUB, "secret", "output");
	/* Knows the server's public key, not the client's secret. */
	memcpy(q.client.peer_public, p.server.self_public, 32);
	assert_ok(sj_link_open_client(&c->L, "127.0.0.1", port, NULL, &q.client,
				      got, c, noted, c, &err), err);
	send_msg(c, SJ_SHELL, "<IDS|MSG>", "execute_request");
	PUMP(c, s, s->L.refused >= 1);
	assert_int_equal(s->n, 0);
	assert_int_equal(c->n, 0);
	assert_null(s->L.live);
	assert_non_null(strstr(s->notes, "refused 127.0.0.1:"));
	assert_non_null(strstr(s->notes, "does not hold the login shim's key"));
	end_free(c);

	/* Junk instead of a greeting. */
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	static const char junk[] = "GET / HTTP/1.0\r\nHost: n1\r\nAccept: */*\r\n\r\n";
	assert_int_equal(write(fd, junk, sizeof(junk) - 1),
			 (ssize_t)sizeof(junk) - 1);
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 50 && !strstr(s->notes, "not the link"); i++) {
		struct pollfd pf = { .fd = s->L.epfd, .events = POLLIN };

		assert_true(poll(&pf, 1, 10) >= 0);
		assert_ok(sj_link_service(&s->L, &err), err);
	}
	assert_non_null(strstr(s->notes, "not the link protocol"));
	assert_null(s->L.live);
	close(fd);
	end_free(s);
	free(c);
	free(s);
}

/* A plain TCP connection to the loopback port from the address from
 * (127.0.0.1 if 0): a stranger. */
static int stranger_from(int port, uint32_t from)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port) };
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (from != 0) {
		src.sin_addr.s_addr = htonl(from);
		assert_int_equal(bind(fd, (struct sockaddr *)&src,
				      sizeof(src)), 0);
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static int stranger(int port)
{
	return stranger_from(port, 0);
}

static int npending(const struct sj_link *L)
{
	int n = 0;

	for (int i = 0; i < SJ_LINK_PENDING; i++)
		n += L->pending[i] != NULL;
	return n;
}

/* Services one end until cond holds (or 5 s of nothing happening). */
#define SERVE(e, cond) do { \
	for (int spins_ = 0; !(cond) && spins_ < 500; spins_++) { \
		struct pollfd p_ = { .fd = (e)->L.epfd, .events = POLLIN }; \
		struct sj_err e_ = { "" }; \
		assert_true(poll(&p_, 1, 10) >= 0); \
		assert_ok(sj_link_service(&(e)->L, &e_), e_); \
	} \
	assert_true(cond); \
} while (0)

/* With all unproven slots taken, the oldest connection gives way to a
 * newcomer, whatever slot it is in: strangers that connect and wait, one
 * leaving, cannot push the login shim out. */
static void test_oldest_unproven_gives_way(void **state)
{
	struct duo d;
	struct sj_err err = { "" };
	int fd[SJ_LINK_PENDING + 1];

	(void)state;
	duo_open(&d, 0);
	for (int i = 0; i < SJ_LINK_PENDING; i++) {
		fd[i] = stranger(d.port);
		SERVE(d.s, npending(&d.s->L) == i + 1);
	}
	close(fd[0]);		/* the first leaves: a slot is free */
	SERVE(d.s, npending(&d.s->L) == SJ_LINK_PENDING - 1);
	/* The login shim connects; the server takes its connection before
	 * the client has so much as sent its greeting. */
	assert_ok(sj_link_open_client(&d.c->L, "127.0.0.1", d.port, NULL,
				      &d.p.client, got, d.c, noted, d.c,
				      &err), err);
	send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	SERVE(d.s, npending(&d.s->L) == SJ_LINK_PENDING);
	uint64_t login = d.s->L.pending[SJ_LINK_PENDING - 1]->serial;
	/* One more stranger: the oldest (the second) gives way, not the
	 * newest. */
	fd[SJ_LINK_PENDING] = stranger(d.port);
	SERVE(d.s, d.s->L.next_serial == login + 2);
	assert_int_equal(npending(&d.s->L), SJ_LINK_PENDING);
	assert_int_equal(d.s->L.pending[SJ_LINK_PENDING - 2]->serial, login);
	PUMP(d.c, d.s, d.s->n == 1 && d.c->L.live != NULL &&
	     d.s->L.live != NULL);
	check_msg(d.s, 0, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	for (int i = 1; i <= SJ_LINK_PENDING; i++)
		close(fd[i]);
	duo_close(&d);
}

/* Strangers that only connect cannot push out a connection that has
 * passed the first handshake message: with the slots full of them, the
 * newcomers push out one another, and the login shim still goes live. */
static void test_strangers_push_out_strangers(void **state)
{
	struct duo d;
	struct sj_err err = { "" };
	int fd[2 * SJ_LINK_PENDING];
	uint64_t login;

	(void)state;
	duo_open(&d, 0);
	for (int i = 0; i < SJ_LINK_PENDING - 1; i++) {
		fd[i] = stranger(d.port);
		SERVE(d.s, npending(&d.s->L) == i + 1);
	}
	assert_ok(sj_link_open_client(&d.c->L, "127.0.0.1", d.port, NULL,
				      &d.p.client, got, d.c, noted, d.c,
				      &err), err);
	send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	/* The client sends its greeting and message 1; the server takes
	 * them (and answers) while the client is not serviced again. */
	SERVE(d.c, d.c->L.pending[0] != NULL &&
	      d.c->L.pending[0]->state == SJ_CONN_GREETING &&
	      d.c->L.pending[0]->out.len == d.c->L.pending[0]->out.off);
	/* Its ephemeral key is its connection's own: the copied template
	 * keeps none for the next. */
	assert_int_equal(d.c->L.pending[0]->hs.has_e, 1);
	assert_int_equal(d.c->L.hs_template.has_e, 0);
	SERVE(d.s, npending(&d.s->L) == SJ_LINK_PENDING &&
	      d.s->L.pending[SJ_LINK_PENDING - 1]->state == SJ_CONN_UNPROVEN);
	login = d.s->L.pending[SJ_LINK_PENDING - 1]->serial;
	/* As many strangers again: every one pushes out an older one. */
	for (int i = SJ_LINK_PENDING - 1; i < 2 * SJ_LINK_PENDING; i++) {
		fd[i] = stranger(d.port);
		SERVE(d.s, d.s->L.next_serial == login + 2 +
		      (uint64_t)(i - (SJ_LINK_PENDING - 1)));
		assert_int_equal(npending(&d.s->L), SJ_LINK_PENDING);
	}
	assert_int_equal(d.s->L.pending[0]->serial, login);
	assert_int_equal(d.s->L.pending[0]->state, SJ_CONN_UNPROVEN);
	PUMP(d.c, d.s, d.s->n == 1 && d.c->L.live != NULL &&
	     d.s->L.live != NULL);
	check_msg(d.s, 0, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	assert_int_equal(d.s->L.live->serial, login);
	for (int i = 0; i < 2 * SJ_LINK_PENDING; i++)
		close(fd[i]);
	duo_close(&d);
}

/* A held connection is not read: what the other end sends waits in TCP
 * (and then in its sender's queue, which sj_link_queued counts) until
 * the hold is let go, and nothing is lost. */
static void test_hold(void **state)
{
	struct duo d;

	(void)state;
	duo_open(&d, 1);
	PUMP(d.c, d.s, d.c->L.live != NULL && d.s->L.live != NULL);
	assert_int_equal(sj_link_queued(&d.c->L), 0);
	assert_int_equal(sj_link_hold(&d.s->L, 1), 0);
	for (int i = 0; i < 40; i++)
		send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "execute_request");
	for (int i = 0; i < 50; i++)
		PUMP_ONCE(d.c, d.s);
	assert_int_equal(d.s->n, 0);
	/* Far more than TCP buffers: the rest stays with the sender. */
	char *big = malloc(16 << 20);
	assert_non_null(big);
	memset(big, 'b', 16 << 20);
	big[(16 << 20) - 1] = '\0';
	send_msg(d.c, SJ_SHELL, "<IDS|MSG>", big);
	for (int i = 0; i < 50; i++)
		PUMP_ONCE(d.c, d.s);
	assert_int_equal(d.s->n, 0);
	assert_true(sj_link_queued(&d.c->L) > (8u << 20));
	assert_int_equal(sj_link_hold(&d.s->L, 0), 0);
	PUMP(d.c, d.s, d.s->n == 41);
	check_msg(d.s, 39, SJ_SHELL, "<IDS|MSG>", "execute_request");
	check_msg(d.s, 40, SJ_SHELL, "<IDS|MSG>", big);
	assert_int_equal(sj_link_queued(&d.c->L), 0);
	free(big);
	duo_close(&d);
}

/* The node shim takes the link only from the login shim's address (the
 * one its rendezvous came from): a connection from any other is closed
 * before it gets a byte, and holds no slot. */
static void test_only_from_the_login_address(void **state)
{
	struct duo d;
	uint8_t buf[64];

	(void)state;
	duo_open(&d, 1);
	int fd = stranger_from(d.port, 0x7f000002);	/* 127.0.0.2 */
	PUMP(d.c, d.s, d.c->L.live != NULL && d.s->L.live != NULL &&
	     strstr(d.s->notes, "not the login shim's address") != NULL);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	assert_int_equal(npending(&d.s->L), 0);
	assert_non_null(strstr(d.s->notes, "link: refused 127.0.0.2:"));
	assert_non_null(strstr(d.s->notes, "(127.0.0.1)"));
	close(fd);
	duo_close(&d);
}

/* The login shim connects from the address the node reached it at (the
 * rendezvous's), so that the node takes its link whatever address routing
 * would have picked. */
static void test_client_connects_from_its_source(void **state)
{
	struct pair p;
	struct end *c = calloc(1, sizeof(*c)), *s;
	struct sj_err err = { "" };
	int port;

	(void)state;
	assert_non_null(c);
	s = serve_for(&p, &port, "127.0.0.3");
	assert_ok(sj_link_open_client(&c->L, "127.0.0.1", port, "127.0.0.3",
				      &p.client, got, c, noted, c, &err), err);
	send_msg(c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	PUMP(c, s, s->n == 1 && c->L.live != NULL && s->L.live != NULL);
	assert_non_null(strstr(s->notes, "login side connected from "
			       "127.0.0.3:"));
	end_free(c);
	end_free(s);
	free(c);
	free(s);
}

/* Strangers from the login shim's own host that connect right behind it,
 * many more than there are slots, and send a greeting each: the login
 * shim's connection is read before any of them can push it out. */
static void test_flood_behind_the_login_shim(void **state)
{
	struct duo d;
	struct sj_err err = { "" };
	enum { N = 3 * SJ_LINK_PENDING };
	int fd[N];
	uint8_t greeting[SJ_LINK_GREETING_BYTES] = "SJL3";

	(void)state;
	duo_open(&d, 0);
	assert_ok(sj_link_open_client(&d.c->L, "127.0.0.1", d.port, NULL,
				      &d.p.client, got, d.c, noted, d.c,
				      &err), err);
	send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	/* The client's greeting is on its way before anybody else's. */
	for (int i = 0; i < 50 && d.c->L.pending[0]->out.len >
			       d.c->L.pending[0]->out.off; i++) {
		struct pollfd pf = { .fd = d.c->L.epfd, .events = POLLIN };

		assert_true(poll(&pf, 1, 10) >= 0);
		assert_ok(sj_link_service(&d.c->L, &err), err);
	}
	for (int i = 0; i < N; i++) {
		fd[i] = stranger(d.port);
		assert_int_equal(write(fd[i], greeting, sizeof(greeting)),
				 (ssize_t)sizeof(greeting));
	}
	/* The first connection the server takes is the login shim's, and
	 * that very one goes live: it was never pushed out (a client pushed
	 * out would connect again, and win once the flood is over). */
	uint64_t first = d.s->L.next_serial;
	PUMP(d.c, d.s, d.s->n == 1 && d.c->L.live != NULL &&
	     d.s->L.live != NULL);
	check_msg(d.s, 0, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	assert_int_equal(d.s->L.live->serial, first);
	for (int i = 0; i < N; i++)
		close(fd[i]);
	duo_close(&d);
}

/* Only the node shim sends messages in parts, and a whole message holds
 * whole frames only: a client breaking either rule loses its connection
 * (not the node shim its life), and the link goes on. */
static void test_parts_from_the_client_refused(void **state)
{
	struct duo d;
	struct sj_err err = { "" };

	(void)state;
	duo_open(&d, 1);
	PUMP(d.c, d.s, d.c->L.live != NULL && d.s->L.live != NULL);
	assert_int_equal(d.s->L.epoch, 1);

	assert_ok(sj_link_msg_begin(&d.c->L, SJ_SHELL | SJ_LINK_MORE, &err),
		  err);
	assert_ok(sj_link_msg_frame(&d.c->L, "id", 2, &err), err);
	assert_ok(sj_link_msg_end(&d.c->L, &err), err);
	PUMP(d.c, d.s, d.s->L.epoch == 2 && d.s->L.live != NULL);
	assert_non_null(strstr(d.s->notes, "sent a malformed message"));

	assert_ok(sj_link_msg_begin(&d.c->L, SJ_SHELL, &err), err);
	assert_ok(sj_link_msg_frame_start(&d.c->L, 10, 0, "abc", 3, &err),
		  err);
	assert_ok(sj_link_msg_end(&d.c->L, &err), err);
	PUMP(d.c, d.s, d.s->L.epoch == 3 && d.s->L.live != NULL);

	send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "after");
	PUMP(d.c, d.s, d.s->n == 1);
	check_msg(d.s, 0, SJ_SHELL, "<IDS|MSG>", "after");
	duo_close(&d);
}

/* A message over the link's limit is refused with an error that says so,
 * and leaves nothing behind: the next message is the next to arrive. */
static void test_message_over_the_limit(void **state)
{
	struct duo d;
	struct sj_err err = { "" };
	static const char some[64];

	(void)state;
	duo_open(&d, 1);
	/* Into the backlog (not connected yet), then onto the live one. */
	for (int round = 0; round < 2; round++) {
		struct sj_link *L = &d.c->L;

		assert_ok(sj_link_msg_begin(L, SJ_SHELL, &err), err);
		assert_ok(sj_link_msg_frame(L, some, sizeof(some), &err), err);
		/* The length alone is judged: no such buffer is read. */
		assert_fails(sj_link_msg_frame(L, some, SJ_LINK_RECORD_MAX,
					       &err),
			     err, "over the link's limit");
		assert_fails(sj_link_msg_end(L, &err), err,
			     "no message begun");
		assert_ok(sj_link_msg_begin(L, SJ_SHELL, &err), err);
		assert_fails(sj_link_msg_frame_start(L, SJ_LINK_RECORD_MAX, 0,
						     some, 1, &err),
			     err, "over the link's limit");
		send_msg(d.c, SJ_CONTROL, "next", round ? "live" : "backlog");
		PUMP(d.c, d.s, d.s->n == round + 1 && L->live != NULL);
		check_msg(d.s, round, SJ_CONTROL, "next",
			  round ? "live" : "backlog");
	}
	duo_close(&d);
}

/* Something else on the node shim's port (the shim gone, another
 * program there) that greets but cannot prove itself, first answering
 * Noise's first message with junk, then not at all: the login shim sends
 * it nothing of the backlog, refuses the junk, gives up on the silence
 * after its handshake time, tries again, and delivers everything once the
 * real one is back. */
static void test_impostor_gets_nothing(void **state)
{
	struct pair p;
	struct end *c = calloc(1, sizeof(*c)), *s;
	struct sj_err err = { "" };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
int lfd, port, one = 1, accepted = 0;
	uint8_t greeting[SJ_LINK_GREETING_BYTES] = { 'S', 'J', 'L', '3' };

	(void)state;
	assert_non_null(c);
	make_pair(&p);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);

	assert_ok(sj_link_open_client(&c->L, "127.0.0.1", port, NULL, &p.client,
				      got, c, noted, c, &err), err);
	c->L.handshake_ms = 200;
	send_msg(c, SJ_SHELL, "<IDS|MSG>", "execute_request");
	/* Three connections in turn, each greeted, the first answered with
	 * junk, the others left waiting. */
	int conn[3] = { -1, -1, -1 };
	for (int spins = 0; accepted < 3 && spins < 500; spins++) {
		struct pollfd pf[2] = { { .fd = c->L.epfd, .events = POLLIN },
					{ .fd = lfd, .events = POLLIN } };

		assert_true(poll(pf, 2, 10) >= 0);
		assert_ok(sj_link_service(&c->L, &err), err);
		if (pf[1].revents & POLLIN) {
			conn[accepted] = accept4(lfd, NULL, NULL, 0);
			assert_true(conn[accepted] >= 0);
			assert_int_equal(write(conn[accepted], greeting,
					       sizeof(greeting)),
					 (ssize_t)sizeof(greeting));
			if (accepted == 0) {
				uint8_t junk[2 + 48] = { 0, 48 };

				randombytes_buf(junk + 2, 48);
				assert_int_equal(write(conn[0], junk,
						       sizeof(junk)),
						 (ssize_t)sizeof(junk));
			}
			accepted++;
		}
	}
	assert_int_equal(accepted, 3);
	assert_null(c->L.live);
	assert_non_null(strstr(c->notes, "did not complete the link's "
			       "handshake"));
	assert_non_null(strstr(c->notes, "link: refused 127.0.0.1:"));
	assert_non_null(strstr(c->notes, ": it does not hold the node shim's "
			       "key"));
	/* What the first one got: the client's greeting and Noise's first
	 * message (its length and 48 bytes), nothing of the message
	 * waiting. */
	uint8_t buf[4096];
	ssize_t n = read(conn[0], buf, sizeof(buf));
	assert_int_equal(n, SJ_LINK_GREETING_BYTES + 2 + 48);
	assert_memory_equal(buf, "SJL3\x00\x30", 6);
	close(conn[0]);
	close(conn[1]);
	close(conn[2]);

	/* The real node shim comes back on that port. */
	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	assert_ok(sj_link_open_server(&s->L, lfd, 30, NULL, &p.server, got,
				      s, noted, s, &err), err);
	PUMP(c, s, s->n == 1 && c->L.live != NULL);
	check_msg(s, 0, SJ_SHELL, "<IDS|MSG>", "execute_request");
	end_free(c);
	end_free(s);
	free(c);
	free(s);
}

/* Rekey after a small bound: on both ends, every message arrives, big
 * ones (many transport messages) too; with the bound on one end only, the
 * first message past it fails authentication, so the keys did change. */
static void test_rekey(void **state)
{
	struct duo d;
	char big[200 * 1024];

	(void)state;
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	duo_open(&d, 1);
	d.c->L.rekey_every = d.s->L.rekey_every = 3;
	for (int i = 0; i < 10; i++) {
		send_msg(d.c, SJ_SHELL, "<IDS|MSG>", i == 5 ? big : "ping");
		send_msg(d.s, SJ_IOPUB, "status", i == 7 ? big : "pong");
		PUMP(d.c, d.s, d.s->n == i + 1 && d.c->n == i + 1);
	}
	check_msg(d.s, 5, SJ_SHELL, "<IDS|MSG>", big);
	check_msg(d.c, 7, SJ_IOPUB, "status", big);
	check_msg(d.s, 9, SJ_SHELL, "<IDS|MSG>", "ping");
	check_msg(d.c, 9, SJ_IOPUB, "status", "pong");
	/* Well past the bound each way: 10 messages, 4 more for each big
	 * one, the HELLO. */
	assert_true(d.c->L.live->tx.n > 12 && d.s->L.live->tx.n > 12);
	assert_int_equal(d.s->L.epoch, 1);
	assert_null(strstr(d.s->notes, "failed authentication"));
	duo_close(&d);

	duo_open(&d, 1);
	d.c->L.rekey_every = 3;
	PUMP(d.c, d.s, d.c->L.live != NULL && d.s->L.live != NULL);
	/* Transport messages 1 and 2 (the HELLO was 0), then 3. */
	for (int i = 0; i < 3; i++)
		send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "ping");
	PUMP(d.c, d.s, d.s->n == 2 &&
	     strstr(d.s->notes, "failed authentication") != NULL);
	assert_non_null(strstr(d.s->notes, "link: a message from 127.0.0.1:"));
	duo_close(&d);
}

/* Both ends must bind the same rendezvous: a client keyed for another
 * (its node nonce, its job) is refused like a stranger. */
static void test_prologue_binds_the_rendezvous(void **state)
{
	for (int which = 0; which < 2; which++) {
		struct duo d;
		struct sj_err err = { "" };

		(void)state;
		duo_open(&d, 0);
		if (which == 0)
			assert_ok(sj_link_bind(&d.p.client, NONCE,
					       "0f1e2d3c4b5a69788796a5b4c3d2e1f1",
					       42, 0, &err), err);
		else
			assert_ok(sj_link_bind(&d.p.client, NONCE, NODE_NONCE,
					       43, 0, &err), err);
		assert_ok(sj_link_open_client(&d.c->L, "127.0.0.1", d.port,
					      NULL, &d.p.client, got, d.c,
					      noted, d.c, &err), err);
		send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "execute_request");
		PUMP(d.c, d.s, d.s->L.refused >= 1);
		assert_non_null(strstr(d.s->notes, "it does not hold the "
				       "login shim's key"));
		assert_null(d.s->L.live);
		assert_null(d.c->L.live);
		assert_int_equal(d.s->n, 0);
		duo_close(&d);
	}
}

/* A shim of the previous version (its greeting "SJL2" and an ephemeral
 * key) is refused by the message that says what to do, and hears nothing
 * but our greeting. */
static void test_other_version_refused(void **state)
{
	struct duo d;
	uint8_t old[36] = "SJL2", buf[64];

	(void)state;
	duo_open(&d, 0);
	int fd = stranger(d.port);
	assert_int_equal(write(fd, old, sizeof(old)), (ssize_t)sizeof(old));
	SERVE(d.s, strstr(d.s->notes, "link protocol") != NULL);
	assert_non_null(strstr(d.s->notes, "link: refused 127.0.0.1:"));
	assert_non_null(strstr(d.s->notes, ": it speaks version 2 of the link "
			       "protocol, this shim version 3 (install the "
			       "same spank-jupyter on login and compute "
			       "nodes)"));
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "SJL3", 4);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	duo_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_seal_out_of_memory),
		cmocka_unit_test(test_unbound_keys_refused),
		cmocka_unit_test(test_frames_valid),
		cmocka_unit_test(test_both_ends),
		cmocka_unit_test(test_strangers_refused),
		cmocka_unit_test(test_oldest_unproven_gives_way),
		cmocka_unit_test(test_strangers_push_out_strangers),
		cmocka_unit_test(test_only_from_the_login_address),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_client_connects_from_its_source),
		cmocka_unit_test(test_flood_behind_the_login_shim),
		cmocka_unit_test(test_parts_from_the_client_refused),
		cmocka_unit_test(test_message_over_the_limit),
		cmocka_unit_test(test_impostor_gets_nothing),
		cmocka_unit_test(test_rekey),
		cmocka_unit_test(test_prologue_binds_the_rendezvous),
		cmocka_unit_test(test_other_version_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
