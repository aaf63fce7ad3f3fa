// SPDX-License-Identifier: GPL-2.0-or-later
/* The shim's command line (shim/args.c): what Jupyter's kernel.json argv
 * turns into. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "args.h"
#include "testutil.h"

#define ARGV(...) ((char *[]){ "slurm-jupyter-shim", __VA_ARGS__, NULL })
static int parse(char **argv, struct shim_args *a, struct sj_err *err)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return shim_args_parse(argc, argv, a, err);
}

static void test_login_side(void **state)
{
	char **v = ARGV("--partition=debug", "-w", "n2", "--jobid=12",
			"--linger=0", "--share", "--kernel-node=n2",
			"--node-shim=/opt/sj/bin/slurm-jupyter-shim",
			"--setup=module load x", "--srun-arg=--mem=1G",
			"--kernel-transport=tcp", "-f", "/tmp/k.json", "--",
			"python3", "-m", "ipykernel_launcher", "-f",
			"/tmp/k.json");
	struct shim_args a;
	struct sj_err err = { "" };

	(void)state;
	assert_int_equal(parse(v, &a, &err), 0);
	assert_int_equal(a.mode, SHIM_LOGIN);
	assert_string_equal(a.connection_file, "/tmp/k.json");
	/* Unknown options go to salloc, in order, values kept apart. */
	assert_int_equal(a.slurm_argc, 3);
	assert_string_equal(a.slurm_argv[0], "--partition=debug");
	assert_string_equal(a.slurm_argv[1], "-w");
	assert_string_equal(a.slurm_argv[2], "n2");
	assert_string_equal(a.jobid, "12");
	assert_int_equal(a.linger, 0);
	assert_int_equal(a.share, 1);
	assert_string_equal(a.kernel_node, "n2");
	assert_string_equal(a.node_shim, "/opt/sj/bin/slurm-jupyter-shim");
	assert_string_equal(a.setup, "module load x");
	assert_int_equal(a.srun_argc, 1);
	assert_string_equal(a.srun_argv[0], "--mem=1G");
	assert_string_equal(a.kernel_transport, "tcp");
	assert_int_equal(a.kernel_argc, 5);
	assert_string_equal(a.kernel_argv[0], "python3");
	assert_null(a.kernel_argv[5]);
	shim_args_free(&a);
}

static void test_defaults(void **state)
{
	char **v = ARGV("-f", "c.json", "--", "k");
	struct shim_args a;
	struct sj_err err = { "" };

	(void)state;
	assert_int_equal(parse(v, &a, &err), 0);
	assert_int_equal(a.linger, SJ_DEFAULT_LINGER);
	/* Warned 10 minutes and 1 minute before the end. */
	assert_int_equal(a.warn.n, 2);
	assert_int_equal(a.warn.before[0], 600);
	assert_int_equal(a.warn.before[1], 60);
	/* Idle kernels are kept unless asked (--idle-timeout). */
	assert_int_equal(a.idle_timeout, 0);
	assert_int_equal(a.share, 0);
	assert_string_equal(a.kernel_transport, "default");
	assert_null(a.jobid);
	assert_null(a.node_shim);
	assert_int_equal(a.slurm_argc, 0);
	shim_args_free(&a);
}

static void test_node_side(void **state)
{
	char **v = ARGV("--node", "--", "python3", "-f", "{connection_file}");
	struct shim_args a;
	struct sj_err err = { "" };

	(void)state;
	assert_int_equal(parse(v, &a, &err), 0);
	assert_int_equal(a.mode, SHIM_NODE);
	assert_int_equal(a.kernel_argc, 3);
	assert_string_equal(a.kernel_argv[2], "{connection_file}");
	shim_args_free(&a);
}

#define REFUSED(want, ...) do {						\
	struct shim_args a_;						\
	struct sj_err e_ = { "" };					\
	assert_int_equal(parse(ARGV(__VA_ARGS__), &a_, &e_), -1);	\
	if (strstr(e_.msg, (want)) == NULL)				\
		fail_msg("\"%s\" does not contain \"%s\"", e_.msg, (want));\
	shim_args_free(&a_);						\
} while (0)

static void test_refused(void **state)
{
	(void)state;
	REFUSED("missing -f CONNECTION_FILE", "--", "k");
	REFUSED("-f needs the connection file", "-f");
	REFUSED("missing \"-- KERNEL ARGV...\"", "-f", "c.json");
	REFUSED("missing \"-- KERNEL ARGV...\"", "-f", "c.json", "--");
	REFUSED("--jobid=abc: not a job id", "--jobid=abc", "-f", "c", "--",
		"k");
	REFUSED("--jobid=0: not a job id", "--jobid=0", "-f", "c", "--", "k");
	REFUSED("--linger=-1: seconds, 0 to 86400", "--linger=-1", "-f", "c",
		"--", "k");
	REFUSED("--linger=86401", "--linger=86401", "-f", "c", "--", "k");
	REFUSED("--linger=1m", "--linger=1m", "-f", "c", "--", "k");
	REFUSED("--warn-before=10: each duration needs a unit (s, m or h)",
		"--warn-before=10", "-f", "c", "--", "k");
	REFUSED("--warn-before=10m,: durations like 10m,1m",
		"--warn-before=10m,", "-f", "c", "--", "k");
	REFUSED("--idle-timeout=20: the duration needs a unit (s, m or h)",
		"--idle-timeout=20", "-f", "c", "--", "k");
	REFUSED("--idle-timeout=20s,1m: one duration, like 30m",
		"--idle-timeout=20s,1m", "-f", "c", "--", "k");
	REFUSED("--kernel-transport=udp: ipc or tcp", "--kernel-transport=udp",
		"-f", "c", "--", "k");
	REFUSED("--setup: empty command", "--setup=", "-f", "c", "--", "k");
	REFUSED("--kernel-node=n1,n2: one node name", "--kernel-node=n1,n2",
		"-f", "c", "--", "k");
	REFUSED("--node-shim=bin/shim: an absolute path",
		"--node-shim=bin/shim", "-f", "c", "--", "k");
	REFUSED("--node must come first", "-f", "c", "--node", "--", "k");
	REFUSED("expected \"--node -- KERNEL ARGV...\"", "--node", "k");
}

/* argv parsed with the site file c: the idle timeout, the first warning
 * (0: none), the number of warnings and the linger the shim then has. */
static void check_site(char **argv, const struct sj_shimconf *c,
		       unsigned idle, unsigned warn0, int nwarn,
		       unsigned linger)
{
	struct shim_args a;
	struct sj_err err = { "" };

	assert_int_equal(parse(argv, &a, &err), 0);
	shim_args_site(&a, c);
	assert_int_equal(a.idle_timeout, idle);
	assert_int_equal(a.warn.n, nwarn);
	assert_int_equal(nwarn > 0 ? a.warn.before[0] : 0, warn0);
	assert_int_equal(a.linger, linger);
	shim_args_free(&a);
}

/* The kernelspec's option wins over the site's file, the file over the
 * built-in default. */
static void test_site_defaults(void **state)
{
	static const char site[] = "idle_timeout=20s\nwarn_before=5m\n"
				   "linger=1m\n";
	char **bare = ARGV("-f", "c.json", "--", "k");
	char **own = ARGV("--idle-timeout=0", "--warn-before=2m,1m",
			  "--linger=3", "-f", "c.json", "--", "k");
	struct sj_shimconf c, none;
	struct sj_err err = { "" };

	(void)state;
	assert_int_equal(sj_shimconf_parse(site, sizeof(site) - 1, "s", &c,
					   &err), 0);
	check_site(bare, &c, 20, 300, 1, 60);
	check_site(own, &c, 0, 120, 2, 3);
	/* A file that sets nothing changes nothing. */
	assert_int_equal(sj_shimconf_parse("# all off\n", 10, "s", &none,
					   &err), 0);
	check_site(bare, &none, 0, 600, 2, SJ_DEFAULT_LINGER);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_login_side),
	cmocka_unit_test(test_defaults),
	cmocka_unit_test(test_node_side),
	cmocka_unit_test(test_refused),
	cmocka_unit_test(test_site_defaults))
