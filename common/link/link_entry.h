// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * link_entry.h - the entries of a link message, one at a time: what
 * follows a record's kind byte, and what the link hands its caller
 * (docs/link.md: Plaintext).  Each entry is a 4-byte big-endian header
 * word and bytes: a whole frame, or the START or a PIECE of a frame too
 * big to wait for.  The one walker of that format: whoever reads a
 * message in the link's layout goes through sj_link_entry_next, whoever
 * writes one through sj_link_entry_put.
 */
#ifndef SJ_LINK_ENTRY_H
#define SJ_LINK_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* An entry's header word: the length of its bytes and two flags.  A
 * START entry (the first piece of a frame too big to wait for) is
 * followed by a byte (1: another frame follows this one in the message)
 * and the frame's whole length; PIECE entries bring the rest. */
#define SJ_LINK_START 0x80000000u
#define SJ_LINK_PIECE 0x40000000u
#define SJ_LINK_LEN_MASK 0x3fffffffu
/* The bytes before an entry's data: the header word, and for a START its
 * flag byte and the frame's whole length too. */
#define SJ_LINK_ENTRY_HEAD 4
#define SJ_LINK_START_HEAD (SJ_LINK_ENTRY_HEAD + 5)

struct sj_link_entry {
	uint32_t head;		/* the header word, flags and all */
	const uint8_t *data;	/* its bytes (a START's after its total) */
	size_t n;
	size_t total;		/* a START's whole frame; else n */
	int more;		/* a START's: another frame follows */
};

/* The entry at *at of e[0..len): fills *x, moves *at past it and returns
 * 1; returns 0 at the end (*at == len), or -1 if the bytes at *at are
 * not a well-formed entry (cut short, both flags, a START's flag byte
 * other than 0 or 1, its total over SJ_LINK_LEN_MASK or under n). */
int sj_link_entry_next(const uint8_t *e, size_t len, size_t *at,
		       struct sj_link_entry *x);

/* Appends to b one entry of data[0..len): flags 0, a whole frame (total
 * and more unused); SJ_LINK_START, the first piece of a frame of total
 * bytes (more: another frame follows it); SJ_LINK_PIECE, more of one.
 * Returns 0, or -1 with b as it was if out of memory or if the entry
 * could not be read back (len or total over SJ_LINK_LEN_MASK, total under
 * len, flags other than one of those). */
int sj_link_entry_put(struct sj_buf *b, uint32_t flags, size_t total,
		      int more, const void *data, size_t len);

#endif
