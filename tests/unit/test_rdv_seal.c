// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <munge.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#include "rdv_testutil.h"
#include "rendezvous.h"
#include "testutil.h"

/* --- MUNGE ---------------------------------------------------------- */

/* munged reachable?  Fills why when not. */
static int munge_up(char *why, size_t len)
{
	munge_ctx_t ctx = munge_ctx_create();
	munge_err_t e;
	char *cred = NULL;

	assert_non_null(ctx);
	e = munge_encode(&cred, ctx, NULL, 0);
	if (e != EMUNGE_SUCCESS)
		snprintf(why, len, "%s", munge_ctx_strerror(ctx) ?
			 munge_ctx_strerror(ctx) : munge_strerror(e));
	free(cred);
	munge_ctx_destroy(ctx);
	return e == EMUNGE_SUCCESS;
}

/* A credential for us made with the given cipher and MAC, as something
 * other than sj_seal could make it; returns *cred. */
static const char *cred_with(int cipher, int mac, char **cred)
{
	munge_ctx_t ctx = munge_ctx_create();

	assert_non_null(ctx);
	assert_int_equal(munge_ctx_set(ctx, MUNGE_OPT_CIPHER_TYPE, cipher),
			 EMUNGE_SUCCESS);
	assert_int_equal(munge_ctx_set(ctx, MUNGE_OPT_MAC_TYPE, mac),
			 EMUNGE_SUCCESS);
	assert_int_equal(munge_encode(cred, ctx, "x", 1), EMUNGE_SUCCESS);
	munge_ctx_destroy(ctx);
	return *cred;
}

/* The cipher and MAC a credential was made with (decodes it). */
static int cred_cipher_mac(const char *cred, int *cipher, int *mac)
{
	munge_ctx_t ctx = munge_ctx_create();
	void *buf = NULL;
	int len = 0, rv = -1;

	assert_non_null(ctx);
	if (munge_decode(cred, ctx, &buf, &len, NULL, NULL) ==
	    EMUNGE_SUCCESS &&
	    munge_ctx_get(ctx, MUNGE_OPT_CIPHER_TYPE, cipher) ==
	    EMUNGE_SUCCESS &&
	    munge_ctx_get(ctx, MUNGE_OPT_MAC_TYPE, mac) == EMUNGE_SUCCESS)
		rv = 0;
	free(buf);
	munge_ctx_destroy(ctx);
	return rv;
}

static void test_seal_strength(void **state)
{
	struct sj_err err = { "" };

	(void)state;
	assert_ok(sj_seal_strength_check(MUNGE_CIPHER_AES128,
					 MUNGE_MAC_SHA256, &err), err);
	assert_ok(sj_seal_strength_check(MUNGE_CIPHER_AES256,
					 MUNGE_MAC_SHA512, &err), err);
	assert_fails(sj_seal_strength_check(MUNGE_CIPHER_NONE,
					    MUNGE_MAC_SHA256, &err), err,
		     "munge: credential encrypted with none (0), not AES "
		     "(refused)");
	assert_fails(sj_seal_strength_check(MUNGE_CIPHER_CAST5,
					    MUNGE_MAC_SHA256, &err), err,
		     "encrypted with cast5");
	assert_fails(sj_seal_strength_check(MUNGE_CIPHER_DEFAULT,
					    MUNGE_MAC_SHA256, &err), err,
		     "not AES");
	assert_fails(sj_seal_strength_check(MUNGE_CIPHER_AES256,
					    MUNGE_MAC_SHA1, &err), err,
		     "munge: credential authenticated with sha1 (3), not "
		     "SHA-256 or SHA-512 (refused)");
	assert_fails(sj_seal_strength_check(MUNGE_CIPHER_AES256,
					    MUNGE_MAC_NONE, &err), err,
		     "authenticated with none");
}

static void test_seal_unseal(void **state)
{
	struct sj_welcome w, back;
	struct sj_err err = { "" };
	char why[256], *text, *cred, *cred2, *payload;
	size_t len;
	int cipher, mac;

	(void)state;
	fill_welcome(&w);
	text = sj_welcome_encode(&w, &err);
	assert_non_null(text);
	if (!munge_up(why, sizeof(why))) {
		/* What the user sees when munged is down... */
		assert_fails(sj_seal(text, strlen(text), getuid(), &cred,
				     &err), err, "munge: cannot reach munged: ");
		assert_null(cred);
		free(text);
		/* ...and the round trip cannot run. */
		print_message("munged not reachable (%s); seal/unseal round "
			      "trip skipped\n", why);
		skip();
	}
	assert_ok(sj_seal(text, strlen(text), getuid(), &cred, &err), err);
	assert_non_null(cred);
	assert_int_equal(strncmp(cred, "MUNGE:", 6), 0);
	assert_ok(sj_unseal(cred, getuid(), &payload, &len, &err), err);
	assert_int_equal(len, strlen(text));
	assert_string_equal(payload, text);
	assert_ok(sj_welcome_decode(payload, len, &back, &err), err);
	assert_memory_equal(&w, &back, sizeof(w));
	free(payload);
	/* The replay cache refuses the same credential twice. */
	assert_fails(sj_unseal(cred, getuid(), &payload, &len, &err), err,
		     "munge: credential replayed (refused)");
	assert_null(payload);
	free(cred);

	/* Made by someone else than expected. */
	assert_ok(sj_seal(text, strlen(text), getuid(), &cred2, &err), err);
	assert_fails(sj_unseal(cred2, getuid() + 4242, &payload, &len, &err),
		     err, "credential made by uid");
	free(cred2);
	/* Garbage and a damaged credential. */
	assert_fails(sj_unseal("MUNGE:not-a-credential:", getuid(), &payload,
			       &len, &err), err, "munge: ");
	assert_ok(sj_seal(text, strlen(text), getuid(), &cred2, &err), err);
	cred2[20] = cred2[20] == 'A' ? 'B' : 'A';
	assert_fails(sj_unseal(cred2, getuid(), &payload, &len, &err), err,
		     "munge: ");
	free(cred2);
	/* Restricted to root: nobody else may decode it. */
	if (geteuid() == 0) {
		pid_t pid;
		int status;

		assert_ok(sj_seal(text, strlen(text), 0, &cred2, &err), err);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgroups(0, NULL) != 0 ||
			    setresgid(65534, 65534, 65534) != 0 ||
			    setresuid(65534, 65534, 65534) != 0)
				_exit(2);
			int bad = sj_unseal(cred2, 0, &payload, &len,
					    &err) != -1 ||
				  strstr(err.msg, "munge: not authorised to "
					 "decode the credential") == NULL;

			/* Tidy for valgrind's leak check in the child. */
			free(cred2);
			free(text);
			_exit(bad ? 3 : 0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		free(cred2);
	}
	/* Sealed strongly whatever munged's default... */
	assert_ok(sj_seal(text, strlen(text), getuid(), &cred2, &err), err);
	assert_int_equal(cred_cipher_mac(cred2, &cipher, &mac), 0);
	assert_int_equal(cipher, MUNGE_CIPHER_AES256);
	assert_int_equal(mac, MUNGE_MAC_SHA256);
	free(cred2);
	/* ...and a credential with no or a weak cipher or MAC is refused. */
	assert_fails(sj_unseal(cred_with(MUNGE_CIPHER_NONE, MUNGE_MAC_SHA256,
					 &cred2), getuid(), &payload, &len,
			       &err), err, "encrypted with none (0), not AES");
	assert_null(payload);
	free(cred2);
	assert_fails(sj_unseal(cred_with(MUNGE_CIPHER_BLOWFISH,
					 MUNGE_MAC_SHA256, &cred2), getuid(),
			       &payload, &len, &err), err,
		     "encrypted with blowfish");
	free(cred2);
	assert_fails(sj_unseal(cred_with(MUNGE_CIPHER_AES128, MUNGE_MAC_MD5,
					 &cred2), getuid(), &payload, &len,
			       &err), err, "authenticated with md5");
	free(cred2);
	assert_ok(sj_unseal(cred_with(MUNGE_CIPHER_AES128, MUNGE_MAC_SHA512,
				      &cred2), getuid(), &payload, &len, &err),
		  err);
	free(payload);
	free(cred2);
	/* The longest HELLO, sealed, is well within what the login shim
	 * takes of a HELLO frame. */
	{
		struct sj_hello h;
		char *ht;

		longest_hello(&h);
		ht = sj_hello_encode(&h, &err);
		assert_non_null(ht);
		assert_ok(sj_seal(ht, strlen(ht), getuid(), &cred2, &err),
			  err);
		if (strlen(cred2) > SJ_HELLO_FRAME_MAX / 2)
			fail_msg("the longest HELLO sealed has %zu bytes",
				 strlen(cred2));
		free(cred2);
		free(ht);
	}
	/* An empty payload comes back as "". */
	assert_ok(sj_seal("", 0, getuid(), &cred2, &err), err);
	assert_ok(sj_unseal(cred2, getuid(), &payload, &len, &err), err);
	assert_int_equal(len, 0);
	assert_string_equal(payload, "");
	free(payload);
	free(cred2);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_strength),
		cmocka_unit_test(test_seal_unseal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
