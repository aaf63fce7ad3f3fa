// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * testutil.h - helpers the cmocka unit tests share.  Include after
 * <cmocka.h>.
 */
#ifndef SJ_TESTUTIL_H
#define SJ_TESTUTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "link_entry.h"

/*
 * main() for a test file whose tests run as one group without setup or
 * teardown: SJ_TEST_MAIN(cmocka_unit_test(a), cmocka_unit_test(b)).
 * The array keeps the name tests, as cmocka prints it as the group's name.
 */
#define SJ_TEST_MAIN(...) \
int main(void) \
{ \
	const struct CMUnitTest tests[] = { __VA_ARGS__ }; \
	\
	return cmocka_run_group_tests(tests, NULL, NULL); \
}

/* call must fail (-1) with an error message containing needle. */
#define assert_fails(call, err, needle) do { \
	int rv_ = (call); \
	if (rv_ != -1) \
		fail_msg("%s returned %d, expected -1", #call, rv_); \
	if (strstr((err).msg, (needle)) == NULL) \
		fail_msg("error \"%s\" lacks \"%s\"", (err).msg, (needle)); \
} while (0)

/* call must succeed (0); else its error message is the failure. */
#define assert_ok(call, err) do { \
	if ((call) != 0) \
		fail_msg("%s failed: %s", #call, (err).msg); \
} while (0)

/* A test's temporary directory (its cmocka state) and a path buffer. */
struct tmp {
	char dir[64];
	char path[512];
};

/* The path of name inside the test's temporary directory. */
static inline const char *at(struct tmp *t, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	return t->path;
}

/* Number of entries in dir, other than . and .., whose name starts with
 * prefix ("" for all). */
static inline int count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* cmocka setup: creates the temporary directory, mode 0700. */
static inline int tmpdir_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->dir, "/tmp/sj-test.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

/* cmocka teardown: removes the temporary directory with rm -rf.
 * Not sj_rmtree: code under test does not clean up after its own test,
 * and a test that broke it leaves the evidence to a tool that surely
 * works. */
static inline int tmpdir_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];
	int rc;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	rc = system(cmd);
	free(t);
	return rc == 0 ? 0 : -1;
}

/* n ipc endpoints in the test's directory, "ipc://DIR/PREFIX-I", with
 * pointers to them in eps. */
static inline void ipc_endpoints(struct tmp *t, const char *prefix,
				 char ep[][300], const char **eps, int n)
{
	for (int i = 0; i < n; i++) {
		snprintf(ep[i], 300, "ipc://%s/%s-%d", t->dir, prefix, i);
		eps[i] = ep[i];
	}
}

#ifdef ZMQ_VERSION
/* Closes a libzmq socket at once, whatever it still has to send. */
static inline void close_zmq(void *s)
{
	int zero = 0;

	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_close(s);
}
#endif

/* Writes exactly len bytes to path (0600), failing the test otherwise. */
static inline void write_raw(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* In a forked child of a test run as root: drops to nobody (65534) for
 * good.  0, or -1. */
static inline int become_nobody(void)
{
	if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0)
		return -1;
	return 0;
}

/* A string member of a struct, by name and offset, and what it must be
 * (NULL: unset). */
struct field_want {
	const char *name;
	size_t off;
	const char *value;
};

#define FIELD(type, member, value) \
	{ #member, offsetof(type, member), value }

/* Each wanted member of obj; a failure names the case (what) and the
 * member. */
static inline void assert_fields(const char *what, const void *obj,
				 const struct field_want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got;

		memcpy(&got, (const char *)obj + w[i].off, sizeof(got));
		if (got == w[i].value)
			continue;
		if (got == NULL || w[i].value == NULL ||
		    strcmp(got, w[i].value) != 0)
			fail_msg("%s: %s is \"%s\", expected \"%s\"", what,
				 w[i].name, got ? got : "(unset)",
				 w[i].value ? w[i].value : "(unset)");
	}
}

#define ASSERT_FIELDS(what, obj, wants) \
	assert_fields(what, obj, wants, sizeof(wants) / sizeof(wants[0]))

#ifdef JANSSON_H
/* JSON the test wrote, which must parse. */
static inline json_t *test_json(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (j == NULL)
		fail_msg("test JSON: %s", je.text);
	return j;
}
#endif

/* Frames in the link's layout (sj_link_entry_put) into buf, which has
 * the room; returns the length. */
static inline size_t link_frames(uint8_t *buf, const char *const *f, int nf)
{
	struct sj_buf b = { 0 };
	size_t n;

	for (int i = 0; i < nf; i++)
		assert_int_equal(sj_link_entry_put(&b, 0, strlen(f[i]), 0,
						   f[i], strlen(f[i])), 0);
	n = b.len;
	if (n > 0)
		memcpy(buf, b.p, n);
	sj_buf_free(&b);
	return n;
}

/* How many frames a message in the link's layout has. */
static inline int link_nframes(const uint8_t *p, size_t len)
{
	struct sj_link_entry x;
	size_t at = 0;
	int k = 0, r;

	while ((r = sj_link_entry_next(p, len, &at, &x)) == 1)
		k++;
	assert_int_equal(r, 0);
	return k;
}

/* Frame k of a message in the link's layout, NUL-terminated in out. */
static inline void link_frame_text(const uint8_t *p, size_t len, int k,
				   char *out, size_t olen)
{
	struct sj_link_entry x = { 0 };
	size_t at = 0;

	for (int j = 0; j <= k; j++)
		assert_int_equal(sj_link_entry_next(p, len, &at, &x), 1);
	assert_true(x.n < olen);
	memcpy(out, x.data, x.n);
	out[x.n] = '\0';
}

#ifdef SJ_ZMTP_H
/* The frames of a message in the link's layout appended to z as ZMTP
 * frames, as a socket would send them. */
static inline void link_to_zmtp(const uint8_t *p, size_t len,
				struct sj_buf *z)
{
	struct sj_link_entry x;
	size_t at = 0;
	int r;

	while ((r = sj_link_entry_next(p, len, &at, &x)) == 1)
		assert_int_equal(sj_zmtp_put_frame(z, at < len ?
						   SJ_ZMTP_MORE : 0,
						   x.data, x.n), 0);
	assert_int_equal(r, 0);
}
#endif

#endif
