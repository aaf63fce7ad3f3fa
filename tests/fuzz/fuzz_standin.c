// SPDX-License-Identifier: GPL-2.0-or-later
/* The login shim standing in for a kernel still in the queue
 * (common/jupyter/standin.c): what a client sends it on each channel, raw or as
 * a message signed with the connection file's key (so the fuzzer gets
 * past the signature to the header), and the kernel's kernel_info_reply
 * that it records and replays later.  What it answers must be a message
 * the client can check: signed, routed back, the request as its parent;
 * what it records must replay byte for byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connfile.h"
#include "forward.h"
#include "jsign.h"
#include "standin.h"
#include "zmtp.h"

#define KEY "fuzz-key"
#define SCHEME "hmac-sha256"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parts of the input, split at NUL: [0] routing id, [1] header,
 * [2] parent, [3] metadata, [4] content. */
struct parts {
	const uint8_t *p[5];
	size_t n[5];
};

static void split(const uint8_t *data, size_t size, struct parts *q)
{
	size_t i = 0;

	for (int k = 0; k < 5; k++) {
		const uint8_t *end = i < size ? memchr(data + i, 0, size - i)
					      : NULL;
		size_t n = end != NULL ? (size_t)(end - (data + i))
				       : (i < size ? size - i : 0);

		/* The last part takes the rest, NULs and all. */
		if (k == 4)
			n = i < size ? size - i : 0;
		q->p[k] = data + (i < size ? i : size);
		q->n[k] = n;
		i += n + 1;
	}
}

static const struct sj_jsign *signer(void)
{
	static struct sj_jsign s;
	static int ready;
	struct sj_err err;

	if (!ready) {
		if (sj_jsign_init(&s, KEY, SCHEME, &err) != 0)
			abort();
		ready = 1;
	}
	return &s;
}

static void sign(const struct parts *q, char *hex)
{
	const uint8_t *part[4] = { q->p[1], q->p[2], q->p[3], q->p[4] };
	const size_t len[4] = { q->n[1], q->n[2], q->n[3], q->n[4] };

	sj_jsign_hex(signer(), part, len, hex);
}

/* A client's message as zfront hands it on: ZMTP frames, signed. */
static int client_message(const struct parts *q, struct sj_buf *b)
{
	char hex[SJ_JSIGN_HEX_MAX + 1];
	const char *d = SJ_JUPYTER_DELIMITER;

	sign(q, hex);
	if (sj_zmtp_put_frame(b, SJ_ZMTP_MORE, d, strlen(d)) ||
	    sj_zmtp_put_frame(b, SJ_ZMTP_MORE, hex, strlen(hex)))
		return -1;
	for (int k = 1; k < 5; k++)
		if (sj_zmtp_put_frame(b, k < 4 ? SJ_ZMTP_MORE : 0, q->p[k],
				      q->n[k]))
			return -1;
	return 0;
}

/* One whole frame of the link's layout at *off: 0 at the end, and an
 * abort on anything but whole frames (the standin wrote them). */
static int next(const struct sj_buf *b, size_t *off, const uint8_t **p,
		size_t *n)
{
	struct sj_link_entry x;
	int r = sj_link_entry_next(b->p, b->len, off, &x);

	if (r < 0 || (r == 1 && x.head != x.n))
		abort();
	if (r == 1) {
		*p = x.data;
		*n = x.n;
	}
	return r;
}

static int is(const uint8_t *p, size_t n, const void *want, size_t wn)
{
	return n == wn && (n == 0 || memcmp(p, want, n) == 0);
}

/* An answer: first, the frames of route; then a message signed right,
 * of msg_type, whose parent is the request's header. */
static void check_answer(const struct sj_buf *b, const uint8_t *route,
			 size_t route_len, const char *msg_type,
			 const struct parts *req, const struct sj_standin *s)
{
	const uint8_t *p, *part[4];
	size_t off = 0, n, part_len[4];
	char hex[SJ_JSIGN_HEX_MAX + 1], want[SJ_JSIGN_HEX_MAX + 1];

	if (!next(b, &off, &p, &n) || !is(p, n, route, route_len))
		abort();
	if (!next(b, &off, &p, &n) ||
	    !is(p, n, SJ_JUPYTER_DELIMITER, strlen(SJ_JUPYTER_DELIMITER)))
		abort();
	if (!next(b, &off, &p, &n) || n > SJ_JSIGN_HEX_MAX)
		abort();
	memcpy(hex, p, n);
	hex[n] = '\0';
	for (int k = 0; k < 4; k++)
		if (!next(b, &off, &part[k], &part_len[k]))
			abort();
	if (off != b->len)
		abort();
	sj_jsign_hex(signer(), part, part_len, want);
	if (strcmp(hex, want) != 0 ||
	    !sj_header_has_type(part[0], part_len[0], msg_type) ||
	    !is(part[1], part_len[1], req->p[1], req->n[1]))
		abort();
	if (strcmp(msg_type, "kernel_info_reply") == 0 &&
	    !is(part[3], part_len[3], s->info, s->info_len))
		abort();
}

static void client(struct sj_standin *s, int ch, int raw, const uint8_t *data,
		   size_t size)
{
	struct sj_buf msg = { 0 }, reply = { 0 }, busy = { 0 }, idle = { 0 };
	struct sj_buf route = { 0 }, topic = { 0 };
	struct sj_err err;
	struct parts q;
	int r;

	split(data, size, &q);
	if (!raw && client_message(&q, &msg) != 0)
		goto out;
	if (!raw && sj_jsign_check_zmtp(signer(), msg.p, msg.len, &err) != 0)
		abort();
	r = sj_standin_answer(s, ch, q.p[0], q.n[0], raw ? data : msg.p,
			      raw ? size : msg.len, &reply, &busy, &idle, &err);
	if (r != 1 || ch == SJ_HB || raw)
		goto out;
	/* Only a kernel_info_request on shell or control is answered. */
	if ((ch != SJ_SHELL && ch != SJ_CONTROL) ||
	    !sj_header_has_type(q.p[1], q.n[1], "kernel_info_request"))
		abort();
	static const char t[] = "kernel.slurm-jupyter-shim.status";
	if (sj_jmsg_put_frame(&route, q.p[0], q.n[0]) ||
	    sj_jmsg_put_frame(&topic, t, sizeof(t) - 1))
		goto out;
	check_answer(&reply, q.p[0], q.n[0], "kernel_info_reply", &q, s);
	check_answer(&busy, (const uint8_t *)t, sizeof(t) - 1, "status", &q,
		     s);
	check_answer(&idle, (const uint8_t *)t, sizeof(t) - 1, "status", &q,
		     s);
out:
	sj_buf_free(&msg);
	sj_buf_free(&reply);
	sj_buf_free(&busy);
	sj_buf_free(&idle);
	sj_buf_free(&route);
	sj_buf_free(&topic);
}

/* The kernel's reply to the shim's own request, recorded and replayed by
 * the next shim. */
static void kernel_reply(struct sj_standin *s, const char *path,
			 const uint8_t *data, size_t size)
{
	struct sj_buf msg = { 0 };
	struct sj_standin again;
	struct sj_err err;
	struct parts q;
	char hex[SJ_JSIGN_HEX_MAX + 1];
	const char *d = SJ_JUPYTER_DELIMITER;
	int keep;

	split(data, size, &q);
	sign(&q, hex);
	if (sj_jmsg_put_frame(&msg, s->own_rid, sizeof(s->own_rid)) ||
	    sj_jmsg_put_frame(&msg, d, strlen(d)) ||
	    sj_jmsg_put_frame(&msg, hex, strlen(hex)))
		goto out;
	for (int k = 1; k < 5; k++)
		if (sj_jmsg_put_frame(&msg, q.p[k], q.n[k]))
			goto out;
	if (unlink(path) != 0 && access(path, F_OK) == 0)
		abort();
	if (sj_standin_take_reply(s, msg.p, msg.len, &err) != 1)
		abort();
	keep = q.n[4] <= SJ_STANDIN_INFO_MAX &&
	       sj_standin_json_object((const char *)q.p[4], q.n[4]);
	if (sj_standin_init(&again, KEY, SCHEME, "fuzz", "python", "0",
			    path, &err) != 0)
		abort();
	if (again.info_recorded != keep ||
	    (keep && !is((const uint8_t *)again.info, again.info_len,
			 q.p[4], q.n[4])))
		abort();
	sj_standin_free(&again);
	/* Not its own request's reply: not taken. */
	msg.p[4] ^= 1;
	if (sj_standin_take_reply(s, msg.p, msg.len, &err) != 0)
		abort();
out:
	sj_buf_free(&msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sj_standin s;
	static char path[64];
	static int state;	/* 0 not yet, 1 ready, -1 failed */
	struct sj_err err;

	if (state == 0) {
		/* tmpfs, where the fsync of an atomic write costs nothing. */
	char dir[] = "/dev/shm/fuzz-standin-XXXXXX";

		state = -1;
		if (mkdtemp(dir) == NULL)
			return 0;
		snprintf(path, sizeof(path), "%s/kernel_info.json", dir);
		if (sj_standin_init(&s, KEY, SCHEME, "fuzz\"user", "py\"thon",
				    "0.1", path, &err) != 0)
			return 0;
		state = 1;
	}
	if (state != 1 || size < 1)
		return 0;
	/* The first byte: the channel, and how the rest is taken. */
	switch (data[0] >> 4) {
	case 0:
		client(&s, data[0] % SJ_NCHANNELS, 1, data + 1, size - 1);
		break;
	case 1:
		kernel_reply(&s, path, data + 1, size - 1);
		break;
	default:
		client(&s, data[0] % SJ_NCHANNELS, 0, data + 1, size - 1);
		break;
	}
	return 0;
}
