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

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_write_atomic_mode_and_content(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct stat st;
	mode_t old;
	size_t len;
	char *buf;
	int rv;

	old = umask(0);		/* the mode must not come from the umask */
	rv = sj_write_file_atomic(at(t, "f"), "hello", 5, &err);
	umask(old);
	assert_ok(rv, err);
	assert_int_equal(stat(at(t, "f"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 5);
	assert_ok(sj_read_file(at(t, "f"), 100, &buf, &len, &err), err);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	/* Only the file itself, no temp file left over. */
	assert_int_equal(count_entries(t->dir), 1);
}

static void test_write_atomic_replaces(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct stat before, after;
	size_t len;
	char *buf;

	write_raw(at(t, "f"), "old contents, longer", 20);
	assert_int_equal(chmod(at(t, "f"), 0644), 0);
	assert_int_equal(stat(at(t, "f"), &before), 0);
	assert_ok(sj_write_file_atomic(at(t, "f"), "new", 3, &err), err);
	assert_int_equal(stat(at(t, "f"), &after), 0);
	/* A new inode (rename), not the old file rewritten in place. */
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(after.st_mode & 07777, 0600);
	assert_ok(sj_read_file(at(t, "f"), 100, &buf, &len, &err), err);
	assert_int_equal(len, 3);
	assert_string_equal(buf, "new");
	free(buf);
	assert_int_equal(count_entries(t->dir), 1);
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
	assert_int_equal(count_entries(t->dir), 1);
	assert_fails(sj_write_file_atomic(at(t, "d/"), "x", 1, &err), err,
		     "not a file name");
	/* Empty data is a valid, empty file. */
	assert_ok(sj_write_file_atomic(at(t, "empty"), "", 0, &err), err);
	assert_int_equal(count_entries(t->dir), 2);
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
	assert_int_equal(count_entries(t->dir), 0);
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

static void test_mkdir_private(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	uid_t uid = geteuid() == 0 ? 65534 : geteuid();
	gid_t gid = geteuid() == 0 ? 65534 : getegid();
	struct stat st;
	mode_t old;
	int rv;

	/* The mode must not come from the umask. */
	old = umask(0277);
	rv = sj_mkdir_private(at(t, "p"), uid, gid, &err);
	umask(old);
	assert_ok(rv, err);
	assert_int_equal(lstat(at(t, "p"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	/* An existing one (a stale step directory) is refused. */
	assert_fails(sj_mkdir_private(at(t, "p"), uid, gid, &err), err,
		     "already exists");
	/* So is a symlink in its place, and it is not followed. */
	assert_int_equal(mkdir(at(t, "target"), 0755), 0);
	assert_int_equal(symlink("target", at(t, "l")), 0);
	assert_fails(sj_mkdir_private(at(t, "l"), uid, gid, &err), err,
		     "already exists");
	assert_int_equal(stat(at(t, "target"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, geteuid());
	assert_fails(sj_mkdir_private(at(t, "missing/p"), uid, gid, &err),
		     err, "cannot create directory");
}

/* chown fails for an unprivileged caller: the half-made directory must not
 * stay behind.  As root, the check runs in a child that drops to nobody. */
static void test_mkdir_private_chown_fails(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	const char *p = at(t, "p");
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		assert_fails(sj_mkdir_private(p, 0, 0, &err), err,
			     "cannot chown");
		assert_false(exists(p));
		return;
	}
	assert_int_equal(chown(t->dir, 65534, 65534), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 ||
		    setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(2);
		if (sj_mkdir_private(p, 0, 0, &err) != -1 ||
		    strstr(err.msg, "cannot chown") == NULL)
			_exit(3);
		_exit(exists(p) ? 4 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_mkdir_root(void **state)
{
	struct tmp *t = *state;
	struct sj_err err = { "" };
	struct stat st;
	mode_t old;
	int rv;

	if (geteuid() != 0) {
		print_message("needs root (directories owned by root); "
			      "skipped\n");
		skip();
	}
	old = umask(077);
	rv = sj_mkdir_root(at(t, "r"), 0755, &err);
	umask(old);
	assert_ok(rv, err);
	assert_int_equal(lstat(at(t, "r"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	/* Existing: accepted. */
	assert_ok(sj_mkdir_root(at(t, "r"), 0755, &err), err);
	/* Owned by someone else. */
	assert_int_equal(chown(at(t, "r"), 65534, 65534), 0);
	assert_fails(sj_mkdir_root(at(t, "r"), 0755, &err), err,
		     "is owned by uid 65534, not root, refused");
	/* Writable by others. */
	assert_int_equal(mkdir(at(t, "w"), 0777), 0);
	assert_int_equal(chmod(at(t, "w"), 0777), 0);
	assert_fails(sj_mkdir_root(at(t, "w"), 0755, &err), err,
		     "writable by group or others (mode 0777), refused");
	/* A symlink to a good directory, and a file. */
	assert_int_equal(mkdir(at(t, "good"), 0755), 0);
	assert_int_equal(symlink("good", at(t, "l")), 0);
	assert_fails(sj_mkdir_root(at(t, "l"), 0755, &err), err,
		     "is not a directory (or is a symbolic link), refused");
	write_raw(at(t, "file"), "x", 1);
	assert_fails(sj_mkdir_root(at(t, "file"), 0755, &err), err,
		     "is not a directory");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test(test_random_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
