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

#define assert_fails(call, err, needle) do { \
	int rv_ = (call); \
	if (rv_ != -1) \
		fail_msg("%s returned %d, expected -1", #call, rv_); \
	if (strstr((err).msg, (needle)) == NULL) \
		fail_msg("error \"%s\" lacks \"%s\"", (err).msg, (needle)); \
} while (0)
#define assert_ok(call, err) do { \
	if ((call) != 0) \
		fail_msg("%s failed: %s", #call, (err).msg); \
} while (0)

struct tmp {
	char dir[64];
	char path[256];
};

static const char *at(struct tmp *t, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	return t->path;
}

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->dir, "/tmp/sj-test-relayinfo.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];
	int rc;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	rc = system(cmd);
	free(t);
	return rc == 0 ? 0 : -1;
}

static void write_raw(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = strlen(data);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void fill(struct sj_relayinfo *ri)
{
	struct sj_err err = { "" };
	char unused[SJ_Z85_KEY_LEN + 1];
	int ch;

	memset(ri, 0, sizeof(*ri));
	strcpy(ri->address, "10.77.0.11");
	for (ch = 0; ch < SJ_NCHANNELS; ch++) {
		ri->ports[ch] = 40000 + ch;
		ri->fds[ch] = 3 + ch;
	}
	assert_ok(sj_curve_keypair(ri->server_public, ri->server_secret, &err),
		  err);
	assert_ok(sj_curve_keypair(ri->client_public, unused, &err), err);
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
	ri.ports[SJ_HB] = 65535;
	ri.fds[SJ_SHELL] = 0;
	assert_ok(sj_relayinfo_write(t->path, &ri, &err), err);
	assert_ok(sj_relayinfo_load(t->path, &back, &err), err);
	assert_string_equal(back.address, "fd00::11");
	assert_int_equal(back.ports[SJ_HB], 65535);
	assert_int_equal(back.fds[SJ_SHELL], 0);
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
	ri.ports[SJ_IOPUB] = 0;
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"ports\": iopub port 0 is out of range 1-65535");
	fill(&ri);
	ri.fds[SJ_HB] = -1;
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"fds\": hb descriptor -1 is negative");
	fill(&ri);
	ri.server_secret[3] = '~';
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"server_secret\" is not a Z85 key");
	fill(&ri);
	ri.client_public[39] = '\0';
	assert_fails(sj_relayinfo_write(at(t, "r.json"), &ri, &err), err,
		     "\"client_public\" is not a Z85 key");
	/* Nothing was written. */
	assert_int_equal(access(at(t, "r.json"), F_OK), -1);
	fill(&ri);
	assert_fails(sj_relayinfo_write(at(t, "no/r.json"), &ri, &err), err,
		     "relay info: cannot create a temporary file");
}

#define PUB "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define GOOD_PORTS "{\"shell\":1,\"iopub\":2,\"stdin\":3,\"control\":4," \
		   "\"hb\":5}"

/* Writes relay.json with the given members (JSON text; NULL leaves the
 * member out) and good keys. */
static void write_info(const char *path, const char *addr, const char *ports,
		       const char *fds, const char *extra)
{
	char text[2048] = "{";

	if (addr != NULL) {
		strcat(text, "\"address\": ");
		strcat(text, addr);
		strcat(text, ", ");
	}
	if (ports != NULL) {
		strcat(text, "\"ports\": ");
		strcat(text, ports);
		strcat(text, ", ");
	}
	if (fds != NULL) {
		strcat(text, "\"fds\": ");
		strcat(text, fds);
		strcat(text, ", ");
	}
	strcat(text, "\"server_public\": \"" PUB "\", "
	       "\"server_secret\": \"" PUB "\", "
	       "\"client_public\": \"" PUB "\"");
	if (extra != NULL)
		strcat(text, extra);
	strcat(text, "}");
	write_raw(path, text);
}

static void test_load_strict(void **state)
{
	struct tmp *t = *state;
	struct sj_relayinfo ri;
	struct sj_err err = { "" };
	const char *p = at(t, "r.json");

	write_info(p, "\"10.0.0.1\"", GOOD_PORTS, GOOD_PORTS, NULL);
	assert_ok(sj_relayinfo_load(p, &ri, &err), err);
	assert_int_equal(ri.ports[SJ_CONTROL], 4);
	assert_string_equal(ri.client_public, PUB);

	write_info(p, "\"10.0.0.1\"", GOOD_PORTS, GOOD_PORTS,
		   ", \"extra\": 1");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "relay info ");
	assert_non_null(strstr(err.msg, "r.json: unknown key \"extra\""));
	write_info(p, NULL, GOOD_PORTS, GOOD_PORTS, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"address\" is missing");
	write_info(p, "10", GOOD_PORTS, GOOD_PORTS, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"address\" is not a numeric");
	write_info(p, "\"10.0.0.1\"", "[1,2,3,4,5]", GOOD_PORTS, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"ports\" must be an object with the 5 channels");
	write_info(p, "\"10.0.0.1\"", "{\"shell\":1,\"iopub\":2,\"stdin\":3,"
		   "\"control\":4,\"hbx\":5}", GOOD_PORTS, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"ports\": \"hb\" must be an integer");
	write_info(p, "\"10.0.0.1\"", "{\"shell\":1,\"iopub\":2,\"stdin\":3,"
		   "\"control\":4,\"hb\":\"5\"}", GOOD_PORTS, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "\"ports\": \"hb\" must be an integer");
	write_info(p, "\"10.0.0.1\"", "{\"shell\":1,\"iopub\":2,\"stdin\":3,"
		   "\"control\":4,\"hb\":70000}", GOOD_PORTS, NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "hb port 70000 is out of range");
	write_info(p, "\"10.0.0.1\"", GOOD_PORTS, "{\"shell\":-1,\"iopub\":2,"
		   "\"stdin\":3,\"control\":4,\"hb\":5}", NULL);
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "shell descriptor -1 is negative");
	write_raw(p, "{\"address\": \"10.0.0.1\", \"address\": \"10.0.0.2\"}");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "duplicate object key");
	write_raw(p, "{\"address\": ");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "invalid JSON at line 1");
	write_raw(p, "[]");
	assert_fails(sj_relayinfo_load(p, &ri, &err), err,
		     "not a JSON object");
	write_raw(p, "{\"address\": \"10.0.0.1\", \"ports\": " GOOD_PORTS
		  ", \"fds\": " GOOD_PORTS ", \"server_public\": \"" PUB "\", "
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
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_strict, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
