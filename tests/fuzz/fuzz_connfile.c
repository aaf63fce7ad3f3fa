// SPDX-License-Identifier: GPL-2.0-or-later
/* A connection file, as Jupyter (or anyone who can write one) left it.
 * What parses must dump (as the node shim writes the kernel's) and parse
 * back the same, and name an endpoint for each channel.  (Whether the
 * address can be bound is for the bind to say: "localhost" parses.) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct sj_connfile *a, const struct sj_connfile *b)
{
	return strcmp(a->transport, b->transport) == 0 &&
	       strcmp(a->ip, b->ip) == 0 &&
	       memcmp(a->ports, b->ports, sizeof(a->ports)) == 0 &&
	       strcmp(a->key, b->key) == 0 &&
	       strcmp(a->signature_scheme, b->signature_scheme) == 0 &&
	       strcmp(a->kernel_name, b->kernel_name) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_connfile cf, back;
	struct sj_err err;
	char ep[512], *text;

	if (sj_connfile_parse((const char *)data, size, &cf, &err) != 0)
		return 0;
	text = sj_connfile_dump(&cf, &err);
	if (text == NULL ||
	    sj_connfile_parse(text, strlen(text), &back, &err) != 0 ||
	    !same(&cf, &back))
		abort();
	free(text);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		if (sj_connfile_endpoint(&cf, ch, ep, sizeof(ep), &err) != 0)
			abort();
	return 0;
}
