// SPDX-License-Identifier: GPL-2.0-or-later
/* The node shim's end of the link as strangers and the login shim drive
 * it: a server sj_link, and a connection to it whose bytes come from the
 * fuzzer.  The first input byte picks how: even, the rest goes raw onto
 * the wire before any handshake (greeting, lengths, the 64-byte rule for
 * unproven connections); odd, the harness completes Noise KK as the login
 * shim (fixed static and ephemeral keys), sends its HELLO, and seals the
 * rest as the plaintext stream of records, in messages of (first byte >> 1)
 * + 1 bytes, Rekey every 3 messages, to reach records() and on_record.  Whatever arrives, nothing may crash,
 * leak or be delivered that is not well formed. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "link.h"
#include "noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NONCE "00112233445566778899aabbccddeeff"
#define NODE_NONCE "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define REKEY_EVERY 3

static struct sj_link_keys server_keys;
static uint8_t client_secret[SJ_NOISE_DHLEN] = { 0x11, 0x22, 0x33 };
static const uint8_t client_ephemeral[SJ_NOISE_DHLEN] = { 0x44, 0x55 };
static struct sockaddr_un addr;
static socklen_t addr_len;
static int listen_fd = -1;
static struct sj_evloop loop;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_link_server: %s: %s\n", what, strerror(errno));
	abort();
}

/* Once: both ends' keys, bound to a rendezvous, and a listening socket
 * (abstract Unix: no port or file to run out of over millions of runs). */
static void setup(void)
{
	uint8_t server_secret[SJ_NOISE_DHLEN] = { 0x66, 0x77, 0x88 };
	struct sj_err err = { "" };

	if (sodium_init() < 0)
		die("sodium_init");
	memcpy(server_keys.self_secret, server_secret, SJ_NOISE_DHLEN);
	if (crypto_scalarmult_base(server_keys.self_public, server_secret) ||
	    crypto_scalarmult_base(server_keys.peer_public, client_secret))
		die("crypto_scalarmult_base");
	if (sj_link_bind(&server_keys, NONCE, NODE_NONCE, 7, 0, &err) ||
	    sj_evloop_open(&loop, &err))
		die(err.msg);
	addr.sun_family = AF_UNIX;
	/* sun_path[0] == '\0': the abstract namespace. */
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
		 "sj-fuzz-link-server-%ld", (long)getpid());
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			       strlen(addr.sun_path + 1));
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (listen_fd < 0 ||
	    bind(listen_fd, (struct sockaddr *)&addr, addr_len) ||
	    listen(listen_fd, 16))
		die("listen");
}

/* Only well-formed records may reach the caller. */
static int deliver(void *arg, int kind, const uint8_t *entries, size_t len)
{
	(void)arg;
	if (kind < 0 || kind >= SJ_NCHANNELS ||
	    !sj_link_frames_valid(entries, len, 0))
		abort();
	return 0;
}

static void noted(void *arg, int debug, const char *msg)
{
	(void)arg;
	(void)debug;
	(void)msg;
}

/* Lets the server do all it can with what it has been sent. */
static void serve(struct sj_link *L)
{
	struct sj_err err = { "" };

	for (int i = 0; i < 4; i++)
		(void)sj_evloop_run_once(L->loop, 0, &err);
}

/* Writes all of p to the client's socket (whatever the server keeps
 * reading meanwhile). */
static int send_all(struct sj_link *L, int fd, const uint8_t *p, size_t n)
{
	for (int tries = 0; n > 0 && tries < 1000; tries++) {
		/* No SIGPIPE when the server has dropped the connection. */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EAGAIN) {
			serve(L);
			continue;
		}
		if (w <= 0)
			return -1;	/* the server dropped us */
		p += w;
		n -= (size_t)w;
	}
	return n == 0 ? 0 : -1;
}

/* Reads exactly n bytes of the server's answer, or fails. */
static int recv_all(struct sj_link *L, int fd, uint8_t *p, size_t n)
{
	for (int tries = 0; n > 0 && tries < 100; tries++) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EAGAIN) {
			serve(L);
			continue;
		}
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return n == 0 ? 0 : -1;
}

/* As the login shim: greeting and message 1, the server's greeting and
 * message 2, then the HELLO and data as the stream of records. */
static void as_login_shim(struct sj_link *L, int fd, size_t cut,
			  const uint8_t *data, size_t size)
{
	struct sj_noise_kk hs;
	struct sj_noise_cipher tx, rx;
	struct sj_buf out = { 0 };
	struct sj_err err = { "" };
	static const uint8_t hello[5] = { 0, 0, 0, 1, SJ_LINK_HELLO };
	uint8_t msg[SJ_LINK_GREETING_BYTES + 2 + SJ_NOISE_KK_MSG_LEN(0)];
	uint8_t payload[1];
	size_t n, plen;

	if (sj_noise_kk_init(&hs, 1, server_keys.prologue,
			     sizeof(server_keys.prologue), client_secret,
			     server_keys.self_public, &err) ||
	    sj_noise_kk_set_ephemeral(&hs, client_ephemeral, &err))
		die(err.msg);
	memcpy(msg, "SJL", 3);
	msg[3] = SJ_LINK_VERSION;
	if (sj_noise_kk_write(&hs, NULL, 0, msg + 6, sizeof(msg) - 6, &n,
			      &err) || n != SJ_NOISE_KK_MSG_LEN(0))
		die(err.msg);
	msg[4] = 0;
	msg[5] = (uint8_t)n;
	if (send_all(L, fd, msg, sizeof(msg)))
		die("the server dropped the login shim's handshake");
	serve(L);
	if (recv_all(L, fd, msg, sizeof(msg)) ||
	    memcmp(msg, "SJL", 3) != 0 || msg[5] != n ||
	    sj_noise_kk_read(&hs, msg + 6, n, payload, sizeof(payload), &plen,
			     &err) ||
	    sj_noise_kk_split(&hs, &tx, &rx, NULL, &err))
		die("the server's handshake did not complete");
	sj_noise_kk_wipe(&hs);
	if (sj_link_seal(&tx, REKEY_EVERY, hello, sizeof(hello), &out, &err))
		die(err.msg);
	/* The stream cut into messages of cut bytes: records span them. */
	while (size > 0) {
		size_t m = size < cut ? size : cut;

		if (sj_link_seal(&tx, REKEY_EVERY, data, m, &out, &err))
			die(err.msg);
		data += m;
		size -= m;
	}
	/* Dropped part way is fine: that is what junk earns. */
	(void)send_all(L, fd, out.p, out.len);
	serve(L);
	sj_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_link L;
	struct sj_err err = { "" };
	int lfd, fd;

	if (listen_fd < 0)
		setup();
	if (size == 0)
		return 0;
	lfd = dup(listen_fd);	/* the link takes its listener for its own */
	if (lfd < 0)
		die("dup");
	if (sj_link_open_server(&L, &loop, lfd, 30, NULL, &server_keys, deliver,
				NULL, noted, NULL, &err))
		die(err.msg);
	L.rekey_every = REKEY_EVERY;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addr_len))
		die("connect");
	serve(&L);
	if (L.pending[0] == NULL)
		die("the server took no connection");
	if (data[0] & 1)
		as_login_shim(&L, fd, (size_t)(data[0] >> 1) + 1, data + 1,
			      size - 1);
	else {
		(void)send_all(&L, fd, data + 1, size - 1);
		serve(&L);
	}
	close(fd);
	serve(&L);
	sj_link_close(&L);
	return 0;
}
