// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zend.h - a fake ZeroMQ peer for the harnesses: one end of a socket that
 * writes what it has queued a piece at a time, and reads ZMTP 3 into
 * messages with a reader of its own, so that what the shims write is not
 * judged by their own parser.  It writes with zmtp.c's writers
 * (sj_zmtp_put_frame, the greeting and READY): the shims' readers are
 * checked by what arrives on the other side.
 */
#ifndef SJ_ZEND_H
#define SJ_ZEND_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzzbuf.h"
#include "zmtp.h"

/* What it still has to write, how much at a time, and what it has read:
 * each message a 4-byte count of frames, then each frame as a 4-byte
 * length and its bytes.  Commands (READY) are not messages. */
struct zend {
	int fd;
	struct sj_buf out, in;
	size_t chunk;
	int greeted;
	struct sj_buf msg;	/* frames of the message being read */
	uint32_t nframes;
	struct sj_buf got;
};

/* Takes fd (non-blocking from now); -1 if fd is not one. */
static inline int zend_init(struct zend *e, int fd)
{
	*e = (struct zend){ .fd = fd, .chunk = SIZE_MAX };
	return fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) ? -1 : 0;
}

static inline void zend_free(struct zend *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	sj_buf_free(&e->out);
	sj_buf_free(&e->in);
	sj_buf_free(&e->msg);
	sj_buf_free(&e->got);
}

/* Queues a frame. */
static inline void zend_frame(struct zend *e, uint8_t flags, const void *p,
			      size_t n)
{
	if (sj_zmtp_put_frame(&e->out, flags, p, n))
		fz_oom();
}

/* Queues the greeting (ZMTP 3.0, NULL) and READY with the socket type,
 * and the Identity if id_len. */
static inline void zend_hello(struct zend *e, const char *type,
			      const uint8_t *id, size_t id_len)
{
	uint8_t g[SJ_ZMTP_GREETING_BYTES];

	sj_zmtp_greeting(g);
	fz_append(&e->out, g, sizeof(g));
	if (sj_zmtp_put_ready(&e->out, type, id_len > 0 ? id : NULL, id_len))
		fz_oom();
}

/* Whole frames of e->in onto e->got.  -1 if it did not start with a
 * ZMTP 3 greeting. */
static inline int zend_parse(struct zend *e)
{
	for (;;) {
		const uint8_t *p = e->in.p + e->in.off;
		size_t avail = e->in.len - e->in.off, head = 2, n;

		if (!e->greeted) {
			if (avail < SJ_ZMTP_GREETING_BYTES)
				break;
			if (p[0] != 0xff || p[10] != 3)
				return -1;
			e->greeted = 1;
			e->in.off += SJ_ZMTP_GREETING_BYTES;
			continue;
		}
		if (avail < 2 || ((p[0] & 2) && avail < 9))
			break;
		n = p[1];
		if (p[0] & 2) {
			head = 9;
			for (int i = 2; i <= 8; i++)
				n = n << 8 | p[i];
		}
		if (avail - head < n)
			break;
		if (!(p[0] & 4)) {
			fz_frame(&e->msg, p + head, n);
			e->nframes++;
		}
		if (!(p[0] & 4) && !(p[0] & 1)) {
			fz_append_be32(&e->got, e->nframes);
			fz_append(&e->got, e->msg.p, e->msg.len);
			e->msg.len = 0;
			e->nframes = 0;
		}
		e->in.off += head + n;
	}
	sj_buf_consumed(&e->in);
	return 0;
}

/* Reads what the socket holds and parses it.  Returns 1 if it read
 * something, 0 if not, -1 if the peer closed (errno 0) or broke the
 * socket, -2 if what it sent is not ZMTP 3. */
static inline int zend_read(struct zend *e)
{
	static uint8_t chunk[65536];
	int moved = 0;

	for (;;) {
		ssize_t r = read(e->fd, chunk, sizeof(chunk));

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r == 0)
			errno = 0;
		if (r <= 0)
			return -1;
		fz_append(&e->in, chunk, (size_t)r);
		moved = 1;
	}
	return zend_parse(e) ? -2 : moved;
}

/* Writes up to e->chunk bytes of what is queued (a big queue in at most
 * 16 writes).  Returns 1 if it wrote, 0 if not, -1 on a broken socket. */
static inline int zend_write(struct zend *e)
{
	size_t n = e->out.len - e->out.off, c = e->chunk;
	ssize_t w;

	if (n == 0)
		return 0;
	if (c < n / 16)
		c = n / 16;
	w = send(e->fd, e->out.p + e->out.off, n < c ? n : c, MSG_NOSIGNAL);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (w <= 0)
		return -1;
	e->out.off += (size_t)w;
	sj_buf_consumed(&e->out);
	return 1;
}

/* Whether it still has bytes to write. */
static inline int zend_pending(const struct zend *e)
{
	return e->out.len > e->out.off;
}

#endif
