// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * link_hs.h - the link's greeting, prologue and handshake: "SJL3" each
 * way, Noise KK over a prologue that binds the rendezvous, and the
 * client's HELLO that proves it (docs/link.md: The greeting, The
 * prologue, The handshake, Who is proven when).  sj_link_bind and
 * sj_link_keys_from_hex (link.h) are here too.
 */
#ifndef SJ_LINK_HS_H
#define SJ_LINK_HS_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"

/* "SJL" and the version: each end's first bytes on a connection. */
extern const uint8_t sj_link_magic[SJ_LINK_GREETING_BYTES];
/* The HELLO record: its length (1) and its kind.  Alone, it is the
 * client's first transport message. */
extern const uint8_t sj_link_hello_record[5];

/* c's greeting and, from the client, Noise's first message onto c->out
 * (the client needs nothing of the server's but what the rendezvous
 * said).  Returns 0, or -1 out of memory or with an unusable key. */
int sj_link_hs_start(struct sj_link *L, struct sj_link_conn *c);

/* The peer's greeting, SJ_LINK_GREETING_BYTES at c->in.off: c goes on to
 * the handshake (MORE), or is refused (logged, rate-limited: DROP). */
enum sj_io_result sj_link_greeted(struct sj_link *L, struct sj_link_conn *c);

/* The peer's handshake message m (n bytes): the server answers it and c
 * is unproven (the message could be a replay); the client has its proof
 * and c goes live.  Returns MORE, DROP (refused, logged), or FATAL on a
 * failure of ours (err says). */
enum sj_io_result sj_link_handshake(struct sj_link *L, struct sj_link_conn *c,
				    const uint8_t *m, size_t n,
				    struct sj_err *err);

/* The client's first transport message, opened (c->plain bytes at
 * c->in.off): the HELLO record alone makes c the live connection.
 * Returns MORE, DROP (refused, logged), or FATAL on a failure of ours. */
enum sj_io_result sj_link_first_message(struct sj_link *L,
					struct sj_link_conn *c,
					struct sj_err *err);

#endif
