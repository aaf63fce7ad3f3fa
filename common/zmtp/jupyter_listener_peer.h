// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jupyter_listener_peer.h - what the two halves of the listener for
 * Jupyter's clients share of a client: jupyter_listener.c takes clients
 * and reads them, jupyter_listener_send.c writes to them what comes from
 * the kernel.  Nothing else includes it.
 */
#ifndef SJ_JUPYTER_LISTENER_PEER_H
#define SJ_JUPYTER_LISTENER_PEER_H

#include <stddef.h>

#include "connfile.h"
#include "jupyter_listener.h"

/* Shell, control, stdin and hb are ROUTERs; iopub is the XPUB. */
static inline int sj_zfront_router(int ch)
{
	return ch != SJ_IOPUB;
}

/* Bytes queued for p that it has not taken yet. */
static inline size_t sj_zfront_unsent(const struct sj_zfront_peer *p)
{
	return p->out.len - p->out.off;
}

/* Disconnects p and frees it (its slot is free again). */
void sj_zfront_peer_free(struct sj_zfront *f, struct sj_zfront_peer *p);
/* Sends what p takes now of what is queued for it; -1 if its connection
 * is broken (the caller frees it). */
int sj_zfront_peer_write(struct sj_zfront *f, struct sj_zfront_peer *p);

#endif
