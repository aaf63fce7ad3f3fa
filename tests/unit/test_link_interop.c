// SPDX-License-Identifier: GPL-2.0-or-later
/* The link (common/link/link.c) against another implementation of its Noise
 * part: dissononce (Debian's python3-dissononce) in tests/unit/link_peer.py,
 * over loopback TCP.  Our login-side code (the initiator) and our node-side
 * code (the responder) each complete the KK handshake with it and exchange
 * messages both ways, across Rekeys; a static key the other end does not
 * expect is refused by either implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "link.h"
#include "testutil.h"
#include "linkpair.h"

/* Debian's python3, where python3-dissononce is installed: PATH may name
 * another (a pyenv's) without it. */
#define PYTHON "/usr/bin/python3"
#define PEER_FD 3
/* Few, so that both directions rekey several times. */
#define REKEY_EVERY 3
#define ROUNDS 12

/* link_peer.py in role, with fd as its descriptor 3 (server) or port to
 * connect to (client). */
static pid_t spawn(const char *role, const struct key *self,
		   const uint8_t *rs, const uint8_t *prologue, int fd,
		   int port)
{
	char script[512], shex[65], rhex[65];
	char phex[2 * SJ_LINK_PROLOGUE_BYTES + 1], every[16], ports[16];
	const char *slash = strrchr(__FILE__, '/');
	pid_t pid;

	snprintf(script, sizeof(script), "%.*s/link_peer.py",
		 slash != NULL ? (int)(slash - __FILE__) : 1,
		 slash != NULL ? __FILE__ : ".");
	sodium_bin2hex(shex, sizeof(shex), self->sec, 32);
	sodium_bin2hex(rhex, sizeof(rhex), rs, 32);
	sodium_bin2hex(phex, sizeof(phex), prologue, SJ_LINK_PROLOGUE_BYTES);
	snprintf(every, sizeof(every), "%d", REKEY_EVERY);
	snprintf(ports, sizeof(ports), "%d", port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* dup2 clears close-on-exec; fcntl in case fd is 3. */
		if (fd >= 0 && (fd == PEER_FD ? fcntl(PEER_FD, F_SETFD, 0) :
				dup2(fd, PEER_FD)) < 0)
			_exit(126);
		if (fd >= 0 && fcntl(PEER_FD, F_SETFL, 0) < 0)
			_exit(126);
		execl(PYTHON, PYTHON, script, role, shex, rhex, phex, every,
		      ports, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The peer's exit status (its stderr went to the test's), or -1 while it
 * runs. */
static int exited(pid_t pid, int wait)
{
	int status;
	pid_t r = waitpid(pid, &status, wait ? 0 : WNOHANG);

	assert_true(r >= 0);
	if (r == 0)
		return -1;
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Messages both ways, some of them bigger than one transport message, over
 * e (live with the peer): ROUNDS sent, each answered with "echo" before
 * its frames; the peer exits 0 after answering the last. */
static void exchange(struct end *e, int first)
{
	static uint8_t big[150 * 1024];
	char word[16];

	randombytes_buf(big, sizeof(big));
	for (int i = 0; i < ROUNDS; i++) {
		int last = i == ROUNDS - 1;

		snprintf(word, sizeof(word), "m%d", i);
		if (last)
			send_frames(e, SJ_CONTROL, word, "bye", 3);
		else if (i % 4 == 1)
			send_frames(e, SJ_IOPUB, word, big, sizeof(big));
		else
			send_frames(e, SJ_SHELL, word, "x", 1);
		SERVE_UNTIL(e, e->n == first + i + 1);
		if (last)
			check_frames(e, first + i, SJ_CONTROL, 3, "echo",
				     (size_t)4, word, strlen(word), "bye",
				     (size_t)3);
		else if (i % 4 == 1)
			check_frames(e, first + i, SJ_IOPUB, 3, "echo",
				     (size_t)4, word, strlen(word), big,
				     sizeof(big));
		else
			check_frames(e, first + i, SJ_SHELL, 3, "echo",
				     (size_t)4, word, strlen(word), "x",
				     (size_t)1);
	}
	/* Both directions went past several Rekeys. */
	assert_true(e->L.live->tx.n > 3 * REKEY_EVERY);
	assert_true(e->L.live->rx.n > 3 * REKEY_EVERY);
}

/* Our node side, the responder, open on e; dissononce the login shim,
 * with the client key we expect, or (other) one we do not. */
static pid_t its_client(struct end *e, int other)
{
	struct key c, s, o;
	struct sj_link_keys lk;
	struct sj_err err = { "" };
	int port;

	make_key(&c);
	make_key(&s);
	make_key(&o);
	link_keys(&lk, &s, c.pub, NODE_NONCE, 7);
	assert_ok(sj_link_open_server(&e->L, &e->lp, listener(&port), 30,
				      "127.0.0.1", &lk, got, e, noted, e, &err),
		  err);
	e->L.rekey_every = REKEY_EVERY;
	return spawn("client", other ? &o : &c, s.pub, lk.prologue, -1, port);
}

/* Our node-side code, the responder, with dissononce as the login shim. */
static void test_our_responder(void **state)
{
	struct end *e = end_new();
	pid_t pid = its_client(e, 0);

	(void)state;
	SERVE_UNTIL(e, e->n == 1);
	assert_non_null(strstr(e->notes, "login side connected from "
			       "127.0.0.1:"));
	check_frames(e, 0, SJ_SHELL, 2, "dissononce", (size_t)10, "hello",
		     (size_t)5);
	exchange(e, 1);
	end_free(e);
	assert_int_equal(exited(pid, 1), 0);
}

/* Our login-side code, the initiator, with dissononce as the node shim. */
static void test_our_initiator(void **state)
{
	struct key c, s;
	struct sj_link_keys lk;
	struct end *e = end_new();
	int port, lfd = listener(&port);

	(void)state;
	make_key(&c);
	make_key(&s);
	link_keys(&lk, &c, s.pub, NODE_NONCE, 7);
	pid_t pid = spawn("server", &s, c.pub, lk.prologue, lfd, 0);
	assert_int_equal(close(lfd), 0);
	connect_end(e, port, &lk);
	e->L.rekey_every = REKEY_EVERY;
	SERVE_UNTIL(e, e->L.live != NULL);
	exchange(e, 0);
	end_free(e);
	assert_int_equal(exited(pid, 1), 0);
}

/* dissononce as the login shim with a static key our node side does not
 * expect: refused at Noise's first message, nothing delivered. */
static void test_we_refuse_its_client(void **state)
{
	struct end *e = end_new();
	pid_t pid = its_client(e, 1);

	(void)state;
	SERVE_UNTIL(e, e->L.refused == 1);
	assert_non_null(strstr(e->notes, "link: refused 127.0.0.1:"));
	assert_non_null(strstr(e->notes, ": it does not hold the login "
			       "shim's key"));
	assert_int_equal(exited(pid, 1), 4);	/* we closed on it */
	assert_int_equal(e->n, 0);
	assert_null(e->L.live);
	end_free(e);
}

/* Our login side and a dissononce node shim, one of them with a static
 * key the other does not expect (ours: ours_other, else its): KK's first
 * message already needs the server's static secret (es) and the
 * client's (ss), so dissononce refuses it (exit 3), and our side is told
 * by the connection's close; nothing is delivered.  (A server answering
 * with a second message it could not make is refused by ours:
 * test_link_strangers.c, the impostor.) */
static void refused_by_its_server(int ours_other)
{
	struct key c, s, other;
	struct sj_link_keys lk;
	struct end *e = end_new();
	int port, lfd = listener(&port), status = -1;

	make_key(&c);
	make_key(&s);
	make_key(&other);
	link_keys(&lk, ours_other ? &other : &c, s.pub, NODE_NONCE, 7);
	pid_t pid = spawn("server", ours_other ? &s : &other, c.pub,
			  lk.prologue, lfd, 0);
	assert_int_equal(close(lfd), 0);
	connect_end(e, port, &lk);
	SERVE_UNTIL(e, status >= 0 || (status = exited(pid, 0)) >= 0);
	assert_int_equal(status, 3);
	assert_null(e->L.live);
	assert_int_equal(e->n, 0);
	end_free(e);
}

/* It expects our key, but is not the server we expect. */
static void test_it_cannot_pose_as_our_server(void **state)
{
	(void)state;
	refused_by_its_server(0);
}

/* Our login side with a static key the dissononce node shim does not
 * expect. */
static void test_it_refuses_our_client(void **state)
{
	(void)state;
	refused_by_its_server(1);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_our_responder),
	cmocka_unit_test(test_our_initiator),
	cmocka_unit_test(test_we_refuse_its_client),
	cmocka_unit_test(test_it_cannot_pose_as_our_server),
	cmocka_unit_test(test_it_refuses_our_client))
