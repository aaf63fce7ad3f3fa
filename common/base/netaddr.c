// SPDX-License-Identifier: GPL-2.0-or-later
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

int sj_addr_key(const struct sockaddr *sa, socklen_t len,
		unsigned char key[SJ_ADDR_KEY_BYTES])
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

	memset(key, 0, SJ_ADDR_KEY_BYTES);
	if (sa->sa_family == AF_INET6 && len >= sizeof(*s6)) {
		memcpy(key, s6->sin6_addr.s6_addr, SJ_ADDR_KEY_BYTES);
		return 0;
	}
	if (sa->sa_family == AF_INET && len >= sizeof(*s4)) {
		key[10] = 0xff;
		key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr.s_addr, 4);
		return 0;
	}
	return -1;
}

int sj_addr_key_loopback(const unsigned char key[SJ_ADDR_KEY_BYTES])
{
	struct in6_addr a;

	memcpy(a.s6_addr, key, SJ_ADDR_KEY_BYTES);
	return IN6_IS_ADDR_LOOPBACK(&a) ||
	       (IN6_IS_ADDR_V4MAPPED(&a) && key[12] == 127);
}

int sj_loopback_ports(int n, int *ports, struct sj_err *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fds[16], rv = -1, i;

	if (n < 0 || n > (int)(sizeof(fds) / sizeof(fds[0])))
		return sj_err_set(err, "too many ports asked for");
	for (i = 0; i < n; i++)
		fds[i] = -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < n; i++) {
		struct sockaddr_in got;
		socklen_t len = sizeof(got);

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    bind(fds[i], (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&got, &len) != 0) {
			sj_err_errno(err, errno, "choosing a port on "
				     "127.0.0.1");
			goto out;
		}
		ports[i] = ntohs(got.sin_port);
	}
	rv = 0;
out:
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rv;
}
