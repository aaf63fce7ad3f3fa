// SPDX-License-Identifier: GPL-2.0-or-later
#include "jmsg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <sodium.h>

#include "link_entry.h"
#include "zmtp.h"


/* Escapes s for a JSON string into out; 0 if it fits. */
static int json_escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int n;

		if (c == '"' || c == '\\')
			n = snprintf(out + o, len - o, "\\%c", c);
		else if (c < 0x20)
			n = snprintf(out + o, len - o, "\\u%04x", c);
		else
			n = snprintf(out + o, len - o, "%c", c);
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += (size_t)n;
	}
	out[o] = '\0';
	return 0;
}

int sj_jmsg_init(struct sj_jmsg *m, const char *key, const char *scheme,
		 const char *username, struct sj_err *err)
{
	uint8_t rnd[16];

	memset(m, 0, sizeof(*m));
	if (sj_jsign_init(&m->sign, key, scheme, err))
		return -1;
	if (json_escape(username, m->username, sizeof(m->username)))
		return sj_err_set(err, "user name too long");
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return sj_err_errno(err, errno, "getrandom");
	sodium_bin2hex(m->session, sizeof(m->session), rnd, sizeof(rnd));
	return 0;
}

void sj_jmsg_wipe(struct sj_jmsg *m)
{
	sj_jsign_wipe(&m->sign);
}

void sj_jmsg_date(const struct timespec *now, char out[SJ_JMSG_DATE_LEN])
{
	struct tm tm;
	time_t t = now->tv_sec;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	/* A year of four digits fills the 19 bytes exactly; one beyond
	 * 9999 leaves the date empty rather than cut. */
	if (strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
		out[0] = '\0';
		return;
	}
	snprintf(out + 19, SJ_JMSG_DATE_LEN - 19, ".%06uZ",
		 (unsigned)(now->tv_nsec / 1000) % 1000000u);
}

int sj_jmsg_put_frame(struct sj_buf *out, const void *data, size_t len)
{
	return sj_link_entry_put(out, 0, len, 0, data, len);
}

int sj_jmsg_build(struct sj_jmsg *m, struct sj_buf *out, const void *prefix,
		  size_t prefix_len, const char *msg_type, const void *parent,
		  size_t parent_len, const void *content, size_t content_len,
		  const struct timespec *now, struct sj_err *err)
{
	char header[512], date[SJ_JMSG_DATE_LEN];
	char sig[SJ_JSIGN_HEX_MAX + 1] = "";
	size_t start = out->len;
	int n;

	sj_jmsg_date(now, date);
	/* msg_id: unique per message, and per shim through the session. */
	n = snprintf(header, sizeof(header),
		     "{\"msg_id\":\"%s_%llu\",\"session\":\"%s\","
		     "\"username\":\"%s\",\"date\":\"%s\",\"msg_type\":\"%s\","
		     "\"version\":\"" SJ_JMSG_VERSION "\"}",
		     m->session, (unsigned long long)++m->seq, m->session,
		     m->username, date, msg_type);
	if (n < 0 || (size_t)n >= sizeof(header))
		return sj_err_set(err, "message type too long");
	const uint8_t *part[4] = { (const uint8_t *)header, parent,
				   (const uint8_t *)"{}", content };
	size_t part_len[4] = { (size_t)n, parent_len, 2, content_len };

	if (m->sign.digest != 0)
		sj_jsign_hex(&m->sign, part, part_len, sig);
	if (sj_buf_reserve(out, prefix_len) != 0)
		goto oom;
	if (prefix_len > 0)
		memcpy(out->p + out->len, prefix, prefix_len);
	out->len += prefix_len;
	if (sj_jmsg_put_frame(out, SJ_JUPYTER_DELIMITER, strlen(SJ_JUPYTER_DELIMITER)) ||
	    sj_jmsg_put_frame(out, sig, strlen(sig)))
		goto oom;
	for (int i = 0; i < 4; i++)
		if (sj_jmsg_put_frame(out, part[i], part_len[i]))
			goto oom;
	return 0;
oom:
	out->len = start;
	return sj_err_set(err, "out of memory");
}

int sj_jmsg_is_delimiter(const void *data, size_t n)
{
	return n == strlen(SJ_JUPYTER_DELIMITER) &&
	       memcmp(data, SJ_JUPYTER_DELIMITER, n) == 0;
}

/* The next frame of a message in either layout: 1 with it, 0 at the
 * end, -1 at bytes that are no frame. */
static int next_frame(const uint8_t *f, size_t len, int link, size_t *at,
		      const uint8_t **data, size_t *n)
{
	struct sj_link_entry x;
	int r;

	if (!link) {
		if (sj_zmtp_frame_next(f, len, at, data, n))
			return 1;
		return *at < len ? -1 : 0;
	}
	r = sj_link_entry_next(f, len, at, &x);
	if (r == 1) {
		*data = x.data;
		*n = x.n;
	}
	return r;
}

static int read_parts(const uint8_t *f, size_t len, int link,
		      struct sj_jmsg_parts *p)
{
	const uint8_t *data;
	size_t at = 0, here, n;
	int r;

	memset(p, 0, sizeof(*p));
	p->nparts = -1;
	while (p->nparts < SJ_JMSG_NPARTS) {
		here = at;
		r = next_frame(f, len, link, &at, &data, &n);
		if (r != 1) {
			if (p->nparts < 0)
				p->ids_end = here;
			p->bad = r < 0;
			break;
		}
		if (p->nparts >= 0) {
			p->part[p->nparts] = data;
			p->len[p->nparts++] = n;
		} else if (sj_jmsg_is_delimiter(data, n)) {
			p->ids_end = here;
			p->nparts = 0;
		} else {
			p->nids++;
		}
	}
	return p->nparts;
}

int sj_jmsg_parts_zmtp(const uint8_t *frames, size_t len,
		       struct sj_jmsg_parts *p)
{
	return read_parts(frames, len, 0, p);
}

int sj_jmsg_parts_link(const uint8_t *frames, size_t len,
		       struct sj_jmsg_parts *p)
{
	return read_parts(frames, len, 1, p);
}

int sj_jmsg_route(struct sj_buf *route, const uint8_t *rid, size_t rid_len,
		  const uint8_t *frames, size_t len, const uint8_t **header,
		  size_t *header_len)
{
	struct sj_jmsg_parts p;
	const uint8_t *data;
	size_t off = 0, n;
	int nparts = sj_jmsg_parts_zmtp(frames, len, &p);

	*header = NULL;
	*header_len = 0;
	if (rid != NULL && sj_jmsg_put_frame(route, rid, rid_len))
		return -1;
	/* Without a delimiter, every frame (there is no header then). */
	while (off < p.ids_end &&
	       sj_zmtp_frame_next(frames, len, &off, &data, &n))
		if (sj_jmsg_put_frame(route, data, n))
			return -1;
	if (nparts > SJ_JMSG_HEADER) {
		*header = p.part[SJ_JMSG_HEADER];
		*header_len = p.len[SJ_JMSG_HEADER];
	}
	return 0;
}
