// SPDX-License-Identifier: GPL-2.0-or-later
/* The entries of a link message, one at a time (link_entry.h). */
#include "link_entry.h"

#include <string.h>

int sj_link_entry_next(const uint8_t *e, size_t len, size_t *at,
		       struct sj_link_entry *x)
{
	size_t i = *at;

	if (i == len)
		return 0;
	if (len - i < SJ_LINK_ENTRY_HEAD)
		return -1;
	x->head = sj_get_be32(e + i);
	x->n = x->head & SJ_LINK_LEN_MASK;
	x->total = x->n;
	x->more = 0;
	i += SJ_LINK_ENTRY_HEAD;
	if ((x->head & SJ_LINK_START) && (x->head & SJ_LINK_PIECE))
		return -1;
	if (x->head & SJ_LINK_START) {
		/* A flag byte, the frame's whole length. */
		if (len - i < SJ_LINK_START_HEAD - SJ_LINK_ENTRY_HEAD ||
		    e[i] > 1)
			return -1;
		x->more = e[i];
		x->total = sj_get_be32(e + i + 1);
		if (x->total > SJ_LINK_LEN_MASK || x->total < x->n)
			return -1;
		i += SJ_LINK_START_HEAD - SJ_LINK_ENTRY_HEAD;
	}
	if (x->n > len - i)
		return -1;
	x->data = e + i;
	*at = i + x->n;
	return 1;
}

int sj_link_entry_put(struct sj_buf *b, uint32_t flags, size_t total,
		      int more, const void *data, size_t len)
{
	size_t head = flags == SJ_LINK_START ? SJ_LINK_START_HEAD :
		      SJ_LINK_ENTRY_HEAD;
	uint8_t *p;

	if ((flags != 0 && flags != SJ_LINK_START && flags != SJ_LINK_PIECE) ||
	    len > SJ_LINK_LEN_MASK ||
	    (flags == SJ_LINK_START &&
	     (total > SJ_LINK_LEN_MASK || total < len)) ||
	    sj_buf_reserve(b, head + len))
		return -1;
	p = b->p + b->len;
	sj_put_be32(p, flags | (uint32_t)len);
	if (flags == SJ_LINK_START) {
		p[SJ_LINK_ENTRY_HEAD] = (uint8_t)(more != 0);
		sj_put_be32(p + SJ_LINK_ENTRY_HEAD + 1, (uint32_t)total);
	}
	if (len > 0)
		memcpy(p + head, data, len);
	b->len += head + len;
	return 0;
}
