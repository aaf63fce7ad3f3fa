// SPDX-License-Identifier: GPL-2.0-or-later
/* The listener for Jupyter's clients (common/zmtp/jupyter_listener.c)
 * under strain: what a client may send, a subscriber that stops reading,
 * a message in parts from the node shim that does not add up. */
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
#include "listener_clients.h"
#include "testutil.h"

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

SJ_TEST_MAIN(
	cmocka_unit_test_setup_teardown(test_client_limits,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_slow_subscriber,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_parts_that_do_not_add_up,
					tmpdir_setup, tmpdir_teardown))
