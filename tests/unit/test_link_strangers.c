// SPDX-License-Identifier: GPL-2.0-or-later
/* The link's server (common/link/) among strangers: connections that do not
 * prove themselves, from the login shim's host or elsewhere, junk, another
 * version, an impostor of the node shim; the unproven slots and who gives
 * way; a flood of strangers behind the login shim.  Both ends over
 * loopback TCP in this one process. */
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
#include <sys/socket.h>
#include <unistd.h>

#include "link.h"
#include "testutil.h"
#include "linkpair.h"

/* A client with another key, and a stranger sending junk: neither is
 * taken for the login shim, neither hears anything from the kernel. */
static void test_strangers_refused(void **state)
{
	struct pair p, q;
	struct end *c = end_new(), *s;
	struct sj_err err = { "" };
	int port;

	(void)state;
	s = serve(&p, &port);
	make_pair(&q);
	send_msg(s, SJ_IOPUB, "secret", "output");
	/* Knows the server's public key, not the client's secret. */
	memcpy(q.client.peer_public, p.server.self_public, 32);
	connect_end(c, port, &q.client);
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
	for (int i = 0; i < 50 && !strstr(s->notes, "not the link"); i++) {
		struct pollfd pf = { .fd = s->L.loop->epfd, .events = POLLIN };

		assert_true(poll(&pf, 1, 10) >= 0);
		assert_ok(sj_evloop_run_once(s->L.loop, 0, &err), err);
	}
	assert_non_null(strstr(s->notes, "not the link protocol"));
	assert_null(s->L.live);
	close(fd);
	end_free(s);
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

/* With all unproven slots taken, the oldest connection gives way to a
 * newcomer, whatever slot it is in: strangers that connect and wait, one
 * leaving, cannot push the login shim out. */
static void test_oldest_unproven_gives_way(void **state)
{
	struct duo d;
	int fd[SJ_LINK_PENDING + 1];

	(void)state;
	duo_open(&d, 0);
	for (int i = 0; i < SJ_LINK_PENDING; i++) {
		fd[i] = stranger(d.port);
		SERVE_UNTIL(d.s, npending(&d.s->L) == i + 1);
	}
	close(fd[0]);		/* the first leaves: a slot is free */
	SERVE_UNTIL(d.s, npending(&d.s->L) == SJ_LINK_PENDING - 1);
	/* The login shim connects; the server takes its connection before
	 * the client has so much as sent its greeting. */
	connect_end(d.c, d.port, &d.p.client);
	send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	SERVE_UNTIL(d.s, npending(&d.s->L) == SJ_LINK_PENDING);
	uint64_t login = d.s->L.pending[SJ_LINK_PENDING - 1]->serial;
	/* One more stranger: the oldest (the second) gives way, not the
	 * newest. */
	fd[SJ_LINK_PENDING] = stranger(d.port);
	SERVE_UNTIL(d.s, d.s->L.next_serial == login + 2);
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
	int fd[2 * SJ_LINK_PENDING];
	uint64_t login;

	(void)state;
	duo_open(&d, 0);
	for (int i = 0; i < SJ_LINK_PENDING - 1; i++) {
		fd[i] = stranger(d.port);
		SERVE_UNTIL(d.s, npending(&d.s->L) == i + 1);
	}
	connect_end(d.c, d.port, &d.p.client);
	send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	/* The client sends its greeting and message 1; the server takes
	 * them (and answers) while the client is not serviced again. */
	SERVE_UNTIL(d.c, d.c->L.pending[0] != NULL &&
	      d.c->L.pending[0]->state == SJ_CONN_GREETING &&
	      d.c->L.pending[0]->out.len == d.c->L.pending[0]->out.off);
	/* Its ephemeral key is its connection's own: the copied template
	 * keeps none for the next. */
	assert_int_equal(d.c->L.pending[0]->hs.has_e, 1);
	assert_int_equal(d.c->L.hs_template.has_e, 0);
	SERVE_UNTIL(d.s, npending(&d.s->L) == SJ_LINK_PENDING &&
	      d.s->L.pending[SJ_LINK_PENDING - 1]->state == SJ_CONN_UNPROVEN);
	login = d.s->L.pending[SJ_LINK_PENDING - 1]->serial;
	/* As many strangers again: every one pushes out an older one. */
	for (int i = SJ_LINK_PENDING - 1; i < 2 * SJ_LINK_PENDING; i++) {
		fd[i] = stranger(d.port);
		SERVE_UNTIL(d.s, d.s->L.next_serial == login + 2 +
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
	connect_end(d.c, d.port, &d.p.client);
	send_msg(d.c, SJ_SHELL, "<IDS|MSG>", "kernel_info_request");
	/* The client's greeting is on its way before anybody else's. */
	for (int i = 0; i < 50 && d.c->L.pending[0]->out.len >
			       d.c->L.pending[0]->out.off; i++) {
		struct pollfd pf = { .fd = d.c->L.loop->epfd,
				     .events = POLLIN };

		assert_true(poll(&pf, 1, 10) >= 0);
		assert_ok(sj_evloop_run_once(d.c->L.loop, 0, &err), err);
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

/* Something else on the node shim's port (the shim gone, another
 * program there) that greets but cannot prove itself, first answering
 * Noise's first message with junk, then not at all: the login shim sends
 * it nothing of the backlog, refuses the junk, gives up on the silence
 * after its handshake time, tries again, and delivers everything once the
 * real one is back. */
static void test_impostor_gets_nothing(void **state)
{
	struct pair p;
	struct end *c = end_new(), *s;
	struct sj_err err = { "" };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
int lfd, port, one = 1, accepted = 0;
	uint8_t greeting[SJ_LINK_GREETING_BYTES] = { 'S', 'J', 'L', '3' };

	(void)state;
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

	connect_end(c, port, &p.client);
	c->L.handshake_ms = 200;
	send_msg(c, SJ_SHELL, "<IDS|MSG>", "execute_request");
	/* Three connections in turn, each greeted, the first answered with
	 * junk, the others left waiting. */
	int conn[3] = { -1, -1, -1 };
	for (int spins = 0; accepted < 3 && spins < 500; spins++) {
		struct pollfd pf[2] = { { .fd = c->L.loop->epfd,
					  .events = POLLIN },
					{ .fd = lfd, .events = POLLIN } };

		assert_true(poll(pf, 2, 10) >= 0);
		assert_ok(sj_evloop_run_once(c->L.loop, 0, &err), err);
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
	s = end_new();
	assert_ok(sj_link_open_server(&s->L, &s->lp, lfd, 30, NULL, &p.server,
				      got, s, noted, s, &err), err);
	PUMP(c, s, s->n == 1 && c->L.live != NULL);
	check_msg(s, 0, SJ_SHELL, "<IDS|MSG>", "execute_request");
	end_free(c);
	end_free(s);
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
	SERVE_UNTIL(d.s, strstr(d.s->notes, "link protocol") != NULL);
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

SJ_TEST_MAIN(
	cmocka_unit_test(test_strangers_refused),
	cmocka_unit_test(test_oldest_unproven_gives_way),
	cmocka_unit_test(test_strangers_push_out_strangers),
	cmocka_unit_test(test_only_from_the_login_address),
	cmocka_unit_test(test_flood_behind_the_login_shim),
	cmocka_unit_test(test_impostor_gets_nothing),
	cmocka_unit_test(test_other_version_refused))
