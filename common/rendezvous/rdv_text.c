// SPDX-License-Identifier: GPL-2.0-or-later
#include "rdv_text.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "hex.h"

int sj_rdv_is_nonce(const char *s, size_t len)
{
	return sj_hex_valid(s, len, SJ_NONCE_BYTES);
}

int sj_rdv_is_key(const char *s, size_t len)
{
	return sj_hex_valid(s, len, SJ_KEY_BYTES);
}

int sj_rdv_is_hostname(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

int sj_rdv_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

int sj_rdv_copy(const char *name, const char *v, size_t len, char *dst,
		size_t size, struct sj_err *err)
{
	if (len >= size)
		return sj_err_set(err, "\"%s\" is longer than %zu bytes", name,
				  size - 1);
	memcpy(dst, v, len + 1);
	return 0;
}

_Static_assert(crypto_box_PUBLICKEYBYTES == SJ_KEY_BYTES &&
	       crypto_box_SECRETKEYBYTES == SJ_KEY_BYTES,
	       "crypto_box keys are the link's X25519 keys");

int sj_rdv_keypair(char public_hex[SJ_KEY_HEX + 1],
		   char secret_hex[SJ_KEY_HEX + 1], struct sj_err *err)
{
	unsigned char pk[SJ_KEY_BYTES], sk[SJ_KEY_BYTES];

	if (sodium_init() < 0)
		return sj_err_set(err, "libsodium failed to initialise");
	if (crypto_box_keypair(pk, sk) != 0) {
		sodium_memzero(sk, sizeof(sk));
		return sj_err_set(err, "cannot make a key pair");
	}
	sodium_bin2hex(public_hex, SJ_KEY_HEX + 1, pk, sizeof(pk));
	sodium_bin2hex(secret_hex, SJ_KEY_HEX + 1, sk, sizeof(sk));
	sodium_memzero(sk, sizeof(sk));
	return 0;
}

void sj_rdv_printable(const char *s, size_t len, char *out, size_t size)
{
	size_t i;

	for (i = 0; i < len && i + 1 < size; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

/* jansson's text may quote a key the peer chose, and it goes to a log
 * line. */
static void printable(const char *in, char *out, size_t size)
{
	sj_rdv_printable(in, strlen(in), out, size);
}

int sj_rdv_unpack_error(const json_error_t *je, const char *fmt,
			const char *const *keys, size_t nkeys,
			struct sj_err *err)
{
	static const char missing[] = "Object item not found: ";
	char text[JSON_ERROR_TEXT_LENGTH];
	size_t i, started = 0, end = strlen(fmt);
	const char *rest;

	printable(je->text, text, sizeof(text));
	if (strncmp(text, missing, strlen(missing)) == 0)
		return sj_err_set(err, "field \"%s\" is missing",
				  text + strlen(missing));
	rest = strstr(text, "left unpacked: ");
	if (rest != NULL)
		return sj_err_set(err, "unknown field \"%.64s\"",
				  rest + strlen("left unpacked: "));
	if (je->position > 0 && (size_t)je->position < end)
		end = (size_t)je->position;
	for (i = 0; i < end; i++)
		started += fmt[i] == ':';
	if (started == 0 || started > nkeys)
		return sj_err_set(err, "%s", text);
	return sj_err_set(err, "\"%s\": %s", keys[started - 1], text);
}

/* quote: keep the text jansson quotes ("near '...'"), which is the token
 * it stopped in when that is at most 20 characters long: with a secret, a
 * key cut short or with a bad escape would show its first characters. */
static int load_error(const json_error_t *je, int quote, struct sj_err *err)
{
	char text[JSON_ERROR_TEXT_LENGTH], *near;

	printable(je->text, text, sizeof(text));
	near = strstr(text, " near '");
	if (!quote && near != NULL)
		*near = '\0';
	sj_err_set(err, "invalid JSON at line %d column %d: %s", je->line,
		   je->column, text);
	explicit_bzero(text, sizeof(text));
	return -1;
}

int sj_rdv_load_error(const json_error_t *je, struct sj_err *err)
{
	return load_error(je, 1, err);
}

int sj_rdv_load_error_secret(const json_error_t *je, struct sj_err *err)
{
	return load_error(je, 0, err);
}
