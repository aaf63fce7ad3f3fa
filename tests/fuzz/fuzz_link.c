// SPDX-License-Identifier: GPL-2.0-or-later
/* What a peer of the link can send: a sealed record (which must not
 * open without the key, whatever its bytes), and the entries of an
 * opened one, with and without parts allowed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[SJ_LINK_KEY_BYTES] = { 1, 2, 3 };
	uint8_t *rec, *plain;
	size_t plen;

	(void)sj_link_frames_valid(data, size, 0);
	(void)sj_link_frames_valid(data, size, 1);
	rec = malloc(size + 1);
	if (rec == NULL)
		return 0;
	memcpy(rec, data, size);
	if (sj_link_open_record(rec, size, key, 0, &plain, &plen) == 0)
		abort();	/* a forgery opened */
	free(rec);
	return 0;
}
