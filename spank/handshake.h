// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * handshake.h - the plugin's side of the rendezvous (see rendezvous.h).
 *
 * All steps share one deadline, rendezvous_timeout from plugstack.conf, so
 * a login shim that is gone or stalls costs the step at most that long.
 */
#ifndef SJ_HANDSHAKE_H
#define SJ_HANDSHAKE_H

#include <sys/types.h>
#include <time.h>

#include "rendezvous.h"
#include "sj_err.h"

struct sj_deadline {
	struct timespec at;	/* CLOCK_MONOTONIC */
	int seconds;
};

int sj_deadline_start(struct sj_deadline *d, int seconds, struct sj_err *err);

/* Milliseconds left, at least 1; -1 with err set once the time is up. */
int sj_deadline_left_ms(const struct sj_deadline *d, struct sj_err *err);

/* Sends the HELLO sealed for uid and returns the WELCOME that answers it:
 * made by uid, for the same nonce and node nonce.  w holds the kernel's
 * HMAC key; the caller wipes it. */
int sj_handshake(int fd, const struct sj_hello *h, uid_t uid,
		 const struct sj_deadline *d, struct sj_welcome *w,
		 struct sj_err *err);

#endif
