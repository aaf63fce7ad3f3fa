// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * evio.h - what the shim's three kinds of connection share (the link,
 * its ZMTP peer of the kernel, its ZMTP server for Jupyter): a
 * non-blocking socket in the event loop (evloop.h) whose output waits in
 * a buffer, and a line for the shim's log.
 *
 * Each fd is registered with a whole tag (SJ_EV_TAG: its owner and the
 * owner's serial), never a pointer: see evloop.h.
 */
#ifndef SJ_EVIO_H
#define SJ_EVIO_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "evloop.h"
#include "ratelimit.h"
#include "sj_err.h"

/* A connection made, lost or refused: one line, for the shim's log;
 * debug lines show with --shim-verbose only. */
typedef void (*sj_note_fn)(void *arg, int debug, const char *msg);

void sj_notef(sj_note_fn fn, void *arg, int debug, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A line that somebody else can cause (a refused connection), through rl:
 * see ratelimit.h.  Always at level 0: an admin must see the first. */
void sj_notef_limited(struct sj_ratelimit *rl, sj_note_fn fn, void *arg,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The count rl holds back, if any, as one line. */
void sj_note_flush(struct sj_ratelimit *rl, sj_note_fn fn, void *arg);

/* Arms the timer once, ms from now (0 disarms it). */
int sj_evio_arm(int timer_fd, long ms);

/* What an fd is registered for; its owner keeps these flags with it. */
enum {
	SJ_EV_OUT = 1,	/* EPOLLOUT: output is waiting */
	SJ_EV_HELD = 2,	/* no EPOLLIN: its input waits (backpressure) */
};

/* Registers (op EPOLL_CTL_ADD) or updates (EPOLL_CTL_MOD) fd in lp
 * under tag: EPOLLIN unless ev has SJ_EV_HELD, EPOLLOUT if SJ_EV_OUT. */
int sj_evio_watch(struct sj_evloop *lp, int op, int fd, uint64_t tag,
		  unsigned ev);
/* Takes *fd (if >= 0) out of lp, closes it and sets it to -1; the events
 * of the batch still due under tag are dropped.  Closing alone would
 * leave it in the set while a duplicate of it is open. */
void sj_evio_close(struct sj_evloop *lp, int *fd, uint64_t tag);
/* Holds fd's input (stops reading it: its sender is slowed by TCP) or
 * lets it go on; updates *ev and the registration if that changes. */
int sj_evio_hold(struct sj_evloop *lp, int fd, uint64_t tag, unsigned *ev,
		 int hold);

/* Sends what fd takes of out, then arms EPOLLOUT while bytes remain (and
 * disarms it after).  Returns 0, or -1 if the connection is broken. */
int sj_evio_send(struct sj_evloop *lp, int fd, uint64_t tag,
		 struct sj_buf *out, unsigned *ev);

/* What became of a connection's input, for the code that reads and
 * handles it: the same three answers for the link, the kernel's client
 * and the listener for Jupyter's clients. */
enum sj_io_result {
	SJ_IO_MORE,	/* all is well: read on when more arrives */
	SJ_IO_DROP,	/* this peer is done (closed, broken, or it broke
			   the protocol): close its connection, not the shim */
	SJ_IO_FATAL,	/* the shim cannot go on: out of memory, or a
			   callback failed */
};

/* One read of up to chunk bytes (or more, if the buffer has the room)
 * onto in, after making room: MORE with *got the bytes read (0 if there
 * were none: EAGAIN), DROP if the connection is closed or broken (errno
 * 0 for a close), FATAL when out of memory.  One read per wake-up: what
 * it took is handled before more is read, so a stream never piles up. */
enum sj_io_result sj_evio_read(int fd, struct sj_buf *in, size_t chunk,
			       size_t *got);

#endif
