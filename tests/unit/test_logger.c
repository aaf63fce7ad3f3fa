// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "logger.h"
#include "logtext.h"
#include "testutil.h"

static char got[2048];
static enum sj_log_level got_level;
static int lines;

static void keep(enum sj_log_level level, const char *line)
{
	snprintf(got, sizeof(got), "%s", line);
	got_level = level;
	lines++;
}

/* What each program's lines look like, by level; "" for none. */
static void test_lines(void **state)
{
	static const struct {
		const char *name, *prefix;
		enum sj_log_level level;
		int debug;
		const char *want;
	} cases[] = {
		{ "shim error", SJ_SHIM_LOG_PREFIX, SJ_LOG_ERROR, 0,
		  "slurm-jupyter-shim: lost 3" },
		{ "shim info", SJ_SHIM_LOG_PREFIX, SJ_LOG_INFO, 0,
		  "slurm-jupyter-shim: lost 3" },
		{ "shim debug, quiet", SJ_SHIM_LOG_PREFIX, SJ_LOG_DEBUG, 0,
		  "" },
		{ "shim debug, verbose", SJ_SHIM_LOG_PREFIX, SJ_LOG_DEBUG, 1,
		  "slurm-jupyter-shim: lost 3" },
		{ "generator warning", SJ_GEN_LOG_PREFIX, SJ_LOG_WARNING, 0,
		  "jupyter-slurm: warning: lost 3" },
		{ "plugin error", SJ_PLUGIN_LOG_PREFIX, SJ_LOG_ERROR, 1,
		  "spank_jupyter: lost 3" },
		{ "no prefix yet", NULL, SJ_LOG_ERROR, 0, "lost 3" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sj_log_init(cases[i].prefix, keep);
		sj_log_set_debug(cases[i].debug);
		got[0] = '\0';
		lines = 0;
		sj_log(cases[i].level, "lost %d", 3);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: \"%s\", expected \"%s\"", cases[i].name,
				 got, cases[i].want);
		if (lines != (cases[i].want[0] != '\0'))
			fail_msg("%s: %d lines", cases[i].name, lines);
		if (lines && got_level != cases[i].level)
			fail_msg("%s: level %d", cases[i].name,
				 (int)got_level);
	}
	assert_string_equal(sj_log_prefix(), "");
}

/* A message longer than a line is cut, with the prefix still first. */
static void test_long(void **state)
{
	char big[3000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sj_log_init(SJ_SHIM_LOG_PREFIX, keep);
	sj_log(SJ_LOG_ERROR, "%s", big);
	assert_int_equal(strncmp(got, SJ_SHIM_LOG_PREFIX,
				 strlen(SJ_SHIM_LOG_PREFIX)), 0);
	assert_int_equal(strlen(got), strlen(SJ_SHIM_LOG_PREFIX) + 1023);
	assert_string_equal(sj_log_prefix(), SJ_SHIM_LOG_PREFIX);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_lines),
	cmocka_unit_test(test_long))
