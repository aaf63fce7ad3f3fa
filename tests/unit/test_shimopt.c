// SPDX-License-Identifier: GPL-2.0-or-later
/* One grammar for the shim's options (common/slurm/shimopt.c): the shim
 * (shim/args.c) and jupyter slurm's reader of kernelspecs
 * (kernelspec-generator/split.c) take every one of them, in both spellings,
 * and give nothing of them to salloc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "args.h"
#include "shimopt.h"
#include "split.h"
#include "testutil.h"

/* A valid value for each option, as the shim checks them. */
static const char *value_for(enum sj_shimopt o)
{
	switch (o) {
	case SJ_SHIMOPT_LINGER:
		return "7";
	case SJ_SHIMOPT_KERNEL_TRANSPORT:
		return "tcp";
	case SJ_SHIMOPT_NODE_SHIM:
		return "/opt/sj/bin/slurm-jupyter-shim";
	case SJ_SHIMOPT_JOBID:
		return "42";
	case SJ_SHIMOPT_WARN_BEFORE:
		return "5m,30s";
	case SJ_SHIMOPT_IDLE_TIMEOUT:
		return "20s";
	default:
		return "v1";
	}
}

/* argv: shim, [OPTION], -p, debug, -f, {connection_file}, --, k */
static int build(enum sj_shimopt o, int joined, char *buf, size_t len,
		 char **argv)
{
	int n = 0;

	argv[n++] = "/s";
	if (!sj_shimopt_has_value(o)) {
		argv[n++] = (char *)sj_shimopt_name(o);
	} else if (joined) {
		snprintf(buf, len, "%s=%s", sj_shimopt_name(o), value_for(o));
		argv[n++] = buf;
	} else {
		argv[n++] = (char *)sj_shimopt_name(o);
		argv[n++] = (char *)value_for(o);
	}
	argv[n++] = "-p";
	argv[n++] = "debug";
	argv[n++] = "-f";
	argv[n++] = "{connection_file}";
	argv[n++] = "--";
	argv[n++] = "k";
	argv[n] = NULL;
	return n;
}

static void shim_takes(enum sj_shimopt o, int argc, char **argv)
{
	struct shim_args a;
	struct sj_err err = { "" };

	if (shim_args_parse(argc, argv, &a, &err) != 0)
		fail_msg("shim: %s: %s", argv[1], err.msg);
	assert_int_equal(a.slurm_argc, 2);
	assert_string_equal(a.slurm_argv[0], "-p");
	assert_string_equal(a.slurm_argv[1], "debug");
	if (o == SJ_SHIMOPT_NODE_SHIM)
		assert_string_equal(a.node_shim, value_for(o));
	if (o == SJ_SHIMOPT_WARN_BEFORE) {
		assert_int_equal(a.warn.n, 2);
		assert_int_equal(a.warn.before[0], 300);
		assert_int_equal(a.warn.before[1], 30);
	}
	if (o == SJ_SHIMOPT_IDLE_TIMEOUT)
		assert_int_equal(a.idle_timeout, 20);
	shim_args_free(&a);
}

static void split_takes(enum sj_shimopt o, int argc, char **argv)
{
	json_t *j = json_array();
	struct sj_err err = { "" };
	struct gen_split s;

	for (int i = 0; i < argc; i++)
		json_array_append_new(j, json_string(argv[i]));
	if (gen_split_argv(j, &s, &err) != 0)
		fail_msg("split: %s: %s", argv[1], err.msg);
	assert_int_equal(s.salloc.n, 2);
	assert_string_equal(s.salloc.v[0], "-p");
	assert_string_equal(s.salloc.v[1], "debug");
	if (o == SJ_SHIMOPT_NODE_SHIM)
		assert_string_equal(s.node_shim, value_for(o));
	if (o == SJ_SHIMOPT_WARN_BEFORE)
		assert_string_equal(s.warn_before, value_for(o));
	if (o == SJ_SHIMOPT_IDLE_TIMEOUT)
		assert_string_equal(s.idle_timeout, value_for(o));
	gen_split_free(&s);
	json_decref(j);
}

static void test_every_option_both_ways(void **state)
{
	char buf[128], *argv[16];

	(void)state;
	for (int o = 0; o < SJ_SHIMOPT_COUNT; o++) {
		for (int joined = 0; joined < 2; joined++) {
			int argc = build((enum sj_shimopt)o, joined, buf,
					 sizeof(buf), argv);

			shim_takes((enum sj_shimopt)o, argc, argv);
			split_takes((enum sj_shimopt)o, argc, argv);
		}
	}
}

static void test_match(void **state)
{
	const char *argv[] = { "--linger", "5", "--linger", "--lingerx=1",
			       "--share=1", "--node", "--share" };
	const char *v;
	int i = 0;

	(void)state;
	assert_int_equal(sj_shimopt_match(7, argv, &i, &v), SJ_SHIMOPT_LINGER);
	assert_int_equal(i, 1);
	assert_string_equal(v, "5");
	/* Only a prefix, a flag with a value, a valued option without one:
	 * salloc's. */
	i = 3;
	assert_int_equal(sj_shimopt_match(7, argv, &i, &v), SJ_SHIMOPT_NONE);
	i = 4;
	assert_int_equal(sj_shimopt_match(7, argv, &i, &v), SJ_SHIMOPT_NONE);
	i = 5;
	assert_int_equal(sj_shimopt_match(7, argv, &i, &v), SJ_SHIMOPT_NONE);
	i = 2;
	assert_int_equal(sj_shimopt_match(3, argv, &i, &v), SJ_SHIMOPT_NONE);
	assert_int_equal(i, 2);
	i = 6;
	assert_int_equal(sj_shimopt_match(7, argv, &i, &v), SJ_SHIMOPT_SHARE);
	assert_null(v);
	assert_null(sj_shimopt_name(SJ_SHIMOPT_COUNT));
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_every_option_both_ways),
	cmocka_unit_test(test_match))
