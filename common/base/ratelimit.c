// SPDX-License-Identifier: GPL-2.0-or-later
#include "ratelimit.h"

#include <time.h>

int sj_ratelimit_allow(struct sj_ratelimit *r, int64_t now_ms,
		       uint64_t *suppressed)
{
	*suppressed = 0;
	if (r->window_start == 0 ||
	    now_ms - r->window_start >= SJ_RATELIMIT_WINDOW_MS) {
		r->window_start = now_ms;
		r->in_window = 0;
	}
	if (r->in_window >= SJ_RATELIMIT_BURST) {
		r->suppressed++;
		return 0;
	}
	r->in_window++;
	*suppressed = r->suppressed;
	r->suppressed = 0;
	return 1;
}

uint64_t sj_ratelimit_flush(struct sj_ratelimit *r)
{
	uint64_t n = r->suppressed;

	r->suppressed = 0;
	return n;
}
