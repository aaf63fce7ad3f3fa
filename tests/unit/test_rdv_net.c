// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <munge.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#include "rdv_testutil.h"
#include "rendezvous.h"
#include "testutil.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- framing ------------------------------------------------------- */

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
}

static void test_frame_round_trip(void **state)
{
	struct sj_err err = { "" };
	char *data, *big;
	size_t len;
	int sv[2];

	(void)state;
	pair(sv);
	assert_ok(sj_frame_send(sv[0], "hello", 5, 1000, &err), err);
	assert_ok(sj_frame_send(sv[0], "", 0, 1000, &err), err);
	assert_ok(sj_frame_recv(sv[1], 1000, &data, &len, &err), err);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	assert_ok(sj_frame_recv(sv[1], 1000, &data, &len, &err), err);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);

	/* The largest frame; binary data passes untouched. */
	big = malloc(SJ_FRAME_MAX);
	assert_non_null(big);
	for (len = 0; len < SJ_FRAME_MAX; len++)
		big[len] = (char)(len * 7);
	assert_ok(sj_frame_send(sv[0], big, SJ_FRAME_MAX, 1000, &err), err);
	assert_ok(sj_frame_recv(sv[1], 1000, &data, &len, &err), err);
	assert_int_equal(len, SJ_FRAME_MAX);
	assert_memory_equal(data, big, SJ_FRAME_MAX);
	assert_int_equal(data[SJ_FRAME_MAX], '\0');
	free(data);
	assert_fails(sj_frame_send(sv[0], big, SJ_FRAME_MAX + 1, 1000, &err),
		     err, "frame of 16385 bytes exceeds the limit of 16384");
	free(big);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_wire_format(void **state)
{
	struct sj_err err = { "" };
	char buf[32];
	int sv[2];

	(void)state;
	pair(sv);
	assert_ok(sj_frame_send(sv[0], "abc", 3, 1000, &err), err);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "SJR1\0\0\0\3abc", 11);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_header_parse(void **state)
{
	struct sj_err err = { "" };
	size_t len = 7;

	(void)state;
	assert_ok(sj_frame_header_parse((const unsigned char *)
					"SJR1\0\0\0\0", 4096, &len, &err), err);
	assert_int_equal(len, 0);
	assert_ok(sj_frame_header_parse((const unsigned char *)
					"SJR1\0\0\x10\0", 4096, &len, &err),
		  err);
	assert_int_equal(len, 4096);
	assert_ok(sj_frame_header_parse((const unsigned char *)
					"SJR1\x01\x02\x03\x04", SIZE_MAX,
					&len, &err), err);
	assert_int_equal(len, 0x01020304);
	assert_fails(sj_frame_header_parse((const unsigned char *)
					   "SJR1\0\0\x10\x01", 4096, &len,
					   &err), err,
		     "frame of 4097 bytes exceeds the limit of 4096");
	assert_int_equal(len, 0);
	assert_fails(sj_frame_header_parse((const unsigned char *)
					   "SJR1\xff\xff\xff\xff",
					   SJ_HELLO_FRAME_MAX, &len, &err), err,
		     "frame of 4294967295 bytes exceeds the limit of 4096");
	assert_fails(sj_frame_header_parse((const unsigned char *)
					   "GET / HT", 4096, &len, &err), err,
		     "bad frame magic");
}

static void recv_raw(const void *bytes, size_t n, int close_after,
		     const char *needle)
{
	struct sj_err err = { "" };
	char *data = (char *)1;
	size_t len = 1;
	int sv[2];

	pair(sv);
	assert_int_equal(write(sv[0], bytes, n), (ssize_t)n);
	if (close_after)
		close(sv[0]);
	assert_fails(sj_frame_recv(sv[1], 200, &data, &len, &err), err,
		     needle);
	assert_null(data);
	assert_int_equal(len, 0);
	if (!close_after)
		close(sv[0]);
	close(sv[1]);
}

static void test_frame_recv_errors(void **state)
{
	(void)state;
	recv_raw("SJR1\0\0\x40\x01", 8, 0,
		 "frame of 16385 bytes exceeds the limit of 16384");
	recv_raw("SJR1\xff\xff\xff\xff", 8, 0, "exceeds the limit");
	recv_raw("HTTP/1.1 200 OK\r\n", 17, 0, "bad frame magic");
	recv_raw("", 0, 1, "the peer closed the connection");
	recv_raw("SJR1\0", 5, 1, "closed the connection in the middle of a "
		 "frame header");
	recv_raw("SJR1\0\0\0\x0a" "abc", 11, 1,
		 "the peer closed the connection after 3 of 10 bytes");
	recv_raw("SJR1\0\0\0\x0a" "abc", 11, 0, "timed out after 200 ms "
		 "waiting for the peer");
}

static void test_frame_recv_timeout(void **state)
{
	struct sj_err err = { "" };
	long long t0, dt;
	char *data;
	size_t len;
	int sv[2];

	(void)state;
	pair(sv);
	t0 = now_ms();
	assert_fails(sj_frame_recv(sv[1], 150, &data, &len, &err), err,
		     "timed out after 150 ms waiting for the peer");
	dt = now_ms() - t0;
	assert_true(dt >= 150);
	assert_true(dt < 2000);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_send_timeout(void **state)
{
	struct sj_err err = { "" };
	int sv[2], small = 4096;
	long long t0, dt;
	char *big;

	(void)state;
	pair(sv);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
				    sizeof(small)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	big = calloc(1, SJ_FRAME_MAX);
	assert_non_null(big);
	/* Fill the pipe so that nothing more fits, then time out. */
	t0 = now_ms();
	assert_fails(sj_frame_send(sv[0], big, SJ_FRAME_MAX, 150, &err), err,
		     "timed out after 150 ms sending to the peer");
	dt = now_ms() - t0;
	assert_true(dt >= 150);
	assert_true(dt < 2000);
	free(big);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_send_peer_gone(void **state)
{
	struct sj_err err = { "" };
	int sv[2];

	(void)state;
	pair(sv);
	close(sv[1]);
	/* No SIGPIPE (it would kill this test), an error instead. */
	assert_fails(sj_frame_send(sv[0], "x", 1, 1000, &err), err, "send: ");
	assert_contains(err.msg, "Broken pipe");
	close(sv[0]);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* The frame arrives one byte at a time while signals interrupt poll(). */
static void test_frame_partial_and_eintr(void **state)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } }, off = { { 0, 0 },
								  { 0, 0 } };
	struct sigaction sa, old;
	struct sj_err err = { "" };
	const char *msg = "partial frame payload";
	char frame[64];
	size_t n = strlen(msg), i, len;
	char *data;
	int sv[2], status;
	pid_t pid;

	(void)state;
	pair(sv);
	memcpy(frame, "SJR1\0\0\0", 7);
	frame[7] = (char)n;
	memcpy(frame + 8, msg, n);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		for (i = 0; i < 8 + n; i++) {
			struct timespec ts = { 0, 3000000 };

			if (write(sv[0], frame + i, 1) != 1)
				_exit(1);
			nanosleep(&ts, NULL);
		}
		_exit(0);
	}
	close(sv[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: poll sees EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	alarms = 0;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_ok(sj_frame_recv(sv[1], 5000, &data, &len, &err), err);
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	assert_int_equal(len, n);
	assert_string_equal(data, msg);
	free(data);
	assert_true(alarms > 5);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[1]);
}

/* --- TCP ------------------------------------------------------------ */

static int listener(int backlog, int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_tcp_connect(void **state)
{
	struct sj_err err = { "" };
	int lfd, port, fd, afd;
	char *data;
	size_t len;

	(void)state;
	lfd = listener(4, &port);
	assert_ok(sj_tcp_connect("127.0.0.1", port, 2000, &fd, &err), err);
	/* Blocking, close-on-exec. */
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_ok(sj_frame_send(fd, "over tcp", 8, 1000, &err), err);
	assert_ok(sj_frame_recv(afd, 1000, &data, &len, &err), err);
	assert_string_equal(data, "over tcp");
	free(data);
	close(afd);
	close(fd);
	/* By name. */
	assert_ok(sj_tcp_connect("localhost", port, 2000, &fd, &err), err);
	close(fd);
	close(lfd);
}

static void test_tcp_connect_errors(void **state)
{
	struct sj_err err = { "" };
	int lfd, port, fd = 7;
	char needle[80];

	(void)state;
	/* A port nobody listens on (any more). */
	lfd = listener(1, &port);
	close(lfd);
	snprintf(needle, sizeof(needle), "cannot connect to 127.0.0.1 port "
		 "%d: connect: Connection refused", port);
	assert_fails(sj_tcp_connect("127.0.0.1", port, 2000, &fd, &err), err,
		     needle);
	assert_int_equal(fd, -1);
	assert_fails(sj_tcp_connect("", port, 2000, &fd, &err), err,
		     "no host given");
	assert_fails(sj_tcp_connect("127.0.0.1", 0, 2000, &fd, &err), err,
		     "port 0 out of range");
	assert_fails(sj_tcp_connect("no-such-host.invalid", 5, 2000, &fd,
				    &err), err,
		     "cannot resolve no-such-host.invalid");
}

/* A listener whose accept queue is full drops further SYNs, so connect
 * can only time out. */
static void test_tcp_connect_timeout(void **state)
{
	struct sj_err err = { "" };
	int lfd, port, fds[8], fd, n = 0, rv = 0;
	long long t0, dt;

	(void)state;
	lfd = listener(0, &port);
	/* Fill the queue: these succeed until the kernel stops answering. */
	while (n < 8) {
		rv = sj_tcp_connect("127.0.0.1", port, 300, &fds[n], &err);
		if (rv != 0)
			break;
		n++;
	}
	if (rv == 0) {
		print_message("accept queue never filled up; skipped\n");
		while (n > 0)
			close(fds[--n]);
		close(lfd);
		skip();
	}
	assert_contains(err.msg, "timed out after 300 ms connecting");
	t0 = now_ms();
	assert_fails(sj_tcp_connect("127.0.0.1", port, 200, &fd, &err), err,
		     "timed out after 200 ms connecting");
	dt = now_ms() - t0;
	assert_true(dt >= 200 && dt < 2000);
	while (n > 0)
		close(fds[--n]);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_round_trip),
		cmocka_unit_test(test_frame_wire_format),
		cmocka_unit_test(test_frame_header_parse),
		cmocka_unit_test(test_frame_recv_errors),
		cmocka_unit_test(test_frame_recv_timeout),
		cmocka_unit_test(test_frame_send_timeout),
		cmocka_unit_test(test_frame_send_peer_gone),
		cmocka_unit_test(test_frame_partial_and_eintr),
		cmocka_unit_test(test_tcp_connect),
		cmocka_unit_test(test_tcp_connect_errors),
		cmocka_unit_test(test_tcp_connect_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
