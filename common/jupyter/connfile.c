// SPDX-License-Identifier: GPL-2.0-or-later
#include "connfile.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "jsonwipe.h"

#define SCHEME_SIZE sizeof(((struct sj_connfile *)0)->signature_scheme)

static const char *const channel_names[SJ_NCHANNELS] = {
	[SJ_SHELL] = "shell", [SJ_IOPUB] = "iopub", [SJ_STDIN] = "stdin",
	[SJ_CONTROL] = "control", [SJ_HB] = "hb",
};
static const char *const port_keys[SJ_NCHANNELS] = {
	[SJ_SHELL] = "shell_port", [SJ_IOPUB] = "iopub_port",
	[SJ_STDIN] = "stdin_port", [SJ_CONTROL] = "control_port",
	[SJ_HB] = "hb_port",
};

const char *sj_channel_name(enum sj_channel ch)
{
	return (unsigned)ch < SJ_NCHANNELS ? channel_names[ch] : "?";
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown type";
}

static int has_control_char(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int sj_connfile_check_signing(const char *key, const char *scheme,
			      struct sj_err *err)
{
	const char *p;
	size_t n = strnlen(scheme, SCHEME_SIZE);

	if (strnlen(key, SJ_KEY_MAX + 1) > SJ_KEY_MAX)
		return sj_err_set(err, "\"key\" is longer than %d characters",
				  SJ_KEY_MAX);
	if (n >= SCHEME_SIZE)
		return sj_err_set(err, "\"signature_scheme\" is too long");
	for (p = scheme; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return sj_err_set(err, "\"signature_scheme\" has a "
					  "character other than letters, "
					  "digits, '-' and '_'");
	if (*key != '\0' && (strncmp(scheme, "hmac-", 5) != 0 || n == 5))
		return sj_err_set(err, "\"signature_scheme\" must be "
				  "\"hmac-DIGEST\" when a key is set, got "
				  "\"%s\"", scheme);
	return 0;
}

/* The rules on the struct, shared by parse (after copying) and dump. */
static int check(const struct sj_connfile *cf, const char *what,
		 struct sj_err *err)
{
	int tcp, ch;

	if (strnlen(cf->transport, sizeof(cf->transport)) ==
	    sizeof(cf->transport))
		return sj_err_set(err, "%s: \"transport\" is too long", what);
	tcp = strcmp(cf->transport, "tcp") == 0;
	if (!tcp && strcmp(cf->transport, "ipc") != 0)
		return sj_err_set(err, "%s: \"transport\" must be \"tcp\" or "
				  "\"ipc\", got \"%s\"", what, cf->transport);
	if (strnlen(cf->ip, sizeof(cf->ip)) == sizeof(cf->ip))
		return sj_err_set(err, "%s: \"ip\" is longer than %zu "
				  "characters", what, sizeof(cf->ip) - 1);
	if (cf->ip[0] == '\0')
		return sj_err_set(err, "%s: \"ip\" is empty", what);
	if (has_control_char(cf->ip))
		return sj_err_set(err, "%s: \"ip\" contains a control "
				  "character", what);
	for (ch = 0; ch < SJ_NCHANNELS; ch++) {
		int port = cf->ports[ch];

		if (tcp && (port < 1 || port > 65535))
			return sj_err_set(err, "%s: \"%s\" must be a port "
					  "1-65535 for tcp, got %d", what,
					  port_keys[ch], port);
		if (!tcp && port < 0)
			return sj_err_set(err, "%s: \"%s\" must be >= 0 for "
					  "ipc, got %d", what, port_keys[ch],
					  port);
	}
	if (sj_connfile_check_signing(cf->key, cf->signature_scheme, err))
		return sj_err_wrap(err, "%s", what);
	if (strnlen(cf->kernel_name, sizeof(cf->kernel_name)) ==
	    sizeof(cf->kernel_name))
		return sj_err_set(err, "%s: \"kernel_name\" is too long", what);
	return 0;
}

/* Copies the string member `name` into buf; a missing optional one is "". */
static int get_string(json_t *root, const char *name, int required,
		      char *buf, size_t size, const char *what,
		      struct sj_err *err)
{
	json_t *v = json_object_get(root, name);
	size_t n;

	if (v == NULL) {
		if (required)
			return sj_err_set(err, "%s: \"%s\" is missing", what,
					  name);
		buf[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return sj_err_set(err, "%s: \"%s\" must be a string, got %s",
				  what, name, type_name(v));
	n = json_string_length(v);
	if (n >= size)
		return sj_err_set(err, "%s: \"%s\" is longer than %zu "
				  "characters", what, name, size - 1);
	/* Only possible with JSON_ALLOW_NUL, which we do not pass. */
	if (strlen(json_string_value(v)) != n)
		return sj_err_set(err, "%s: \"%s\" contains a NUL character",
				  what, name);
	memcpy(buf, json_string_value(v), n + 1);
	return 0;
}

static int get_port(json_t *root, const char *name, int *port,
		    const char *what, struct sj_err *err)
{
	json_t *v = json_object_get(root, name);
	json_int_t i;

	if (v == NULL)
		return sj_err_set(err, "%s: \"%s\" is missing", what, name);
	if (!json_is_integer(v))
		return sj_err_set(err, "%s: \"%s\" must be an integer port, "
				  "got %s", what, name, type_name(v));
	i = json_integer_value(v);
	if (i < INT_MIN || i > INT_MAX)
		return sj_err_set(err, "%s: \"%s\" is out of range, got %lld",
				  what, name, (long long)i);
	*port = (int)i;
	return 0;
}

static int parse(const char *json, size_t len, struct sj_connfile *out,
		 const char *what, struct sj_err *err)
{
	struct sj_connfile cf;
	json_error_t jerr;
	json_t *root;
	int ch, rv = -1;

	if (len > SJ_CONNFILE_MAX_BYTES)
		return sj_err_set(err, "%s: larger than %d bytes", what,
				  SJ_CONNFILE_MAX_BYTES);
	memset(&cf, 0, sizeof(cf));
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return sj_err_set(err, "%s: invalid JSON at line %d column "
				  "%d: %s", what, jerr.line, jerr.column,
				  jerr.text);
	if (!json_is_object(root)) {
		sj_err_set(err, "%s: must be a JSON object, got %s", what,
			   type_name(root));
		goto out;
	}
	if (get_string(root, "transport", 1, cf.transport,
		       sizeof(cf.transport), what, err) ||
	    get_string(root, "ip", 1, cf.ip, sizeof(cf.ip), what, err))
		goto out;
	for (ch = 0; ch < SJ_NCHANNELS; ch++)
		if (get_port(root, port_keys[ch], &cf.ports[ch], what, err))
			goto out;
	if (get_string(root, "key", 1, cf.key, sizeof(cf.key), what, err) ||
	    get_string(root, "signature_scheme", 1, cf.signature_scheme,
		       sizeof(cf.signature_scheme), what, err) ||
	    get_string(root, "kernel_name", 0, cf.kernel_name,
		       sizeof(cf.kernel_name), what, err) ||
	    check(&cf, what, err))
		goto out;
	*out = cf;
	rv = 0;
out:
	explicit_bzero(&cf, sizeof(cf));
	sj_json_wipe_string(json_object_get(root, "key"));
	json_decref(root);
	return rv;
}

int sj_connfile_parse(const char *json, size_t len, struct sj_connfile *cf,
		      struct sj_err *err)
{
	return parse(json, len, cf, "connection file", err);
}

int sj_connfile_load(const char *path, struct sj_connfile *cf,
		     struct sj_err *err)
{
	char what[300];
	size_t len;
	char *buf;
	int rv;

	if (sj_read_file(path, SJ_CONNFILE_MAX_BYTES, &buf, &len, err) != 0)
		return sj_err_wrap(err, "connection file");
	snprintf(what, sizeof(what), "connection file %s", path);
	rv = parse(buf, len, cf, what, err);
	explicit_bzero(buf, len);
	free(buf);
	return rv;
}

char *sj_connfile_dump(const struct sj_connfile *cf, struct sj_err *err)
{
	json_t *root;
	char *text = NULL;
	int ch;

	if (check(cf, "connection file", err) != 0)
		return NULL;
	root = json_object();
	if (root == NULL)
		goto oom;
	/* json_object_set_new consumes the value even when it fails, and
	 * refuses a NULL one (a failed json_string). */
	for (ch = 0; ch < SJ_NCHANNELS; ch++)
		if (json_object_set_new(root, port_keys[ch],
					json_integer(cf->ports[ch])))
			goto oom;
	if (json_object_set_new(root, "ip", json_string(cf->ip)) ||
	    json_object_set_new(root, "key", json_string(cf->key)) ||
	    json_object_set_new(root, "transport",
				json_string(cf->transport)) ||
	    json_object_set_new(root, "signature_scheme",
				json_string(cf->signature_scheme)) ||
	    (cf->kernel_name[0] != '\0' &&
	     json_object_set_new(root, "kernel_name",
				 json_string(cf->kernel_name))))
		goto oom;
	/* Jupyter writes its connection files the same way (indent 2). */
	text = sj_json_dump_secret(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		goto oom;
	sj_json_wipe_string(json_object_get(root, "key"));
	json_decref(root);
	return text;
oom:
	/* json_string() also fails on invalid UTF-8, not only on ENOMEM. */
	sj_json_wipe_string(json_object_get(root, "key"));
	json_decref(root);
	sj_err_set(err, "connection file: cannot encode as JSON (out of "
		   "memory, or a string that is not valid UTF-8)");
	return NULL;
}

int sj_connfile_write(const char *path, const struct sj_connfile *cf,
		      struct sj_err *err)
{
	char *text = sj_connfile_dump(cf, err);
	size_t len;
	int rv;

	if (text == NULL)
		return -1;
	len = strlen(text);
	rv = sj_write_file_atomic(path, text, len, err);
	explicit_bzero(text, len);
	free(text);
	if (rv != 0)
		return sj_err_wrap(err, "connection file");
	return 0;
}

int sj_connfile_endpoint(const struct sj_connfile *cf, enum sj_channel ch,
			 char *buf, size_t len, struct sj_err *err)
{
	int n;

	if ((unsigned)ch >= SJ_NCHANNELS)
		return sj_err_set(err, "no such channel %d", (int)ch);
	if (check(cf, "connection file", err) != 0)
		return -1;
	if (strcmp(cf->transport, "ipc") == 0)
		n = snprintf(buf, len, "ipc://%s-%d", cf->ip, cf->ports[ch]);
	else if (strchr(cf->ip, ':') != NULL && cf->ip[0] != '[')
		n = snprintf(buf, len, "tcp://[%s]:%d", cf->ip, cf->ports[ch]);
	else
		n = snprintf(buf, len, "tcp://%s:%d", cf->ip, cf->ports[ch]);
	if (n < 0 || (size_t)n >= len)
		return sj_err_set(err, "%s endpoint does not fit in %zu bytes",
				  sj_channel_name(ch), len);
	return 0;
}
