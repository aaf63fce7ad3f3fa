// SPDX-License-Identifier: GPL-2.0-or-later
#include "jsign.h"

#include <sodium.h>
#include <string.h>

#include "jmsg.h"


int sj_jsign_init(struct sj_jsign *s, const char *key, const char *scheme,
		  struct sj_err *err)
{
	size_t n = strlen(key);

	memset(s, 0, sizeof(*s));
	if (n == 0)
		return 0;
	if (n > sizeof(s->key))
		return sj_err_set(err, "the connection file's key is longer "
				  "than %zu bytes", sizeof(s->key));
	if (strcmp(scheme, "hmac-sha256") == 0)
		s->digest = 256;
	else if (strcmp(scheme, "hmac-sha512") == 0)
		s->digest = 512;
	else
		return sj_err_set(err, "signature scheme \"%s\": only "
				  "hmac-sha256 and hmac-sha512 can be checked",
				  scheme);
	memcpy(s->key, key, n);
	s->key_len = n;
	return 0;
}

void sj_jsign_wipe(struct sj_jsign *s)
{
	sodium_memzero(s, sizeof(*s));
}

/* The HMAC of the four parts with libsodium's SHA-<bits>, into mac and
 * maclen of the function below; the two digests differ only in names. */
#define HMAC_PARTS(bits) do { \
	crypto_auth_hmacsha##bits##_state st; \
	\
	crypto_auth_hmacsha##bits##_init(&st, s->key, s->key_len); \
	for (int i = 0; i < 4; i++) \
		crypto_auth_hmacsha##bits##_update(&st, part[i], \
						   part_len[i]); \
	crypto_auth_hmacsha##bits##_final(&st, mac); \
	sodium_memzero(&st, sizeof(st)); \
	maclen = crypto_auth_hmacsha##bits##_BYTES; \
} while (0)

void sj_jsign_hex(const struct sj_jsign *s, const uint8_t *const part[4],
		  const size_t part_len[4], char *hex)
{
	uint8_t mac[crypto_auth_hmacsha512_BYTES];
	size_t maclen;

	if (s->digest == 512)
		HMAC_PARTS(512);
	else
		HMAC_PARTS(256);
	sodium_bin2hex(hex, SJ_JSIGN_HEX_MAX + 1, mac, maclen);
}

int sj_jsign_check_zmtp(const struct sj_jsign *s, const uint8_t *frames,
			size_t len, struct sj_err *err)
{
	struct sj_jmsg_parts p;
	/* The four signed parts follow the signature in p. */
	const uint8_t *const *part = &p.part[SJ_JMSG_HEADER];
	const size_t *part_len = &p.len[SJ_JMSG_HEADER];
	const uint8_t *sig;
	size_t sig_len;
	char want[SJ_JSIGN_HEX_MAX + 1];

	if (sj_jmsg_parts_zmtp(frames, len, &p) != SJ_JMSG_NPARTS) {
		if (p.bad)
			return sj_err_set(err, "a malformed frame");
		return sj_err_set(err, "not a Jupyter message (no \"%s\" "
				  "and five frames after it)", SJ_JUPYTER_DELIMITER);
	}
	sig = p.part[SJ_JMSG_SIG];
	sig_len = p.len[SJ_JMSG_SIG];
	if (s->digest == 0)
		return 0;
	sj_jsign_hex(s, part, part_len, want);
	if (sig_len != strlen(want) ||
	    sodium_memcmp(sig, want, sig_len) != 0) {
		sodium_memzero(want, sizeof(want));
		return sj_err_set(err, "a message with a wrong signature");
	}
	sodium_memzero(want, sizeof(want));
	return 0;
}
