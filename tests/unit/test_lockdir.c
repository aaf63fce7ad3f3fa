// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockdir.h"
#include "testutil.h"

/*
 * The real file system in the test's directory, except that some paths
 * seem to belong to another user or to have another mode: what a test
 * cannot make as a normal user.
 */
struct fake {
	char path[PATH_MAX];
	uid_t uid;
	mode_t mode;		/* 0: the real one */
};

struct world {
	struct tmp *t;
	char root[PATH_MAX];	/* the test directory, resolved */
	struct fake fakes[4];
	int nfakes;
	char out[400];
	struct sj_lockdir_env env;
	struct sj_lockdir_fs fs;
	char home[PATH_MAX], cache[PATH_MAX], xdg[PATH_MAX], run[PATH_MAX];
};

static int fake_lstat(const char *path, struct stat *st, void *arg)
{
	struct world *w = arg;

	if (lstat(path, st) != 0)
		return -1;
	for (int i = 0; i < w->nfakes; i++) {
		if (strcmp(w->fakes[i].path, path) != 0)
			continue;
		st->st_uid = w->fakes[i].uid;
		if (w->fakes[i].mode != 0)
			st->st_mode = (st->st_mode & S_IFMT) |
				      w->fakes[i].mode;
	}
	return 0;
}

/* snprintf into a PATH_MAX buffer, failing the test if it is cut. */
#define PATHF(buf, ...) \
	assert_true(snprintf((buf), PATH_MAX, __VA_ARGS__) < PATH_MAX)

/* name inside the test directory, resolved. */
static const char *in(struct world *w, char *buf, const char *name)
{
	PATHF(buf, "%s/%s", w->root, name);
	return buf;
}

static void fake(struct world *w, const char *path, uid_t uid, mode_t mode)
{
	assert_true(w->nfakes < 4);
	PATHF(w->fakes[w->nfakes].path, "%s", path);
	w->fakes[w->nfakes].uid = uid;
	w->fakes[w->nfakes].mode = mode;
	w->nfakes++;
}

static void mkdir_mode(const char *path, mode_t mode)
{
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void assert_private_dir(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_uid, getuid());
	assert_int_equal(st.st_mode & 07777, 0700);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	void *t;

	if (w == NULL || tmpdir_setup(&t) != 0) {
		free(w);
		return -1;
	}
	w->t = t;
	if (realpath(w->t->dir, w->root) == NULL)
		return -1;
	w->fs = (struct sj_lockdir_fs){ fake_lstat,
					sj_lockdir_real_fs.mkdir,
					sj_lockdir_real_fs.realpath, w };
	/* A user without XDG_RUNTIME_DIR, no /run/user/UID, HOME 0755. */
	if (snprintf(w->home, PATH_MAX, "%s/home", w->root) >= PATH_MAX ||
	    snprintf(w->run, PATH_MAX, "%s/run-user", w->root) >= PATH_MAX ||
	    mkdir(w->home, 0755) != 0 || chmod(w->home, 0755) != 0 ||
	    mkdir(w->run, 0755) != 0)
		return -1;
	w->env = (struct sj_lockdir_env){ .home = w->home,
					  .run_user = w->run,
					  .host = "login1",
					  .uid = getuid() };
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	void *t = w->t;

	free(w);
	return tmpdir_teardown(&t);
}

static int choose(struct world *w, struct sj_err *err)
{
	return sj_lockdir_choose(&w->env, &w->fs, w->out, sizeof(w->out), err);
}

/* sj_lockdir_choose succeeds and answers want. */
static void chooses(struct world *w, const char *want)
{
	struct sj_err err = { "" };

	assert_ok(choose(w, &err), err);
	assert_string_equal(w->out, want);
}

static void test_xdg_runtime_dir(void **state)
{
	struct world *w = *state;
	char want[PATH_MAX];

	mkdir_mode(in(w, w->xdg, "xdg"), 0700);
	w->env.xdg_runtime_dir = w->xdg;
	chooses(w, in(w, want, "xdg/slurm-jupyter"));
	assert_private_dir(w->out);
	/* Every shim of the user gets the same answer. */
	chooses(w, want);
}

static void test_run_user_when_no_xdg(void **state)
{
	struct world *w = *state;
	char mine[PATH_MAX], want[PATH_MAX];

	PATHF(mine, "%s/%ju", w->run, (uintmax_t)getuid());
	mkdir_mode(mine, 0700);
	PATHF(want, "%s/slurm-jupyter", mine);
	chooses(w, want);
	assert_private_dir(want);
	/* A relative XDG_RUNTIME_DIR is no runtime directory. */
	w->env.xdg_runtime_dir = "run/user/x";
	chooses(w, want);
}

static void test_home_when_nothing_else(void **state)
{
	struct world *w = *state;
	char want[PATH_MAX];

	chooses(w, in(w, want, "home/.cache/slurm-jupyter/login1"));
	assert_private_dir(in(w, want, "home/.cache"));
	assert_private_dir(in(w, want, "home/.cache/slurm-jupyter"));
	assert_private_dir(in(w, want, "home/.cache/slurm-jupyter/login1"));
	/* Made once, found again. */
	chooses(w, want);
}

static void test_xdg_cache_home(void **state)
{
	struct world *w = *state;
	char want[PATH_MAX];

	/* Missing itself: made, like the rest. */
	w->env.xdg_cache_home = in(w, w->cache, "home/cache");
	chooses(w, in(w, want, "home/cache/slurm-jupyter/login1"));
	assert_private_dir(want);
	/* A relative one is ignored, as the XDG spec wants. */
	w->env.xdg_cache_home = "cache";
	chooses(w, in(w, want, "home/.cache/slurm-jupyter/login1"));
}

/* Runtime directories another user made, or that others can write, are
 * passed over: the kernel still gets a lock directory. */
static void test_unsafe_runtime_dirs_passed_over(void **state)
{
	struct world *w = *state;
	char mine[PATH_MAX], want[PATH_MAX];

	mkdir_mode(in(w, w->xdg, "xdg"), 0700);
	fake(w, w->xdg, getuid() + 1, 0);
	w->env.xdg_runtime_dir = w->xdg;
	PATHF(mine, "%s/%ju", w->run, (uintmax_t)getuid());
	mkdir_mode(mine, 0770);
	chooses(w, in(w, want, "home/.cache/slurm-jupyter/login1"));
	/* Nothing was made in them. */
	assert_int_equal(access(in(w, want, "xdg/slurm-jupyter"), F_OK), -1);
	PATHF(want, "%s/slurm-jupyter", mine);
	assert_int_equal(access(want, F_OK), -1);
}

/* Above a runtime directory, a directory others can write without the
 * sticky bit (they could swap ours for theirs) disqualifies it. */
static void test_runtime_dir_under_writable_parent(void **state)
{
	struct world *w = *state;
	char parent[PATH_MAX], want[PATH_MAX];

	mkdir_mode(in(w, parent, "open"), 0777);
	mkdir_mode(in(w, w->xdg, "open/xdg"), 0700);
	w->env.xdg_runtime_dir = w->xdg;
	chooses(w, in(w, want, "home/.cache/slurm-jupyter/login1"));
	/* Sticky (like /tmp): nobody else can take our entry away. */
	assert_int_equal(chmod(parent, 01777), 0);
	chooses(w, in(w, want, "open/xdg/slurm-jupyter"));
}

static void test_cache_symlink_of_ours_followed(void **state)
{
	struct world *w = *state;
	char link[PATH_MAX], target[PATH_MAX], want[PATH_MAX];

	/* Clusters often point ~/.cache at scratch space. */
	mkdir_mode(in(w, target, "scratch"), 0700);
	assert_int_equal(symlink(target, in(w, link, "home/.cache")), 0);
	chooses(w, in(w, want, "scratch/slurm-jupyter/login1"));
	assert_private_dir(want);
}

/* In the home fallback, a directory that is not ours is refused with its
 * name: it is in a place of ours, so only root or the user made it. */
static void test_foreign_component_refused(void **state)
{
	struct world *w = *state;
	struct sj_err err = { "" };
	char d[PATH_MAX], e[PATH_MAX];

	mkdir_mode(in(w, d, "home/.cache"), 0700);
	mkdir_mode(in(w, d, "home/.cache/slurm-jupyter"), 0700);
	fake(w, d, getuid() + 1, 0);
	assert_fails(choose(w, &err), err, "belongs to uid");
	assert_non_null(strstr(err.msg, d));
	assert_non_null(strstr(err.msg, "XDG_CACHE_HOME"));
	assert_string_equal(w->out, "");

	/* The lock directory itself a symlink to someone else's. */
	w->nfakes = 0;
	mkdir_mode(in(w, e, "theirs"), 0700);
	fake(w, e, getuid() + 1, 0);
	assert_int_equal(symlink(e, in(w, d,
				 "home/.cache/slurm-jupyter/login1")), 0);
	assert_fails(choose(w, &err), err, "belongs to uid");
	assert_non_null(strstr(err.msg, e));
}

static void test_writable_home_refused(void **state)
{
	struct world *w = *state;
	struct sj_err err = { "" };
	char d[PATH_MAX];

	assert_int_equal(chmod(w->home, 0775), 0);
	assert_fails(choose(w, &err), err, "writable by others");
	assert_non_null(strstr(err.msg, w->home));
	assert_int_equal(access(in(w, d, "home/.cache"), F_OK), -1);

	/* A directory above, writable by all and not sticky. */
	assert_int_equal(chmod(w->home, 0755), 0);
	fake(w, w->root, getuid(), 0777);
	assert_fails(choose(w, &err), err, "writable by others");
	assert_non_null(strstr(err.msg, w->root));

	/* Above, owned by another user. */
	w->nfakes = 0;
	fake(w, w->root, getuid() + 1, 0755);
	assert_fails(choose(w, &err), err, "who could replace");
}

static void test_lock_dir_mode(void **state)
{
	struct world *w = *state;
	struct sj_err err = { "" };
	char d[PATH_MAX];

	assert_ok(choose(w, &err), err);
	assert_int_equal(chmod(w->out, 0750), 0);
	assert_fails(choose(w, &err), err, "must have mode 0700");
	assert_non_null(strstr(err.msg, in(w, d, "home/.cache/slurm-jupyter/"
					   "login1")));
}

static void test_no_place(void **state)
{
	struct world *w = *state;
	struct sj_err err = { "" };

	w->env.home = NULL;
	assert_fails(choose(w, &err), err, "no place for the lock directory");
	w->env.home = "relative/home";
	assert_fails(choose(w, &err), err, "no place for the lock directory");
	w->env.home = w->home;
	w->env.host = "..";
	assert_fails(choose(w, &err), err, "cannot name a directory");
	w->env.host = "";
	assert_fails(choose(w, &err), err, "cannot name a directory");
}

static void test_short_hostname(void **state)
{
	struct sj_err err = { "" };
	char host[256], small[1];

	(void)state;
	assert_ok(sj_short_hostname(host, sizeof(host), &err), err);
	assert_true(host[0] != '\0');
	assert_null(strchr(host, '.'));
	assert_fails(sj_short_hostname(small, sizeof(small), &err), err,
		     "too long");
}

SJ_TEST_MAIN(
	cmocka_unit_test_setup_teardown(test_xdg_runtime_dir, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_run_user_when_no_xdg,
					setup, teardown),
	cmocka_unit_test_setup_teardown(test_home_when_nothing_else,
					setup, teardown),
	cmocka_unit_test_setup_teardown(test_xdg_cache_home, setup,
					teardown),
	cmocka_unit_test_setup_teardown(
		test_unsafe_runtime_dirs_passed_over, setup, teardown),
	cmocka_unit_test_setup_teardown(
		test_runtime_dir_under_writable_parent, setup,
		teardown),
	cmocka_unit_test_setup_teardown(
		test_cache_symlink_of_ours_followed, setup, teardown),
	cmocka_unit_test_setup_teardown(test_foreign_component_refused,
					setup, teardown),
	cmocka_unit_test_setup_teardown(test_writable_home_refused,
					setup, teardown),
	cmocka_unit_test_setup_teardown(test_lock_dir_mode, setup,
					teardown),
	cmocka_unit_test_setup_teardown(test_no_place, setup,
					teardown),
	cmocka_unit_test(test_short_hostname))
