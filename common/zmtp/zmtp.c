// SPDX-License-Identifier: GPL-2.0-or-later
#include "zmtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "link.h"

#define F_MORE 0x01
#define F_LONG 0x02
#define F_COMMAND 0x04

/* The peer's READY: socket type and a few properties, well under this. */
#define HANDSHAKE_FRAME_MAX 4096

/* ------------------------------------------------------------- the wire */

int sj_zmtp_parse_head(const uint8_t *p, size_t avail, uint8_t *flags,
		       size_t *head, size_t *size)
{
	if (avail < 2)
		return 0;
	*flags = p[0];
	if (p[0] & ~(F_MORE | F_LONG | F_COMMAND))
		return -1;
	if (!(p[0] & F_LONG)) {
		*head = 2;
		*size = p[1];
		return 1;
	}
	if (avail < 9)
		return 0;
	uint64_t v = 0;
	for (int i = 1; i <= 8; i++)
		v = v << 8 | p[i];
	if (v > SJ_LINK_LEN_MASK)	/* the most a link entry can carry */
		return -1;
	*head = 9;
	*size = (size_t)v;
	return 1;
}

long sj_zmtp_parse_frame(const uint8_t *p, size_t avail, uint8_t *flags,
			 const uint8_t **body, size_t *n)
{
	size_t head, size;
	int r = sj_zmtp_parse_head(p, avail, flags, &head, &size);

	if (r <= 0)
		return r;
	if (avail - head < size)
		return 0;
	*body = p + head;
	*n = size;
	return (long)(head + size);
}

int sj_zmtp_frame_next(const uint8_t *frames, size_t len, size_t *off,
		       const uint8_t **data, size_t *n)
{
	uint8_t flags;
	long fl;

	if (*off >= len)
		return 0;
	fl = sj_zmtp_parse_frame(frames + *off, len - *off, &flags, data, n);
	if (fl <= 0)
		return 0;	/* checked whole before it was handed out */
	*off += (size_t)fl;
	return 1;
}

int sj_zmtp_put_head(struct sj_buf *b, uint8_t flags, size_t n)
{
	if (sj_buf_reserve(b, 9))
		return -1;
	uint8_t *p = b->p + b->len;
	if (n > 255) {
		p[0] = flags | F_LONG;
		for (int i = 0; i < 8; i++)
			p[1 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		b->len += 9;
	} else {
		p[0] = flags;
		p[1] = (uint8_t)n;
		b->len += 2;
	}
	return 0;
}

int sj_zmtp_put_frame(struct sj_buf *b, uint8_t flags, const void *data,
		      size_t n)
{
	if (sj_buf_reserve(b, 9 + n) || sj_zmtp_put_head(b, flags, n))
		return -1;
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

void sj_zmtp_greeting(uint8_t g[SJ_ZMTP_GREETING_BYTES])
{
	memset(g, 0, SJ_ZMTP_GREETING_BYTES);
	g[0] = 0xff;
	g[9] = 0x7f;
	g[10] = 3;		/* ZMTP 3.0: subscriptions are messages */
	g[11] = 0;
	memcpy(g + 12, "NULL", 4);
	g[32] = 0;		/* as-server: no, we connect */
}

int sj_zmtp_greeting_ok(const uint8_t *g)
{
	static const uint8_t null_mech[20] = "NULL";

	return g[0] == 0xff && g[9] == 0x7f && g[10] >= 3 &&
	       memcmp(g + 12, null_mech, sizeof(null_mech)) == 0;
}

int sj_zmtp_scan(struct sj_zmtp_scan *s, const uint8_t *p, size_t avail,
		 int *command)
{
	*command = 0;
	s->next_size = 0;
	while (s->end < avail) {
		uint8_t flags;
		size_t head, size;
		int r = sj_zmtp_parse_head(p + s->end, avail - s->end, &flags,
					   &head, &size);

		if (r <= 0)
			return r;
		if (avail - s->end - head < size) {
			s->next_size = size;
			return 0;
		}
		s->end += head + size;
		s->frames++;
		s->body += size;
		if (flags & F_COMMAND) {
			*command = 1;
			return 1;
		}
		if (!(flags & F_MORE))
			return 1;
	}
	return 0;
}

int sj_zmtp_handshake(struct sj_buf *in, enum sj_zmtp_state *state,
		      const uint8_t **body, size_t *n)
{
	const uint8_t *p = in->p + in->off;
	size_t avail = in->len - in->off;
	uint8_t flags;
	long fl;

	if (*state == SJ_ZMTP_GREETING) {
		if (avail < SJ_ZMTP_GREETING_BYTES)
			return 0;
		if (!sj_zmtp_greeting_ok(p))
			return -1;
		in->off += SJ_ZMTP_GREETING_BYTES;
		*state = SJ_ZMTP_READY_WAIT;
		p += SJ_ZMTP_GREETING_BYTES;
		avail -= SJ_ZMTP_GREETING_BYTES;
	}
	fl = sj_zmtp_parse_frame(p, avail, &flags, body, n);
	if (fl == 0 && avail > HANDSHAKE_FRAME_MAX)
		return -2;
	if (fl == 0)
		return 0;
	if (fl < 0 || !(flags & F_COMMAND))
		return -2;
	in->off += (size_t)fl;
	return 1;
}

static int put_property(struct sj_buf *b, const char *name,
			const void *value, size_t n)
{
	size_t nl = strlen(name);

	if (sj_buf_reserve(b, 1 + nl + 4 + n))
		return -1;
	b->p[b->len++] = (uint8_t)nl;
	memcpy(b->p + b->len, name, nl);
	b->len += nl;
	sj_put_be32(b->p + b->len, (uint32_t)n);
	b->len += 4;
	if (n > 0)
		memcpy(b->p + b->len, value, n);
	b->len += n;
	return 0;
}

int sj_zmtp_put_ready(struct sj_buf *out, const char *type,
		      const uint8_t *rid, size_t rid_len)
{
	struct sj_buf body = { 0 };
	int r = -1;

	if (sj_buf_reserve(&body, 6))
		goto out;
	body.p[0] = 5;
	memcpy(body.p + 1, "READY", 5);
	body.len = 6;
	if (put_property(&body, "Socket-Type", type, strlen(type)))
		goto out;
	if (rid != NULL && put_property(&body, "Identity", rid, rid_len))
		goto out;
	r = sj_zmtp_put_frame(out, F_COMMAND, body.p, body.len);
out:
	sj_buf_free(&body);
	return r;
}

int sj_zmtp_ready_parse(const uint8_t *body, size_t n, char *type,
			size_t tlen, const uint8_t **id, size_t *idlen)
{
	size_t i = 6;

	type[0] = '\0';
	*id = NULL;
	*idlen = 0;
	if (n < 6 || body[0] != 5 || memcmp(body + 1, "READY", 5) != 0)
		return -1;
	while (i < n) {
		size_t nl = body[i], vl;
		const uint8_t *name = body + i + 1, *value;

		if (n - i - 1 < nl + 4)
			return -1;
		vl = sj_get_be32(name + nl);
		value = name + nl + 4;
		if (vl > n - (size_t)(value - body))
			return -1;
		if (nl == 11 && strncasecmp((const char *)name, "Socket-Type",
					    11) == 0) {
			if (vl >= tlen)
				return -1;
			memcpy(type, value, vl);
			type[vl] = '\0';
		} else if (nl == 8 && strncasecmp((const char *)name,
						   "Identity", 8) == 0) {
			*id = value;
			*idlen = vl;
		}
		i = (size_t)(value - body) + vl;
	}
	return type[0] != '\0' ? 0 : -1;
}

int sj_zmtp_ready_ok(const uint8_t *body, size_t n, enum sj_zmtp_type us)
{
	static const char *const dealer_peers[] = { "ROUTER", "DEALER", "REP",
						    NULL };
	static const char *const sub_peers[] = { "PUB", "XPUB", NULL };
	const char *const *ok = us == SJ_ZMTP_DEALER ? dealer_peers : sub_peers;
	const uint8_t *id;
	size_t idlen;
	char type[16];

	if (sj_zmtp_ready_parse(body, n, type, sizeof(type), &id, &idlen))
		return 0;
	for (; *ok != NULL; ok++)
		if (strcmp(type, *ok) == 0)
			return 1;
	return 0;
}

int sj_zmtp_parse_endpoint(const char *ep, struct sockaddr_storage *sa,
			   socklen_t *salen)
{
	memset(sa, 0, sizeof(*sa));
	if (strncmp(ep, "ipc://", 6) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)sa;
		size_t n = strlen(ep + 6);

		if (n == 0 || n >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, ep + 6, n + 1);
		*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				     n + 1);
		return 0;
	}
	if (strncmp(ep, "tcp://", 6) != 0)
		return -1;
	char host[256];
	const char *h = ep + 6, *colon = strrchr(h, ':');
	size_t hl;

	if (colon == NULL)
		return -1;
	hl = (size_t)(colon - h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';

	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST |
					      AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* --------------------------------------------------- a subscription set */

/* The topic of the subscription at i in t, and where the next begins. */
static size_t topic_at(const struct sj_zmtp_topics *t, size_t i,
		       const uint8_t **topic, size_t *n)
{
	const uint8_t *body;
	uint8_t flags;
	size_t len;
	long fl = sj_zmtp_parse_frame(t->frames.p + i, t->frames.len - i,
				      &flags, &body, &len);

	/* Only sj_zmtp_topics_add writes here: every frame is whole, with a
	 * body of at least the 1 byte before the topic. */
	*topic = body + 1;
	*n = len - 1;
	return i + (size_t)fl;
}

long sj_zmtp_topics_find(const struct sj_zmtp_topics *t, const uint8_t *topic,
			 size_t n, int prefix)
{
	for (size_t i = 0; i < t->frames.len;) {
		const uint8_t *have;
		size_t l, next = topic_at(t, i, &have, &l);

		if ((prefix ? l <= n : l == n) && memcmp(have, topic, l) == 0)
			return (long)i;
		i = next;
	}
	return -1;
}

int sj_zmtp_topics_add(struct sj_zmtp_topics *t, const uint8_t *topic,
		       size_t n)
{
	struct sj_buf *b = &t->frames;

	if (sj_buf_reserve(b, 9 + 1 + n) || sj_zmtp_put_head(b, 0, 1 + n))
		return -1;
	b->p[b->len++] = 1;
	if (n > 0)
		memcpy(b->p + b->len, topic, n);
	b->len += n;
	t->n++;
	return 0;
}

void sj_zmtp_topics_remove(struct sj_zmtp_topics *t, const uint8_t *topic,
			   size_t n)
{
	long at = sj_zmtp_topics_find(t, topic, n, 0);
	struct sj_buf *b = &t->frames;
	const uint8_t *have;
	size_t i, l, next;

	if (at < 0)
		return;
	i = (size_t)at;
	next = topic_at(t, i, &have, &l);
	memmove(b->p + i, b->p + next, b->len - next);
	b->len -= next - i;
	t->n--;
}

void sj_zmtp_topics_free(struct sj_zmtp_topics *t)
{
	sj_buf_free(&t->frames);
	t->n = 0;
}
