// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdv_seal.c - the rendezvous messages sealed with MUNGE (see
 * rendezvous.h): restricted to one uid, limited by MUNGE's TTL and replay
 * cache.
 */
#include "rendezvous.h"

#include <errno.h>
#include <limits.h>
#include <munge.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int munge_error(munge_err_t e, munge_ctx_t ctx, struct sj_err *err)
{
	const char *detail = ctx != NULL ? munge_ctx_strerror(ctx) : NULL;

	if (detail == NULL)
		detail = munge_strerror(e);
	switch (e) {
	case EMUNGE_SOCKET:
		return sj_err_set(err, "munge: cannot reach munged: %s",
				  detail);
	case EMUNGE_CRED_EXPIRED:
		return sj_err_set(err, "munge: credential expired (refused; "
				  "are the clocks of the login and compute "
				  "nodes in sync?)");
	case EMUNGE_CRED_REWOUND:
		return sj_err_set(err, "munge: credential rewound, made in "
				  "the future (refused; are the clocks of the "
				  "login and compute nodes in sync?)");
	case EMUNGE_CRED_REPLAYED:
		return sj_err_set(err, "munge: credential replayed (refused)");
	case EMUNGE_CRED_UNAUTHORIZED:
		return sj_err_set(err, "munge: not authorised to decode the "
				  "credential (it is meant for another user)");
	case EMUNGE_CRED_INVALID:
		return sj_err_set(err, "munge: invalid credential (do the "
				  "nodes share one munge key?): %s", detail);
	case EMUNGE_BAD_CRED:
	case EMUNGE_BAD_VERSION:
	case EMUNGE_BAD_CIPHER:
	case EMUNGE_BAD_MAC:
	case EMUNGE_BAD_ZIP:
	case EMUNGE_BAD_REALM:
		return sj_err_set(err, "munge: malformed credential: %s",
				  detail);
	default:
		return sj_err_set(err, "munge: %s", detail);
	}
}

/* What sj_seal asks for, and the least sj_unseal accepts. */
#define SEAL_CIPHER MUNGE_CIPHER_AES256
#define SEAL_MAC MUNGE_MAC_SHA256

static const char *cipher_name(int c)
{
	switch (c) {
	case MUNGE_CIPHER_NONE:
		return "none";
	case MUNGE_CIPHER_BLOWFISH:
		return "blowfish";
	case MUNGE_CIPHER_CAST5:
		return "cast5";
	case MUNGE_CIPHER_AES128:
		return "aes128";
	case MUNGE_CIPHER_AES256:
		return "aes256";
	default:
		return "unknown";
	}
}

static const char *mac_name(int m)
{
	switch (m) {
	case MUNGE_MAC_NONE:
		return "none";
	case MUNGE_MAC_MD5:
		return "md5";
	case MUNGE_MAC_SHA1:
		return "sha1";
	case MUNGE_MAC_RIPEMD160:
		return "ripemd160";
	case MUNGE_MAC_SHA256:
		return "sha256";
	case MUNGE_MAC_SHA512:
		return "sha512";
	default:
		return "unknown";
	}
}

int sj_seal_strength_check(int cipher, int mac, struct sj_err *err)
{
	/* Both ends are ours and seal with SEAL_CIPHER and SEAL_MAC, so
	 * anything weaker was made by something else. */
	if (cipher != MUNGE_CIPHER_AES128 && cipher != MUNGE_CIPHER_AES256)
		return sj_err_set(err, "munge: credential encrypted with %s "
				  "(%d), not AES (refused)",
				  cipher_name(cipher), cipher);
	if (mac != MUNGE_MAC_SHA256 && mac != MUNGE_MAC_SHA512)
		return sj_err_set(err, "munge: credential authenticated with "
				  "%s (%d), not SHA-256 or SHA-512 (refused)",
				  mac_name(mac), mac);
	return 0;
}

static int check_strength(munge_ctx_t ctx, struct sj_err *err)
{
	int cipher = -1, mac = -1;
	munge_err_t e;

	e = munge_ctx_get(ctx, MUNGE_OPT_CIPHER_TYPE, &cipher);
	if (e == EMUNGE_SUCCESS)
		e = munge_ctx_get(ctx, MUNGE_OPT_MAC_TYPE, &mac);
	if (e != EMUNGE_SUCCESS)
		return munge_error(e, ctx, err);
	return sj_seal_strength_check(cipher, mac, err);
}

int sj_seal(const char *payload, size_t len, uid_t uid, char **cred,
	    struct sj_err *err)
{
	munge_ctx_t ctx;
	munge_err_t e;
	int rv = -1;

	*cred = NULL;
	if (len > INT_MAX)
		return sj_err_set(err, "munge: payload too large");
	ctx = munge_ctx_create();
	if (ctx == NULL)
		return sj_err_set(err, "munge: out of memory");
	/* Pinned, not munged's default: a site's munged may be set to
	 * encrypt with nothing or with a 64-bit-block cipher, and the
	 * WELCOME carries the kernel's key. */
	e = munge_ctx_set(ctx, MUNGE_OPT_UID_RESTRICTION, uid);
	if (e == EMUNGE_SUCCESS)
		e = munge_ctx_set(ctx, MUNGE_OPT_CIPHER_TYPE, SEAL_CIPHER);
	if (e == EMUNGE_SUCCESS)
		e = munge_ctx_set(ctx, MUNGE_OPT_MAC_TYPE, SEAL_MAC);
	if (e != EMUNGE_SUCCESS) {
		munge_error(e, ctx, err);
		goto out;
	}
	e = munge_encode(cred, ctx, payload, (int)len);
	if (e != EMUNGE_SUCCESS) {
		*cred = NULL;
		munge_error(e, ctx, err);
		goto out;
	}
	rv = 0;
out:
	munge_ctx_destroy(ctx);
	return rv;
}

int sj_unseal(const char *cred, uid_t expect_uid, char **payload,
	      size_t *len, struct sj_err *err)
{
	munge_ctx_t ctx;
	munge_err_t e;
	void *buf = NULL;
	int blen = 0, rv = -1;
	uid_t uid;
	gid_t gid;

	*payload = NULL;
	*len = 0;
	ctx = munge_ctx_create();
	if (ctx == NULL)
		return sj_err_set(err, "munge: out of memory");
	e = munge_decode(cred, ctx, &buf, &blen, &uid, &gid);
	if (e != EMUNGE_SUCCESS) {
		munge_error(e, ctx, err);
		goto out;
	}
	if (check_strength(ctx, err))
		goto out;
	if (uid != expect_uid) {
		sj_err_set(err, "munge: credential made by uid %ju, expected "
			   "uid %ju (refused)", (uintmax_t)uid,
			   (uintmax_t)expect_uid);
		goto out;
	}
	if (buf == NULL) {
		/* No payload: hand back an empty string all the same. */
		buf = calloc(1, 1);
		if (buf == NULL) {
			sj_err_set(err, "munge: out of memory");
			goto out;
		}
		blen = 0;
	}
	*payload = buf;
	*len = (size_t)blen;
	buf = NULL;
	rv = 0;
out:
	if (buf != NULL) {
		explicit_bzero(buf, (size_t)blen);
		free(buf);
	}
	munge_ctx_destroy(ctx);
	return rv;
}
