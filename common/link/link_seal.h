// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * link_seal.h - the link's transport: each Noise message on the wire
 * after its length in 2 bytes, plaintext records sealed into Noise
 * transport messages and opened in place, Rekey every L->rekey_every
 * messages of a direction (docs/link.md: Framing, Transport messages and
 * Rekey).  sj_link_seal, sj_link_open_in_place and sj_link_open_msg
 * (link.h) are here too.
 *
 * What arrives on a connection is opened where it lies, in c->in: from
 * in.off, c->plain bytes of plaintext that are not yet a whole record,
 * c->gap bytes that are spent (tags and length fields), then bytes still
 * sealed.  A record is read from there, whole, however the sender cut
 * the stream into messages.
 */
#ifndef SJ_LINK_SEAL_H
#define SJ_LINK_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"

/* The length before each Noise message, big-endian. */
#define SJ_LINK_MSG_HEAD 2
/* What a transport message adds to its plaintext on the wire. */
#define SJ_LINK_MSG_OVERHEAD (SJ_LINK_MSG_HEAD + SJ_NOISE_TAGLEN)

/* A read asks for at least this much room: big messages arrive in few
 * system calls. */
#define SJ_LINK_READ_CHUNK (256 * 1024)

/* Room in c->in for the rest of a record, rest bytes of plaintext still
 * to come sealed, and a read beyond it; made to measure, not doubled, so
 * that a record near the limit costs its size and no more.  Returns 0,
 * or -1 out of memory. */
int sj_link_room_for_record(struct sj_link_conn *c, size_t rest);
/* The room the next read of c asks for: what there is while a whole
 * message fits (room made for a record is used, not grown), else
 * SJ_LINK_READ_CHUNK. */
size_t sj_link_read_chunk(const struct sj_link_conn *c);

/* Seals plaintext records (each its length and its bytes) onto c->out,
 * with c's sending key.  Returns 0, or -1 (err) with nothing sealed. */
int sj_link_seal_onto(struct sj_link *L, struct sj_link_conn *c,
		      const uint8_t *plain, size_t len, struct sj_err *err);

/* n bytes of c's plaintext are used: in.off moves past them, and past
 * the gap once no plaintext is left (so an emptied buffer is empty). */
void sj_link_plain_consumed(struct sj_link_conn *c, size_t n);

/* A message of ml bytes (after its length field), opened in place right
 * after c's plaintext and gap (pl bytes of plaintext now), becomes part
 * of c's plaintext: contiguous with what was there, at in.off. */
void sj_link_plain_join(struct sj_link_conn *c, size_t ml, size_t pl);

#endif
