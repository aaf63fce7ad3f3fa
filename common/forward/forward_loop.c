// SPDX-License-Identifier: GPL-2.0-or-later
/* The forwarding loop (forward.h's sj_forward_run and sj_forward_drain):
 * the channel rules it drives are forward.c's. */
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
 * The loop: one epoll set, made once, over the link's epoll fd, the local
 * side's (the listener's or the kernel client's) and the watches' fds.
 * Each wake-up services what fired, then writes once to each socket that
 * has something to send.
 */
#define TAG_LINK 0
#define TAG_LOCAL 1
#define TAG_WATCH 2
#define MAX_WATCHES 8

struct fwd_loop {
	int epfd;
	int nw;
	struct sj_fwd_watch *w;
	int wfd[MAX_WATCHES];		/* the fd registered for each watch */
	unsigned wready;		/* watches to call: bit i = w[i] */
	int link_ready, local_ready;
};

static int local_fd(const struct sj_channels *c)
{
	return c->front != NULL ? c->front->epfd : c->kernel->epfd;
}

static int loop_add(struct fwd_loop *L, int fd, unsigned tag,
		    struct sj_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return sj_err_errno(err, errno, "epoll_ctl");
	return 0;
}

static void loop_close(struct fwd_loop *L)
{
	if (L->epfd >= 0)
		close(L->epfd);
	L->epfd = -1;
}

static int loop_open(struct fwd_loop *L, struct sj_channels *c,
		     struct sj_fwd_watch *w, int nw, struct sj_err *err)
{
	memset(L, 0, sizeof(*L));
	L->epfd = -1;
	if (nw > MAX_WATCHES)
		return sj_err_set(err, "too many watches (%d)", nw);
	if (!c->link_open || (c->front == NULL) == (c->kernel == NULL))
		return sj_err_set(err, "the channels are not open");
	L->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L->epfd < 0)
		return sj_err_errno(err, errno, "epoll_create1");
	if (loop_add(L, c->link.epfd, TAG_LINK, err) ||
	    loop_add(L, local_fd(c), TAG_LOCAL, err))
		goto fail;
	L->w = w;
	L->nw = nw;
	for (int i = 0; i < nw; i++) {
		L->wfd[i] = w[i].fd;
		if (L->wfd[i] >= 0 &&
		    loop_add(L, L->wfd[i], (unsigned)(TAG_WATCH + i), err))
			goto fail;
	}
	/* Whatever is already waiting has had its wake-up: look once. */
	L->link_ready = L->local_ready = 1;
	return 0;
fail:
	loop_close(L);
	return -1;
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
	if (L->wfd[i] >= 0 && L->w[i].fd < 0) {
		(void)epoll_ctl(L->epfd, EPOLL_CTL_DEL, L->wfd[i], NULL);
		L->wfd[i] = -1;
	}
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

/* One wake-up: waits up to timeout_ms (-1: for ever) unless something is
 * already known to be ready, then forwards and calls the ready watches.
 * Returns the number of messages moved, or -1; sets *stop when a watch
 * says so or the link server has given up. */
static int loop_round(struct fwd_loop *L, struct sj_channels *c,
		      int timeout_ms, int *stop, struct sj_err *err)
{
	struct epoll_event ev[TAG_WATCH + MAX_WATCHES];
	uint64_t before = moved_so_far(c);
	int n;

	n = epoll_wait(L->epfd, ev, TAG_WATCH + MAX_WATCHES,
		       L->link_ready || L->local_ready ? 0 : timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return sj_err_errno(err, errno, "epoll_wait");
	}
	for (int k = 0; k < n; k++) {
		unsigned tag = ev[k].data.u32;

		if (tag == TAG_LINK)
			L->link_ready = 1;
		else if (tag == TAG_LOCAL)
			L->local_ready = 1;
		else
			L->wready |= 1u << (tag - TAG_WATCH);
	}
	if (L->link_ready) {
		L->link_ready = 0;
		if (sj_link_service(&c->link, err))
			return -1;
		sj_channels_new_epoch(c);	/* also when nothing came yet */
		if (c->link.gone)
			*stop = 1;
	}
	if (L->local_ready) {
		L->local_ready = 0;
		if (c->front != NULL ? sj_zfront_service(c->front, err) :
		    sj_zmtp_service(c->kernel, err))
			return -1;
	}
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
			continue;
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
	int stop = 0, rv = 0;

	if (loop_open(&L, c, w, nw, err))
		return -1;
	while (!stop) {
		if (loop_round(&L, c, -1, &stop, err) < 0) {
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
	int stop = 0, r = 0;
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

		if (left <= 0 && !L.link_ready && !L.local_ready)
			break;
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
