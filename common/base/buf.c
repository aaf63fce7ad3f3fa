// SPDX-License-Identifier: GPL-2.0-or-later
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* After a flush, a buffer this big is given back. */
#define KEEP_BUF (1024 * 1024)

/* Never moves the live bytes: offsets into the buffer stay good. */
int sj_buf_reserve(struct sj_buf *b, size_t more)
{
	if (b->cap - b->len >= more)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < more) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

void sj_buf_free(struct sj_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Moves the live bytes to the front once most of the buffer is spent;
 * only where no offset into it is held. */
void sj_buf_compact(struct sj_buf *b)
{
	if (b->off == 0 || b->off < b->len / 2)
		return;
	memmove(b->p, b->p + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

void sj_buf_consumed(struct sj_buf *b)
{
	if (b->off < b->len) {
		sj_buf_compact(b);
		return;
	}
	b->off = b->len = 0;
	if (b->cap > KEEP_BUF) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

void sj_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t sj_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
