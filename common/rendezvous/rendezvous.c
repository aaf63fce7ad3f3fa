// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rendezvous.c - the --jupyter-kernel value (HOST:PORT:NONCE) and the
 * HELLO and WELCOME messages as text (see rendezvous.h).  Sealing them is
 * rdv_seal.c's job, carrying them rdv_net.c's.
 */
#include "rendezvous.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonwipe.h"

#define VERSION_LINE "sjrdv=5\n"

/* Unsigned decimal of s[0..len) without sign, space or leading zero. */
static int parse_uint(const char *s, size_t len, unsigned long max,
		      unsigned long *v)
{
	unsigned long r = 0;
	size_t i;

	if (len == 0 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		r = r * 10 + (unsigned long)(s[i] - '0');
		if (r > max)
			return -1;
	}
	*v = r;
	return 0;
}

/* --- the --jupyter-kernel value --------------------------------------- */

int sj_rdv_spec_parse(const char *s, struct sj_rdv_spec *spec,
		      struct sj_err *err)
{
	struct sj_rdv_spec out;
	const char *host, *hend, *port, *pend, *nonce;
	unsigned long v;
	/* The value as errors quote it: srun's argument, which the plugin
	 * logs in slurmd's log too. */
	char shown[301], shown_host[sizeof(out.host)];

	memset(&out, 0, sizeof(out));
	if (s == NULL)
		return sj_err_set(err, "rendezvous: no value given");
	sj_rdv_printable(s, strnlen(s, sizeof(shown) - 1), shown,
			 sizeof(shown));
	if (s[0] == '[') {
		host = s + 1;
		hend = strchr(host, ']');
		if (hend == NULL || hend[1] != ':')
			return sj_err_set(err, "rendezvous \"%s\": expected "
					  "[IPV6]:PORT:NONCE", shown);
		port = hend + 2;
	} else {
		host = s;
		hend = strchr(s, ':');
		if (hend == NULL)
			return sj_err_set(err, "rendezvous \"%s\": expected "
					  "HOST:PORT:NONCE", shown);
		port = hend + 1;
	}
	if ((size_t)(hend - host) >= sizeof(out.host))
		return sj_err_set(err, "rendezvous \"%s\": host name too "
				  "long", shown);
	memcpy(out.host, host, (size_t)(hend - host));
	if (s[0] == '[' ? !sj_rdv_is_ip(out.host) || strchr(out.host, ':') == NULL
			: !sj_rdv_is_hostname(out.host, strlen(out.host))) {
		sj_rdv_printable(out.host, strlen(out.host), shown_host,
				 sizeof(shown_host));
		return sj_err_set(err, "rendezvous \"%s\": bad host \"%s\"",
				  shown, shown_host);
	}
	pend = strchr(port, ':');
	if (pend == NULL)
		return sj_err_set(err, "rendezvous \"%s\": expected "
				  "HOST:PORT:NONCE", shown);
	if (parse_uint(port, (size_t)(pend - port), 65535, &v) != 0 || v < 1)
		return sj_err_set(err, "rendezvous \"%s\": port must be "
				  "1-65535", shown);
	out.port = (int)v;
	nonce = pend + 1;
	if (!sj_rdv_is_nonce(nonce, strlen(nonce)))
		return sj_err_set(err, "rendezvous \"%s\": nonce must be %d "
				  "lowercase hex digits", shown, SJ_NONCE_HEX);
	memcpy(out.nonce, nonce, SJ_NONCE_HEX + 1);
	*spec = out;
	return 0;
}

int sj_rdv_spec_format(const struct sj_rdv_spec *spec, char *buf, size_t len,
		       struct sj_err *err)
{
	size_t hl = strnlen(spec->host, sizeof(spec->host));
	int v6, n;

	if (hl == sizeof(spec->host))
		return sj_err_set(err, "rendezvous host name too long");
	v6 = strchr(spec->host, ':') != NULL;
	if (v6 ? !sj_rdv_is_ip(spec->host) : !sj_rdv_is_hostname(spec->host, hl))
		return sj_err_set(err, "rendezvous: bad host \"%s\"",
				  spec->host);
	if (spec->port < 1 || spec->port > 65535)
		return sj_err_set(err, "rendezvous: port %d out of range "
				  "1-65535", spec->port);
	if (strnlen(spec->nonce, sizeof(spec->nonce)) != SJ_NONCE_HEX ||
	    !sj_rdv_is_nonce(spec->nonce, SJ_NONCE_HEX))
		return sj_err_set(err, "rendezvous: nonce must be %d lowercase "
				  "hex digits", SJ_NONCE_HEX);
	n = snprintf(buf, len, v6 ? "[%s]:%d:%s" : "%s:%d:%s", spec->host,
		     spec->port, spec->nonce);
	if (n < 0 || (size_t)n >= len)
		return sj_err_set(err, "rendezvous: buffer too small");
	return 0;
}

/* --- HELLO and WELCOME: the envelope ------------------------------- */

/* Another version's first line, quoted as far as its newline (16 bytes
 * at most), else not ours at all. */
static int bad_version(const char *text, size_t len, struct sj_err *err)
{
	size_t n = len < 16 ? len : 16;
	const char *nl;
	char shown[17];

	if (len <= 6 || memcmp(text, "sjrdv=", 6) != 0)
		return sj_err_set(err, "not a rendezvous message");
	nl = memchr(text, '\n', n);
	if (nl != NULL)
		n = (size_t)(nl - text);
	/* The peer's bytes, bound for a log line. */
	sj_rdv_printable(text, n, shown, sizeof(shown));
	return sj_err_set(err, "unsupported version \"%s\" (this end speaks "
			  "sjrdv=5)", shown);
}

/* The JSON object of a message of this version and of type `type`. */
static int open_msg(const char *text, size_t len, const char *type,
		    json_t **o, struct sj_err *err)
{
	size_t vl = strlen(VERSION_LINE);
	const char *got;
	json_error_t je;

	*o = NULL;
	if (len > SJ_FRAME_MAX)
		return sj_err_set(err, "larger than %d bytes", SJ_FRAME_MAX);
	/* Our version with nothing after it: not "unsupported". */
	if (len == vl - 1 && memcmp(text, VERSION_LINE, len) == 0)
		return sj_err_set(err, "nothing after the version line");
	if (len < vl || memcmp(text, VERSION_LINE, vl) != 0)
		return bad_version(text, len, err);
	/* jansson skips a NUL after a number ("1\0}" reads as 1}). */
	if (memchr(text, '\0', len) != NULL)
		return sj_err_set(err, "contains a NUL byte");
	*o = json_loadb(text + vl, len - vl, JSON_REJECT_DUPLICATES, &je);
	if (*o == NULL) {
		/* The WELCOME holds the kernel's key. */
		if (strcmp(type, "welcome") == 0)
			sj_rdv_load_error_secret(&je, err);
		else
			sj_rdv_load_error(&je, err);
		explicit_bzero(&je, sizeof(je));
		return -1;
	}
	/* The type first, so that a message of the other kind is named as
	 * such rather than by the first field it lacks. */
	if (json_unpack_ex(*o, &je, 0, "{s:s}", "type", &got) != 0) {
		static const char *const key[] = { "type" };

		return sj_rdv_unpack_error(&je, "{s:s}", key, 1, err);
	}
	if (strcmp(got, type) != 0) {
		char shown[33];

		sj_rdv_printable(got, strlen(got), shown, sizeof(shown));
		return sj_err_set(err, "expected type \"%s\", got \"%s\"",
				  type, shown);
	}
	return 0;
}

/* VERSION_LINE and o's JSON in one malloc'd string, written straight
 * into it (no copy of a key left behind in a buffer of jansson's). */
#define FLAGS JSON_COMPACT
static char *dump_msg(const json_t *o)
{
	size_t vl = strlen(VERSION_LINE), n = json_dumpb(o, NULL, 0, FLAGS);
	char *text;

	if (n == 0)
		return NULL;
	text = malloc(vl + n + 1);
	if (text == NULL)
		return NULL;
	memcpy(text, VERSION_LINE, vl);
	if (json_dumpb(o, text + vl, n, FLAGS) != n) {
		explicit_bzero(text, vl + n + 1);
		free(text);
		return NULL;
	}
	text[vl + n] = '\0';
	return text;
}

/* Fails unless the member of `size` bytes holds a NUL: json_pack would
 * read past it. */
static int terminated(const char *name, const char *v, size_t size,
		      struct sj_err *err)
{
	if (strnlen(v, size) == size)
		return sj_err_set(err, "\"%s\" is not terminated", name);
	return 0;
}

/* The message of `type` checked and copied into out (size bytes) by
 * fields(), which sees a zeroed struct; out is left alone on failure, and
 * errors start with label.  A WELCOME's key is cleared from jansson's
 * object before it is freed. */
static int decode(const char *text, size_t len, const char *type,
		  const char *label,
		  int (*fields)(json_t *o, void *m, struct sj_err *err),
		  void *out, size_t size, struct sj_err *err)
{
	union {
		struct sj_hello h;
		struct sj_welcome w;
	} m;
	json_t *o;
	int rv;

	memset(&m, 0, sizeof(m));
	rv = open_msg(text, len, type, &o, err) || fields(o, &m, err) ? -1 : 0;
	sj_json_wipe_string(json_object_get(o, "key"));
	json_decref(o);
	if (rv == 0)
		memcpy(out, &m, size);
	explicit_bzero(&m, sizeof(m));
	return rv != 0 ? sj_err_wrap(err, "%s", label) : 0;
}

/* o (released here) as a message's text, if decode() takes it back: never
 * send what the other end would refuse, the decoder is the one definition
 * of a valid message.  NULL on failure; the caller clears and frees the
 * text. */
static char *encode(json_t *o, const char *type, const char *label,
		    int (*fields)(json_t *o, void *m, struct sj_err *err),
		    size_t size, struct sj_err *err)
{
	union {
		struct sj_hello h;
		struct sj_welcome w;
	} m;
	char *text = dump_msg(o);

	sj_json_wipe_string(json_object_get(o, "key"));
	json_decref(o);
	if (text == NULL) {
		sj_err_set(err, "%s: out of memory", label);
		return NULL;
	}
	if (decode(text, strlen(text), type, label, fields, &m, size, err)) {
		explicit_bzero(text, strlen(text));
		free(text);
		text = NULL;
	}
	explicit_bzero(&m, sizeof(m));
	return text;
}

/* --- field checks, each copying a good value into the struct -------- */

static int put_nonce(const char *name, const char *v, size_t len,
		     char dst[SJ_NONCE_HEX + 1], struct sj_err *err)
{
	if (!sj_rdv_is_nonce(v, len))
		return sj_err_set(err, "\"%s\" must be %d lowercase hex digits",
				  name, SJ_NONCE_HEX);
	return sj_rdv_copy(name, v, len, dst, SJ_NONCE_HEX + 1, err);
}

static int put_key(const char *name, const char *v, size_t len,
		   char dst[SJ_KEY_HEX + 1], struct sj_err *err)
{
	if (!sj_rdv_is_key(v, len))
		return sj_err_set(err, "\"%s\" must be a key of %d lowercase "
				  "hex digits", name, SJ_KEY_HEX);
	return sj_rdv_copy(name, v, len, dst, SJ_KEY_HEX + 1, err);
}

static int put_u32(const char *name, json_int_t v, uint32_t *dst,
		   struct sj_err *err)
{
	if (v < 0 || v > (json_int_t)UINT32_MAX)
		return sj_err_set(err, "\"%s\" must be an unsigned 32-bit "
				  "integer", name);
	*dst = (uint32_t)v;
	return 0;
}

/* --- HELLO ------------------------------------------------------------ */

static const char *const hello_keys[] = {
	"type", "nonce", "node_nonce", "node", "addr", "relay_port",
	"server_key", "job_id", "step_id",
};
#define HELLO_FMT "{s:s, s:s%, s:s%, s:s%, s:s%, s:I, s:s%, s:I, s:I !}"
#define HELLO_PACK "{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:I}"
#define NKEYS(k) (sizeof(k) / sizeof((k)[0]))

/* The fields of h in the order of hello_keys, all checked. */
static int hello_fields(json_t *o, struct sj_hello *h, struct sj_err *err)
{
	const char *const *k = hello_keys;
	const char *type, *nonce, *nnonce, *node, *addr, *key;
	size_t lnonce, lnnonce, lnode, laddr, lkey;
	json_int_t port, job, step;
	json_error_t je;

	if (json_unpack_ex(o, &je, 0, HELLO_FMT, k[0], &type, k[1], &nonce,
			   &lnonce, k[2], &nnonce, &lnnonce, k[3], &node,
			   &lnode, k[4], &addr, &laddr, k[5], &port, k[6],
			   &key, &lkey, k[7], &job, k[8], &step) != 0)
		return sj_rdv_unpack_error(&je, HELLO_FMT, k, NKEYS(hello_keys),
					   err);
	if (put_nonce(k[1], nonce, lnonce, h->nonce, err) ||
	    put_nonce(k[2], nnonce, lnnonce, h->node_nonce, err))
		return -1;
	if (lnode == 0 || lnode >= sizeof(h->node) ||
	    !sj_rdv_is_hostname(node, lnode))
		return sj_err_set(err, "\"%s\" must be a host name of 1-%zu "
				  "characters", k[3], sizeof(h->node) - 1);
	memcpy(h->node, node, lnode + 1);
	if (laddr >= sizeof(h->addr) || !sj_rdv_is_ip(addr))
		return sj_err_set(err, "\"%s\" must be a numeric IPv4 or IPv6 "
				  "address", k[4]);
	memcpy(h->addr, addr, laddr + 1);
	if (port < 1 || port > 65535)
		return sj_err_set(err, "\"%s\" must be a port 1-65535", k[5]);
	h->port = (int)port;
	return put_key(k[6], key, lkey, h->server_key, err) ||
	       put_u32(k[7], job, &h->job_id, err) ||
	       put_u32(k[8], step, &h->step_id, err) ? -1 : 0;
}

static int hello_fields_of(json_t *o, void *m, struct sj_err *err)
{
	return hello_fields(o, m, err);
}

int sj_hello_decode(const char *text, size_t len, struct sj_hello *h,
		    struct sj_err *err)
{
	return decode(text, len, "hello", "rendezvous HELLO", hello_fields_of,
		      h, sizeof(*h), err);
}

char *sj_hello_encode(const struct sj_hello *h, struct sj_err *err)
{
	const char *const *k = hello_keys;
	json_error_t je;
	json_t *o;

	if (terminated(k[1], h->nonce, sizeof(h->nonce), err) ||
	    terminated(k[2], h->node_nonce, sizeof(h->node_nonce), err) ||
	    terminated(k[3], h->node, sizeof(h->node), err) ||
	    terminated(k[4], h->addr, sizeof(h->addr), err) ||
	    terminated(k[6], h->server_key, sizeof(h->server_key), err)) {
		sj_err_wrap(err, "rendezvous HELLO");
		return NULL;
	}
	o = json_pack_ex(&je, 0, HELLO_PACK, k[0], "hello", k[1], h->nonce,
			 k[2], h->node_nonce, k[3], h->node, k[4], h->addr, k[5],
			 h->port, k[6], h->server_key, k[7],
			 (json_int_t)h->job_id, k[8], (json_int_t)h->step_id);
	if (o == NULL) {
		sj_rdv_unpack_error(&je, HELLO_PACK, k, NKEYS(hello_keys), err);
		sj_err_wrap(err, "rendezvous HELLO");
		return NULL;
	}
	return encode(o, "hello", "rendezvous HELLO", hello_fields_of,
		      sizeof(*h), err);
}

/* --- WELCOME ---------------------------------------------------------- */

static const char *const welcome_keys[] = {
	"type", "nonce", "node_nonce", "key", "signature_scheme",
	"client_key", "transport",
};
#define WELCOME_FMT "{s:s, s:s%, s:s%, s:s%, s:s%, s:s%, s:s !}"
#define WELCOME_PACK "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}"

static int welcome_fields(json_t *o, struct sj_welcome *w,
			  struct sj_err *err)
{
	const char *const *k = welcome_keys;
	const char *type, *nonce, *nnonce, *key, *scheme, *ckey, *transport;
	size_t lnonce, lnnonce, lkey, lscheme, lckey;
	json_error_t je;

	if (json_unpack_ex(o, &je, 0, WELCOME_FMT, k[0], &type, k[1], &nonce,
			   &lnonce, k[2], &nnonce, &lnnonce, k[3], &key, &lkey,
			   k[4], &scheme, &lscheme, k[5], &ckey, &lckey, k[6],
			   &transport) != 0)
		return sj_rdv_unpack_error(&je, WELCOME_FMT, k,
					   NKEYS(welcome_keys), err);
	if (put_nonce(k[1], nonce, lnonce, w->nonce, err) ||
	    put_nonce(k[2], nnonce, lnnonce, w->node_nonce, err) ||
	    sj_rdv_copy(k[3], key, lkey, w->key, sizeof(w->key), err) ||
	    sj_rdv_copy(k[4], scheme, lscheme, w->signature_scheme,
		     sizeof(w->signature_scheme), err) ||
	    sj_connfile_check_signing(w->key, w->signature_scheme, err) ||
	    put_key(k[5], ckey, lckey, w->client_key, err))
		return -1;
	if (strcmp(transport, "default") != 0 && strcmp(transport, "ipc") != 0 &&
	    strcmp(transport, "tcp") != 0)
		return sj_err_set(err, "\"%s\" must be default, ipc or tcp",
				  k[6]);
	strcpy(w->transport, transport);
	return 0;
}

static int welcome_fields_of(json_t *o, void *m, struct sj_err *err)
{
	return welcome_fields(o, m, err);
}

int sj_welcome_decode(const char *text, size_t len, struct sj_welcome *w,
		      struct sj_err *err)
{
	return decode(text, len, "welcome", "rendezvous WELCOME",
		      welcome_fields_of, w, sizeof(*w), err);
}

char *sj_welcome_encode(const struct sj_welcome *w, struct sj_err *err)
{
	const char *const *k = welcome_keys;
	json_error_t je;
	json_t *o;

	if (terminated(k[1], w->nonce, sizeof(w->nonce), err) ||
	    terminated(k[2], w->node_nonce, sizeof(w->node_nonce), err) ||
	    terminated(k[3], w->key, sizeof(w->key), err) ||
	    terminated(k[4], w->signature_scheme, sizeof(w->signature_scheme),
		       err) ||
	    terminated(k[5], w->client_key, sizeof(w->client_key), err) ||
	    terminated(k[6], w->transport, sizeof(w->transport), err)) {
		sj_err_wrap(err, "rendezvous WELCOME");
		return NULL;
	}
	o = json_pack_ex(&je, 0, WELCOME_PACK, k[0], "welcome", k[1],
			 w->nonce, k[2], w->node_nonce, k[3], w->key, k[4],
			 w->signature_scheme, k[5], w->client_key, k[6],
			 w->transport);
	if (o == NULL) {
		sj_rdv_unpack_error(&je, WELCOME_PACK, k, NKEYS(welcome_keys),
				    err);
		sj_err_wrap(err, "rendezvous WELCOME");
		return NULL;
	}
	return encode(o, "welcome", "rendezvous WELCOME", welcome_fields_of,
		      sizeof(*w), err);
}
