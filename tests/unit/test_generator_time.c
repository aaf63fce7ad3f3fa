// SPDX-License-Identifier: GPL-2.0-or-later
/* Slurm time limits as jupyter slurm add --time takes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "slurmtime.h"
#include "testutil.h"

static void ok(const char *s, long long want)
{
	struct sj_err err = { "" };
	long long got = -7;

	if (gen_time_parse(s, &got, &err) != 0)
		fail_msg("\"%s\" rejected: %s", s, err.msg);
	if (got != want)
		fail_msg("\"%s\": %lld seconds, expected %lld", s, got, want);
}

static void bad(const char *s, const char *needle)
{
	struct sj_err err = { "" };
	long long got = -7;

	if (gen_time_parse(s, &got, &err) != -1)
		fail_msg("\"%s\" accepted as %lld", s, got);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", s, err.msg,
			 needle);
	assert_int_equal(got, -7);
}

static void test_every_format(void **state)
{
	(void)state;
	ok("60", 3600);				/* M */
	ok("0", 0);
	ok("90", 5400);				/* minutes beyond an hour */
	ok("1:30", 90);				/* M:S */
	ok("1:30:00", 5400);			/* H:M:S */
	ok("36:00:00", 36 * 3600);		/* hours beyond a day */
	ok("2-0", 2 * 86400);			/* D-H */
	ok("2-12", 2 * 86400 + 12 * 3600);
	ok("1-2:03", 86400 + 2 * 3600 + 180);	/* D-H:M */
	ok("2-00:00:00", 2 * 86400);		/* D-H:M:S */
	ok("0-0:0:1", 1);
}

static void test_clock_fields(void **state)
{
	(void)state;
	bad("1:60", "seconds go up to 59");
	bad("1:60:00", "minutes and seconds go up to 59");
	bad("1:00:60", "minutes and seconds go up to 59");
	bad("1-24", "hours go up to 23");
	bad("1-1:60", "minutes and seconds up to 59");
	bad("1-1:1:60", "minutes and seconds up to 59");
}

static void test_junk(void **state)
{
	(void)state;
	const char *const junk[] = {
		"", "1h", "60m", "-5", "+5", " 5", "5 ", "1:2:3:4", "1-2-3",
		"1-", "-1", "1:", ":1", "1::2", "1-2:3:4:5", "a", "1.5",
		"UNLIMITED", "999999999", "1-2:", "0x10",
	};

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		bad(junk[i], "allowed: M, M:S, H:M:S, D-H, D-H:M or D-H:M:S");
}

static void test_minutes_round_up(void **state)
{
	(void)state;
	assert_int_equal(gen_time_minutes(0), 0);
	assert_int_equal(gen_time_minutes(1), 1);
	assert_int_equal(gen_time_minutes(60), 1);
	assert_int_equal(gen_time_minutes(61), 2);
	assert_int_equal(gen_time_minutes(3600), 60);
}

/* format (gen_time_label or gen_time_slurm) writes want for minutes. */
static void formats(void (*format)(long long, char *, size_t),
		    long long minutes, const char *want)
{
	char buf[32];

	format(minutes, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_labels(void **state)
{
	(void)state;
	formats(gen_time_label, 0, "0min");
	formats(gen_time_label, 45, "45min");
	formats(gen_time_label, 60, "1h");
	formats(gen_time_label, 90, "1h30min");
	formats(gen_time_label, 1440, "1d");
	formats(gen_time_label, 2 * 1440 + 12 * 60, "2d12h");
	formats(gen_time_label, 1440 + 61, "1d1h1min");
}

static void test_slurm_format(void **state)
{
	(void)state;
	formats(gen_time_slurm, 5, "00:05:00");
	formats(gen_time_slurm, 60, "01:00:00");
	formats(gen_time_slurm, 1440 + 90, "1-01:30:00");
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_every_format),
	cmocka_unit_test(test_clock_fields),
	cmocka_unit_test(test_junk),
	cmocka_unit_test(test_minutes_round_up),
	cmocka_unit_test(test_labels),
	cmocka_unit_test(test_slurm_format))
