// SPDX-License-Identifier: GPL-2.0-or-later
/* A message from a client on another host: its frames checked against the
 * connection file's key before anything of it goes on. */
#include <stddef.h>
#include <stdint.h>

#include "jsign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sj_jsign s256, s512;
	static int ready;
	struct sj_err err;

	if (!ready) {
		if (sj_jsign_init(&s256, "fuzz-key", "hmac-sha256", &err) ||
		    sj_jsign_init(&s512, "fuzz-key", "hmac-sha512", &err))
			return 0;
		ready = 1;
	}
	(void)sj_jsign_check_zmtp(&s256, data, size, &err);
	(void)sj_jsign_check_zmtp(&s512, data, size, &err);
	return 0;
}
