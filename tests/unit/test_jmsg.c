// SPDX-License-Identifier: GPL-2.0-or-later
/* The one reader of a Jupyter message's parts (common/jupyter/jmsg.c):
 * where the delimiter is and what follows it, in both frame layouts, and
 * the routing a reply carries back (sj_jmsg_route). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "buf.h"
#include "jmsg.h"
#include "jsign.h"
#include "zmtp.h"
#include "testutil.h"

#define D SJ_JUPYTER_DELIMITER

/* A message of nf frames in one layout: ZMTP frames as a client sends
 * them, or the link's. */
static void build(struct sj_buf *b, int link, const char *const *f, int nf)
{
	b->len = 0;
	for (int i = 0; i < nf; i++) {
		size_t n = strlen(f[i]);

		if (link)
			assert_int_equal(sj_jmsg_put_frame(b, f[i], n), 0);
		else
			assert_int_equal(sj_zmtp_put_frame(b, i + 1 < nf ?
							   SJ_ZMTP_MORE : 0,
							   f[i], n), 0);
	}
}

static void part_is(const struct sj_jmsg_parts *p, int k, const char *text)
{
	assert_non_null(p->part[k]);
	assert_int_equal(p->len[k], strlen(text));
	assert_memory_equal(p->part[k], text, strlen(text));
}

/* The link's bytes of the last message read_both read: *p points into
 * them until the next. */
static struct sj_buf kept;

/* Reads the message in both layouts, which must say the same, and
 * returns what the link's reading says in *p. */
static int read_both(const char *const *f, int nf, struct sj_jmsg_parts *p)
{
	struct sj_buf b[2] = { { 0 }, kept }, ids = { 0 };
	struct sj_jmsg_parts z;
	int r;

	for (int link = 0; link < 2; link++) {
		build(&b[link], link, f, nf);
		r = link ? sj_jmsg_parts_link(b[1].p, b[1].len, p)
			 : sj_jmsg_parts_zmtp(b[0].p, b[0].len, p);
		assert_int_equal(r, p->nparts);
		assert_false(p->bad);
		/* The ids end where the delimiter starts, or at the end. */
		build(&ids, link, f, r < 0 ? nf : p->nids);
		assert_int_equal(p->ids_end, ids.len);
		if (!link)
			z = *p;
	}
	assert_int_equal(z.nparts, p->nparts);
	assert_int_equal(z.nids, p->nids);
	for (int k = 0; k < SJ_JMSG_NPARTS; k++) {
		assert_int_equal(z.len[k], p->len[k]);
		if (k >= p->nparts)
			assert_true(z.part[k] == NULL && p->part[k] == NULL);
		else
			assert_memory_equal(z.part[k], p->part[k], p->len[k]);
	}
	kept = b[1];
	sj_buf_free(&b[0]);
	sj_buf_free(&ids);
	return r;
}

static void test_whole(void **state)
{
	const char *f[] = { "id-1", "id-2", D, "sig", "{\"h\":1}", "{\"p\":1}",
			    "{\"m\":1}", "{\"c\":1}" };
	struct sj_jmsg_parts p;

	(void)state;
	assert_int_equal(read_both(f, 8, &p), SJ_JMSG_NPARTS);
	assert_int_equal(p.nids, 2);
	part_is(&p, SJ_JMSG_SIG, "sig");
	part_is(&p, SJ_JMSG_HEADER, "{\"h\":1}");
	part_is(&p, SJ_JMSG_PARENT, "{\"p\":1}");
	part_is(&p, SJ_JMSG_METADATA, "{\"m\":1}");
	part_is(&p, SJ_JMSG_CONTENT, "{\"c\":1}");
	/* No routing ids (a DEALER's message to the kernel). */
	assert_int_equal(read_both(f + 2, 6, &p), SJ_JMSG_NPARTS);
	assert_int_equal(p.nids, 0);
	part_is(&p, SJ_JMSG_CONTENT, "{\"c\":1}");
}

static void test_not_whole(void **state)
{
	const char *f[] = { "id", D, "sig", "{\"h\":1}", "{}", "{}" };
	struct sj_jmsg_parts p;

	(void)state;
	/* No delimiter: all of it is routing. */
	assert_int_equal(read_both(f, 1, &p), -1);
	assert_int_equal(p.nids, 1);
	assert_null(p.part[SJ_JMSG_SIG]);
	assert_int_equal(read_both(f, 0, &p), -1);
	assert_int_equal(p.nids, 0);
	/* The delimiter as the last frame. */
	assert_int_equal(read_both(f, 2, &p), 0);
	assert_int_equal(p.nids, 1);
	/* Fewer than five parts: those there are found. */
	assert_int_equal(read_both(f, 4, &p), 2);
	part_is(&p, SJ_JMSG_HEADER, "{\"h\":1}");
	assert_null(p.part[SJ_JMSG_PARENT]);
	assert_int_equal(read_both(f, 6, &p), 4);
	assert_null(p.part[SJ_JMSG_CONTENT]);
}

static void test_after_the_delimiter(void **state)
{
	/* A content (or a signature) that reads "<IDS|MSG>" is a part,
	 * and buffers after the content are not parts. */
	const char *f[] = { D, D, "{}", "{}", "{}", D, "buffer", D };
	struct sj_jmsg_parts p;

	(void)state;
	assert_int_equal(read_both(f, 8, &p), SJ_JMSG_NPARTS);
	assert_int_equal(p.nids, 0);
	part_is(&p, SJ_JMSG_SIG, D);
	part_is(&p, SJ_JMSG_CONTENT, D);
	/* Only the first delimiter ends the routing ids. */
	const char *g[] = { "<IDS|MSG", "<IDS|MSG>x", D, "s", "h", "p", "m",
			    "c", "b1", "b2" };

	assert_int_equal(read_both(g, 10, &p), SJ_JMSG_NPARTS);
	assert_int_equal(p.nids, 2);
	part_is(&p, SJ_JMSG_SIG, "s");
	part_is(&p, SJ_JMSG_CONTENT, "c");
}

static void test_malformed(void **state)
{
	const char *f[] = { "id", D, "sig", "h", "p", "m", "c" };
	struct sj_buf b = { 0 };
	struct sj_jmsg_parts p;

	(void)state;
	/* Cut short inside the header (the frames before it: 4 + 11 + 5
	 * bytes): the walk stops there, bad. */
	build(&b, 0, f, 7);
	assert_int_equal(sj_jmsg_parts_zmtp(b.p, 4 + 11 + 5 + 2, &p),
			 1);
	assert_true(p.bad);
	part_is(&p, SJ_JMSG_SIG, "sig");
	assert_int_equal(sj_jmsg_parts_zmtp(b.p, 1, &p), -1);
	assert_true(p.bad);
	assert_int_equal(p.ids_end, 0);
	build(&b, 1, f, 7);
	assert_int_equal(sj_jmsg_parts_link(b.p, b.len - 1, &p), 4);
	assert_true(p.bad);
	/* Bytes after the content are not read: a whole message. */
	assert_int_equal(sj_buf_reserve(&b, 1), 0);
	b.p[b.len++] = 0xff;
	assert_int_equal(sj_jmsg_parts_link(b.p, b.len, &p), SJ_JMSG_NPARTS);
	assert_false(p.bad);
	sj_buf_free(&b);
}

static void test_route(void **state)
{
	const char *f[] = { "id-1", "id-2", D, "sig", "{\"h\":1}", "{}", "{}",
			    "{}" };
	const char *want[] = { "rid", "id-1", "id-2" };
	uint8_t expect[64];
	struct sj_buf b = { 0 }, route = { 0 };
	const uint8_t *h;
	size_t hn, n;

	(void)state;
	build(&b, 0, f, 8);
	assert_int_equal(sj_jmsg_route(&route, (const uint8_t *)"rid", 3, b.p,
				       b.len, &h, &hn), 0);
	n = link_frames(expect, want, 3);
	assert_int_equal(route.len, n);
	assert_memory_equal(route.p, expect, n);
	assert_int_equal(hn, strlen(f[4]));
	assert_memory_equal(h, f[4], hn);
	/* No delimiter: every frame is routing, and there is no header. */
	route.len = 0;
	build(&b, 0, f, 2);
	assert_int_equal(sj_jmsg_route(&route, NULL, 0, b.p, b.len, &h, &hn),
			 0);
	n = link_frames(expect, want + 1, 2);
	assert_int_equal(route.len, n);
	assert_memory_equal(route.p, expect, n);
	assert_null(h);
	sj_buf_free(&b);
	sj_buf_free(&route);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_whole),
	cmocka_unit_test(test_not_whole),
	cmocka_unit_test(test_after_the_delimiter),
	cmocka_unit_test(test_malformed),
	cmocka_unit_test(test_route))
