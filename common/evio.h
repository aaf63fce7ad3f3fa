/*
 * evio.h - what the shim's three kinds of connection share (the link,
 * its ZMTP peer of the kernel, its ZMTP server for Jupyter): a
 * non-blocking socket in an epoll set whose output waits in a buffer, and
 * a line for the shim's log.
 */
#ifndef SJ_EVIO_H
#define SJ_EVIO_H

#include "buf.h"

/* A connection made, lost or refused: one line, for the shim's log;
 * debug lines show with --shim-verbose only. */
typedef void (*sj_note_fn)(void *arg, int debug, const char *msg);

void sj_notef(sj_note_fn fn, void *arg, int debug, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Registers (op EPOLL_CTL_ADD) or updates (EPOLL_CTL_MOD) fd in epfd
 * with data.ptr: EPOLLIN always, EPOLLOUT when out_armed. */
int sj_evio_watch(int epfd, int op, int fd, void *ptr, int out_armed);

/* Sends what fd takes of out, then arms EPOLLOUT while bytes remain (and
 * disarms it after).  Returns 0, or -1 if the connection is broken. */
int sj_evio_send(int epfd, int fd, void *ptr, struct sj_buf *out,
		 int *out_armed);

#endif
