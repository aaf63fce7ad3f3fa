// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * testloop.h - an event loop (evloop.h) for the tests of one ZMTP end
 * at a time: one per test binary, reused by each test (an end closed
 * leaves nothing of its own in it).  Include after <cmocka.h>.
 */
#ifndef SJ_TESTLOOP_H
#define SJ_TESTLOOP_H

#include <poll.h>

#include "evloop.h"

static inline struct sj_evloop *test_loop(void)
{
	static struct sj_evloop lp;
	struct sj_err err = { "" };

	if (!lp.open && sj_evloop_open(&lp, &err) != 0)
		fail_msg("%s", err.msg);
	return &lp;
}

/* Waits up to ms for something in lp, then serves what is there. */
static inline void test_loop_serve(struct sj_evloop *lp, int ms)
{
	struct pollfd p = { .fd = lp->epfd, .events = POLLIN };
	struct sj_err err = { "" };

	assert_true(poll(&p, 1, ms) >= 0);
	if (sj_evloop_run_once(lp, 0, &err) != 0)
		fail_msg("%s", err.msg);
}

#endif
