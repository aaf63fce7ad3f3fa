// SPDX-License-Identifier: GPL-2.0-or-later
#include "relayinfo.h"

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

static const char *const keys[] = {
	"address", "login_address", "port", "fd", "server_public",
	"server_secret", "client_public", "nonce", "node_nonce", "job_id",
	"step_id",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define UNPACK "{s:s%, s:s%, s:I, s:I, s:s%, s:s%, s:s%, s:s%, s:s%, s:I, " \
	"s:I !}"
#define PACK "{s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:I}"

static int check(const struct sj_relayinfo *ri, struct sj_err *err)
{
	if (strnlen(ri->address, sizeof(ri->address)) == sizeof(ri->address) ||
	    !sj_rdv_is_ip(ri->address))
		return sj_err_set(err, "\"address\" is not a numeric IPv4 or "
				  "IPv6 address");
	if (strnlen(ri->login_address, sizeof(ri->login_address)) ==
	    sizeof(ri->login_address) || !sj_rdv_is_ip(ri->login_address))
		return sj_err_set(err, "\"login_address\" is not a numeric "
				  "IPv4 or IPv6 address");
	if (ri->port < 1 || ri->port > 65535)
		return sj_err_set(err, "\"port\": %d is out of range 1-65535",
				  ri->port);
	if (ri->fd < 0)
		return sj_err_set(err, "\"fd\": descriptor %d is negative",
				  ri->fd);
	const struct {
		const char *name, *v;
		int digits;
	} hex[] = {
		{ "server_public", ri->server_public, SJ_KEY_HEX },
		{ "server_secret", ri->server_secret, SJ_KEY_HEX },
		{ "client_public", ri->client_public, SJ_KEY_HEX },
		{ "nonce", ri->nonce, SJ_NONCE_HEX },
		{ "node_nonce", ri->node_nonce, SJ_NONCE_HEX },
	};

	for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
		size_t n = strnlen(hex[i].v, (size_t)hex[i].digits + 1);

		if (!(hex[i].digits == SJ_KEY_HEX ? sj_rdv_is_key(hex[i].v, n)
						 : sj_rdv_is_nonce(hex[i].v, n)))
			return sj_err_set(err, "\"%s\" is not %d lowercase hex "
					  "digits", hex[i].name, hex[i].digits);
	}
	return 0;
}

int sj_relayinfo_write(const char *path, const struct sj_relayinfo *ri,
		       struct sj_err *err)
{
	json_t *root = NULL;
	json_error_t je;
	char *text = NULL;
	size_t len;
	int rv = -1;

	if (check(ri, err) != 0)
		return sj_err_wrap(err, "relay info");
	root = json_pack_ex(&je, 0, PACK, keys[0], ri->address, keys[1],
			    ri->login_address, keys[2], ri->port, keys[3],
			    ri->fd, keys[4], ri->server_public, keys[5],
			    ri->server_secret, keys[6], ri->client_public,
			    keys[7], ri->nonce, keys[8], ri->node_nonce,
			    keys[9], (json_int_t)ri->job_id, keys[10],
			    (json_int_t)ri->step_id);
	if (root == NULL) {
		sj_rdv_unpack_error(&je, PACK, keys, NKEYS, err);
		sj_err_wrap(err, "relay info");
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

static int in_range(const char *name, json_int_t v, json_int_t lo,
		    json_int_t hi, struct sj_err *err)
{
	if (v < lo || v > hi)
		return sj_err_set(err, "\"%s\" must be an integer %lld-%lld",
				  name, (long long)lo, (long long)hi);
	return 0;
}

static int parse(const char *text, size_t len, struct sj_relayinfo *out,
		 struct sj_err *err)
{
	const char *addr, *login, *spub, *ssec, *cpub, *nonce, *nnonce;
	size_t laddr, llogin, lspub, lssec, lcpub, lnonce, lnnonce;
	json_int_t port, fd, job, step;
	struct sj_relayinfo ri;
	json_error_t je;
	json_t *root;
	int rv = -1;

	memset(&ri, 0, sizeof(ri));
	/* jansson skips a NUL after a number ("1\0}" reads as 1}). */
	if (memchr(text, '\0', len) != NULL)
		return sj_err_set(err, "contains a NUL byte");
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		sj_rdv_load_error_secret(&je, err);
		explicit_bzero(&je, sizeof(je));
		return -1;
	}
	if (json_unpack_ex(root, &je, 0, UNPACK, keys[0], &addr, &laddr,
			   keys[1], &login, &llogin, keys[2], &port, keys[3],
			   &fd, keys[4], &spub, &lspub, keys[5], &ssec, &lssec,
			   keys[6], &cpub, &lcpub, keys[7], &nonce, &lnonce,
			   keys[8], &nnonce, &lnnonce, keys[9], &job, keys[10],
			   &step) != 0) {
		sj_rdv_unpack_error(&je, UNPACK, keys, NKEYS, err);
		goto out;
	}
	if (in_range(keys[2], port, 1, 65535, err) ||
	    in_range(keys[3], fd, 0, INT_MAX, err) ||
	    in_range(keys[9], job, 0, UINT32_MAX, err) ||
	    in_range(keys[10], step, 0, UINT32_MAX, err))
		goto out;
	ri.port = (int)port;
	ri.fd = (int)fd;
	ri.job_id = (uint32_t)job;
	ri.step_id = (uint32_t)step;
	if (sj_rdv_copy(keys[0], addr, laddr, ri.address, sizeof(ri.address),
			err) ||
	    sj_rdv_copy(keys[1], login, llogin, ri.login_address,
			sizeof(ri.login_address), err) ||
	    sj_rdv_copy(keys[4], spub, lspub, ri.server_public,
			sizeof(ri.server_public), err) ||
	    sj_rdv_copy(keys[5], ssec, lssec, ri.server_secret,
			sizeof(ri.server_secret), err) ||
	    sj_rdv_copy(keys[6], cpub, lcpub, ri.client_public,
			sizeof(ri.client_public), err) ||
	    sj_rdv_copy(keys[7], nonce, lnonce, ri.nonce, sizeof(ri.nonce),
			err) ||
	    sj_rdv_copy(keys[8], nnonce, lnnonce, ri.node_nonce,
			sizeof(ri.node_nonce), err) ||
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
