// SPDX-License-Identifier: GPL-2.0-or-later
/* A message from a client on another host: its frames checked against the
 * connection file's key before anything of it goes on.  A message that
 * passes must fail once one byte of its signature changes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsign.h"
#include "zmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The offset of the signature's first byte: the frame after the
 * delimiter.  0 if there is none. */
static size_t signature_at(const uint8_t *frames, size_t len)
{
	const char *d = SJ_JUPYTER_DELIMITER;
	const uint8_t *p;
	size_t off = 0, n;
	int next = 0;

	while (sj_zmtp_frame_next(frames, len, &off, &p, &n)) {
		if (next)
			return n > 0 ? (size_t)(p - frames) : 0;
		next = n == strlen(d) && memcmp(p, d, n) == 0;
	}
	return 0;
}

static void check(const struct sj_jsign *s, const uint8_t *data, size_t size)
{
	struct sj_err err;
	uint8_t *copy;
	size_t at;

	if (sj_jsign_check_zmtp(s, data, size, &err) != 0)
		return;
	at = signature_at(data, size);
	if (at == 0)
		abort();	/* passed without a signature */
	copy = malloc(size);
	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	copy[at] ^= 1;
	if (sj_jsign_check_zmtp(s, copy, size, &err) == 0)
		abort();
	free(copy);
}

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
	check(&s256, data, size);
	check(&s512, data, size);
	return 0;
}
