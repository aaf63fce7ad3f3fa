// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * peercred.h - who is at the other end of a connection we accepted.
 *
 * A local kernel's ports take any local user's connection; the login shim
 * takes only its owner's.  For a Unix socket the kernel says who
 * connected (SO_PEERCRED).  For TCP, when the peer's socket lives on this
 * host (in our network namespace: loopback, or one of our own addresses),
 * the kernel's socket diagnostics (NETLINK_SOCK_DIAG, what `ss -e` reads;
 * no privilege needed) give the uid that owns the peer's socket, found by
 * its exact four-tuple.  A peer elsewhere has no uid we could learn.
 */
#ifndef SJ_PEERCRED_H
#define SJ_PEERCRED_H

#include <sys/types.h>

#include "sj_err.h"

enum sj_peer_kind {
	SJ_PEER_LOCAL,		/* *uid is the owner of the peer's socket */
	SJ_PEER_REMOTE,		/* not a socket of this host: uid unknown */
};

/* The peer of the connected socket fd.  Returns 0 with *kind (and *uid
 * for a local peer), or -1 (err says why: the peer may already be gone,
 * which is as good as a refusal). */
int sj_peer_uid(int fd, enum sj_peer_kind *kind, uid_t *uid,
		struct sj_err *err);

#endif
