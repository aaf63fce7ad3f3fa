// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzzbuf.h - bytes appended to an sj_buf by the harnesses and seeds.c,
 * which build inputs and expectations and have nothing to do when memory
 * runs out but stop.
 */
#ifndef SJ_FUZZBUF_H
#define SJ_FUZZBUF_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "link_entry.h"

static inline void fz_oom(void)
{
	fputs("out of memory\n", stderr);
	abort();
}

/* Appends p[0..n) to b; out of memory, aborts. */
static inline void fz_append(struct sj_buf *b, const void *p, size_t n)
{
	if (sj_buf_reserve(b, n))
		fz_oom();
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Appends v as 4 bytes, big-endian. */
static inline void fz_append_be32(struct sj_buf *b, size_t v)
{
	uint8_t w[4];

	sj_put_be32(w, (uint32_t)v);
	fz_append(b, w, 4);
}

/* Appends a whole frame p[0..n) in the link's layout; aborts when
 * sj_link_entry_put fails (memory, or a frame the link could not carry). */
static inline void fz_frame(struct sj_buf *b, const void *p, size_t n)
{
	if (sj_link_entry_put(b, 0, n, 0, p, n))
		fz_oom();
}

#endif
