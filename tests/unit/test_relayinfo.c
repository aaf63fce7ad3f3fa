// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "rdv_testutil.h"
#include "relayinfo.h"
#include "testutil.h"

static void write_text(const char *path, const char *text)
{
	write_raw(path, text, strlen(text));
}

static void fill(struct sj_relayinfo *ri)
{
	struct sj_err err = { "" };
	char unused[SJ_KEY_HEX + 1];

	memset(ri, 0, sizeof(*ri));
	strcpy(ri->address, "10.77.0.11");
	strcpy(ri->login_address, "10.77.0.1");
	ri->port = 40000;
	ri->fd = 3;
	assert_ok(sj_rdv_keypair(ri->server_public, ri->server_secret, &err),
		  err);
	assert_ok(sj_rdv_keypair(ri->client_public, unused, &err), err);
	strcpy(ri->nonce, "00112233445566778899aabbccddeeff");
	strcpy(ri->node_nonce, "ffeeddccbbaa99887766554433221100");
	ri->job_id = 4294967295u;
	ri->step_id = 7;
}

static void test_round_trip(void **state)
{
	struct tmp *t = *state;
	struct sj_relayinfo ri, back;
	struct sj_err err = { "" };
	struct stat st;

	fill(&ri);
	assert_ok(sj_relayinfo_write(at(t, SJ_RELAY_FILE), &ri, &err), err);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	memset(&back, 0x5a, sizeof(back));
	assert_ok(sj_relayinfo_load(t->path, &back, &err), err);
	assert_memory_equal(&ri, &back, sizeof(ri));

	strcpy(ri.address, "fd00::11");
	strcpy(ri.login_address, "fd00::1");
	ri.port = 65535;
	ri.fd = 0;
	assert_ok(sj_relayinfo_write(t->path, &ri, &err), err);
	assert_ok(sj_relayinfo_load(t->path, &back, &err), err);
	assert_string_equal(back.address, "fd00::11");
	assert_string_equal(back.login_address, "fd00::1");
	assert_int_equal(back.port, 65535);
	assert_int_equal(back.fd, 0);
}

static void test_write_refuses(void **state)
{
	struct tmp *t = *state;
	struct sj_relayinfo ri;
	struct sj_err err = { "" };

	fill(&ri);
	strcpy(ri.address, "n1");
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "relay info: \"address\" is not a numeric IPv4 or IPv6");
	fill(&ri);
	strcpy(ri.login_address, "login");
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"login_address\" is not a numeric IPv4 or IPv6");
	fill(&ri);
	ri.port = 0;
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"port\": 0 is out of range 1-65535");
	fill(&ri);
	ri.fd = -1;
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"fd\": descriptor -1 is negative");
	fill(&ri);
	ri.server_secret[3] = 'A';
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"server_secret\" is not 64 lowercase hex digits");
	fill(&ri);
	ri.client_public[63] = '\0';
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"client_public\" is not 64 lowercase hex digits");
	fill(&ri);
	ri.node_nonce[5] = 'A';
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"node_nonce\" is not 32 lowercase hex digits");
	fill(&ri);
	ri.nonce[31] = '\0';
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"nonce\" is not 32 lowercase hex digits");
	/* Nothing was written. */
	assert_int_equal(access(at(t, "r.json"), F_OK), -1);
	fill(&ri);
	assert_fails(sj_relayinfo_write(at(t, "no/r.json"), &ri, &err), err,
		     "relay info: cannot create a temporary file");
}

/* A good relay.json with member `name` set to the JSON `value` (or left
 * out if NULL), then loaded. */
static int load_with(struct tmp *t, const char *name, const char *value,
		     struct sj_relayinfo *ri, struct sj_err *err)
{
	const char *p = at(t, "r.json");
	json_error_t je;
	json_t *o;

	fill(ri);
	assert_ok(sj_relayinfo_write(p, ri, err), *err);
	o = json_load_file(p, 0, &je);
	assert_non_null(o);
	if (value == NULL)
		assert_int_equal(json_object_del(o, name), 0);
	else if (json_object_set_new(o, name, json_loads(value,
				     JSON_DECODE_ANY, &je)) != 0)
		fail_msg("%s: %s", value, je.text);
	assert_int_equal(json_dump_file(o, p, 0), 0);
	json_decref(o);
	memset(ri, 0, sizeof(*ri));
	return sj_relayinfo_load(p, ri, err);
}

static const struct {
	const char *name, *value, *needle;
} load_cases[] = {
	{ "xjob_id", "1", "unknown field \"xjob_id\"" },
	{ "job_id", NULL, "field \"job_id\" is missing" },
	{ "job_id", "-1", "\"job_id\" must be an integer 0-4294967295" },
	{ "step_id", "4294967296", "\"step_id\" must be an integer 0-" },
	{ "address", NULL, "field \"address\" is missing" },
	{ "address", "10", "\"address\": Expected string, got integer" },
	{ "address", "\"n1\"", "\"address\" is not a numeric IPv4 or IPv6" },
	{ "login_address", NULL, "field \"login_address\" is missing" },
	{ "port", "[1,2]", "\"port\": Expected integer, got array" },
	{ "port", "\"5\"", "\"port\": Expected integer, got string" },
	{ "port", NULL, "field \"port\" is missing" },
	{ "port", "70000", "\"port\" must be an integer 1-65535" },
	{ "fd", "-1", "\"fd\" must be an integer 0-2147483647" },
	{ "fd", "4294967299", "\"fd\" must be an integer 0-2147483647" },
	{ "server_secret", "\"00\"", "\"server_secret\" is not 64 lowercase "
	  "hex digits" },
	{ "client_public", "\"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af"
	  "4eba4a98eaa9b4e6a0\"", "\"client_public\" is longer than 64 bytes" },
	{ "node_nonce", "\"0123\"", "\"node_nonce\" is not 32 lowercase hex" },
};

static void test_load_strict(void **state)
{
	struct tmp *t = *state;
	struct sj_relayinfo ri;
	struct sj_err err = { "" };
	const char *p = at(t, "r.json");
	size_t i;

	assert_ok(load_with(t, "port", "4", &ri, &err), err);
	assert_int_equal(ri.port, 4);
	for (i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
		assert_fails(load_with(t, load_cases[i].name,
				       load_cases[i].value, &ri, &err),
			     err, load_cases[i].needle);
		assert_contains(err.msg, "relay info ");
		assert_contains(err.msg, "r.json: ");
	}
	write_text(p, "{\"address\": \"10.0.0.1\", \"address\": \"10.0.0.2\"}");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "duplicate object key");
	write_text(p, "{\"address\": ");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "invalid JSON at line 1");
	/* Cut short in the secret key: jansson would quote its first
	 * characters, and the node shim logs the error. */
	write_text(p, "{\"server_secret\": \"8520f0098930a7");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "invalid JSON at line 1 column ");
	if (strstr(err.msg, "8520f") != NULL)
		fail_msg("the secret shows: %s", err.msg);
	write_text(p, "[]");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "Expected object, got array");
	write_raw(p, "{\"fd\": 1\0}", 10);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "contains a NUL byte");
	assert_fails(sj_relayinfo_load(at(t, "missing"), &ri, &err), err,
		     "relay info: cannot open");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_write_refuses, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_load_strict, tmpdir_setup,
						tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
