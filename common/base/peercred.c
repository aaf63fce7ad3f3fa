// SPDX-License-Identifier: GPL-2.0-or-later
#include "peercred.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long the kernel may take to answer one diagnostics query. */
#define DIAG_TIMEOUT_MS 1000

static int unix_peer(int fd, uid_t *uid, struct sj_err *err)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return sj_err_errno(err, errno, "SO_PEERCRED");
	*uid = cred.uid;
	return 0;
}

/* Copies one four-tuple into the query's socket id; n is the address size
 * of the family (4 or 16 bytes). */
static void put_id(struct inet_diag_sockid *id, uint16_t sport, uint16_t dport,
		   const void *src, const void *dst, size_t n)
{
	id->idiag_sport = sport;
	id->idiag_dport = dport;
	memcpy(id->idiag_src, src, n);
	memcpy(id->idiag_dst, dst, n);
}

/* Fills the query's socket id as the peer's socket sees itself: its
 * source is the peer's address, its destination ours. */
static int fill_id(struct inet_diag_sockid *id, const struct sockaddr *peer,
		   const struct sockaddr *self)
{
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)peer;
		const struct sockaddr_in *s = (const void *)self;

		put_id(id, p->sin_port, s->sin_port, &p->sin_addr,
		       &s->sin_addr, 4);
		return 0;
	}
	if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const void *)peer;
		const struct sockaddr_in6 *s = (const void *)self;

		put_id(id, p->sin6_port, s->sin6_port, &p->sin6_addr,
		       &s->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/* Asks the kernel for the one TCP socket with the peer's four-tuple.
 * Returns 0 with *kind, or -1. */
static int tcp_peer(int fd, enum sj_peer_kind *kind, uid_t *uid,
		    struct sj_err *err)
{
	struct sockaddr_storage peer, self;
	socklen_t pl = sizeof(peer), sl = sizeof(self);
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} q;
	union {
		struct nlmsghdr nh;
		char bytes[8192];
	} a;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = DIAG_TIMEOUT_MS / 1000 };
	int nl, rv = -1;
	ssize_t n;

	if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
	    getsockname(fd, (struct sockaddr *)&self, &sl) != 0)
		return sj_err_errno(err, errno, "getpeername");
	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.req.sdiag_family = (uint8_t)peer.ss_family;
	q.req.sdiag_protocol = IPPROTO_TCP;
	q.req.idiag_states = ~0u;
	q.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	q.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (fill_id(&q.req.id, (struct sockaddr *)&peer,
		    (struct sockaddr *)&self) != 0)
		return sj_err_set(err, "a peer of address family %d",
				  peer.ss_family);

	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return sj_err_errno(err, errno, "NETLINK_SOCK_DIAG socket");
	if (setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		sj_err_errno(err, errno, "SO_RCVTIMEO");
		goto out;
	}
	if (sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)sizeof(q)) {
		sj_err_errno(err, errno, "socket diagnostics query");
		goto out;
	}
	do
		n = recv(nl, &a, sizeof(a), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		sj_err_errno(err, errno, "socket diagnostics answer");
		goto out;
	}
	if (!NLMSG_OK(&a.nh, (size_t)n)) {
		sj_err_set(err, "a malformed socket diagnostics answer");
		goto out;
	}
	if (a.nh.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&a.nh);

		if (a.nh.nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
			sj_err_set(err, "a short socket diagnostics error");
			goto out;
		}
		/* No socket with that four-tuple in our network namespace:
		 * the peer is on another host (or has already gone, which
		 * the caller finds out soon enough). */
		if (e->error == -ENOENT) {
			*kind = SJ_PEER_REMOTE;
			rv = 0;
		} else {
			sj_err_errno(err, -e->error, "socket diagnostics");
		}
		goto out;
	}
	if (a.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    a.nh.nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
		sj_err_set(err, "an unexpected socket diagnostics answer");
		goto out;
	}
	*uid = ((const struct inet_diag_msg *)NLMSG_DATA(&a.nh))->idiag_uid;
	*kind = SJ_PEER_LOCAL;
	rv = 0;
out:
	close(nl);
	return rv;
}

int sj_peer_uid(int fd, enum sj_peer_kind *kind, uid_t *uid,
		struct sj_err *err)
{
	struct sockaddr_storage self;
	socklen_t sl = sizeof(self);

	if (getsockname(fd, (struct sockaddr *)&self, &sl) != 0)
		return sj_err_errno(err, errno, "getsockname");
	if (self.ss_family == AF_UNIX) {
		*kind = SJ_PEER_LOCAL;
		return unix_peer(fd, uid, err);
	}
	return tcp_peer(fd, kind, uid, err);
}
