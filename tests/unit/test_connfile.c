// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connfile.h"
#include "testutil.h"

#define KEY "a0436f6c-1916-498b-8eb9-e81ab9368e84"

/* What jupyter_client writes, plus keys it adds that we ignore. */
static const char base_json[] =
	"{\n"
	"  \"shell_port\": 53794,\n"
	"  \"iopub_port\": 39247,\n"
	"  \"stdin_port\": 34807,\n"
	"  \"control_port\": 50675,\n"
	"  \"hb_port\": 52553,\n"
	"  \"ip\": \"127.0.0.1\",\n"
	"  \"key\": \"" KEY "\",\n"
	"  \"transport\": \"tcp\",\n"
	"  \"signature_scheme\": \"hmac-sha256\",\n"
	"  \"kernel_name\": \"python3\",\n"
	"  \"jupyter_session\": \"/home/u/x.ipynb\",\n"
	"  \"extra\": {\"nested\": [1, 2.5, null, true]}\n"
	"}\n";

static int parse_str(const char *s, struct sj_connfile *cf, struct sj_err *e)
{
	return sj_connfile_parse(s, strlen(s), cf, e);
}

/* base_json with one member replaced (value is JSON text) or, with value
 * NULL, removed; then parsed. */
static int parse_with(const char *member, const char *value,
		      struct sj_connfile *cf, struct sj_err *err)
{
	json_error_t jerr;
	json_t *root = json_loads(base_json, 0, &jerr);
	char *text;
	int rv;

	assert_non_null(root);
	if (value == NULL) {
		assert_int_equal(json_object_del(root, member), 0);
	} else {
		json_t *v = json_loads(value, JSON_DECODE_ANY |
				       JSON_ALLOW_NUL, &jerr);

		if (v == NULL)
			fail_msg("bad test JSON %s: %s", value, jerr.text);
		assert_int_equal(json_object_set_new(root, member, v), 0);
	}
	text = json_dumps(root, 0);
	assert_non_null(text);
	rv = sj_connfile_parse(text, strlen(text), cf, err);
	free(text);
	json_decref(root);
	return rv;
}

#define check_member(member, value, needle) do { \
	struct sj_connfile cf_; \
	struct sj_err err_ = { "" }; \
	assert_fails(parse_with(member, value, &cf_, &err_), err_, needle); \
} while (0)
#define check_member_ok(member, value) do { \
	struct sj_connfile cf_; \
	struct sj_err err_ = { "" }; \
	assert_ok(parse_with(member, value, &cf_, &err_), err_); \
} while (0)

static void test_parse_jupyter_file(void **state)
{
	struct sj_connfile cf;
	struct sj_err err = { "" };

	(void)state;
	assert_ok(parse_str(base_json, &cf, &err), err);
	assert_string_equal(cf.transport, "tcp");
	assert_string_equal(cf.ip, "127.0.0.1");
	assert_int_equal(cf.ports[SJ_SHELL], 53794);
	assert_int_equal(cf.ports[SJ_IOPUB], 39247);
	assert_int_equal(cf.ports[SJ_STDIN], 34807);
	assert_int_equal(cf.ports[SJ_CONTROL], 50675);
	assert_int_equal(cf.ports[SJ_HB], 52553);
	assert_string_equal(cf.key, KEY);
	assert_string_equal(cf.signature_scheme, "hmac-sha256");
	assert_string_equal(cf.kernel_name, "python3");
	/* Not NUL-terminated input: only len bytes count. */
	{
		size_t n = strlen(base_json);
		char *copy = malloc(n);

		assert_non_null(copy);
		memcpy(copy, base_json, n);
		assert_ok(sj_connfile_parse(copy, n, &cf, &err), err);
		free(copy);
	}
}

static void test_parse_ipc_and_optional(void **state)
{
	struct sj_connfile cf;
	struct sj_err err = { "" };
	const char *ipc = "{\"transport\": \"ipc\", \"ip\": \"/run/x/kernel\","
		"\"shell_port\": 0, \"iopub_port\": 1, \"stdin_port\": 2,"
		"\"control_port\": 3, \"hb_port\": 100000,"
		"\"key\": \"\", \"signature_scheme\": \"\"}";

	(void)state;
	assert_ok(parse_str(ipc, &cf, &err), err);
	assert_string_equal(cf.transport, "ipc");
	assert_int_equal(cf.ports[SJ_SHELL], 0);
	assert_int_equal(cf.ports[SJ_HB], 100000);
	assert_string_equal(cf.key, "");
	assert_string_equal(cf.kernel_name, "");
	/* kernel_name may be absent */
	check_member_ok("kernel_name", NULL);
	/* An empty key (no signing) allows any scheme name. */
	check_member_ok("key", "\"\"");
}

static void test_missing_fields(void **state)
{
	static const char *const required[] = {
		"shell_port", "iopub_port", "stdin_port", "control_port",
		"hb_port", "ip", "key", "transport", "signature_scheme",
	};
	char needle[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		snprintf(needle, sizeof(needle),
			 "connection file: \"%s\" is missing", required[i]);
		check_member(required[i], NULL, needle);
	}
}

static void test_wrong_types(void **state)
{
	(void)state;
	check_member("shell_port", "\"53794\"", "connection file: "
		     "\"shell_port\" must be an integer port, got string");
	check_member("iopub_port", "5555.0",
		     "\"iopub_port\" must be an integer port, got real number");
	check_member("hb_port", "null",
		     "\"hb_port\" must be an integer port, got null");
	check_member("stdin_port", "true",
		     "\"stdin_port\" must be an integer port, got boolean");
	check_member("control_port", "[5555]",
		     "\"control_port\" must be an integer port, got array");
	check_member("ip", "2130706433", "\"ip\" must be a string, got "
		     "integer");
	check_member("key", "{\"k\": 1}", "\"key\" must be a string, got "
		     "object");
	check_member("transport", "0", "\"transport\" must be a string");
	check_member("signature_scheme", "false",
		     "\"signature_scheme\" must be a string, got boolean");
	check_member("kernel_name", "[]", "\"kernel_name\" must be a string, "
		     "got array");
}

static void test_weird_values(void **state)
{
	char big[700];

	(void)state;
	check_member("transport", "\"udp\"",
		     "\"transport\" must be \"tcp\" or \"ipc\", got \"udp\"");
	check_member("transport", "\"TCP\"", "must be \"tcp\" or \"ipc\"");
	check_member("transport", "\"tcp \"", "must be \"tcp\" or \"ipc\"");
	check_member("transport", "\"\"", "must be \"tcp\" or \"ipc\"");
	check_member("transport", "\"tcpipcxx\"", "\"transport\" is longer");
	check_member("shell_port", "0", "\"shell_port\" must be a port "
		     "1-65535 for tcp, got 0");
	check_member("hb_port", "65536", "\"hb_port\" must be a port 1-65535 "
		     "for tcp, got 65536");
	check_member("iopub_port", "-1", "\"iopub_port\" must be a port "
		     "1-65535 for tcp, got -1");
	check_member("iopub_port", "99999999999", "\"iopub_port\" is out of "
		     "range, got 99999999999");
	check_member_ok("hb_port", "65535");
	check_member_ok("hb_port", "1");
	check_member("ip", "\"\"", "\"ip\" is empty");
	check_member("ip", "\"127.0.0.1\\n\"", "\"ip\" contains a control "
		     "character");
	check_member("ip", "\"a\\u0000b\"", "invalid JSON");
	memset(big, 'a', sizeof(big));
	big[0] = '"';
	big[257] = '"';
	big[258] = '\0';	/* 256 characters */
	check_member("ip", big, "\"ip\" is longer than 255 characters");
	big[256] = '"';
	big[257] = '\0';	/* 255 characters */
	check_member_ok("ip", big);
	/* key: at most SJ_KEY_MAX */
	memset(big, 'k', sizeof(big));
	big[0] = '"';
	big[SJ_KEY_MAX + 1] = '"';
	big[SJ_KEY_MAX + 2] = '\0';
	check_member_ok("key", big);
	big[SJ_KEY_MAX + 1] = 'k';
	big[SJ_KEY_MAX + 2] = '"';
	big[SJ_KEY_MAX + 3] = '\0';
	check_member("key", big, "\"key\" is longer than 512 characters");
	/* signature_scheme */
	check_member("signature_scheme", "\"sha256\"", "\"signature_scheme\" "
		     "must be \"hmac-DIGEST\" when a key is set, got \"sha256\"");
	check_member("signature_scheme", "\"hmac-\"", "must be \"hmac-DIGEST\"");
	check_member("signature_scheme", "\"\"", "must be \"hmac-DIGEST\"");
	check_member("signature_scheme", "\"hmac-sha256 \"",
		     "has a character other than letters");
	check_member("signature_scheme",
		     "\"hmac-sha256-sha256-sha256-sha256\"",
		     "\"signature_scheme\" is longer than 31");
	check_member_ok("signature_scheme", "\"hmac-sha512\"");
	check_member_ok("signature_scheme", "\"hmac-sha3_256\"");
	check_member("kernel_name", "\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"",
		     "\"kernel_name\" is longer than 127");
	/* Non-ASCII is fine in the key. */
	check_member_ok("key", "\"cl\\u00e9-\\u20ac\"");
}

static void test_malformed(void **state)
{
	struct sj_connfile cf;
	struct sj_err err = { "" };

	(void)state;
	assert_fails(parse_str("", &cf, &err), err,
		     "connection file: invalid JSON at line");
	assert_fails(parse_str("[]", &cf, &err), err,
		     "connection file: must be a JSON object, got array");
	assert_fails(parse_str("\"x\"", &cf, &err), err, "invalid JSON");
	assert_fails(parse_str("{\"ip\": 'x'}", &cf, &err), err,
		     "invalid JSON at line 1 column");
	assert_fails(parse_str("{} {}", &cf, &err), err, "invalid JSON");
	assert_fails(parse_str("{\"key\": \"a\", \"key\": \"b\"}", &cf, &err),
		     err, "duplicate object key");
	assert_fails(parse_str("{\"ip\": \"\\ud800\"}", &cf, &err), err,
		     "invalid JSON");
	assert_fails(parse_str("{\"ip\": \"\xff\xfe\"}", &cf, &err), err,
		     "invalid JSON");
	assert_fails(parse_str("{,}", &cf, &err), err, "invalid JSON");
}

/* Every proper prefix of a good file fails, and says where. */
static void test_truncated(void **state)
{
	struct sj_connfile cf;
	struct sj_err err = { "" };
	size_t n, len = strlen(base_json);

	(void)state;
	/* The final newline is optional whitespace. */
	for (n = 0; n < len - 1; n++)
		assert_fails(sj_connfile_parse(base_json, n, &cf, &err), err,
			     "connection file: invalid JSON at line ");
	/* Cut in the middle of "ip": jansson's line and column. */
	n = (size_t)(strstr(base_json, "127.0") - base_json);
	assert_fails(sj_connfile_parse(base_json, n + 3, &cf, &err), err,
		     "invalid JSON at line 7 column");
	assert_non_null(strstr(err.msg, "premature end of input"));
}

static void test_oversized(void **state)
{
	size_t n = SJ_CONNFILE_MAX_BYTES + 1;
	struct sj_connfile cf;
	struct sj_err err = { "" };
	char *big = malloc(n);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	assert_fails(sj_connfile_parse(big, n, &cf, &err), err,
		     "connection file: larger than 65536 bytes");
	free(big);
}

static void test_load_files(void **state)
{
	struct tmp *t = *state;
	struct sj_connfile cf;
	struct sj_err err = { "" };
	size_t len = strlen(base_json);
	char *big;

	write_raw(at(t, "good.json"), base_json, len);
	assert_ok(sj_connfile_load(t->path, &cf, &err), err);
	assert_string_equal(cf.key, KEY);

	assert_fails(sj_connfile_load(at(t, "missing.json"), &cf, &err), err,
		     "connection file: cannot open ");
	assert_non_null(strstr(err.msg, "missing.json: No such file or "
			       "directory"));
	assert_fails(sj_connfile_load(t->dir, &cf, &err), err,
		     "is not a regular file");
	assert_int_equal(symlink("good.json", at(t, "link.json")), 0);
	assert_fails(sj_connfile_load(t->path, &cf, &err), err,
		     "symbolic link, refused");

	/* Exactly the limit: padded with whitespace, still loads. */
	big = malloc(SJ_CONNFILE_MAX_BYTES + 1);
	assert_non_null(big);
	memset(big, ' ', SJ_CONNFILE_MAX_BYTES + 1);
	memcpy(big, base_json, len);
	write_raw(at(t, "max.json"), big, SJ_CONNFILE_MAX_BYTES);
	assert_ok(sj_connfile_load(t->path, &cf, &err), err);
	write_raw(at(t, "over.json"), big, SJ_CONNFILE_MAX_BYTES + 1);
	assert_fails(sj_connfile_load(t->path, &cf, &err), err,
		     "too large (65537 bytes, limit 65536)");
	free(big);

	/* Truncated on disk: the file is named, with line and column. */
	write_raw(at(t, "cut.json"), base_json, len / 2);
	assert_fails(sj_connfile_load(t->path, &cf, &err), err,
		     "connection file ");
	assert_non_null(strstr(err.msg, "cut.json: invalid JSON at line "));
	write_raw(at(t, "type.json"), "{\"shell_port\": \"1\"}", 19);
	assert_fails(sj_connfile_load(t->path, &cf, &err), err, "type.json: "
		     "\"transport\" is missing");
}

static void fill(struct sj_connfile *cf)
{
	memset(cf, 0, sizeof(*cf));
	strcpy(cf->transport, "ipc");
	strcpy(cf->ip, "/run/spank-jupyter/12.0/kernel");
	cf->ports[SJ_SHELL] = 1;
	cf->ports[SJ_IOPUB] = 2;
	cf->ports[SJ_STDIN] = 3;
	cf->ports[SJ_CONTROL] = 4;
	cf->ports[SJ_HB] = 5;
	/* Quotes, backslash, newline, non-ASCII: JSON escaping at work. */
	strcpy(cf->key, "k\"e\\y\n\xc3\xa9");
	strcpy(cf->signature_scheme, "hmac-sha256");
}

static void assert_same(const struct sj_connfile *a,
			const struct sj_connfile *b)
{
	int ch;

	assert_string_equal(a->transport, b->transport);
	assert_string_equal(a->ip, b->ip);
	for (ch = 0; ch < SJ_NCHANNELS; ch++)
		assert_int_equal(a->ports[ch], b->ports[ch]);
	assert_string_equal(a->key, b->key);
	assert_string_equal(a->signature_scheme, b->signature_scheme);
	assert_string_equal(a->kernel_name, b->kernel_name);
}

static void test_write_round_trip(void **state)
{
	struct tmp *t = *state;
	struct sj_connfile cf, back;
	struct sj_err err = { "" };
	struct stat st;

	fill(&cf);
	write_raw(at(t, "kernel.json"), "old", 3);
	assert_int_equal(chmod(t->path, 0644), 0);
	assert_ok(sj_connfile_write(t->path, &cf, &err), err);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_ok(sj_connfile_load(t->path, &back, &err), err);
	assert_memory_equal(&cf, &back, sizeof(cf));

	strcpy(cf.transport, "tcp");
	strcpy(cf.ip, "::1");
	cf.ports[SJ_HB] = 65535;
	strcpy(cf.kernel_name, "ir");
	assert_ok(sj_connfile_write(t->path, &cf, &err), err);
	assert_ok(sj_connfile_load(t->path, &back, &err), err);
	assert_same(&cf, &back);
}

static void test_dump(void **state)
{
	struct sj_connfile cf, back;
	struct sj_err err = { "" };
	char *text;

	(void)state;
	fill(&cf);
	text = sj_connfile_dump(&cf, &err);
	assert_non_null(text);
	/* Jupyter's layout: indented, the ports first. */
	assert_non_null(strstr(text, "{\n  \"shell_port\": 1,\n"));
	assert_non_null(strstr(text, "\"transport\": \"ipc\""));
	assert_null(strstr(text, "kernel_name"));	/* empty: left out */
	assert_ok(parse_str(text, &back, &err), err);
	assert_memory_equal(&cf, &back, sizeof(cf));
	free(text);

	/* Refuses what parse would refuse. */
	strcpy(cf.transport, "udp");
	assert_null(sj_connfile_dump(&cf, &err));
	assert_non_null(strstr(err.msg, "\"transport\" must be"));
	fill(&cf);
	strcpy(cf.transport, "tcp");
	cf.ports[SJ_STDIN] = 0;
	assert_null(sj_connfile_dump(&cf, &err));
	assert_non_null(strstr(err.msg, "\"stdin_port\" must be a port"));
	fill(&cf);
	memset(cf.transport, 'x', sizeof(cf.transport));
	assert_null(sj_connfile_dump(&cf, &err));
	assert_non_null(strstr(err.msg, "\"transport\" is too long"));
	fill(&cf);
	strcpy(cf.key, "\xff");		/* not UTF-8 */
	assert_null(sj_connfile_dump(&cf, &err));
	assert_non_null(strstr(err.msg, "not valid UTF-8"));
	fill(&cf);
	assert_fails(sj_connfile_write("/nonexistent/dir/k.json", &cf, &err),
		     err, "connection file: cannot create a temporary file");
}

static void test_endpoint(void **state)
{
	struct sj_connfile cf;
	struct sj_err err = { "" };
	char ep[128];

	(void)state;
	fill(&cf);
	assert_ok(sj_connfile_endpoint(&cf, SJ_CONTROL, ep, sizeof(ep), &err),
		  err);
	assert_string_equal(ep, "ipc:///run/spank-jupyter/12.0/kernel-4");
	strcpy(cf.transport, "tcp");
	strcpy(cf.ip, "10.77.0.11");
	cf.ports[SJ_SHELL] = 5555;
	assert_ok(sj_connfile_endpoint(&cf, SJ_SHELL, ep, sizeof(ep), &err),
		  err);
	assert_string_equal(ep, "tcp://10.77.0.11:5555");
	strcpy(cf.ip, "fe80::1");
	assert_ok(sj_connfile_endpoint(&cf, SJ_HB, ep, sizeof(ep), &err), err);
	assert_string_equal(ep, "tcp://[fe80::1]:5");
	/* Exactly fitting, and one byte short. */
	assert_ok(sj_connfile_endpoint(&cf, SJ_HB, ep, 18, &err), err);
	assert_fails(sj_connfile_endpoint(&cf, SJ_HB, ep, 17, &err), err,
		     "hb endpoint does not fit in 17 bytes");
	assert_fails(sj_connfile_endpoint(&cf, SJ_NCHANNELS, ep, sizeof(ep),
					  &err), err, "no such channel");
	cf.ports[SJ_HB] = 0;
	assert_fails(sj_connfile_endpoint(&cf, SJ_HB, ep, sizeof(ep), &err),
		     err, "\"hb_port\" must be a port 1-65535");
}

static void test_channel_names(void **state)
{
	(void)state;
	assert_string_equal(sj_channel_name(SJ_SHELL), "shell");
	assert_string_equal(sj_channel_name(SJ_IOPUB), "iopub");
	assert_string_equal(sj_channel_name(SJ_STDIN), "stdin");
	assert_string_equal(sj_channel_name(SJ_CONTROL), "control");
	assert_string_equal(sj_channel_name(SJ_HB), "hb");
	assert_string_equal(sj_channel_name(SJ_NCHANNELS), "?");
	assert_string_equal(sj_channel_name((enum sj_channel)-1), "?");
}

static void test_check_signing(void **state)
{
	struct sj_err err = { "" };

	(void)state;
	assert_ok(sj_connfile_check_signing("k", "hmac-sha256", &err), err);
	assert_ok(sj_connfile_check_signing("", "", &err), err);
	assert_ok(sj_connfile_check_signing("", "none", &err), err);
	assert_fails(sj_connfile_check_signing("k", "", &err), err,
		     "must be \"hmac-DIGEST\" when a key is set");
	assert_fails(sj_connfile_check_signing("k", "hmac-sha/256", &err),
		     err, "other than letters, digits");
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_parse_jupyter_file),
	cmocka_unit_test(test_parse_ipc_and_optional),
	cmocka_unit_test(test_missing_fields),
	cmocka_unit_test(test_wrong_types),
	cmocka_unit_test(test_weird_values),
	cmocka_unit_test(test_malformed),
	cmocka_unit_test(test_truncated),
	cmocka_unit_test(test_oversized),
	cmocka_unit_test_setup_teardown(test_load_files, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_write_round_trip, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test(test_dump),
	cmocka_unit_test(test_endpoint),
	cmocka_unit_test(test_channel_names),
	cmocka_unit_test(test_check_signing))
