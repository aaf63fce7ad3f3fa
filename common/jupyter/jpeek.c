// SPDX-License-Identifier: GPL-2.0-or-later
#include "jpeek.h"

#include <string.h>

#include "buf.h"
#include "jsign.h"
#include "link_entry.h"
#include "zmtp.h"

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

static int is_delimiter(const void *data, size_t n)
{
	const char *delim = SJ_JUPYTER_DELIMITER;

	return n == strlen(delim) && memcmp(data, delim, n) == 0;
}

/* The frame of a message (ZMTP frames, or the link's layout when link)
 * that comes nth after the delimiter (1: the signature, 2: the header,
 * 5: the content); 0 if it has none. */
static int nth_after_delim(const uint8_t *frames, size_t len, int link,
			   int nth, const uint8_t **data, size_t *n)
{
	struct sj_link_entry x;
	size_t off = 0;
	int after = -1;

	for (;;) {
		if (link) {
			if (sj_link_entry_next(frames, len, &off, &x) != 1)
				return 0;
			*data = x.data;
			*n = x.n;
		} else if (!sj_zmtp_frame_next(frames, len, &off, data, n)) {
			return 0;
		}
		if (after >= 0) {
			if (++after == nth)
				return 1;
		} else if (is_delimiter(*data, *n)) {
			after = 0;
		}
	}
}

int sj_jpeek_request_is(const uint8_t *frames, size_t len,
			const char *msg_type)
{
	const uint8_t *h;
	size_t n;

	return nth_after_delim(frames, len, 0, 2, &h, &n) &&
	       sj_header_has_type(h, n, msg_type);
}

int sj_jpeek_status(const uint8_t *f, size_t len)
{
	const uint8_t *h, *content;
	size_t hn, cn;

	if (!nth_after_delim(f, len, 1, 2, &h, &hn) ||
	    !sj_header_has_type(h, hn, "status") ||
	    !nth_after_delim(f, len, 1, 5, &content, &cn))
		return -1;
	if (key_has_value(content, cn, "execution_state", "busy"))
		return 1;
	if (key_has_value(content, cn, "execution_state", "idle"))
		return 0;
	return -1;
}

int sj_jpeek_shutdown_reply(struct sj_jpeek_reply *r, const void *data,
			    size_t n)
{
	if (r->after_delim >= 0)
		r->after_delim++;
	else if (is_delimiter(data, n))
		r->after_delim = 0;
	return r->after_delim == 2 &&
	       sj_header_has_type(data, n, "shutdown_reply");
}
