// SPDX-License-Identifier: GPL-2.0-or-later
/* common/link/noise.c against another implementation of
 * Noise_KK_25519_ChaChaPoly_BLAKE2b: dissononce (Debian's
 * python3-dissononce), run as tests/unit/noise_peer.py on the other end of
 * a socketpair.  Both roles each way, transport messages both ways, a
 * Rekey of both directions, and static keys the other end does not expect
 * refused by either implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "noise.h"
#include "testutil.h"

/* Debian's python3, where python3-dissononce is installed: PATH may name
 * another (a pyenv's) without it. */
#define PYTHON "/usr/bin/python3"
#define PEER_FD 3

static const uint8_t PROLOGUE[] = "spank-jupyter noise interop";

struct key {
	uint8_t pub[32], sec[32];
};

struct peer {
	pid_t pid;
	int fd;
};

static void make_key(struct key *k)
{
	assert_true(sodium_init() >= 0);
	assert_int_equal(crypto_box_keypair(k->pub, k->sec), 0);
}

static const char *tohex(const uint8_t *b, size_t len, char *out)
{
	return sodium_bin2hex(out, 2 * len + 1, b, len);
}

/* noise_peer.py, beside this file, with its end of a socketpair as fd 3. */
static void spawn(struct peer *p, const char *role, const uint8_t *s_sec,
		  const uint8_t *rs)
{
	char script[512], shex[65], rhex[65], phex[2 * sizeof(PROLOGUE) + 1];
	const char *slash = strrchr(__FILE__, '/');
	int sv[2];

	snprintf(script, sizeof(script), "%.*s/noise_peer.py",
		 slash != NULL ? (int)(slash - __FILE__) : 1,
		 slash != NULL ? __FILE__ : ".");
	tohex(s_sec, 32, shex);
	tohex(rs, 32, rhex);
	tohex(PROLOGUE, sizeof(PROLOGUE) - 1, phex);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		/* dup2 clears close-on-exec; fcntl in case sv[1] is 3. */
		if ((sv[1] == PEER_FD ?
		     fcntl(PEER_FD, F_SETFD, 0) : dup2(sv[1], PEER_FD)) < 0)
			_exit(126);
		execl(PYTHON, PYTHON, script, role, shex, rhex, phex,
		      (char *)NULL);
		_exit(127);
	}
	assert_int_equal(close(sv[1]), 0);
	p->fd = sv[0];
}

/* The peer's exit status (its stderr went to the test's). */
static int reap(struct peer *p)
{
	int status;

	if (p->fd >= 0)
		assert_int_equal(close(p->fd), 0);
	p->fd = -1;
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void send_msg(struct peer *p, const uint8_t *msg, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	assert_true(len <= SJ_NOISE_MSG_MAX);
	assert_int_equal(send(p->fd, hdr, 2, MSG_NOSIGNAL), 2);
	for (size_t off = 0; off < len;) {
		ssize_t n = send(p->fd, msg + off, len - off, MSG_NOSIGNAL);

		assert_true(n > 0);
		off += (size_t)n;
	}
}

static int read_exact(int fd, uint8_t *b, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = read(fd, b + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* The next message, into msg (cap bytes); -1 when the peer has closed. */
static int recv_msg(struct peer *p, uint8_t *msg, size_t cap, size_t *len)
{
	uint8_t hdr[2];

	*len = 0;
	if (read_exact(p->fd, hdr, 2) != 0)
		return -1;
	*len = (size_t)hdr[0] << 8 | hdr[1];
	if (*len > cap)
		fail_msg("the peer sent a message of %zu bytes", *len);
	return read_exact(p->fd, msg, *len);
}

/* Our end of the handshake, in role init; on success tx, rx and the
 * handshake hash. */
static void handshake(struct peer *p, int init, const struct key *s,
		      const uint8_t *rs, struct sj_noise_cipher *tx,
		      struct sj_noise_cipher *rx, uint8_t *hash)
{
	static const char *names[] = { "common/link/noise.c responder",
				       "common/link/noise.c initiator" };
	const char *want = init ? "dissononce responder" :
				  "dissononce initiator";
	struct sj_noise_kk hs;
	struct sj_err err = { "" };
	uint8_t msg[SJ_NOISE_MSG_MAX], pl[SJ_NOISE_MSG_MAX];
	size_t len, plen;

	assert_ok(sj_noise_kk_init(&hs, init, PROLOGUE, sizeof(PROLOGUE) - 1,
				   s->sec, rs, &err), err);
	if (init) {
		assert_ok(sj_noise_kk_write(&hs, (const uint8_t *)names[1],
					    strlen(names[1]), msg, sizeof(msg),
					    &len, &err), err);
		send_msg(p, msg, len);
	}
	assert_int_equal(recv_msg(p, msg, sizeof(msg), &len), 0);
	assert_ok(sj_noise_kk_read(&hs, msg, len, pl, sizeof(pl), &plen, &err),
		  err);
	assert_int_equal(plen, strlen(want));
	assert_memory_equal(pl, want, plen);
	if (!init) {
		assert_ok(sj_noise_kk_write(&hs, (const uint8_t *)names[0],
					    strlen(names[0]), msg, sizeof(msg),
					    &len, &err), err);
		send_msg(p, msg, len);
	}
	assert_ok(sj_noise_kk_split(&hs, tx, rx, hash, &err), err);
}

/* Sends P, checks the answer is "echo:" and P reversed. */
static void ping(struct peer *p, struct sj_noise_cipher *tx,
		 struct sj_noise_cipher *rx, const uint8_t *pl, size_t plen)
{
	struct sj_err err = { "" };
	static uint8_t msg[SJ_NOISE_MSG_MAX], back[SJ_NOISE_MSG_MAX];
	size_t len, blen;

	assert_ok(sj_noise_encrypt(tx, NULL, 0, pl, plen, msg, sizeof(msg),
				   &len, &err), err);
	send_msg(p, msg, len);
	assert_int_equal(recv_msg(p, msg, sizeof(msg), &len), 0);
	assert_ok(sj_noise_decrypt(rx, NULL, 0, msg, len, back, sizeof(back),
				   &blen, &err), err);
	assert_int_equal(blen, 5 + plen);
	assert_memory_equal(back, "echo:", 5);
	for (size_t i = 0; i < plen; i++)
		assert_int_equal(back[5 + i], pl[plen - 1 - i]);
}

/* A whole session with the peer in the other role. */
static void session(int init)
{
	struct key ours, theirs;
	struct peer p;
	struct sj_noise_cipher tx, rx;
	struct sj_err err = { "" };
	uint8_t hash[SJ_NOISE_HASHLEN], msg[256], theirs_hash[256];
	static uint8_t big[SJ_NOISE_PAYLOAD_MAX - 5];
	size_t len, hlen;

	make_key(&ours);
	make_key(&theirs);
	spawn(&p, init ? "responder" : "initiator", theirs.sec, ours.pub);
	handshake(&p, init, &ours, theirs.pub, &tx, &rx, hash);

	/* Its first transport message: its handshake hash, which is ours. */
	assert_int_equal(recv_msg(&p, msg, sizeof(msg), &len), 0);
	assert_ok(sj_noise_decrypt(&rx, NULL, 0, msg, len, theirs_hash,
				   sizeof(theirs_hash), &hlen, &err), err);
	assert_int_equal(hlen, SJ_NOISE_HASHLEN);
	assert_memory_equal(theirs_hash, hash, SJ_NOISE_HASHLEN);

	ping(&p, &tx, &rx, (const uint8_t *)"ping", 4);
	ping(&p, &tx, &rx, (const uint8_t *)"", 0);
	/* The largest message either way. */
	randombytes_buf(big, sizeof(big));
	ping(&p, &tx, &rx, big, sizeof(big));
	/* Both ends rekey both directions once "rekey" has been answered;
	 * what follows is sealed with the new keys and the nonces go on. */
	ping(&p, &tx, &rx, (const uint8_t *)"rekey", 5);
	assert_ok(sj_noise_rekey(&tx, &err), err);
	assert_ok(sj_noise_rekey(&rx, &err), err);
	ping(&p, &tx, &rx, (const uint8_t *)"after the rekey", 15);
	ping(&p, &tx, &rx, (const uint8_t *)"bye", 3);
	assert_int_equal(tx.n, 6);
	assert_int_equal(reap(&p), 0);
	sj_noise_cipher_wipe(&tx);
	sj_noise_cipher_wipe(&rx);
}

static void test_our_initiator(void **state)
{
	(void)state;
	session(1);
}

static void test_our_responder(void **state)
{
	(void)state;
	session(0);
}

/* Our initiator with a static key the dissononce responder does not
 * expect, or expecting another responder's: the responder refuses the
 * first message and our initiator gets nothing back. */
static void test_dissononce_refuses(void **state)
{
	struct key ours, theirs, stranger;
	struct peer p;
	struct sj_noise_kk hs;
	struct sj_err err = { "" };
	uint8_t msg[256];
	size_t len;

	(void)state;
	make_key(&ours);
	make_key(&theirs);
	make_key(&stranger);
	for (int c = 0; c < 2; c++) {
		/* 0: it expects ours, we are the stranger; 1: it expects us,
		 * we take the stranger for it. */
		spawn(&p, "responder", theirs.sec, ours.pub);
		assert_ok(sj_noise_kk_init(&hs, 1, PROLOGUE,
					   sizeof(PROLOGUE) - 1,
					   c == 0 ? stranger.sec : ours.sec,
					   c == 0 ? theirs.pub : stranger.pub,
					   &err), err);
		assert_ok(sj_noise_kk_write(&hs, NULL, 0, msg, sizeof(msg),
					    &len, &err), err);
		send_msg(&p, msg, len);
		assert_int_equal(recv_msg(&p, msg, sizeof(msg), &len), -1);
		assert_int_equal(reap(&p), 3);
		sj_noise_kk_wipe(&hs);
	}
}

/* The dissononce initiator with a static key our responder does not
 * expect, or expecting another responder: ours refuses its first
 * message. */
static void test_we_refuse(void **state)
{
	struct key ours, theirs, stranger;
	struct peer p;
	struct sj_noise_kk hs;
	struct sj_err err = { "" };
	uint8_t msg[256], pl[256];
	size_t len, plen;

	(void)state;
	make_key(&ours);
	make_key(&theirs);
	make_key(&stranger);
	for (int c = 0; c < 2; c++) {
		spawn(&p, "initiator", c == 0 ? stranger.sec : theirs.sec,
		      c == 0 ? ours.pub : stranger.pub);
		assert_ok(sj_noise_kk_init(&hs, 0, PROLOGUE,
					   sizeof(PROLOGUE) - 1, ours.sec,
					   theirs.pub, &err), err);
		assert_int_equal(recv_msg(&p, msg, sizeof(msg), &len), 0);
		assert_fails(sj_noise_kk_read(&hs, msg, len, pl, sizeof(pl),
					      &plen, &err), err,
			     "failed authentication");
		/* Closed without an answer: the peer sees the end. */
		assert_int_equal(reap(&p), 4);
	}
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_our_initiator),
	cmocka_unit_test(test_our_responder),
	cmocka_unit_test(test_dissononce_refuses),
	cmocka_unit_test(test_we_refuse))
