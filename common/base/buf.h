// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * buf.h - a growable byte buffer, and big-endian 32-bit fields.
 *
 * Bytes [off, len) are live: a writer appends at len, a reader consumes
 * from off.  Growing never moves the live bytes relative to p, so an
 * offset into the buffer stays good until sj_buf_compact or
 * sj_buf_consumed.
 */
#ifndef SJ_BUF_H
#define SJ_BUF_H

#include <stddef.h>
#include <stdint.h>

struct sj_buf {
	uint8_t *p;
	size_t off, len, cap;
};

/* Room for `more` bytes after len; -1 when out of memory. */
int sj_buf_reserve(struct sj_buf *b, size_t more);
/* Moves the live bytes to the front once most of the buffer is spent. */
void sj_buf_compact(struct sj_buf *b);
/* After a reader advanced off: empties the buffer when all was read
 * (giving back a big one), else compacts it. */
void sj_buf_consumed(struct sj_buf *b);
void sj_buf_free(struct sj_buf *b);

void sj_put_be32(uint8_t *p, uint32_t v);
uint32_t sj_get_be32(const uint8_t *p);

#endif
