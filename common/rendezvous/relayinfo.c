// SPDX-License-Identifier: GPL-2.0-or-later
#include "relayinfo.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "jsonwipe.h"

/* relay.json is ours on both ends, so anything we did not write is an
 * error; real ones are well under 1 KiB. */
#define RELAYINFO_MAX_BYTES 4096

static const char *const key_names[] = {
	"address", "login_address", "port", "fd", "server_public",
	"server_secret", "client_public", "nonce", "node_nonce", "job_id",
	"step_id",
};

static int valid_address(const char *a)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, a, buf) == 1 ||
	       inet_pton(AF_INET6, a, buf) == 1;
}

static int is_nonce(const char *s)
{
	if (strnlen(s, SJ_NONCE_HEX + 1) != SJ_NONCE_HEX)
		return 0;
	for (size_t i = 0; i < SJ_NONCE_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int check(const struct sj_relayinfo *ri, struct sj_err *err)
{
	if (strnlen(ri->address, sizeof(ri->address)) == sizeof(ri->address) ||
	    !valid_address(ri->address))
		return sj_err_set(err, "\"address\" is not a numeric IPv4 or "
				  "IPv6 address");
	if (strnlen(ri->login_address, sizeof(ri->login_address)) ==
	    sizeof(ri->login_address) || !valid_address(ri->login_address))
		return sj_err_set(err, "\"login_address\" is not a numeric "
				  "IPv4 or IPv6 address");
	if (ri->port < 1 || ri->port > 65535)
		return sj_err_set(err, "\"port\": %d is out of range 1-65535",
				  ri->port);
	if (ri->fd < 0)
		return sj_err_set(err, "\"fd\": descriptor %d is negative",
				  ri->fd);
	if (!sj_curve_key_valid(ri->server_public))
		return sj_err_set(err, "\"server_public\" is not a Z85 key");
	if (!sj_curve_key_valid(ri->server_secret))
		return sj_err_set(err, "\"server_secret\" is not a Z85 key");
	if (!sj_curve_key_valid(ri->client_public))
		return sj_err_set(err, "\"client_public\" is not a Z85 key");
	if (!is_nonce(ri->nonce))
		return sj_err_set(err, "\"nonce\" is not %d lowercase hex "
				  "digits", SJ_NONCE_HEX);
	if (!is_nonce(ri->node_nonce))
		return sj_err_set(err, "\"node_nonce\" is not %d lowercase "
				  "hex digits", SJ_NONCE_HEX);
	return 0;
}

int sj_relayinfo_write(const char *path, const struct sj_relayinfo *ri,
		       struct sj_err *err)
{
	json_t *root = NULL;
	char *text = NULL;
	size_t len;
	int rv = -1;

	if (check(ri, err) != 0)
		return sj_err_wrap(err, "relay info");
	root = json_object();
	/* json_object_set_new consumes the value even when it fails, and
	 * refuses a NULL one. */
	if (root == NULL ||
	    json_object_set_new(root, "address", json_string(ri->address)) ||
	    json_object_set_new(root, "login_address",
				json_string(ri->login_address)) ||
	    json_object_set_new(root, "port", json_integer(ri->port)) ||
	    json_object_set_new(root, "fd", json_integer(ri->fd)) ||
	    json_object_set_new(root, "server_public",
				json_string(ri->server_public)) ||
	    json_object_set_new(root, "server_secret",
				json_string(ri->server_secret)) ||
	    json_object_set_new(root, "client_public",
				json_string(ri->client_public)) ||
	    json_object_set_new(root, "nonce", json_string(ri->nonce)) ||
	    json_object_set_new(root, "node_nonce",
				json_string(ri->node_nonce)) ||
	    json_object_set_new(root, "job_id", json_integer(ri->job_id)) ||
	    json_object_set_new(root, "step_id",
				json_integer(ri->step_id))) {
		sj_err_set(err, "relay info: out of memory");
		goto out;
	}
	text = sj_json_dump_secret(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		sj_err_set(err, "relay info: out of memory");
		goto out;
	}
	len = strlen(text);
	rv = sj_write_file_atomic(path, text, len, err);
	explicit_bzero(text, len);
	if (rv != 0)
		sj_err_wrap(err, "relay info");
out:
	free(text);
	sj_json_wipe_string(json_object_get(root, "server_secret"));
	json_decref(root);
	return rv;
}

static int get_key(json_t *root, const char *name, char *buf,
		   struct sj_err *err)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL)
		return sj_err_set(err, "\"%s\" is missing", name);
	if (!json_is_string(v) || json_string_length(v) != SJ_Z85_KEY_LEN)
		return sj_err_set(err, "\"%s\" is not a Z85 key", name);
	memcpy(buf, json_string_value(v), SJ_Z85_KEY_LEN + 1);
	return 0;
}

static int get_int(json_t *root, const char *name, int *v,
		   struct sj_err *err)
{
	json_t *i = json_object_get(root, name);

	if (i == NULL)
		return sj_err_set(err, "\"%s\" is missing", name);
	if (!json_is_integer(i) || json_integer_value(i) < INT_MIN ||
	    json_integer_value(i) > INT_MAX)
		return sj_err_set(err, "\"%s\" must be an integer", name);
	*v = (int)json_integer_value(i);
	return 0;
}

static int get_u32(json_t *root, const char *name, uint32_t *v,
		   struct sj_err *err)
{
	json_t *i = json_object_get(root, name);

	if (i == NULL)
		return sj_err_set(err, "\"%s\" is missing", name);
	if (!json_is_integer(i) || json_integer_value(i) < 0 ||
	    json_integer_value(i) > UINT32_MAX)
		return sj_err_set(err, "\"%s\" must be an integer 0-%u", name,
				  UINT32_MAX);
	*v = (uint32_t)json_integer_value(i);
	return 0;
}

static int get_nonce(json_t *root, const char *name,
		     char buf[SJ_NONCE_HEX + 1], struct sj_err *err)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL)
		return sj_err_set(err, "\"%s\" is missing", name);
	if (!json_is_string(v) || json_string_length(v) != SJ_NONCE_HEX)
		return sj_err_set(err, "\"%s\" is not %d lowercase hex "
				  "digits", name, SJ_NONCE_HEX);
	memcpy(buf, json_string_value(v), SJ_NONCE_HEX + 1);
	return 0;
}

static int get_address(json_t *root, const char *name, char buf[64],
		       struct sj_err *err)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL)
		return sj_err_set(err, "\"%s\" is missing", name);
	if (!json_is_string(v) || json_string_length(v) >= 64)
		return sj_err_set(err, "\"%s\" is not a numeric IPv4 or "
				  "IPv6 address", name);
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int parse(const char *text, size_t len, struct sj_relayinfo *out,
		 struct sj_err *err)
{
	struct sj_relayinfo ri;
	json_error_t jerr;
	const char *k;
	json_t *root, *v;
	size_t i;
	int rv = -1;

	memset(&ri, 0, sizeof(ri));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return sj_err_set(err, "invalid JSON at line %d column %d: %s",
				  jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		sj_err_set(err, "not a JSON object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
			if (strcmp(k, key_names[i]) == 0)
				break;
		if (i == sizeof(key_names) / sizeof(key_names[0])) {
			sj_err_set(err, "unknown key \"%.64s\"", k);
			goto out;
		}
	}
	if (get_address(root, "address", ri.address, err) ||
	    get_address(root, "login_address", ri.login_address, err) ||
	    get_int(root, "port", &ri.port, err) ||
	    get_int(root, "fd", &ri.fd, err) ||
	    get_key(root, "server_public", ri.server_public, err) ||
	    get_key(root, "server_secret", ri.server_secret, err) ||
	    get_key(root, "client_public", ri.client_public, err) ||
	    get_nonce(root, "nonce", ri.nonce, err) ||
	    get_nonce(root, "node_nonce", ri.node_nonce, err) ||
	    get_u32(root, "job_id", &ri.job_id, err) ||
	    get_u32(root, "step_id", &ri.step_id, err) ||
	    check(&ri, err))
		goto out;
	*out = ri;
	rv = 0;
out:
	explicit_bzero(&ri, sizeof(ri));
	sj_json_wipe_string(json_object_get(root, "server_secret"));
	json_decref(root);
	return rv;
}

int sj_relayinfo_load(const char *path, struct sj_relayinfo *ri,
		      struct sj_err *err)
{
	size_t len;
	char *buf;
	int rv;

	if (sj_read_file(path, RELAYINFO_MAX_BYTES, &buf, &len, err) != 0)
		return sj_err_wrap(err, "relay info");
	rv = parse(buf, len, ri, err);
	explicit_bzero(buf, len);
	free(buf);
	if (rv != 0)
		return sj_err_wrap(err, "relay info %s", path);
	return 0;
}
