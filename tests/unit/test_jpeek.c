// SPDX-License-Identifier: GPL-2.0-or-later
/* jpeek.h: what the login shim reads of the messages it passes on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "jpeek.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jupyter_spellings),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
