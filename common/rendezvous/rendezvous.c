// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rendezvous.c - the --jupyter-kernel value (HOST:PORT:NONCE) and the
 * HELLO and WELCOME messages as text (see rendezvous.h).  Sealing them is
 * rdv_seal.c's job, carrying them rdv_net.c's.
 */
#include "rendezvous.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_LINE "sjrdv=4"

/* --- small text checks ------------------------------------------------ */

static int is_nonce(const char *s, size_t len)
{
	size_t i;

	if (len != SJ_NONCE_HEX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Host names: letters, digits, '.', '-', '_'. */
static int is_hostname(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

static int is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

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

	memset(&out, 0, sizeof(out));
	if (s == NULL)
		return sj_err_set(err, "rendezvous: no value given");
	if (s[0] == '[') {
		host = s + 1;
		hend = strchr(host, ']');
		if (hend == NULL || hend[1] != ':')
			return sj_err_set(err, "rendezvous \"%.300s\": expected "
					  "[IPV6]:PORT:NONCE", s);
		port = hend + 2;
	} else {
		host = s;
		hend = strchr(s, ':');
		if (hend == NULL)
			return sj_err_set(err, "rendezvous \"%.300s\": expected "
					  "HOST:PORT:NONCE", s);
		port = hend + 1;
	}
	if ((size_t)(hend - host) >= sizeof(out.host))
		return sj_err_set(err, "rendezvous \"%.300s\": host name too "
				  "long", s);
	memcpy(out.host, host, (size_t)(hend - host));
	if (s[0] == '[' ? !is_ip(out.host) || strchr(out.host, ':') == NULL
			: !is_hostname(out.host, strlen(out.host)))
		return sj_err_set(err, "rendezvous \"%.300s\": bad host \"%s\"",
				  s, out.host);
	pend = strchr(port, ':');
	if (pend == NULL)
		return sj_err_set(err, "rendezvous \"%.300s\": expected "
				  "HOST:PORT:NONCE", s);
	if (parse_uint(port, (size_t)(pend - port), 65535, &v) != 0 || v < 1)
		return sj_err_set(err, "rendezvous \"%.300s\": port must be "
				  "1-65535", s);
	out.port = (int)v;
	nonce = pend + 1;
	if (!is_nonce(nonce, strlen(nonce)))
		return sj_err_set(err, "rendezvous \"%.300s\": nonce must be %d "
				  "lowercase hex digits", s, SJ_NONCE_HEX);
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
	if (v6 ? !is_ip(spec->host) : !is_hostname(spec->host, hl))
		return sj_err_set(err, "rendezvous: bad host \"%s\"",
				  spec->host);
	if (spec->port < 1 || spec->port > 65535)
		return sj_err_set(err, "rendezvous: port %d out of range "
				  "1-65535", spec->port);
	if (strnlen(spec->nonce, sizeof(spec->nonce)) != SJ_NONCE_HEX ||
	    !is_nonce(spec->nonce, SJ_NONCE_HEX))
		return sj_err_set(err, "rendezvous: nonce must be %d lowercase "
				  "hex digits", SJ_NONCE_HEX);
	n = snprintf(buf, len, v6 ? "[%s]:%d:%s" : "%s:%d:%s", spec->host,
		     spec->port, spec->nonce);
	if (n < 0 || (size_t)n >= len)
		return sj_err_set(err, "rendezvous: buffer too small");
	return 0;
}

/* --- HELLO and WELCOME ------------------------------------------------ */

enum kind {
	K_NONCE,	/* SJ_NONCE_HEX lowercase hex */
	K_NAME,		/* host name */
	K_ADDR,		/* numeric IPv4/IPv6 */
	K_PORT,		/* int 1..65535 */
	K_U32,		/* uint32_t */
	K_Z85,		/* CURVE public key */
	K_KEY,		/* HMAC key: anything but NUL, may be empty */
	K_SCHEME,	/* checked with the key by sj_connfile_check_signing */
	K_TRANSPORT,	/* "default", "ipc" or "tcp" */
};

struct field {
	const char *name;
	enum kind kind;
	size_t off;
	size_t size;	/* of the member; strings include the NUL */
};

#define F(type, name, kind, member) \
	{ name, kind, offsetof(type, member), sizeof(((type *)0)->member) }

static const struct field hello_fields[] = {
	F(struct sj_hello, "nonce", K_NONCE, nonce),
	F(struct sj_hello, "node_nonce", K_NONCE, node_nonce),
	F(struct sj_hello, "node", K_NAME, node),
	F(struct sj_hello, "addr", K_ADDR, addr),
	F(struct sj_hello, "relay_port", K_PORT, port),
	F(struct sj_hello, "server_key", K_Z85, server_key),
	F(struct sj_hello, "job_id", K_U32, job_id),
	F(struct sj_hello, "step_id", K_U32, step_id),
};

static const struct field welcome_fields[] = {
	F(struct sj_welcome, "nonce", K_NONCE, nonce),
	F(struct sj_welcome, "node_nonce", K_NONCE, node_nonce),
	F(struct sj_welcome, "key", K_KEY, key),
	F(struct sj_welcome, "signature_scheme", K_SCHEME, signature_scheme),
	F(struct sj_welcome, "client_key", K_Z85, client_key),
	F(struct sj_welcome, "transport", K_TRANSPORT, transport),
};

#define MAX_FIELDS 16

struct msg_type {
	const char *type;	/* the "type=" value */
	const char *label;	/* for messages */
	const struct field *fields;
	size_t nfields;
	size_t size;		/* of the struct */
};

static const struct msg_type hello_type = {
	"hello", "rendezvous HELLO", hello_fields,
	sizeof(hello_fields) / sizeof(hello_fields[0]), sizeof(struct sj_hello),
};
static const struct msg_type welcome_type = {
	"welcome", "rendezvous WELCOME", welcome_fields,
	sizeof(welcome_fields) / sizeof(welcome_fields[0]),
	sizeof(struct sj_welcome),
};

_Static_assert(sizeof(hello_fields) / sizeof(hello_fields[0]) <= MAX_FIELDS &&
	       sizeof(welcome_fields) / sizeof(welcome_fields[0]) <= MAX_FIELDS,
	       "MAX_FIELDS too small");

/* Checks one (unescaped) value and stores it at dst. */
static int set_field(const struct field *f, const char *v, size_t len,
		     void *dst, struct sj_err *err)
{
	unsigned long u;

	switch (f->kind) {
	case K_NONCE:
		if (!is_nonce(v, len))
			return sj_err_set(err, "\"%s\" must be %d lowercase hex "
					  "digits", f->name, SJ_NONCE_HEX);
		break;
	case K_NAME:
		if (len == 0 || len >= f->size || !is_hostname(v, len))
			return sj_err_set(err, "\"%s\" must be a host name of "
					  "1-%zu characters", f->name,
					  f->size - 1);
		break;
	case K_ADDR:
		if (len >= f->size || !is_ip(v))
			return sj_err_set(err, "\"%s\" must be a numeric IPv4 "
					  "or IPv6 address", f->name);
		break;
	case K_PORT:
		if (parse_uint(v, len, 65535, &u) != 0 || u < 1)
			return sj_err_set(err, "\"%s\" must be a port 1-65535",
					  f->name);
		{
			int port = (int)u;

			memcpy(dst, &port, sizeof(port));
		}
		return 0;
	case K_U32:
		if (parse_uint(v, len, UINT32_MAX, &u) != 0)
			return sj_err_set(err, "\"%s\" must be an unsigned "
					  "32-bit integer", f->name);
		{
			uint32_t u32 = (uint32_t)u;

			memcpy(dst, &u32, sizeof(u32));
		}
		return 0;
	case K_Z85:
		if (len != SJ_Z85_KEY_LEN || !sj_curve_key_valid(v))
			return sj_err_set(err, "\"%s\" must be a %d-character "
					  "Z85 key", f->name, SJ_Z85_KEY_LEN);
		break;
	case K_TRANSPORT:
		if (!((len == 7 && memcmp(v, "default", 7) == 0) ||
		      (len == 3 && memcmp(v, "ipc", 3) == 0) ||
		      (len == 3 && memcmp(v, "tcp", 3) == 0)))
			return sj_err_set(err, "\"%s\" must be default, ipc or "
					  "tcp", f->name);
		break;
	case K_KEY:
	case K_SCHEME:
		if (len >= f->size)
			return sj_err_set(err, "\"%s\" is longer than %zu "
					  "bytes", f->name, f->size - 1);
		break;
	}
	memcpy(dst, v, len);
	((char *)dst)[len] = '\0';
	return 0;
}

/* Undoes the %XX escapes of the encoder into out (at least len + 1). */
static int unescape(const char *v, size_t len, char *out, size_t *outlen,
		    const char *name, struct sj_err *err)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		const char *h, *l;

		if (c < 0x20 || c == 0x7f)
			return sj_err_set(err, "\"%s\" contains a control "
					  "character", name);
		if (c != '%') {
			out[o++] = (char)c;
			continue;
		}
		if (len - i < 3)
			return sj_err_set(err, "\"%s\" has a cut-off %% escape",
					  name);
		/* The text holds no NUL (checked), so memchr cannot match
		 * the terminator of hex. */
		h = memchr(hex, v[i + 1], 16);
		l = memchr(hex, v[i + 2], 16);
		if (h == NULL || l == NULL)
			return sj_err_set(err, "\"%s\" has a bad %% escape",
					  name);
		c = (unsigned char)((h - hex) << 4 | (l - hex));
		if (c == '\0')
			return sj_err_set(err, "\"%s\" contains a NUL", name);
		out[o++] = (char)c;
		i += 2;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

static int decode(const struct msg_type *t, const char *text, size_t len,
		  void *out, struct sj_err *err)
{
	unsigned char seen[MAX_FIELDS] = { 0 };
	char *scratch = NULL, *obj = NULL;
	const char *p = text, *end = text + len, *nl;
	char want[32];
	size_t i, lineno = 0;
	int rv = -1;

	if (len > SJ_FRAME_MAX)
		return sj_err_set(err, "%s: larger than %d bytes", t->label,
				  SJ_FRAME_MAX);
	if (memchr(text, '\0', len) != NULL)
		return sj_err_set(err, "%s: contains a NUL byte", t->label);
	if (len == 0 || text[len - 1] != '\n')
		return sj_err_set(err, "%s: truncated (no final newline)",
				  t->label);
	scratch = malloc(len + 1);
	obj = calloc(1, t->size);
	if (scratch == NULL || obj == NULL) {
		sj_err_set(err, "%s: out of memory", t->label);
		goto out;
	}
	snprintf(want, sizeof(want), "type=%s", t->type);
	for (; p < end; p = nl + 1) {
		size_t ll, klen, vlen = 0;
		const char *eq;

		nl = memchr(p, '\n', (size_t)(end - p));	/* never NULL */
		ll = (size_t)(nl - p);
		lineno++;
		if (lineno == 1) {
			if (ll != strlen(VERSION_LINE) ||
			    memcmp(p, VERSION_LINE, ll) != 0) {
				if (ll > 6 && memcmp(p, "sjrdv=", 6) == 0)
					sj_err_set(err, "%s: unsupported "
						   "version \"%.*s\" (this end "
						   "speaks %s)", t->label,
						   (int)(ll > 16 ? 16 : ll), p,
						   VERSION_LINE);
				else
					sj_err_set(err, "%s: not a rendezvous "
						   "message", t->label);
				goto out;
			}
			continue;
		}
		if (lineno == 2) {
			if (ll != strlen(want) || memcmp(p, want, ll) != 0) {
				sj_err_set(err, "%s: expected \"%s\", got "
					   "\"%.*s\"", t->label, want,
					   (int)(ll > 32 ? 32 : ll), p);
				goto out;
			}
			continue;
		}
		if (ll == 0) {
			sj_err_set(err, "%s: empty line %zu", t->label, lineno);
			goto out;
		}
		eq = memchr(p, '=', ll);
		if (eq == NULL) {
			sj_err_set(err, "%s: line %zu has no '='", t->label,
				   lineno);
			goto out;
		}
		klen = (size_t)(eq - p);
		for (i = 0; i < t->nfields; i++)
			if (strlen(t->fields[i].name) == klen &&
			    memcmp(t->fields[i].name, p, klen) == 0)
				break;
		if (i == t->nfields) {
			sj_err_set(err, "%s: unknown field \"%.*s\"", t->label,
				   (int)(klen > 32 ? 32 : klen), p);
			goto out;
		}
		if (seen[i]) {
			sj_err_set(err, "%s: field \"%s\" given twice",
				   t->label, t->fields[i].name);
			goto out;
		}
		seen[i] = 1;
		if (unescape(eq + 1, ll - klen - 1, scratch, &vlen,
			     t->fields[i].name, err) != 0 ||
		    set_field(&t->fields[i], scratch, vlen,
			      obj + t->fields[i].off, err) != 0) {
			sj_err_wrap(err, "%s", t->label);
			goto out;
		}
	}
	if (lineno < 2) {
		sj_err_set(err, "%s: truncated (no type line)", t->label);
		goto out;
	}
	for (i = 0; i < t->nfields; i++)
		if (!seen[i]) {
			sj_err_set(err, "%s: field \"%s\" is missing",
				   t->label, t->fields[i].name);
			goto out;
		}
	if (t == &welcome_type) {
		const struct sj_welcome *w = (const struct sj_welcome *)obj;

		if (sj_connfile_check_signing(w->key, w->signature_scheme,
					      err) != 0) {
			sj_err_wrap(err, "%s", t->label);
			goto out;
		}
	}
	memcpy(out, obj, t->size);
	rv = 0;
out:
	if (scratch != NULL) {
		explicit_bzero(scratch, len + 1);
		free(scratch);
	}
	if (obj != NULL) {
		explicit_bzero(obj, t->size);
		free(obj);
	}
	return rv;
}

struct buf {
	char *p;
	size_t len, cap;
	int failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = malloc(cap);

		/* Not realloc: the old copy holds the key and is wiped. */
		if (p == NULL) {
			b->failed = 1;
			return;
		}
		if (b->p != NULL) {
			memcpy(p, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char e[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (c < 0x20 || c == 0x7f || c == '%')
			put(b, e, 3);
		else
			put(b, s, 1);
	}
}

static char *encode(const struct msg_type *t, const void *obj,
		    struct sj_err *err)
{
	struct buf b = { NULL, 0, 0, 0 };
	char num[16];
	void *check;
	size_t i;
	int ok;

	put(&b, VERSION_LINE "\ntype=", strlen(VERSION_LINE) + 6);
	put(&b, t->type, strlen(t->type));
	put(&b, "\n", 1);
	for (i = 0; i < t->nfields; i++) {
		const struct field *f = &t->fields[i];
		const char *v = (const char *)obj + f->off;

		put(&b, f->name, strlen(f->name));
		put(&b, "=", 1);
		if (f->kind == K_PORT) {
			int port;

			memcpy(&port, v, sizeof(port));
			snprintf(num, sizeof(num), "%d", port);
			put(&b, num, strlen(num));
		} else if (f->kind == K_U32) {
			uint32_t u;

			memcpy(&u, v, sizeof(u));
			snprintf(num, sizeof(num), "%lu", (unsigned long)u);
			put(&b, num, strlen(num));
		} else if (strnlen(v, f->size) == f->size) {
			sj_err_set(err, "%s: \"%s\" is not terminated",
				   t->label, f->name);
			goto fail;
		} else {
			put_escaped(&b, v);
		}
		put(&b, "\n", 1);
	}
	if (b.failed) {
		sj_err_set(err, "%s: out of memory", t->label);
		goto fail;
	}
	/* Never send what the other end would refuse: the decoder is the
	 * one definition of a valid message. */
	check = malloc(t->size);
	if (check == NULL) {
		sj_err_set(err, "%s: out of memory", t->label);
		goto fail;
	}
	ok = decode(t, b.p, b.len, check, err) == 0;
	explicit_bzero(check, t->size);
	free(check);
	if (!ok)
		goto fail;
	return b.p;
fail:
	if (b.p != NULL) {
		explicit_bzero(b.p, b.cap);
		free(b.p);
	}
	return NULL;
}

char *sj_hello_encode(const struct sj_hello *h, struct sj_err *err)
{
	return encode(&hello_type, h, err);
}

int sj_hello_decode(const char *text, size_t len, struct sj_hello *h,
		    struct sj_err *err)
{
	return decode(&hello_type, text, len, h, err);
}

char *sj_welcome_encode(const struct sj_welcome *w, struct sj_err *err)
{
	return encode(&welcome_type, w, err);
}

int sj_welcome_decode(const char *text, size_t len, struct sj_welcome *w,
		      struct sj_err *err)
{
	return decode(&welcome_type, text, len, w, err);
}
