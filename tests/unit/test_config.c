// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

#define KNOWN "(known: runtime_dir, relay_ports, relay_address, " \
	      "rendezvous_timeout, kernel_transport)"

/* Parses the NULL-terminated argument list. */
static int parse(struct sj_config *c, struct sj_err *err, ...)
{
	char *av[16];
	va_list ap;
	int ac = 0;

	va_start(ap, err);
	while (ac < 16 && (av[ac] = va_arg(ap, char *)) != NULL)
		ac++;
	va_end(ap);
	return sj_config_parse(ac, av, c, err);
}

static void check_bad(const char *arg, const char *needle)
{
	struct sj_config c, before;
	struct sj_err err = { "" };

	memset(&c, 0x5a, sizeof(c));
	before = c;
	assert_fails(parse(&c, &err, arg, NULL), err, needle);
	/* Nothing is written on failure. */
	assert_memory_equal(&c, &before, sizeof(c));
}

/* What each plugstack.conf line makes of the configuration. */
static void test_keys(void **state)
{
	static const struct {
		const char *name;
		char *args[6];
		struct sj_config want;
	} cases[] = {
		{ "no arguments: the defaults", { NULL },
		  { "/run/spank-jupyter", { 0, 0 }, "", 30,
		    SJ_TRANSPORT_IPC } },
		{ "every key", { "runtime_dir=/var/run/sj/",
				 "relay_ports=5000-5100",
				 "relay_address=10.77.0.11",
				 "rendezvous_timeout=600",
				 "kernel_transport=tcp", NULL },
		  { "/var/run/sj", { 5000, 5100 }, "10.77.0.11", 600,
		    SJ_TRANSPORT_TCP } },
		{ "IPv6, no ports, ipc", { "relay_address=fe80::1",
					   "relay_ports=0",
					   "kernel_transport=ipc",
					   "rendezvous_timeout=1", NULL },
		  { "/run/spank-jupyter", { 0, 0 }, "fe80::1", 1,
		    SJ_TRANSPORT_IPC } },
		/* Empty relay_address: explicitly automatic. */
		{ "empty address", { "relay_address=", NULL },
		  { "/run/spank-jupyter", { 0, 0 }, "", 30,
		    SJ_TRANSPORT_IPC } },
	};
	struct sj_config d;

	(void)state;
	sj_config_defaults(&d);
	assert_memory_equal(&d, &cases[0].want, sizeof(d));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sj_config *w = &cases[i].want;
		struct sj_err err = { "" };
		struct sj_config c;
		int ac = 0;

		while (cases[i].args[ac] != NULL)
			ac++;
		memset(&c, 0x5a, sizeof(c));
		if (sj_config_parse(ac, (char **)cases[i].args, &c, &err))
			fail_msg("%s: %s", cases[i].name, err.msg);
		if (strcmp(c.runtime_dir, w->runtime_dir) != 0 ||
		    c.relay_ports.lo != w->relay_ports.lo ||
		    c.relay_ports.hi != w->relay_ports.hi ||
		    strcmp(c.relay_address, w->relay_address) != 0 ||
		    c.rendezvous_timeout != w->rendezvous_timeout ||
		    c.kernel_transport != w->kernel_transport)
			fail_msg("%s: %s %d-%d \"%s\" %d %d", cases[i].name,
				 c.runtime_dir, c.relay_ports.lo,
				 c.relay_ports.hi, c.relay_address,
				 c.rendezvous_timeout, (int)c.kernel_transport);
	}
}

static void test_unknown_and_shape(void **state)
{
	(void)state;
	check_bad("foo=bar", "unknown plugstack argument \"foo=bar\" " KNOWN);
	check_bad("runtime_dirx=/x", "unknown plugstack argument");
	check_bad("=5", "unknown plugstack argument \"=5\"");
	check_bad("RELAY_PORTS=5", "unknown plugstack argument");
	check_bad("runtime_dir", "plugstack argument \"runtime_dir\": "
		  "expected key=value");
	check_bad("", "expected key=value");
}

static void test_duplicates(void **state)
{
	struct sj_config c;
	struct sj_err err = { "" };

	(void)state;
	assert_fails(parse(&c, &err, "relay_ports=5000-5010", "relay_address=",
			   "relay_ports=5000-5010", NULL), err,
		     "plugstack argument \"relay_ports=5000-5010\": "
		     "relay_ports given more than once");
}

static void test_runtime_dir(void **state)
{
	char longdir[300];

	(void)state;
	check_bad("runtime_dir=run/sj", "plugstack argument "
		  "\"runtime_dir=run/sj\": must be an absolute path");
	check_bad("runtime_dir=", "must be an absolute path");
	check_bad("runtime_dir=/", "must not be the root directory");
	check_bad("runtime_dir=//", "must not be the root directory");
	check_bad("runtime_dir=/run/../etc", "\"..\" components");
	check_bad("runtime_dir=/run/..", "\"..\" components");
	check_bad("runtime_dir=/../run", "\"..\" components");
	check_bad("runtime_dir=/run/./x", "\"..\" components");
	check_bad("runtime_dir=/run/my dir", "space or a control character");
	check_bad("runtime_dir=/run/a\tb", "space or a control character");
	memset(longdir, 'a', sizeof(longdir));
	longdir[0] = 'r';
	memcpy(longdir, "runtime_dir=/", 13);
	longdir[13 + 200] = '\0';
	check_bad(longdir, "longer than 199 characters");
}

static void test_runtime_dir_ipc_length(void **state)
{
	char arg[200];
	struct sj_config c;
	struct sj_err err = { "" };

	(void)state;
	/* 72 characters is the ipc limit. */
	memset(arg, 'a', sizeof(arg));
	memcpy(arg, "runtime_dir=/", 13);
	arg[12 + 72] = '\0';
	if (parse(&c, &err, arg, NULL) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(strlen(c.runtime_dir), 72);
	arg[12 + 72] = 'a';
	arg[12 + 73] = '\0';
	assert_fails(parse(&c, &err, arg, NULL), err,
		     "too long for the kernel's ipc sockets (at most 72");
	/* With tcp, the long directory is fine. */
	if (parse(&c, &err, arg, "kernel_transport=tcp", NULL) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(strlen(c.runtime_dir), 73);
}

static void test_relay_ports(void **state)
{
	struct sj_config c;
	struct sj_err err = { "" };

	(void)state;
	/* A kernel's link needs one port: a range of one will do. */
	assert_ok(parse(&c, &err, "relay_ports=5000", NULL), err);
	assert_int_equal(c.relay_ports.lo, 5000);
	assert_int_equal(c.relay_ports.hi, 5000);
	check_bad("relay_ports=70000", "plugstack argument "
		  "\"relay_ports=70000\": port out of range 1-65535");
	check_bad("relay_ports=6000-5000", "plugstack argument "
		  "\"relay_ports=6000-5000\": first port 6000 is greater");
	check_bad("relay_ports=", "empty port range");
	check_bad("relay_ports= 5000", "expected a port number");
}

static void test_relay_address(void **state)
{
	(void)state;
	check_bad("relay_address=login", "plugstack argument "
		  "\"relay_address=login\": must be a numeric IPv4 or IPv6 "
		  "address");
	check_bad("relay_address=10.0.0", "numeric IPv4 or IPv6");
	check_bad("relay_address=10.0.0.256", "numeric IPv4 or IPv6");
	check_bad("relay_address= 10.0.0.1", "numeric IPv4 or IPv6");
	check_bad("relay_address=[::1]", "numeric IPv4 or IPv6");
	check_bad("relay_address=eth0", "numeric IPv4 or IPv6");
}

static void test_timeout(void **state)
{
	(void)state;
	check_bad("rendezvous_timeout=0", "plugstack argument "
		  "\"rendezvous_timeout=0\": out of range 1-600 seconds");
	check_bad("rendezvous_timeout=601", "out of range 1-600 seconds");
	check_bad("rendezvous_timeout=99999999999999999999",
		  "out of range 1-600");
	check_bad("rendezvous_timeout=-5", "whole number of seconds");
	check_bad("rendezvous_timeout=+5", "whole number of seconds");
	check_bad("rendezvous_timeout=5s", "whole number of seconds");
	check_bad("rendezvous_timeout=1.5", "whole number of seconds");
	check_bad("rendezvous_timeout=", "whole number of seconds");
	check_bad("rendezvous_timeout=030", "whole number of seconds");
}

static void test_transport(void **state)
{
	(void)state;
	check_bad("kernel_transport=udp", "plugstack argument "
		  "\"kernel_transport=udp\": must be ipc or tcp");
	check_bad("kernel_transport=TCP", "must be ipc or tcp");
	check_bad("kernel_transport=", "must be ipc or tcp");
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_keys),
	cmocka_unit_test(test_unknown_and_shape),
	cmocka_unit_test(test_duplicates),
	cmocka_unit_test(test_runtime_dir),
	cmocka_unit_test(test_runtime_dir_ipc_length),
	cmocka_unit_test(test_relay_ports),
	cmocka_unit_test(test_relay_address),
	cmocka_unit_test(test_timeout),
	cmocka_unit_test(test_transport))
