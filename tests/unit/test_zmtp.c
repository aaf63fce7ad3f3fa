// SPDX-License-Identifier: GPL-2.0-or-later
/* The node shim's client of the kernel (common/zmtp/kernel_client.c) and
 * the wire code (zmtp.c), against libzmq's ROUTER and PUB as the kernel
 * binds them: routing id, multipart messages, subscriptions, a kernel
 * that binds late, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "kernel_client.h"
#include "testutil.h"
#include "testloop.h"

#define MAX_GOT 16

struct parts {
	int n, starts, firsts, lasts;
	size_t bytes, total;
	char head[16];		/* the first frame, whole */
};

struct got {
	struct parts parts;
	int n;
	int ch[MAX_GOT];
	int nframes[MAX_GOT];
	char text[MAX_GOT][256];	/* frames joined with '|' */
};

static int on_message(void *arg, int ch, const uint8_t *frames, size_t len)
{
	struct got *g = arg;
	const uint8_t *d;
	size_t off = 0, n, used = 0;

	assert_true(g->n < MAX_GOT);
	g->ch[g->n] = ch;
	while (sj_zmtp_frame_next(frames, len, &off, &d, &n)) {
		used += (size_t)snprintf(g->text[g->n] + used,
					 sizeof(g->text[0]) - used, "%s%.*s",
					 g->nframes[g->n] ? "|" : "", (int)n,
					 (const char *)d);
		g->nframes[g->n]++;
	}
	g->n++;
	return 0;
}

/* A big message's parts: counted, and their bytes checked to be 'y'. */
static int on_part(void *arg, int ch, enum sj_zmtp_part what,
		   const uint8_t *data, size_t n, size_t total, int more,
		   int first, int last)
{
	struct parts *p = &((struct got *)arg)->parts;

	assert_int_equal(ch, SJ_IOPUB);
	p->n++;
	p->firsts += first;
	p->lasts += last;
	if (first) {
		/* The topic frame, whole, then the big one begins. */
		assert_int_equal(what, SJ_ZMTP_PART_FRAME);
		assert_true(more);
		assert_true(n < sizeof(p->head));
		memcpy(p->head, data, n);
		return 0;
	}
	if (what == SJ_ZMTP_PART_START) {
		p->starts++;
		p->total = total;
		assert_false(more);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(data[i], 'y');
	p->bytes += n;
	return 0;
}

static void pump(struct sj_zmtp *z)
{
	test_loop_serve(z->loop, 10);
	sj_zmtp_flush(z);
}

static int recv_multipart(void *s, char out[][64], int max)
{
	int n = 0, more = 1;
	size_t ml = sizeof(more);

	while (more && n < max) {
		int r = zmq_recv(s, out[n], 63, ZMQ_DONTWAIT);

		if (r < 0)
			return n == 0 ? 0 : -1;
		out[n][r < 63 ? r : 63] = '\0';
		n++;
		assert_int_equal(zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml), 0);
	}
	return n;
}

static void test_against_libzmq(void **state)
{
	struct tmp *t = *state;
	struct got g = { 0 };
	struct sj_zmtp z;
	struct sj_err err = { "" };
	char ep[SJ_NCHANNELS][300];
	const char *eps[SJ_NCHANNELS];
	static const uint8_t rid[] = { 0x81, 'r', 'i', 'd' };
	void *ctx = zmq_ctx_new(), *sock[SJ_NCHANNELS];

	assert_non_null(ctx);
	ipc_endpoints(t, "k", ep, eps, SJ_NCHANNELS);
	/* We start first: the kernel binds later, as it does on a node. */
	assert_ok(sj_zmtp_open(&z, test_loop(), eps, rid, sizeof(rid),
			       on_message, on_part, &g, NULL, NULL, &err), err);
	uint8_t buf[512];
	static const char *const sub[] = { "\x01" };
	static const char *const req[] = { "<IDS|MSG>", "sig", "header",
					   "" };
	assert_ok(sj_zmtp_send(&z, SJ_IOPUB, buf, link_frames(buf, sub, 1),
			       &err), err);
	assert_ok(sj_zmtp_send(&z, SJ_SHELL, buf, link_frames(buf, req, 4),
			       &err), err);
	for (int i = 0; i < 5; i++)
		pump(&z);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		sock[ch] = zmq_socket(ctx, ch == SJ_IOPUB ? ZMQ_PUB :
				      ZMQ_ROUTER);
		assert_non_null(sock[ch]);
		assert_int_equal(zmq_bind(sock[ch], ep[ch]), 0);
	}

	/* The kernel's ROUTER gets the request that waited, under our
	 * routing id. */
	char f[8][64];
	int nf = 0;
	for (int i = 0; i < 500 && nf == 0; i++) {
		pump(&z);
		nf = recv_multipart(sock[SJ_SHELL], f, 8);
	}
	assert_int_equal(nf, 5);
	assert_memory_equal(f[0], rid, sizeof(rid));
	assert_string_equal(f[1], "<IDS|MSG>");
	assert_string_equal(f[3], "header");
	assert_string_equal(f[4], "");

	/* Its reply comes back to us without the routing id. */
	assert_int_equal(zmq_send(sock[SJ_SHELL], rid, sizeof(rid),
				  ZMQ_SNDMORE), (int)sizeof(rid));
	assert_int_equal(zmq_send(sock[SJ_SHELL], "<IDS|MSG>", 9, ZMQ_SNDMORE),
			 9);
	assert_int_equal(zmq_send(sock[SJ_SHELL], "reply", 5, 0), 5);
	/* The PUB publishes only once our subscription has arrived. */
	for (int i = 0; i < 500 && g.n < 2; i++) {
		assert_int_equal(zmq_send(sock[SJ_IOPUB], "status", 6,
					  ZMQ_SNDMORE), 6);
		assert_int_equal(zmq_send(sock[SJ_IOPUB], "idle", 4, 0), 4);
		pump(&z);
	}
	assert_true(g.n >= 2);
	int shell = g.ch[0] == SJ_SHELL ? 0 : 1;
	assert_int_equal(g.ch[shell], SJ_SHELL);
	assert_string_equal(g.text[shell], "<IDS|MSG>|reply");
	assert_int_equal(g.ch[!shell], SJ_IOPUB);
	assert_string_equal(g.text[!shell], "status|idle");

	/* A frame over 255 bytes takes the long form both ways. */
	char big[300];
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *const bigf[] = { big };
	uint8_t bbuf[400];
	assert_ok(sj_zmtp_send(&z, SJ_CONTROL, bbuf,
			       link_frames(bbuf, bigf, 1), &err), err);
	char rf[2][512];
	int got_big = 0;
	for (int i = 0; i < 500 && !got_big; i++) {
		pump(&z);
		int r = zmq_recv(sock[SJ_CONTROL], rf[0], sizeof(rf[0]),
				 ZMQ_DONTWAIT);
		if (r == (int)sizeof(rid)) {
			r = zmq_recv(sock[SJ_CONTROL], rf[1], sizeof(rf[1]), 0);
			assert_int_equal(r, (int)strlen(big));
			got_big = 1;
		}
	}
	assert_true(got_big);

	/* A message too big to wait for goes on in parts as it arrives: the
	 * topic frame, the start of the big frame with its whole length,
	 * the rest in pieces; nothing of it as a whole message. */
	size_t mb = 1 << 20;
	char *y = malloc(mb);
	assert_non_null(y);
	memset(y, 'y', mb);
	int whole_before = g.n;
	assert_int_equal(zmq_send(sock[SJ_IOPUB], "big", 3, ZMQ_SNDMORE), 3);
	assert_int_equal(zmq_send(sock[SJ_IOPUB], y, mb, 0), (int)mb);
	free(y);
	for (int i = 0; i < 500 && g.parts.lasts == 0; i++)
		pump(&z);
	assert_int_equal(g.n, whole_before);
	assert_int_equal(g.parts.firsts, 1);
	assert_int_equal(g.parts.lasts, 1);
	assert_int_equal(g.parts.starts, 1);
	assert_string_equal(g.parts.head, "big");
	assert_int_equal(g.parts.total, mb);
	assert_int_equal(g.parts.bytes, mb);
	assert_true(g.parts.n >= 3);

	sj_zmtp_close(&z);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		close_zmq(sock[ch]);
	zmq_ctx_term(ctx);
}

static void test_parse_frame(void **state)
{
	uint8_t flags;
	const uint8_t *body;
	size_t n;

	(void)state;
	assert_int_equal(sj_zmtp_parse_frame((const uint8_t *)"\x01\x03"
					     "abc", 5, &flags, &body, &n), 5);
	assert_int_equal(flags, 1);
	assert_int_equal(n, 3);
	assert_int_equal(sj_zmtp_parse_frame((const uint8_t *)"\x00\x03" "ab",
					     4, &flags, &body, &n), 0);
	assert_int_equal(sj_zmtp_parse_frame((const uint8_t *)"\x02\0\0\0",
					     4, &flags, &body, &n), 0);
	/* Unknown flag bits; a length over the limit. */
	assert_int_equal(sj_zmtp_parse_frame((const uint8_t *)"\x08\x00", 2,
					     &flags, &body, &n), -1);
	assert_int_equal(sj_zmtp_parse_frame(
		(const uint8_t *)"\x02\x7f\0\0\0\0\0\0\0", 9, &flags, &body,
		&n), -1);
}

static void test_handshake_checks(void **state)
{
	uint8_t g[64] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1, 'N', 'U',
			  'L', 'L' };
	static const uint8_t router[] = "\x05READY\x0bSocket-Type\0\0\0\x06"
					"ROUTER";
	static const uint8_t pub[] = "\x05READY\x0bSocket-Type\0\0\0\x03PUB";

	(void)state;
	assert_true(sj_zmtp_greeting_ok(g));
	g[9] = 0x01;		/* the signature's last byte is 0x7f */
	assert_false(sj_zmtp_greeting_ok(g));
	g[9] = 0x7f;
	g[10] = 2;
	assert_false(sj_zmtp_greeting_ok(g));
	g[10] = 3;
	memcpy(g + 12, "CURVE", 5);
	assert_false(sj_zmtp_greeting_ok(g));
	assert_true(sj_zmtp_ready_ok(router, sizeof(router) - 1,
				     SJ_ZMTP_DEALER));
	assert_false(sj_zmtp_ready_ok(router, sizeof(router) - 1,
				      SJ_ZMTP_SUB));
	assert_true(sj_zmtp_ready_ok(pub, sizeof(pub) - 1, SJ_ZMTP_SUB));
	assert_false(sj_zmtp_ready_ok(pub, sizeof(pub) - 2, SJ_ZMTP_SUB));
	assert_false(sj_zmtp_ready_ok((const uint8_t *)"\x05HELLO", 6,
				      SJ_ZMTP_SUB));
}

static void test_endpoints(void **state)
{
	struct sockaddr_storage sa;
	socklen_t sl;

	(void)state;
	assert_int_equal(sj_zmtp_parse_endpoint("ipc:///run/x/kernel-3", &sa,
						&sl), 0);
	assert_int_equal(sa.ss_family, AF_UNIX);
	assert_int_equal(sj_zmtp_parse_endpoint("tcp://127.0.0.1:5555", &sa,
						&sl), 0);
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(sj_zmtp_parse_endpoint("tcp://[::1]:5555", &sa, &sl),
			 0);
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_int_equal(sj_zmtp_parse_endpoint("tcp://localhost:5555", &sa,
						&sl), -1);
	assert_int_equal(sj_zmtp_parse_endpoint("udp://1.2.3.4:5", &sa, &sl),
			 -1);
	assert_int_equal(sj_zmtp_parse_endpoint("ipc://", &sa, &sl), -1);
}

/* A message scanned as it arrives, a byte at a time: each call goes on
 * from where the last stopped, and says what frame it waits for. */
static void test_scan_goes_on(void **state)
{
	uint8_t m[2 + 3 + 9 + 300 + 2];
	struct sj_zmtp_scan sc = { 0 };
	int command = -1, r = 0;
	size_t i;

	(void)state;
	memcpy(m, "\x01\x03" "abc", 5);
	m[5] = 0x03;		/* MORE, long: 300 bytes */
	memset(m + 6, 0, 8);
	m[12] = 0x01;
	m[13] = 0x2c;
	memset(m + 14, 'x', 300);
	memcpy(m + 314, "\x00\x00", 2);
	for (i = 1; i <= sizeof(m); i++) {
		r = sj_zmtp_scan(&sc, m, i, &command);
		if (r != 0)
			break;
		if (i >= 14 && i < 314)
			assert_int_equal(sc.next_size, 300);
	}
	assert_int_equal(r, 1);
	assert_int_equal(i, sizeof(m));
	assert_int_equal(command, 0);
	assert_int_equal(sc.end, sizeof(m));
	assert_int_equal(sc.frames, 3);
	assert_int_equal(sc.body, 303);
	/* A bad flag anywhere is malformed, also past what was scanned. */
	struct sj_zmtp_scan s2 = { 0 };
	m[314] = 0x40;
	assert_int_equal(sj_zmtp_scan(&s2, m, 100, &command), 0);
	assert_int_equal(sj_zmtp_scan(&s2, m, sizeof(m), &command), -1);
}

/* Receives what a verbose XPUB gets within 100 rounds: the number of
 * subscriptions, and whether "\x01" + topic was among them. */
static int xpub_count(struct sj_zmtp *z, void *xpub, const char *topic,
		      int *seen)
{
	char f[64];
	int n = 0;

	*seen = 0;
	for (int i = 0; i < 100; i++) {
		int r;

		pump(z);
		while ((r = zmq_recv(xpub, f, sizeof(f) - 1,
				     ZMQ_DONTWAIT)) >= 0) {
			n++;
			*seen += r == (int)strlen(topic) + 1 && f[0] == 1 &&
				 memcmp(f + 1, topic, strlen(topic)) == 0;
		}
	}
	return n;
}

static void *verbose_xpub(void *ctx, const char *ep)
{
	void *xpub = zmq_socket(ctx, ZMQ_XPUB);
	int one = 1;

	assert_non_null(xpub);
	assert_int_equal(zmq_setsockopt(xpub, ZMQ_XPUB_VERBOSE, &one,
					sizeof(one)), 0);
	assert_int_equal(zmq_bind(xpub, ep), 0);
	return xpub;
}

static void sub_send(struct sj_zmtp *z, const char *topic)
{
	uint8_t buf[64];
	struct sj_err err = { "" };
	size_t n = strlen(topic);

	sj_put_be32(buf, (uint32_t)(n + 1));
	buf[4] = 1;
	memcpy(buf + 5, topic, n);
	assert_ok(sj_zmtp_send(z, SJ_IOPUB, buf, n + 5, &err), err);
}

/* Subscriptions reach the kernel once each, however often Jupyter's
 * side makes them, and all of them again when the kernel's socket comes
 * back; once everything is subscribed to, nothing more is sent; an
 * unsubscription from the link goes nowhere (the login shim keeps
 * those); past 256 topics the node shim subscribes to everything. */
static void test_subscriptions_kept_once(void **state)
{
	struct tmp *t = *state;
	struct got g = { 0 };
	struct sj_zmtp z;
	struct sj_err err = { "" };
	char ep[SJ_NCHANNELS][300];
	const char *eps[SJ_NCHANNELS];
	static const uint8_t rid[] = { 0x81, 'r' };
	void *ctx = zmq_ctx_new();
	uint8_t buf[64];
	int seen;

	ipc_endpoints(t, "s", ep, eps, SJ_NCHANNELS);
	assert_ok(sj_zmtp_open(&z, test_loop(), eps, rid, sizeof(rid),
			       on_message, on_part, &g, NULL, NULL, &err), err);
	sub_send(&z, "some");
	sub_send(&z, "");
	sub_send(&z, "");
	for (int round = 0; round < 2; round++) {
		void *xpub = verbose_xpub(ctx, ep[SJ_IOPUB]);

		if (round == 0) {
			sub_send(&z, "some");
			sub_send(&z, "other");	/* "" has it covered */
			sj_put_be32(buf, 1);	/* one frame: the byte 0 */
			buf[4] = 0;
			assert_ok(sj_zmtp_send(&z, SJ_IOPUB, buf, 5, &err),
				  err);
		}
		assert_int_equal(xpub_count(&z, xpub, "some", &seen), 2);
		assert_int_equal(seen, 1);
		close_zmq(xpub);	/* the kernel's socket goes away */
		for (int i = 0; i < 20; i++)
			pump(&z);
	}
	sj_zmtp_close(&z);

	/* 256 distinct topics, then one more: everything instead. */
	ipc_endpoints(t, "m", ep, eps, SJ_NCHANNELS);
	memset(&g, 0, sizeof(g));
	assert_ok(sj_zmtp_open(&z, test_loop(), eps, rid, sizeof(rid),
			       on_message, on_part, &g, NULL, NULL, &err), err);
	for (int i = 0; i <= SJ_ZMTP_SUBS_MAX; i++) {
		char topic[16];

		snprintf(topic, sizeof(topic), "t%d", i);
		sub_send(&z, topic);
	}
	void *xpub = verbose_xpub(ctx, ep[SJ_IOPUB]);
	assert_int_equal(xpub_count(&z, xpub, "", &seen),
			 SJ_ZMTP_SUBS_MAX + 1);
	assert_int_equal(seen, 1);
	close_zmq(xpub);
	sj_zmtp_close(&z);
	zmq_ctx_term(ctx);
}

/* The one subscription set both ends keep: a set (a topic once), found
 * whole or as a prefix of a message's topic, each kept as the ZMTP
 * message that subscribes to it. */
static void test_topic_set(void **state)
{
	struct sj_zmtp_topics t = { 0 };
	char big[300];
	const uint8_t *body;
	uint8_t flags;
	size_t n;

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(sj_zmtp_topics_add(&t, (const uint8_t *)"ab", 2), 0);
	assert_int_equal(sj_zmtp_topics_add(&t, (const uint8_t *)big,
					    sizeof(big)), 0);
	assert_int_equal(sj_zmtp_topics_add(&t, (const uint8_t *)"", 0), 0);
	assert_int_equal(t.n, 3);
	/* On the wire as they are: 1, then the topic. */
	assert_int_equal(sj_zmtp_parse_frame(t.frames.p, t.frames.len, &flags,
					     &body, &n), 2 + 3);
	assert_int_equal(flags, 0);
	assert_memory_equal(body, "\x01" "ab", 3);
	assert_int_equal(sj_zmtp_topics_find(&t, (const uint8_t *)"ab", 2, 0),
			 0);
	assert_int_equal(sj_zmtp_topics_find(&t, (const uint8_t *)"abc", 3, 0),
			 -1);
	/* "" (everything) is a prefix of any topic; "ab" of "abc". */
	assert_true(sj_zmtp_topics_find(&t, (const uint8_t *)"zz", 2, 1) > 0);
	assert_int_equal(sj_zmtp_topics_find(&t, (const uint8_t *)"abc", 3, 1),
			 0);
	assert_true(sj_zmtp_topics_find(&t, (const uint8_t *)big, sizeof(big),
					0) > 0);
	sj_zmtp_topics_remove(&t, (const uint8_t *)"ab", 2);
	sj_zmtp_topics_remove(&t, (const uint8_t *)"", 0);
	sj_zmtp_topics_remove(&t, (const uint8_t *)"nope", 4);
	assert_int_equal(t.n, 1);
	assert_int_equal(sj_zmtp_topics_find(&t, (const uint8_t *)"abc", 3, 1),
			 -1);
	assert_int_equal(sj_zmtp_topics_find(&t, (const uint8_t *)big,
					     sizeof(big), 0), 0);
	sj_zmtp_topics_free(&t);
	assert_int_equal(t.n, 0);
}

SJ_TEST_MAIN(
	cmocka_unit_test_setup_teardown(test_against_libzmq,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test(test_parse_frame),
	cmocka_unit_test(test_scan_goes_on),
	cmocka_unit_test(test_topic_set),
	cmocka_unit_test_setup_teardown(test_subscriptions_kept_once,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test(test_handshake_checks),
	cmocka_unit_test(test_endpoints))
