// SPDX-License-Identifier: GPL-2.0-or-later
/* The forwarding loop (forward.h's sj_forward_run and sj_forward_drain)
 * on the channels' one event loop (evloop.h): the channel rules it drives
 * are forward.c's. */
#include "forward.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "forward_loop.h"

/* After a shutdown_reply: long enough for the kernel's last messages,
 * written just before it exited, to arrive. */
#define REPLIED_QUIET_MS 20
/* How long the node side waits for the link to take the kernel's last
 * words before it closes. */
#define LINK_FLUSH_MS 1000

/*
 * The loop: the channels' one event loop (evloop.h), in which the link,
 * the local side (the listener for Jupyter's clients, or the kernel's
 * client) and, while forwarding, the watches have their fds.  Each
 * wake-up is one epoll_wait; its events go to the link first (then the
 * epoch check: a new link connection cuts short the messages in parts it
 * was carrying), then to the local side; then the news is published, each
 * socket that has something to send is written once, the inputs are held
 * or let go (backpressure), and the watches that fired are called.
 */
#define MAX_WATCHES 8

struct fwd_loop {
	struct sj_channels *c;
	int nw;
	struct sj_fwd_watch *w;
	int wfd[MAX_WATCHES];		/* the fd registered for each watch */
	unsigned wready;		/* watches to call: bit i = w[i] */
};

static enum sj_ev_owner local_owner(const struct sj_channels *c)
{
	return c->front != NULL ? SJ_EV_OWNER_LISTENER : SJ_EV_OWNER_KERNEL;
}

/* The loop's handler for the watches: called after the forwarding. */
static int on_watch(void *arg, uint64_t tag, uint32_t events,
		    struct sj_err *err)
{
	struct fwd_loop *L = arg;

	(void)events;
	(void)err;
	if (tag < (uint64_t)L->nw)
		L->wready |= 1u << tag;
	return 0;
}

static void unwatch(struct fwd_loop *L, int i)
{
	if (L->wfd[i] < 0)
		return;
	(void)epoll_ctl(L->c->loop.epfd, EPOLL_CTL_DEL, L->wfd[i], NULL);
	sj_evloop_forget(&L->c->loop, SJ_EV_TAG(SJ_EV_OWNER_WATCH, i));
	L->wfd[i] = -1;
}

/* The watches leave the loop; their fds stay their owners'. */
static void loop_close(struct fwd_loop *L)
{
	for (int i = 0; i < L->nw; i++)
		unwatch(L, i);
	sj_evloop_handler(&L->c->loop, SJ_EV_OWNER_WATCH, NULL, NULL, NULL);
}

static int loop_open(struct fwd_loop *L, struct sj_channels *c,
		     struct sj_fwd_watch *w, int nw, struct sj_err *err)
{
	memset(L, 0, sizeof(*L));
	L->c = c;
	if (nw > MAX_WATCHES)
		return sj_err_set(err, "too many watches (%d)", nw);
	if (!c->link_open || (c->front == NULL) == (c->kernel == NULL))
		return sj_err_set(err, "the channels are not open");
	L->w = w;
	sj_evloop_handler(&c->loop, SJ_EV_OWNER_WATCH, on_watch, NULL, L);
	for (int i = 0; i < nw; i++) {
		L->wfd[i] = -1;
		L->nw = i + 1;
		if (w[i].fd >= 0 &&
		    sj_evio_watch(&c->loop, EPOLL_CTL_ADD, w[i].fd,
				  SJ_EV_TAG(SJ_EV_OWNER_WATCH, i), 0) != 0) {
			sj_err_errno(err, errno, "epoll_ctl");
			loop_close(L);
			return -1;
		}
		L->wfd[i] = w[i].fd;
	}
	return 0;
}

static uint64_t moved_so_far(const struct sj_channels *c)
{
	uint64_t n = 0;

	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		n += c->forwarded[ch][0] + c->forwarded[ch][1];
	return n;
}

static void retire_if_done(struct fwd_loop *L, int i)
{
	if (L->w[i].fd < 0)
		unwatch(L, i);
}

/* Backpressure: see forward.h. */
static int hold_inputs(struct sj_channels *c)
{
	int r;

	c->hold_local = sj_fwd_over_bound(c->hold_local, sj_link_queued(&c->link));
	if (c->front != NULL)
		return sj_zfront_hold(c->front, c->hold_local);
	c->hold_link = sj_fwd_over_bound(c->hold_link, sj_zmtp_queued(c->kernel));
	r = sj_zmtp_hold(c->kernel, c->hold_local);
	return sj_link_hold(&c->link, c->hold_link) || r ? -1 : 0;
}

/* One wake-up: waits up to timeout_ms (-1: for ever), then forwards and
 * calls the ready watches.  Returns the number of messages moved, or -1;
 * sets *stop when a watch says so or the link server has given up. */
static int loop_round(struct fwd_loop *L, struct sj_channels *c,
		      int timeout_ms, int *stop, struct sj_err *err)
{
	uint64_t before = moved_so_far(c);

	if (sj_evloop_wait(&c->loop, timeout_ms, err) < 0 ||
	    sj_evloop_dispatch(&c->loop, SJ_EV_OWNER_LINK, err))
		return -1;
	sj_channels_new_epoch(c);	/* also when nothing came yet */
	if (c->link.gone)
		*stop = 1;
	if (sj_evloop_dispatch(&c->loop, local_owner(c), err) ||
	    sj_evloop_dispatch(&c->loop, SJ_EV_OWNER_WATCH, err))
		return -1;
	if (sj_channels_news_flush(c, err))
		return -1;
	/* One write per socket for all this round moved. */
	if (sj_link_flush(&c->link, err))
		return -1;
	if (c->front != NULL)
		sj_zfront_flush(c->front);
	else
		sj_zmtp_flush(c->kernel);
	if (hold_inputs(c))
		return sj_err_errno(err, errno, "epoll_ctl");
	while (L->wready != 0) {
		int i = __builtin_ctz(L->wready);
		struct sj_fwd_watch *w = &L->w[i];
		int r;

		L->wready &= ~(1u << i);
		if (L->wfd[i] < 0)
			continue;	/* retired meanwhile */
		r = w->on_ready(w);
		if (r < 0)
			return sj_err_set(err, "watch %d failed", i);
		if (r > 0)
			*stop = 1;
		retire_if_done(L, i);
	}
	return (int)(moved_so_far(c) - before);
}

int sj_forward_run(struct sj_channels *c, struct sj_fwd_watch *w, int nw,
		   struct sj_err *err)
{
	struct fwd_loop L;
	int stop = 0, rv = 0, timeout = 0;

	if (loop_open(&L, c, w, nw, err))
		return -1;
	/* The first round does not wait: what was queued before (the news,
	 * the link's backlog) goes out at once. */
	for (; !stop; timeout = -1) {
		if (loop_round(&L, c, timeout, &stop, err) < 0) {
			rv = -1;
			break;
		}
	}
	loop_close(&L);
	return rv;
}

int sj_forward_drain(struct sj_channels *c, int quiet_ms, struct sj_err *err)
{
	struct fwd_loop L;
	int stop = 0, r = 0, first = 1;
	long quiet_until;

	/* The kernel has said its last word: forward what is queued, but do
	 * not wait long for more. */
	if (c->shutdown_replied && quiet_ms > REPLIED_QUIET_MS)
		quiet_ms = REPLIED_QUIET_MS;
	if (loop_open(&L, c, NULL, 0, err))
		return -1;
	quiet_until = sj_monotonic_ms() + quiet_ms;
	for (;;) {
		long left = quiet_until - sj_monotonic_ms();

		/* One look at least at what is already waiting. */
		if (left <= 0 && !first)
			break;
		first = 0;
		r = loop_round(&L, c, left > 0 ? (int)left : 0, &stop, err);
		if (r < 0)
			break;
		if (r > 0)
			quiet_until = sj_monotonic_ms() + quiet_ms;
	}
	loop_close(&L);
	/* A peer that does not read them in a second is not coming back
	 * for them: what stays unsent is lost with it. */
	if (r >= 0)
		(void)sj_link_flush_wait(&c->link, LINK_FLUSH_MS);
	return r < 0 ? -1 : 0;
}
