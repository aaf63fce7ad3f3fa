// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <zmq.h>

#include "curvekey.h"

static void random_bytes(uint8_t *b, size_t n)
{
	assert_int_equal(getrandom(b, n, 0), (ssize_t)n);
}

/* The example in ZMQ RFC 32. */
static void test_rfc_vector(void **state)
{
	static const uint8_t hello[8] = {
		0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B
	};
	uint8_t out[8];
	char text[11];

	(void)state;
	assert_int_equal(sj_z85_encode(hello, 8, text, sizeof(text)), 0);
	assert_string_equal(text, "HelloWorld");
	assert_int_equal(sj_z85_decode("HelloWorld", out, sizeof(out)), 0);
	assert_memory_equal(out, hello, 8);
}

static void test_extremes(void **state)
{
	static const uint8_t zero[4], ones[4] = { 0xff, 0xff, 0xff, 0xff };
	uint8_t out[4];
	char text[6];

	(void)state;
	assert_int_equal(sj_z85_encode(zero, 4, text, sizeof(text)), 0);
	assert_string_equal(text, "00000");
	assert_int_equal(sj_z85_encode(ones, 4, text, sizeof(text)), 0);
	assert_string_equal(text, "%nSc0");
	assert_int_equal(sj_z85_decode("%nSc0", out, sizeof(out)), 0);
	assert_memory_equal(out, ones, 4);
	/* One past 2^32-1, and the largest five digits: no 4-byte value. */
	assert_int_equal(sj_z85_decode("%nSc1", out, sizeof(out)), -1);
	assert_int_equal(sj_z85_decode("#####", out, sizeof(out)), -1);
	/* Empty in, empty out. */
	assert_int_equal(sj_z85_encode(zero, 0, text, 1), 0);
	assert_string_equal(text, "");
	assert_int_equal(sj_z85_decode("", out, 0), 0);
}

static void test_bad_input(void **state)
{
	static const char *const bad[] = {
		"Hello World", "Hello\"orld", "Hello'orld", "Hello,orld",
		"Hello;orld", "Hello\\orld", "Hello_orld", "Hello`orld",
		"Hello|orld", "Hello~orld", "Hello\x80orld", "Hello\torld",
	};
	uint8_t in[8] = { 0 }, out[8];
	char text[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sj_z85_decode(bad[i], out, sizeof(out)) != -1)
			fail_msg("decoded \"%s\"", bad[i]);
	/* Lengths not a multiple of 5 / 4. */
	assert_int_equal(sj_z85_decode("Hello", out, sizeof(out)), 0);
	assert_int_equal(sj_z85_decode("Hell", out, sizeof(out)), -1);
	assert_int_equal(sj_z85_decode("HelloW", out, sizeof(out)), -1);
	assert_int_equal(sj_z85_encode(in, 7, text, sizeof(text)), -1);
	assert_int_equal(sj_z85_encode(in, 5, text, sizeof(text)), -1);
	/* Output too small, by one. */
	assert_int_equal(sj_z85_encode(in, 8, text, 10), -1);
	assert_int_equal(sj_z85_encode(in, 8, text, 11), 0);
	assert_int_equal(sj_z85_decode("HelloWorld", out, 7), -1);
}

/* Our codec against libzmq's on random data of several lengths. */
static void test_against_zmq(void **state)
{
	uint8_t data[64], back[64];
	char ours[81], theirs[81];
	int round;

	(void)state;
	for (round = 0; round < 500; round++) {
		size_t len = (size_t)(round % 17) * 4;

		random_bytes(data, len);
		assert_int_equal(sj_z85_encode(data, len, ours, sizeof(ours)),
				 0);
		assert_non_null(zmq_z85_encode(theirs, data, len));
		assert_string_equal(ours, theirs);
		assert_int_equal(sj_z85_decode(ours, back, sizeof(back)), 0);
		assert_memory_equal(back, data, len);
	}
}

static void test_zmq_keys_round_trip(void **state)
{
	char pub[41], sec[41], again[41];
	uint8_t raw[32], zraw[32];
	int i;

	(void)state;
	if (!zmq_has("curve")) {
		print_message("libzmq has no CURVE support; skipped\n");
		skip();
	}
	for (i = 0; i < 50; i++) {
		assert_int_equal(zmq_curve_keypair(pub, sec), 0);
		assert_true(sj_curve_key_valid(pub));
		assert_true(sj_curve_key_valid(sec));
		assert_int_equal(sj_z85_decode(pub, raw, sizeof(raw)), 0);
		assert_non_null(zmq_z85_decode(zraw, pub));
		assert_memory_equal(raw, zraw, 32);
		assert_int_equal(sj_z85_encode(raw, 32, again, sizeof(again)),
				 0);
		assert_string_equal(again, pub);
		assert_int_equal(sj_z85_decode(sec, raw, sizeof(raw)), 0);
		assert_int_equal(sj_z85_encode(raw, 32, again, sizeof(again)),
				 0);
		assert_string_equal(again, sec);
	}
}

/* Our key pairs are CURVE key pairs as libzmq computes them. */
static void test_keypair_matches_zmq(void **state)
{
	char pub[SJ_Z85_KEY_LEN + 1], sec[SJ_Z85_KEY_LEN + 1];
	char derived[SJ_Z85_KEY_LEN + 1], pub2[41], sec2[41];
	struct sj_err err = { "" };
	int i;

	(void)state;
	if (!zmq_has("curve")) {
		print_message("libzmq has no CURVE support; skipped\n");
		skip();
	}
	for (i = 0; i < 50; i++) {
		memset(pub, 'x', sizeof(pub));
		memset(sec, 'x', sizeof(sec));
		if (sj_curve_keypair(pub, sec, &err) != 0)
			fail_msg("%s", err.msg);
		assert_int_equal(strlen(pub), SJ_Z85_KEY_LEN);
		assert_int_equal(strlen(sec), SJ_Z85_KEY_LEN);
		assert_true(sj_curve_key_valid(pub));
		assert_true(sj_curve_key_valid(sec));
		assert_int_equal(zmq_curve_public(derived, sec), 0);
		assert_string_equal(derived, pub);
	}
	if (sj_curve_keypair(pub2, sec2, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_not_equal(pub, pub2);
	assert_string_not_equal(sec, sec2);
}

static void test_key_valid(void **state)
{
	char k[64];

	(void)state;
	assert_false(sj_curve_key_valid(NULL));
	assert_false(sj_curve_key_valid(""));
	memset(k, 'a', sizeof(k));
	k[40] = '\0';
	assert_true(sj_curve_key_valid(k));
	k[39] = '\0';
	assert_false(sj_curve_key_valid(k));	/* 39 */
	k[39] = 'a';
	k[41] = '\0';
	k[40] = 'a';
	assert_false(sj_curve_key_valid(k));	/* 41 */
	k[40] = '\0';
	k[7] = '~';
	assert_false(sj_curve_key_valid(k));	/* not Z85 */
	k[7] = ' ';
	assert_false(sj_curve_key_valid(k));
	k[7] = 'a';
	memcpy(k + 35, "#####", 5);
	assert_false(sj_curve_key_valid(k));	/* overflows a group */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_vector),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_against_zmq),
		cmocka_unit_test(test_zmq_keys_round_trip),
		cmocka_unit_test(test_keypair_matches_zmq),
		cmocka_unit_test(test_key_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
