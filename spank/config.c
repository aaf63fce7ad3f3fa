// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "connfile.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_RUNTIME_DIR "/run/spank-jupyter"
#define KNOWN_KEYS "runtime_dir, relay_ports, relay_address, " \
		   "rendezvous_timeout, kernel_transport"

/* The kernel's ipc sockets are <runtime_dir>/<job>.<step>/kernel-<port>,
 * and a Unix socket path has room for 107 characters: 22 go to
 * "/4294967295.4294967295" and 13 to "/kernel-65535". */
#define IPC_RUNTIME_DIR_MAX (107 - 22 - 13)

enum key {
	KEY_RUNTIME_DIR,
	KEY_RELAY_PORTS,
	KEY_RELAY_ADDRESS,
	KEY_RENDEZVOUS_TIMEOUT,
	KEY_KERNEL_TRANSPORT,
	NKEYS
};

static const char *const key_names[NKEYS] = {
	[KEY_RUNTIME_DIR] = "runtime_dir",
	[KEY_RELAY_PORTS] = "relay_ports",
	[KEY_RELAY_ADDRESS] = "relay_address",
	[KEY_RENDEZVOUS_TIMEOUT] = "rendezvous_timeout",
	[KEY_KERNEL_TRANSPORT] = "kernel_transport",
};

void sj_config_defaults(struct sj_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->runtime_dir, sizeof(c->runtime_dir), "%s",
		 DEFAULT_RUNTIME_DIR);
	c->relay_ports.lo = 0;
	c->relay_ports.hi = 0;
	c->relay_address[0] = '\0';
	c->rendezvous_timeout = 30;
	c->kernel_transport = SJ_TRANSPORT_IPC;
}

static int set_runtime_dir(struct sj_config *c, const char *v,
			   struct sj_err *err)
{
	size_t len = strlen(v);
	const char *p;

	if (v[0] != '/')
		return sj_err_set(err, "must be an absolute path");
	/* "/run/x/" and "/run/x" name the same directory. */
	while (len > 1 && v[len - 1] == '/')
		len--;
	if (len == 1)
		return sj_err_set(err, "must not be the root directory");
	if (len >= sizeof(c->runtime_dir))
		return sj_err_set(err, "longer than %zu characters",
				  sizeof(c->runtime_dir) - 1);
	for (p = v; p < v + len; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f)
			return sj_err_set(err, "contains a space or a control "
					  "character");
	/* Each component: "." and ".." would make the checks on the path
	 * say nothing about where it leads. */
	for (p = v; p < v + len;) {
		const char *q = memchr(p, '/', (size_t)(v + len - p));
		size_t n = (q == NULL ? (size_t)(v + len - p) : (size_t)(q - p));

		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return sj_err_set(err, "must not contain \".\" or "
					  "\"..\" components");
		if (q == NULL)
			break;
		p = q + 1;
	}
	memcpy(c->runtime_dir, v, len);
	c->runtime_dir[len] = '\0';
	return 0;
}

static int set_relay_address(struct sj_config *c, const char *v,
			     struct sj_err *err)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (strlen(v) >= sizeof(c->relay_address) ||
	    (v[0] != '\0' && inet_pton(AF_INET, v, buf) != 1 &&
	     inet_pton(AF_INET6, v, buf) != 1))
		return sj_err_set(err, "must be a numeric IPv4 or IPv6 "
				  "address (or empty for the address facing "
				  "the login node)");
	strcpy(c->relay_address, v);
	return 0;
}

static int set_timeout(struct sj_config *c, const char *v,
		       struct sj_err *err)
{
	int t = 0;
	const char *p;

	for (p = v; *p >= '0' && *p <= '9'; p++)
		if (t <= 600)	/* stays small; more digits stay > 600 */
			t = t * 10 + (*p - '0');
	if (p == v || *p != '\0' || (v[0] == '0' && v[1] != '\0'))
		return sj_err_set(err, "must be a whole number of seconds "
				  "1-600");
	if (t < 1 || t > 600)
		return sj_err_set(err, "out of range 1-600 seconds");
	c->rendezvous_timeout = t;
	return 0;
}

static int set_transport(struct sj_config *c, const char *v,
			 struct sj_err *err)
{
	if (strcmp(v, "ipc") == 0)
		c->kernel_transport = SJ_TRANSPORT_IPC;
	else if (strcmp(v, "tcp") == 0)
		c->kernel_transport = SJ_TRANSPORT_TCP;
	else
		return sj_err_set(err, "must be ipc or tcp");
	return 0;
}

int sj_config_parse(int ac, char **av, struct sj_config *c,
		    struct sj_err *err)
{
	int seen[NKEYS] = { 0 };
	struct sj_config cfg;
	int i, k, r;

	sj_config_defaults(&cfg);
	for (i = 0; i < ac; i++) {
		const char *arg = av[i], *eq, *v;
		size_t klen;

		if (arg == NULL)
			return sj_err_set(err, "plugstack argument %d is "
					  "missing", i + 1);
		eq = strchr(arg, '=');
		if (eq == NULL)
			return sj_err_set(err, "plugstack argument \"%.200s\": "
					  "expected key=value (known keys: "
					  KNOWN_KEYS ")", arg);
		klen = (size_t)(eq - arg);
		v = eq + 1;
		for (k = 0; k < NKEYS; k++)
			if (strlen(key_names[k]) == klen &&
			    memcmp(key_names[k], arg, klen) == 0)
				break;
		if (k == NKEYS)
			return sj_err_set(err, "unknown plugstack argument "
					  "\"%.200s\" (known: " KNOWN_KEYS ")",
					  arg);
		if (seen[k])
			return sj_err_set(err, "plugstack argument \"%.200s\": "
					  "%s given more than once", arg,
					  key_names[k]);
		seen[k] = 1;
		switch ((enum key)k) {
		case KEY_RUNTIME_DIR:
			r = set_runtime_dir(&cfg, v, err);
			break;
		case KEY_RELAY_PORTS:
			r = sj_port_range_parse(v, &cfg.relay_ports, err);
			break;
		case KEY_RELAY_ADDRESS:
			r = set_relay_address(&cfg, v, err);
			break;
		case KEY_RENDEZVOUS_TIMEOUT:
			r = set_timeout(&cfg, v, err);
			break;
		case KEY_KERNEL_TRANSPORT:
			r = set_transport(&cfg, v, err);
			break;
		default:
			r = sj_err_set(err, "internal error");
			break;
		}
		if (r != 0)
			return sj_err_wrap(err, "plugstack argument \"%.200s\"",
					   arg);
	}
	if (cfg.kernel_transport == SJ_TRANSPORT_IPC &&
	    strlen(cfg.runtime_dir) > IPC_RUNTIME_DIR_MAX)
		return sj_err_set(err, "plugstack: runtime_dir %s is too long "
				  "for the kernel's ipc sockets (at most %d "
				  "characters); choose a shorter one or "
				  "kernel_transport=tcp", cfg.runtime_dir,
				  IPC_RUNTIME_DIR_MAX);
	*c = cfg;
	return 0;
}
