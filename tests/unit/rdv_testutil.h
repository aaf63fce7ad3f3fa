// SPDX-License-Identifier: GPL-2.0-or-later
/* A HELLO and a WELCOME that are valid, for the rendezvous's tests. */
#ifndef SJ_RDV_TESTUTIL_H
#define SJ_RDV_TESTUTIL_H

#include <string.h>

#include "rendezvous.h"

#define NONCE "0123456789abcdef0123456789abcdef"
#define NONCE2 "fedcba9876543210fedcba9876543210"
/* RFC 7748's Alice: any 32 bytes are a key on the wire. */
#define PUB "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"

#define assert_contains(hay, needle) do { \
	if (strstr((hay), (needle)) == NULL) \
		fail_msg("\"%s\" lacks \"%s\"", (hay), (needle)); \
} while (0)

static inline void fill_hello(struct sj_hello *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->nonce, NONCE);
	strcpy(h->node_nonce, NONCE2);
	strcpy(h->node, "n1");
	strcpy(h->addr, "10.77.0.11");
	h->port = 65535;
	strcpy(h->server_key, PUB);
	h->job_id = 4294967295u;
	h->step_id = 0;
}

static inline void fill_welcome(struct sj_welcome *w)
{
	memset(w, 0, sizeof(*w));
	strcpy(w->nonce, NONCE);
	strcpy(w->node_nonce, NONCE2);
	strcpy(w->key, "a0436f6c-1916-498b-8eb9-e81ab9368e84");
	strcpy(w->signature_scheme, "hmac-sha256");
	strcpy(w->client_key, PUB);
	strcpy(w->transport, "default");
}

/* The longest HELLO there can be: every field at its longest. */
static inline void longest_hello(struct sj_hello *h)
{
	fill_hello(h);
	memset(h->node, 'n', sizeof(h->node) - 1);
	h->node[sizeof(h->node) - 1] = '\0';
	strcpy(h->addr, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	h->step_id = 4294967295u;
}

#endif
