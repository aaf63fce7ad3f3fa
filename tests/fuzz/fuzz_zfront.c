// SPDX-License-Identifier: GPL-2.0-or-later
/* The login shim's server for Jupyter's clients, fed by a real client
 * socket: whatever a client (the owner's: others are closed before a
 * byte) sends on the channel the first byte picks, through the greeting,
 * READY, frames, subscriptions and the limits. */
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "jupyter_listener.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sj_zfront front;
static struct sj_evloop loop;
static char endpoint[SJ_NCHANNELS][128];
static size_t delivered;

static int on_message(void *arg, int ch, const uint8_t *rid, size_t rid_len,
		      const uint8_t *frames, size_t len)
{
	(void)arg;
	(void)ch;
	(void)rid;
	(void)rid_len;
	(void)frames;
	delivered += len;
	return 0;
}

static int open_once(void)
{
	static int state;	/* 0 not yet, 1 open, -1 failed */
	char dir[] = "/tmp/fuzz-zfront-XXXXXX";
	const char *eps[SJ_NCHANNELS];
	struct sj_zfront_auth auth = { .key = "", .scheme = "" };
	struct sj_err err;

	if (state != 0)
		return state;
	if (mkdtemp(dir) == NULL)
		return state = -1;
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		snprintf(endpoint[ch], sizeof(endpoint[ch]), "ipc://%s/%d",
			 dir, ch);
		eps[ch] = endpoint[ch];
	}
	auth.owner = getuid();
	if (sj_evloop_open(&loop, &err) != 0 ||
	    sj_zfront_open(&front, &loop, eps, &auth, on_message, NULL, NULL,
			   NULL, &err) != 0) {
		fprintf(stderr, "fuzz_zfront: %s\n", err.msg);
		return state = -1;
	}
	return state = 1;
}

static void serve(int rounds)
{
	struct sj_err err;

	for (int i = 0; i < rounds; i++) {
		struct pollfd p = { .fd = loop.epfd, .events = POLLIN };

		if (poll(&p, 1, 0) <= 0 && i > 1)
			break;
		if (sj_evloop_run_once(&loop, 0, &err) != 0)
			abort();	/* only out of memory may end it */
		sj_zfront_flush(&front);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	if (size < 1 || open_once() != 1)
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 0;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s",
		 endpoint[data[0] % SJ_NCHANNELS] + 6);
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
		close(fd);
		return 0;
	}
	serve(4);
	for (size_t off = 1; off < size;) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			break;
		off += (size_t)n;
		serve(8);
	}
	serve(8);
	close(fd);
	serve(4);
	return 0;
}
