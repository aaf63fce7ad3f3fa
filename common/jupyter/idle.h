// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * idle.h - when a kernel counts as idle (--idle-timeout, issue 16).
 *
 * Idle means: no request from the client on shell or control, and no
 * busy status from the kernel, for the whole timeout.  Heartbeats do not
 * count: a front end that is merely open pings forever.  A cell that
 * runs longer than the timeout keeps the kernel busy, so it is never
 * ended under the user's hands.
 */
#ifndef SJ_IDLE_H
#define SJ_IDLE_H

#include <time.h>

#include "shimopt.h"
#include "sj_err.h"

/* The longest timeout, as for --warn-before: a week. */
#define SJ_IDLE_LONGEST SJ_SHIMOPT_DURATION_LONGEST

struct sj_idle {
	unsigned timeout;	/* seconds; 0: never idle */
	time_t since;		/* the last sign of life */
	int busy;		/* the kernel's last status was busy */
};

/* "20s", "30m", "2h" (one duration with a unit, 1s to 7 days) or "0"
 * (off) into *timeout seconds.  -1 with err naming what is wrong. */
int sj_idle_parse(const char *s, unsigned *timeout, struct sj_err *err);

/* The clock starts at now (the kernel's start counts as life). */
void sj_idle_start(struct sj_idle *c, unsigned timeout, time_t now);

/* A request from the client on shell or control (any msg_type). */
void sj_idle_request(struct sj_idle *c, time_t now);

/* A status from the kernel on iopub: busy 1 for "busy", 0 for "idle";
 * other states ("starting") are not passed in. */
void sj_idle_status(struct sj_idle *c, int busy, time_t now);

/* Whether the kernel has now been idle for the timeout: 1, or 0 with
 * *next set to when to ask again (0: not before something happens,
 * i.e. the clock is off or the kernel is busy).  A clock that went
 * backwards restarts the wait rather than ending the kernel. */
int sj_idle_due(struct sj_idle *c, time_t now, time_t *next);

#endif
