// SPDX-License-Identifier: GPL-2.0-or-later
/* The one reader of lowercase hex (hex.h). */
#include "hex.h"

#include <sodium.h>

int sj_hex_valid(const char *s, size_t len, size_t n)
{
	unsigned ok = 1;

	if (len % 2 != 0 || len / 2 != n)
		return 0;
	/* No branch on a digit: the secret key's hex goes through here. */
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];

		ok &= (c - '0' < 10u) | (c - 'a' < 6u);
	}
	return (int)ok;
}

int sj_hex_decode(const char *hex, size_t len, uint8_t *out, size_t n)
{
	size_t got = 0;

	/* sodium_hex2bin decodes in constant time, but takes upper case
	 * and stops early: only what sj_hex_valid passed reaches it. */
	if (hex == NULL || !sj_hex_valid(hex, len, n) ||
	    sodium_hex2bin(out, n, hex, len, NULL, &got, NULL) != 0 ||
	    got != n) {
		if (n > 0)
			sodium_memzero(out, n);
		return -1;
	}
	return 0;
}
