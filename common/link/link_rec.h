// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * link_rec.h - the link's records, the stream inside the transport
 * plaintexts: a 4-byte length, a kind byte (a channel and its flags, or
 * HELLO) and entries (docs/link.md: Records, Plaintext).  Written by
 * sj_link_msg_* (link.h) into the stage, sealed when the record ends, or
 * into the backlog while no connection is live; read, checked and
 * delivered here; an entry list checked by sj_link_frames_valid (link.h).
 */
#ifndef SJ_LINK_REC_H
#define SJ_LINK_REC_H

#include "evio.h"
#include "link.h"

/* Delivers every whole record in c's opened plaintext (link_seal.h) and
 * makes room in c->in for the rest of one that is not yet whole.
 * Returns MORE, DROP (a record too long, or malformed: logged), or FATAL
 * if delivery failed or out of memory (err says). */
enum sj_io_result sj_link_records(struct sj_link *L, struct sj_link_conn *c,
				  struct sj_err *err);

#endif
