// SPDX-License-Identifier: GPL-2.0-or-later
/* The login shim's own ZMTP server (common/zmtp/jupyter_listener.c) with libzmq's
 * DEALER, REQ and SUB as Jupyter's clients: routing ids, replies routed
 * back, unroutable replies, subscriptions and their prefixes. */
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

static void noted(void *arg, int debug, const char *msg)
{
	struct got *g = arg;
	size_t l = strlen(g->notes);

	(void)debug;
	snprintf(g->notes + l, sizeof(g->notes) - l, "%s\n", msg);
}

static int on_message(void *arg, int ch, const uint8_t *rid, size_t rid_len,
		      const uint8_t *frames, size_t len)
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
static const struct sj_zfront_auth *me(void)
{
	static struct sj_zfront_auth a = { .key = "", .scheme = "" };

	a.owner = getuid();
	return &a;
}

static void pump(struct sj_zfront *f)
{
	struct pollfd p = { .fd = f->epfd, .events = POLLIN };
	struct sj_err err = { "" };

	assert_true(poll(&p, 1, 10) >= 0);
	assert_ok(sj_zfront_service(f, &err), err);
	sj_zfront_flush(f);
}

/* A link-layout message from frames given as (pointer, length) pairs. */
static size_t msg(uint8_t *buf, int nf, ...)
{
	va_list ap;
	size_t o = 0;

	va_start(ap, nf);
	for (int i = 0; i < nf; i++) {
		const void *p = va_arg(ap, const void *);
		size_t n = va_arg(ap, size_t);

		sj_put_be32(buf + o, (uint32_t)n);
		memcpy(buf + o + 4, p, n);
		o += 4 + n;
	}
	va_end(ap);
	return o;
}

/* Receives a whole message within ~5 s, joined with '|'. */
static void recv_text(struct sj_zfront *f, void *s, char *out, size_t len)
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

static void test_with_libzmq_clients(void **state)
{
	struct tmp *t = *state;
	struct got g = { 0 };
	struct sj_zfront f;
	struct sj_err err = { "" };
	char ep[SJ_NCHANNELS][300], text[256];
	const char *eps[SJ_NCHANNELS];
	uint8_t buf[512];
	void *ctx = zmq_ctx_new();

	assert_non_null(ctx);
	ipc_endpoints(t, "j", ep, eps, SJ_NCHANNELS);
	assert_ok(sj_zfront_open(&f, eps, me(), on_message, &g, NULL, NULL, &err),
		  err);

	void *alice = zmq_socket(ctx, ZMQ_DEALER);
	void *anon = zmq_socket(ctx, ZMQ_DEALER);
	void *hb = zmq_socket(ctx, ZMQ_REQ);
	void *sub = zmq_socket(ctx, ZMQ_SUB);
	void *picky = zmq_socket(ctx, ZMQ_SUB);
	assert_int_equal(zmq_setsockopt(alice, ZMQ_ROUTING_ID, "alice", 5), 0);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0), 0);
	assert_int_equal(zmq_setsockopt(picky, ZMQ_SUBSCRIBE, "zzz", 3), 0);
	assert_int_equal(zmq_connect(alice, ep[SJ_SHELL]), 0);
	assert_int_equal(zmq_connect(anon, ep[SJ_SHELL]), 0);
	assert_int_equal(zmq_connect(hb, ep[SJ_HB]), 0);
	assert_int_equal(zmq_connect(sub, ep[SJ_IOPUB]), 0);
	assert_int_equal(zmq_connect(picky, ep[SJ_IOPUB]), 0);

	/* Both subscriptions travel on toward the kernel. */
	for (int i = 0; i < 500 && g.n < 2; i++)
		pump(&f);
	assert_int_equal(g.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(g.ch[i], SJ_IOPUB);
		assert_int_equal(g.rid_len[i], 0);
	}
	assert_true(strcmp(g.text[0], "\x01") == 0 ||
		    strcmp(g.text[1], "\x01") == 0);

	/* While held, requests wait in the client (heartbeats do not);
	 * let go, they come. */
	assert_int_equal(sj_zfront_hold(&f, 1), 0);
	assert_int_equal(zmq_send(alice, "<IDS|MSG>", 9, ZMQ_SNDMORE), 9);
	assert_int_equal(zmq_send(alice, "held", 4, 0), 4);
	assert_int_equal(zmq_send(hb, "ping", 4, 0), 4);
	for (int i = 0; i < 500 && g.n < 3; i++)
		pump(&f);
	for (int i = 0; i < 20; i++)
		pump(&f);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ch[2], SJ_HB);
	/* (A REQ waits for its reply before it asks again.) */
	assert_int_equal(sj_zfront_send(&f, SJ_HB, buf,
					msg(buf, 3, g.rid[2], g.rid_len[2],
					    "", (size_t)0, "ping", (size_t)4),
					&err), 0);
	recv_text(&f, hb, text, sizeof(text));
	assert_string_equal(text, "ping");
	assert_int_equal(sj_zfront_hold(&f, 0), 0);
	for (int i = 0; i < 500 && g.n < 4; i++)
		pump(&f);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.text[3], "<IDS|MSG>|held");
	g.n = 2;

	/* A request arrives with its client's routing id first. */
	assert_int_equal(zmq_send(alice, "<IDS|MSG>", 9, ZMQ_SNDMORE), 9);
	assert_int_equal(zmq_send(alice, "request", 7, 0), 7);
	assert_int_equal(zmq_send(anon, "<IDS|MSG>", 9, ZMQ_SNDMORE), 9);
	assert_int_equal(zmq_send(anon, "other", 5, 0), 5);
	assert_int_equal(zmq_send(hb, "ping", 4, 0), 4);
	for (int i = 0; i < 500 && g.n < 5; i++)
		pump(&f);
	assert_int_equal(g.n, 5);
	int a = -1, o = -1, h = -1;
	for (int i = 2; i < 5; i++) {
		if (g.ch[i] == SJ_HB)
			h = i;
		else if (strcmp(g.text[i], "<IDS|MSG>|request") == 0)
			a = i;
		else if (strcmp(g.text[i], "<IDS|MSG>|other") == 0)
			o = i;
	}
	assert_true(a >= 0 && o >= 0 && h >= 0);
	assert_int_equal(g.rid_len[a], 5);
	assert_memory_equal(g.rid[a], "alice", 5);
	/* Without an identity of its own: one of ours, 0 first. */
	assert_int_equal(g.rid_len[o], 5);
	assert_int_equal(g.rid[o][0], 0);
	/* REQ puts an empty delimiter frame before its message. */
	assert_string_equal(g.text[h], "|ping");

	/* Replies are routed by the id and lose it on the way. */
	assert_int_equal(sj_zfront_send(&f, SJ_SHELL, buf,
					msg(buf, 3, "alice", (size_t)5,
					    "<IDS|MSG>", (size_t)9, "reply",
					    (size_t)5), &err), 0);
	recv_text(&f, alice, text, sizeof(text));
	assert_string_equal(text, "<IDS|MSG>|reply");
	assert_int_equal(sj_zfront_send(&f, SJ_SHELL, buf,
					msg(buf, 2, g.rid[o], g.rid_len[o],
					    "for anon", (size_t)8), &err), 0);
	recv_text(&f, anon, text, sizeof(text));
	assert_string_equal(text, "for anon");
	assert_int_equal(sj_zfront_send(&f, SJ_HB, buf,
					msg(buf, 3, g.rid[h], g.rid_len[h],
					    "", (size_t)0, "ping", (size_t)4),
					&err), 0);
	recv_text(&f, hb, text, sizeof(text));
	assert_string_equal(text, "ping");
	/* For a client that is not there: dropped, said so. */
	assert_int_equal(sj_zfront_send(&f, SJ_SHELL, buf,
					msg(buf, 2, "bob", (size_t)3, "x",
					    (size_t)1), &err), 1);

	/* Published: to the subscriber of everything, not to the one that
	 * wants "zzz" only. */
	assert_int_equal(sj_zfront_send(&f, SJ_IOPUB, buf,
					msg(buf, 2, "status", (size_t)6,
					    "idle", (size_t)4), &err), 0);
	assert_int_equal(sj_zfront_send(&f, SJ_IOPUB, buf,
					msg(buf, 1, "zzz-topic", (size_t)9),
					&err), 0);
	recv_text(&f, sub, text, sizeof(text));
	assert_string_equal(text, "status|idle");
	recv_text(&f, sub, text, sizeof(text));
	assert_string_equal(text, "zzz-topic");
	recv_text(&f, picky, text, sizeof(text));
	assert_string_equal(text, "zzz-topic");

	/* A message in parts: the routing id and the start of a frame, then
	 * its last piece; the client gets one whole frame. */
	uint8_t rec[64];
	size_t rl = msg(rec, 1, "alice", (size_t)5);
	sj_put_be32(rec + rl, SJ_LINK_START | 5);
	memcpy(rec + rl + 4, "\0\0\0\0\x0a" "hello", 10);
	rl += 14;
	assert_ok(sj_zfront_stream(&f, SJ_SHELL | SJ_LINK_MORE, rec, rl, &err),
		  err);
	sj_put_be32(rec, SJ_LINK_PIECE | 5);
	memcpy(rec + 4, "world", 5);
	assert_ok(sj_zfront_stream(&f, SJ_SHELL | SJ_LINK_CONT, rec, 9, &err),
		  err);
	recv_text(&f, alice, text, sizeof(text));
	assert_string_equal(text, "helloworld");
	/* On iopub, to the subscribers of its topic only, in three parts. */
	rl = msg(rec, 1, "status", (size_t)6);
	sj_put_be32(rec + rl, SJ_LINK_START | 2);
	memcpy(rec + rl + 4, "\0\0\0\0\x06" "ab", 7);
	rl += 11;
	assert_ok(sj_zfront_stream(&f, SJ_IOPUB | SJ_LINK_MORE, rec, rl, &err),
		  err);
	sj_put_be32(rec, SJ_LINK_PIECE | 2);
	memcpy(rec + 4, "cd", 2);
	assert_ok(sj_zfront_stream(&f, SJ_IOPUB | SJ_LINK_CONT | SJ_LINK_MORE,
				   rec, 6, &err), err);
	memcpy(rec + 4, "ef", 2);
	assert_ok(sj_zfront_stream(&f, SJ_IOPUB | SJ_LINK_CONT, rec, 6, &err),
		  err);
	assert_int_equal(sj_zfront_send(&f, SJ_IOPUB, buf,
					msg(buf, 1, "zzz-after", (size_t)9),
					&err), 0);
	recv_text(&f, sub, text, sizeof(text));
	assert_string_equal(text, "status|abcdef");
	recv_text(&f, picky, text, sizeof(text));
	assert_string_equal(text, "zzz-after");

	/* A message in parts cut short by a new message on its channel:
	 * the client that got its start is dropped, its frame would never
	 * end; the new message finds nobody by that id. */
	rl = msg(rec, 1, "alice", (size_t)5);
	sj_put_be32(rec + rl, SJ_LINK_START | 5);
	memcpy(rec + rl + 4, "\0\0\0\0\x0a" "hello", 10);
	rl += 14;
	assert_ok(sj_zfront_stream(&f, SJ_SHELL | SJ_LINK_MORE, rec, rl, &err),
		  err);
	assert_int_equal(sj_zfront_send(&f, SJ_SHELL, buf,
					msg(buf, 2, "alice", (size_t)5, "x",
					    (size_t)1), &err), 1);

	void *s[] = { alice, anon, hb, sub, picky };
	for (size_t i = 0; i < sizeof(s) / sizeof(*s); i++)
		close_zmq(s[i]);
	zmq_ctx_term(ctx);
	sj_zfront_close(&f);
	/* The ipc socket files are gone with it. */
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		assert_int_equal(access(ep[ch] + 6, F_OK), -1);
}

static void test_refuses_wrong_peers(void **state)
{
	struct tmp *t = *state;
	struct got g = { 0 };
	struct sj_zfront f;
	struct sj_err err = { "" };
	char ep[SJ_NCHANNELS][300];
	const char *eps[SJ_NCHANNELS];
	void *ctx = zmq_ctx_new();

	ipc_endpoints(t, "w", ep, eps, SJ_NCHANNELS);
	assert_ok(sj_zfront_open(&f, eps, me(), on_message, &g, NULL, NULL, &err),
		  err);
	/* A PUB on the shell port is no client of a ROUTER. */
	void *pub = zmq_socket(ctx, ZMQ_PUB);
	assert_int_equal(zmq_connect(pub, ep[SJ_SHELL]), 0);
	for (int i = 0; i < 50; i++) {
		zmq_send(pub, "x", 1, ZMQ_DONTWAIT);
		pump(&f);
	}
	assert_int_equal(g.n, 0);
	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
		assert_null(f.peer[SJ_SHELL][i]);
	close_zmq(pub);
	zmq_ctx_term(ctx);
	sj_zfront_close(&f);
}

/* Five ipc endpoints in the test's directory, and a server on them. */
static void open_front(struct tmp *t, const char *prefix, struct sj_zfront *f,
		       struct got *g, char ep[][300])
{
	const char *eps[SJ_NCHANNELS];
	struct sj_err err = { "" };

	ipc_endpoints(t, prefix, ep, eps, SJ_NCHANNELS);
	assert_ok(sj_zfront_open(f, eps, me(), on_message, g, noted, g, &err), err);
}

static void write_all(int fd, const void *p, size_t n)
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
static int raw_client(const char *ep, const char *type)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", ep + 6);
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

static void raw_send(int fd, uint8_t flags, const void *data, size_t n)
{
	struct sj_buf b = { 0 };

	assert_int_equal(sj_zmtp_put_frame(&b, flags, data, n), 0);
	write_all(fd, b.p, b.len);
	sj_buf_free(&b);
}

static int npeers(const struct sj_zfront *f, int ch)
{
	int n = 0;

	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
		n += f->peer[ch][i] != NULL;
	return n;
}

/* What a client gets before the server closes: the bytes, or -1 if it
 * is still open after ~5 s. */
static long bytes_before_close(struct sj_zfront *f, int fd)
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
static int closed_by_server(struct sj_zfront *f, int fd)
{
	return bytes_before_close(f, fd) >= 0;
}

/* Clients that connect and never finish their handshake do not hold the
 * slots for good: Jupyter's client still gets in. */
static void test_silent_clients_make_room(void **state)
{
	struct got g = { 0 };
	struct sj_zfront f;
	char ep[SJ_NCHANNELS][300];
	int fd[SJ_ZFRONT_MAX_PEERS + 8];
	void *ctx = zmq_ctx_new();

	open_front(*state, "s", &f, &g, ep);
	for (size_t i = 0; i < sizeof(fd) / sizeof(*fd); i++) {
		fd[i] = raw_client(ep[SJ_SHELL], NULL);
		pump(&f);
	}
	for (int i = 0; i < 10; i++)
		pump(&f);
	assert_int_equal(npeers(&f, SJ_SHELL), SJ_ZFRONT_MAX_PEERS);

	void *alice = zmq_socket(ctx, ZMQ_DEALER);
	assert_int_equal(zmq_setsockopt(alice, ZMQ_ROUTING_ID, "alice", 5), 0);
	assert_int_equal(zmq_connect(alice, ep[SJ_SHELL]), 0);
	assert_int_equal(zmq_send(alice, "<IDS|MSG>", 9, ZMQ_SNDMORE), 9);
	assert_int_equal(zmq_send(alice, "request", 7, 0), 7);
	for (int i = 0; i < 500 && g.n < 1; i++)
		pump(&f);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text[0], "<IDS|MSG>|request");
	assert_null(strstr(g.notes, "refused"));
	close_zmq(alice);
	zmq_ctx_term(ctx);
	for (size_t i = 0; i < sizeof(fd) / sizeof(*fd); i++)
		close(fd[i]);
	sj_zfront_close(&f);
}

/* What a client may send: a message too big for the link drops it at
 * its first frame header, before any of it is held; a huge number of
 * frames arrives whole; subscriptions are a set, and a bounded one. */
static void test_client_limits(void **state)
{
	struct got g = { 0 };
	struct sj_zfront f;
	char ep[SJ_NCHANNELS][300];
	uint8_t head[9] = { 0x03 };	/* MORE, long */

	open_front(*state, "l", &f, &g, ep);
	int big = raw_client(ep[SJ_SHELL], "DEALER");
	for (int i = 0; i < 8; i++)
		head[1 + i] = (uint8_t)((uint64_t)SJ_LINK_LEN_MASK >>
					(56 - 8 * i));
	write_all(big, head, sizeof(head));
	assert_true(closed_by_server(&f, big));
	assert_non_null(strstr(g.notes, "shell channel: a client sent a "
			       "message of more than"));
	assert_non_null(strstr(g.notes, "over the link's limit; dropped"));
	close(big);

	/* 100 000 empty frames and a last one, in one go. */
	enum { NEMPTY = 100000 };
	uint8_t *many = malloc(2 * NEMPTY + 5);
	assert_non_null(many);
	for (int i = 0; i < NEMPTY; i++) {
		many[2 * i] = 0x01;
		many[2 * i + 1] = 0;
	}
	memcpy(many + 2 * NEMPTY, "\x00\x03" "end", 5);
	int lots = raw_client(ep[SJ_CONTROL], "DEALER");
	write_all(lots, many, 2 * NEMPTY + 5);
	free(many);
	for (int i = 0; i < 500 && g.n < 1; i++)
		pump(&f);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.ch[0], SJ_CONTROL);
	assert_int_equal(g.nframes[0], NEMPTY + 1);

	/* The same subscription twice travels on once. */
	int sub = raw_client(ep[SJ_IOPUB], "SUB");
	raw_send(sub, 0, "\x01", 1);
	raw_send(sub, 0, "\x01", 1);
	raw_send(sub, 0, "\x01" "topic", 6);
	for (int i = 0; i < 50; i++)
		pump(&f);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.text[1], "\x01");
	assert_string_equal(g.text[2], "\x01" "topic");
	/* Past 32 of them, the client is dropped. */
	for (int i = 0; i < 40; i++) {
		char t[16];

		snprintf(t, sizeof(t), "\x01t%02d", i);
		raw_send(sub, 0, t, strlen(t));
	}
	assert_true(closed_by_server(&f, sub));
	assert_non_null(strstr(g.notes, "iopub channel: a client sent "
			       "something other than a subscription, or "
			       "more than 32"));
	close(sub);
	/* On iopub only subscriptions come: a longer message is refused at
	 * its header. */
	sub = raw_client(ep[SJ_IOPUB], "SUB");
	uint8_t lhead[9] = { 0x02, 0, 0, 0, 0, 0, 0, 0x08, 0 };	/* 2 KiB */
	write_all(sub, lhead, sizeof(lhead));
	assert_true(closed_by_server(&f, sub));
	assert_non_null(strstr(g.notes, "too long for a subscription"));
	close(sub);
	close(lots);
	sj_zfront_close(&f);
}

/* A subscriber that stops reading costs bounded memory: past the
 * high-water mark its messages are dropped, and a subscriber that reads
 * still gets every one. */
static void test_slow_subscriber(void **state)
{
	struct got g = { 0 };
	struct sj_zfront f;
	struct sj_err err = { "" };
	char ep[SJ_NCHANNELS][300];
	void *ctx = zmq_ctx_new();
	size_t mb = 1 << 20;
	enum { NMSG = 48 };
	uint8_t *m = malloc(4 + 5 + 4 + mb);
	char *rbuf = malloc(mb);

	assert_non_null(m);
	assert_non_null(rbuf);
	open_front(*state, "h", &f, &g, ep);
	int stuck = raw_client(ep[SJ_IOPUB], "SUB");
	raw_send(stuck, 0, "\x01", 1);
	void *sub = zmq_socket(ctx, ZMQ_SUB);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0), 0);
	assert_int_equal(zmq_connect(sub, ep[SJ_IOPUB]), 0);
	for (int i = 0; i < 500 && g.n < 2; i++)
		pump(&f);
	assert_int_equal(g.n, 2);

	sj_put_be32(m, 5);
	memcpy(m + 4, "topic", 5);
	sj_put_be32(m + 9, (uint32_t)mb);
	memset(m + 13, 'z', mb);
	int received = 0;
	for (int k = 0; k < NMSG; k++) {
		assert_int_equal(sj_zfront_send(&f, SJ_IOPUB, m, 13 + mb, &err),
				 0);
		sj_zfront_flush(&f);
		for (int i = 0; i < 2000 && received == k; i++) {
			int r = zmq_recv(sub, rbuf, mb, ZMQ_DONTWAIT);

			if (r == 5) {
				r = zmq_recv(sub, rbuf, mb, 0);
				assert_int_equal(r, (int)mb);
				received++;
			} else {
				pump(&f);
			}
		}
		assert_int_equal(received, k + 1);
	}
	size_t most = 0;
	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
		struct sj_zfront_peer *p = f.peer[SJ_IOPUB][i];

		if (p != NULL && p->out.len - p->out.off > most)
			most = p->out.len - p->out.off;
	}
	assert_true(most <= SJ_ZFRONT_HWM + 13 + mb);
	assert_true(f.hwm_dropped > 0);
	assert_non_null(strstr(g.notes, "a client is not reading"));
	free(m);
	free(rbuf);
	close(stuck);
	close_zmq(sub);
	zmq_ctx_term(ctx);
	sj_zfront_close(&f);
}

/* A message in parts from the node shim whose parts do not add up (the
 * link carries only what the node shim sealed, so this is defence in
 * depth): the client it was going to is dropped, never handed a frame
 * that would not end; one whose routing id came split goes nowhere. */
static void test_parts_that_do_not_add_up(void **state)
{
	struct got g = { 0 };
	struct sj_zfront f;
	struct sj_err err = { "" };
	char ep[SJ_NCHANNELS][300], text[256];
	void *ctx = zmq_ctx_new();
	uint8_t rec[64], buf[64];
	size_t rl;

	open_front(*state, "p", &f, &g, ep);
	void *alice = zmq_socket(ctx, ZMQ_DEALER);
	assert_int_equal(zmq_setsockopt(alice, ZMQ_ROUTING_ID, "alice", 5), 0);
	assert_int_equal(zmq_connect(alice, ep[SJ_SHELL]), 0);
	assert_int_equal(zmq_send(alice, "hi", 2, 0), 2);
	for (int i = 0; i < 500 && g.n < 1; i++)
		pump(&f);
	assert_int_equal(g.n, 1);

	/* The routing id itself in a START: nobody to go to. */
	sj_put_be32(rec, SJ_LINK_START | 5);
	memcpy(rec + 4, "\0\0\0\0\x05" "alice", 10);
	assert_int_equal(sj_zfront_stream(&f, SJ_SHELL | SJ_LINK_MORE, rec, 14,
					  &err), 1);
	assert_int_equal(npeers(&f, SJ_SHELL), 1);

	/* A frame of 10 promised, 5 + 3 delivered, and the message ends. */
	for (int round = 0; round < 2; round++) {
		uint64_t serial = 0;

		for (int k = 0; k < 500 && serial == 0; k++) {
			pump(&f);	/* alice is back */
			for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
				if (f.peer[SJ_SHELL][i] != NULL &&
				    f.peer[SJ_SHELL][i]->state == SJ_ZMTP_OPEN)
					serial = f.peer[SJ_SHELL][i]->serial;
		}
		assert_true(serial != 0);
		rl = msg(rec, 1, "alice", (size_t)5);
		sj_put_be32(rec + rl, SJ_LINK_START | 5);
		memcpy(rec + rl + 4, "\0\0\0\0\x0a" "hello", 10);
		rl += 14;
		assert_int_equal(sj_zfront_stream(&f, SJ_SHELL | SJ_LINK_MORE,
						  rec, rl, &err), 0);
		/* Round 0: too few bytes at the end; round 1: too many. */
		sj_put_be32(rec, SJ_LINK_PIECE | (round ? 9 : 3));
		memcpy(rec + 4, "wor......", 9);
		assert_int_equal(sj_zfront_stream(&f, SJ_SHELL | SJ_LINK_CONT,
						  rec, round ? 13 : 7, &err),
				 1);
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++)
			assert_true(f.peer[SJ_SHELL][i] == NULL ||
				    f.peer[SJ_SHELL][i]->serial != serial);
	}
	assert_non_null(strstr(g.notes, "do not add up"));
	/* alice, reconnected by libzmq, gets the next message whole. */
	for (int i = 0; i < 500 && npeers(&f, SJ_SHELL) == 0; i++)
		pump(&f);
	for (int i = 0; i < 500 && sj_zfront_send(&f, SJ_SHELL, buf,
			msg(buf, 2, "alice", (size_t)5, "again", (size_t)5),
			&err) != 0; i++)
		pump(&f);
	recv_text(&f, alice, text, sizeof(text));
	assert_string_equal(text, "again");
	close_zmq(alice);
	zmq_ctx_term(ctx);
	sj_zfront_close(&f);
}

/* Five loopback TCP endpoints on ports that were free a moment ago. */
static void tcp_endpoints(char ep[][300], const char **eps)
{
	for (int i = 0; i < SJ_NCHANNELS; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t sl = sizeof(sa);
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_true(fd >= 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sl), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl),
				 0);
		close(fd);
		snprintf(ep[i], 300, "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
		eps[i] = ep[i];
	}
}

/* Connects a plain socket to a zfront endpoint (ipc or tcp). */
static int plain_connect(const char *ep)
{
	struct sockaddr_storage sa;
	socklen_t sl;
	int fd;

	assert_int_equal(sj_zmtp_parse_endpoint(ep, &sa, &sl), 0);
	fd = socket(sa.ss_family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sl), 0);
	return fd;
}


/* A client whose socket is not the owner's is closed before it gets a
 * byte, on ipc (SO_PEERCRED) and on loopback TCP (socket diagnostics);
 * the owner's gets the greeting and stays.  The owner here is a uid
 * other than ours, so the test needs no second account: it is what
 * another user's client looks like to the server. */
static void owner_only(struct tmp *t, int tcp)
{
	struct got g = { 0 };
	struct sj_zfront f;
	struct sj_zfront_auth other = { .owner = getuid() + 1, .key = "",
					.scheme = "" };
	struct sj_err err = { "" };
	char ep[SJ_NCHANNELS][300];
	const char *eps[SJ_NCHANNELS];

	if (tcp)
		tcp_endpoints(ep, eps);
	else
		ipc_endpoints(t, "o", ep, eps, SJ_NCHANNELS);
	assert_ok(sj_zfront_open(&f, eps, &other, on_message, &g, noted, &g,
				 &err), err);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		int fd = plain_connect(ep[ch]);

		assert_int_equal(bytes_before_close(&f, fd), 0);
		close(fd);
		assert_int_equal(npeers(&f, ch), 0);
	}
	assert_non_null(strstr(g.notes, "only the kernel's owner"));
	/* A flood of them: five lines, then one with the count. */
	for (int i = 0; i < 40; i++) {
		int fd = plain_connect(ep[SJ_SHELL]);

		assert_int_equal(bytes_before_close(&f, fd), 0);
		close(fd);
	}
	sj_zfront_close(&f);
	int lines = 0;
	for (const char *n = g.notes; (n = strchr(n, '\n')) != NULL; n++)
		lines++;
	assert_int_equal(lines, SJ_RATELIMIT_BURST + 1);
	assert_non_null(strstr(g.notes, "(40 lines about refused "
				      "connections were not written"));

	/* The owner's client: greeted, and kept. */
	memset(&g, 0, sizeof(g));
	if (tcp)
		tcp_endpoints(ep, eps);
	assert_ok(sj_zfront_open(&f, eps, me(), on_message, &g, noted, &g,
				 &err), err);
	int fd = plain_connect(ep[SJ_CONTROL]);
	assert_int_equal(bytes_before_close(&f, fd), -1);
	assert_int_equal(npeers(&f, SJ_CONTROL), 1);
	assert_string_equal(g.notes, "");
	close(fd);
	sj_zfront_close(&f);
}

static void test_owner_only_ipc(void **state)
{
	owner_only(*state, 0);
}

static void test_owner_only_tcp(void **state)
{
	owner_only(*state, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_owner_only_ipc,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_owner_only_tcp,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_with_libzmq_clients,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_refuses_wrong_peers,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_silent_clients_make_room,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_client_limits,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_slow_subscriber,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_parts_that_do_not_add_up,
						tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
