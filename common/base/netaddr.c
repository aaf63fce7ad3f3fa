// SPDX-License-Identifier: GPL-2.0-or-later
#include "netaddr.h"

#include <netinet/in.h>
#include <string.h>

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
