// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * curvekey.h - CURVE key pairs in ZeroMQ's Z85 text form.
 *
 * Generated with libsodium (crypto_box keys are the Curve25519 keys ZMQ's
 * CURVE mechanism uses), so the plugin need not link libzmq.
 */
#ifndef SJ_CURVEKEY_H
#define SJ_CURVEKEY_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

#define SJ_Z85_KEY_LEN 40	/* 32 bytes -> 40 characters */

/* Z85 (ZMQ RFC 32).  Encode: len must be a multiple of 4, out holds
 * len*5/4 + 1 bytes.  Decode: strlen(in) must be a multiple of 5, out holds
 * strlen(in)*4/5 bytes.  Both return -1 on bad input. */
int sj_z85_encode(const uint8_t *in, size_t len, char *out, size_t outlen);
int sj_z85_decode(const char *in, uint8_t *out, size_t outlen);

/* Fills public and secret (each SJ_Z85_KEY_LEN + 1 bytes, NUL-terminated). */
int sj_curve_keypair(char *public_z85, char *secret_z85, struct sj_err *err);

/* True if s is a well-formed 40-character Z85 key. */
int sj_curve_key_valid(const char *s);

#endif
