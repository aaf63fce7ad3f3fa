// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * link_conn.h - the link's connections: making one (the client's connect,
 * the server's accept, from the login shim's address only), the
 * unproven ones in the order they came and which gives way to a newcomer
 * (SJ_LINK_PENDING, SJ_LINK_UNPROVEN_MAX), the one that is live, and
 * dropping one (docs/link.md: Who is proven when; Losing the connection,
 * and the backlog).  Also the log lines all of the link writes.
 */
#ifndef SJ_LINK_CONN_H
#define SJ_LINK_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "evio.h"
#include "link.h"

/* For the link's files only: L's log lines. */
#define note(L, debug, ...) \
	sj_notef((L)->note, (L)->note_arg, debug, __VA_ARGS__)
/* What a stranger can make us write: bounded (ratelimit.h). */
#define refused(L, ...) \
	sj_notef_limited(&(L)->refusals, (L)->note, (L)->note_arg, __VA_ARGS__)

/* c's tag in L's loop. */
static inline uint64_t sj_link_tag(const struct sj_link_conn *c)
{
	return SJ_EV_TAG(SJ_EV_OWNER_LINK, c->serial);
}

/* Arms L's timer once, ms from now (0 disarms it); -1 with errno.  The
 * client's is its reconnect and handshake timer, the server's its grace
 * time. */
int sj_link_arm(struct sj_link *L, long ms);
/* The same; a failure is only logged. */
void sj_link_arm_or_note(struct sj_link *L, long ms);

/* Sends what c->out holds and the socket takes, and watches for room
 * while some is left.  Returns MORE, or DROP if the connection broke. */
enum sj_io_result sj_link_conn_write(struct sj_link *L,
				     struct sj_link_conn *c);

/* A new connection on fd in state st, registered in L's loop with
 * its greeting (and the client's first handshake message) queued; NULL
 * on failure, fd then still the caller's. */
struct sj_link_conn *sj_link_conn_new(struct sj_link *L, int fd,
				      enum sj_conn_state st);
/* Closes and frees c (NULL: nothing), its keys wiped; c must be on no
 * list any more. */
void sj_link_conn_free(struct sj_link *L, struct sj_link_conn *c);
/* The connection whose serial (its tag in the loop) is s, or NULL
 * (dropped meanwhile). */
struct sj_link_conn *sj_link_conn_by_serial(struct sj_link *L, uint64_t s);
/* "ADDR:PORT" of fd's peer, "?" for what is not known. */
void sj_link_peer_name(int fd, char *buf, size_t len);

/* Puts c last on the pending list; with the list full, the oldest that
 * is not past the first handshake message is freed to make room. */
void sj_link_pending_add(struct sj_link *L, struct sj_link_conn *c);
/* Takes c off the pending list, if it is there. */
void sj_link_pending_remove(struct sj_link *L, const struct sj_link_conn *c);
/* c passed the first handshake message: it is unproven now, and the
 * oldest other unproven one is freed if there are too many. */
void sj_link_pending_unproven(struct sj_link *L, struct sj_link_conn *c);

/* c has proven itself: it becomes the live connection (replacing one
 * there was), the client sends its HELLO, and the backlog goes out on
 * it.  Returns 0, or -1 (err). */
int sj_link_go_live(struct sj_link *L, struct sj_link_conn *c,
		    struct sj_err *err);
/* The live connection is gone: freed, and the client's reconnect or the
 * server's grace time begins. */
void sj_link_lost_live(struct sj_link *L);
/* Drops c, live or not; the client connects again soon. */
void sj_link_conn_drop(struct sj_link *L, struct sj_link_conn *c);

/* Client: a new connection to L->host:L->port, from L->source if set; a
 * failure to connect is logged and retried.  Returns 0, or -1 (err) on
 * a failure of ours. */
int sj_link_connect_now(struct sj_link *L, struct sj_err *err);
/* Server: takes up to SJ_LINK_ACCEPT_BATCH new connections, closing at
 * once those from another address than the login shim's.  Returns 0, or
 * -1 (err) out of memory. */
int sj_link_on_accept(struct sj_link *L, struct sj_err *err);

#endif
