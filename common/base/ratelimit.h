// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ratelimit.h - log lines that a stranger can cause, bounded.
 *
 * Anybody who can reach a port of ours can make us refuse a connection,
 * and each refusal is worth a line in the Jupyter server's log, which a
 * flood would grow without end.  So such lines go through a limiter: the
 * first SJ_RATELIMIT_BURST of a minute are written, the rest counted, and
 * the count is written (one line) when the next line is allowed or the
 * limiter is flushed.  Pure logic, the clock is the caller's.
 */
#ifndef SJ_RATELIMIT_H
#define SJ_RATELIMIT_H

#include <stdint.h>

#define SJ_RATELIMIT_BURST 5
#define SJ_RATELIMIT_WINDOW_MS 60000

struct sj_ratelimit {
	int64_t window_start;	/* ms; 0: no line yet */
	unsigned in_window;	/* lines written in this window */
	uint64_t suppressed;	/* lines not written since the last count */
};

/* Whether a line may be written at now_ms (monotonic; > 0).  When it
 * may, *suppressed is set to the lines held back before it (to be
 * reported first) and reset; 0 otherwise. */
int sj_ratelimit_allow(struct sj_ratelimit *r, int64_t now_ms,
		       uint64_t *suppressed);

/* The lines held back and not reported yet (then reset): for a last
 * count when the connection or the shim ends. */
uint64_t sj_ratelimit_flush(struct sj_ratelimit *r);

#endif
