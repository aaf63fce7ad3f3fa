// SPDX-License-Identifier: GPL-2.0-or-later
/* The login shim's listener for Jupyter's clients
 * (common/zmtp/jupyter_listener.c) with libzmq's DEALER, REQ and SUB as
 * Jupyter's clients: routing ids, replies routed back, unroutable
 * replies, subscriptions and their prefixes; and whom it admits. */
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
#include "listener_clients.h"


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
	assert_ok(sj_zfront_open(&f, test_loop(), eps, me(), on_message, &g,
				 NULL, NULL, &err), err);

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

	/* Nobody hears what is published before the subscribers are in. */
	size_t status_len = msg(buf, 2, "status", (size_t)6, "idle", (size_t)4);
	assert_int_equal(sj_zfront_audience(&f, buf, status_len), 0);

	/* Both subscriptions travel on toward the kernel. */
	for (int i = 0; i < 500 && g.n < 2; i++)
		pump(&f);
	assert_int_equal(g.n, 2);
	assert_int_equal(sj_zfront_audience(&f, buf, status_len), 1);
	assert_int_equal(sj_zfront_audience(&f, buf,
					    msg(buf, 1, "zzz-topic",
						(size_t)9)), 2);
	assert_int_equal(sj_zfront_audience(&f, buf, 3), 0);
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
	assert_ok(sj_zfront_open(&f, test_loop(), eps, me(), on_message, &g,
				 NULL, NULL, &err), err);
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

/* Connects a plain socket to a listener endpoint (ipc or tcp). */
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
	assert_ok(sj_zfront_open(&f, test_loop(), eps, &other, on_message,
				 &g, noted, &g, &err), err);
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
	assert_ok(sj_zfront_open(&f, test_loop(), eps, me(), on_message, &g,
				 noted, &g, &err), err);
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

SJ_TEST_MAIN(
	cmocka_unit_test_setup_teardown(test_owner_only_ipc,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_owner_only_tcp,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_with_libzmq_clients,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_refuses_wrong_peers,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_silent_clients_make_room,
					tmpdir_setup, tmpdir_teardown))
