// SPDX-License-Identifier: GPL-2.0-or-later
/* When a kernel counts as idle (common/jupyter/idle.c, --idle-timeout): no
 * request from the client and not busy for the whole timeout; a cell
 * longer than the timeout is never ended; and the next kernel's note
 * (common/jupyter/newstext.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "idle.h"
#include "newstext.h"

#define T0 ((time_t)1796306700)

static void test_parse(void **state)
{
	struct sj_err err = { "" };
	unsigned t = 99;

	(void)state;
	assert_int_equal(sj_idle_parse("0", &t, &err), 0);
	assert_int_equal(t, 0);
	assert_int_equal(sj_idle_parse("20s", &t, &err), 0);
	assert_int_equal(t, 20);
	assert_int_equal(sj_idle_parse("30m", &t, &err), 0);
	assert_int_equal(t, 1800);
	assert_int_equal(sj_idle_parse("2h", &t, &err), 0);
	assert_int_equal(t, 7200);
	assert_int_equal(sj_idle_parse("168h", &t, &err), 0);
	assert_int_equal(t, SJ_IDLE_LONGEST);

	assert_int_equal(sj_idle_parse("169h", &t, &err), -1);
	assert_string_equal(err.msg, "--idle-timeout=169h: from 1s to 7 days");
	assert_int_equal(sj_idle_parse("0s", &t, &err), -1);
	assert_string_equal(err.msg, "--idle-timeout=0s: from 1s to 7 days");
	assert_int_equal(sj_idle_parse("30", &t, &err), -1);
	assert_string_equal(err.msg, "--idle-timeout=30: the duration needs a "
			    "unit (s, m or h), as in 30m");
	assert_int_equal(sj_idle_parse("1d", &t, &err), -1);
	assert_int_equal(sj_idle_parse("30m,1m", &t, &err), -1);
	assert_string_equal(err.msg, "--idle-timeout=30m,1m: one duration, "
			    "like 30m");
	assert_int_equal(sj_idle_parse("", &t, &err), -1);
	assert_string_equal(err.msg, "--idle-timeout=: a duration like 30m (s, "
			    "m or h), or 0");
	assert_int_equal(sj_idle_parse("-5m", &t, &err), -1);
	assert_int_equal(sj_idle_parse("99999999999999999999s", &t, &err), -1);
	assert_int_equal(t, 0);
}

static void test_off(void **state)
{
	struct sj_idle c;
	time_t next = 1;

	(void)state;
	sj_idle_start(&c, 0, T0);
	assert_int_equal(sj_idle_due(&c, T0 + 365 * 86400, &next), 0);
	assert_int_equal(next, 0);
}

/* Nothing at all happens: the kernel's start counts, then the timeout. */
static void test_quiet_kernel(void **state)
{
	struct sj_idle c;
	time_t next;

	(void)state;
	sj_idle_start(&c, 20, T0);
	assert_int_equal(sj_idle_due(&c, T0, &next), 0);
	assert_int_equal(next, T0 + 20);
	assert_int_equal(sj_idle_due(&c, T0 + 19, &next), 0);
	assert_int_equal(next, T0 + 20);
	assert_int_equal(sj_idle_due(&c, T0 + 20, &next), 1);
}

/* Any request (kernel_info from a front end that reconnects, complete,
 * inspect) starts the wait again. */
static void test_request_restarts(void **state)
{
	struct sj_idle c;
	time_t next;

	(void)state;
	sj_idle_start(&c, 20, T0);
	sj_idle_request(&c, T0 + 15);
	assert_int_equal(sj_idle_due(&c, T0 + 20, &next), 0);
	assert_int_equal(next, T0 + 35);
	assert_int_equal(sj_idle_due(&c, T0 + 35, &next), 1);
}

/* A cell that runs longer than the timeout is not ended; the wait starts
 * when the kernel says idle again. */
static void test_busy_cell_kept(void **state)
{
	struct sj_idle c;
	time_t next;

	(void)state;
	sj_idle_start(&c, 20, T0);
	sj_idle_request(&c, T0 + 1);
	sj_idle_status(&c, 1, T0 + 1);
	assert_int_equal(sj_idle_due(&c, T0 + 100, &next), 0);
	assert_int_equal(next, 0);
	assert_int_equal(sj_idle_due(&c, T0 + 10000, &next), 0);
	sj_idle_status(&c, 0, T0 + 10000);
	assert_int_equal(sj_idle_due(&c, T0 + 10019, &next), 0);
	assert_int_equal(next, T0 + 10020);
	assert_int_equal(sj_idle_due(&c, T0 + 10020, &next), 1);
}

/* The wall clock stepped back (NTP): wait the whole timeout from now
 * rather than end a kernel early or never. */
static void test_clock_back(void **state)
{
	struct sj_idle c;
	time_t next;

	(void)state;
	sj_idle_start(&c, 20, T0);
	assert_int_equal(sj_idle_due(&c, T0 - 3600, &next), 0);
	assert_int_equal(next, T0 - 3600 + 20);
	assert_int_equal(sj_idle_due(&c, T0 - 3600 + 20, &next), 1);
}

static void test_text(void **state)
{
	char b[512];

	(void)state;
	assert_int_equal(sj_text_idle_previous(b, sizeof(b), 20, "n2", "124"),
			 0);
	assert_string_equal(b, "The previous kernel was shut down after 20 "
			    "seconds idle and its allocation released; this "
			    "kernel runs on n2 in Slurm job 124.");
	assert_int_equal(sj_text_idle_previous(b, sizeof(b), 1800, "n1", "9"),
			 0);
	assert_string_equal(b, "The previous kernel was shut down after 30 "
			    "minutes idle and its allocation released; this "
			    "kernel runs on n1 in Slurm job 9.");
	assert_int_equal(sj_text_idle_previous(b, sizeof(b), 60, "n1", "9"),
			 0);
	assert_non_null(strstr(b, "after 1 minute idle"));
	assert_int_equal(sj_text_idle_previous(b, 20, 60, "n1", "9"), -1);
	assert_string_equal(b, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_quiet_kernel),
		cmocka_unit_test(test_request_restarts),
		cmocka_unit_test(test_busy_cell_kept),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
