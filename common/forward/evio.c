// SPDX-License-Identifier: GPL-2.0-or-later
#include "evio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"

void sj_notef(sj_note_fn fn, void *arg, int debug, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(arg, debug, msg);
}

static void note_held(sj_note_fn fn, void *arg, uint64_t held)
{
	if (held > 0)
		sj_notef(fn, arg, 0, "(%llu lines about refused connections "
			 "were not written: at most %d a minute)",
			 (unsigned long long)held, SJ_RATELIMIT_BURST);
}

void sj_notef_limited(struct sj_ratelimit *rl, sj_note_fn fn, void *arg,
		      const char *fmt, ...)
{
	char msg[400];
	uint64_t held;
	va_list ap;

	if (fn == NULL || !sj_ratelimit_allow(rl, sj_monotonic_ms(), &held))
		return;
	note_held(fn, arg, held);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(arg, 0, msg);
}

void sj_note_flush(struct sj_ratelimit *rl, sj_note_fn fn, void *arg)
{
	note_held(fn, arg, sj_ratelimit_flush(rl));
}

int sj_evio_arm(int timer_fd, long ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L },
	};

	return timerfd_settime(timer_fd, 0, &its, NULL);
}

int sj_evio_watch(struct sj_evloop *lp, int op, int fd, uint64_t tag,
		  unsigned ev)
{
	struct epoll_event e = {
		.events = (ev & SJ_EV_HELD ? 0 : EPOLLIN) |
			  (ev & SJ_EV_OUT ? EPOLLOUT : 0),
		.data.u64 = tag,
	};

	return epoll_ctl(lp->epfd, op, fd, &e);
}

void sj_evio_close(struct sj_evloop *lp, int *fd, uint64_t tag)
{
	if (*fd < 0)
		return;
	(void)epoll_ctl(lp->epfd, EPOLL_CTL_DEL, *fd, NULL);
	sj_evloop_forget(lp, tag);
	close(*fd);
	*fd = -1;
}

int sj_evio_hold(struct sj_evloop *lp, int fd, uint64_t tag, unsigned *ev,
		 int hold)
{
	unsigned want = hold ? *ev | SJ_EV_HELD : *ev & ~(unsigned)SJ_EV_HELD;

	if (want == *ev)
		return 0;
	*ev = want;
	return fd < 0 ? 0 : sj_evio_watch(lp, EPOLL_CTL_MOD, fd, tag, want);
}

int sj_evio_send(struct sj_evloop *lp, int fd, uint64_t tag,
		 struct sj_buf *out, unsigned *ev)
{
	while (out->off < out->len) {
		ssize_t n = send(fd, out->p + out->off, out->len - out->off,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		out->off += (size_t)n;
	}
	sj_buf_consumed(out);
	unsigned want = out->off < out->len ? *ev | SJ_EV_OUT :
			*ev & ~(unsigned)SJ_EV_OUT;
	if (want != *ev) {
		*ev = want;
		if (sj_evio_watch(lp, EPOLL_CTL_MOD, fd, tag, want))
			return -1;
	}
	return 0;
}

enum sj_io_result sj_evio_read(int fd, struct sj_buf *in, size_t chunk,
			       size_t *got)
{
	ssize_t n;

	*got = 0;
	sj_buf_compact(in);
	if (sj_buf_reserve(in, chunk))
		return SJ_IO_FATAL;
	do
		n = recv(fd, in->p + in->len, in->cap - in->len, 0);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		errno = 0;
		return SJ_IO_DROP;
	}
	if (n < 0)
		return errno == EAGAIN ? SJ_IO_MORE : SJ_IO_DROP;
	in->len += (size_t)n;
	*got = (size_t)n;
	return SJ_IO_MORE;
}
