// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * handshake.c - HELLO out, WELCOME in.
 */
#include "handshake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sj_deadline_start(struct sj_deadline *d, int seconds, struct sj_err *err)
{
	if (clock_gettime(CLOCK_MONOTONIC, &d->at) != 0)
		return sj_err_errno(err, errno, "clock_gettime");
	d->at.tv_sec += seconds;
	d->seconds = seconds;
	return 0;
}

int sj_deadline_left_ms(const struct sj_deadline *d, struct sj_err *err)
{
	struct timespec now;
	long long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return sj_err_errno(err, errno, "clock_gettime");
	ms = (long long)(d->at.tv_sec - now.tv_sec) * 1000 +
	     (d->at.tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return sj_err_set(err, "no answer within rendezvous_timeout="
				  "%d s", d->seconds);
	return (int)ms;
}

static void wipe_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

int sj_handshake(int fd, const struct sj_hello *h, uid_t uid,
		 const struct sj_deadline *d, struct sj_welcome *w,
		 struct sj_err *err)
{
	char *text = NULL, *cred = NULL, *frame = NULL, *payload = NULL;
	size_t flen = 0, plen = 0;
	int ms, rv = -1;

	memset(w, 0, sizeof(*w));
	text = sj_hello_encode(h, err);
	if (text == NULL)
		goto fail;
	if (sj_seal(text, strlen(text), uid, &cred, err) != 0)
		goto fail;
	if ((ms = sj_deadline_left_ms(d, err)) < 0 ||
	    sj_frame_send(fd, cred, strlen(cred), ms, err) != 0) {
		sj_err_wrap(err, "sending HELLO");
		goto fail;
	}
	if ((ms = sj_deadline_left_ms(d, err)) < 0 ||
	    sj_frame_recv(fd, ms, &frame, &flen, err) != 0) {
		sj_err_wrap(err, "waiting for WELCOME");
		goto fail;
	}
	if (sj_unseal(frame, uid, &payload, &plen, err) != 0 ||
	    sj_welcome_decode(payload, plen, w, err) != 0) {
		sj_err_wrap(err, "WELCOME refused");
		goto fail;
	}
	if (strcmp(w->nonce, h->nonce) != 0 ||
	    strcmp(w->node_nonce, h->node_nonce) != 0) {
		sj_err_set(err, "WELCOME for a different kernel (nonce "
			   "mismatch), refused");
		goto fail;
	}
	rv = 0;
fail:
	if (rv != 0)
		explicit_bzero(w, sizeof(*w));
	wipe_free(text, text != NULL ? strlen(text) : 0);
	wipe_free(cred, cred != NULL ? strlen(cred) : 0);
	wipe_free(frame, flen);
	wipe_free(payload, plen);
	return rv;
}
