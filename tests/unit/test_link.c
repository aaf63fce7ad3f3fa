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
#include "link_seal.h"
#include "testutil.h"
#include "linkpair.h"

/* test_seal_out_of_memory asks for terabytes: under ASan too, malloc is
 * to say no, as it does to the shims. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
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
	static const struct {
		const char *e;
		size_t len;
		int parts, valid;
	} t[] = {
		{ "", 0, 1, 1 },
		{ "\0\0\0\0\0\0\0\2ab", 10, 1, 1 },
		{ "\0\0\0", 3, 1, 0 },
		{ "\0\0\0\3ab", 6, 1, 0 },
		{ "\xff\xff\xff\xff", 4, 1, 0 },
		/* START: 2 bytes of a 5-byte frame, another frame after it;
		 * PIECE: 3 more. */
		{ "\x80\0\0\2\1\0\0\0\5ab", 11, 1, 1 },
		{ "\x40\0\0\3cde", 7, 1, 1 },
		/* A START whose piece is longer than its frame, a bad more
		 * flag, both flags at once, a START cut short. */
		{ "\x80\0\0\2\1\0\0\0\1ab", 11, 1, 0 },
		{ "\x80\0\0\2\2\0\0\0\5ab", 11, 1, 0 },
		{ "\xc0\0\0\0", 4, 1, 0 },
		{ "\x80\0\0\0\1\0", 6, 1, 0 },
		/* Outside a message in parts, only whole frames. */
		{ "\0\0\0\0\0\0\0\2ab", 10, 0, 1 },
		{ "\x80\0\0\2\1\0\0\0\5ab", 11, 0, 0 },
		{ "\0\0\0\0\x40\0\0\3cde", 11, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(sj_link_frames_valid((const uint8_t *)t[i].e,
						      t[i].len, t[i].parts),
				 t[i].valid);
}

/* The one walker of the entries: a START (another frame to follow), its
 * PIECE, an empty frame and a whole one, each as it was written; then
 * the end, and an entry cut short. */
static void test_entries(void **state)
{
	static const uint8_t e[] = "\x80\0\0\2\1\0\0\0\5ab" "\x40\0\0\3cde"
				   "\0\0\0\0" "\0\0\0\3xyz";
	struct sj_link_entry x;
	size_t at = 0;

	(void)state;
	assert_int_equal(sj_link_entry_next(e, sizeof(e) - 1, &at, &x), 1);
	assert_int_equal(x.head, SJ_LINK_START | 2);
	assert_int_equal(x.more, 1);
	assert_int_equal(x.total, 5);
	assert_int_equal(x.n, 2);
	assert_memory_equal(x.data, "ab", 2);
	assert_int_equal(sj_link_entry_next(e, sizeof(e) - 1, &at, &x), 1);
	assert_int_equal(x.head, SJ_LINK_PIECE | 3);
	assert_int_equal(x.total, 3);
	assert_memory_equal(x.data, "cde", 3);
	assert_int_equal(sj_link_entry_next(e, sizeof(e) - 1, &at, &x), 1);
	assert_int_equal(x.head, 0);
	assert_int_equal(x.n, 0);
	assert_int_equal(sj_link_entry_next(e, sizeof(e) - 1, &at, &x), 1);
	assert_int_equal(x.more, 0);
	assert_memory_equal(x.data, "xyz", 3);
	assert_int_equal(at, sizeof(e) - 1);
	assert_int_equal(sj_link_entry_next(e, sizeof(e) - 1, &at, &x), 0);
	at = 18;	/* the empty frame, its word cut short */
	assert_int_equal(sj_link_entry_next(e, 20, &at, &x), -1);
	assert_int_equal(at, 18);
}

/* ------------------------------------------- both ends over loopback */

/* Keys as the shims make them, from the rendezvous's hex text, open
 * nothing until bound to it: neither end, nor after a failed bind. */
static void test_unbound_keys_refused(void **state)
{
	struct sj_link_keys k;
	struct sj_evloop lp;
	struct sj_link L;
	struct sj_err err = { "" };
	uint8_t pub[32], sec[32];
	char zpub[65], zsec[65];
	int port;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	assert_ok(sj_evloop_open(&lp, &err), err);
	crypto_box_keypair(pub, sec);
	sodium_bin2hex(zpub, sizeof(zpub), pub, 32);
	sodium_bin2hex(zsec, sizeof(zsec), sec, 32);
	/* Garbage where the stack left it (shim/login.c's keys live there). */
	memset(&k, 0xa5, sizeof(k));
	assert_ok(sj_link_keys_from_hex(&k, zpub, zsec, zpub, &err), err);
	assert_fails(sj_link_open_server(&L, &lp, listener(&port), 30, NULL,
					 &k, got, NULL, NULL, NULL, &err),
		     err, "link: keys not bound to a rendezvous");
	sj_link_close(&L);
	assert_fails(sj_link_open_client(&L, &lp, "127.0.0.1", port, NULL,
					 &k, got, NULL, NULL, NULL, &err),
		     err, "link: keys not bound to a rendezvous");
	sj_link_close(&L);
	assert_fails(sj_link_bind(&k, NONCE, "not hex", 1, 0, &err), err,
		     "nonce");
	assert_fails(sj_link_open_client(&L, &lp, "127.0.0.1", port, NULL,
					 &k, got, NULL, NULL, NULL, &err),
		     err, "link: keys not bound to a rendezvous");
	sj_link_close(&L);
	/* Bound, the same keys open. */
	assert_ok(sj_link_bind(&k, NONCE, NODE_NONCE, 1, 0, &err), err);
	assert_ok(sj_link_open_server(&L, &lp, listener(&port), 30, NULL, &k,
				      got, NULL, NULL, NULL, &err), err);
	sj_link_close(&L);
	sj_evloop_close(&lp);
	sodium_memzero(&k, sizeof(k));
}

static void test_both_ends(void **state)
{
	struct pair p;
	struct end *c = end_new(), *s;
	int port;

	(void)state;
	s = serve(&p, &port);
	/* Written before anybody connected: waits, then arrives first. */
	send_msg(s, SJ_IOPUB, "status", "starting");
	connect_end(c, port, &p.client);
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
}

/* Room for a record still coming is made to its size, not doubled (a
 * record near the limit of 2^30 - 16 bytes costs 1 GiB, not 2), and the
 * reads that follow use it rather than grow it. */
static void test_room_for_record(void **state)
{
	struct sj_link_conn c = { .fd = -1 };
	size_t rest = 64 * 1024 * 1024 - 100 * 1024;

	(void)state;
	assert_int_equal(sj_link_room_for_record(&c, rest), 0);
	assert_true(c.in.cap >= rest + (rest / SJ_NOISE_PAYLOAD_MAX + 1) *
		    SJ_LINK_MSG_OVERHEAD);
	assert_true(c.in.cap < 65 * 1024 * 1024);
	assert_int_equal(sj_link_read_chunk(&c), c.in.cap);
	c.in.len = c.in.cap - 10;
	assert_int_equal(sj_link_read_chunk(&c), SJ_LINK_READ_CHUNK);
	sj_buf_free(&c.in);
}

/* What the client wrote before it had a connection goes out as one
 * stream of records sealed into messages of SJ_NOISE_PAYLOAD_MAX bytes
 * wherever they fall: records of all sizes cross from one message into
 * the next at all kinds of places, and each arrives whole, in order. */
static void test_records_across_messages(void **state)
{
	static uint8_t b[40000];
	struct duo d;
	char word[16];
	int n = 60;

	(void)state;
	randombytes_buf(b, sizeof(b));
	duo_open(&d, 1);
	for (int i = 0; i < n; i++) {
		snprintf(word, sizeof(word), "m%d", i);
		send_frames(d.c, SJ_SHELL, word, b, (size_t)i * 7919 % sizeof(b));
	}
	assert_true(sj_link_queued(&d.c->L) > 8 * SJ_NOISE_PAYLOAD_MAX);
	PUMP(d.c, d.s, d.s->n == n);
	for (int i = 0; i < n; i++) {
		snprintf(word, sizeof(word), "m%d", i);
		check_frames(d.s, i, SJ_SHELL, 2, word, strlen(word), b,
			     (size_t)i * 7919 % sizeof(b));
	}
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

/* The login shim connects from the address the node reached it at (the
 * rendezvous's), so that the node takes its link whatever address routing
 * would have picked. */
static void test_client_connects_from_its_source(void **state)
{
	struct pair p;
	struct end *c = end_new(), *s;
	struct sj_err err = { "" };
	int port;

	(void)state;
	s = serve_for(&p, &port, "127.0.0.3");
	assert_ok(sj_link_open_client(&c->L, &c->lp, "127.0.0.1", port,
				      "127.0.0.3", &p.client, got, c, noted, c,
				      &err), err);
	send_msg(c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	PUMP(c, s, s->n == 1 && c->L.live != NULL && s->L.live != NULL);
	assert_non_null(strstr(s->notes, "login side connected from "
			       "127.0.0.3:"));
	end_free(c);
	end_free(s);
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
		connect_end(d.c, d.port, &d.p.client);
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

SJ_TEST_MAIN(
	cmocka_unit_test(test_bind),
	cmocka_unit_test(test_seal_open),
	cmocka_unit_test(test_seal_out_of_memory),
	cmocka_unit_test(test_unbound_keys_refused),
	cmocka_unit_test(test_frames_valid),
	cmocka_unit_test(test_entries),
	cmocka_unit_test(test_both_ends),
	cmocka_unit_test(test_room_for_record),
	cmocka_unit_test(test_records_across_messages),
	cmocka_unit_test(test_hold),
	cmocka_unit_test(test_client_connects_from_its_source),
	cmocka_unit_test(test_parts_from_the_client_refused),
	cmocka_unit_test(test_message_over_the_limit),
	cmocka_unit_test(test_rekey),
	cmocka_unit_test(test_prologue_binds_the_rendezvous))
