#include "evio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>

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

int sj_evio_watch(int epfd, int op, int fd, void *ptr, int out_armed)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (out_armed ? EPOLLOUT : 0),
		.data.ptr = ptr,
	};

	return epoll_ctl(epfd, op, fd, &ev);
}

int sj_evio_send(int epfd, int fd, void *ptr, struct sj_buf *out,
		 int *out_armed)
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
	int want = out->off < out->len;
	if (want != *out_armed) {
		*out_armed = want;
		if (sj_evio_watch(epfd, EPOLL_CTL_MOD, fd, ptr, want))
			return -1;
	}
	return 0;
}
