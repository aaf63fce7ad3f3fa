// SPDX-License-Identifier: GPL-2.0-or-later
#include "forward.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* After a shutdown_reply: long enough for the kernel's last messages,
 * written just before it exited, to arrive. */
#define REPLIED_QUIET_MS 20
/* How long the node side waits for the link to take the kernel's last
 * words before it closes. */
#define LINK_FLUSH_MS 1000

/* Whether the first "key" in the JSON data has the string value. */
static int key_has_value(const void *data, size_t n, const char *key,
			 const char *value)
{
	const char *p = data;
	size_t kl = strlen(key), tl = strlen(value);

	for (size_t i = 0; i + kl + 2 <= n; i++) {
		size_t j;

		if (p[i] != '"' || memcmp(p + i + 1, key, kl) != 0 ||
		    p[i + 1 + kl] != '"')
			continue;
		j = i + kl + 2;
		while (j < n && (p[j] == ' ' || p[j] == ':'))
			j++;
		return n - j >= tl + 2 && p[j] == '"' &&
		       memcmp(p + j + 1, value, tl) == 0 &&
		       p[j + 1 + tl] == '"';
	}
	return 0;
}

int sj_header_has_type(const void *data, size_t n, const char *msg_type)
{
	return key_has_value(data, n, "msg_type", msg_type);
}

/* The frame of a message (ZMTP frames, or the link's layout when link)
 * that comes nth after the delimiter (1: the signature, 2: the header,
 * 5: the content); 0 if it has none. */
static int nth_after_delim(const uint8_t *frames, size_t len, int link,
			   int nth, const uint8_t **data, size_t *n)
{
	const char *delim = SJ_JUPYTER_DELIMITER;
	size_t off = 0;
	int after = -1;

	for (;;) {
		if (link) {
			if (len - off < 4)
				return 0;
			*n = sj_get_be32(frames + off);
			if (len - off - 4 < *n)
				return 0;
			*data = frames + off + 4;
			off += 4 + *n;
		} else if (!sj_zmtp_frame_next(frames, len, &off, data, n)) {
			return 0;
		}
		if (after >= 0) {
			if (++after == nth)
				return 1;
		} else if (*n == strlen(delim) && memcmp(*data, delim, *n) == 0) {
			after = 0;
		}
	}
}

/* A client's request (ZMTP frames) is of msg_type. */
static int request_is(const uint8_t *frames, size_t len, const char *type)
{
	const uint8_t *h;
	size_t n;

	return nth_after_delim(frames, len, 0, 2, &h, &n) &&
	       sj_header_has_type(h, n, type);
}

/* The kernel's status on iopub (the link's layout) to the idle clock:
 * busy and idle restart it, busy holds it. */
static void follow_status(struct sj_channels *c, const uint8_t *f,
			  size_t len)
{
	const uint8_t *h, *content;
	size_t hn, cn;

	if (!nth_after_delim(f, len, 1, 2, &h, &hn) ||
	    !sj_header_has_type(h, hn, "status") ||
	    !nth_after_delim(f, len, 1, 5, &content, &cn))
		return;
	if (key_has_value(content, cn, "execution_state", "busy"))
		sj_idle_status(c->idle, 1, time(NULL));
	else if (key_has_value(content, cn, "execution_state", "idle"))
		sj_idle_status(c->idle, 0, time(NULL));
}

static int over_bound(int held, size_t n);

/* Follows a message frame by frame: the frame after the delimiter's next
 * is the header, where a shutdown_reply says so. */
struct reply_scan {
	int after_delim;	/* -1: delimiter not seen yet */
};

static void scan_frame(struct reply_scan *r, const void *data, size_t n,
		       int *shutdown_replied)
{
	const char *delim = SJ_JUPYTER_DELIMITER;

	if (r->after_delim >= 0)
		r->after_delim++;
	else if (n == strlen(delim) && memcmp(data, delim, n) == 0)
		r->after_delim = 0;
	if (r->after_delim == 2 &&
	    sj_header_has_type(data, n, "shutdown_reply"))
		*shutdown_replied = 1;
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
		if (request_is(frames, len, "shutdown_request"))
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

/* jupyter_listener.h's on_message: a message from a Jupyter client onto the link,
 * its routing id first.  Before the link is opened, onto its backlog
 * (a link that is all zeros has one, and sj_channels_link_client keeps
 * it), unless the standin answers it. */
static int from_jupyter(void *arg, int ch, const uint8_t *rid, size_t rid_len,
			const uint8_t *frames, size_t len)
{
	struct sj_channels *c = arg;
	const uint8_t *data;
	size_t off = 0, n;
	struct sj_err err;

	if (c->news != NULL && ch == SJ_SHELL &&
	    sj_news_request(c->news, frames, len, &err))
		return -1;
	if (c->idle != NULL && (ch == SJ_SHELL || ch == SJ_CONTROL))
		sj_idle_request(c->idle, time(NULL));
	if (!c->link_open && c->standin != NULL) {
		int r = from_jupyter_early(c, ch, rid, rid_len, frames, len);

		if (r != 0)
			return r < 0 ? -1 : 0;
	}

	/* jupyter_listener.c refuses a message too big for the link before it gets
	 * here: what can fail is memory.  A failed msg_ call leaves no half
	 * record behind. */
	if (sj_link_msg_begin(&c->link, ch, &err) ||
	    (rid != NULL && sj_link_msg_frame(&c->link, rid, rid_len, &err)))
		return -1;
	while (sj_zmtp_frame_next(frames, len, &off, &data, &n))
		if (sj_link_msg_frame(&c->link, data, n, &err))
			return -1;
	if (sj_link_msg_end(&c->link, &err))
		return -1;
	c->forwarded[ch][0]++;
	return 0;
}

/* zmtp.h's on_message: a message from the kernel onto the link. */
static int from_kernel(void *arg, int ch, const uint8_t *frames, size_t len)
{
	struct sj_channels *c = arg;
	struct reply_scan rs = { .after_delim = -1 };
	const uint8_t *data;
	size_t off = 0, n;
	struct sj_err err;

	if (sj_link_msg_begin(&c->link, ch, &err))
		return -1;
	while (sj_zmtp_frame_next(frames, len, &off, &data, &n)) {
		if (ch == SJ_CONTROL)
			scan_frame(&rs, data, n, &c->shutdown_replied);
		if (sj_link_msg_frame(&c->link, data, n, &err))
			return -1;
	}
	if (sj_link_msg_end(&c->link, &err))
		return -1;
	c->forwarded[ch][1]++;
	return 0;
}

/* zmtp.h's on_part: a part of a message too big to wait for, as one
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

/* A new link connection: parts of messages that were on their way on
 * the old one are lost, so those messages are, and the clients that got
 * their first parts are disconnected (their frame would never end). */
static void new_link_epoch(struct sj_channels *c)
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

	new_link_epoch(c);
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
	if (c->news != NULL && ch == SJ_SHELL)
		sj_news_reply(c->news, f, len);
	if (c->idle != NULL && ch == SJ_IOPUB)
		follow_status(c, f, len);
	if (ch == SJ_CONTROL) {
		struct reply_scan rs = { .after_delim = -1 };

		for (size_t i = 0; i < len;) {
			size_t n = sj_get_be32(f + i);

			scan_frame(&rs, f + i + 4, n, &c->shutdown_replied);
			i += 4 + n;
		}
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
	c->front = calloc(1, sizeof(*c->front));
	if (c->front == NULL)
		return sj_err_set(err, "out of memory");
	return sj_zfront_open(c->front, e->endpoint, auth, from_jupyter, c, note,
			      arg, err);
}

int sj_channels_open_kernel(struct sj_channels *c,
			    const struct sj_endpoints *e, sj_note_fn note,
			    void *arg, struct sj_err *err)
{
	uint8_t rid[16];

	memset(c, 0, sizeof(*c));
	/* One routing id for shell and stdin (see forward.h). */
	if (getrandom(rid, sizeof(rid), 0) != (ssize_t)sizeof(rid))
		return sj_err_errno(err, errno, "getrandom");
	rid[0] |= 1;	/* a leading zero byte is reserved by ZMQ */
	c->kernel = calloc(1, sizeof(*c->kernel));
	if (c->kernel == NULL)
		return sj_err_set(err, "out of memory");
	return sj_zmtp_open(c->kernel, e->endpoint, rid, sizeof(rid),
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

int sj_channels_news_flush(struct sj_channels *c, struct sj_err *err)
{
	const uint8_t *p;
	size_t len;

	if (c->news == NULL || c->front == NULL)
		return 0;
	/* Between two whole messages only: sj_zfront_send would cut one in
	 * parts short. */
	while (!c->front->stream[SJ_IOPUB].active &&
	       sj_news_next(c->news, &p, &len)) {
		if (sj_zfront_send(c->front, SJ_IOPUB, p, len, err) < 0)
			return -1;
		sj_news_sent(c->news);
	}
	return 0;
}

int sj_channels_serve_early(struct sj_channels *c, struct sj_err *err)
{
	if (sj_zfront_service(c->front, err) ||
	    sj_channels_news_flush(c, err))
		return -1;
	sj_zfront_flush(c->front);
	c->hold_local = over_bound(c->hold_local, sj_link_queued(&c->link));
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
	size_t i, n;

	if (sj_link_msg_begin(&c->link, ch, err))
		return -1;
	for (i = 0; i + 4 <= m->len; i += 4 + n) {
		n = sj_get_be32(m->p + i);
		if (sj_link_msg_frame(&c->link, m->p + i + 4, n, err))
			return -1;
	}
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
	if (sj_link_open_client(&c->link, host, port, source, keys,
				from_link, c, note, arg, err)) {
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
	return sj_link_open_server(&c->link, listen_fd, grace_s, peer_only,
				   keys, from_link, c, note, arg, err);
}

void sj_channels_close(struct sj_channels *c, int linger_ms)
{
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
}

/*
 * The loop: one epoll set, made once, over the link's epoll fd, the local
 * side's (zfront's or zmtp's) and the watches' fds.  Each wake-up services
 * what fired, then writes once to each socket that has something to send.
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

/* Whether a queue of n bytes holds its input, held already or not. */
static int over_bound(int held, size_t n)
{
	return n > (held ? SJ_FWD_QUEUE_LOW : SJ_FWD_QUEUE_HIGH);
}

/* Backpressure: see forward.h. */
static int hold_inputs(struct sj_channels *c)
{
	int r;

	c->hold_local = over_bound(c->hold_local, sj_link_queued(&c->link));
	if (c->front != NULL)
		return sj_zfront_hold(c->front, c->hold_local);
	c->hold_link = over_bound(c->hold_link, sj_zmtp_queued(c->kernel));
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
		new_link_epoch(c);	/* also when nothing came on it yet */
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
