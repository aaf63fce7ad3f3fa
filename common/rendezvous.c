#include "rendezvous.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <munge.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "SJR1"
#define HEADER_LEN 8
#define VERSION_LINE "sjrdv=1"

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
	F(struct sj_hello, "shell_port", K_PORT, ports[SJ_SHELL]),
	F(struct sj_hello, "iopub_port", K_PORT, ports[SJ_IOPUB]),
	F(struct sj_hello, "stdin_port", K_PORT, ports[SJ_STDIN]),
	F(struct sj_hello, "control_port", K_PORT, ports[SJ_CONTROL]),
	F(struct sj_hello, "hb_port", K_PORT, ports[SJ_HB]),
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

/* --- MUNGE -------------------------------------------------------------- */

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
	e = munge_ctx_set(ctx, MUNGE_OPT_UID_RESTRICTION, uid);
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

/* --- framing ------------------------------------------------------------ */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline (-1: none). */
static int wait_fd(int fd, short events, long long deadline, int timeout_ms,
		   const char *what, struct sj_err *err)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int left = -1, n;

		if (deadline >= 0) {
			long long l = deadline - now_ms();

			if (l <= 0)
				return sj_err_set(err, "timed out after %d ms "
						  "%s", timeout_ms, what);
			left = l > INT_MAX ? INT_MAX : (int)l;
		}
		n = poll(&pfd, 1, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sj_err_errno(err, errno, "poll");
		}
		/* Errors and hangups are read off the socket by the caller. */
		if (n > 0)
			return 0;
	}
}

static int send_all(int fd, const char *p, size_t len, long long deadline,
		    int timeout_ms, struct sj_err *err)
{
	while (len > 0) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline, timeout_ms,
			    "sending to the peer", err) != 0)
			return -1;
		/* MSG_NOSIGNAL: a vanished peer must be an error, not a
		 * SIGPIPE in slurmstepd's task. */
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return sj_err_errno(err, errno, "send");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Returns 0 when all len bytes arrived, -1 on error (err set), or
 * RECV_EOF when the peer shut down after *got bytes. */
#define RECV_EOF (-2)

static int recv_all(int fd, char *p, size_t len, size_t *got,
		    long long deadline, int timeout_ms, struct sj_err *err)
{
	*got = 0;
	while (*got < len) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline, timeout_ms,
			    "waiting for the peer", err) != 0)
			return -1;
		n = recv(fd, p + *got, len - *got, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return sj_err_errno(err, errno, "recv");
		}
		if (n == 0)
			return RECV_EOF;
		*got += (size_t)n;
	}
	return 0;
}

int sj_frame_send(int fd, const char *data, size_t len, int timeout_ms,
		  struct sj_err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	unsigned char hdr[HEADER_LEN];

	if (len > SJ_FRAME_MAX)
		return sj_err_set(err, "frame of %zu bytes exceeds the limit "
				  "of %d", len, SJ_FRAME_MAX);
	memcpy(hdr, MAGIC, 4);
	hdr[4] = (unsigned char)(len >> 24);
	hdr[5] = (unsigned char)(len >> 16);
	hdr[6] = (unsigned char)(len >> 8);
	hdr[7] = (unsigned char)len;
	if (send_all(fd, (const char *)hdr, sizeof(hdr), deadline, timeout_ms,
		     err) != 0 ||
	    send_all(fd, data, len, deadline, timeout_ms, err) != 0)
		return -1;
	return 0;
}

int sj_frame_recv(int fd, int timeout_ms, char **data, size_t *len,
		  struct sj_err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	unsigned char hdr[HEADER_LEN];
	size_t n, got;
	char *buf;
	int r;

	*data = NULL;
	*len = 0;
	r = recv_all(fd, (char *)hdr, sizeof(hdr), &got, deadline, timeout_ms,
		     err);
	if (r == RECV_EOF && got == 0)
		return sj_err_set(err, "the peer closed the connection");
	if (r == RECV_EOF)
		return sj_err_set(err, "the peer closed the connection in the "
				  "middle of a frame header");
	if (r != 0)
		return -1;
	if (memcmp(hdr, MAGIC, 4) != 0)
		return sj_err_set(err, "bad frame magic (the peer is not a "
				  "spank-jupyter rendezvous)");
	n = (size_t)hdr[4] << 24 | (size_t)hdr[5] << 16 |
	    (size_t)hdr[6] << 8 | hdr[7];
	if (n > SJ_FRAME_MAX)
		return sj_err_set(err, "frame of %zu bytes exceeds the limit "
				  "of %d", n, SJ_FRAME_MAX);
	buf = malloc(n + 1);
	if (buf == NULL)
		return sj_err_set(err, "out of memory");
	r = recv_all(fd, buf, n, &got, deadline, timeout_ms, err);
	if (r != 0) {
		if (r == RECV_EOF)
			sj_err_set(err, "the peer closed the connection after "
				   "%zu of %zu bytes of a frame", got, n);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

/* --- TCP connect -------------------------------------------------------- */

static int connect_one(const struct addrinfo *ai, long long deadline,
		       int timeout_ms, int *fdp, struct sj_err *err)
{
	socklen_t sl = sizeof(int);
	int fd, flags, soerr = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return sj_err_errno(err, errno, "socket");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS && errno != EINTR) {
			sj_err_errno(err, errno, "connect");
			goto fail;
		}
		if (wait_fd(fd, POLLOUT, deadline, timeout_ms, "connecting",
			    err) != 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) {
			sj_err_errno(err, errno, "getsockopt");
			goto fail;
		}
		if (soerr != 0) {
			sj_err_errno(err, soerr, "connect");
			goto fail;
		}
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		sj_err_errno(err, errno, "fcntl");
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

int sj_tcp_connect(const char *host, int port, int timeout_ms, int *fd,
		   struct sj_err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct addrinfo hints, *res = NULL, *ai;
	char service[8];
	int e, rv = -1;

	*fd = -1;
	if (host == NULL || host[0] == '\0')
		return sj_err_set(err, "connect: no host given");
	if (port < 1 || port > 65535)
		return sj_err_set(err, "connect to %s: port %d out of range",
				  host, port);
	snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	e = getaddrinfo(host, service, &hints, &res);
	if (e != 0) {
		if (e == EAI_SYSTEM)
			return sj_err_errno(err, errno, "cannot resolve %s",
					    host);
		return sj_err_set(err, "cannot resolve %s: %s", host,
				  gai_strerror(e));
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		rv = connect_one(ai, deadline, timeout_ms, fd, err);
		if (rv == 0)
			break;
	}
	freeaddrinfo(res);
	if (rv != 0)
		return sj_err_wrap(err, "cannot connect to %s port %d", host,
				   port);
	return 0;
}
