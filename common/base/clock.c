// SPDX-License-Identifier: GPL-2.0-or-later
#include "clock.h"

#include <time.h>

int64_t sj_monotonic_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}
