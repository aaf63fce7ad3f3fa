// SPDX-License-Identifier: GPL-2.0-or-later
#include "jpeek.h"

#include <string.h>

#include "jmsg.h"

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

int sj_jpeek_request_is(const uint8_t *frames, size_t len,
			const char *msg_type)
{
	struct sj_jmsg_parts p;

	return sj_jmsg_parts_zmtp(frames, len, &p) > SJ_JMSG_HEADER &&
	       sj_header_has_type(p.part[SJ_JMSG_HEADER], p.len[SJ_JMSG_HEADER],
				  msg_type);
}

int sj_jpeek_status(const uint8_t *f, size_t len)
{
	struct sj_jmsg_parts p;
	const uint8_t *content;
	size_t cn;

	if (sj_jmsg_parts_link(f, len, &p) != SJ_JMSG_NPARTS ||
	    !sj_header_has_type(p.part[SJ_JMSG_HEADER], p.len[SJ_JMSG_HEADER],
				"status"))
		return -1;
	content = p.part[SJ_JMSG_CONTENT];
	cn = p.len[SJ_JMSG_CONTENT];
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
	else if (sj_jmsg_is_delimiter(data, n))
		r->after_delim = 0;
	return r->after_delim == 2 &&
	       sj_header_has_type(data, n, "shutdown_reply");
}
