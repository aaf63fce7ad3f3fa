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

#include "relayinfo.h"
#include "testutil.h"

static void write_text(const char *path, const char *text)
{
	write_raw(path, text, strlen(text));
}

static void fill(struct sj_relayinfo *ri)
{
	struct sj_err err = { "" };
	char unused[SJ_Z85_KEY_LEN + 1];

	memset(ri, 0, sizeof(*ri));
	strcpy(ri->address, "10.77.0.11");
	strcpy(ri->login_address, "10.77.0.1");
	ri->port = 40000;
	ri->fd = 3;
	assert_ok(sj_curve_keypair(ri->server_public, ri->server_secret, &err),
		  err);
	assert_ok(sj_curve_keypair(ri->client_public, unused, &err), err);
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
	ri.server_secret[3] = '~';
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"server_secret\" is not a Z85 key");
	fill(&ri);
	ri.client_public[39] = '\0';
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"client_public\" is not a Z85 key");
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

#define PUB "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define GOOD_PORT "4"
#define NONCE "0123456789abcdef0123456789abcdef"
#define IDS ", \"job_id\": 12, \"step_id\": 0"

/* Writes relay.json with the given members (JSON text; NULL leaves the
 * member out) and good keys. */
static void write_info(const char *path, const char *addr, const char *port,
		       const char *fd, const char *extra)
{
	char text[2048] = "{";

	if (addr != NULL) {
		strcat(text, "\"address\": ");
		strcat(text, addr);
		strcat(text, ", ");
	}
	if (port != NULL) {
		strcat(text, "\"port\": ");
		strcat(text, port);
		strcat(text, ", ");
	}
	if (fd != NULL) {
		strcat(text, "\"fd\": ");
		strcat(text, fd);
		strcat(text, ", ");
	}
	strcat(text, "\"login_address\": \"10.0.0.9\", "
	       "\"server_public\": \"" PUB "\", "
	       "\"server_secret\": \"" PUB "\", "
	       "\"client_public\": \"" PUB "\", "
	       "\"nonce\": \"" NONCE "\", \"node_nonce\": \"" NONCE "\"");
	/* The ids, unless the test gives its own. */
	if (extra == NULL || strstr(extra, "job_id") == NULL)
		strcat(text, IDS);
	if (extra != NULL)
		strcat(text, extra);
	strcat(text, "}");
	write_text(path, text);
}

static void test_load_strict(void **state)
{
	struct tmp *t = *state;
	struct sj_relayinfo ri;
	struct sj_err err = { "" };
	const char *p = at(t, "r.json");

	write_info(p, "\"10.0.0.1\"", GOOD_PORT, GOOD_PORT, NULL);
	assert_ok(sj_relayinfo_load(p, &ri, &err), err);
	assert_int_equal(ri.port, 4);
	assert_string_equal(ri.nonce, NONCE);
	assert_int_equal(ri.job_id, 12);
	assert_int_equal(ri.step_id, 0);
	assert_int_equal(ri.fd, 4);
	assert_string_equal(ri.client_public, PUB);
	assert_string_equal(ri.login_address, "10.0.0.9");

	write_info(p, "\"10.0.0.1\"", GOOD_PORT, GOOD_PORT,
		   ", \"step_id\": 0, \"xjob_id\": 1");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "unknown key \"xjob_id\"");
	write_text(p, "{\"address\": \"10.0.0.1\", \"login_address\": "
		   "\"10.0.0.9\", \"port\": 4, \"fd\": 4, \"server_public\": "
		   "\"" PUB "\", \"server_secret\": \"" PUB "\", "
		   "\"client_public\": \"" PUB "\", \"nonce\": \"" NONCE
		   "\", \"node_nonce\": \"" NONCE "\", \"step_id\": 0}");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"job_id\" is missing");
	write_info(p, "\"10.0.0.1\"", GOOD_PORT, GOOD_PORT,
		   ", \"job_id\": -1, \"step_id\": 0");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"job_id\" must be an integer 0-4294967295");
	write_info(p, "\"10.0.0.1\"", GOOD_PORT, GOOD_PORT,
		   ", \"extra\": 1");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "relay info ");
	assert_non_null(strstr(err.msg, "r.json: unknown key \"extra\""));
	write_info(p, NULL, GOOD_PORT, GOOD_PORT, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"address\" is missing");
	write_info(p, "10", GOOD_PORT, GOOD_PORT, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"address\" is not a numeric");
	write_text(p, "{\"address\": \"10.0.0.1\", \"port\": 4, \"fd\": 4, "
		   "\"server_public\": \"" PUB "\", \"server_secret\": \""
		   PUB "\", \"client_public\": \"" PUB "\"}");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"login_address\" is missing");
	write_info(p, "\"10.0.0.1\"", "[1,2,3,4,5]", GOOD_PORT, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"port\" must be an integer");
	write_info(p, "\"10.0.0.1\"", "\"5\"", GOOD_PORT, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"port\" must be an integer");
	write_info(p, "\"10.0.0.1\"", NULL, GOOD_PORT, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"port\" is missing");
	write_info(p, "\"10.0.0.1\"", "70000", GOOD_PORT, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"port\": 70000 is out of range");
	write_info(p, "\"10.0.0.1\"", GOOD_PORT, "-1", NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"fd\": descriptor -1 is negative");
	write_text(p, "{\"address\": \"10.0.0.1\", \"address\": \"10.0.0.2\"}");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "duplicate object key");
	write_text(p, "{\"address\": ");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "invalid JSON at line 1");
	write_text(p, "[]");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "not a JSON object");
	write_text(p, "{\"address\": \"10.0.0.1\", \"login_address\": "
		  "\"10.0.0.9\", \"port\": " GOOD_PORT
		  ", \"fd\": " GOOD_PORT ", \"server_public\": \"" PUB "\", "
		  "\"server_secret\": \"" PUB "x\", \"client_public\": \""
		  PUB "\"}");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"server_secret\" is not a Z85 key");
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
