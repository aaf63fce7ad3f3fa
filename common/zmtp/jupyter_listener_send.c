// SPDX-License-Identifier: GPL-2.0-or-later
/* The listener's way toward Jupyter's clients: what the kernel sends,
 * whole or in parts, to the client it is for (see jupyter_listener.h). */
#include "jupyter_listener.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "evio.h"
#include "jupyter_listener_peer.h"

#define note(f, debug, ...) sj_notef((f)->note, (f)->note_arg, debug, __VA_ARGS__)

static int subscribed(const struct sj_zfront_peer *p, const uint8_t *topic,
		      size_t n)
{
	return sj_zmtp_topics_find(&p->subs, topic, n, 1) >= 0;
}

/* Whether p takes a new message: not while it has more than the
 * high-water mark unread (libzmq drops there too), so a client that
 * stops reading costs a bounded amount of memory. */
static int below_hwm(struct sj_zfront *f, struct sj_zfront_peer *p)
{
	if (sj_zfront_unsent(p) <= SJ_ZFRONT_HWM)
		return 1;
	if (p->hwm_dropped++ == 0)
		note(f, 0, "%s channel: a client is not reading; messages "
		     "for it are dropped while it has more than %d MiB "
		     "unread", sj_channel_name(p->ch), SJ_ZFRONT_HWM >> 20);
	f->hwm_dropped++;
	return 0;
}

/* Writes the frames of a link-layout message, from its entry at offset
 * at on, to p. */
static int put_frames(struct sj_zfront_peer *p, const uint8_t *fr,
		      size_t at, size_t len)
{
	struct sj_link_entry x;

	while (sj_link_entry_next(fr, len, &at, &x) == 1)
		if (sj_zmtp_put_frame(&p->out, at < len ? SJ_ZMTP_MORE : 0,
				      x.data, x.n))
			return -1;
	return 0;
}

int sj_zfront_audience(const struct sj_zfront *f, const uint8_t *fr,
		       size_t len)
{
	size_t n0;
	int n = 0;

	if (len < 4 || (n0 = sj_get_be32(fr)) > len - 4)
		return 0;
	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
		const struct sj_zfront_peer *p = f->peer[SJ_IOPUB][i];

		n += p != NULL && p->state == SJ_ZMTP_OPEN &&
		     subscribed(p, fr + 4, n0);
	}
	return n;
}

int sj_zfront_send(struct sj_zfront *f, int ch, const uint8_t *fr,
		   size_t len, struct sj_err *err)
{
	struct sj_link_entry first;
	size_t at = 0;

	sj_zfront_abort_stream(f, ch);	/* one left unfinished */
	if (sj_link_entry_next(fr, len, &at, &first) != 1)
		return 1;	/* an empty message has no one to go to */
	if (!sj_zfront_router(ch)) {
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
			struct sj_zfront_peer *p = f->peer[ch][i];

			if (p != NULL && p->state == SJ_ZMTP_OPEN &&
			    subscribed(p, first.data, first.n) &&
			    below_hwm(f, p) &&
			    put_frames(p, fr, 0, len))
				return sj_err_set(err, "out of memory");
		}
		return 0;
	}
	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
		struct sj_zfront_peer *p = f->peer[ch][i];

		if (p == NULL || p->state != SJ_ZMTP_OPEN ||
		    p->rid_len != first.n ||
		    memcmp(p->rid, first.data, first.n) != 0)
			continue;
		if (at == len)
			return 0;	/* nothing after the id */
		if (!below_hwm(f, p))
			return 1;
		if (put_frames(p, fr, at, len))
			return sj_err_set(err, "out of memory");
		return 0;
	}
	return 1;
}

/* The clients a message in parts goes to, by its first entry: on a
 * router channel the one whose routing id it is (a whole frame: an id is
 * never split), on iopub those subscribed to its topic (the node shim
 * puts the whole topic, or SJ_ZMTP_TOPIC_MAX bytes of it, in the first
 * part). */
static void choose_targets(struct sj_zfront *f, int ch,
			   struct sj_zfront_stream *st,
			   const struct sj_link_entry *x)
{
	st->n = 0;
	for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
		struct sj_zfront_peer *p = f->peer[ch][i];
		int want;

		if (p == NULL || p->state != SJ_ZMTP_OPEN)
			continue;
		want = sj_zfront_router(ch) ?
		       p->rid_len == x->n && !(x->head & SJ_LINK_START) &&
		       memcmp(p->rid, x->data, x->n) == 0 :
		       subscribed(p, x->data, x->n);
		if (want && below_hwm(f, p)) {
			st->slot[st->n] = i;
			st->serial[st->n] = p->serial;
			st->n++;
		}
	}
}

/* Drops the clients a stream on ch was going to. */
static void stream_drop_clients(struct sj_zfront *f, int ch,
				const char *why)
{
	struct sj_zfront_stream *st = &f->stream[ch];

	for (int i = 0; st->active && i < st->n; i++) {
		struct sj_zfront_peer *p = f->peer[ch][st->slot[i]];

		if (p != NULL && p->serial == st->serial[i]) {
			note(f, 1, "%s channel: a client dropped: %s",
			     sj_channel_name(ch), why);
			sj_zfront_peer_free(f, p);
		}
	}
	st->active = 0;
	st->n = 0;
	st->frame_left = 0;
	st->frame_more = 0;
}

void sj_zfront_abort_stream(struct sj_zfront *f, int ch)
{
	for (int c = ch < 0 ? 0 : ch; c < (ch < 0 ? SJ_NCHANNELS : ch + 1);
	     c++)
		stream_drop_clients(f, c, "the message it was getting in "
				    "parts was cut");
}

/* Checks one entry of a message in parts against what came before it:
 * pieces add up to the length their START promised, and a frame only
 * begins after the last one ended.  0 if it fits. */
static int stream_entry_fits(struct sj_zfront_stream *st,
			     const struct sj_link_entry *x)
{
	if (x->head & SJ_LINK_PIECE) {
		if (x->n > st->frame_left)
			return -1;
		st->frame_left -= x->n;
		return 0;
	}
	if (st->frame_left > 0)
		return -1;
	if (x->head & SJ_LINK_START) {
		st->frame_left = x->total - x->n;
		st->frame_more = x->more;
	}
	return 0;
}

/* Writes one entry of a message in parts to p. */
static int stream_put(struct sj_zfront_peer *p,
		      const struct sj_link_entry *x, int more_after)
{
	if (x->head & SJ_LINK_START) {
		if (sj_zmtp_put_head(&p->out, x->more ? SJ_ZMTP_MORE : 0,
				     x->total))
			return -1;
	} else if (!(x->head & SJ_LINK_PIECE)) {
		return sj_zmtp_put_frame(&p->out,
					 more_after ? SJ_ZMTP_MORE : 0,
					 x->data, x->n);
	}
	if (sj_buf_reserve(&p->out, x->n))
		return -1;
	if (x->n > 0)
		memcpy(p->out.p + p->out.len, x->data, x->n);
	p->out.len += x->n;
	return 0;
}

int sj_zfront_stream(struct sj_zfront *f, int kind, const uint8_t *e,
		     size_t len, struct sj_err *err)
{
	int ch = kind & ~(SJ_LINK_CONT | SJ_LINK_MORE);
	struct sj_zfront_stream *st = &f->stream[ch];
	size_t at = 0, next = 0;
	struct sj_link_entry x;

	if (!(kind & SJ_LINK_CONT)) {
		sj_zfront_abort_stream(f, ch);	/* one left unfinished */
		if (sj_link_entry_next(e, len, &next, &x) != 1)
			return 1;
		if (sj_zfront_router(ch) && (x.head & SJ_LINK_START))
			return 1;	/* no routing id: nobody to go to */
		choose_targets(f, ch, st, &x);
		st->active = !sj_zfront_router(ch) || st->n > 0;
		if (sj_zfront_router(ch))
			at = next;	/* the routing id goes no further */
	}
	if (!st->active)
		return 1;	/* the rest of a message with nobody to go to */
	while (sj_link_entry_next(e, len, &at, &x) == 1) {
		if (stream_entry_fits(st, &x)) {
			note(f, 0, "%s channel: the parts of a message from "
			     "the node shim do not add up; dropped",
			     sj_channel_name(ch));
			stream_drop_clients(f, ch, "its message was malformed");
			return 1;
		}
		/* A whole frame: the message goes on after it unless it is
		 * the last entry of its last record. */
		int more_after = at < len || (kind & SJ_LINK_MORE);
		if (!(x.head & (SJ_LINK_START | SJ_LINK_PIECE)))
			st->frame_more = more_after;
		for (int i = 0; i < st->n; i++) {
			struct sj_zfront_peer *p = f->peer[ch][st->slot[i]];

			if (p == NULL || p->serial != st->serial[i])
				continue;	/* gone meanwhile */
			if (stream_put(p, &x, more_after))
				return sj_err_set(err, "out of memory");
		}
	}
	if (!(kind & SJ_LINK_MORE)) {
		if (st->frame_left > 0 || st->frame_more) {
			stream_drop_clients(f, ch, "its message ended "
					    "inside a frame");
			return 1;
		}
		st->active = 0;
		return 0;
	}
	/* A client far behind a message still coming would hold it all:
	 * it is dropped (libzmq reconnects it; the message is lost). */
	for (int i = 0; i < st->n; i++) {
		struct sj_zfront_peer *p = f->peer[ch][st->slot[i]];

		if (p != NULL && p->serial == st->serial[i] &&
		    sj_zfront_unsent(p) > SJ_ZFRONT_STREAM_LAG) {
			note(f, 0, "%s channel: a client more than %d MiB "
			     "behind a message in parts; dropped",
			     sj_channel_name(ch), SJ_ZFRONT_STREAM_LAG >> 20);
			sj_zfront_peer_free(f, p);
		}
	}
	return 0;
}

void sj_zfront_flush(struct sj_zfront *f)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS; i++) {
			struct sj_zfront_peer *p = f->peer[ch][i];

			if (p != NULL && p->out.off < p->out.len &&
			    sj_zfront_peer_write(f, p))
				sj_zfront_peer_free(f, p);
		}
}

static int unsent(struct sj_zfront *f, struct pollfd *pfd, int max)
{
	int n = 0;

	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS && n < max; i++) {
			struct sj_zfront_peer *p = f->peer[ch][i];

			if (p != NULL && p->out.off < p->out.len) {
				pfd[n].fd = p->fd;
				pfd[n].events = POLLOUT;
				n++;
			}
		}
	return n;
}

void sj_zfront_flush_wait(struct sj_zfront *f, int timeout_ms)
{
	struct pollfd pfd[SJ_NCHANNELS * SJ_ZFRONT_MAX_PEERS];
	int64_t t0 = sj_monotonic_ms();
	int n;

	while ((n = unsent(f, pfd, SJ_NCHANNELS * SJ_ZFRONT_MAX_PEERS)) > 0) {
		int64_t spent = sj_monotonic_ms() - t0;

		if (spent >= timeout_ms ||
		    poll(pfd, (nfds_t)n, (int)(timeout_ms - spent)) <= 0)
			return;
		sj_zfront_flush(f);
	}
}
