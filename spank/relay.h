// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relay.h - the node relay's listening socket, chosen in task_init.
 *
 * The plugin binds and listens itself, so no other process can take the
 * port between choosing it and using it; slurm-jupyter-shim --node
 * inherits the socket across execve and accepts the login shim's link on
 * it (link.h).
 */
#ifndef SJ_RELAY_H
#define SJ_RELAY_H

#include <sys/socket.h>

#include "portrange.h"
#include "sj_err.h"

struct sj_relay_addr {
	struct sockaddr_storage ss;	/* port 0 */
	socklen_t len;
	char text[64];			/* numeric, for relay.json and HELLO */
};

/* The local address of a connected socket: the one facing its peer.  An
 * IPv4-mapped IPv6 address comes back as IPv4. */
int sj_relay_addr_of_socket(int fd, struct sj_relay_addr *a,
			    struct sj_err *err);

/* The address of fd's peer (the login shim, on the rendezvous socket). */
int sj_relay_addr_of_peer(int fd, struct sj_relay_addr *a,
			  struct sj_err *err);
/* relay_address from plugstack.conf: a numeric IPv4 or IPv6 address. */
int sj_relay_addr_parse(const char *s, struct sj_relay_addr *a,
			struct sj_err *err);

/* Binds a listening TCP socket on a, with a port in r (any port if r is
 * 0-0), trying from a random place in the range so that steps starting at
 * the same time rarely try the same port.  The socket is left open across
 * execve.  On failure nothing stays open. */
int sj_relay_listen(const struct sj_relay_addr *a,
		    const struct sj_port_range *r, int *fd, int *port,
		    struct sj_err *err);

#endif
