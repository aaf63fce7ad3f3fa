// SPDX-License-Identifier: GPL-2.0-or-later
/* relay.json, which the plugin writes and the node shim reads from the
 * step's directory: whatever the file holds.  What loads must write and
 * load back the same (the format is ours on both ends); what does not
 * load is refused without quoting the file. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relayinfo.h"

/* jansson's quote of the token it stopped at (see fuzz_rendezvous.c). */
#define NEAR " near '"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char in_path[64], out_path[64];

static int dir_once(void)
{
	static int state;	/* 0 not yet, 1 made, -1 failed */
	/* tmpfs, where the fsync of an atomic write costs nothing. */
	char dir[] = "/dev/shm/fuzz-relayinfo-XXXXXX";

	if (state != 0)
		return state;
	if (mkdtemp(dir) == NULL)
		return state = -1;
	snprintf(in_path, sizeof(in_path), "%s/in.json", dir);
	snprintf(out_path, sizeof(out_path), "%s/" SJ_RELAY_FILE, dir);
	return state = 1;
}

static int put(const uint8_t *data, size_t size)
{
	int fd = open(in_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (close(fd) != 0 || off != size)
		return -1;
	return 0;
}

static int same(const struct sj_relayinfo *a, const struct sj_relayinfo *b)
{
	return strcmp(a->address, b->address) == 0 &&
	       strcmp(a->login_address, b->login_address) == 0 &&
	       a->port == b->port && a->fd == b->fd &&
	       strcmp(a->server_public, b->server_public) == 0 &&
	       strcmp(a->server_secret, b->server_secret) == 0 &&
	       strcmp(a->client_public, b->client_public) == 0 &&
	       strcmp(a->nonce, b->nonce) == 0 &&
	       strcmp(a->node_nonce, b->node_nonce) == 0 &&
	       a->job_id == b->job_id && a->step_id == b->step_id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_relayinfo ri, back;
	struct sj_err err;

	if (dir_once() != 1 || put(data, size) != 0)
		return 0;
	/* The node shim logs a refusal: never with the text jansson quotes,
	 * which may be the start of the secret key. */
	if (sj_relayinfo_load(in_path, &ri, &err) != 0) {
		if (strstr(err.msg, NEAR) != NULL &&
		    memmem(data, size, NEAR, strlen(NEAR)) == NULL)
			abort();
		return 0;
	}
	if (sj_relayinfo_write(out_path, &ri, &err) != 0 ||
	    sj_relayinfo_load(out_path, &back, &err) != 0 || !same(&ri, &back))
		abort();
	return 0;
}
