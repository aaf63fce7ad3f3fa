// SPDX-License-Identifier: GPL-2.0-or-later
#include "news.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "newstext.h"

#define TOPIC "kernel.slurm-jupyter-shim."

int sj_news_init(struct sj_news *n, struct sj_jmsg *maker,
		 struct sj_err *err)
{
	memset(n, 0, sizeof(*n));
	n->maker = maker;
	n->count = -1;
	/* One waiting line per shim: the session makes it unique. */
	if ((size_t)snprintf(n->display_id, sizeof(n->display_id),
			     "slurm-wait-%s", maker->session) >=
	    sizeof(n->display_id))
		return sj_err_set(err, "display id too long");
	return 0;
}

static void drop_cell(struct sj_news *n, int i)
{
	free(n->cell[i].header);
	sj_buf_free(&n->cell[i].route);
	memmove(&n->cell[i], &n->cell[i + 1],
		(size_t)(n->ncells - i - 1) * sizeof(n->cell[0]));
	n->ncells--;
}

void sj_news_free(struct sj_news *n)
{
	while (n->ncells > 0)
		drop_cell(n, 0);
	sj_buf_free(&n->later);
	sj_buf_free(&n->out);
}

/* The value of "msg_id" in a header (JSON), raw, into out; "" if none.
 * Both sides of a comparison are read alike, so escapes need no
 * decoding. */
static void msg_id_of(const char *p, size_t len, char *out, size_t olen)
{
	static const char key[] = "\"msg_id\"";
	size_t i, j, k = 0;

	out[0] = '\0';
	for (i = 0; i + sizeof(key) - 1 <= len; i++)
		if (memcmp(p + i, key, sizeof(key) - 1) == 0)
			break;
	if (i + sizeof(key) - 1 > len)
		return;
	for (j = i + sizeof(key) - 1;
	     j < len && (p[j] == ' ' || p[j] == ':' || p[j] == '\t'); j++)
		;
	if (j >= len || p[j] != '"')
		return;
	for (j++; j < len && p[j] != '"' && k + 1 < olen; j++) {
		if (p[j] == '\\' && j + 1 < len && k + 2 < olen)
			out[k++] = p[j++];
		out[k++] = p[j];
	}
	out[k] = '\0';
}

/* Appends s to b as the inside of a JSON string. */
static int put_json_string(struct sj_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t k;

		if (c == '"' || c == '\\')
			k = (size_t)snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			k = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (c < 0x20)
			k = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		else
			k = (size_t)snprintf(esc, sizeof(esc), "%c", c);
		if (sj_buf_reserve(b, k))
			return -1;
		memcpy(b->p + b->len, esc, k);
		b->len += k;
	}
	return 0;
}

static int put_str(struct sj_buf *b, const char *s)
{
	size_t k = strlen(s);

	if (sj_buf_reserve(b, k))
		return -1;
	memcpy(b->p + b->len, s, k);
	b->len += k;
	return 0;
}

/* Queues one message of msg_type with content for channel ch, prefix
 * its first frames (an iopub topic, a reply's route); parent NULL: none. */
static int queue(struct sj_news *n, int ch, const struct sj_buf *prefix,
		 const char *msg_type, const struct sj_news_cell *parent,
		 const struct sj_buf *content, struct sj_err *err)
{
	struct sj_buf m = { 0 };
	struct timespec now;
	int r = -1;

	clock_gettime(CLOCK_REALTIME, &now);
	if (sj_jmsg_build(n->maker, &m, prefix->p, prefix->len, msg_type,
			  parent != NULL ? parent->header : "{}",
			  parent != NULL ? parent->header_len : 2, content->p,
			  content->len, &now, err))
		goto out;
	if (sj_buf_reserve(&n->out, 5 + m.len)) {
		sj_err_set(err, "out of memory");
		goto out;
	}
	sj_put_be32(n->out.p + n->out.len, (uint32_t)m.len);
	n->out.p[n->out.len + 4] = (uint8_t)ch;
	memcpy(n->out.p + n->out.len + 5, m.p, m.len);
	n->out.len += 5 + m.len;
	r = 0;
out:
	sj_buf_free(&m);
	return r;
}

/* Queues one message of msg_type on iopub. */
static int publish(struct sj_news *n, const char *msg_type,
		   const struct sj_news_cell *parent,
		   const struct sj_buf *content, struct sj_err *err)
{
	struct sj_buf topic = { 0 };
	char t[64];
	int r;

	snprintf(t, sizeof(t), TOPIC "%s", msg_type);
	if (sj_jmsg_put_frame(&topic, t, strlen(t)))
		return sj_err_set(err, "out of memory");
	r = queue(n, SJ_IOPUB, &topic, msg_type, parent, content, err);
	sj_buf_free(&topic);
	return r;
}

/* display_data or update_display_data of the waiting line. */
static int display(struct sj_news *n, const char *msg_type,
		   const char *text, struct sj_err *err)
{
	struct sj_buf c = { 0 };
	int r;

	if (put_str(&c, "{\"data\":{\"text/plain\":\"") ||
	    put_json_string(&c, text) ||
	    put_str(&c, "\"},\"metadata\":{},\"transient\":{\"display_id\":"
		    "\"") ||
	    put_json_string(&c, n->display_id) || put_str(&c, "\"}}")) {
		sj_buf_free(&c);
		return sj_err_set(err, "out of memory");
	}
	r = publish(n, msg_type, &n->cell[0], &c, err);
	sj_buf_free(&c);
	return r;
}

static int stream(struct sj_news *n, const char *text, size_t len,
		  struct sj_err *err)
{
	struct sj_buf c = { 0 };
	char *s = strndup(text, len);
	int r;

	if (s == NULL || put_str(&c, "{\"name\":\"stderr\",\"text\":\"") ||
	    put_json_string(&c, s) || put_str(&c, "\"}")) {
		free(s);
		sj_buf_free(&c);
		return sj_err_set(err, "out of memory");
	}
	free(s);
	r = publish(n, "stream", &n->cell[0], &c, err);
	sj_buf_free(&c);
	return r;
}

/* The next cell is open: what waited for one goes first in its output. */
static int to_new_cell(struct sj_news *n, struct sj_err *err)
{
	if (n->ncells != 1)
		return 0;
	if (n->later.len > 0) {
		if (stream(n, (const char *)n->later.p, n->later.len, err))
			return -1;
		n->later.len = 0;
	}
	if (n->wait_text[0] != '\0' && !n->wait_shown) {
		if (display(n, "display_data", n->wait_text, err))
			return -1;
		n->wait_shown = 1;
	}
	return 0;
}

int sj_news_request(struct sj_news *n, const uint8_t *rid, size_t rid_len,
		    const uint8_t *frames, size_t len, struct sj_err *err)
{
	struct sj_buf route = { 0 };
	const uint8_t *h;
	size_t k;
	struct sj_news_cell *c;

	if (sj_jmsg_route(&route, rid, rid_len, frames, len, &h, &k)) {
		sj_buf_free(&route);
		return sj_err_set(err, "out of memory");
	}
	if (h == NULL || !sj_header_has_type(h, k, "execute_request")) {
		sj_buf_free(&route);
		return 0;
	}
	if (n->ncells == SJ_NEWS_CELLS)
		drop_cell(n, 0);
	c = &n->cell[n->ncells];
	c->header = malloc(k > 0 ? k : 1);
	if (c->header == NULL) {
		sj_buf_free(&route);
		return sj_err_set(err, "out of memory");
	}
	memcpy(c->header, h, k);
	c->header_len = k;
	c->route = route;
	c->count = -1;
	msg_id_of(c->header, k, c->msg_id, sizeof(c->msg_id));
	n->ncells++;
	return to_new_cell(n, err);
}

/* The cell whose request is the parent header p, -1 if none is open. */
static int cell_of(const struct sj_news *n, const char *p, size_t len)
{
	char id[128];

	msg_id_of(p, len, id, sizeof(id));
	for (int c = 0; c < n->ncells && id[0] != '\0'; c++)
		if (strcmp(n->cell[c].msg_id, id) == 0)
			return c;
	return -1;
}

/* The "execution_count" of a content, -1 if it has none. */
static long count_of(const char *p, size_t len)
{
	json_t *v, *root = json_loadb(p, len, 0, NULL);
	long r = -1;

	if (root == NULL)
		return -1;
	v = json_object_get(root, "execution_count");
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= 0x7fffffff)
		r = (long)json_integer_value(v);
	json_decref(root);
	return r;
}

void sj_news_reply(struct sj_news *n, const uint8_t *f, size_t len)
{
	struct sj_jmsg_parts p;
	const char *header, *parent, *content;
	int reply, c;
	long count;

	if (sj_jmsg_parts_link(f, len, &p) != SJ_JMSG_NPARTS)
		return;
	header = (const char *)p.part[SJ_JMSG_HEADER];
	parent = (const char *)p.part[SJ_JMSG_PARENT];
	content = (const char *)p.part[SJ_JMSG_CONTENT];
	reply = sj_header_has_type(header, p.len[SJ_JMSG_HEADER],
				   "execute_reply");
	if (!reply && !sj_header_has_type(header, p.len[SJ_JMSG_HEADER],
					  "execute_input"))
		return;
	count = count_of(content, p.len[SJ_JMSG_CONTENT]);
	if (count >= 0)
		n->count = count;
	c = cell_of(n, parent, p.len[SJ_JMSG_PARENT]);
	if (c < 0)
		return;
	if (reply)
		drop_cell(n, c);
	else if (count >= 0)
		n->cell[c].count = count;
}

int sj_news_running(const struct sj_news *n)
{
	return n->ncells > 0;
}

int sj_news_waiting(struct sj_news *n, const char *text, struct sj_err *err)
{
	if (strcmp(text, n->wait_text) == 0)
		return 0;
	snprintf(n->wait_text, sizeof(n->wait_text), "%s", text);
	if (n->ncells == 0)
		return 0;	/* shown by the first cell run */
	if (display(n, n->wait_shown ? "update_display_data" : "display_data",
		    n->wait_text, err))
		return -1;
	n->wait_shown = 1;
	return 0;
}

int sj_news_started(struct sj_news *n, const char *text, struct sj_err *err)
{
	int r = 0;

	if (n->wait_shown && n->ncells > 0)
		r = display(n, "update_display_data", text, err);
	n->wait_text[0] = '\0';
	n->wait_shown = 0;
	return r;
}

int sj_news_say(struct sj_news *n, const char *text, struct sj_err *err)
{
	size_t k = strlen(text);

	if (n->ncells > 0) {
		char *line = malloc(k + 2);
		int r;

		if (line == NULL)
			return sj_err_set(err, "out of memory");
		memcpy(line, text, k);
		line[k] = '\n';
		line[k + 1] = '\0';
		r = stream(n, line, k + 1, err);
		free(line);
		return r;
	}
	if (sj_buf_reserve(&n->later, k + 1))
		return sj_err_set(err, "out of memory");
	memcpy(n->later.p + n->later.len, text, k);
	n->later.p[n->later.len + k] = '\n';
	n->later.len += k + 1;
	return 0;
}

/* The content of an error output or reply: ename, text as evalue and
 * traceback; reply adds status and count (-1: null). */
static int error_content(struct sj_buf *c, const char *text, int reply,
			 long count)
{
	char tail[48];

	if (reply)
		snprintf(tail, sizeof(tail), count >= 0 ?
			 ",\"execution_count\":%ld}" :
			 ",\"execution_count\":null}", count);
	return put_str(c, reply ? "{\"status\":\"error\",\"ename\":\""
		       SJ_TEXT_DEATH_ENAME "\",\"evalue\":\"" :
		       "{\"ename\":\"" SJ_TEXT_DEATH_ENAME "\",\"evalue\":\"") ||
	       put_json_string(c, text) ||
	       put_str(c, "\",\"traceback\":[\"") ||
	       put_json_string(c, text) ||
	       put_str(c, reply ? "\"]" : "\"]}") ||
	       (reply && put_str(c, tail));
}

/* Answers cell 0 for the kernel: its execute_reply to the client that
 * sent it, then the status idle; the cell is closed. */
static int answer(struct sj_news *n, const char *text, long count,
		  struct sj_err *err)
{
	struct sj_buf c = { 0 }, s = { 0 };
	int r = -1;

	if (error_content(&c, text, 1, count) ||
	    put_str(&s, "{\"execution_state\":\"idle\"}")) {
		sj_err_set(err, "out of memory");
		goto out;
	}
	if (queue(n, SJ_SHELL, &n->cell[0].route, "execute_reply",
		  &n->cell[0], &c, err) == 0 &&
	    publish(n, "status", &n->cell[0], &s, err) == 0)
		r = 0;
out:
	sj_buf_free(&c);
	sj_buf_free(&s);
	drop_cell(n, 0);
	return r;
}

int sj_news_death(struct sj_news *n, const char *text, const char *not_run,
		  struct sj_err *err)
{
	struct sj_buf c = { 0 };
	int r;

	if (error_content(&c, text, 0, -1)) {
		sj_buf_free(&c);
		return sj_err_set(err, "out of memory");
	}
	r = publish(n, "error", n->ncells > 0 ? &n->cell[0] : NULL, &c, err);
	sj_buf_free(&c);
	if (r == 0 && n->ncells > 0)
		r = answer(n, text, n->cell[0].count >= 0 ?
			   n->cell[0].count : n->count, err);
	while (r == 0 && n->ncells > 0)
		r = answer(n, not_run, -1, err);
	return r;
}

int sj_news_next(const struct sj_news *n, int *ch, const uint8_t **p,
		 size_t *len)
{
	if (n->out.len - n->out.off < 5)
		return 0;
	*len = sj_get_be32(n->out.p + n->out.off);
	*ch = n->out.p[n->out.off + 4];
	*p = n->out.p + n->out.off + 5;
	return 1;
}

void sj_news_sent(struct sj_news *n)
{
	if (n->out.len - n->out.off < 5)
		return;
	n->out.off += 5 + sj_get_be32(n->out.p + n->out.off);
	sj_buf_consumed(&n->out);
}

size_t sj_news_queued(const struct sj_news *n)
{
	return n->out.len - n->out.off;
}

int sj_warn_parse(const char *s, struct sj_warn_plan *p, struct sj_err *err)
{
	const char *q = s;

	memset(p, 0, sizeof(*p));
	if (strcmp(s, "0") == 0)
		return 0;
	for (;;) {
		const char *end;
		unsigned v = 0;

		switch (sj_shimopt_duration(q, &end, &v)) {
		case SJ_DURATION_OK:
			break;
		case SJ_DURATION_NO_NUMBER:
			return sj_err_set(err, "--warn-before=%s: durations "
					  "like 10m,1m (s, m or h), or 0", s);
		case SJ_DURATION_NO_UNIT:
			return sj_err_set(err, "--warn-before=%s: each "
					  "duration needs a unit (s, m or h), "
					  "as in 10m,1m", s);
		case SJ_DURATION_RANGE:
		default:
			return sj_err_set(err, "--warn-before=%s: each "
					  "duration from 1s to 7 days", s);
		}
		if (p->n == SJ_WARN_MAX)
			return sj_err_set(err, "--warn-before=%s: at most %d "
					  "durations", s, SJ_WARN_MAX);
		p->before[p->n++] = v;
		q = end;
		if (*q == '\0')
			return 0;
		if (*q != ',')
			return sj_err_set(err, "--warn-before=%s: durations "
					  "separated by commas", s);
		q++;
	}
}

/* Asked again no sooner than this before a warning is due: the answer
 * takes a fork and a slurmctld RPC. */
#define WARN_RECHECK_S 20

int sj_warn_step(struct sj_warn_plan *p, time_t end, time_t now,
		 time_t *next)
{
	long left = (long)(end - now);
	time_t due = 0;
	int warn = 0;

	*next = 0;
	if (end == 0 || p->n == 0)
		return 0;
	if (!p->looked) {
		p->looked = 1;
		for (int i = 0; i < p->n; i++)
			if (left <= (long)p->before[i])
				p->done |= 1u << i;
	}
	for (int i = 0; i < p->n; i++) {
		unsigned bit = 1u << i;

		/* The end moved away (a longer time limit): warn again. */
		if ((p->done & bit) && left > (long)p->before[i] + 60)
			p->done &= ~bit;
		if (p->done & bit)
			continue;
		if (left <= (long)p->before[i]) {
			p->done |= bit;
			warn = left > 0;
			continue;
		}
		if (due == 0 || end - (time_t)p->before[i] < due)
			due = end - (time_t)p->before[i];
	}
	if (due != 0)
		*next = due - now <= WARN_RECHECK_S ? due :
			now + (due - now) / 2;
	return warn;
}
