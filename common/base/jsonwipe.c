// SPDX-License-Identifier: GPL-2.0-or-later
#include "jsonwipe.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static void (*release)(void *p) = free;

static void wiping_free(void *p)
{
	if (p == NULL)
		return;
	/* The usable size covers all jansson wrote: it never keeps a
	 * block's size, so this is the only way to learn it. */
	explicit_bzero(p, malloc_usable_size(p));
	release(p);
}

void sj_json_wipe_frees(void)
{
	sj_json_wipe_frees_to(free);
}

void sj_json_wipe_frees_to(void (*release_fn)(void *p))
{
	release = release_fn;
	json_set_alloc_funcs(malloc, wiping_free);
}

void sj_json_wipe_string(json_t *v)
{
	/* The buffer is the json_t's own copy, read by nobody after us
	 * but json_decref: clearing it through the cast is safe. */
	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v),
			       json_string_length(v));
}

char *sj_json_dump_secret(const json_t *root, size_t flags)
{
	size_t cap = 1024, n;
	char *buf;

	for (int tries = 0; tries < 2; tries++) {
		buf = malloc(cap);
		if (buf == NULL)
			return NULL;
		n = json_dumpb(root, buf, cap - 1, flags);
		if (n == 0) {
			explicit_bzero(buf, cap);
			free(buf);
			return NULL;
		}
		if (n < cap) {
			buf[n] = '\0';
			return buf;
		}
		/* Too small: the part written is cleared, then the size
		 * jansson asked for. */
		explicit_bzero(buf, cap);
		free(buf);
		cap = n + 1;
	}
	return NULL;
}
