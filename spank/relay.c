// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relay.c - the node relay's listening sockets.
 */
#include "relay.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define RELAY_BACKLOG 64

static int addr_set(struct sj_relay_addr *a, const struct sockaddr *sa,
		    socklen_t len, struct sj_err *err)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
			a->len = sizeof(*s4);
			goto text;
		}
	} else if (sa->sa_family != AF_INET) {
		return sj_err_set(err, "address family %d is not IP",
				  sa->sa_family);
	}
	if (len > sizeof(a->ss))
		return sj_err_set(err, "address too long");
	memcpy(&a->ss, sa, len);
	a->len = len;
text:
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port = 0;
	rc = getnameinfo((struct sockaddr *)&a->ss, a->len, a->text,
			 sizeof(a->text), NULL, 0, NI_NUMERICHOST);
	if (rc != 0)
		return sj_err_set(err, "cannot format address: %s",
				  gai_strerror(rc));
	return 0;
}

/* The address of our end of fd, or of the peer's end. */
static int addr_of(int fd, int peer, struct sj_relay_addr *a,
		   struct sj_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
			getsockname(fd, (struct sockaddr *)&ss, &len);

	if (rc != 0)
		return sj_err_errno(err, errno,
				    peer ? "getpeername" : "getsockname");
	return addr_set(a, (struct sockaddr *)&ss, len, err);
}

int sj_relay_addr_of_socket(int fd, struct sj_relay_addr *a,
			    struct sj_err *err)
{
	return addr_of(fd, 0, a, err);
}

int sj_relay_addr_of_peer(int fd, struct sj_relay_addr *a,
			  struct sj_err *err)
{
	return addr_of(fd, 1, a, err);
}

int sj_relay_addr_parse(const char *s, struct sj_relay_addr *a,
			struct sj_err *err)
{
	struct addrinfo hints, *res = NULL;
	int rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(s, NULL, &hints, &res) != 0 || res == NULL)
		rv = sj_err_set(err, "not a numeric IP address");
	else
		rv = addr_set(a, res->ai_addr, res->ai_addrlen, err);
	if (res != NULL)
		freeaddrinfo(res);
	if (rv != 0)
		sj_err_wrap(err, "relay_address=%s", s);
	return rv;
}

static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int get_port(int fd, int *port, struct sj_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return sj_err_errno(err, errno, "getsockname");
	if (ss.ss_family == AF_INET)
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* One listening socket on a:port.  Returns the fd, -2 if the port is taken
 * (try another), -1 on any other error. */
static int listen_one(const struct sj_relay_addr *a, int port,
		      struct sj_err *err)
{
	struct sockaddr_storage ss = a->ss;
	int fd, one = 1, e;

	/* No SOCK_CLOEXEC: the node shim inherits it. */
	fd = socket(a->ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return sj_err_errno(err, errno, "socket");
	/* Like libzmq's own listeners: a port left in TIME_WAIT by the
	 * previous kernel stays usable. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
		e = errno;
		close(fd);
		return sj_err_errno(err, e, "SO_REUSEADDR");
	}
	set_port(&ss, port);
	/* With SO_REUSEADDR two sockets may bind one port until one of them
	 * listens, so a taken port shows at bind or at listen. */
	if (bind(fd, (struct sockaddr *)&ss, a->len) != 0 ||
	    listen(fd, RELAY_BACKLOG) != 0) {
		e = errno;
		close(fd);
		if (e == EADDRINUSE && port != 0)
			return -2;
		if (e == EADDRNOTAVAIL)
			return sj_err_set(err, "cannot listen on %s: not an "
					  "address of this node", a->text);
		return sj_err_errno(err, e, "cannot listen on %s port %d",
				    a->text, port);
	}
	return fd;
}

int sj_relay_listen(const struct sj_relay_addr *a,
		    const struct sj_port_range *r, int *fd, int *port,
		    struct sj_err *err)
{
	unsigned int span, start;

	*fd = -1;
	if (r->lo == 0) {
		*fd = listen_one(a, 0, err);
		if (*fd < 0)
			return -1;
		if (get_port(*fd, port, err) != 0) {
			close(*fd);
			*fd = -1;
			return -1;
		}
		return 0;
	}
	span = (unsigned int)(r->hi - r->lo) + 1;
	if (getrandom(&start, sizeof(start), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(start))
		start = (unsigned int)getpid();
	for (unsigned int i = 0; i < span; i++) {
		int p = r->lo + (int)((start + i) % span);
		int f = listen_one(a, p, err);

		if (f == -2)
			continue;
		if (f < 0)
			return -1;
		*fd = f;
		*port = p;
		return 0;
	}
	return sj_err_set(err, "relay_ports=%d-%d: no port in the range is "
			  "free on %s", r->lo, r->hi, a->text);
}
