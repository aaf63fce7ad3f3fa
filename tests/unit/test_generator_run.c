// SPDX-License-Identifier: GPL-2.0-or-later
/* Running Slurm commands and keeping what they print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "run.h"
#include "testutil.h"

static void test_output_and_status(void **state)
{
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct sj_err err = { "" };
	struct gen_output out;

	(void)state;
	assert_int_equal(gen_run(argv, 10000, &out, &err), 0);
	assert_string_equal(out.out, "out\n");
	assert_string_equal(out.errtext, "err\n");
	assert_int_equal(out.status, 3);
	gen_output_free(&out);
}

static void test_large_output(void **state)
{
	char *argv[] = { "sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x",
			 NULL };
	struct sj_err err = { "" };
	struct gen_output out;

	(void)state;
	assert_int_equal(gen_run(argv, 10000, &out, &err), 0);
	assert_int_equal(strlen(out.out), 300000);
	assert_int_equal(out.status, 0);
	gen_output_free(&out);
}

static void test_missing_command(void **state)
{
	char *argv[] = { "sj-no-such-command", NULL };
	struct sj_err err = { "" };
	struct gen_output out;

	(void)state;
	assert_int_equal(gen_run(argv, 10000, &out, &err), -1);
	assert_non_null(strstr(err.msg, "cannot run sj-no-such-command: No "
			       "such file"));
	gen_output_free(&out);
}

static void test_timeout(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	struct sj_err err = { "" };
	struct gen_output out;

	(void)state;
	assert_int_equal(gen_run(argv, 200, &out, &err), -1);
	assert_non_null(strstr(err.msg, "sleep did not answer"));
	gen_output_free(&out);
}

static void test_first_line(void **state)
{
	char buf[8];

	(void)state;
	gen_first_line("\nab\ncd", buf, sizeof(buf));
	assert_string_equal(buf, "ab");
	gen_first_line("0123456789", buf, sizeof(buf));
	assert_string_equal(buf, "0123456");
	gen_first_line("", buf, sizeof(buf));
	assert_string_equal(buf, "");
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_output_and_status),
	cmocka_unit_test(test_large_output),
	cmocka_unit_test(test_missing_command),
	cmocka_unit_test(test_timeout),
	cmocka_unit_test(test_first_line))
