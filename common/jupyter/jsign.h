// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jsign.h - the signatures of Jupyter messages (the Jupyter messaging
 * protocol, "The Wire Protocol").
 *
 * A message on the wire is [routing ids...] "<IDS|MSG>" signature header
 * parent_header metadata content [buffers...]; the signature is the
 * lowercase hex HMAC, with the connection file's key and
 * signature_scheme, of the four JSON frames in that order.  The login
 * shim checks it on messages from a client whose uid it cannot know (one
 * on another host), so that nothing unsigned crosses the link.
 */
#ifndef SJ_JSIGN_H
#define SJ_JSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

#define SJ_JSIGN_HEX_MAX 128	/* hmac-sha512 */

/* The frame between the routing ids and the signature. */
#define SJ_JUPYTER_DELIMITER "<IDS|MSG>"

struct sj_jsign {
	int digest;		/* 256 or 512; 0: no key (nothing signed) */
	uint8_t key[512];
	size_t key_len;
};

/* From the connection file's key and scheme.  An empty key means no
 * signing.  Returns -1 for a scheme we cannot compute (we have
 * hmac-sha256, Jupyter's default, and hmac-sha512). */
int sj_jsign_init(struct sj_jsign *s, const char *key, const char *scheme,
		  struct sj_err *err);
void sj_jsign_wipe(struct sj_jsign *s);

/* The signature of the four parts, NUL-terminated hex into hex (at least
 * SJ_JSIGN_HEX_MAX + 1 bytes). */
void sj_jsign_hex(const struct sj_jsign *s, const uint8_t *const part[4],
		  const size_t part_len[4], char *hex);

/* Checks a whole message given as its ZMTP frames (as a client sent it):
 * 0 if it is a Jupyter message whose signature is right, -1 if not (err
 * says what is wrong).  With no key, any Jupyter message is right. */
int sj_jsign_check_zmtp(const struct sj_jsign *s, const uint8_t *frames,
			size_t len, struct sj_err *err);

#endif
