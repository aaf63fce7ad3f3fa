// SPDX-License-Identifier: GPL-2.0-or-later
/* The greeting, the prologue and the handshake (link_hs.h). */
#include "link_hs.h"

#include <sodium.h>
#include <string.h>

#include "hex.h"
#include "link_conn.h"
#include "link_seal.h"

/* The greeting; its last byte is the protocol's version. */
const uint8_t sj_link_magic[SJ_LINK_GREETING_BYTES] = {
	'S', 'J', 'L', SJ_LINK_VERSION
};

static const char LABEL[] = "spank-jupyter link";

/* n bytes from a NUL-terminated string of exactly 2n lowercase hex
 * digits: the rendezvous's nonces and keys. */
static int hex_bytes(const char *hex, uint8_t *out, size_t n)
{
	return sj_hex_decode(hex, hex != NULL ? strnlen(hex, 2 * n + 1) : 0,
			     out, n);
}

int sj_link_bind(struct sj_link_keys *k, const char *nonce,
		 const char *node_nonce, uint32_t job_id, uint32_t step_id,
		 struct sj_err *err)
{
	uint8_t *p = k->prologue;

	k->bound = 0;
	memcpy(p, LABEL, sizeof(LABEL) - 1);
	p += sizeof(LABEL) - 1;
	memcpy(p, sj_link_magic, sizeof(sj_link_magic));
	p += sizeof(sj_link_magic);
	if (hex_bytes(nonce, p, 16) || hex_bytes(node_nonce, p + 16, 16))
		return sj_err_set(err, "link: a rendezvous nonce is not 32 "
				  "lowercase hex digits");
	p += 32;
	sj_put_be32(p, job_id);
	sj_put_be32(p + 4, step_id);
	k->bound = 1;
	return 0;
}

int sj_link_keys_from_hex(struct sj_link_keys *k, const char *self_public,
			  const char *self_secret, const char *peer_public,
			  struct sj_err *err)
{
	k->bound = 0;
	if (hex_bytes(self_public, k->self_public, SJ_LINK_KEY_BYTES) ||
	    hex_bytes(self_secret, k->self_secret, SJ_LINK_KEY_BYTES) ||
	    hex_bytes(peer_public, k->peer_public, SJ_LINK_KEY_BYTES)) {
		sodium_memzero(k, sizeof(*k));
		return sj_err_set(err, "link: a key is not %d lowercase hex "
				  "digits", 2 * SJ_LINK_KEY_BYTES);
	}
	return 0;
}

/* The HELLO record: its length, 1, and its kind. */
const uint8_t sj_link_hello_record[5] = { 0, 0, 0, 1, SJ_LINK_HELLO };

/* Our handshake message (empty payload) onto c->out after its length.
 * Returns 0, or -1 out of memory or with an unusable key. */
static int put_hs_msg(struct sj_link_conn *c)
{
	size_t n = 0;

	if (sj_buf_reserve(&c->out, SJ_LINK_MSG_HEAD +
			   SJ_NOISE_KK_MSG_LEN(0)) ||
	    sj_noise_kk_write(&c->hs, NULL, 0,
			      c->out.p + c->out.len + SJ_LINK_MSG_HEAD,
			      c->out.cap - c->out.len - SJ_LINK_MSG_HEAD, &n,
			      NULL))
		return -1;
	c->out.p[c->out.len] = (uint8_t)(n >> 8);
	c->out.p[c->out.len + 1] = (uint8_t)n;
	c->out.len += SJ_LINK_MSG_HEAD + n;
	return 0;
}

int sj_link_hs_start(struct sj_link *L, struct sj_link_conn *c)
{
	c->hs = L->hs_template;
	if (sj_buf_reserve(&c->out, SJ_LINK_GREETING_BYTES))
		return -1;
	memcpy(c->out.p + c->out.len, sj_link_magic, sizeof(sj_link_magic));
	c->out.len += SJ_LINK_GREETING_BYTES;
	return L->server ? 0 : put_hs_msg(c);
}

/* The peer's greeting. */
enum sj_io_result sj_link_greeted(struct sj_link *L, struct sj_link_conn *c)
{
	const uint8_t *g = c->in.p + c->in.off;

	if (memcmp(g, sj_link_magic, sizeof(sj_link_magic)) != 0) {
		if (memcmp(g, sj_link_magic, sizeof(sj_link_magic) - 1) == 0 &&
		    g[3] >= '0' && g[3] <= '9')
			refused(L, "link: refused %s: it speaks version %c "
				"of the link protocol, this shim version %c "
				"(install the same spank-jupyter on login and "
				"compute nodes)", c->peer, g[3],
				sj_link_magic[3]);
		else
			refused(L, "link: refused %s: not the link protocol",
				c->peer);
		return SJ_IO_DROP;
	}
	c->in.off += SJ_LINK_GREETING_BYTES;
	c->state = SJ_CONN_HANDSHAKE;
	return SJ_IO_MORE;
}

/* The peer's handshake message m (n bytes): the server answers it, the
 * client is through. */
enum sj_io_result sj_link_handshake(struct sj_link *L, struct sj_link_conn *c,
				    const uint8_t *m, size_t n,
				    struct sj_err *err)
{
	uint8_t payload[SJ_NOISE_KK_MSG_LEN(0)];
	size_t plen;

	if (sj_noise_kk_read(&c->hs, m, n, payload, sizeof(payload), &plen,
			     NULL) || plen != 0) {
		/* Noise's own check: an end without the static secret it was
		 * expected to hold cannot make the payload's tag. */
		if (L->server)
			refused(L, "link: refused %s: it does not hold the "
				"login shim's key", c->peer);
		else
			refused(L, "link: refused %s: it does not hold the "
				"node shim's key", c->peer);
		L->refused++;
		return SJ_IO_DROP;
	}
	if (L->server) {
		if (sj_buf_reserve(&c->out, SJ_LINK_MSG_HEAD +
				   SJ_NOISE_KK_MSG_LEN(0))) {
			sj_err_set(err, "out of memory");
			return SJ_IO_FATAL;
		}
		if (put_hs_msg(c)) {
			refused(L, "link: refused %s: an unusable key",
				c->peer);
			return SJ_IO_DROP;
		}
	}
	if (sj_noise_kk_split(&c->hs, &c->tx, &c->rx, NULL, err)) {
		sj_err_wrap(err, "link");
		return SJ_IO_FATAL;
	}
	if (L->server) {
		/* The first message can be replayed: no proof yet. */
		sj_link_pending_unproven(L, c);
		return SJ_IO_MORE;
	}
	/* The second cannot: it answers our fresh ephemeral key, with the
	 * node shim's static secret. */
	return sj_link_go_live(L, c, err) ? SJ_IO_FATAL : SJ_IO_MORE;
}

/* The client's first transport message, opened: it must be the HELLO
 * record alone. */
enum sj_io_result sj_link_first_message(struct sj_link *L,
					struct sj_link_conn *c,
					struct sj_err *err)
{
	if (c->plain != sizeof(sj_link_hello_record) ||
	    memcmp(c->in.p + c->in.off, sj_link_hello_record,
		   sizeof(sj_link_hello_record)) != 0) {
		refused(L, "link: refused %s: it did not begin with a HELLO",
			c->peer);
		L->refused++;
		return SJ_IO_DROP;
	}
	sj_link_plain_consumed(c, sizeof(sj_link_hello_record));
	return sj_link_go_live(L, c, err) ? SJ_IO_FATAL : SJ_IO_MORE;
}
