/* The login shim's own ZMTP server (common/zfront.c) with libzmq's
 * DEALER, REQ and SUB as Jupyter's clients: routing ids, replies routed
 * back, unroutable replies, subscriptions and their prefixes. */
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

#include "zfront.h"
#include "testutil.h"

#define MAX_GOT 16

struct got {
	int n;
	int ch[MAX_GOT];
	char rid[MAX_GOT][32];
	size_t rid_len[MAX_GOT];
	char text[MAX_GOT][256];	/* frames joined with '|' */
};

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
	while (sj_zmtp_frame_next(frames, len, &off, &d, &n))
		used += (size_t)snprintf(g->text[g->n] + used,
					 sizeof(g->text[0]) - used, "%s%.*s",
					 i++ ? "|" : "", (int)n,
					 (const char *)d);
	g->n++;
	return 0;
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
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		snprintf(ep[ch], sizeof(ep[ch]), "ipc://%s/j-%d", t->dir, ch);
		eps[ch] = ep[ch];
	}
	assert_ok(sj_zfront_open(&f, eps, on_message, &g, NULL, NULL, &err),
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
	for (size_t i = 0; i < sizeof(s) / sizeof(*s); i++) {
		int zero = 0;

		zmq_setsockopt(s[i], ZMQ_LINGER, &zero, sizeof(zero));
		zmq_close(s[i]);
	}
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

	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		snprintf(ep[ch], sizeof(ep[ch]), "ipc://%s/w-%d", t->dir, ch);
		eps[ch] = ep[ch];
	}
	assert_ok(sj_zfront_open(&f, eps, on_message, &g, NULL, NULL, &err),
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
	int zero = 0;
	zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_close(pub);
	zmq_ctx_term(ctx);
	sj_zfront_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_with_libzmq_clients,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_refuses_wrong_peers,
						tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
