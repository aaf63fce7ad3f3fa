// SPDX-License-Identifier: GPL-2.0-or-later
/* plugstack.conf arguments: the bytes split at NUL into argv.  What is
 * accepted must be within the bounds config.h promises, and said again
 * as arguments must read back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct sj_config *c)
{
	const struct sj_port_range *r = &c->relay_ports;

	if (c->runtime_dir[0] != '/' ||
	    memchr(c->runtime_dir, '\0', sizeof(c->runtime_dir)) == NULL ||
	    memchr(c->relay_address, '\0', sizeof(c->relay_address)) == NULL ||
	    c->rendezvous_timeout < 1 || c->rendezvous_timeout > 600 ||
	    !((r->lo == 0 && r->hi == 0) ||
	      (r->lo >= 1 && r->lo <= r->hi && r->hi <= 65535)) ||
	    (c->kernel_transport != SJ_TRANSPORT_IPC &&
	     c->kernel_transport != SJ_TRANSPORT_TCP))
		abort();
}

/* c as plugstack.conf arguments, parsed again. */
static void round_trip(const struct sj_config *c)
{
	char a[5][300], *av[5];
	const struct sj_port_range *r = &c->relay_ports;
	struct sj_config back;
	struct sj_err err;
	int ac = 0;

	snprintf(a[ac++], sizeof(a[0]), "runtime_dir=%s", c->runtime_dir);
	if (r->lo == 0)
		snprintf(a[ac++], sizeof(a[0]), "relay_ports=0");
	else if (r->lo == r->hi)
		snprintf(a[ac++], sizeof(a[0]), "relay_ports=%d", r->lo);
	else
		snprintf(a[ac++], sizeof(a[0]), "relay_ports=%d-%d", r->lo,
			 r->hi);
	if (c->relay_address[0] != '\0')
		snprintf(a[ac++], sizeof(a[0]), "relay_address=%s",
			 c->relay_address);
	snprintf(a[ac++], sizeof(a[0]), "rendezvous_timeout=%d",
		 c->rendezvous_timeout);
	snprintf(a[ac++], sizeof(a[0]), "kernel_transport=%s",
		 c->kernel_transport == SJ_TRANSPORT_TCP ? "tcp" : "ipc");
	for (int i = 0; i < ac; i++)
		av[i] = a[i];
	if (sj_config_parse(ac, av, &back, &err) != 0 ||
	    strcmp(back.runtime_dir, c->runtime_dir) != 0 ||
	    back.relay_ports.lo != r->lo || back.relay_ports.hi != r->hi ||
	    strcmp(back.relay_address, c->relay_address) != 0 ||
	    back.rendezvous_timeout != c->rendezvous_timeout ||
	    back.kernel_transport != c->kernel_transport)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *av[64];
	struct sj_config c;
	struct sj_err err;
	int ac = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size && ac < 64;) {
		av[ac++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	if (sj_config_parse(ac, av, &c, &err) == 0) {
		check(&c);
		round_trip(&c);
	}
	free(buf);
	return 0;
}
