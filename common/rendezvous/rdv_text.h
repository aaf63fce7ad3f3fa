// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdv_text.h - the values the rendezvous carries as text (nonces, host
 * names, addresses, X25519 keys in hex), checked alike in the HELLO, the
 * WELCOME and relay.json; and jansson's unpack errors with the key named.
 */
#ifndef SJ_RDV_TEXT_H
#define SJ_RDV_TEXT_H

#include <jansson.h>
#include <stddef.h>

#include "sj_err.h"

#define SJ_NONCE_BYTES 16
#define SJ_NONCE_HEX (2 * SJ_NONCE_BYTES)
/* An X25519 key (the link's static keys, see link.h) as lowercase hex. */
#define SJ_KEY_BYTES 32
#define SJ_KEY_HEX (2 * SJ_KEY_BYTES)

/* True if s[0..len) is exactly SJ_NONCE_HEX lowercase hex digits. */
int sj_rdv_is_nonce(const char *s, size_t len);

/* True if s[0..len) is exactly SJ_KEY_HEX lowercase hex digits. */
int sj_rdv_is_key(const char *s, size_t len);

/* True if s[0..len) is made of letters, digits, '.', '-' and '_'. */
int sj_rdv_is_hostname(const char *s, size_t len);

/* True if s is a numeric IPv4 or IPv6 address. */
int sj_rdv_is_ip(const char *s);

/* Copies v[0..len) and its NUL into dst of size bytes, or fails naming
 * the field if it does not fit. */
int sj_rdv_copy(const char *name, const char *v, size_t len, char *dst,
		size_t size, struct sj_err *err);

/* A fresh X25519 key pair, each half SJ_KEY_HEX lowercase hex digits and
 * a NUL.  The secret's raw bytes are wiped before it returns. */
int sj_rdv_keypair(char public_hex[SJ_KEY_HEX + 1],
		   char secret_hex[SJ_KEY_HEX + 1], struct sj_err *err);

/* s[0..len) as a log may show it, in out (size > 0 bytes, always
 * NUL-terminated, cut to fit): every byte but printable ASCII becomes '?',
 * so that a peer's or a user's text cannot start a line of its own or
 * send escape sequences to whoever reads the log. */
void sj_rdv_printable(const char *s, size_t len, char *out, size_t size);

/* Sets err from a failed json_unpack_ex (or json_pack_ex) with fmt,
 * keys[0], .., keys[1], .., whose format gives every key as "s:" in the
 * order of keys: jansson's own
 * text says which type it expected but not for which key, so the key is
 * found from where in fmt it stopped.  Returns -1. */
int sj_rdv_unpack_error(const json_error_t *je, const char *fmt,
			const char *const *keys, size_t nkeys,
			struct sj_err *err);

/* Sets err from a failed json_loadb: where, and jansson's reason with
 * anything but printable ASCII as '?' (it may quote the peer's bytes).
 * Returns -1. */
int sj_rdv_load_error(const json_error_t *je, struct sj_err *err);

/* The same for a text that holds a secret (the WELCOME's HMAC key,
 * relay.json's secret key): without the part of the text jansson quotes
 * ("near '...'"), which may be the secret's first characters. */
int sj_rdv_load_error_secret(const json_error_t *je, struct sj_err *err);

#endif
