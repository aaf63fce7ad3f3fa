// SPDX-License-Identifier: GPL-2.0-or-later
/* Noise_KK_25519_ChaChaPoly_BLAKE2b (common/link/noise.c) against the cacophony
 * project's test vector for it (tests/unit/vectors/, a copy of
 * ../shared/vectors/noise-kk-25519-chachapoly-blake2b.json), byte for byte
 * in both roles, and what it must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noise.h"
#include "testutil.h"

#define MAX_MSGS 8

struct bytes {
	uint8_t b[256];
	size_t len;
};

struct vector {
	struct bytes prologue, init_static, init_ephemeral, init_remote_static;
	struct bytes resp_static, resp_ephemeral, resp_remote_static;
	struct bytes hash;
	struct bytes payload[MAX_MSGS], ciphertext[MAX_MSGS];
	int nmsgs;
};

static void hex(const json_t *obj, const char *key, struct bytes *out)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s == NULL)
		fail_msg("the vector has no %s", key);
	if (sodium_hex2bin(out->b, sizeof(out->b), s, strlen(s), NULL,
			   &out->len, NULL) != 0)
		fail_msg("the vector's %s is not hex", key);
}

/* The vector file, found beside this source file (the tests run from the
 * tree's top, where the compiler was given this file's path). */
static void load(struct vector *v)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int dirlen = slash != NULL ? (int)(slash - __FILE__) : 1;
	json_error_t jerr;
	json_t *root, *vec, *msgs;

	snprintf(path, sizeof(path), "%.*s/vectors/"
		 "noise-kk-25519-chachapoly-blake2b.json", dirlen,
		 slash != NULL ? __FILE__ : ".");
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		fail_msg("%s: %s", path, jerr.text);
	vec = json_array_get(json_object_get(root, "vectors"), 0);
	assert_non_null(vec);
	assert_string_equal(json_string_value(json_object_get(vec,
							"protocol_name")),
			    SJ_NOISE_PROTOCOL);
	hex(vec, "init_prologue", &v->prologue);
	hex(vec, "init_static", &v->init_static);
	hex(vec, "init_ephemeral", &v->init_ephemeral);
	hex(vec, "init_remote_static", &v->init_remote_static);
	hex(vec, "resp_static", &v->resp_static);
	hex(vec, "resp_ephemeral", &v->resp_ephemeral);
	hex(vec, "resp_remote_static", &v->resp_remote_static);
	hex(vec, "handshake_hash", &v->hash);
	msgs = json_object_get(vec, "messages");
	v->nmsgs = (int)json_array_size(msgs);
	assert_in_range(v->nmsgs, 3, MAX_MSGS);
	for (int i = 0; i < v->nmsgs; i++) {
		hex(json_array_get(msgs, i), "payload", &v->payload[i]);
		hex(json_array_get(msgs, i), "ciphertext", &v->ciphertext[i]);
	}
	/* Both prologues are the same in this vector. */
	struct bytes rp;
	hex(vec, "resp_prologue", &rp);
	assert_int_equal(rp.len, v->prologue.len);
	assert_memory_equal(rp.b, v->prologue.b, rp.len);
	assert_int_equal(v->hash.len, SJ_NOISE_HASHLEN);
	json_decref(root);
}

static void start(struct sj_noise_kk *hs, const struct vector *v, int init)
{
	struct sj_err err = { "" };

	assert_ok(sj_noise_kk_init(hs, init, v->prologue.b, v->prologue.len,
				   init ? v->init_static.b : v->resp_static.b,
				   init ? v->init_remote_static.b :
					  v->resp_remote_static.b, &err), err);
	assert_ok(sj_noise_kk_set_ephemeral(hs, init ? v->init_ephemeral.b :
					    v->resp_ephemeral.b, &err), err);
}

/* Message i of the vector through our end in role init: written by it
 * (i even for the initiator, odd for the responder) and compared with the
 * vector's ciphertext, or read from the vector's ciphertext and compared
 * with its payload. */
static void replay(const struct vector *v, int init)
{
	struct sj_noise_kk hs;
	struct sj_noise_cipher tx, rx;
	struct sj_err err = { "" };
	uint8_t out[512], hash[SJ_NOISE_HASHLEN];
	size_t len;

	start(&hs, v, init);
	for (int i = 0; i < v->nmsgs; i++) {
		int ours = (i % 2 == 0) == (init != 0);
		const struct bytes *p = &v->payload[i], *c = &v->ciphertext[i];

		if (i == 2) {
			assert_true(sj_noise_kk_done(&hs));
			assert_ok(sj_noise_kk_split(&hs, &tx, &rx, hash, &err),
				  err);
			assert_memory_equal(hash, v->hash.b, SJ_NOISE_HASHLEN);
		}
		if (ours && i < 2)
			assert_ok(sj_noise_kk_write(&hs, p->b, p->len, out,
						    sizeof(out), &len, &err),
				  err);
		else if (ours)
			assert_ok(sj_noise_encrypt(&tx, NULL, 0, p->b, p->len,
						   out, sizeof(out), &len,
						   &err), err);
		else if (i < 2)
			assert_ok(sj_noise_kk_read(&hs, c->b, c->len, out,
						   sizeof(out), &len, &err),
				  err);
		else
			assert_ok(sj_noise_decrypt(&rx, NULL, 0, c->b, c->len,
						   out, sizeof(out), &len,
						   &err), err);
		if (ours) {
			assert_int_equal(len, c->len);
			assert_memory_equal(out, c->b, len);
		} else {
			assert_int_equal(len, p->len);
			assert_memory_equal(out, p->b, len);
		}
	}
	sj_noise_cipher_wipe(&tx);
	sj_noise_cipher_wipe(&rx);
}

static void test_vector_initiator(void **state)
{
	struct vector v;

	(void)state;
	load(&v);
	replay(&v, 1);
}

static void test_vector_responder(void **state)
{
	struct vector v;

	(void)state;
	load(&v);
	replay(&v, 0);
}

/* The split wipes the handshake state: no secret is left in it. */
static void test_split_wipes(void **state)
{
	struct vector v;
	struct sj_noise_kk hs, zero;
	struct sj_noise_cipher tx, rx;
	struct sj_err err = { "" };
	uint8_t out[512];
	size_t len;

	(void)state;
	load(&v);
	start(&hs, &v, 0);
	assert_fails(sj_noise_kk_split(&hs, &tx, &rx, NULL, &err), err,
		     "not done");
	assert_ok(sj_noise_kk_read(&hs, v.ciphertext[0].b, v.ciphertext[0].len,
				   out, sizeof(out), &len, &err), err);
	assert_ok(sj_noise_kk_write(&hs, NULL, 0, out, sizeof(out), &len,
				    &err), err);
	assert_ok(sj_noise_kk_split(&hs, &tx, &rx, NULL, &err), err);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&hs, &zero, sizeof(hs));
	assert_true(sj_noise_cipher_has_key(&tx));
	assert_true(sj_noise_cipher_has_key(&rx));
}

/* A responder that expects another initiator's static key cannot read
 * message 1, and is unusable afterwards. */
static void test_wrong_remote_static(void **state)
{
	struct vector v;
	struct sj_noise_kk hs;
	struct sj_err err = { "" };
	uint8_t out[512], other_pub[32], other_sec[32];
	size_t len;

	(void)state;
	load(&v);
	assert_true(sodium_init() >= 0);
	crypto_box_keypair(other_pub, other_sec);
	assert_ok(sj_noise_kk_init(&hs, 0, v.prologue.b, v.prologue.len,
				   v.resp_static.b, other_pub, &err), err);
	assert_fails(sj_noise_kk_read(&hs, v.ciphertext[0].b,
				      v.ciphertext[0].len, out, sizeof(out),
				      &len, &err), err, "failed authentication");
	assert_fails(sj_noise_kk_write(&hs, NULL, 0, out, sizeof(out), &len,
				       &err), err, "not this end's turn");

	/* Nor does one whose own static key is another than the initiator
	 * expects. */
	assert_ok(sj_noise_kk_init(&hs, 0, v.prologue.b, v.prologue.len,
				   other_sec, v.resp_remote_static.b, &err),
		  err);
	assert_fails(sj_noise_kk_read(&hs, v.ciphertext[0].b,
				      v.ciphertext[0].len, out, sizeof(out),
				      &len, &err), err, "failed authentication");

	/* Nor one with another prologue. */
	assert_ok(sj_noise_kk_init(&hs, 0, (const uint8_t *)"John Galt!", 10,
				   v.resp_static.b, v.resp_remote_static.b,
				   &err), err);
	assert_fails(sj_noise_kk_read(&hs, v.ciphertext[0].b,
				      v.ciphertext[0].len, out, sizeof(out),
				      &len, &err), err, "failed authentication");
}

/* Any one bit changed anywhere in either handshake message, or in a
 * transport message, is refused. */
static void test_flipped_bits(void **state)
{
	struct vector v;
	struct sj_noise_kk hs;
	struct sj_noise_cipher tx, rx;
	struct sj_err err = { "" };
	uint8_t msg[512], out[512];
	size_t len;

	(void)state;
	load(&v);
	for (int m = 0; m < 2; m++) {
		const struct bytes *c = &v.ciphertext[m];

		for (size_t bit = 0; bit < c->len * 8; bit++) {
			start(&hs, &v, m == 1);
			if (m == 1)
				assert_ok(sj_noise_kk_write(&hs,
						v.payload[0].b, v.payload[0].len,
						out, sizeof(out), &len, &err),
					  err);
			memcpy(msg, c->b, c->len);
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (sj_noise_kk_read(&hs, msg, c->len, out, sizeof(out),
					     &len, &err) != -1)
				fail_msg("message %d with bit %zu flipped was "
					 "read", m + 1, bit);
			assert_false(sj_noise_kk_done(&hs));
		}
	}

	/* Transport: message 3 is the initiator's first.  A changed one
	 * fails and leaves the nonce, so the real one still opens. */
	start(&hs, &v, 0);
	assert_ok(sj_noise_kk_read(&hs, v.ciphertext[0].b, v.ciphertext[0].len,
				   out, sizeof(out), &len, &err), err);
	assert_ok(sj_noise_kk_write(&hs, v.payload[1].b, v.payload[1].len, out,
				    sizeof(out), &len, &err), err);
	assert_ok(sj_noise_kk_split(&hs, &tx, &rx, NULL, &err), err);
	memcpy(msg, v.ciphertext[2].b, v.ciphertext[2].len);
	msg[v.ciphertext[2].len - 1] ^= 0x80;
	assert_fails(sj_noise_decrypt(&rx, NULL, 0, msg, v.ciphertext[2].len,
				      out, sizeof(out), &len, &err), err,
		     "failed authentication");
	assert_int_equal(rx.n, 0);
	/* The right message, with associated data it was not sealed with. */
	assert_fails(sj_noise_decrypt(&rx, (const uint8_t *)"x", 1,
				      v.ciphertext[2].b, v.ciphertext[2].len,
				      out, sizeof(out), &len, &err), err,
		     "failed authentication");
	assert_ok(sj_noise_decrypt(&rx, NULL, 0, v.ciphertext[2].b,
				   v.ciphertext[2].len, out, sizeof(out), &len,
				   &err), err);
	assert_int_equal(rx.n, 1);
	/* Replayed: nonce 1 now, so it fails. */
	assert_fails(sj_noise_decrypt(&rx, NULL, 0, v.ciphertext[2].b,
				      v.ciphertext[2].len, out, sizeof(out),
				      &len, &err), err, "failed authentication");
	/* Shorter than a tag, longer than a Noise message. */
	assert_fails(sj_noise_decrypt(&rx, NULL, 0, v.ciphertext[2].b, 15, out,
				      sizeof(out), &len, &err), err,
		     "a ciphertext of 15 bytes");
	static uint8_t big[SJ_NOISE_MSG_MAX + 1];
	assert_fails(sj_noise_decrypt(&rx, NULL, 0, big, sizeof(big), big,
				      sizeof(big), &len, &err), err,
		     "a ciphertext of 65536 bytes");
	assert_fails(sj_noise_encrypt(&tx, NULL, 0, big,
				      SJ_NOISE_PAYLOAD_MAX + 1, big,
				      sizeof(big), &len, &err), err,
		     "more than a Noise message holds");
	assert_int_equal(tx.n, 0);
	assert_int_equal(rx.n, 1);
	sj_noise_cipher_wipe(&tx);
	sj_noise_cipher_wipe(&rx);
}

/* Messages out of turn, a low-order ephemeral key, lengths out of bounds. */
static void test_handshake_refusals(void **state)
{
	struct vector v;
	struct sj_noise_kk hs;
	struct sj_err err = { "" };
	uint8_t msg[512], out[512];
	size_t len;

	(void)state;
	load(&v);
	start(&hs, &v, 0);
	assert_fails(sj_noise_kk_write(&hs, NULL, 0, out, sizeof(out), &len,
				       &err), err, "not this end's turn");
	start(&hs, &v, 1);
	assert_fails(sj_noise_kk_read(&hs, v.ciphertext[1].b,
				      v.ciphertext[1].len, out, sizeof(out),
				      &len, &err), err, "not the other end's");
	/* Out of room: nothing changes, the message can be written then. */
	assert_fails(sj_noise_kk_write(&hs, v.payload[0].b, v.payload[0].len,
				       out, 40, &len, &err), err, "no room");
	assert_ok(sj_noise_kk_write(&hs, v.payload[0].b, v.payload[0].len,
				    out, sizeof(out), &len, &err), err);
	assert_memory_equal(out, v.ciphertext[0].b, len);
	assert_fails(sj_noise_kk_set_ephemeral(&hs, v.init_ephemeral.b, &err),
		     err, "sent already");
	sj_noise_kk_wipe(&hs);

	/* An all-zero ephemeral key (a low-order point). */
	start(&hs, &v, 0);
	memcpy(msg, v.ciphertext[0].b, v.ciphertext[0].len);
	memset(msg, 0, 32);
	assert_fails(sj_noise_kk_read(&hs, msg, v.ciphertext[0].len, out,
				      sizeof(out), &len, &err), err,
		     "low-order");
	/* Too short to hold a key and a tag. */
	start(&hs, &v, 0);
	assert_fails(sj_noise_kk_read(&hs, v.ciphertext[0].b, 47, out,
				      sizeof(out), &len, &err), err,
		     "a handshake message of 47 bytes");
	/* A payload that makes the message longer than Noise allows. */
	static uint8_t big[SJ_NOISE_MSG_MAX];
	start(&hs, &v, 1);
	assert_fails(sj_noise_kk_write(&hs, big, sizeof(big) - 47, out,
				       sizeof(out), &len, &err), err,
		     "too long");
	sj_noise_kk_wipe(&hs);
}

/* After 2^64-2 messages a key is done: the nonce 2^64-1 is never used. */
static void test_nonce_exhaustion(void **state)
{
	struct sj_noise_cipher a, b;
	struct sj_err err = { "" };
	uint8_t key[SJ_NOISE_KEYLEN], out[64], back[64];
	size_t len, blen;

	(void)state;
	assert_true(sodium_init() >= 0);
	randombytes_buf(key, sizeof(key));
	sj_noise_cipher_init(&a, key);
	sj_noise_cipher_init(&b, key);
	sj_noise_cipher_set_nonce(&a, SJ_NOISE_NONCE_MAX - 1);
	sj_noise_cipher_set_nonce(&b, SJ_NOISE_NONCE_MAX - 1);
	assert_ok(sj_noise_encrypt(&a, NULL, 0, (const uint8_t *)"last", 4,
				   out, sizeof(out), &len, &err), err);
	assert_ok(sj_noise_decrypt(&b, NULL, 0, out, len, back, sizeof(back),
				   &blen, &err), err);
	assert_int_equal(blen, 4);
	assert_memory_equal(back, "last", 4);
	assert_fails(sj_noise_encrypt(&a, NULL, 0, (const uint8_t *)"more", 4,
				      out, sizeof(out), &len, &err), err,
		     "nonces are used up");
	assert_fails(sj_noise_decrypt(&b, NULL, 0, out, len, back,
				      sizeof(back), &blen, &err), err,
		     "nonces are used up");
	assert_true(a.n == SJ_NOISE_NONCE_MAX);
	sj_noise_cipher_wipe(&a);
	sj_noise_cipher_wipe(&b);
	assert_false(sj_noise_cipher_has_key(&a));
}

/* Rekey(): k = ENCRYPT(k, 2^64-1, "", 32 zero bytes)[0:32], computed here
 * independently as the first 32 bytes of ChaCha20's keystream from block 1
 * (block 0 makes the Poly1305 key), with the nonce 0^32 || 2^64-1. */
static void test_rekey(void **state)
{
	struct sj_noise_cipher a, b;
	struct sj_err err = { "" };
	static const uint8_t zeros[32];
	uint8_t key[SJ_NOISE_KEYLEN], want[32], nonce[12], out[64], back[64];
	size_t len, blen;

	(void)state;
	assert_true(sodium_init() >= 0);
	randombytes_buf(key, sizeof(key));
	memset(nonce, 0, 4);
	memset(nonce + 4, 0xff, 8);
	assert_int_equal(crypto_stream_chacha20_ietf_xor_ic(want, zeros, 32,
							    nonce, 1, key), 0);
	sj_noise_cipher_init(&a, key);
	sj_noise_cipher_init(&b, key);
	sj_noise_cipher_set_nonce(&a, 7);
	assert_ok(sj_noise_rekey(&a, &err), err);
	assert_memory_equal(a.k, want, 32);
	assert_memory_not_equal(a.k, key, 32);
	assert_true(a.n == 7);
	assert_true(sj_noise_cipher_has_key(&a));

	/* The other end rekeyed too reads what a seals; one that did not
	 * cannot. */
	sj_noise_cipher_set_nonce(&b, 7);
	assert_ok(sj_noise_encrypt(&a, NULL, 0, (const uint8_t *)"after", 5,
				   out, sizeof(out), &len, &err), err);
	assert_fails(sj_noise_decrypt(&b, NULL, 0, out, len, back,
				      sizeof(back), &blen, &err), err,
		     "failed authentication");
	assert_ok(sj_noise_rekey(&b, &err), err);
	assert_ok(sj_noise_decrypt(&b, NULL, 0, out, len, back, sizeof(back),
				   &blen, &err), err);
	assert_memory_equal(back, "after", 5);

	sj_noise_cipher_init(&a, NULL);
	assert_fails(sj_noise_rekey(&a, &err), err, "no key");
	sj_noise_cipher_wipe(&b);
}

/* Without a key, EncryptWithAd and DecryptWithAd pass the bytes through
 * (section 5.1), as they do before the first MixKey. */
static void test_no_key_passes_through(void **state)
{
	struct sj_noise_cipher cs;
	struct sj_err err = { "" };
	uint8_t out[8];
	size_t len;

	(void)state;
	sj_noise_cipher_init(&cs, NULL);
	assert_false(sj_noise_cipher_has_key(&cs));
	assert_ok(sj_noise_encrypt(&cs, NULL, 0, (const uint8_t *)"clear", 5,
				   out, sizeof(out), &len, &err), err);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "clear", 5);
	assert_ok(sj_noise_decrypt(&cs, NULL, 0, out, 5, out, sizeof(out),
				   &len, &err), err);
	assert_int_equal(len, 5);
	assert_int_equal(cs.n, 0);
}

/* InitializeSymmetric: a protocol name of at most HASHLEN bytes is h
 * itself, padded with zeros; a longer one is hashed. */
static void test_initialize_symmetric(void **state)
{
	struct sj_noise_symmetric ss;
	uint8_t want[SJ_NOISE_HASHLEN] = { 0 };
	static const char longname[] =
		"Noise_KK_25519_ChaChaPoly_BLAKE2b_and_then_some_more_bytes"
		"_past_64";

	(void)state;
	sj_noise_sym_init(&ss, SJ_NOISE_PROTOCOL);
	memcpy(want, SJ_NOISE_PROTOCOL, strlen(SJ_NOISE_PROTOCOL));
	assert_memory_equal(ss.h, want, sizeof(want));
	assert_memory_equal(ss.ck, want, sizeof(want));
	assert_false(sj_noise_cipher_has_key(&ss.cs));

	assert_true(strlen(longname) > SJ_NOISE_HASHLEN);
	assert_int_equal(crypto_generichash_blake2b(want, sizeof(want),
				(const uint8_t *)longname, strlen(longname),
				NULL, 0), 0);
	sj_noise_sym_init(&ss, longname);
	assert_memory_equal(ss.h, want, sizeof(want));
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_vector_initiator),
	cmocka_unit_test(test_vector_responder),
	cmocka_unit_test(test_split_wipes),
	cmocka_unit_test(test_wrong_remote_static),
	cmocka_unit_test(test_flipped_bits),
	cmocka_unit_test(test_handshake_refusals),
	cmocka_unit_test(test_nonce_exhaustion),
	cmocka_unit_test(test_rekey),
	cmocka_unit_test(test_no_key_passes_through),
	cmocka_unit_test(test_initialize_symmetric))
