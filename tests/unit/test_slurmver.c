// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "slurmver.h"
#include "testutil.h"

typedef int (*parse_fn)(const char *, struct sj_slurm_version *);

/* A string, and the version it is (ok) or that it is refused. */
struct parse_case {
	const char *s;
	int ok;
	unsigned major, minor, micro;
};

#define OK(s, a, b, c)	{ s, 1, a, b, c }
#define BAD(s)		{ s, 0, 0, 0, 0 }

/* Each case through f; a refused string leaves the version alone. */
static void check_cases(const char *fname, parse_fn f,
			const struct parse_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sj_slurm_version v = { 1, 2, 3 };
		struct sj_slurm_version want = { 1, 2, 3 };
		int rv = f(c[i].s, &v);

		if (c[i].ok)
			want = (struct sj_slurm_version){ c[i].major,
							  c[i].minor,
							  c[i].micro };
		if (rv != (c[i].ok ? 0 : -1) || v.major != want.major ||
		    v.minor != want.minor || v.micro != want.micro)
			fail_msg("%s(\"%s\"): %d, %u.%u.%u", fname,
				 c[i].s ? c[i].s : "(null)", rv, v.major,
				 v.minor, v.micro);
	}
}

#define CHECK(f, cases) \
	check_cases(#f, f, cases, sizeof(cases) / sizeof(cases[0]))

static void test_parse(void **state)
{
	static const struct parse_case cases[] = {
		OK("22.05.8", 22, 5, 8),
		OK("22.05", 22, 5, 0),
		OK("26.05.3-1", 26, 5, 3),
		OK("25.11.0-0rc1", 25, 11, 0),
		OK("9.1.17", 9, 1, 17),
		BAD(""), BAD(NULL), BAD("22"), BAD("22."), BAD(".05"),
		BAD("22.05."), BAD("22.05.8.1"), BAD("22.05x"),
		BAD("22.05.8-"), BAD("v22.05.8"), BAD(" 22.05.8"),
		BAD("22.05.8 "), BAD("slurm 22.05.8"), BAD("-22.05"),
		BAD("99999999999999999999.05"), BAD("22.99999999999999999999"),
	};

	(void)state;
	CHECK(sj_slurm_version_parse, cases);
}

/* What srun --version prints, as upstream and Debian build it. */
static void test_banner(void **state)
{
	static const struct parse_case cases[] = {
		OK("slurm 22.05.8", 22, 5, 8),
		OK("slurm 22.05.8\n", 22, 5, 8),
		OK("slurm 26.05.3-1\n", 26, 5, 3),
		OK("slurm-wlm 22.05.8\n", 22, 5, 8),
		OK("slurm 25.11.7 \r\n", 25, 11, 7),
		BAD(""), BAD(NULL), BAD("22.05.8"), BAD("slurm"),
		BAD("slurm "), BAD("slurm22.05.8"), BAD("slurm- 22.05.8"),
		BAD("Slurm 22.05.8"), BAD("slurm 22.05.8 extra"),
		BAD("slurm 22.05.8\nslurm 26.05.3"), BAD("slurm garbage"),
		BAD("srun: fatal: Could not establish a configuration source"),
		BAD("srun: error: s_p_parse_file: cannot stat file "
		    "/etc/slurm/slurm.conf: No such file or directory"),
		BAD("\x01\xff\xfe"),
	};

	(void)state;
	CHECK(sj_slurm_version_banner, cases);
}

static void test_built_for(void **state)
{
	static const struct parse_case cases[] = {
		OK("slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8)",
		   22, 5, 8),
		OK("slurm-jupyter-shim 0.1.0 (built for Slurm 26.05.3)\n",
		   26, 5, 3),
		BAD("slurm-jupyter-shim 0.1.0"),
		BAD("slurm-jupyter-shim 0.1.0 (built for Slurm )"),
		BAD("slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8"),
		BAD("slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8) x"),
		BAD("slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8-)"),
		BAD(NULL),
	};

	(void)state;
	CHECK(sj_slurm_version_built_for, cases);
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

/* dir + s where s starts with '/', s as it is otherwise. */
static void below(const char *dir, const char *s, size_t n, char *out,
		  size_t len)
{
	snprintf(out, len, "%s%.*s", s[0] == '/' ? dir : "", (int)n, s);
}

/* Which srun a PATH names: as execvp would pick it, or (absolute_only) as
 * it would be from any directory. */
static void test_command_path(void **state)
{
	static const struct {
		const char *name, *path;	/* "/x": below the tmpdir */
		int absolute_only;
		const char *want;		/* "" for none */
	} cases[] = {
		{ "not executable, missing, executable", "/a:/none:/b", 0,
		  "/b/srun" },
		{ "a directory is no program", "/d:/b", 0, "/b/srun" },
		{ "none", "/a:/none:/d", 0, "" },
		{ "relative entry counted", "rel:/b", 0, "rel/srun" },
		{ "relative entry skipped", "rel:/b", 1, "/b/srun" },
	};
	static const char *const dirs[] = { "a", "b", "d", "d/srun", "rel" };
	struct tmp *t = *state;
	char path[1400], out[700], want[700], cwd[600];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(mkdir(at(t, dirs[i]), 0700), 0);
	write_raw(at(t, "a/srun"), "#!/bin/sh\n", 10);	/* not executable */
	write_raw(at(t, "b/srun"), "#!/bin/sh\n", 10);
	assert_int_equal(chmod(at(t, "b/srun"), 0700), 0);
	write_raw(at(t, "rel/srun"), "#!/bin/sh\n", 10);
	assert_int_equal(chmod(at(t, "rel/srun"), 0700), 0);
	assert_int_equal(chdir(t->dir), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].path;
		size_t used = 0;
		int rv;

		path[0] = '\0';
		for (;;) {
			size_t n = strcspn(p, ":");

			if (used)
				path[used++] = ':';
			below(t->dir, p, n, path + used, sizeof(path) - used);
			used = strlen(path);
			if (p[n] == '\0')
				break;
			p += n + 1;
		}
		below(t->dir, cases[i].want, strlen(cases[i].want), want,
		      sizeof(want));
		rv = cases[i].absolute_only ?
			sj_path_search("srun", path, 1, out, sizeof(out)) :
			sj_command_path("srun", path, out, sizeof(out));
		if (rv != (want[0] ? 0 : -1) || strcmp(out, want) != 0)
			fail_msg("%s: %d \"%s\", expected \"%s\"",
				 cases[i].name, rv, out, want);
	}
	assert_int_equal(chdir(cwd), 0);
	/* Too long for out: not found rather than cut. */
	snprintf(path, sizeof(path), "%s", at(t, "b"));
	assert_int_equal(sj_command_path("srun", path, out, 8), -1);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_banner),
	cmocka_unit_test(test_built_for),
	cmocka_unit_test(test_same_release),
	cmocka_unit_test(test_check),
	cmocka_unit_test_setup_teardown(test_command_path,
					tmpdir_setup, tmpdir_teardown))
