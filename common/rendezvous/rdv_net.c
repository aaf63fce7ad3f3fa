// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdv_net.c - the rendezvous on the wire (see rendezvous.h): frames of
 * "SJR1", a big-endian length and the credential, sent and received with
 * deadlines, and the TCP connection to the login shim.
 */
#include "clock.h"
#include "rendezvous.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "SJR1"
#define HEADER_LEN SJ_FRAME_HEADER

/* --- framing ------------------------------------------------------------ */

/* Waits for events on fd until the deadline (-1: none). */
static int wait_fd(int fd, short events, long long deadline, int timeout_ms,
		   const char *what, struct sj_err *err)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int left = -1, n;

		if (deadline >= 0) {
			long long l = deadline - sj_monotonic_ms();

			if (l <= 0)
				return sj_err_set(err, "timed out after %d ms "
						  "%s", timeout_ms, what);
			left = l > INT_MAX ? INT_MAX : (int)l;
		}
		n = poll(&pfd, 1, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sj_err_errno(err, errno, "poll");
		}
		/* Errors and hangups are read off the socket by the caller. */
		if (n > 0)
			return 0;
	}
}

static int send_all(int fd, const char *p, size_t len, long long deadline,
		    int timeout_ms, struct sj_err *err)
{
	while (len > 0) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline, timeout_ms,
			    "sending to the peer", err) != 0)
			return -1;
		/* MSG_NOSIGNAL: a vanished peer must be an error, not a
		 * SIGPIPE in slurmstepd's task. */
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return sj_err_errno(err, errno, "send");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Returns 0 when all len bytes arrived, -1 on error (err set), or
 * RECV_EOF when the peer shut down after *got bytes. */
#define RECV_EOF (-2)

static int recv_all(int fd, char *p, size_t len, size_t *got,
		    long long deadline, int timeout_ms, struct sj_err *err)
{
	*got = 0;
	while (*got < len) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline, timeout_ms,
			    "waiting for the peer", err) != 0)
			return -1;
		n = recv(fd, p + *got, len - *got, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return sj_err_errno(err, errno, "recv");
		}
		if (n == 0)
			return RECV_EOF;
		*got += (size_t)n;
	}
	return 0;
}

int sj_frame_send(int fd, const char *data, size_t len, int timeout_ms,
		  struct sj_err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : sj_monotonic_ms() + timeout_ms;
	unsigned char hdr[HEADER_LEN];

	if (len > SJ_FRAME_MAX)
		return sj_err_set(err, "frame of %zu bytes exceeds the limit "
				  "of %d", len, SJ_FRAME_MAX);
	memcpy(hdr, MAGIC, 4);
	hdr[4] = (unsigned char)(len >> 24);
	hdr[5] = (unsigned char)(len >> 16);
	hdr[6] = (unsigned char)(len >> 8);
	hdr[7] = (unsigned char)len;
	if (send_all(fd, (const char *)hdr, sizeof(hdr), deadline, timeout_ms,
		     err) != 0 ||
	    send_all(fd, data, len, deadline, timeout_ms, err) != 0)
		return -1;
	return 0;
}

int sj_frame_header_parse(const unsigned char hdr[SJ_FRAME_HEADER],
			  size_t max, size_t *len, struct sj_err *err)
{
	size_t n;

	*len = 0;
	if (memcmp(hdr, MAGIC, 4) != 0)
		return sj_err_set(err, "bad frame magic (the peer is not a "
				  "spank-jupyter rendezvous)");
	n = (size_t)hdr[4] << 24 | (size_t)hdr[5] << 16 |
	    (size_t)hdr[6] << 8 | hdr[7];
	if (n > max)
		return sj_err_set(err, "frame of %zu bytes exceeds the limit "
				  "of %zu", n, max);
	*len = n;
	return 0;
}

int sj_frame_recv(int fd, int timeout_ms, char **data, size_t *len,
		  struct sj_err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : sj_monotonic_ms() + timeout_ms;
	unsigned char hdr[HEADER_LEN];
	size_t n, got;
	char *buf;
	int r;

	*data = NULL;
	*len = 0;
	r = recv_all(fd, (char *)hdr, sizeof(hdr), &got, deadline, timeout_ms,
		     err);
	if (r == RECV_EOF && got == 0)
		return sj_err_set(err, "the peer closed the connection");
	if (r == RECV_EOF)
		return sj_err_set(err, "the peer closed the connection in the "
				  "middle of a frame header");
	if (r != 0)
		return -1;
	if (sj_frame_header_parse(hdr, SJ_FRAME_MAX, &n, err) != 0)
		return -1;
	buf = malloc(n + 1);
	if (buf == NULL)
		return sj_err_set(err, "out of memory");
	r = recv_all(fd, buf, n, &got, deadline, timeout_ms, err);
	if (r != 0) {
		if (r == RECV_EOF)
			sj_err_set(err, "the peer closed the connection after "
				   "%zu of %zu bytes of a frame", got, n);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

/* --- TCP connect -------------------------------------------------------- */

static int connect_one(const struct addrinfo *ai, long long deadline,
		       int timeout_ms, int *fdp, struct sj_err *err)
{
	socklen_t sl = sizeof(int);
	int fd, flags, soerr = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return sj_err_errno(err, errno, "socket");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS && errno != EINTR) {
			sj_err_errno(err, errno, "connect");
			goto fail;
		}
		if (wait_fd(fd, POLLOUT, deadline, timeout_ms, "connecting",
			    err) != 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) {
			sj_err_errno(err, errno, "getsockopt");
			goto fail;
		}
		if (soerr != 0) {
			sj_err_errno(err, soerr, "connect");
			goto fail;
		}
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		sj_err_errno(err, errno, "fcntl");
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

int sj_tcp_connect(const char *host, int port, int timeout_ms, int *fd,
		   struct sj_err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : sj_monotonic_ms() + timeout_ms;
	struct addrinfo hints, *res = NULL, *ai;
	char service[8];
	int e, rv = -1;

	*fd = -1;
	if (host == NULL || host[0] == '\0')
		return sj_err_set(err, "connect: no host given");
	if (port < 1 || port > 65535)
		return sj_err_set(err, "connect to %s: port %d out of range",
				  host, port);
	snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	e = getaddrinfo(host, service, &hints, &res);
	if (e != 0) {
		if (e == EAI_SYSTEM)
			return sj_err_errno(err, errno, "cannot resolve %s",
					    host);
		return sj_err_set(err, "cannot resolve %s: %s", host,
				  gai_strerror(e));
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		rv = connect_one(ai, deadline, timeout_ms, fd, err);
		if (rv == 0)
			break;
	}
	freeaddrinfo(res);
	if (rv != 0)
		return sj_err_wrap(err, "cannot connect to %s port %d", host,
				   port);
	return 0;
}
