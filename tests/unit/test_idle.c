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
#include "testutil.h"

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

/* A step of a scenario: something happens at T0 + at, or (DUE) the
 * question whether the kernel is due, with the answer and the next time
 * to ask (T0 + next, or 0 for "not while things stay so"). */
enum step_kind { END, START, REQUEST, BUSY, IDLE, DUE };	/* END: unused */

struct step {
	enum step_kind kind;
	time_t at;
	long arg;		/* START: the timeout; DUE: the answer */
	time_t next;		/* DUE: the next time, 0 for none */
};

#define NO_NEXT ((time_t)-T0)	/* T0 + NO_NEXT == 0 */

static const struct {
	const char *name;
	struct step steps[8];
} scenarios[] = {
	/* --idle-timeout=0: never, and nothing to wake up for. */
	{ "off", { { START, 0, 0, 0 },
		   { DUE, 365 * 86400, 0, NO_NEXT } } },
	/* Nothing happens: the kernel's start counts, then the timeout. */
	{ "quiet kernel", { { START, 0, 20, 0 }, { DUE, 0, 0, 20 },
			    { DUE, 19, 0, 20 }, { DUE, 20, 1, 0 } } },
	/* Any request (kernel_info from a front end that reconnects,
	 * complete, inspect) starts the wait again. */
	{ "request restarts", { { START, 0, 20, 0 }, { REQUEST, 15, 0, 0 },
				{ DUE, 20, 0, 35 }, { DUE, 35, 1, 0 } } },
	/* A cell that runs longer than the timeout is not ended; the wait
	 * starts when the kernel says idle again. */
	{ "busy cell kept", { { START, 0, 20, 0 }, { REQUEST, 1, 0, 0 },
			      { BUSY, 1, 0, 0 }, { DUE, 100, 0, NO_NEXT },
			      { DUE, 10000, 0, NO_NEXT },
			      { IDLE, 10000, 0, 0 }, { DUE, 10019, 0, 10020 },
			      { DUE, 10020, 1, 0 } } },
	/* The wall clock stepped back (NTP): wait the whole timeout from
	 * now rather than end a kernel early or never. */
	{ "clock back", { { START, 0, 20, 0 }, { DUE, -3600, 0, -3600 + 20 },
			  { DUE, -3600 + 20, 1, 0 } } },
};

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct step *st = scenarios[i].steps;
		struct sj_idle c;

		for (size_t k = 0; k < 8 && st[k].kind != END; k++) {
			time_t now = T0 + st[k].at, next = 1;
			int due;

			switch (st[k].kind) {
			case END:
				break;
			case START:
				sj_idle_start(&c, (unsigned)st[k].arg, now);
				break;
			case REQUEST:
				sj_idle_request(&c, now);
				break;
			case BUSY:
			case IDLE:
				sj_idle_status(&c, st[k].kind == BUSY, now);
				break;
			case DUE:
				due = sj_idle_due(&c, now, &next);
				if (due != st[k].arg ||
				    (!due && next != T0 + st[k].next))
					fail_msg("%s, step %zu: due %d, next "
						 "T0%+lld", scenarios[i].name,
						 k, due,
						 (long long)(next - T0));
				break;
			}
		}
	}
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

SJ_TEST_MAIN(
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_scenarios),
	cmocka_unit_test(test_text))
