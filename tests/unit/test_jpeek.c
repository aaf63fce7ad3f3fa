// SPDX-License-Identifier: GPL-2.0-or-later
/* jpeek.h: what the login shim reads of the messages it passes on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "buf.h"
#include "jpeek.h"
#include "jsign.h"
#include "testutil.h"

static int has(const char *header, const char *type)
{
	return sj_header_has_type(header, strlen(header), type);
}

static void test_jupyter_spellings(void **state)
{
	(void)state;
	/* Python's json.dumps (jupyter_client) and compact JSON. */
	assert_true(has("{\"msg_id\": \"a\", \"msg_type\": \"shutdown_reply\", "
			"\"username\": \"u\"}", "shutdown_reply"));
	assert_true(has("{\"msg_type\":\"shutdown_reply\"}", "shutdown_reply"));
	assert_true(has("{\"msg_type\" : \"shutdown_reply\"}",
			"shutdown_reply"));
}

static void test_other_types(void **state)
{
	(void)state;
	assert_false(has("{\"msg_type\": \"shutdown_request\"}",
			 "shutdown_reply"));
	assert_false(has("{\"msg_type\": \"shutdown_reply_x\"}",
			 "shutdown_reply"));
	assert_false(has("{\"msg_type\": \"execute_reply\"}",
			 "shutdown_reply"));
	/* The value elsewhere is not the type. */
	assert_false(has("{\"username\": \"shutdown_reply\", "
			 "\"msg_type\": \"status\"}", "shutdown_reply"));
}

static void test_truncated(void **state)
{
	(void)state;
	const char *h = "{\"msg_type\": \"shutdown_reply\"}";

	for (size_t n = 0; n < strlen("{\"msg_type\": \"shutdown_reply\""); n++)
		assert_false(sj_header_has_type(h, n, "shutdown_reply"));
	assert_false(has("", "shutdown_reply"));
	assert_false(has("{\"msg_type\"", "shutdown_reply"));
	assert_false(has("{\"msg_type\": ", "shutdown_reply"));
}

static int status_of(const char *header, const char *content)
{
	const char *f[] = { "kernel.1.status", SJ_JUPYTER_DELIMITER, "sig",
			    header, "{}", "{}", content };
	uint8_t buf[1024];

	return sj_jpeek_status(buf, link_frames(buf, f, 7));
}

static void test_status(void **state)
{
	const char *st = "{\"msg_type\": \"status\"}";

	(void)state;
	assert_int_equal(status_of(st, "{\"execution_state\": \"busy\"}"), 1);
	assert_int_equal(status_of(st, "{\"execution_state\":\"idle\"}"), 0);
	assert_int_equal(status_of(st, "{\"execution_state\": "
				   "\"starting\"}"), -1);
	assert_int_equal(status_of("{\"msg_type\": \"stream\"}",
				   "{\"execution_state\": \"busy\"}"), -1);
}

/* A shutdown_reply is known by the header, the frame after the
 * signature; the same text elsewhere is not one. */
static void test_shutdown_reply(void **state)
{
	const char *reply[] = { "rid", SJ_JUPYTER_DELIMITER, "sig",
				"{\"msg_type\": \"shutdown_reply\"}", "{}" };
	const char *early[] = { "{\"msg_type\": \"shutdown_reply\"}",
				SJ_JUPYTER_DELIMITER, "sig", "{}", "{}" };
	int seen;

	(void)state;
	struct sj_jpeek_reply r = { .after_delim = -1 };
	seen = 0;
	for (int i = 0; i < 5; i++)
		seen |= sj_jpeek_shutdown_reply(&r, reply[i],
						strlen(reply[i]));
	assert_true(seen);
	r.after_delim = -1;
	seen = 0;
	for (int i = 0; i < 5; i++)
		seen |= sj_jpeek_shutdown_reply(&r, early[i],
						strlen(early[i]));
	assert_false(seen);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_jupyter_spellings),
	cmocka_unit_test(test_other_types),
	cmocka_unit_test(test_truncated),
	cmocka_unit_test(test_status),
	cmocka_unit_test(test_shutdown_reply))
