// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "slurmver.h"
#include "testutil.h"

typedef int (*parse_fn)(const char *, struct sj_slurm_version *);

static void check_ok(parse_fn f, const char *s, unsigned major,
		     unsigned minor, unsigned micro)
{
	struct sj_slurm_version v = { 1, 2, 3 };

	if (f(s, &v) != 0)
		fail_msg("\"%s\" rejected", s);
	assert_int_equal(v.major, major);
	assert_int_equal(v.minor, minor);
	assert_int_equal(v.micro, micro);
}

static void check_bad(parse_fn f, const char *s)
{
	struct sj_slurm_version v = { 1, 2, 3 };

	if (f(s, &v) != -1)
		fail_msg("\"%s\" taken for %u.%u.%u", s, v.major, v.minor,
			 v.micro);
	/* A rejected string leaves the version alone. */
	assert_int_equal(v.major, 1);
	assert_int_equal(v.minor, 2);
	assert_int_equal(v.micro, 3);
}

static void test_parse(void **state)
{
	parse_fn f = sj_slurm_version_parse;

	(void)state;
	check_ok(f, "22.05.8", 22, 5, 8);
	check_ok(f, "22.05", 22, 5, 0);
	check_ok(f, "26.05.3-1", 26, 5, 3);
	check_ok(f, "25.11.0-0rc1", 25, 11, 0);
	check_ok(f, "9.1.17", 9, 1, 17);
	check_bad(f, "");
	check_bad(f, NULL);
	check_bad(f, "22");
	check_bad(f, "22.");
	check_bad(f, ".05");
	check_bad(f, "22.05.");
	check_bad(f, "22.05.8.1");
	check_bad(f, "22.05x");
	check_bad(f, "22.05.8-");
	check_bad(f, "v22.05.8");
	check_bad(f, " 22.05.8");
	check_bad(f, "22.05.8 ");
	check_bad(f, "slurm 22.05.8");
	check_bad(f, "-22.05");
	check_bad(f, "99999999999999999999.05");
	check_bad(f, "22.99999999999999999999");
}

/* What srun --version prints, as upstream and Debian build it. */
static void test_banner(void **state)
{
	parse_fn f = sj_slurm_version_banner;

	(void)state;
	check_ok(f, "slurm 22.05.8", 22, 5, 8);
	check_ok(f, "slurm 22.05.8\n", 22, 5, 8);
	check_ok(f, "slurm 26.05.3-1\n", 26, 5, 3);
	check_ok(f, "slurm-wlm 22.05.8\n", 22, 5, 8);
	check_ok(f, "slurm 25.11.7 \r\n", 25, 11, 7);
	check_bad(f, "");
	check_bad(f, NULL);
	check_bad(f, "22.05.8");
	check_bad(f, "slurm");
	check_bad(f, "slurm ");
	check_bad(f, "slurm22.05.8");
	check_bad(f, "slurm- 22.05.8");
	check_bad(f, "Slurm 22.05.8");
	check_bad(f, "slurm 22.05.8 extra");
	check_bad(f, "slurm 22.05.8\nslurm 26.05.3");
	check_bad(f, "slurm garbage");
	check_bad(f, "srun: fatal: Could not establish a configuration source");
	check_bad(f, "srun: error: s_p_parse_file: cannot stat file "
		  "/etc/slurm/slurm.conf: No such file or directory");
	check_bad(f, "\x01\xff\xfe");
}

static void test_built_for(void **state)
{
	parse_fn f = sj_slurm_version_built_for;

	(void)state;
	check_ok(f, "slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8)",
		 22, 5, 8);
	check_ok(f, "slurm-jupyter-shim 0.1.0 (built for Slurm 26.05.3)\n",
		 26, 5, 3);
	check_bad(f, "slurm-jupyter-shim 0.1.0");
	check_bad(f, "slurm-jupyter-shim 0.1.0 (built for Slurm )");
	check_bad(f, "slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8");
	check_bad(f, "slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8) x");
	check_bad(f, "slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8-)");
	check_bad(f, NULL);
}

static void test_same_release(void **state)
{
	struct sj_slurm_version a = { 22, 5, 8 }, b = { 22, 5, 2 },
				c = { 22, 11, 8 }, d = { 23, 5, 8 };
	char buf[16];

	(void)state;
	assert_true(sj_slurm_same_release(&a, &b));
	assert_false(sj_slurm_same_release(&a, &c));
	assert_false(sj_slurm_same_release(&a, &d));
	sj_slurm_release_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "22.05");
	sj_slurm_release_str(&c, buf, sizeof(buf));
	assert_string_equal(buf, "22.11");
}

/* The line a user sees names both releases, where the other came from,
 * and what to do. */
static void test_check(void **state)
{
	struct sj_slurm_version same = { 22, 5, 2 }, other = { 26, 5, 3 };
	struct sj_err err = { "" };

	(void)state;
	assert_ok(sj_slurm_release_check("this shim", "22.05.8", &same,
					 "/usr/bin/srun", &err), err);
	assert_fails(sj_slurm_release_check("this shim", "22.05.8", &other,
					    "/opt/slurm/bin/srun", &err),
		     err, "this shim was built for Slurm 22.05 but this is "
		     "Slurm 26.05 (/opt/slurm/bin/srun): reinstall "
		     "spank-jupyter built against Slurm 26.05");
	assert_fails(sj_slurm_release_check("this shim", "22.05.8", NULL,
					    "/opt/slurm/bin/srun --version "
					    "said \"srun: fatal: x\"", &err),
		     err, "this shim was built for Slurm 22.05 but cannot "
		     "tell which Slurm this is (/opt/slurm/bin/srun --version "
		     "said \"srun: fatal: x\")");
	assert_fails(sj_slurm_release_check("this shim", "", &same,
					    "/usr/bin/srun", &err),
		     err, "built for an unknown Slurm");
	assert_fails(sj_slurm_release_check("this shim", NULL, &same,
					    "/usr/bin/srun", &err),
		     err, "built for an unknown Slurm");
}

/* Which srun a PATH names, as execvp would pick it. */
static void test_command_path(void **state)
{
	struct tmp *t = *state;
	char a[600], b[600], path[1400], out[700];

	snprintf(a, sizeof(a), "%s/a", t->dir);
	snprintf(b, sizeof(b), "%s/b", t->dir);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(mkdir(b, 0700), 0);
	write_raw(at(t, "a/srun"), "#!/bin/sh\n", 10);	/* not executable */
	write_raw(at(t, "b/srun"), "#!/bin/sh\n", 10);
	assert_int_equal(chmod(at(t, "b/srun"), 0700), 0);
	snprintf(path, sizeof(path), "%s/none:%s:%s", t->dir, a, b);
	assert_int_equal(sj_command_path("srun", path, out, sizeof(out)), 0);
	assert_string_equal(out, at(t, "b/srun"));
	snprintf(path, sizeof(path), "%s:%s", a, t->dir);
	assert_int_equal(sj_command_path("srun", path, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	/* Too long for out: not found rather than cut. */
	snprintf(path, sizeof(path), "%s", b);
	assert_int_equal(sj_command_path("srun", path, out, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_banner),
		cmocka_unit_test(test_built_for),
		cmocka_unit_test(test_same_release),
		cmocka_unit_test(test_check),
		cmocka_unit_test_setup_teardown(test_command_path,
						tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
