// SPDX-License-Identifier: GPL-2.0-or-later
/* The entries of a link message, one at a time (link_entry.h). */
#include "link_entry.h"

#include "buf.h"

int sj_link_entry_next(const uint8_t *e, size_t len, size_t *at,
		       struct sj_link_entry *x)
{
	size_t i = *at;

	if (i == len)
		return 0;
	if (len - i < 4)
		return -1;
	x->head = sj_get_be32(e + i);
	x->n = x->head & SJ_LINK_LEN_MASK;
	x->total = x->n;
	x->more = 0;
	i += 4;
	if ((x->head & SJ_LINK_START) && (x->head & SJ_LINK_PIECE))
		return -1;
	if (x->head & SJ_LINK_START) {
		/* A flag byte, the frame's whole length. */
		if (len - i < 5 || e[i] > 1)
			return -1;
		x->more = e[i];
		x->total = sj_get_be32(e + i + 1);
		if (x->total > SJ_LINK_LEN_MASK || x->total < x->n)
			return -1;
		i += 5;
	}
	if (x->n > len - i)
		return -1;
	x->data = e + i;
	*at = i + x->n;
	return 1;
}
