// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hex.h"
#include "testutil.h"

/* A 32-byte key as sodium_bin2hex writes it. */
#define KEY_HEX "00112233445566778899aabbccddeeff" \
		"0123456789abcdef0f1e2d3c4b5a6978"

static const uint8_t key[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
};

/* Decoding text must fail, leaving no byte of the output as it was. */
static void refused(const char *text, size_t len, size_t n)
{
	uint8_t out[40];

	assert_true(n <= sizeof(out));
	memset(out, 0xa5, sizeof(out));
	assert_false(sj_hex_valid(text, len, n));
	assert_int_equal(sj_hex_decode(text, len, out, n), -1);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i], 0);
	for (size_t i = n; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xa5);	/* nothing beyond n */
}

static void test_exact_length(void **state)
{
	uint8_t out[32];

	(void)state;
	assert_true(sj_hex_valid(KEY_HEX, 64, 32));
	assert_int_equal(sj_hex_decode(KEY_HEX, 64, out, 32), 0);
	assert_memory_equal(out, key, 32);
	/* One byte, and none: the empty text is 0 bytes. */
	assert_int_equal(sj_hex_decode("a7", 2, out, 1), 0);
	assert_int_equal(out[0], 0xa7);
	assert_true(sj_hex_valid("", 0, 0));
	assert_int_equal(sj_hex_decode("", 0, out, 0), 0);
	/* A digit more or less than 2n, even when the text goes on. */
	refused(KEY_HEX, 62, 32);
	refused(KEY_HEX, 64, 31);
	refused(KEY_HEX, 64, 33);
}

static void test_odd_length(void **state)
{
	(void)state;
	refused("abc", 3, 1);
	refused("abc", 3, 2);
	refused(KEY_HEX, 63, 32);
	refused("a", 1, 0);
}

static void test_uppercase_refused(void **state)
{
	char up[65];

	(void)state;
	refused("AB", 2, 1);
	refused("aB", 2, 1);
	/* The key sodium_bin2hex would read the same, but not we. */
	memcpy(up, KEY_HEX, sizeof(up));
	up[63] = 'F';
	up[20] = 'A';
	refused(up, 64, 32);
}

static void test_non_hex(void **state)
{
	static const char *const bad[] = {
		"g0", "0g", "0x", " 0", "0 ", "-1", "+1", ":0", "0:", "/0",
		"`0", "0{", "\xff" "0", "0\x80",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], 2, 1);
	/* libsodium's ignore set is not ours: no separators. */
	refused("00:11", 5, 2);
	refused("0011 ", 5, 2);
}

static void test_nul_in_the_middle(void **state)
{
	char t[65];

	(void)state;
	memcpy(t, KEY_HEX, sizeof(t));
	t[30] = '\0';
	refused(t, 64, 32);
	refused("\0\0", 2, 1);
	refused("a\0", 2, 1);
}

static void test_null_text(void **state)
{
	uint8_t out[4] = { 1, 2, 3, 4 };

	(void)state;
	assert_int_equal(sj_hex_decode(NULL, 0, out, 4), -1);
	assert_memory_equal(out, (uint8_t[4]){ 0 }, 4);
}

SJ_TEST_MAIN(cmocka_unit_test(test_exact_length),
	     cmocka_unit_test(test_odd_length),
	     cmocka_unit_test(test_uppercase_refused),
	     cmocka_unit_test(test_non_hex),
	     cmocka_unit_test(test_nul_in_the_middle),
	     cmocka_unit_test(test_null_text))
