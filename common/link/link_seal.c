// SPDX-License-Identifier: GPL-2.0-or-later
/* The transport: sealing, opening in place, Rekey (link_seal.h). */
#include "link_seal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Noise's Rekey before every rekey_every-th transport message of a
 * direction (n counts them from 0); both ends count, nothing is said. */
static int rekey_due(struct sj_noise_cipher *cs, uint64_t rekey_every,
		     struct sj_err *err)
{
	if (cs->n == 0 || rekey_every == 0 || cs->n % rekey_every != 0)
		return 0;
	return sj_noise_rekey(cs, err);
}

int sj_link_seal(struct sj_noise_cipher *cs, uint64_t rekey_every,
		 const uint8_t *plain, size_t len, struct sj_buf *out,
		 struct sj_err *err)
{
	size_t msgs = len / SJ_NOISE_PAYLOAD_MAX +
		      (len % SJ_NOISE_PAYLOAD_MAX != 0);
	size_t start = out->len;

	/* All the room at once: an allocation failing half way would leave
	 * the first messages sealed, their nonces spent, the rest not. */
	if (msgs > (SIZE_MAX - len) / SJ_LINK_MSG_OVERHEAD ||
	    sj_buf_reserve(out, len + msgs * SJ_LINK_MSG_OVERHEAD))
		return sj_err_set(err, "out of memory");
	while (len > 0) {
		size_t n = len < SJ_NOISE_PAYLOAD_MAX ? len :
			   SJ_NOISE_PAYLOAD_MAX;
		size_t sealed;

		if (rekey_due(cs, rekey_every, err) ||
		    sj_noise_encrypt(cs, NULL, 0, plain, n,
				     out->p + out->len + SJ_LINK_MSG_HEAD,
				     out->cap - out->len - SJ_LINK_MSG_HEAD,
				     &sealed, err)) {
			/* Nonces exhausted: cs is spent, and nothing of
			 * this goes out. */
			out->len = start;
			return sj_err_wrap(err, "link");
		}
		out->p[out->len] = (uint8_t)(sealed >> 8);
		out->p[out->len + 1] = (uint8_t)sealed;
		out->len += SJ_LINK_MSG_HEAD + sealed;
		plain += n;
		len -= n;
	}
	return 0;
}

int sj_link_open_in_place(struct sj_noise_cipher *cs, uint64_t rekey_every,
			  uint8_t *msg, size_t len, size_t *plain_len)
{
	/* libsodium verifies the tag before it writes the plaintext over
	 * the ciphertext it came from. */
	if (len < SJ_NOISE_TAGLEN || len > SJ_NOISE_MSG_MAX ||
	    rekey_due(cs, rekey_every, NULL) ||
	    sj_noise_decrypt(cs, NULL, 0, msg, len, msg, len, plain_len,
			     NULL))
		return -1;
	return 0;
}

int sj_link_open_msg(struct sj_noise_cipher *cs, uint64_t rekey_every,
		     const uint8_t *msg, size_t len, struct sj_buf *plain)
{
	size_t opened;

	/* Room for the ciphertext, opened where it lands; one byte more: an
	 * empty message must not leave plain->p NULL (NULL + 0 is
	 * undefined). */
	if (len < SJ_NOISE_TAGLEN || len > SJ_NOISE_MSG_MAX ||
	    sj_buf_reserve(plain, len + 1))
		return -1;
	memcpy(plain->p + plain->len, msg, len);
	if (sj_link_open_in_place(cs, rekey_every, plain->p + plain->len, len,
				  &opened))
		return -1;
	plain->len += opened;
	return 0;
}

int sj_link_room_for_record(struct sj_link_conn *c, size_t rest)
{
	struct sj_buf *b = &c->in;
	size_t msgs = rest / SJ_NOISE_PAYLOAD_MAX + 2;
	size_t more = rest + msgs * SJ_LINK_MSG_OVERHEAD + SJ_LINK_READ_CHUNK;
	uint8_t *p;

	if (b->cap - b->len >= more)
		return 0;
	if (more > SIZE_MAX - b->len)
		return -1;
	p = realloc(b->p, b->len + more);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = b->len + more;
	return 0;
}

size_t sj_link_read_chunk(const struct sj_link_conn *c)
{
	size_t room = c->in.cap - c->in.len;

	return room >= SJ_LINK_MSG_HEAD + SJ_NOISE_MSG_MAX ? room :
	       SJ_LINK_READ_CHUNK;
}

/* Seals plaintext records (each its length and its bytes) onto c. */
int sj_link_seal_onto(struct sj_link *L, struct sj_link_conn *c,
		      const uint8_t *plain, size_t len, struct sj_err *err)
{
	return sj_link_seal(&c->tx, L->rekey_every, plain, len, &c->out, err);
}

/* n bytes of c's plaintext are used: past them, and past the gap once
 * none is left (an emptied buffer can be given back). */
void sj_link_plain_consumed(struct sj_link_conn *c, size_t n)
{
	c->in.off += n;
	c->plain -= n;
	if (c->plain == 0) {
		c->in.off += c->gap;
		c->gap = 0;
	}
}

/* The shorter of the two moves, over the gap and the length field
 * between them (a record may span messages, and is read whole); what is
 * left between the plaintext and the next message is the gap. */
void sj_link_plain_join(struct sj_link_conn *c, size_t ml, size_t pl)
{
	struct sj_buf *b = &c->in;
	size_t skip = c->gap + SJ_LINK_MSG_HEAD;
	uint8_t *at = b->p + b->off;

	if (c->plain > pl) {
		memmove(at + c->plain, at + c->plain + skip, pl);
		c->gap = skip + ml - pl;
	} else {
		if (c->plain > 0)
			memmove(at + skip, at, c->plain);
		b->off += skip;
		c->gap = ml - pl;
	}
	c->plain += pl;
	if (c->plain == 0)
		sj_link_plain_consumed(c, 0);
}
