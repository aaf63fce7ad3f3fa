// SPDX-License-Identifier: GPL-2.0-or-later
/* The site's shim.conf: what an admin writes, and what the shim says back
 * when it is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "shimconf.h"
#include "testutil.h"

#define F "/etc/slurm-jupyter/shim.conf"

static int parse(const char *text, struct sj_shimconf *c, struct sj_err *err)
{
	return sj_shimconf_parse(text, strlen(text), F, c, err);
}

static void check_bad(const char *text, const char *needle)
{
	struct sj_shimconf c, before;
	struct sj_err err = { "" };

	memset(&c, 0x5a, sizeof(c));
	before = c;
	assert_fails(parse(text, &c, &err), err, needle);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void test_empty_and_comments(void **state)
{
	struct sj_shimconf c;
	struct sj_err err;

	(void)state;
	assert_ok(parse("", &c, &err), err);
	assert_ok(parse("# nothing set\n\n   \n\t# idle_timeout=bogus\n",
			&c, &err), err);
	for (int k = 0; k < SJ_SHIMCONF_NKEYS; k++)
		assert_int_equal(c.line[k], 0);
}

static void test_all_keys(void **state)
{
	struct sj_shimconf c;
	struct sj_err err;

	(void)state;
	assert_ok(parse("# site defaults\nidle_timeout=1h\n"
			"  warn_before = 15m,2m \r\nlinger=30s", &c, &err),
		  err);
	assert_int_equal(c.idle_timeout, 3600);
	assert_int_equal(c.line[SJ_SHIMCONF_IDLE_TIMEOUT], 2);
	assert_int_equal(c.warn.n, 2);
	assert_int_equal(c.warn.before[0], 900);
	assert_int_equal(c.warn.before[1], 120);
	assert_string_equal(c.warn_text, "15m,2m");
	assert_int_equal(c.line[SJ_SHIMCONF_WARN_BEFORE], 3);
	assert_int_equal(c.linger, 30);
	assert_int_equal(c.line[SJ_SHIMCONF_LINGER], 4);
}

static void test_off(void **state)
{
	struct sj_shimconf c;
	struct sj_err err;

	(void)state;
	assert_ok(parse("idle_timeout=0\nwarn_before=0\nlinger=0\n", &c,
			&err), err);
	assert_int_equal(c.idle_timeout, 0);
	assert_int_equal(c.warn.n, 0);
	assert_int_equal(c.linger, 0);
	assert_int_equal(c.line[SJ_SHIMCONF_IDLE_TIMEOUT], 1);
	assert_int_equal(c.line[SJ_SHIMCONF_LINGER], 3);
}

static void test_bad_lines(void **state)
{
	(void)state;
	check_bad("idle_timeout=1h\nidle-timeout=2h\n",
		  F " line 2: unknown key \"idle-timeout\" (known: "
		  "idle_timeout, warn_before, linger)");
	check_bad("\n\nlinger\n", F " line 3: \"linger\": expected "
		  "key=value");
	check_bad("linger=5s\n# again\nlinger=6s\n",
		  F " line 3: linger given again (first on line 1)");
	check_bad("warn_before=\n", F " line 1: warn_before has no value");
	check_bad("idle_timeout=20\n", F " line 1: --idle-timeout=20:");
	check_bad("idle_timeout=8d\n", F " line 1: --idle-timeout=8d");
	check_bad("warn_before=10m;1m\n", F " line 1: --warn-before=10m;1m");
	check_bad("linger=30\n", F " line 1: linger=30: 0 or one duration");
	check_bad("linger=25h\n", F " line 1: linger=25h");
	check_bad("linger=5s junk\n", F " line 1: linger=5s junk");
	check_bad("=5s\n", F " line 1: unknown key \"\"");
}

static void test_whole_file(void **state)
{
	struct sj_shimconf c;
	struct sj_err err = { "" };
	char big[600];

	(void)state;
	assert_fails(sj_shimconf_parse("linger=0\n\0x", 11, F, &c, &err), err,
		     F ": contains a NUL byte");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "# ", 2);
	assert_fails(parse(big, &c, &err), err, F " line 1: longer than");
}

static void test_stat(void **state)
{
	struct stat st;
	struct sj_err err = { "" };

	(void)state;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	assert_ok(sj_shimconf_check_stat(&st, F, 0, &err), err);
	st.st_mode = S_IFREG | 0664;
	assert_fails(sj_shimconf_check_stat(&st, F, 0, &err), err,
		     F " is writable by its group (mode 0664): refused");
	st.st_mode = S_IFREG | 0646;
	assert_fails(sj_shimconf_check_stat(&st, F, 0, &err), err,
		     "writable by everyone (mode 0646)");
	st.st_mode = S_IFREG | 0644;
	st.st_uid = 1000;
	assert_fails(sj_shimconf_check_stat(&st, F, 0, &err), err,
		     F " belongs to uid 1000, not root: refused");
	st.st_uid = 0;
	st.st_mode = S_IFDIR | 0755;
	assert_fails(sj_shimconf_check_stat(&st, F, 0, &err), err,
		     "is not a regular file");
	/* Directories above: /tmp's sticky bit protects what root has. */
	st.st_mode = S_IFDIR | 01777;
	assert_ok(sj_shimconf_check_stat(&st, "/tmp", 1, &err), err);
	st.st_mode = S_IFDIR | 0777;
	assert_fails(sj_shimconf_check_stat(&st, "/x", 1, &err), err,
		     "/x is writable by everyone");
}

/* A file made here is root's only when the tests run as root; as a plain
 * user's, the same file is refused. */
static void test_load(void **state)
{
	struct sj_shimconf c;
	struct sj_err err = { "" };
	char dir[] = "/tmp/sj-shimconf-XXXXXX", path[64];
	int found = 1, fd;

	(void)state;
	assert_ok(sj_shimconf_load("/nonexistent/slurm-jupyter/shim.conf",
				   &c, &found, &err), err);
	assert_int_equal(found, 0);
	assert_fails(sj_shimconf_load("shim.conf", &c, &found, &err), err,
		     "not an absolute path");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/shim.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "linger=5s\n", 10), 10);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	if (getuid() == 0) {
		assert_ok(sj_shimconf_load(path, &c, &found, &err), err);
		assert_int_equal(found, 1);
		assert_int_equal(c.linger, 5);
		assert_int_equal(chmod(path, 0664), 0);
		assert_fails(sj_shimconf_load(path, &c, &found, &err), err,
			     "writable by its group (mode 0664): refused");
		/* The directory above it, too. */
		assert_int_equal(chmod(path, 0644), 0);
		assert_int_equal(chmod(dir, 0777), 0);
		assert_fails(sj_shimconf_load(path, &c, &found, &err), err,
			     "is writable by everyone (mode 0777)");
	} else {
		assert_fails(sj_shimconf_load(path, &c, &found, &err), err,
			     "not root: refused");
	}
	assert_int_equal(found, 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_empty_and_comments),
	cmocka_unit_test(test_all_keys),
	cmocka_unit_test(test_off),
	cmocka_unit_test(test_bad_lines),
	cmocka_unit_test(test_whole_file),
	cmocka_unit_test(test_stat),
	cmocka_unit_test(test_load))
