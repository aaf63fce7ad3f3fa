// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "testutil.h"

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The file at path holds want, no more. */
static void assert_contents(const char *path, const char *want)
{
	struct sj_err err = { "" };
	size_t len;
	char *buf;

	assert_ok(sj_read_file(path, 100, &buf, &len, &err), err);
	assert_int_equal(len, strlen(want));
	assert_string_equal(buf, want);
	free(buf);
}

static void test_write_atomic_mode_and_content(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct stat st;
	mode_t old;
	int rv;

	old = umask(0);		/* the mode must not come from the umask */
	rv = sj_write_file_atomic(at(t, "f"), "hello", 5, &err);
	umask(old);
	assert_ok(rv, err);
	assert_int_equal(stat(at(t, "f"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 5);
	assert_contents(at(t, "f"), "hello");
	/* Only the file itself, no temp file left over. */
	assert_int_equal(count_entries(t->dir, ""), 1);
}

static void test_write_atomic_replaces(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct stat before, after;

	write_raw(at(t, "f"), "old contents, longer", 20);
	assert_int_equal(chmod(at(t, "f"), 0644), 0);
	assert_int_equal(stat(at(t, "f"), &before), 0);
	assert_ok(sj_write_file_atomic(at(t, "f"), "new", 3, &err), err);
	assert_int_equal(stat(at(t, "f"), &after), 0);
	/* A new inode (rename), not the old file rewritten in place. */
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(after.st_mode & 07777, 0600);
	assert_contents(at(t, "f"), "new");
	assert_int_equal(count_entries(t->dir, ""), 1);
}

static void test_write_atomic_failures(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };

	assert_fails(sj_write_file_atomic(at(t, "nodir/f"), "x", 1, &err),
		     err, "cannot create a temporary file for");
	assert_non_null(strstr(err.msg, "No such file or directory"));
	/* rename onto a directory fails: the temp file must go away. */
	assert_int_equal(mkdir(at(t, "d"), 0700), 0);
	assert_fails(sj_write_file_atomic(at(t, "d"), "x", 1, &err), err,
		     "cannot rename");
	assert_int_equal(count_entries(t->dir, ""), 1);
	assert_fails(sj_write_file_atomic(at(t, "d/"), "x", 1, &err), err,
		     "not a file name");
	/* Empty data is a valid, empty file. */
	assert_ok(sj_write_file_atomic(at(t, "empty"), "", 0, &err), err);
	assert_int_equal(count_entries(t->dir, ""), 2);
}

static void test_read_bounds(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	char data[100], *buf = (char *)1;
	size_t len = 99;

	memset(data, 'z', sizeof(data));
	write_raw(at(t, "f"), data, sizeof(data));
	assert_fails(sj_read_file(at(t, "f"), 99, &buf, &len, &err), err,
		     "is too large (100 bytes, limit 99)");
	assert_null(buf);
	assert_ok(sj_read_file(at(t, "f"), 100, &buf, &len, &err), err);
	assert_int_equal(len, 100);
	assert_memory_equal(buf, data, 100);
	assert_int_equal(buf[100], '\0');
	free(buf);
	/* Empty file. */
	write_raw(at(t, "e"), "", 0);
	assert_ok(sj_read_file(at(t, "e"), 0, &buf, &len, &err), err);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	/* len is optional. */
	assert_ok(sj_read_file(at(t, "f"), 1000, &buf, NULL, &err), err);
	assert_int_equal(strlen(buf), 100);
	free(buf);
}

/* A file whose st_size understates what read(2) returns (procfs does
 * this): the limit holds on the data, not on the size. */
static void test_read_bound_on_data(void **state)
{
	struct sj_err err = { "" };
	char *buf;
	size_t len;

	(void)state;
	assert_fails(sj_read_file("/proc/self/status", 16, &buf, &len, &err),
		     err, "too large (limit 16 bytes)");
	assert_ok(sj_read_file("/proc/self/status", 1 << 20, &buf, &len,
			       &err), err);
	assert_true(len > 16);
	assert_non_null(strstr(buf, "Name:"));
	free(buf);
}

static void test_read_refuses(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	char *buf;
	size_t len;
	char target[512];

	assert_fails(sj_read_file(at(t, "missing"), 10, &buf, &len, &err),
		     err, "cannot open");
	assert_non_null(strstr(err.msg, "No such file or directory"));
	assert_fails(sj_read_file(t->dir, 10, &buf, &len, &err), err,
		     "is not a regular file");
	/* A FIFO: refused without blocking on the open. */
	assert_int_equal(mkfifo(at(t, "fifo"), 0600), 0);
	assert_fails(sj_read_file(at(t, "fifo"), 10, &buf, &len, &err), err,
		     "is not a regular file");
	write_raw(at(t, "real"), "secret", 6);
	snprintf(target, sizeof(target), "%s", t->path);
	assert_int_equal(symlink(target, at(t, "link")), 0);
	assert_fails(sj_read_file(at(t, "link"), 10, &buf, &len, &err), err,
		     "is a symbolic link, refused");
	assert_fails(sj_read_file("/dev/null", 10, &buf, &len, &err), err,
		     "/dev/null is not a regular file");
}

static void test_rmtree_basic(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };

	assert_int_equal(mkdir(at(t, "tree"), 0700), 0);
	assert_int_equal(mkdir(at(t, "tree/a"), 0700), 0);
	assert_int_equal(mkdir(at(t, "tree/a/b"), 0700), 0);
	assert_int_equal(mkdir(at(t, "tree/empty"), 0700), 0);
	write_raw(at(t, "tree/f"), "1", 1);
	write_raw(at(t, "tree/a/b/g"), "2", 1);
	write_raw(at(t, "tree/a/.hidden"), "3", 1);
	assert_int_equal(mkfifo(at(t, "tree/a/fifo"), 0600), 0);
	/* A directory we cannot read as non-root still goes as root. */
	assert_int_equal(chmod(at(t, "tree/a/b"), 0), 0);
	if (geteuid() != 0)
		assert_int_equal(chmod(at(t, "tree/a/b"), 0700), 0);
	assert_ok(sj_rmtree(at(t, "tree"), &err), err);
	assert_false(exists(at(t, "tree")));
	assert_int_equal(count_entries(t->dir, ""), 0);
	/* Missing: success. */
	assert_ok(sj_rmtree(at(t, "tree"), &err), err);
	assert_ok(sj_rmtree(at(t, "no/such/path"), &err), err);
	/* A plain file. */
	write_raw(at(t, "file"), "x", 1);
	assert_ok(sj_rmtree(at(t, "file"), &err), err);
	assert_false(exists(at(t, "file")));
}

static void test_rmtree_no_follow(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	char outside[512], outfile[512];

	/* Precious things outside the tree. */
	assert_int_equal(mkdir(at(t, "outside"), 0700), 0);
	snprintf(outside, sizeof(outside), "%s", t->path);
	write_raw(at(t, "outside/keep"), "k", 1);
	write_raw(at(t, "outfile"), "k", 1);
	snprintf(outfile, sizeof(outfile), "%s", t->path);

	assert_int_equal(mkdir(at(t, "tree"), 0700), 0);
	assert_int_equal(mkdir(at(t, "tree/sub"), 0700), 0);
	assert_int_equal(symlink(outside, at(t, "tree/dirlink")), 0);
	assert_int_equal(symlink(outside, at(t, "tree/sub/dirlink2")), 0);
	assert_int_equal(symlink(outfile, at(t, "tree/filelink")), 0);
	assert_int_equal(symlink("/nonexistent", at(t, "tree/dangling")), 0);
	assert_ok(sj_rmtree(at(t, "tree"), &err), err);
	assert_false(exists(at(t, "tree")));
	assert_true(exists(at(t, "outside/keep")));
	assert_true(exists(at(t, "outfile")));

	/* The path itself a symlink to a directory: only the link goes. */
	assert_int_equal(symlink(outside, at(t, "toplink")), 0);
	assert_ok(sj_rmtree(at(t, "toplink"), &err), err);
	assert_false(exists(at(t, "toplink")));
	assert_true(exists(at(t, "outside/keep")));
}

static void test_rmtree_depth_limit(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	int fd, i;

	assert_int_equal(mkdir(at(t, "deep"), 0700), 0);
	fd = open(t->path, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (i = 0; i < 200; i++) {
		int nfd;

		assert_int_equal(mkdirat(fd, "d", 0700), 0);
		nfd = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	close(fd);
	assert_fails(sj_rmtree(at(t, "deep"), &err), err,
		     "nested deeper than 128 levels");
	assert_non_null(strstr(err.msg, "/deep/d/d/d/"));
}

/* A descriptor of the test's directory, for the *at() functions. */
static int open_tmp(struct tmp *t)
{
	int fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void test_mkdir_private(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	uid_t uid = geteuid() == 0 ? 65534 : geteuid();
	gid_t gid = geteuid() == 0 ? 65534 : getegid();
	struct sj_file_id id;
	struct stat st;
	mode_t old;
	int dfd = open_tmp(t), rv;

	/* The mode must not come from the umask. */
	old = umask(0277);
	rv = sj_mkdir_private_at(dfd, "p", uid, gid, &id, &err);
	umask(old);
	assert_ok(rv, err);
	assert_int_equal(lstat(at(t, "p"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	/* id names that directory. */
	assert_true(id.dev == st.st_dev && id.ino == st.st_ino);
	/* An existing one (a stale step directory) is refused. */
	assert_fails(sj_mkdir_private_at(dfd, "p", uid, gid, &id, &err), err,
		     "p already exists");
	/* So is a symlink in its place, and it is not followed. */
	assert_int_equal(mkdir(at(t, "target"), 0755), 0);
	assert_int_equal(symlink("target", at(t, "l")), 0);
	assert_fails(sj_mkdir_private_at(dfd, "l", uid, gid, &id, &err), err,
		     "already exists");
	assert_int_equal(stat(at(t, "target"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, geteuid());
	assert_fails(sj_mkdir_private_at(dfd, "missing/p", uid, gid, &id,
					 &err), err, "cannot create directory");
	close(dfd);
}

/* chown fails for an unprivileged caller: the half-made directory must not
 * stay behind.  As root, the check runs in a child that drops to nobody. */
static void test_mkdir_private_chown_fails(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct sj_file_id id;
	const char *p = at(t, "p");
	int dfd = open_tmp(t);
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		assert_fails(sj_mkdir_private_at(dfd, "p", 0, 0, &id, &err),
			     err, "cannot chown");
		assert_false(exists(p));
		close(dfd);
		return;
	}
	assert_int_equal(chown(t->dir, 65534, 65534), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (become_nobody() != 0)
			_exit(2);
		if (sj_mkdir_private_at(dfd, "p", 0, 0, &id, &err) != -1 ||
		    strstr(err.msg, "cannot chown") == NULL)
			_exit(3);
		_exit(exists(p) ? 4 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(dfd);
}

static void test_mkdir_root(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct stat st, fst;
	mode_t old;
	int rv, fd;

	if (geteuid() != 0) {
		print_message("needs root (directories owned by root); "
			      "skipped\n");
		skip();
	}
	old = umask(077);
	rv = sj_mkdir_root(at(t, "r"), 0755, NULL, &err);
	umask(old);
	assert_ok(rv, err);
	assert_int_equal(lstat(at(t, "r"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	/* Existing: accepted, and left open for *at() calls. */
	assert_ok(sj_mkdir_root(at(t, "r"), 0755, &fd, &err), err);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &fst), 0);
	assert_true(fst.st_dev == st.st_dev && fst.st_ino == st.st_ino);
	close(fd);
	/* Owned by someone else. */
	assert_int_equal(chown(at(t, "r"), 65534, 65534), 0);
	assert_fails(sj_mkdir_root(at(t, "r"), 0755, &fd, &err), err,
		     "is owned by uid 65534, not root, refused");
	assert_int_equal(fd, -1);
	/* Writable by others. */
	assert_int_equal(mkdir(at(t, "w"), 0777), 0);
	assert_int_equal(chmod(at(t, "w"), 0777), 0);
	assert_fails(sj_mkdir_root(at(t, "w"), 0755, NULL, &err), err,
		     "writable by group or others (mode 0777), refused");
	/* A symlink to a good directory, and a file. */
	assert_int_equal(mkdir(at(t, "good"), 0755), 0);
	assert_int_equal(symlink("good", at(t, "l")), 0);
	assert_fails(sj_mkdir_root(at(t, "l"), 0755, NULL, &err), err,
		     "is not a directory (or is a symbolic link), refused");
	write_raw(at(t, "file"), "x", 1);
	assert_fails(sj_mkdir_root(at(t, "file"), 0755, NULL, &err), err,
		     "is not a directory");
}

/* The checks root makes on runtime_dir before it works below it; the
 * expected owner is ours, so that this runs as root and as a user. */
static void test_open_owned_dir(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	uid_t me = geteuid();
	char buf[600];
	int fd = 1234;

	assert_int_equal(mkdir(at(t, "rt"), 0755), 0);
	assert_int_equal(chmod(at(t, "rt"), 0755), 0);
	assert_ok(sj_open_owned_dir(at(t, "rt"), me, &fd, &err), err);
	assert_true(fd >= 0);
	close(fd);
	/* Missing: nothing to do, no error. */
	assert_ok(sj_open_owned_dir(at(t, "none"), me, &fd, &err), err);
	assert_int_equal(fd, -1);
	/* Not owned by the expected uid. */
	fd = 1234;
	assert_fails(sj_open_owned_dir(at(t, "rt"), me + 1, &fd, &err), err,
		     "refused");
	snprintf(buf, sizeof(buf), "is owned by uid %ju, not uid %ju, refused",
		 (uintmax_t)me, (uintmax_t)(me + 1));
	assert_non_null(strstr(err.msg, buf));
	assert_int_equal(fd, -1);
	/* Writable by the group, or by others. */
	assert_int_equal(chmod(at(t, "rt"), 0775), 0);
	assert_fails(sj_open_owned_dir(at(t, "rt"), me, &fd, &err), err,
		     "writable by group or others (mode 0775), refused");
	assert_int_equal(chmod(at(t, "rt"), 01757), 0);
	assert_fails(sj_open_owned_dir(at(t, "rt"), me, &fd, &err), err,
		     "writable by group or others (mode 1757), refused");
	/* A symlink to a good directory, and a file. */
	assert_int_equal(chmod(at(t, "rt"), 0755), 0);
	assert_int_equal(symlink("rt", at(t, "link")), 0);
	assert_fails(sj_open_owned_dir(at(t, "link"), me, &fd, &err), err,
		     "link is not a directory (or is a symbolic link), refused");
	assert_int_equal(fd, -1);
	write_raw(at(t, "file"), "x", 1);
	assert_fails(sj_open_owned_dir(at(t, "file"), me, &fd, &err), err,
		     "is not a directory");
}

/* A step directory full of things, with hooks a user could plant: the
 * runtime_dir's descriptor stays the only way in. */
static void make_step_tree(struct tmp *t, const char *outside)
{
	assert_int_equal(mkdir(at(t, "rt/5.0"), 0700), 0);
	assert_int_equal(mkdir(at(t, "rt/5.0/a"), 0700), 0);
	assert_int_equal(mkdir(at(t, "rt/5.0/a/b"), 0700), 0);
	write_raw(at(t, "rt/5.0/kernel.json"), "{}", 2);
	write_raw(at(t, "rt/5.0/a/b/f"), "x", 1);
	assert_int_equal(mkfifo(at(t, "rt/5.0/a/fifo"), 0600), 0);
	assert_int_equal(symlink(outside, at(t, "rt/5.0/dirlink")), 0);
	assert_int_equal(symlink(outside, at(t, "rt/5.0/a/b/dirlink")), 0);
}

static void test_rmtree_at(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct sj_file_id id;
	char outside[512];
	struct stat st;
	int rt;

	assert_int_equal(mkdir(at(t, "outside"), 0755), 0);
	write_raw(at(t, "outside/keep"), "k", 1);
	snprintf(outside, sizeof(outside), "%s", at(t, "outside"));
	assert_int_equal(mkdir(at(t, "rt"), 0755), 0);
	assert_ok(sj_open_owned_dir(at(t, "rt"), geteuid(), &rt, &err), err);

	/* The very directory that was made: all of it goes, through its
	 * symlinks to nowhere but their own names. */
	make_step_tree(t, outside);
	assert_int_equal(lstat(at(t, "rt/5.0"), &st), 0);
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	assert_ok(sj_rmtree_at(rt, "5.0", &id, &err), err);
	assert_false(exists(at(t, "rt/5.0")));
	assert_int_equal(count_entries(at(t, "rt"), ""), 0);
	assert_true(exists(at(t, "outside/keep")));
	/* Gone already (task_exit, then exit): nothing to do. */
	assert_ok(sj_rmtree_at(rt, "5.0", &id, &err), err);

	/* Another directory under the same name: not the one made, so
	 * nothing of it goes.  (The id of a live directory: a removed one's
	 * inode number may come back at once.) */
	make_step_tree(t, outside);
	assert_int_equal(stat(at(t, "outside"), &st), 0);
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	assert_fails(sj_rmtree_at(rt, "5.0", &id, &err), err,
		     "5.0 is not the directory that was made (another inode), "
		     "not removed");
	assert_true(exists(at(t, "rt/5.0/a/b/f")));

	/* Without expect, whatever is there goes (a leftover). */
	assert_ok(sj_rmtree_at(rt, "5.0", NULL, &err), err);
	assert_false(exists(at(t, "rt/5.0")));
	assert_true(exists(at(t, "outside/keep")));

	/* A symlink in place of the step directory: never followed.  With
	 * expect it is refused and stays; without, only the link goes. */
	assert_int_equal(symlink(outside, at(t, "rt/5.0")), 0);
	assert_fails(sj_rmtree_at(rt, "5.0", &id, &err), err,
		     "5.0 is not a directory (or is a symbolic link), not "
		     "removed");
	assert_true(exists(at(t, "rt/5.0")));
	assert_true(exists(at(t, "outside/keep")));
	assert_ok(sj_rmtree_at(rt, "5.0", NULL, &err), err);
	assert_false(exists(at(t, "rt/5.0")));
	assert_true(exists(at(t, "outside/keep")));
	assert_int_equal(count_entries(at(t, "outside"), ""), 1);
	close(rt);
}

/* Root empties only the tree owner's directories: another user's,
 * moved into the tree, is refused with what is in it. */
static void test_rmtree_at_owner_bound(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	int rt;

	if (geteuid() != 0) {
		print_message("needs root (a directory of another uid); "
			      "skipped\n");
		skip();
	}
	assert_int_equal(mkdir(at(t, "rt"), 0755), 0);
	assert_int_equal(mkdir(at(t, "rt/5.0"), 0700), 0);
	assert_int_equal(mkdir(at(t, "rt/5.0/theirs"), 0755), 0);
	write_raw(at(t, "rt/5.0/theirs/keep"), "k", 1);
	assert_int_equal(chown(at(t, "rt/5.0"), 65534, 65534), 0);
	assert_int_equal(chown(at(t, "rt/5.0/theirs"), 12345, 12345), 0);
	assert_ok(sj_open_owned_dir(at(t, "rt"), 0, &rt, &err), err);
	assert_fails(sj_rmtree_at(rt, "5.0", NULL, &err), err,
		     "cannot remove 5.0/theirs: a directory of uid 12345, not "
		     "of the tree's owner (uid 65534), refused");
	assert_true(exists(at(t, "rt/5.0/theirs/keep")));
	/* The same directory owned by the tree's owner goes. */
	assert_int_equal(chown(at(t, "rt/5.0/theirs"), 65534, 65534), 0);
	assert_ok(sj_rmtree_at(rt, "5.0", NULL, &err), err);
	assert_false(exists(at(t, "rt/5.0")));
	close(rt);
}

static void test_random_hex(void **state)
{
	struct sj_err err = { "" };
	char a[2 * 100 + 1], b[2 * 100 + 1];
	size_t i;

	(void)state;
	memset(a, 'X', sizeof(a));
	assert_ok(sj_random_hex(a, 100, &err), err);
	assert_int_equal(strlen(a), 200);
	for (i = 0; i < 200; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_ok(sj_random_hex(b, 100, &err), err);
	assert_string_not_equal(a, b);
	assert_ok(sj_random_hex(a, 16, &err), err);
	assert_int_equal(strlen(a), 32);
	assert_ok(sj_random_hex(a, 0, &err), err);
	assert_string_equal(a, "");
}

SJ_TEST_MAIN(
	cmocka_unit_test_setup_teardown(
		test_write_atomic_mode_and_content, tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_write_atomic_replaces,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_write_atomic_failures,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_read_bounds, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test(test_read_bound_on_data),
	cmocka_unit_test_setup_teardown(test_read_refuses, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_rmtree_basic, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_rmtree_no_follow, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_rmtree_depth_limit, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_mkdir_private, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_mkdir_private_chown_fails,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_mkdir_root, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_open_owned_dir,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_rmtree_at, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_rmtree_at_owner_bound,
					tmpdir_setup, tmpdir_teardown),
	cmocka_unit_test(test_random_hex))
