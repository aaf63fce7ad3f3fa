// SPDX-License-Identifier: GPL-2.0-or-later
#include "curvekey.h"

#include <sodium.h>
#include <string.h>

/* ZMQ RFC 32 (Z85): base 85, four bytes big-endian to five characters. */
static const char z85_chars[85] =
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	".-:+=^!/*?&<>()[]{}@%$#";

/* A character's value, or -1 if it is not in the alphabet. */
static int z85_digit(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = memchr(z85_chars, c, sizeof(z85_chars));
	return p == NULL ? -1 : (int)(p - z85_chars);
}

int sj_z85_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (len % 4 != 0 || outlen < len / 4 * 5 + 1)
		return -1;
	for (i = 0; i < len; i += 4) {
		uint32_t v = (uint32_t)in[i] << 24 | (uint32_t)in[i + 1] << 16 |
			     (uint32_t)in[i + 2] << 8 | in[i + 3];
		int k;

		for (k = 4; k >= 0; k--) {
			out[o + (size_t)k] = z85_chars[v % 85];
			v /= 85;
		}
		o += 5;
	}
	out[o] = '\0';
	return 0;
}

int sj_z85_decode(const char *in, uint8_t *out, size_t outlen)
{
	size_t len = strlen(in), i, o = 0;

	if (len % 5 != 0 || outlen < len / 5 * 4)
		return -1;
	for (i = 0; i < len; i += 5) {
		uint64_t v = 0;
		int k;

		for (k = 0; k < 5; k++) {
			int d = z85_digit((unsigned char)in[i + (size_t)k]);

			if (d < 0)
				return -1;
			v = v * 85 + (uint64_t)d;
		}
		/* 85^5 > 2^32: "#####" and friends name no 4-byte group. */
		if (v > UINT32_MAX)
			return -1;
		out[o++] = (uint8_t)(v >> 24);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	return 0;
}

_Static_assert(crypto_box_PUBLICKEYBYTES == 32 &&
	       crypto_box_SECRETKEYBYTES == 32 && SJ_Z85_KEY_LEN == 40,
	       "CURVE keys are 32 bytes, 40 Z85 characters");

int sj_curve_keypair(char *public_z85, char *secret_z85, struct sj_err *err)
{
	uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
	int rv = -1;

	if (sodium_init() < 0)
		return sj_err_set(err, "libsodium failed to initialise");
	if (crypto_box_keypair(pk, sk) != 0) {
		sj_err_set(err, "libsodium could not make a key pair");
		goto out;
	}
	if (sj_z85_encode(pk, sizeof(pk), public_z85, SJ_Z85_KEY_LEN + 1) ||
	    sj_z85_encode(sk, sizeof(sk), secret_z85, SJ_Z85_KEY_LEN + 1)) {
		sj_err_set(err, "cannot encode the CURVE key pair");
		goto out;
	}
	rv = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	return rv;
}

int sj_curve_key_valid(const char *s)
{
	uint8_t raw[32];
	int ok;

	if (s == NULL || strnlen(s, SJ_Z85_KEY_LEN + 1) != SJ_Z85_KEY_LEN)
		return 0;
	ok = sj_z85_decode(s, raw, sizeof(raw)) == 0;
	sodium_memzero(raw, sizeof(raw));
	return ok;
}
