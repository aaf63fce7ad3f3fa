// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <munge.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "rdv_testutil.h"
#include "rendezvous.h"
#include "testutil.h"

/* --- spec ---------------------------------------------------------- */

static void spec_ok(const char *s, const char *host, int port)
{
	struct sj_rdv_spec spec;
	struct sj_err err = { "" };

	if (sj_rdv_spec_parse(s, &spec, &err) != 0)
		fail_msg("\"%s\" rejected: %s", s, err.msg);
	assert_string_equal(spec.host, host);
	assert_int_equal(spec.port, port);
	assert_string_equal(spec.nonce, NONCE);
}

static void spec_bad(const char *s, const char *needle)
{
	struct sj_rdv_spec spec;
	struct sj_err err = { "" };

	assert_fails(sj_rdv_spec_parse(s, &spec, &err), err, needle);
}

static void test_spec_parse(void **state)
{
	char longhost[400];

	(void)state;
	spec_ok("10.77.0.1:40123:" NONCE, "10.77.0.1", 40123);
	spec_ok(":40123:" NONCE, "", 40123);
	spec_ok("[::1]:1:" NONCE, "::1", 1);
	spec_ok("[fe80::1:2]:65535:" NONCE, "fe80::1:2", 65535);
	spec_ok("login.cluster-1.example_org:5:" NONCE,
		"login.cluster-1.example_org", 5);

	spec_bad("", "expected HOST:PORT:NONCE");
	{
		struct sj_rdv_spec spec;
		struct sj_err err = { "" };

		assert_fails(sj_rdv_spec_parse(NULL, &spec, &err), err,
			     "rendezvous: no value given");
	}
	spec_bad("marker", "expected HOST:PORT:NONCE");
	spec_bad("h:5", "expected HOST:PORT:NONCE");
	spec_bad("h:0:" NONCE, "port must be 1-65535");
	spec_bad("h:65536:" NONCE, "port must be 1-65535");
	spec_bad("h:+5:" NONCE, "port must be 1-65535");
	spec_bad("h: 5:" NONCE, "port must be 1-65535");
	spec_bad("h:05:" NONCE, "port must be 1-65535");
	spec_bad("h::" NONCE, "port must be 1-65535");
	spec_bad("h:5:", "nonce must be 32 lowercase hex digits");
	spec_bad("h:5:0123456789ABCDEF0123456789abcdef",
		 "nonce must be 32 lowercase hex digits");
	spec_bad("h:5:" NONCE "0", "nonce must be");
	spec_bad("h:5:" NONCE ":x", "nonce must be");
	spec_bad("h:5:0123456789abcdef0123456789abcde", "nonce must be");
	spec_bad("h:5:" NONCE "\n", "rendezvous \"h:5:" NONCE "?\": nonce "
		 "must be");
	/* Quoted for a log (slurmd's): no line of its own, no escapes. */
	spec_bad("h\x1b[2J\n\xc3\xa9:5:" NONCE, "rendezvous \"h?[2J???:5:"
		 NONCE "\": bad host \"h?[2J???\"");
	/* IPv6 only in brackets. */
	spec_bad("::1:5:" NONCE, "port must be 1-65535");
	spec_bad("[::1:5:" NONCE, "expected [IPV6]:PORT:NONCE");
	spec_bad("[::1]5:" NONCE, "expected [IPV6]:PORT:NONCE");
	spec_bad("[]:5:" NONCE, "bad host \"\"");
	spec_bad("[1.2.3.4]:5:" NONCE, "bad host \"1.2.3.4\"");
	spec_bad("[login]:5:" NONCE, "bad host");
	spec_bad("ho st:5:" NONCE, "bad host");
	spec_bad("h/x:5:" NONCE, "bad host");
	spec_bad("h;rm:5:" NONCE, "bad host");
	memset(longhost, 'a', sizeof(longhost));
	strcpy(longhost + 300, ":5:" NONCE);
	spec_bad(longhost, "host name too long");
}

static void test_spec_format(void **state)
{
	struct sj_rdv_spec spec, back;
	struct sj_err err = { "" };
	char buf[400];

	(void)state;
	memset(&spec, 0, sizeof(spec));
	strcpy(spec.host, "10.77.0.1");
	spec.port = 40123;
	strcpy(spec.nonce, NONCE);
	assert_ok(sj_rdv_spec_format(&spec, buf, sizeof(buf), &err), err);
	assert_string_equal(buf, "10.77.0.1:40123:" NONCE);
	strcpy(spec.host, "fd00::1");
	assert_ok(sj_rdv_spec_format(&spec, buf, sizeof(buf), &err), err);
	assert_string_equal(buf, "[fd00::1]:40123:" NONCE);
	assert_ok(sj_rdv_spec_parse(buf, &back, &err), err);
	assert_string_equal(back.host, "fd00::1");
	strcpy(spec.host, "");
	assert_ok(sj_rdv_spec_format(&spec, buf, sizeof(buf), &err), err);
	assert_string_equal(buf, ":40123:" NONCE);
	/* Exactly fits / one short. */
	assert_ok(sj_rdv_spec_format(&spec, buf, 40, &err), err);
	assert_fails(sj_rdv_spec_format(&spec, buf, 39, &err), err,
		     "buffer too small");
	spec.port = 0;
	assert_fails(sj_rdv_spec_format(&spec, buf, sizeof(buf), &err), err,
		     "port 0 out of range");
	spec.port = 1;
	spec.nonce[3] = 'X';
	assert_fails(sj_rdv_spec_format(&spec, buf, sizeof(buf), &err), err,
		     "nonce must be 32 lowercase hex digits");
	strcpy(spec.nonce, NONCE);
	strcpy(spec.host, "a b");
	assert_fails(sj_rdv_spec_format(&spec, buf, sizeof(buf), &err), err,
		     "bad host");
	strcpy(spec.host, "fe80::zz");
	assert_fails(sj_rdv_spec_format(&spec, buf, sizeof(buf), &err), err,
		     "bad host");
}

/* --- HELLO / WELCOME: what goes on the wire ------------------------- */

#define HELLO_JSON "{\"type\":\"hello\",\"nonce\":\"" NONCE "\"," \
	"\"node_nonce\":\"" NONCE2 "\",\"node\":\"n1\"," \
	"\"addr\":\"10.77.0.11\",\"relay_port\":65535,\"server_key\":\"" PUB \
	"\",\"job_id\":4294967295,\"step_id\":0}"

static void test_hello_round_trip(void **state)
{
	struct sj_hello h, back;
	struct sj_err err = { "" };
	char *text;

	(void)state;
	fill_hello(&h);
	text = sj_hello_encode(&h, &err);
	if (text == NULL)
		fail_msg("%s", err.msg);
	assert_string_equal(text, "sjrdv=5\n" HELLO_JSON);
	memset(&back, 0x5a, sizeof(back));
	assert_ok(sj_hello_decode(text, strlen(text), &back, &err), err);
	assert_memory_equal(&h, &back, sizeof(h));
	free(text);

	strcpy(h.addr, "fd00::b");
	strcpy(h.node, "gpu-node_7.cluster");
	text = sj_hello_encode(&h, &err);
	assert_non_null(text);
	assert_ok(sj_hello_decode(text, strlen(text), &back, &err), err);
	assert_string_equal(back.addr, "fd00::b");
	assert_string_equal(back.node, "gpu-node_7.cluster");
	free(text);
}

/* Encodes w, decodes it again and checks that what came back is w. */
static void welcome_again(const struct sj_welcome *w, const char *needle)
{
	struct sj_welcome back;
	struct sj_err err = { "" };
	char *text;

	text = sj_welcome_encode(w, &err);
	if (text == NULL)
		fail_msg("%s", err.msg);
	if (needle != NULL)
		assert_contains(text, needle);
	assert_ok(sj_welcome_decode(text, strlen(text), &back, &err), err);
	assert_string_equal(w->nonce, back.nonce);
	assert_string_equal(w->node_nonce, back.node_nonce);
	assert_string_equal(w->key, back.key);
	assert_string_equal(w->signature_scheme, back.signature_scheme);
	assert_string_equal(w->client_key, back.client_key);
	assert_string_equal(w->transport, back.transport);
	free(text);
}

static void test_welcome_round_trip(void **state)
{
	struct sj_welcome w;

	(void)state;
	fill_welcome(&w);
	welcome_again(&w, "\"transport\":\"default\"}");
	/* A key with every awkward byte: JSON's escapes, back intact. */
	strcpy(w.key, "a\"b\nc\rd\te=f%0A\x7f\x01 \xc3\xa9 \\ ;");
	welcome_again(&w, "\"key\":\"a\\\"b\\nc\\rd\\te=f%0A\x7f\\u0001 "
		      "\xc3\xa9 \\\\ ;\"");
	/* No key: no signing; any scheme name. */
	strcpy(w.key, "");
	strcpy(w.signature_scheme, "");
	welcome_again(&w, "\"key\":\"\",\"signature_scheme\":\"\"");
	/* The longest key; each transport. */
	memset(w.key, 'k', SJ_KEY_MAX);
	w.key[SJ_KEY_MAX] = '\0';
	strcpy(w.signature_scheme, "hmac-sha512");
	strcpy(w.transport, "tcp");
	welcome_again(&w, "\"transport\":\"tcp\"");
	strcpy(w.transport, "ipc");
	welcome_again(&w, NULL);
}

static void test_encode_refuses(void **state)
{
	struct sj_hello h;
	struct sj_welcome w;
	struct sj_err err = { "" };

	(void)state;
	fill_hello(&h);
	h.port = 0;
	assert_null(sj_hello_encode(&h, &err));
	assert_contains(err.msg, "rendezvous HELLO: \"relay_port\" must be a "
			"port 1-65535");
	fill_hello(&h);
	h.server_key[0] = 'G';
	assert_null(sj_hello_encode(&h, &err));
	assert_contains(err.msg, "\"server_key\" must be a key of 64 "
			"lowercase hex digits");
	fill_hello(&h);
	memset(h.node, 'n', sizeof(h.node));
	assert_null(sj_hello_encode(&h, &err));
	assert_contains(err.msg, "\"node\" is not terminated");
	fill_hello(&h);
	strcpy(h.addr, "n1");
	assert_null(sj_hello_encode(&h, &err));
	assert_contains(err.msg, "\"addr\" must be a numeric IPv4 or IPv6");
	fill_welcome(&w);
	strcpy(w.signature_scheme, "sha256");
	assert_null(sj_welcome_encode(&w, &err));
	assert_contains(err.msg, "rendezvous WELCOME: \"signature_scheme\" "
			"must be \"hmac-DIGEST\"");
	fill_welcome(&w);
	memset(w.key, 'k', sizeof(w.key));
	assert_null(sj_welcome_encode(&w, &err));
	assert_contains(err.msg, "\"key\" is not terminated");
	/* JSON holds text: a key that is not UTF-8 cannot go. */
	fill_welcome(&w);
	strcpy(w.key, "k\xff");
	assert_null(sj_welcome_encode(&w, &err));
	assert_contains(err.msg, "rendezvous WELCOME: \"key\": Invalid UTF-8");
	fill_welcome(&w);
	strcpy(w.transport, "udp");
	assert_null(sj_welcome_encode(&w, &err));
	assert_contains(err.msg, "\"transport\" must be default, ipc or tcp");
}

/* --- HELLO / WELCOME: what is refused ---------------------------------- */

/* The encoded message (a HELLO, or a WELCOME if welcome) with field
 * `name` set to the JSON `value` (or removed if NULL), then decoded. */
static int decode_with(int welcome, const char *name, const char *value,
		       struct sj_err *err)
{
	struct sj_hello h;
	struct sj_welcome w;
	json_error_t je;
	char *text, *out;
	json_t *o;
	int rv;

	fill_hello(&h);
	fill_welcome(&w);
	text = welcome ? sj_welcome_encode(&w, err) : sj_hello_encode(&h, err);
	assert_non_null(text);
	o = json_loads(strchr(text, '\n') + 1, 0, &je);
	assert_non_null(o);
	free(text);
	if (value == NULL)
		assert_int_equal(json_object_del(o, name), 0);
	else if (json_object_set_new(o, name, json_loads(value, JSON_DECODE_ANY
				       | JSON_ALLOW_NUL, &je)) != 0)
		fail_msg("%s: %s", value, je.text);
	out = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(out);
	json_decref(o);
	assert_int_equal(asprintf(&text, "sjrdv=5\n%s", out) > 0, 1);
	free(out);
	rv = welcome ? sj_welcome_decode(text, strlen(text), &w, err)
		     : sj_hello_decode(text, strlen(text), &h, err);
	free(text);
	return rv;
}

struct field_case {
	int welcome;
	const char *name, *value;	/* JSON, or NULL: the field is gone */
	const char *needle;		/* NULL: accepted */
};

static const struct field_case field_cases[] = {
	{ 0, "node", "\"n1\"", NULL },
	{ 0, "job_id", "0", NULL },
	{ 0, "addr", "\"fd00::b\"", NULL },
	{ 0, "job_id", NULL, "rendezvous HELLO: field \"job_id\" is missing" },
	{ 0, "nonce", NULL, "field \"nonce\" is missing" },
	{ 0, "type", NULL, "field \"type\" is missing" },
	{ 0, "foo", "\"bar\"", "rendezvous HELLO: unknown field \"foo\"" },
	{ 0, "f\no", "1", "unknown field \"f?o\"" },
	{ 0, "type", "\"welcome\"", "rendezvous HELLO: expected type "
	  "\"hello\", got \"welcome\"" },
	{ 0, "type", "1", "\"type\": Expected string, got integer" },
	/* The peer's text goes to a log (slurmd's, for the plugin): no line
	 * of its own, no escape sequence, no byte above ASCII. */
	{ 0, "type", "\"\\u001b[2J\\nspank_jupyter: x\"", "expected type "
	  "\"hello\", got \"?[2J?spank_jupyter: x\"" },
	{ 0, "type", "\"\\u00e9t\\u00e9\"", "got \"??t??\"" },
	{ 0, "relay_port", "0", "\"relay_port\" must be a port 1-65535" },
	{ 0, "relay_port", "65536", "must be a port 1-65535" },
	{ 0, "relay_port", "-1", "must be a port 1-65535" },
	{ 0, "relay_port", "\"1\"", "rendezvous HELLO: \"relay_port\": "
	  "Expected integer, got string" },
	{ 0, "relay_port", "1.0", "\"relay_port\": Expected integer, got real" },
	{ 0, "relay_port", "null", "\"relay_port\": Expected integer, got null" },
	{ 0, "job_id", "4294967296", "\"job_id\" must be an unsigned 32-bit "
	  "integer" },
	{ 0, "step_id", "-1", "\"step_id\" must be an unsigned 32-bit" },
	{ 0, "step_id", "true", "\"step_id\": Expected integer, got true" },
	{ 0, "server_key", "\"8520F0098930a754748b7ddcb43ef75a0dbf3a0d26381af4e"
	  "ba4a98eaa9b4e6a\"", "\"server_key\" must be a key of 64 lowercase "
	  "hex digits" },
	{ 0, "server_key", "\"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4e"
	  "ba4a98eaa9b4e6\"", "\"server_key\" must be a key of 64" },
	{ 0, "server_key", "[]", "\"server_key\": Expected string, got array" },
	{ 0, "nonce", "\"0123456789ABCDEF0123456789abcdef\"", "\"nonce\" must "
	  "be 32 lowercase hex digits" },
	{ 0, "node_nonce", "\"0123\"", "\"node_nonce\" must be 32 lowercase "
	  "hex digits" },
	{ 0, "addr", "\"login\"", "\"addr\" must be a numeric IPv4" },
	{ 0, "addr", "\"10.0.0.1\\n\"", "\"addr\" must be a numeric" },
	{ 0, "addr", "\"\"", "\"addr\" must be a numeric" },
	{ 0, "node", "\"\"", "\"node\" must be a host name of 1-63" },
	{ 0, "node", "\"n 1\"", "must be a host name" },
	{ 0, "node", "\"n\\n1\"", "must be a host name" },
	{ 0, "node", "{}", "\"node\": Expected string, got object" },
	{ 0, "node", "\"n\\u00001\"", "rendezvous HELLO: invalid JSON at line "
	  "1 column " },
	{ 1, "key", "\"k\"", NULL },
	{ 1, "transport", "\"tcp\"", NULL },
	{ 1, "key", NULL, "rendezvous WELCOME: field \"key\" is missing" },
	{ 1, "key", "7", "rendezvous WELCOME: \"key\": Expected string, got "
	  "integer" },
	{ 1, "transport", "\"udp\"", "\"transport\" must be default, ipc or "
	  "tcp" },
	{ 1, "transport", "\"\"", "\"transport\" must be default, ipc or tcp" },
	{ 1, "signature_scheme", "\"sha256\"", "\"signature_scheme\" must be "
	  "\"hmac-DIGEST\"" },
	{ 1, "client_key", "\"" NONCE "\"", "\"client_key\" must be a key of "
	  "64 lowercase hex digits" },
	{ 1, "type", "\"hello\"", "rendezvous WELCOME: expected type "
	  "\"welcome\", got \"hello\"" },
	{ 1, "node", "\"n1\"", "unknown field \"node\"" },
};

static void test_decode_fields(void **state)
{
	const struct field_case *c;
	char long_name[80];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		struct sj_err err = { "" };
		int rv;

		c = &field_cases[i];
		rv = decode_with(c->welcome, c->name, c->value, &err);
		if (c->needle == NULL && rv != 0)
			fail_msg("%s=%s refused: %s", c->name, c->value,
				 err.msg);
		if (c->needle != NULL)
			assert_fails(rv, err, c->needle);
	}
	/* The longest host name, and one more. */
	memset(long_name, 'n', sizeof(long_name));
	long_name[0] = '"';
	strcpy(long_name + 1 + 63, "\"");
	assert_int_equal(decode_with(0, "node", long_name, NULL), 0);
	long_name[1 + 63] = 'n';
	strcpy(long_name + 1 + 64, "\"");
	{
		struct sj_err err = { "" };

		assert_fails(decode_with(0, "node", long_name, &err), err,
			     "must be a host name of 1-63 characters");
	}
}

/* The key is counted after JSON's escapes: 512 bytes fit, 100 of them
 * escaped (six characters each on the wire), 513 do not. */
static void test_decode_key_length(void **state)
{
	struct sj_err err = { "" };
	char big[SJ_KEY_MAX * 6 + 8];
	int i;

	(void)state;
	strcpy(big, "\"");
	for (i = 0; i < 100; i++)
		strcat(big, "\\u0025");
	for (i = 100; i < SJ_KEY_MAX; i++)
		strcat(big, "k");
	assert_ok(decode_with(1, "key", strcat(big, "\""), &err), err);
	strcpy(big + strlen(big) - 1, "k\"");
	assert_fails(decode_with(1, "key", big, &err), err,
		     "rendezvous WELCOME: \"key\" is longer than 512 bytes");
}

struct shape_case {
	const char *text, *needle;
};

/* Whole texts; a version of old is refused by name, whatever follows. */
static const struct shape_case shape_cases[] = {
	{ "sjrdv=4\ntype=hello\nnonce=" NONCE "\n", "rendezvous HELLO: "
	  "unsupported version \"sjrdv=4\" (this end speaks sjrdv=5)" },
	{ "sjrdv=3\n", "unsupported version \"sjrdv=3\" (this end speaks "
	  "sjrdv=5)" },
	{ "sjrdv=6\n" HELLO_JSON, "unsupported version \"sjrdv=6\"" },
	{ "sjrdv=12345678901234567890", "unsupported version "
	  "\"sjrdv=1234567890\"" },
	{ "sjrdv=5", "rendezvous HELLO: nothing after the version line" },
	{ "sjrdv=4\r\n", "unsupported version \"sjrdv=4?\" (this end" },
	{ "sjrdv=\x1b[2J\n", "unsupported version \"sjrdv=?[2J\"" },
	{ "GET / HTTP/1.0\r\n\r\n", "rendezvous HELLO: not a rendezvous "
	  "message" },
	{ "", "not a rendezvous message" },
	{ HELLO_JSON, "not a rendezvous message" },
	{ "sjrdv=5\n", "rendezvous HELLO: invalid JSON at line 1" },
	{ "sjrdv=5\n[]", "rendezvous HELLO: Expected object, got array" },
	{ "sjrdv=5\n" HELLO_JSON " {}", "invalid JSON" },
	{ "sjrdv=5\n{\"type\":\"hello\",\"type\":\"hello\"}", "invalid JSON "
	  "at line 1 column 22: duplicate object key near '\"type\"'" },
	{ "sjrdv=5\n{\"type\":\"hello\",\"nonce\":\"" NONCE "\",\"nonce\":\""
	  NONCE "\"}", "duplicate object key" },
	{ "sjrdv=5\n{\"job_id\":99999999999999999999999}", "too big integer" },
};

#define NUL_AFTER_NUMBER "sjrdv=5\n{\"job_id\":1\0}"

static void test_decode_shape(void **state)
{
	struct sj_hello h;
	struct sj_err err = { "" };
	char *text, *big;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++)
		assert_fails(sj_hello_decode(shape_cases[i].text,
					     strlen(shape_cases[i].text), &h,
					     &err), err, shape_cases[i].needle);
	/* jansson alone would read this as {"job_id":1}. */
	assert_fails(sj_hello_decode(NUL_AFTER_NUMBER,
				     sizeof(NUL_AFTER_NUMBER) - 1, &h, &err),
		     err, "rendezvous HELLO: contains a NUL byte");
	/* Cut anywhere, or with a NUL anywhere: refused. */
	fill_hello(&h);
	text = sj_hello_encode(&h, &err);
	assert_non_null(text);
	len = strlen(text);
	for (i = 0; i < len; i++) {
		char c = text[i];

		if (sj_hello_decode(text, i, &h, &err) == 0)
			fail_msg("cut to %zu bytes: accepted", i);
		text[i] = '\0';
		if (sj_hello_decode(text, len, &h, &err) == 0)
			fail_msg("NUL at %zu: accepted", i);
		text[i] = c;
	}
	free(text);
	big = malloc(SJ_FRAME_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', SJ_FRAME_MAX + 1);
	memcpy(big, "sjrdv=5\n" HELLO_JSON, strlen("sjrdv=5\n" HELLO_JSON));
	assert_fails(sj_hello_decode(big, SJ_FRAME_MAX + 1, &h, &err), err,
		     "rendezvous HELLO: larger than 16384 bytes");
	/* Trailing white space is JSON's: the same message. */
	assert_ok(sj_hello_decode(big, SJ_FRAME_MAX, &h, &err), err);
	free(big);
}

/* A WELCOME jansson cannot read is refused without the text jansson
 * quotes (the token it stopped in): that could be the key's beginning,
 * bound for slurmd's log.  A HELLO holds no secret and keeps it. */
static void test_welcome_error_hides_key(void **state)
{
	static const char *const texts[] = {
		"sjrdv=5\n{\"type\":\"welcome\",\"key\":\"s3cr\x01t\"}",
		"sjrdv=5\n{\"type\":\"welcome\",\"key\":\"s3cret",
		"sjrdv=5\n{\"type\":\"welcome\",\"key\":\"s3c\\q\"}",
	};
	struct sj_welcome w;
	struct sj_hello h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct sj_err err = { "" };

		assert_fails(sj_welcome_decode(texts[i], strlen(texts[i]), &w,
					       &err), err, "rendezvous WELCOME: "
			     "invalid JSON at line 1 column ");
		if (strstr(err.msg, "s3c") != NULL)
			fail_msg("the key shows: %s", err.msg);
		assert_fails(sj_hello_decode(texts[i], strlen(texts[i]), &h,
					     &err), err, "near '\"s3c");
	}
}

static void test_hello_text_bound(void **state)
{
	struct sj_hello h, back;
	struct sj_err err = { "" };
	char *text;

	(void)state;
	longest_hello(&h);
	text = sj_hello_encode(&h, &err);
	if (text == NULL)
		fail_msg("%s", err.msg);
	assert_ok(sj_hello_decode(text, strlen(text), &back, &err), err);
	assert_memory_equal(&h, &back, sizeof(h));
	if (strlen(text) > SJ_HELLO_TEXT_MAX)
		fail_msg("the longest HELLO has %zu bytes, more than "
			 "SJ_HELLO_TEXT_MAX", strlen(text));
	/* Nothing longer is a HELLO: one more character anywhere. */
	strcpy(h.addr, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2551");
	assert_null(sj_hello_encode(&h, &err));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_parse),
		cmocka_unit_test(test_spec_format),
		cmocka_unit_test(test_hello_round_trip),
		cmocka_unit_test(test_welcome_round_trip),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_decode_fields),
		cmocka_unit_test(test_decode_key_length),
		cmocka_unit_test(test_decode_shape),
		cmocka_unit_test(test_welcome_error_hides_key),
		cmocka_unit_test(test_hello_text_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
