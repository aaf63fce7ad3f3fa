// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * testutil.h - helpers the cmocka unit tests share.  Include after
 * <cmocka.h>.
 */
#ifndef SJ_TESTUTIL_H
#define SJ_TESTUTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

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

/* Frames in the link's layout (a 4-byte length before each) into buf,
 * which has the room; returns the length. */
static inline size_t link_frames(uint8_t *buf, const char *const *f, int nf)
{
	size_t o = 0;

	for (int i = 0; i < nf; i++) {
		size_t n = strlen(f[i]);

		sj_put_be32(buf + o, (uint32_t)n);
		memcpy(buf + o + 4, f[i], n);
		o += 4 + n;
	}
	return o;
}

#endif
