// SPDX-License-Identifier: GPL-2.0-or-later
/* The rendezvous as a stranger can send it: a frame header on the login
 * shim's port, the text of a HELLO or WELCOME (its version line and JSON;
 * after MUNGE, but checked as if anything could be in it), and the spec in srun's argument (the value
 * of --jupyter-kernel, which spank/option.c hands to sj_rdv_spec_parse).
 * What decodes must encode to a text that decodes to the same: the two
 * ends of one release read each other, whatever they were given; what is
 * refused is refused with a message fit for a log line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every refusal is logged (the plugin's in slurmd's log): whatever the
 * input, its message is one line of printable ASCII. */
static void log_safe(const struct sj_err *err)
{
	for (const char *p = err->msg; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

static void spec_round_trip(const char *s)
{
	struct sj_rdv_spec spec, back;
	struct sj_err err;
	char text[512];

	if (sj_rdv_spec_parse(s, &spec, &err) != 0) {
		log_safe(&err);
		return;
	}
	if (sj_rdv_spec_format(&spec, text, sizeof(text), &err) != 0 ||
	    sj_rdv_spec_parse(text, &back, &err) != 0 ||
	    strcmp(spec.host, back.host) != 0 || spec.port != back.port ||
	    strcmp(spec.nonce, back.nonce) != 0)
		abort();
}

/* One message type, through void pointers so that one round trip serves
 * both. */
struct msg {
	int (*decode)(const char *text, size_t len, void *m, struct sj_err *err);
	char *(*encode)(const void *m, struct sj_err *err);
	int secret;	/* holds a key: refusals quote none of the text */
};

static int hello_decode(const char *t, size_t n, void *m, struct sj_err *e)
{
	return sj_hello_decode(t, n, m, e);
}

static char *hello_encode(const void *m, struct sj_err *e)
{
	return sj_hello_encode(m, e);
}

static int welcome_decode(const char *t, size_t n, void *m, struct sj_err *e)
{
	return sj_welcome_decode(t, n, m, e);
}

static char *welcome_encode(const void *m, struct sj_err *e)
{
	return sj_welcome_encode(m, e);
}

static const struct msg hello = { hello_decode, hello_encode, 0 };
static const struct msg welcome = { welcome_decode, welcome_encode, 1 };

#define NEAR " near '"

/* encode(decode(x)) is a fixed point: the encoder's text decodes, and
 * encodes again to itself. */
static void round_trip(const struct msg *t, const uint8_t *data, size_t size)
{
	union {
		struct sj_hello h;
		struct sj_welcome w;
	} m;
	struct sj_err err;
	char *t1, *t2;

	if (t->decode((const char *)data, size, &m, &err) != 0) {
		log_safe(&err);
		/* jansson's quote of the token it stopped at; an input that
		 * holds the phrase itself may see it echoed (printable) in a
		 * refusal of its version line or type. */
		if (t->secret && strstr(err.msg, NEAR) != NULL &&
		    memmem(data, size, NEAR, strlen(NEAR)) == NULL)
			abort();
		return;
	}
	t1 = t->encode(&m, &err);
	if (t1 == NULL)
		abort();
	memset(&m, 0, sizeof(m));
	if (t->decode(t1, strlen(t1), &m, &err) != 0)
		abort();
	t2 = t->encode(&m, &err);
	if (t2 == NULL || strcmp(t1, t2) != 0)
		abort();
	free(t1);
	free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_err err;
	size_t len;
	char *s;

	if (size >= SJ_FRAME_HEADER &&
	    sj_frame_header_parse(data, SJ_HELLO_FRAME_MAX, &len, &err) == 0 &&
	    (len > SJ_HELLO_FRAME_MAX || memcmp(data, "SJR1", 4) != 0))
		abort();
	round_trip(&hello, data, size);
	round_trip(&welcome, data, size);
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	spec_round_trip(s);
	free(s);
	return 0;
}
