// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "connfile.h"
#include "jsonwipe.h"
#include "testutil.h"

#define KEY "5ecre7-k3y-0f-7he-kerne1-abcdef012345"

static const char connfile[] =
	"{\"shell_port\": 1, \"iopub_port\": 2, \"stdin_port\": 3, "
	"\"control_port\": 4, \"hb_port\": 5, \"ip\": \"127.0.0.1\", "
	"\"key\": \"" KEY "\", \"transport\": \"tcp\", "
	"\"signature_scheme\": \"hmac-sha256\"}";

/* What jansson freed: how many blocks, and how many held (part of) the
 * key. */
static int freed, with_key;

static int has_key_part(const char *p, size_t n)
{
	/* 16 characters of it: a lexer buffer that grew holds a prefix. */
	for (size_t i = 0; i + 16 <= n; i++)
		if (memcmp(p + i, KEY, 16) == 0)
			return 1;
	return 0;
}

static void look_and_free(void *p)
{
	freed++;
	if (has_key_part(p, malloc_usable_size(p)))
		with_key++;
	free(p);
}

static void parse_and_dump(void)
{
	struct sj_connfile cf;
	struct sj_err err = { "" };
	char *text;

	assert_ok(sj_connfile_parse(connfile, strlen(connfile), &cf, &err),
		  err);
	assert_string_equal(cf.key, KEY);
	text = sj_connfile_dump(&cf, &err);
	assert_non_null(text);
	assert_non_null(strstr(text, KEY));
	explicit_bzero(text, strlen(text));
	free(text);
	explicit_bzero(&cf, sizeof(cf));
}

/* Without the wiping, jansson's freed blocks hold the key (so the check
 * below can see it); with it, none does. */
static void test_frees_wiped(void **state)
{
	(void)state;
	freed = with_key = 0;
	json_set_alloc_funcs(malloc, look_and_free);
	parse_and_dump();
	assert_true(with_key > 0);

	freed = with_key = 0;
	sj_json_wipe_frees_to(look_and_free);
	parse_and_dump();
	json_set_alloc_funcs(malloc, free);
	assert_true(freed > 0);
	assert_int_equal(with_key, 0);
}

/* The plugin cannot change jansson's allocator: writing a connection file
 * leaves no copy of the key all the same. */
static void test_dump_leaves_no_copy(void **state)
{
	struct sj_connfile cf;
	struct sj_err err = { "" };
	char *text;

	(void)state;
	assert_ok(sj_connfile_parse(connfile, strlen(connfile), &cf, &err),
		  err);
	freed = with_key = 0;
	json_set_alloc_funcs(malloc, look_and_free);
	text = sj_connfile_dump(&cf, &err);
	json_set_alloc_funcs(malloc, free);
	assert_non_null(text);
	assert_true(freed > 0);
	assert_int_equal(with_key, 0);
	explicit_bzero(text, strlen(text));
	free(text);
	explicit_bzero(&cf, sizeof(cf));
}

static void test_wipe_string(void **state)
{
	json_t *s = json_string(KEY), *i = json_integer(42);

	(void)state;
	assert_non_null(s);
	assert_non_null(i);
	sj_json_wipe_string(s);
	assert_int_equal(json_string_length(s), strlen(KEY));
	for (size_t k = 0; k < strlen(KEY); k++)
		assert_int_equal(json_string_value(s)[k], 0);
	sj_json_wipe_string(i);
	assert_int_equal(json_integer_value(i), 42);
	sj_json_wipe_string(NULL);
	json_decref(s);
	json_decref(i);
}

/* The same text as json_dumps, small or larger than the first buffer. */
static void test_dump_secret(void **state)
{
	json_t *root = json_object();
	char *want, *got, long_value[3000];

	(void)state;
	assert_non_null(root);
	assert_int_equal(json_object_set_new(root, "key", json_string(KEY)),
			 0);
	for (int round = 0; round < 2; round++) {
		want = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		got = sj_json_dump_secret(root, JSON_INDENT(2) |
					  JSON_PRESERVE_ORDER);
		assert_non_null(want);
		assert_non_null(got);
		assert_string_equal(got, want);
		free(want);
		free(got);
		memset(long_value, 'v', sizeof(long_value) - 1);
		long_value[sizeof(long_value) - 1] = '\0';
		assert_int_equal(json_object_set_new(root, "long",
						     json_string(long_value)),
				 0);
	}
	json_decref(root);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_frees_wiped),
	cmocka_unit_test(test_dump_leaves_no_copy),
	cmocka_unit_test(test_wipe_string),
	cmocka_unit_test(test_dump_secret))
