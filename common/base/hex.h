// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hex.h - the one reader of the lowercase hex that carries the link's
 * keys and the rendezvous's nonces (as sodium_bin2hex writes them).  Our
 * format is strict: exactly 2n digits 0-9 and a-f, nothing else; upper
 * case, spaces, a sign or a NUL within are refused, never skipped.
 */
#ifndef SJ_HEX_H
#define SJ_HEX_H

#include <stddef.h>
#include <stdint.h>

/* True if s[0..len) is exactly 2n lowercase hex digits.  It looks at
 * every byte whatever it finds, so the time it takes tells nothing of a
 * secret key's digits. */
int sj_hex_valid(const char *s, size_t len, size_t n);

/* Decodes hex[0..len), exactly 2n lowercase hex digits (sj_hex_valid),
 * into out[0..n).  Returns 0, or -1 with out[0..n) wiped (it may hold
 * half a secret key otherwise) if hex is NULL or not such digits. */
int sj_hex_decode(const char *hex, size_t len, uint8_t *out, size_t n);

#endif
