// SPDX-License-Identifier: GPL-2.0-or-later
#include "forward.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "forward_loop.h"

/* The kernel's status on iopub (the link's layout) to the idle clock:
 * busy and idle restart it, busy holds it. */
static void follow_status(struct sj_channels *c, const uint8_t *f,
			  size_t len)
{
	int busy = sj_jpeek_status(f, len);

	if (busy >= 0)
		sj_idle_status(c->idle, busy, time(NULL));
}

/* The standin's answer to a client, and the status around it. */
static int standin_send(struct sj_channels *c, int ch, struct sj_buf *reply,
			struct sj_buf *busy, struct sj_buf *idle,
			struct sj_err *err)
{
	if ((busy->len > 0 &&
	     sj_zfront_send(c->front, SJ_IOPUB, busy->p, busy->len, err) < 0) ||
	    sj_zfront_send(c->front, ch, reply->p, reply->len, err) < 0 ||
	    (idle->len > 0 &&
	     sj_zfront_send(c->front, SJ_IOPUB, idle->p, idle->len, err) < 0))
		return -1;
	return 0;
}

/* Before the link: 1 if the standin answered the message, 0 if it waits
 * for the kernel, -1 when out of memory. */
static int from_jupyter_early(struct sj_channels *c, int ch,
			      const uint8_t *rid, size_t rid_len,
			      const uint8_t *frames, size_t len)
{
	struct sj_buf reply = { 0 }, busy = { 0 }, idle = { 0 };
	struct sj_err err;
	int r;

	r = sj_standin_answer(c->standin, ch, rid, rid_len, frames, len,
			      &reply, &busy, &idle, &err);
	if (r == 1 && standin_send(c, ch, &reply, &busy, &idle, &err))
		r = -1;
	if (r == 0 && (ch == SJ_SHELL || ch == SJ_CONTROL)) {
		if (sj_jpeek_request_is(frames, len, "shutdown_request"))
			c->early_shutdown = 1;
		else
			c->early_wanted = 1;
	}
	if (r == 1 && busy.len > 0 && c->standin->answered == 1)
		sj_notef(c->note, c->note_arg, 0, "the kernel is not up yet: "
			 "answering kernel_info_request for it (%s); other "
			 "requests wait for it", c->standin->info_recorded ?
			 "with its reply recorded at its last start" :
			 "with the shim's own reply");
	sj_buf_free(&reply);
	sj_buf_free(&busy);
	sj_buf_free(&idle);
	return r;
}

/*
 * A message onto the link as one record: rid (if not NULL) as its first
 * frame, then its ZMTP frames; a frame is shown to peek (if not NULL) to
 * spot a shutdown reply.  Counted as forwarded[ch][dir].
 * jupyter_listener.c refuses a message too big for the link before it gets
 * here: what can fail is memory.  A failed msg_ call leaves no half record
 * behind.
 */
static int onto_link(struct sj_channels *c, int ch, const uint8_t *rid,
		     size_t rid_len, const uint8_t *frames, size_t len,
		     struct sj_jpeek_reply *peek, int dir)
{
	const uint8_t *data;
	size_t off = 0, n;
	struct sj_err err;

	if (sj_link_msg_begin(&c->link, ch, &err) ||
	    (rid != NULL && sj_link_msg_frame(&c->link, rid, rid_len, &err)))
		return -1;
	while (sj_zmtp_frame_next(frames, len, &off, &data, &n)) {
		if (peek != NULL && sj_jpeek_shutdown_reply(peek, data, n))
			c->shutdown_replied = 1;
		if (sj_link_msg_frame(&c->link, data, n, &err))
			return -1;
	}
	if (sj_link_msg_end(&c->link, &err))
		return -1;
	c->forwarded[ch][dir]++;
	return 0;
}

/* jupyter_listener.h's on_message: a message from a Jupyter client onto the link,
 * its routing id first.  Before the link is opened, onto its backlog
 * (a link that is all zeros has one, and sj_channels_link_client keeps
 * it), unless the standin answers it. */
static int from_jupyter(void *arg, int ch, const uint8_t *rid, size_t rid_len,
			const uint8_t *frames, size_t len)
{
	struct sj_channels *c = arg;
	struct sj_err err;

	if (c->news != NULL && ch == SJ_SHELL &&
	    sj_news_request(c->news, rid, rid_len, frames, len, &err))
		return -1;
	if (c->idle != NULL && (ch == SJ_SHELL || ch == SJ_CONTROL))
		sj_idle_request(c->idle, time(NULL));
	if (!c->link_open && c->standin != NULL) {
		int r = from_jupyter_early(c, ch, rid, rid_len, frames, len);

		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	return onto_link(c, ch, rid, rid_len, frames, len, NULL, 0);
}

/* kernel_client.h's on_message: a message from the kernel onto the link. */
static int from_kernel(void *arg, int ch, const uint8_t *frames, size_t len)
{
	struct sj_channels *c = arg;
	struct sj_jpeek_reply rs = { .after_delim = -1 };

	return onto_link(c, ch, NULL, 0, frames, len,
			 ch == SJ_CONTROL ? &rs : NULL, 1);
}

/* kernel_client.h's on_part: a part of a message too big to wait for, as one
 * record of its own. */
static int from_kernel_part(void *arg, int ch, enum sj_zmtp_part what,
			    const uint8_t *data, size_t n, size_t total,
			    int more, int first, int last)
{
	struct sj_channels *c = arg;
	struct sj_err err;
	int r;

	if (sj_link_msg_begin(&c->link, ch | (first ? 0 : SJ_LINK_CONT),
			      &err))
		return -1;
	if (what == SJ_ZMTP_PART_FRAME)
		r = sj_link_msg_frame(&c->link, data, n, &err);
	else if (what == SJ_ZMTP_PART_START)
		r = sj_link_msg_frame_start(&c->link, total, more, data, n,
					    &err);
	else
		r = sj_link_msg_piece(&c->link, data, n, &err);
	if (r)
		return -1;
	if (!last)
		sj_link_msg_more(&c->link);
	if (sj_link_msg_end(&c->link, &err))
		return -1;
	if (last)
		c->forwarded[ch][1]++;
	return 0;
}

void sj_channels_new_epoch(struct sj_channels *c)
{
	if (c->front != NULL && c->link.epoch != c->epoch) {
		sj_zfront_abort_stream(c->front, -1);
		c->epoch = c->link.epoch;
	}
}

/* link.h's deliver: a record from the other shim onto our side. */
static int from_link(void *arg, int kind, const uint8_t *f, size_t len)
{
	struct sj_channels *c = arg;
	int ch = kind & ~(SJ_LINK_CONT | SJ_LINK_MORE);
	struct sj_err err;
	int r;

	sj_channels_new_epoch(c);
	if (c->info_wait && kind == SJ_SHELL) {
		err.msg[0] = '\0';
		if (sj_standin_take_reply(c->standin, f, len, &err)) {
			c->info_wait = 0;
			if (err.msg[0] != '\0')
				sj_notef(c->note, c->note_arg, 0, "%s",
					 err.msg);
			return 0;
		}
	}
	if (kind != ch) {
		/* A message in parts: only ever toward Jupyter (the link
		 * refuses one from the login shim). */
		r = sj_zfront_stream(c->front, kind, f, len, &err);
		if (r < 0)
			return -1;
		if (r == 1 && !(kind & SJ_LINK_CONT))
			c->dropped[ch]++;
		else if (r == 0 && !(kind & SJ_LINK_MORE))
			c->forwarded[ch][1]++;
		return 0;
	}
	if (c->kernel != NULL) {
		if (sj_zmtp_send(c->kernel, ch, f, len, &err))
			return -1;
		c->forwarded[ch][0]++;
		return 0;
	}
	if (c->news != NULL && (ch == SJ_SHELL || ch == SJ_IOPUB))
		sj_news_reply(c->news, f, len);
	if (c->idle != NULL && ch == SJ_IOPUB)
		follow_status(c, f, len);
	if (ch == SJ_CONTROL) {
		struct sj_jpeek_reply rs = { .after_delim = -1 };
		struct sj_link_entry x;
		size_t at = 0;

		while (sj_link_entry_next(f, len, &at, &x) == 1)
			if (sj_jpeek_shutdown_reply(&rs, x.data, x.n))
				c->shutdown_replied = 1;
	}
	r = sj_zfront_send(c->front, ch, f, len, &err);
	if (r < 0)
		return -1;
	if (r == 1)
		c->dropped[ch]++;
	else
		c->forwarded[ch][1]++;
	return 0;
}

int sj_channels_open_jupyter(struct sj_channels *c,
			     const struct sj_endpoints *e,
			     const struct sj_zfront_auth *auth, sj_note_fn note,
			     void *arg, struct sj_err *err)
{
	memset(c, 0, sizeof(*c));
	if (sj_evloop_open(&c->loop, err))
		return -1;
	c->front = calloc(1, sizeof(*c->front));
	if (c->front == NULL)
		return sj_err_set(err, "out of memory");
	return sj_zfront_open(c->front, &c->loop, e->endpoint, auth,
			      from_jupyter, c, note, arg, err);
}

int sj_channels_open_kernel(struct sj_channels *c,
			    const struct sj_endpoints *e, sj_note_fn note,
			    void *arg, struct sj_err *err)
{
	uint8_t rid[16];

	memset(c, 0, sizeof(*c));
	if (sj_evloop_open(&c->loop, err))
		return -1;
	/* One routing id for shell and stdin (see forward.h). */
	if (getrandom(rid, sizeof(rid), 0) != (ssize_t)sizeof(rid))
		return sj_err_errno(err, errno, "getrandom");
	rid[0] |= 1;	/* a leading zero byte is reserved by ZMQ */
	c->kernel = calloc(1, sizeof(*c->kernel));
	if (c->kernel == NULL)
		return sj_err_set(err, "out of memory");
	return sj_zmtp_open(c->kernel, &c->loop, e->endpoint, rid, sizeof(rid),
			    from_kernel, from_kernel_part, c, note, arg, err);
}

void sj_channels_standin(struct sj_channels *c, struct sj_standin *s,
			 sj_note_fn note, void *arg)
{
	c->standin = s;
	c->note = note;
	c->note_arg = arg;
}

void sj_channels_idle(struct sj_channels *c, struct sj_idle *clock)
{
	c->idle = clock;
}

void sj_channels_news(struct sj_channels *c, struct sj_news *n)
{
	c->news = n;
}

/* sj_channels_news_flush, and with force also what nobody would hear. */
static int news_flush(struct sj_channels *c, int force, struct sj_err *err)
{
	const uint8_t *p;
	size_t len;
	int ch;

	if (c->news == NULL || c->front == NULL)
		return 0;
	/* Between two whole messages only: sj_zfront_send would cut one in
	 * parts short. */
	while (sj_news_next(c->news, &ch, &p, &len) &&
	       !c->front->stream[ch].active) {
		if (ch == SJ_IOPUB && !force &&
		    sj_news_queued(c->news) <= SJ_FWD_NEWS_HELD &&
		    sj_zfront_audience(c->front, p, len) == 0)
			break;
		if (sj_zfront_send(c->front, ch, p, len, err) < 0)
			return -1;
		sj_news_sent(c->news);
	}
	return 0;
}

int sj_channels_news_flush(struct sj_channels *c, struct sj_err *err)
{
	return news_flush(c, 0, err);
}

int sj_channels_serve_early(struct sj_channels *c, struct sj_err *err)
{
	if (sj_evloop_run_once(&c->loop, 0, err) ||
	    sj_channels_news_flush(c, err))
		return -1;
	sj_zfront_flush(c->front);
	c->hold_local = sj_fwd_over_bound(c->hold_local,
					  sj_link_queued(&c->link));
	if (sj_zfront_hold(c->front, c->hold_local))
		return sj_err_errno(err, errno, "epoll_ctl");
	return 0;
}

/* Moves what waited before the link was opened onto its backlog. */
static int keep_early(struct sj_link *L, struct sj_buf *early,
		      struct sj_err *err)
{
	size_t n = early->len - early->off;

	if (n > 0) {
		if (sj_buf_reserve(&L->backlog, n)) {
			sj_buf_free(early);
			return sj_err_set(err, "out of memory");
		}
		memcpy(L->backlog.p + L->backlog.len, early->p + early->off,
		       n);
		L->backlog.len += n;
	}
	sj_buf_free(early);
	return 0;
}

int sj_channels_send_own(struct sj_channels *c, int ch,
			 const struct sj_buf *m, struct sj_err *err)
{
	struct sj_link_entry x;
	size_t at = 0;

	if (!sj_link_frames_valid(m->p, m->len, 0))
		return sj_err_set(err, "a message of the shim's own is not in "
				  "the link's layout");
	if (sj_link_msg_begin(&c->link, ch, err))
		return -1;
	while (sj_link_entry_next(m->p, m->len, &at, &x) == 1)
		if (sj_link_msg_frame(&c->link, x.data, x.n, err))
			return -1;
	return sj_link_msg_end(&c->link, err);
}

/* The standin's own kernel_info_request, after everything the clients
 * sent: its reply is recorded (standin.h). */
static int ask_kernel_info(struct sj_channels *c, struct sj_err *err)
{
	struct sj_buf m = { 0 };
	int r = -1;

	if (sj_standin_request(c->standin, &m, err) ||
	    sj_channels_send_own(c, SJ_SHELL, &m, err))
		goto out;
	c->info_wait = 1;
	r = 0;
out:
	sj_buf_free(&m);
	return r;
}

int sj_channels_link_client(struct sj_channels *c, const char *host,
			    int port, const char *source,
			    const struct sj_link_keys *keys, sj_note_fn note,
			    void *arg, struct sj_err *err)
{
	struct sj_buf early = c->link.backlog;

	c->link_open = 1;	/* closed by sj_channels_close either way */
	c->link.backlog = (struct sj_buf){ 0 };
	if (sj_link_open_client(&c->link, &c->loop, host, port, source,
				keys, from_link, c, note, arg, err)) {
		sj_buf_free(&early);
		return -1;
	}
	if (keep_early(&c->link, &early, err))
		return -1;
	if (c->standin != NULL && c->standin->answered > 0) {
		sj_notef(note, arg, 1, "answered %llu kernel_info_request "
			 "while the kernel was not up",
			 (unsigned long long)c->standin->answered);
	}
	return c->standin != NULL ? ask_kernel_info(c, err) : 0;
}

int sj_channels_link_server(struct sj_channels *c, int listen_fd,
			    int grace_s, const char *peer_only,
			    const struct sj_link_keys *keys,
			    sj_note_fn note, void *arg,
			    struct sj_err *err)
{
	c->link_open = 1;
	return sj_link_open_server(&c->link, &c->loop, listen_fd, grace_s,
				   peer_only, keys, from_link, c, note, arg,
				   err);
}

void sj_channels_close(struct sj_channels *c, int linger_ms)
{
	struct sj_err err;

	if (news_flush(c, 1, &err))
		sj_notef(c->note, c->note_arg, 0, "news lost: %s", err.msg);
	if (c->front != NULL) {
		sj_zfront_flush_wait(c->front, linger_ms);
		sj_zfront_close(c->front);
		free(c->front);
		c->front = NULL;
	}
	if (c->kernel != NULL) {
		sj_zmtp_close(c->kernel);
		free(c->kernel);
		c->kernel = NULL;
	}
	if (c->link_open)
		sj_link_close(&c->link);
	else
		sj_buf_free(&c->link.backlog);	/* what waited for it */
	c->link_open = 0;
	sj_evloop_close(&c->loop);
}

void sj_channels_stats(const struct sj_channels *c, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int ch = 0; ch < SJ_NCHANNELS && used < len; ch++) {
		int n = snprintf(buf + used, len - used,
				 "%s%s %llu>%llu< dropped %llu", ch ? ", " : "",
				 sj_channel_name(ch),
				 (unsigned long long)c->forwarded[ch][0],
				 (unsigned long long)c->forwarded[ch][1],
				 (unsigned long long)c->dropped[ch]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
