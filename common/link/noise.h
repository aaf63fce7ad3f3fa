// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * noise.h - Noise_KK_25519_ChaChaPoly_BLAKE2b, exactly as the Noise Protocol
 * Framework (revision 34, noiseprotocol.org/noise.html) defines it, and no
 * other pattern or primitive.
 *
 * The names follow the specification's sections 5.1-5.3: a CipherState, a
 * SymmetricState and a HandshakeState for the KK pattern
 *
 *	KK:
 *	  -> s
 *	  <- s
 *	  ...
 *	  -> e, es, ss
 *	  <- e, ee, se
 *
 * built from libsodium: X25519 (crypto_scalarmult), ChaCha20-Poly1305 IETF
 * with the nonce as 4 zero bytes and the 64-bit counter little-endian, and
 * BLAKE2b-512 (HASHLEN 64, BLOCKLEN 128) with HMAC and HKDF over it.  The
 * link (docs/link.md) builds on it; the checks against the cacophony test
 * vectors and against another implementation (dissononce) are
 * tests/unit/test_noise.c and test_noise_interop.c.
 *
 * Everything lives in fixed-size structs the caller owns: nothing is
 * allocated.  Every secret is wiped (sodium_memzero) once it is no longer
 * needed, and by the *_wipe functions.  A function that can fail returns 0,
 * or -1 with err filled (err may be NULL).  libsodium must be initialised
 * (sodium_init) before any of these is called; sj_noise_kk_init does it.
 */
#ifndef SJ_NOISE_H
#define SJ_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "sj_err.h"

#define SJ_NOISE_PROTOCOL "Noise_KK_25519_ChaChaPoly_BLAKE2b"
#define SJ_NOISE_DHLEN 32
#define SJ_NOISE_KEYLEN 32
#define SJ_NOISE_HASHLEN 64
#define SJ_NOISE_TAGLEN 16
/* No Noise message is longer (section 3), handshake or transport. */
#define SJ_NOISE_MSG_MAX 65535
/* The largest payload of a transport message. */
#define SJ_NOISE_PAYLOAD_MAX (SJ_NOISE_MSG_MAX - SJ_NOISE_TAGLEN)
/* A nonce never used by EncryptWithAd/DecryptWithAd: Rekey's (5.1). */
#define SJ_NOISE_NONCE_MAX UINT64_MAX

/* CipherState (5.1): a key, whether there is one, and the next nonce. */
struct sj_noise_cipher {
	uint8_t k[SJ_NOISE_KEYLEN];
	int has_k;
	uint64_t n;
};

/* InitializeKey(key): key, or NULL for "empty"; n = 0. */
void sj_noise_cipher_init(struct sj_noise_cipher *cs, const uint8_t *key);

/* HasKey(). */
int sj_noise_cipher_has_key(const struct sj_noise_cipher *cs);

/* SetNonce(nonce). */
void sj_noise_cipher_set_nonce(struct sj_noise_cipher *cs, uint64_t nonce);

/* EncryptWithAd(ad, plaintext): out (room for outcap bytes; may be plain
 * itself) gets the ciphertext, len + SJ_NOISE_TAGLEN bytes (len bytes, the
 * plaintext copied, if there is no key), *outlen its length.  Fails, with
 * nothing changed, when the nonce has reached 2^64-1 (the spec's "signal
 * an error": the key has done its work), the plaintext is longer than
 * SJ_NOISE_PAYLOAD_MAX (a Noise message is at most SJ_NOISE_MSG_MAX
 * bytes) or out is too small. */
int sj_noise_encrypt(struct sj_noise_cipher *cs, const uint8_t *ad,
		     size_t adlen, const uint8_t *plain, size_t len,
		     uint8_t *out, size_t outcap, size_t *outlen,
		     struct sj_err *err);

/* DecryptWithAd(ad, ciphertext): the reverse; out may be cipher itself.
 * Fails when the ciphertext does not authenticate (n is then not
 * incremented and out holds nothing of it), is shorter than a tag or
 * longer than SJ_NOISE_MSG_MAX, when the nonce has reached 2^64-1, or out
 * is too small. */
int sj_noise_decrypt(struct sj_noise_cipher *cs, const uint8_t *ad,
		     size_t adlen, const uint8_t *cipher, size_t len,
		     uint8_t *out, size_t outcap, size_t *outlen,
		     struct sj_err *err);

/* Rekey(): k = the first 32 bytes of ENCRYPT(k, 2^64-1, "", 32 zero
 * bytes); n is kept.  Fails (nothing changed) if there is no key. */
int sj_noise_rekey(struct sj_noise_cipher *cs, struct sj_err *err);

/* Wipes the key: the state has no key afterwards. */
void sj_noise_cipher_wipe(struct sj_noise_cipher *cs);

/* SymmetricState (5.2). */
struct sj_noise_symmetric {
	struct sj_noise_cipher cs;
	uint8_t ck[SJ_NOISE_HASHLEN];
	uint8_t h[SJ_NOISE_HASHLEN];
};

/* InitializeSymmetric(protocol_name). */
void sj_noise_sym_init(struct sj_noise_symmetric *ss, const char *protocol);

/* MixKey(input_key_material). */
void sj_noise_sym_mix_key(struct sj_noise_symmetric *ss, const uint8_t *ikm,
			  size_t len);

/* MixHash(data). */
void sj_noise_sym_mix_hash(struct sj_noise_symmetric *ss, const uint8_t *data,
			   size_t len);

/* GetHandshakeHash(): h, SJ_NOISE_HASHLEN bytes, into out. */
void sj_noise_sym_handshake_hash(const struct sj_noise_symmetric *ss,
				 uint8_t out[SJ_NOISE_HASHLEN]);

/* EncryptAndHash(plaintext), with sj_noise_encrypt's arguments and
 * failures; out may be plain. */
int sj_noise_sym_encrypt_and_hash(struct sj_noise_symmetric *ss,
				  const uint8_t *plain, size_t len,
				  uint8_t *out, size_t outcap, size_t *outlen,
				  struct sj_err *err);

/* DecryptAndHash(ciphertext), with sj_noise_decrypt's; out may be cipher.
 * On failure h is unchanged. */
int sj_noise_sym_decrypt_and_hash(struct sj_noise_symmetric *ss,
				  const uint8_t *cipher, size_t len,
				  uint8_t *out, size_t outcap, size_t *outlen,
				  struct sj_err *err);

/* Split(): c1 (the initiator's sending state) and c2 (the responder's),
 * each with n = 0.  The chaining key is wiped, the cipher state's key too;
 * h stays for GetHandshakeHash. */
void sj_noise_sym_split(struct sj_noise_symmetric *ss,
			struct sj_noise_cipher *c1, struct sj_noise_cipher *c2);

/* HandshakeState (5.3) for KK. */
struct sj_noise_kk {
	struct sj_noise_symmetric ss;
	int initiator;
	int msgs;		/* handshake messages written or read: 0-2 */
	int failed;		/* a step failed: the state is unusable */
	uint8_t s_pub[SJ_NOISE_DHLEN], s_sec[SJ_NOISE_DHLEN];
	uint8_t e_pub[SJ_NOISE_DHLEN], e_sec[SJ_NOISE_DHLEN];
	int has_e;		/* e set, by sj_noise_kk_set_ephemeral or made */
	uint8_t rs[SJ_NOISE_DHLEN], re[SJ_NOISE_DHLEN];
};

/* Initialize(KK, initiator, prologue, s, e = empty, rs, re = empty):
 * s_secret is this end's static X25519 secret (its public key is computed
 * from it), rs the other end's static public key; both pre-messages are
 * hashed, the initiator's first.  Fails only if libsodium cannot be
 * initialised. */
int sj_noise_kk_init(struct sj_noise_kk *hs, int initiator,
		     const uint8_t *prologue, size_t prologue_len,
		     const uint8_t s_secret[SJ_NOISE_DHLEN],
		     const uint8_t rs[SJ_NOISE_DHLEN], struct sj_err *err);

/* Sets this end's ephemeral key pair from its secret, before the message
 * that sends it, instead of a random one: for test vectors only, a real
 * session must never reuse an ephemeral key.  Fails if this end's
 * ephemeral has been sent already. */
int sj_noise_kk_set_ephemeral(struct sj_noise_kk *hs,
			      const uint8_t e_secret[SJ_NOISE_DHLEN],
			      struct sj_err *err);

/* Handshake message sizes with a payload of len bytes. */
#define SJ_NOISE_KK_MSG_LEN(len) (SJ_NOISE_DHLEN + (len) + SJ_NOISE_TAGLEN)

/* WriteMessage(payload, message_buffer): the next handshake message, if it
 * is this end's turn, into out (outcap bytes, not overlapping payload),
 * *outlen its length, SJ_NOISE_KK_MSG_LEN(len).  Fails, with nothing
 * changed, if it is not this end's turn (or the handshake is over), the
 * message would exceed SJ_NOISE_MSG_MAX or out is too small; fails and
 * leaves the state unusable and wiped if a Diffie-Hellman result is all
 * zero (the other end's key is a low-order point). */
int sj_noise_kk_write(struct sj_noise_kk *hs, const uint8_t *payload,
		      size_t len, uint8_t *out, size_t outcap, size_t *outlen,
		      struct sj_err *err);

/* ReadMessage(message, payload_buffer): the other end's handshake message
 * msg (len bytes); its payload into out (outcap bytes, at least len -
 * SJ_NOISE_KK_MSG_LEN(0); may be msg + SJ_NOISE_DHLEN, not otherwise
 * overlapping msg), *outlen its length.  Fails, with nothing changed, if
 * it is not the other end's turn or out is too small.  Fails and leaves
 * the state unusable and wiped if the message is too short or too long, a
 * Diffie-Hellman result is all zero, or the payload does not authenticate:
 * the other end does not hold the static key this end expects, or does
 * not expect this end's, or the message was changed. */
int sj_noise_kk_read(struct sj_noise_kk *hs, const uint8_t *msg, size_t len,
		     uint8_t *out, size_t outcap, size_t *outlen,
		     struct sj_err *err);

/* True once both handshake messages have gone through. */
int sj_noise_kk_done(const struct sj_noise_kk *hs);

/* After the handshake: Split() into tx (this end sends with it) and rx,
 * and the handshake hash into hash (if not NULL); the handshake state is
 * wiped.  Fails if the handshake is not done. */
int sj_noise_kk_split(struct sj_noise_kk *hs, struct sj_noise_cipher *tx,
		      struct sj_noise_cipher *rx,
		      uint8_t hash[SJ_NOISE_HASHLEN], struct sj_err *err);

/* Wipes every key and secret of the handshake state. */
void sj_noise_kk_wipe(struct sj_noise_kk *hs);

#endif
