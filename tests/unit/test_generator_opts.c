// SPDX-License-Identifier: GPL-2.0-or-later
/* The command line of jupyter slurm add: parsing and the checks that need
 * no Slurm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "opts.h"
#include "testutil.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parses and checks; fails the test on any error. */
static void parse_ok(int argc, char **argv, struct gen_opts *o)
{
	struct sj_err err = { "" };

	if (gen_opts_parse(argc, argv, o, &err) != 0)
		fail_msg("parse failed: %s", err.msg);
	if (gen_opts_check(o, &err) != 0)
		fail_msg("check failed: %s", err.msg);
}

/* Expects the parse or the check to fail with needle in the message. */
static void refused(int argc, char **argv, const char *needle)
{
	struct sj_err err = { "" };
	struct gen_opts o;
	int rv = gen_opts_parse(argc, argv, &o, &err);

	if (rv == 0 && !o.help)
		rv = gen_opts_check(&o, &err);
	gen_opts_free(&o);
	if (rv != -1)
		fail_msg("accepted; expected an error with \"%s\"", needle);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
}

#define REFUSED(needle, ...) do { \
	char *argv_[] = { "add", __VA_ARGS__ }; \
	refused(ARGC(argv_), argv_, needle); \
} while (0)

#define OPT(member, value) FIELD(struct gen_opts, member, value)

/* Long forms, Slurm's short ones: what each command line sets. */
static void test_option_forms(void **state)
{
	static char *longs[] = {
		"add", "python3", "--partition=debug", "--time", "1:30:00",
		"--nodes=2", "--account", "proj", "--gpus=a100:2",
		"--gres=gpu:1", "--reservation=r", "--qos=high",
		"--constraint=intel", "--mem=16G", "--cpus-per-task=4",
		"--name=my-kernel", "--display-name=Mine", "--force",
		"--no-check", NULL };
	static const struct field_want long_want[] = {
		OPT(kernel, "python3"), OPT(partition, "debug"),
		OPT(time, "1:30:00"), OPT(nodes, "2"), OPT(account, "proj"),
		OPT(gpus, "a100:2"), OPT(gres, "gpu:1"),
		OPT(reservation, "r"), OPT(qos, "high"),
		OPT(constraint, "intel"), OPT(mem, "16G"),
		OPT(cpus_per_task, "4"), OPT(name, "my-kernel"),
		OPT(display_name, "Mine"),
	};
	static char *shorts[] = {
		"add", "-p", "debug", "-t60", "-N", "3", "-Aproj", "-G", "1",
		"-q", "low", "-C", "amd", "-c", "8", "python3", NULL };
	static const struct field_want short_want[] = {
		OPT(kernel, "python3"), OPT(partition, "debug"),
		OPT(time, "60"), OPT(nodes, "3"), OPT(account, "proj"),
		OPT(gpus, "1"), OPT(qos, "low"), OPT(constraint, "amd"),
		OPT(cpus_per_task, "8"), OPT(gres, NULL), OPT(mem, NULL),
	};
	static const struct {
		const char *name;
		char **argv;
		const struct field_want *want;
		size_t nwant;
		int flags;	/* force and no_check */
	} cases[] = {
		{ "long forms", longs, long_want, ARGC(long_want), 1 },
		{ "short forms", shorts, short_want, ARGC(short_want), 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARGC(cases); i++) {
		struct gen_opts o;
		int argc = 0;

		while (cases[i].argv[argc] != NULL)
			argc++;
		parse_ok(argc, cases[i].argv, &o);
		assert_fields(cases[i].name, &o, cases[i].want,
			      cases[i].nwant);
		if (o.force != cases[i].flags || o.no_check != cases[i].flags ||
		    o.help)
			fail_msg("%s: force %d, no_check %d, help %d",
				 cases[i].name, o.force, o.no_check, o.help);
		gen_opts_free(&o);
	}
}

static void test_aliases_and_lists(void **state)
{
	char *argv[] = { "add", "ir", "--project=p1", "--jobid=42",
			 "--node", "n2", "--setup", "module load R",
			 "--srun-arg=--mem=1G", "--srun-arg", "-v",
			 "--env=A=1", "--env", "B=two words",
			 "--rendezvous-host=10.0.0.1", "--shim-verbose",
			 "--kernel-transport", "tcp",
			 "--shim=/opt/shim" };
	char *argv2[] = { "add", "python3", "--salloc-arg=-w",
			  "--salloc-arg", "n1", "--salloc-arg=--exclusive" };
	struct gen_opts o;

	(void)state;
	/* --jobid refuses --project (an account); parse only. */
	struct sj_err err = { "" };
	static const struct field_want want[] = {
		OPT(account, "p1"), OPT(jobid, "42"), OPT(kernel_node, "n2"),
		OPT(setup, "module load R"),
		OPT(rendezvous_host, "10.0.0.1"),
		OPT(kernel_transport, "tcp"), OPT(shim, "/opt/shim"),
	};

	assert_int_equal(gen_opts_parse(ARGC(argv), argv, &o, &err), 0);
	ASSERT_FIELDS("aliases", &o, want);
	assert_int_equal(o.srun_args.n, 2);
	assert_string_equal(o.srun_args.v[0], "--mem=1G");
	assert_string_equal(o.srun_args.v[1], "-v");
	assert_int_equal(o.env.n, 2);
	assert_string_equal(o.env.v[1], "B=two words");
	assert_true(o.shim_verbose);
	gen_opts_free(&o);

	parse_ok(ARGC(argv2), argv2, &o);
	assert_int_equal(o.salloc_args.n, 3);
	assert_string_equal(o.salloc_args.v[0], "-w");
	assert_string_equal(o.salloc_args.v[1], "n1");
	assert_string_equal(o.salloc_args.v[2], "--exclusive");
	gen_opts_free(&o);
}

static void test_help_stops_parsing(void **state)
{
	char *argv[] = { "add", "--help", "--bogus" };
	char *argv2[] = { "add", "-h" };
	struct sj_err err = { "" };
	struct gen_opts o;

	(void)state;
	assert_int_equal(gen_opts_parse(ARGC(argv), argv, &o, &err), 0);
	assert_true(o.help);
	gen_opts_free(&o);
	assert_int_equal(gen_opts_parse(ARGC(argv2), argv2, &o, &err), 0);
	assert_true(o.help);
	gen_opts_free(&o);
}

static void test_double_dash(void **state)
{
	char *argv[] = { "add", "--partition=debug", "--", "-odd-name" };
	struct sj_err err = { "" };
	struct gen_opts o;

	(void)state;
	assert_int_equal(gen_opts_parse(ARGC(argv), argv, &o, &err), 0);
	assert_string_equal(o.kernel, "-odd-name");
	gen_opts_free(&o);
}

static void test_command_line_errors(void **state)
{
	(void)state;
	REFUSED("missing KERNEL", "--partition=debug");
	REFUSED("unknown option --frobnicate", "python3", "--frobnicate");
	REFUSED("unknown option -x", "python3", "-x");
	REFUSED("unexpected argument \"ir\"", "python3", "ir");
	REFUSED("--partition needs a value", "python3", "--partition");
	REFUSED("--partition needs a value", "python3", "--partition",
		"--time=5");
	REFUSED("-p needs a value", "python3", "-p");
	REFUSED("--force takes no value", "python3", "--force=yes");
	REFUSED("-h takes no value", "python3", "-hx");
	REFUSED("--time given twice", "python3", "--time=5", "-t", "6");
	REFUSED("--account given twice", "python3", "--account=a",
		"--project=b");
	REFUSED("--kernel-node given twice", "python3", "--kernel-node=n1",
		"--node=n2");
}

static void test_numbers_are_numbers(void **state)
{
	(void)state;
	REFUSED("--nodes=two: not a node count (allowed: a number N >= 1, "
		"or a range MIN-MAX)", "python3", "--nodes=two");
	REFUSED("--nodes=0: not a node count", "python3", "--nodes=0");
	REFUSED("--nodes=-1: not a node count", "python3", "--nodes=-1");
	REFUSED("--nodes=3-2: not a node count", "python3", "--nodes=3-2");
	REFUSED("--nodes=1-: not a node count", "python3", "--nodes=1-");
	REFUSED("--nodes=1.5: not a node count", "python3", "--nodes=1.5");
	REFUSED("--cpus-per-task=x: not a number (allowed: a whole number "
		">= 1)", "python3", "--cpus-per-task=x");
	REFUSED("--cpus-per-task=0", "python3", "-c", "0");
	REFUSED("--gpus=lots: not a GPU count (allowed: N or TYPE:N",
		"python3", "--gpus=lots");
	REFUSED("--gpus=a100:: not a GPU count", "python3", "--gpus=a100:");
	REFUSED("--gpus=:2: not a GPU count", "python3", "--gpus=:2");
	REFUSED("--mem=lots: not a memory size (allowed: a number with an "
		"optional unit K, M, G or T", "python3", "--mem=lots");
	REFUSED("--mem=4GB", "python3", "--mem=4GB");
	REFUSED("--jobid=abc: not a job id", "python3", "--jobid=abc");
	REFUSED("--jobid=0: not a job id", "python3", "--jobid=0");
	REFUSED("--time=1h: not a Slurm time limit (allowed: M, M:S, H:M:S, "
		"D-H, D-H:M or D-H:M:S", "python3", "--time=1h");
	REFUSED("--time=0: at least one minute", "python3", "--time=0");
	REFUSED("--time=0:0:0: at least one minute", "python3",
		"--time=0:0:0");
}

static void test_numbers_accepted(void **state)
{
	char *argv[] = { "add", "python3", "--nodes=2-4", "--gpus=2",
			 "--mem=0", "--mem=16g" };
	char *argv2[] = { "add", "python3", "--nodes=1", "--gpus=v100_32g:1",
			  "--mem=4000", "--time=2-00:00:00" };
	struct sj_err err = { "" };
	struct gen_opts o;

	(void)state;
	/* --mem twice is refused; the first values are what is checked. */
	assert_int_equal(gen_opts_parse(ARGC(argv), argv, &o, &err), -1);
	assert_non_null(strstr(err.msg, "--mem given twice"));
	gen_opts_free(&o);
	parse_ok(ARGC(argv2), argv2, &o);
	gen_opts_free(&o);
}

static void test_names_and_values(void **state)
{
	char *warn[] = { "add", "python3", "--warn-before=15m,2m,30s" };
	char *off[] = { "add", "python3", "--warn-before=0" };
	char *idle[] = { "add", "python3", "--idle-timeout=30m" };
	struct gen_opts o;

	(void)state;
	/* The shim's grammar (news.h), checked when the spec is made. */
	parse_ok(ARGC(warn), warn, &o);
	assert_string_equal(o.warn_before, "15m,2m,30s");
	gen_opts_free(&o);
	parse_ok(ARGC(off), off, &o);
	gen_opts_free(&o);
	parse_ok(ARGC(idle), idle, &o);
	assert_string_equal(o.idle_timeout, "30m");
	gen_opts_free(&o);
	REFUSED("--warn-before=1x: each duration needs a unit", "python3",
		"--warn-before=1x");
	REFUSED("--warn-before=8d: each duration needs a unit", "python3",
		"--warn-before=8d");
	REFUSED("--warn-before=200h: each duration from 1s to 7 days",
		"python3", "--warn-before=200h");
	REFUSED("--idle-timeout=30: the duration needs a unit (s, m or h)",
		"python3", "--idle-timeout=30");
	REFUSED("--idle-timeout=8d: the duration needs a unit", "python3",
		"--idle-timeout=8d");
	REFUSED("--name=Big: not a kernelspec name (allowed: up to 200 "
		"lowercase letters, digits, '.', '_' and '-'", "python3",
		"--name=Big");
	REFUSED("--name=.hidden: not a kernelspec name", "python3",
		"--name=.hidden");
	REFUSED("--name=a/b: not a kernelspec name", "python3", "--name=a/b");
	REFUSED("--name=: not a kernelspec name", "python3", "--name=");
	REFUSED("--display-name: empty value", "python3", "--display-name=");
	REFUSED("--partition: empty value", "python3", "--partition=");
	REFUSED("--setup: empty value", "python3", "--setup=");
	REFUSED("--account: control character", "python3", "--account=a\nb");
	REFUSED("--srun-arg: empty argument", "python3", "--srun-arg=");
	REFUSED("--kernel-node=n1,n2: not a node name", "python3",
		"--kernel-node=n1,n2");
	REFUSED("--env=1X=y: expected NAME=VALUE", "python3", "--env=1X=y");
	REFUSED("--env=NOVALUE: expected NAME=VALUE", "python3",
		"--env=NOVALUE");
	REFUSED("--env=A-B=1: expected NAME=VALUE", "python3", "--env=A-B=1");
	REFUSED("--env: A given twice", "python3", "--env=A=1", "--env=A=2");
	REFUSED("--kernel-transport=udp: not a transport (allowed: ipc, tcp)",
		"python3", "--kernel-transport=udp");
}

static void test_names_ok(void **state)
{
	struct sj_err err = { "" };

	(void)state;
	assert_int_equal(gen_name_check("slurm-python3-debug", &err), 0);
	assert_int_equal(gen_name_check("a.b_c-1", &err), 0);
	assert_int_equal(gen_name_check("x", &err), 0);
}

static void test_salloc_args_the_shim_would_take(void **state)
{
	(void)state;
	REFUSED("--salloc-arg=--jobid=5: not allowed (the shim reads "
		"--jobid itself)", "python3", "--salloc-arg=--jobid=5");
	REFUSED("the shim reads --setup itself", "python3",
		"--salloc-arg=--setup");
	REFUSED("the shim reads --linger itself", "python3",
		"--salloc-arg=--linger=0");
	REFUSED("the shim reads --share itself", "python3",
		"--salloc-arg=--share");
	REFUSED("the shim reads --kernel-transport itself", "python3",
		"--salloc-arg=--kernel-transport=tcp");
	REFUSED("the shim reads --node-shim itself", "python3",
		"--salloc-arg=--node-shim=/opt/sj/bin/slurm-jupyter-shim");
	REFUSED("the shim reads --node itself", "python3",
		"--salloc-arg=--node");
	REFUSED("--salloc-arg=-f: not allowed", "python3", "--salloc-arg=-f");
	REFUSED("--salloc-arg=--: not allowed", "python3", "--salloc-arg=--");
	REFUSED("the shim names the job itself", "python3",
		"--salloc-arg=--job-name=x");
	REFUSED("the shim names the job itself", "python3",
		"--salloc-arg=-Jx");
	REFUSED("--salloc-arg: empty argument", "python3", "--salloc-arg=");
}

static void test_jobid_excludes_allocation_options(void **state)
{
	char *argv[] = { "add", "python3", "--jobid=7", "--kernel-node=n2",
			 "--setup=true", "--srun-arg=-v" };
	struct gen_opts o;

	(void)state;
	REFUSED("--partition does not apply with --jobid (the kernel runs in "
		"allocation 7", "python3", "--jobid=7", "-p", "debug");
	REFUSED("--time does not apply with --jobid", "python3", "--jobid=7",
		"--time=5");
	REFUSED("--account does not apply with --jobid", "python3",
		"--jobid=7", "--project=x");
	REFUSED("--salloc-arg does not apply with --jobid", "python3",
		"--jobid=7", "--salloc-arg=-v");
	parse_ok(ARGC(argv), argv, &o);
	gen_opts_free(&o);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_option_forms),
	cmocka_unit_test(test_aliases_and_lists),
	cmocka_unit_test(test_help_stops_parsing),
	cmocka_unit_test(test_double_dash),
	cmocka_unit_test(test_command_line_errors),
	cmocka_unit_test(test_numbers_are_numbers),
	cmocka_unit_test(test_numbers_accepted),
	cmocka_unit_test(test_names_and_values),
	cmocka_unit_test(test_names_ok),
	cmocka_unit_test(test_salloc_args_the_shim_would_take),
	cmocka_unit_test(test_jobid_excludes_allocation_options))
