// SPDX-License-Identifier: GPL-2.0-or-later
/* The one event loop (evloop.h). */
#include "evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

int sj_evloop_open(struct sj_evloop *lp, struct sj_err *err)
{
	memset(lp, 0, sizeof(*lp));
	lp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lp->epfd < 0)
		return sj_err_errno(err, errno, "epoll_create1");
	lp->open = 1;
	return 0;
}

void sj_evloop_close(struct sj_evloop *lp)
{
	if (lp->open)
		close(lp->epfd);
	lp->open = 0;
	lp->epfd = -1;
	lp->n = 0;
}

void sj_evloop_handler(struct sj_evloop *lp, enum sj_ev_owner owner,
		       sj_ev_fn on_event, sj_ev_done_fn on_batch_end,
		       void *arg)
{
	lp->h[owner] = (struct sj_ev_handler){ .on_event = on_event,
					       .on_batch_end = on_batch_end,
					       .arg = arg };
}

int sj_evloop_timer(struct sj_evloop *lp, uint64_t tag, int *fd,
		    struct sj_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	*fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (*fd < 0)
		return sj_err_errno(err, errno, "timerfd_create");
	if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, *fd, &ev) != 0) {
		sj_err_errno(err, errno, "epoll_ctl");
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

/* A dispatched or forgotten event: its tag names no owner. */
#define NO_TAG UINT64_C(0)

void sj_evloop_forget(struct sj_evloop *lp, uint64_t tag)
{
	for (int i = 0; i < lp->n; i++)
		if (lp->ev[i].data.u64 == tag)
			lp->ev[i].data.u64 = NO_TAG;
}

int sj_evloop_wait(struct sj_evloop *lp, int timeout_ms, struct sj_err *err)
{
	int n = epoll_wait(lp->epfd, lp->ev, SJ_EVLOOP_BATCH, timeout_ms);

	lp->n = 0;
	if (n < 0)
		return errno == EINTR ? 0 :
		       sj_err_errno(err, errno, "epoll_wait");
	lp->n = n;
	return n;
}

int sj_evloop_dispatch(struct sj_evloop *lp, enum sj_ev_owner owner,
		       struct sj_err *err)
{
	const struct sj_ev_handler *h = &lp->h[owner];
	int had = 0;

	/* A handler may forget events further on (sj_evloop_forget): each
	 * is read from the batch only when its turn comes. */
	for (int i = 0; i < lp->n; i++) {
		uint64_t tag = lp->ev[i].data.u64;

		if (tag >> SJ_EV_OWNER_SHIFT != (uint64_t)owner)
			continue;
		lp->ev[i].data.u64 = NO_TAG;
		had = 1;
		if (h->on_event != NULL &&
		    h->on_event(h->arg, tag & SJ_EV_TAG_MASK,
				lp->ev[i].events, err))
			return -1;
	}
	if (had && h->on_batch_end != NULL && h->on_batch_end(h->arg, err))
		return -1;
	return 0;
}

int sj_evloop_dispatch_all(struct sj_evloop *lp, struct sj_err *err)
{
	for (int o = 1; o < SJ_EV_OWNERS; o++)
		if (sj_evloop_dispatch(lp, (enum sj_ev_owner)o, err))
			return -1;
	return 0;
}

int sj_evloop_run_once(struct sj_evloop *lp, int timeout_ms,
		       struct sj_err *err)
{
	if (sj_evloop_wait(lp, timeout_ms, err) < 0)
		return -1;
	return sj_evloop_dispatch_all(lp, err);
}
