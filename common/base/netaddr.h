// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netaddr.h - IP addresses as they compare.
 *
 * A dual-stack socket sees an IPv4 peer as ::ffff:a.b.c.d, an IPv4 socket
 * as a.b.c.d: both are the same host.  Every check of "who is this" goes
 * through one key so that the two forms never disagree.
 */
#ifndef SJ_NETADDR_H
#define SJ_NETADDR_H

#include <sys/socket.h>

#include "sj_err.h"

#define SJ_ADDR_KEY_BYTES 16

/* The address of sa as 16 bytes: IPv6 as it is, IPv4 as v4-mapped.
 * Returns 0, or -1 (key all zero: ::, which no peer has) for another
 * family or a short address. */
int sj_addr_key(const struct sockaddr *sa, socklen_t len,
		unsigned char key[SJ_ADDR_KEY_BYTES]);

/* Whether an address key is a loopback address (127/8, ::1). */
int sj_addr_key_loopback(const unsigned char key[SJ_ADDR_KEY_BYTES]);

/* n (at most 16) distinct TCP ports free on 127.0.0.1 now, as
 * jupyter_client picks them for a connection file: each bound to port 0,
 * all held until all are known, then closed. */
int sj_loopback_ports(int n, int *ports, struct sj_err *err);

#endif
