// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * clock.h - the one clock for timeouts, deadlines and rate limits.
 */
#ifndef SJ_CLOCK_H
#define SJ_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms, never 0 (0 is free to mean "not yet"). */
int64_t sj_monotonic_ms(void);

#endif
