// SPDX-License-Identifier: GPL-2.0-or-later
/* Jupyter message signatures (common/jupyter/jsign.c), checked against digests
 * made by Python's hmac module, and the limiter of strangers' log lines
 * (common/base/ratelimit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "jsign.h"
#include "ratelimit.h"
#include "zmtp.h"
#include "testutil.h"

static const char *const parts[4] = { "{\"msg_id\":\"1\"}", "{}", "{}",
				      "{\"code\":\"1+1\"}" };
/* python3: hmac.new(b"secret-key", digestmod=hashlib.sha256), updated
 * with the four parts in order. */
static const char sha256_hex[] =
	"f29edc2ae347e99e996cf426a9068abd72bbac08f131d7b7d863f0430600434a";
static const char sha512_hex[] =
	"7b5b03642c0ed52f74deb1dbd29dacb11d7d76aa25e008f94c3a1b0f06ba8403"
	"038b3993eb87204c5cbc8edc02c504ef0bf7fa4a620b5cfda6517a14d5386945";

/* The ZMTP frames of [id, <IDS|MSG>, sig, parts..., extra...]. */
static void wire(struct sj_buf *b, const char *sig, int nparts)
{
	const char *f[7] = { "client-id", "<IDS|MSG>", sig };
	int n = 3;

	for (int i = 0; i < nparts; i++)
		f[n++] = parts[i];
	b->len = 0;
	for (int i = 0; i < n; i++)
		assert_int_equal(sj_zmtp_put_frame(b, i + 1 < n ? 1 : 0, f[i],
						   strlen(f[i])), 0);
}

static void test_digests(void **state)
{
	struct sj_jsign s;
	struct sj_err err = { "" };
	const uint8_t *p[4];
	size_t n[4];
	char hex[SJ_JSIGN_HEX_MAX + 1];

	(void)state;
	for (int i = 0; i < 4; i++) {
		p[i] = (const uint8_t *)parts[i];
		n[i] = strlen(parts[i]);
	}
	assert_ok(sj_jsign_init(&s, "secret-key", "hmac-sha256", &err), err);
	sj_jsign_hex(&s, p, n, hex);
	assert_string_equal(hex, sha256_hex);
	assert_ok(sj_jsign_init(&s, "secret-key", "hmac-sha512", &err), err);
	sj_jsign_hex(&s, p, n, hex);
	assert_string_equal(hex, sha512_hex);
	sj_jsign_wipe(&s);
	assert_fails(sj_jsign_init(&s, "k", "hmac-md5", &err), err,
		     "only hmac-sha256 and hmac-sha512");
}

static void test_check_messages(void **state)
{
	struct sj_jsign s;
	struct sj_err err = { "" };
	struct sj_buf b = { 0 };
	char bad[sizeof(sha256_hex)];

	(void)state;
	assert_ok(sj_jsign_init(&s, "secret-key", "hmac-sha256", &err), err);
	wire(&b, sha256_hex, 4);
	assert_ok(sj_jsign_check_zmtp(&s, b.p, b.len, &err), err);

	memcpy(bad, sha256_hex, sizeof(bad));
	bad[10] = bad[10] == '0' ? '1' : '0';
	wire(&b, bad, 4);
	assert_fails(sj_jsign_check_zmtp(&s, b.p, b.len, &err), err,
		     "wrong signature");
	wire(&b, "", 4);
	assert_fails(sj_jsign_check_zmtp(&s, b.p, b.len, &err), err,
		     "wrong signature");
	wire(&b, sha256_hex, 3);
	assert_fails(sj_jsign_check_zmtp(&s, b.p, b.len, &err), err,
		     "not a Jupyter message");
	/* Another key: the same bytes do not pass. */
	assert_ok(sj_jsign_init(&s, "other-key", "hmac-sha256", &err), err);
	wire(&b, sha256_hex, 4);
	assert_fails(sj_jsign_check_zmtp(&s, b.p, b.len, &err), err,
		     "wrong signature");
	/* Without a key nothing is signed, but it must still be a
	 * message. */
	assert_ok(sj_jsign_init(&s, "", "", &err), err);
	wire(&b, "", 4);
	assert_ok(sj_jsign_check_zmtp(&s, b.p, b.len, &err), err);
	wire(&b, "", 2);
	assert_fails(sj_jsign_check_zmtp(&s, b.p, b.len, &err), err,
		     "not a Jupyter message");
	sj_buf_free(&b);
}

static void test_ratelimit(void **state)
{
	struct sj_ratelimit r = { 0 };
	uint64_t held = 99;
	int64_t t = 1000;

	(void)state;
	for (int i = 0; i < SJ_RATELIMIT_BURST; i++) {
		assert_true(sj_ratelimit_allow(&r, t + i, &held));
		assert_int_equal(held, 0);
	}
	for (int i = 0; i < 1000; i++)
		assert_false(sj_ratelimit_allow(&r, t + 100 + i, &held));
	/* Still in the same minute: nothing. */
	assert_false(sj_ratelimit_allow(&r, t + SJ_RATELIMIT_WINDOW_MS - 1,
					&held));
	/* A minute later, one line, and the count of what was held. */
	t += SJ_RATELIMIT_WINDOW_MS;
	assert_true(sj_ratelimit_allow(&r, t, &held));
	assert_int_equal(held, 1001);
	assert_true(sj_ratelimit_allow(&r, t + 1, &held));
	assert_int_equal(held, 0);
	for (int i = 0; i < SJ_RATELIMIT_BURST; i++)
		(void)sj_ratelimit_allow(&r, t + 2, &held);
	assert_int_equal(sj_ratelimit_flush(&r), 2);
	assert_int_equal(sj_ratelimit_flush(&r), 0);
	assert_true(sj_monotonic_ms() > 0);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_digests),
	cmocka_unit_test(test_check_messages),
	cmocka_unit_test(test_ratelimit))
