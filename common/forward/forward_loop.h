// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * forward_loop.h - what the forwarding loop (forward_loop.c) and the
 * channel rules it drives (forward.c) share.  Nothing else includes it.
 */
#ifndef SJ_FORWARD_LOOP_H
#define SJ_FORWARD_LOOP_H

#include <stddef.h>

#include "forward.h"

/* Whether a queue of n bytes holds its input, held already or not: the
 * two bounds of forward.h, so that it does not flap. */
static inline int sj_fwd_over_bound(int held, size_t n)
{
	return n > (held ? SJ_FWD_QUEUE_LOW : SJ_FWD_QUEUE_HIGH);
}

/* A new link connection: parts of messages that were on their way on
 * the old one are lost, so those messages are, and the clients that got
 * their first parts are disconnected (their frame would never end).
 * Call after the link was serviced. */
void sj_channels_new_epoch(struct sj_channels *c);

#endif
