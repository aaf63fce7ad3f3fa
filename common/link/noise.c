// SPDX-License-Identifier: GPL-2.0-or-later
#include "noise.h"

#include <sodium.h>
#include <string.h>

#define BLOCKLEN 128

/* ENCRYPT(k, n, ad, plaintext) of the ChaChaPoly cipher functions (12.3):
 * the 96-bit IETF nonce is 32 zero bits, then n little-endian. */
static void chacha_nonce(uint8_t nonce[12], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

static int aead_encrypt(const uint8_t k[SJ_NOISE_KEYLEN], uint64_t n,
			const uint8_t *ad, size_t adlen, const uint8_t *plain,
			size_t len, uint8_t *out, struct sj_err *err)
{
	uint8_t nonce[12];
	unsigned long long clen;

	chacha_nonce(nonce, n);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, plain, len,
						      ad, adlen, NULL, nonce,
						      k) != 0)
		return sj_err_set(err, "noise: %zu bytes cannot be sealed",
				  len);
	return 0;
}

void sj_noise_cipher_init(struct sj_noise_cipher *cs, const uint8_t *key)
{
	if (key != NULL)
		memcpy(cs->k, key, SJ_NOISE_KEYLEN);
	else
		sodium_memzero(cs->k, sizeof(cs->k));
	cs->has_k = key != NULL;
	cs->n = 0;
}

int sj_noise_cipher_has_key(const struct sj_noise_cipher *cs)
{
	return cs->has_k;
}

void sj_noise_cipher_set_nonce(struct sj_noise_cipher *cs, uint64_t nonce)
{
	cs->n = nonce;
}

/* Before the handshake has a key, Noise passes a payload on as it is. */
static int pass_plain(const uint8_t *in, size_t len, uint8_t *out,
		      size_t outcap, size_t *outlen, struct sj_err *err)
{
	if (outcap < len)
		return sj_err_set(err, "noise: no room for %zu bytes", len);
	if (len > 0)
		memmove(out, in, len);
	*outlen = len;
	return 0;
}

int sj_noise_encrypt(struct sj_noise_cipher *cs, const uint8_t *ad,
		     size_t adlen, const uint8_t *plain, size_t len,
		     uint8_t *out, size_t outcap, size_t *outlen,
		     struct sj_err *err)
{
	if (!cs->has_k)
		return pass_plain(plain, len, out, outcap, outlen, err);
	if (cs->n == SJ_NOISE_NONCE_MAX)
		return sj_err_set(err, "noise: the key's nonces are used up");
	if (len > SJ_NOISE_PAYLOAD_MAX)
		return sj_err_set(err, "noise: %zu bytes are more than a "
				  "Noise message holds", len);
	if (outcap < len + SJ_NOISE_TAGLEN)
		return sj_err_set(err, "noise: no room for %zu bytes sealed",
				  len);
	if (aead_encrypt(cs->k, cs->n, ad, adlen, plain, len, out, err) != 0)
		return -1;
	cs->n++;
	*outlen = len + SJ_NOISE_TAGLEN;
	return 0;
}

int sj_noise_decrypt(struct sj_noise_cipher *cs, const uint8_t *ad,
		     size_t adlen, const uint8_t *cipher, size_t len,
		     uint8_t *out, size_t outcap, size_t *outlen,
		     struct sj_err *err)
{
	uint8_t nonce[12];
	unsigned long long plen;

	if (!cs->has_k)
		return pass_plain(cipher, len, out, outcap, outlen, err);
	if (cs->n == SJ_NOISE_NONCE_MAX)
		return sj_err_set(err, "noise: the key's nonces are used up");
	if (len < SJ_NOISE_TAGLEN || len > SJ_NOISE_MSG_MAX)
		return sj_err_set(err, "noise: a ciphertext of %zu bytes "
				  "(from %d to %d)", len, SJ_NOISE_TAGLEN,
				  SJ_NOISE_MSG_MAX);
	if (outcap < len - SJ_NOISE_TAGLEN)
		return sj_err_set(err, "noise: no room for %zu bytes",
				  len - SJ_NOISE_TAGLEN);
	chacha_nonce(nonce, cs->n);
	/* libsodium verifies the tag before it writes any plaintext. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL, cipher,
						      len, ad, adlen, nonce,
						      cs->k) != 0)
		return sj_err_set(err, "noise: a message failed "
				  "authentication");
	cs->n++;
	*outlen = (size_t)plen;
	return 0;
}

int sj_noise_rekey(struct sj_noise_cipher *cs, struct sj_err *err)
{
	static const uint8_t zeros[SJ_NOISE_KEYLEN];
	uint8_t out[SJ_NOISE_KEYLEN + SJ_NOISE_TAGLEN];

	if (!cs->has_k)
		return sj_err_set(err, "noise: no key to rekey");
	if (aead_encrypt(cs->k, SJ_NOISE_NONCE_MAX, NULL, 0, zeros,
			 sizeof(zeros), out, err) != 0)
		return -1;
	memcpy(cs->k, out, SJ_NOISE_KEYLEN);
	sodium_memzero(out, sizeof(out));
	return 0;
}

void sj_noise_cipher_wipe(struct sj_noise_cipher *cs)
{
	sodium_memzero(cs, sizeof(*cs));
}

/* HMAC-HASH(key, data) (RFC 2104) with BLAKE2b, the key always HASHLEN
 * bytes here (a chaining key or HKDF's temp_key), data in two parts (the
 * second may be empty). */
static void hmac(const uint8_t key[SJ_NOISE_HASHLEN], const uint8_t *d1,
		 size_t l1, const uint8_t *d2, size_t l2,
		 uint8_t out[SJ_NOISE_HASHLEN])
{
	crypto_generichash_blake2b_state st;
	uint8_t pad[BLOCKLEN], inner[SJ_NOISE_HASHLEN];

	memset(pad, 0x36, sizeof(pad));
	for (int i = 0; i < SJ_NOISE_HASHLEN; i++)
		pad[i] ^= key[i];
	/* crypto_generichash_blake2b_* fail only on bad lengths; these are
	 * the constants they accept. */
	(void)crypto_generichash_blake2b_init(&st, NULL, 0, SJ_NOISE_HASHLEN);
	(void)crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	if (l1 > 0)
		(void)crypto_generichash_blake2b_update(&st, d1, l1);
	if (l2 > 0)
		(void)crypto_generichash_blake2b_update(&st, d2, l2);
	(void)crypto_generichash_blake2b_final(&st, inner, sizeof(inner));

	memset(pad, 0x5c, sizeof(pad));
	for (int i = 0; i < SJ_NOISE_HASHLEN; i++)
		pad[i] ^= key[i];
	(void)crypto_generichash_blake2b_init(&st, NULL, 0, SJ_NOISE_HASHLEN);
	(void)crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	(void)crypto_generichash_blake2b_update(&st, inner, sizeof(inner));
	(void)crypto_generichash_blake2b_final(&st, out, SJ_NOISE_HASHLEN);
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&st, sizeof(st));
}

/* HKDF(chaining_key, input_key_material, 2) (section 4.3). */
static void hkdf2(const uint8_t ck[SJ_NOISE_HASHLEN], const uint8_t *ikm,
		  size_t len, uint8_t out1[SJ_NOISE_HASHLEN],
		  uint8_t out2[SJ_NOISE_HASHLEN])
{
	static const uint8_t one = 0x01, two = 0x02;
	uint8_t temp[SJ_NOISE_HASHLEN];

	hmac(ck, ikm, len, NULL, 0, temp);
	hmac(temp, &one, 1, NULL, 0, out1);
	hmac(temp, out1, SJ_NOISE_HASHLEN, &two, 1, out2);
	sodium_memzero(temp, sizeof(temp));
}

static void hash2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		  uint8_t out[SJ_NOISE_HASHLEN])
{
	crypto_generichash_blake2b_state st;

	(void)crypto_generichash_blake2b_init(&st, NULL, 0, SJ_NOISE_HASHLEN);
	if (alen > 0)
		(void)crypto_generichash_blake2b_update(&st, a, alen);
	if (blen > 0)
		(void)crypto_generichash_blake2b_update(&st, b, blen);
	(void)crypto_generichash_blake2b_final(&st, out, SJ_NOISE_HASHLEN);
}

void sj_noise_sym_init(struct sj_noise_symmetric *ss, const char *protocol)
{
	size_t len = strlen(protocol);

	if (len <= SJ_NOISE_HASHLEN) {
		memset(ss->h, 0, sizeof(ss->h));
		memcpy(ss->h, protocol, len);
	} else {
		hash2((const uint8_t *)protocol, len, NULL, 0, ss->h);
	}
	memcpy(ss->ck, ss->h, sizeof(ss->ck));
	sj_noise_cipher_init(&ss->cs, NULL);
}

void sj_noise_sym_mix_key(struct sj_noise_symmetric *ss, const uint8_t *ikm,
			  size_t len)
{
	uint8_t ck[SJ_NOISE_HASHLEN], temp_k[SJ_NOISE_HASHLEN];

	hkdf2(ss->ck, ikm, len, ck, temp_k);
	memcpy(ss->ck, ck, sizeof(ck));
	/* HASHLEN 64: temp_k is truncated to 32 bytes. */
	sj_noise_cipher_init(&ss->cs, temp_k);
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(temp_k, sizeof(temp_k));
}

void sj_noise_sym_mix_hash(struct sj_noise_symmetric *ss, const uint8_t *data,
			   size_t len)
{
	hash2(ss->h, sizeof(ss->h), data, len, ss->h);
}

void sj_noise_sym_handshake_hash(const struct sj_noise_symmetric *ss,
				 uint8_t out[SJ_NOISE_HASHLEN])
{
	memcpy(out, ss->h, SJ_NOISE_HASHLEN);
}

int sj_noise_sym_encrypt_and_hash(struct sj_noise_symmetric *ss,
				  const uint8_t *plain, size_t len,
				  uint8_t *out, size_t outcap, size_t *outlen,
				  struct sj_err *err)
{
	if (sj_noise_encrypt(&ss->cs, ss->h, sizeof(ss->h), plain, len, out,
			     outcap, outlen, err) != 0)
		return -1;
	sj_noise_sym_mix_hash(ss, out, *outlen);
	return 0;
}

int sj_noise_sym_decrypt_and_hash(struct sj_noise_symmetric *ss,
				  const uint8_t *cipher, size_t len,
				  uint8_t *out, size_t outcap, size_t *outlen,
				  struct sj_err *err)
{
	uint8_t h[SJ_NOISE_HASHLEN];

	/* The next h is computed first: out may be cipher. */
	hash2(ss->h, sizeof(ss->h), cipher, len, h);
	if (sj_noise_decrypt(&ss->cs, ss->h, sizeof(ss->h), cipher, len, out,
			     outcap, outlen, err) != 0)
		return -1;
	memcpy(ss->h, h, sizeof(h));
	return 0;
}

void sj_noise_sym_split(struct sj_noise_symmetric *ss,
			struct sj_noise_cipher *c1, struct sj_noise_cipher *c2)
{
	uint8_t k1[SJ_NOISE_HASHLEN], k2[SJ_NOISE_HASHLEN];

	hkdf2(ss->ck, NULL, 0, k1, k2);
	sj_noise_cipher_init(c1, k1);
	sj_noise_cipher_init(c2, k2);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	sodium_memzero(ss->ck, sizeof(ss->ck));
	sj_noise_cipher_wipe(&ss->cs);
}

int sj_noise_kk_init(struct sj_noise_kk *hs, int initiator,
		     const uint8_t *prologue, size_t prologue_len,
		     const uint8_t s_secret[SJ_NOISE_DHLEN],
		     const uint8_t rs[SJ_NOISE_DHLEN], struct sj_err *err)
{
	if (sodium_init() < 0)
		return sj_err_set(err, "noise: libsodium cannot be "
				  "initialised");
	memset(hs, 0, sizeof(*hs));
	hs->initiator = initiator != 0;
	memcpy(hs->s_sec, s_secret, SJ_NOISE_DHLEN);
	if (crypto_scalarmult_base(hs->s_pub, hs->s_sec) != 0) {
		sj_noise_kk_wipe(hs);
		return sj_err_set(err, "noise: an unusable static key");
	}
	memcpy(hs->rs, rs, SJ_NOISE_DHLEN);
	sj_noise_sym_init(&hs->ss, SJ_NOISE_PROTOCOL);
	sj_noise_sym_mix_hash(&hs->ss, prologue, prologue_len);
	/* Pre-messages: "-> s" then "<- s". */
	if (hs->initiator) {
		sj_noise_sym_mix_hash(&hs->ss, hs->s_pub, SJ_NOISE_DHLEN);
		sj_noise_sym_mix_hash(&hs->ss, hs->rs, SJ_NOISE_DHLEN);
	} else {
		sj_noise_sym_mix_hash(&hs->ss, hs->rs, SJ_NOISE_DHLEN);
		sj_noise_sym_mix_hash(&hs->ss, hs->s_pub, SJ_NOISE_DHLEN);
	}
	return 0;
}

int sj_noise_kk_set_ephemeral(struct sj_noise_kk *hs,
			      const uint8_t e_secret[SJ_NOISE_DHLEN],
			      struct sj_err *err)
{
	/* The initiator sends e in message 1, the responder in message 2. */
	if (hs->failed || hs->msgs >= (hs->initiator ? 1 : 2))
		return sj_err_set(err, "noise: the ephemeral key was sent "
				  "already");
	memcpy(hs->e_sec, e_secret, SJ_NOISE_DHLEN);
	if (crypto_scalarmult_base(hs->e_pub, hs->e_sec) != 0) {
		sodium_memzero(hs->e_sec, sizeof(hs->e_sec));
		return sj_err_set(err, "noise: an unusable ephemeral key");
	}
	hs->has_e = 1;
	return 0;
}

void sj_noise_kk_wipe(struct sj_noise_kk *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

static int fail(struct sj_noise_kk *hs)
{
	sj_noise_kk_wipe(hs);
	hs->failed = 1;
	return -1;
}

/* MixKey(DH(secret, public)); refuses an all-zero result. */
static int mix_dh(struct sj_noise_kk *hs, const uint8_t *secret,
		  const uint8_t *public, struct sj_err *err)
{
	uint8_t dh[SJ_NOISE_DHLEN];

	if (crypto_scalarmult(dh, secret, public) != 0)
		return sj_err_set(err, "noise: an unusable key (a low-order "
				  "point)");
	sj_noise_sym_mix_key(&hs->ss, dh, sizeof(dh));
	sodium_memzero(dh, sizeof(dh));
	return 0;
}

/* The DH tokens of message 1 (es, ss) or 2 (ee, se), from this end's
 * side: in "es" the initiator contributes e, the responder s, etc. */
static int mix_tokens(struct sj_noise_kk *hs, int msg, struct sj_err *err)
{
	if (msg == 1) {
		if (mix_dh(hs, hs->initiator ? hs->e_sec : hs->s_sec,
			   hs->initiator ? hs->rs : hs->re, err) != 0)
			return -1;
		return mix_dh(hs, hs->s_sec, hs->rs, err);
	}
	if (mix_dh(hs, hs->e_sec, hs->re, err) != 0)
		return -1;
	return mix_dh(hs, hs->initiator ? hs->s_sec : hs->e_sec,
		      hs->initiator ? hs->re : hs->rs, err);
}

/* The message number (1 or 2) that is next, if it is this end's to
 * write (writing) or read (!writing); else 0. */
static int next_msg(const struct sj_noise_kk *hs, int writing)
{
	int mine;

	if (hs->failed || hs->msgs >= 2)
		return 0;
	/* Message 1 is the initiator's, message 2 the responder's. */
	mine = (hs->msgs == 0) == (hs->initiator != 0);
	return mine == (writing != 0) ? hs->msgs + 1 : 0;
}

int sj_noise_kk_write(struct sj_noise_kk *hs, const uint8_t *payload,
		      size_t len, uint8_t *out, size_t outcap, size_t *outlen,
		      struct sj_err *err)
{
	int msg = next_msg(hs, 1);
	size_t clen;

	if (msg == 0)
		return sj_err_set(err, "noise: not this end's turn to write "
				  "a handshake message");
	if (len > SJ_NOISE_MSG_MAX - SJ_NOISE_KK_MSG_LEN(0))
		return sj_err_set(err, "noise: a handshake payload of %zu "
				  "bytes is too long", len);
	if (outcap < SJ_NOISE_KK_MSG_LEN(len))
		return sj_err_set(err, "noise: no room for a handshake "
				  "message");
	if (!hs->has_e) {
		randombytes_buf(hs->e_sec, sizeof(hs->e_sec));
		if (crypto_scalarmult_base(hs->e_pub, hs->e_sec) != 0) {
			sj_err_set(err, "noise: an unusable ephemeral key");
			return fail(hs);
		}
		hs->has_e = 1;
	}
	/* "e": sent in clear and hashed (no PSK, so no MixKey of it). */
	memcpy(out, hs->e_pub, SJ_NOISE_DHLEN);
	sj_noise_sym_mix_hash(&hs->ss, hs->e_pub, SJ_NOISE_DHLEN);
	if (mix_tokens(hs, msg, err) != 0 ||
	    sj_noise_sym_encrypt_and_hash(&hs->ss, payload, len,
					  out + SJ_NOISE_DHLEN,
					  outcap - SJ_NOISE_DHLEN, &clen,
					  err) != 0)
		return fail(hs);
	*outlen = SJ_NOISE_DHLEN + clen;
	hs->msgs = msg;
	return 0;
}

int sj_noise_kk_read(struct sj_noise_kk *hs, const uint8_t *msg, size_t len,
		     uint8_t *out, size_t outcap, size_t *outlen,
		     struct sj_err *err)
{
	int m = next_msg(hs, 0);

	if (m == 0)
		return sj_err_set(err, "noise: not the other end's turn to "
				  "send a handshake message");
	if (len < SJ_NOISE_KK_MSG_LEN(0) || len > SJ_NOISE_MSG_MAX) {
		sj_err_set(err, "noise: a handshake message of %zu bytes", len);
		return fail(hs);
	}
	if (outcap < len - SJ_NOISE_KK_MSG_LEN(0))
		return sj_err_set(err, "noise: no room for a handshake "
				  "payload of %zu bytes",
				  len - SJ_NOISE_KK_MSG_LEN(0));
	memcpy(hs->re, msg, SJ_NOISE_DHLEN);
	sj_noise_sym_mix_hash(&hs->ss, hs->re, SJ_NOISE_DHLEN);
	if (mix_tokens(hs, m, err) != 0 ||
	    sj_noise_sym_decrypt_and_hash(&hs->ss, msg + SJ_NOISE_DHLEN,
					  len - SJ_NOISE_DHLEN, out, outcap,
					  outlen, err) != 0)
		return fail(hs);
	hs->msgs = m;
	return 0;
}

int sj_noise_kk_done(const struct sj_noise_kk *hs)
{
	return !hs->failed && hs->msgs == 2;
}

int sj_noise_kk_split(struct sj_noise_kk *hs, struct sj_noise_cipher *tx,
		      struct sj_noise_cipher *rx,
		      uint8_t hash[SJ_NOISE_HASHLEN], struct sj_err *err)
{
	struct sj_noise_cipher c1, c2;

	if (!sj_noise_kk_done(hs))
		return sj_err_set(err, "noise: the handshake is not done");
	sj_noise_sym_split(&hs->ss, &c1, &c2);
	if (hash != NULL)
		sj_noise_sym_handshake_hash(&hs->ss, hash);
	*tx = hs->initiator ? c1 : c2;
	*rx = hs->initiator ? c2 : c1;
	sj_noise_cipher_wipe(&c1);
	sj_noise_cipher_wipe(&c2);
	sj_noise_kk_wipe(hs);
	return 0;
}
