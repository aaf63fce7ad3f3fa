// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "portrange.h"
#include "testutil.h"

static void check_ok(const char *s, int lo, int hi)
{
	struct sj_port_range r = { -1, -1 };
	struct sj_err err = { "" };

	if (sj_port_range_parse(s, &r, &err) != 0)
		fail_msg("\"%s\" rejected: %s", s, err.msg);
	assert_int_equal(r.lo, lo);
	assert_int_equal(r.hi, hi);
}

static void check_bad(const char *s, const char *needle)
{
	struct sj_port_range r = { 7, 8 };
	struct sj_err err = { "" };

	assert_fails(sj_port_range_parse(s, &r, &err), err, needle);
	/* A rejected value leaves the range alone. */
	assert_int_equal(r.lo, 7);
	assert_int_equal(r.hi, 8);
}

static void test_valid(void **state)
{
	(void)state;
	check_ok("0", 0, 0);
	check_ok("1", 1, 1);
	check_ok("65535", 65535, 65535);
	check_ok("5000-5010", 5000, 5010);
	check_ok("7-7", 7, 7);
	check_ok("1-65535", 1, 65535);
}

static void test_out_of_range(void **state)
{
	(void)state;
	check_bad("65536", "port out of range 1-65535");
	check_bad("1-65536", "port out of range 1-65535");
	check_bad("99999999999999999999999", "port out of range 1-65535");
	check_bad("0-5", "a lone 0 means any free port");
	check_bad("5-0", "port out of range 1-65535");
	check_bad("0-0", "port out of range");
}

static void test_order(void **state)
{
	(void)state;
	check_bad("6000-5000", "first port 6000 is greater than last port 5000");
}

static void test_junk(void **state)
{
	(void)state;
	check_bad("", "empty port range");
	check_bad("-1", "expected a port number");
	check_bad("+5", "expected a port number");
	check_bad(" 5", "expected a port number");
	check_bad("5 ", "junk after the port");
	check_bad("5-", "expected a port number");
	check_bad("5--6", "expected a port number");
	check_bad("5-6-7", "junk after the port range");
	check_bad("5-6 ", "junk after the port range");
	check_bad("5 - 6", "junk after the port");
	check_bad("abc", "expected a port number");
	check_bad("5x", "junk after the port");
	check_bad("0x10", "junk after the port");
	check_bad("1e3", "junk after the port");
	check_bad("010", "leading zero");
	check_bad("00", "leading zero");
	check_bad("5-06", "leading zero");
	check_bad("5,6", "junk after the port");
}

static void test_null(void **state)
{
	struct sj_port_range r;
	struct sj_err err = { "" };

	(void)state;
	assert_fails(sj_port_range_parse(NULL, &r, &err), err, "empty");
	/* err may be NULL */
	assert_int_equal(sj_port_range_parse("x", &r, NULL), -1);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_valid),
	cmocka_unit_test(test_out_of_range),
	cmocka_unit_test(test_order),
	cmocka_unit_test(test_junk),
	cmocka_unit_test(test_null))
