// SPDX-License-Identifier: GPL-2.0-or-later
/* The records: writing, reading, checking (link_rec.h). */
#include "link_rec.h"

#include <string.h>

#include "link_conn.h"
#include "link_seal.h"

/* A stage buffer bigger than this is given back after its message. */
#define STAGE_KEEP (256 * 1024)

/* Past this much sealed output, a message written is sent at once rather
 * than at the end of the loop's round: a 20 MB stream flows, not piles. */
#define EAGER_FLUSH (256 * 1024)

int sj_link_frames_valid(const uint8_t *f, size_t len, int parts)
{
	struct sj_link_entry x;
	size_t at = 0;
	int r;

	while ((r = sj_link_entry_next(f, len, &at, &x)) == 1)
		if (!parts && (x.head & (SJ_LINK_START | SJ_LINK_PIECE)))
			return 0;
	return r == 0;
}

/* Handles one opened record: FATAL if delivery failed. */
static enum sj_io_result on_record(struct sj_link *L, struct sj_link_conn *c,
				   const uint8_t *p, size_t n,
				   struct sj_err *err)
{
	int parts;

	/* Only the node shim (the server) sends messages in parts. */
	parts = n > 0 && (p[0] & (SJ_LINK_CONT | SJ_LINK_MORE));
	if (n == 0 || (parts && L->server) ||
	    (p[0] & ~(SJ_LINK_CONT | SJ_LINK_MORE)) >= SJ_NCHANNELS ||
	    !sj_link_frames_valid(p + 1, n - 1, parts)) {
		note(L, 0, "link: %s sent a malformed message; connection "
		     "dropped", c->peer);
		return SJ_IO_DROP;
	}
	if (L->deliver(L->deliver_arg, p[0], p + 1, n - 1)) {
		sj_err_wrap(err, "link");
		return SJ_IO_FATAL;
	}
	return SJ_IO_MORE;
}

/* Every whole record in c's opened plaintext. */
enum sj_io_result sj_link_records(struct sj_link *L, struct sj_link_conn *c,
				  struct sj_err *err)
{
	while (c->plain >= 4) {
		const uint8_t *p = c->in.p + c->in.off;
		uint32_t rl = sj_get_be32(p);

		if (rl == 0 || rl > SJ_LINK_PLAIN_MAX) {
			note(L, 0, "link: %s sent a record of %u bytes; "
			     "connection dropped", c->peer, rl);
			return SJ_IO_DROP;
		}
		if (c->plain - 4 < rl) {
			/* Room for the rest in one go. */
			if (sj_link_room_for_record(c, rl + 4 - c->plain)) {
				sj_err_set(err, "out of memory");
				return SJ_IO_FATAL;
			}
			break;
		}
		sj_link_plain_consumed(c, 4 + rl);
		enum sj_io_result r = on_record(L, c, p + 4, rl, err);
		if (r != SJ_IO_MORE)
			return r;
	}
	return SJ_IO_MORE;
}

/* Takes back the record being written, as if it had not been begun: a
 * failed message leaves nothing half-written to be sealed later. */
static void rec_abort(struct sj_link *L)
{
	if (L->rec_buf != NULL)
		L->rec_buf->len = L->rec_start;
	L->rec_buf = NULL;
}

int sj_link_msg_begin(struct sj_link *L, int kind, struct sj_err *err)
{
	/* For the live connection a record is sealed when it ends: what is
	 * in the stage never outlives the call that wrote it. */
	struct sj_buf *b = L->live != NULL ? &L->stage : &L->backlog;

	rec_abort(L);
	if (sj_buf_reserve(b, 5))
		return sj_err_set(err, "out of memory");
	L->rec_buf = b;
	L->rec_start = b->len;
	b->p[b->len + 4] = (uint8_t)kind;
	b->len += 5;
	return 0;
}

/* One entry (link_entry.h's sj_link_entry_put) onto the record begun. */
static int put_entry(struct sj_link *L, uint32_t flags, size_t total,
		     int more, const void *data, size_t len,
		     struct sj_err *err)
{
	struct sj_buf *b = L->rec_buf;
	size_t head = flags == SJ_LINK_START ? SJ_LINK_START_HEAD :
		      SJ_LINK_ENTRY_HEAD;
	size_t used;

	if (b == NULL)
		return sj_err_set(err, "link: no message begun");
	used = b->len - L->rec_start - 4 + SJ_LINK_TAG_BYTES;
	if (len > SJ_LINK_LEN_MASK ||
	    head + len > SJ_LINK_RECORD_MAX - used) {
		rec_abort(L);
		return sj_err_set(err, "a message over the link's limit of %u "
				  "bytes", SJ_LINK_RECORD_MAX -
				  SJ_LINK_TAG_BYTES);
	}
	if (sj_link_entry_put(b, flags, total, more, data, len)) {
		rec_abort(L);
		return sj_err_set(err, "out of memory");
	}
	return 0;
}

int sj_link_msg_frame(struct sj_link *L, const void *data, size_t len,
		      struct sj_err *err)
{
	return put_entry(L, 0, len, 0, data, len, err);
}

int sj_link_msg_frame_start(struct sj_link *L, size_t total, int more,
			    const void *data, size_t len, struct sj_err *err)
{
	if (total > SJ_LINK_LEN_MASK || total < len) {
		rec_abort(L);
		return sj_err_set(err, "a frame of %zu bytes is over the "
				  "link's limit", total);
	}
	return put_entry(L, SJ_LINK_START, total, more, data, len, err);
}

int sj_link_msg_piece(struct sj_link *L, const void *data, size_t len,
		      struct sj_err *err)
{
	return put_entry(L, SJ_LINK_PIECE, len, 0, data, len, err);
}

void sj_link_msg_more(struct sj_link *L)
{
	if (L->rec_buf != NULL)
		L->rec_buf->p[L->rec_start + 4] |= SJ_LINK_MORE;
}

int sj_link_msg_end(struct sj_link *L, struct sj_err *err)
{
	struct sj_buf *b = L->rec_buf;
	size_t start = L->rec_start;
	int r = 0;

	if (b == NULL)
		return sj_err_set(err, "link: no message begun");
	L->rec_buf = NULL;
	/* put_entry kept it within the limit. */
	sj_put_be32(b->p + start, (uint32_t)(b->len - start - 4));
	if (b == &L->backlog)
		return 0;
	if (L->live != NULL)
		r = sj_link_seal_onto(L, L->live, b->p + start,
				      b->len - start, err);
	else if (sj_buf_reserve(&L->backlog, b->len - start) == 0) {
		memcpy(L->backlog.p + L->backlog.len, b->p + start,
		       b->len - start);
		L->backlog.len += b->len - start;
	} else {
		r = sj_err_set(err, "out of memory");
	}
	b->len = start;
	if (b->cap > STAGE_KEEP)
		sj_buf_free(b);
	if (r != 0)
		return -1;
	if (L->live != NULL && L->live->out.len - L->live->out.off >=
	    EAGER_FLUSH)
		return sj_link_flush(L, err);
	return 0;
}
