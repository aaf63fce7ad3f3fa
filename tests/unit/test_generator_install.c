// SPDX-License-Identifier: GPL-2.0-or-later
/* Where kernelspecs are found, and writing and removing them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "install.h"
#include "kspath.h"
#include "testutil.h"

/* How install.c's temporary files start. */
#define TEMP_PREFIX ".jupyter-slurm-"

static void mkdirs(struct tmp *t, const char *rel)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", t->dir, rel);
	assert_int_equal(system(cmd), 0);
}

static void put(struct tmp *t, const char *rel, const char *text)
{
	FILE *f = fopen(at(t, rel), "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
	struct sj_err err = { "" };
	char *buf = NULL;

	if (sj_read_file(path, 1 << 20, &buf, NULL, &err))
		fail_msg("%s", err.msg);
	return buf;
}

static int teardown(void **state)
{
	unsetenv("JUPYTER_PATH");
	unsetenv("JUPYTER_DATA_DIR");
	unsetenv("XDG_DATA_HOME");
	unsetenv("PYTHONUSERBASE");
	return tmpdir_teardown(state);
}

static void test_path_order(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct gen_kspath p;
	char want[600];

	setenv("HOME", "/home/u", 1);
	unsetenv("JUPYTER_DATA_DIR");
	unsetenv("XDG_DATA_HOME");
	unsetenv("PYTHONUSERBASE");
	setenv("JUPYTER_PATH", "/a/:/b::/a", 1);
	assert_int_equal(gen_kspath_init(&p, &err), 0);
	assert_int_equal(p.n, 5);
	assert_string_equal(p.dirs[0], "/a/kernels");
	assert_string_equal(p.dirs[1], "/b/kernels");
	assert_string_equal(p.dirs[2], "/home/u/.local/share/jupyter/kernels");
	assert_int_equal(p.user, 2);
	assert_string_equal(p.dirs[3], "/usr/local/share/jupyter/kernels");
	assert_string_equal(p.dirs[4], "/usr/share/jupyter/kernels");
	gen_kspath_free(&p);

	unsetenv("JUPYTER_PATH");
	setenv("XDG_DATA_HOME", "/xdg", 1);
	assert_int_equal(gen_kspath_init(&p, &err), 0);
	assert_string_equal(p.dirs[0], "/xdg/jupyter/kernels");
	assert_int_equal(p.user, 0);
	/* Python's user site follows the data directory. */
	assert_string_equal(p.dirs[1], "/home/u/.local/share/jupyter/kernels");
	gen_kspath_free(&p);

	setenv("JUPYTER_DATA_DIR", t->dir, 1);
	setenv("PYTHONUSERBASE", "/pub", 1);
	assert_int_equal(gen_kspath_init(&p, &err), 0);
	snprintf(want, sizeof(want), "%s/kernels", t->dir);
	assert_string_equal(p.dirs[0], want);
	assert_string_equal(p.dirs[1], "/pub/share/jupyter/kernels");
	gen_kspath_free(&p);
}

static void test_list_first_wins(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct gen_kspath p;
	struct gen_kspec_list l;
	const struct gen_kspec *k;
	char jp[300];

	mkdirs(t, "first/kernels/python3");
	put(t, "first/kernels/python3/kernel.json", "{}");
	mkdirs(t, "first/kernels/NoSpec");
	mkdirs(t, "first/kernels/.jupyter-slurm-new.abc");
	put(t, "first/kernels/.jupyter-slurm-new.abc/kernel.json", "{}");
	mkdirs(t, "data/kernels/python3");
	put(t, "data/kernels/python3/kernel.json", "{}");
	mkdirs(t, "data/kernels/Julia");
	put(t, "data/kernels/Julia/kernel.json", "{}");
	snprintf(jp, sizeof(jp), "%s/first", t->dir);
	setenv("JUPYTER_PATH", jp, 1);
	setenv("JUPYTER_DATA_DIR", at(t, "data"), 1);
	/* Keep the real machine's kernelspecs out of the count. */
	setenv("HOME", t->dir, 1);
	assert_int_equal(gen_kspath_init(&p, &err), 0);
	assert_int_equal(gen_kspath_list(&p, &l, &err), 0);
	k = gen_kspec_find(&l, "python3");
	assert_non_null(k);
	assert_int_equal(k->where, 0);
	assert_non_null(strstr(k->dir, "/first/kernels/python3"));
	/* Jupyter lists names lowercased and finds them in any case. */
	k = gen_kspec_find(&l, "julia");
	assert_non_null(k);
	assert_string_equal(k->name, "julia");
	assert_non_null(strstr(k->dir, "/data/kernels/Julia"));
	assert_non_null(gen_kspec_find(&l, "JULIA"));
	assert_null(gen_kspec_find(&l, "nospec"));
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].name[0] == '.')
			fail_msg("listed %s", l.v[i].dir);
	gen_kspec_list_free(&l);
	gen_kspath_free(&p);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_install_replace_remove(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	char res[300], kdir[300], spec[400], *text;
	mode_t old = umask(077);

	mkdirs(t, "src");
	put(t, "src/kernel.json", "{\"wrapped\": 1}");
	put(t, "src/logo-64x64.png", "PNG");
	put(t, "src/.hidden", "x");
	mkdirs(t, "src/subdir");
	assert_int_equal(symlink("logo-64x64.png", at(t, "src/logo-32x32.png")),
			 0);
	snprintf(res, sizeof(res), "%s/src", t->dir);
	snprintf(kdir, sizeof(kdir), "%s/data/new/kernels", t->dir);
	snprintf(spec, sizeof(spec), "%s/mine", kdir);

	/* The kernels directory is made as needed. */
	if (gen_install(kdir, "mine", res, "{\"v\": 1}\n", 0, &err))
		fail_msg("install: %s", err.msg);
	umask(old);
	/* Directories on the way are the user's: made like mkdir -p. */
	assert_int_equal(mode_of(at(t, "data/new/kernels")), 0700);
	assert_int_equal(mode_of(spec), 0755);
	text = slurp(at(t, "data/new/kernels/mine/kernel.json"));
	assert_string_equal(text, "{\"v\": 1}\n");
	free(text);
	assert_int_equal(mode_of(t->path), 0644);
	text = slurp(at(t, "data/new/kernels/mine/logo-32x32.png"));
	assert_string_equal(text, "PNG");
	free(text);
	/* A copy, not the link. */
	assert_int_equal(mode_of(t->path), 0644);
	assert_int_equal(access(at(t, "data/new/kernels/mine/.hidden"), F_OK),
			 -1);
	assert_int_equal(access(at(t, "data/new/kernels/mine/subdir"), F_OK),
			 -1);
	assert_int_equal(count_entries(at(t, "data/new"), TEMP_PREFIX), 0);

	/* A clash without replace: refused, the old one untouched. */
	assert_int_equal(gen_install(kdir, "mine", res, "{\"v\": 2}\n", 0,
				     &err), -1);
	assert_non_null(strstr(err.msg, "already exists; --force replaces"));
	text = slurp(at(t, "data/new/kernels/mine/kernel.json"));
	assert_string_equal(text, "{\"v\": 1}\n");
	free(text);
	assert_int_equal(count_entries(at(t, "data/new"), TEMP_PREFIX), 0);

	/* With replace: the new one, nothing left over. */
	put(t, "data/new/kernels/mine/stale.txt", "old");
	if (gen_install(kdir, "mine", res, "{\"v\": 3}\n", 1, &err))
		fail_msg("replace: %s", err.msg);
	text = slurp(at(t, "data/new/kernels/mine/kernel.json"));
	assert_string_equal(text, "{\"v\": 3}\n");
	free(text);
	assert_int_equal(access(at(t, "data/new/kernels/mine/stale.txt"),
				F_OK), -1);
	assert_int_equal(count_entries(at(t, "data/new"), TEMP_PREFIX), 0);

	/* Removing. */
	if (gen_uninstall(spec, &err))
		fail_msg("uninstall: %s", err.msg);
	assert_int_equal(access(spec, F_OK), -1);
	assert_int_equal(access(kdir, F_OK), 0);
	assert_int_equal(count_entries(at(t, "data/new"), TEMP_PREFIX), 0);
	assert_int_equal(gen_uninstall(spec, &err), -1);
	assert_non_null(strstr(err.msg, "cannot remove"));
}

static void test_install_failure_leaves_nothing(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	char kdir[300], res[300];

	snprintf(kdir, sizeof(kdir), "%s/data/kernels", t->dir);
	snprintf(res, sizeof(res), "%s/no-such-dir", t->dir);
	assert_int_equal(gen_install(kdir, "x", res, "{}\n", 0, &err), -1);
	assert_non_null(strstr(err.msg, "no-such-dir"));
	assert_int_equal(access(at(t, "data/kernels/x"), F_OK), -1);
	assert_int_equal(count_entries(at(t, "data"), TEMP_PREFIX), 0);
}

SJ_TEST_MAIN(
	cmocka_unit_test_setup_teardown(test_path_order, tmpdir_setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_list_first_wins, tmpdir_setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_install_replace_remove,
					tmpdir_setup, teardown),
	cmocka_unit_test_setup_teardown(
		test_install_failure_leaves_nothing, tmpdir_setup, teardown))
