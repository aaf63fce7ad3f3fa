// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * evloop.h - the shim's one event loop: one epoll set, and a small table
 * of handlers, one per owner (the link, the listener for Jupyter's
 * clients, the kernel's client, the forwarding loop's watches).
 *
 * Each fd is registered under a 64-bit tag whose top byte names its owner
 * (SJ_EV_TAG); the other 56 bits are the owner's, not a pointer: serials,
 * so that a connection freed while handling one event of a batch is never
 * mistaken for a later one allocated at the same address.  A wake-up is
 * one epoll_wait (sj_evloop_wait); its events then go to their owners'
 * handlers, owner by owner in the order the caller asks for
 * (sj_evloop_dispatch), so that what the shim does between two owners
 * (the forwarding loop's epoch check after the link) keeps its place.
 *
 * Timers: each owner keeps its own timerfd, registered in the loop under
 * a tag of its own (sj_evloop_timer); decisions.md says why.
 */
#ifndef SJ_EVLOOP_H
#define SJ_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>

#include "sj_err.h"

/* The owners, in the order sj_evloop_dispatch_all serves them. */
enum sj_ev_owner {
	SJ_EV_OWNER_LINK = 1,
	SJ_EV_OWNER_LISTENER,
	SJ_EV_OWNER_KERNEL,
	SJ_EV_OWNER_WATCH,
	SJ_EV_OWNER_TEST,	/* the unit tests' own */
	SJ_EV_OWNERS,
};

#define SJ_EV_OWNER_SHIFT 56
#define SJ_EV_TAG_MASK ((UINT64_C(1) << SJ_EV_OWNER_SHIFT) - 1)
/* The tag of x (its owner's 56 bits) registered by owner. */
#define SJ_EV_TAG(owner, x) \
	((uint64_t)(owner) << SJ_EV_OWNER_SHIFT | \
	 ((uint64_t)(x) & SJ_EV_TAG_MASK))

/* Events taken per wake-up; more wait for the next (level-triggered). */
#define SJ_EVLOOP_BATCH 128

/* One event of the batch for its owner: tag the owner's 56 bits, events
 * epoll's.  Returns 0, or -1 (err says) when the shim cannot go on. */
typedef int (*sj_ev_fn)(void *arg, uint64_t tag, uint32_t events,
			struct sj_err *err);
/* After all of an owner's events of one batch, if it had any: for what
 * must come after them (the link accepts after reading its connections).
 * Returns 0 or -1 (err). */
typedef int (*sj_ev_done_fn)(void *arg, struct sj_err *err);

struct sj_ev_handler {
	sj_ev_fn on_event;
	sj_ev_done_fn on_batch_end;	/* may be NULL */
	void *arg;
};

struct sj_evloop {
	int open;		/* a zeroed loop is closed: nothing to free */
	int epfd;
	struct sj_ev_handler h[SJ_EV_OWNERS];
	struct epoll_event ev[SJ_EVLOOP_BATCH];
	int n;			/* events of the last wait */
};

int sj_evloop_open(struct sj_evloop *lp, struct sj_err *err);
/* Closes the epoll set; the fds in it stay their owners'. */
void sj_evloop_close(struct sj_evloop *lp);

/* Sets owner's handler (on_event NULL: none; its events are dropped). */
void sj_evloop_handler(struct sj_evloop *lp, enum sj_ev_owner owner,
		       sj_ev_fn on_event, sj_ev_done_fn on_batch_end,
		       void *arg);

/* A new non-blocking timerfd (*fd) registered under tag (a whole tag,
 * SJ_EV_TAG).  Returns 0, or -1 with *fd -1 (err). */
int sj_evloop_timer(struct sj_evloop *lp, uint64_t tag, int *fd,
		    struct sj_err *err);

/* The events of the batch not yet dispatched under tag are dropped: fd
 * was taken out of the set (sj_evio_close), and a later fd of the same
 * number must not get them. */
void sj_evloop_forget(struct sj_evloop *lp, uint64_t tag);

/* One wait of up to timeout_ms (-1: for ever) for a new batch, replacing
 * the last.  Returns the number of events (0 when interrupted by a
 * signal), or -1 (err). */
int sj_evloop_wait(struct sj_evloop *lp, int timeout_ms, struct sj_err *err);
/* Hands the batch's events of owner to its handler, in the order epoll
 * gave them, then calls its on_batch_end if it had any.  Returns 0, or -1
 * when a handler failed (err). */
int sj_evloop_dispatch(struct sj_evloop *lp, enum sj_ev_owner owner,
		       struct sj_err *err);
/* sj_evloop_dispatch for each owner in enum order. */
int sj_evloop_dispatch_all(struct sj_evloop *lp, struct sj_err *err);
/* sj_evloop_wait, then sj_evloop_dispatch_all: for callers with nothing
 * to do between owners (the login shim before the link, the tests). */
int sj_evloop_run_once(struct sj_evloop *lp, int timeout_ms,
		       struct sj_err *err);

#endif
