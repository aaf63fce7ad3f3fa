// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rendezvous.h - the meeting of the login shim and the plugin on the node.
 *
 * The login shim listens on a TCP port and starts
 *     srun ... --jupyter-kernel=HOST:PORT:NONCE slurm-jupyter-shim --node ...
 * In task_init on the node, the plugin (running as the user) connects and
 * sends a HELLO; the shim answers with a WELCOME.  Each message is a MUNGE
 * credential restricted to the job owner's uid, so only that user (or root)
 * can decode it, MUNGE's TTL refuses stale ones and its replay cache refuses
 * reused ones.  Both carry both nonces, so a message cannot be moved from
 * one rendezvous to another.
 *
 *   HELLO   (plugin -> shim): node name, relay address and port, the
 *           relay's static X25519 public key, job and step id.
 *   WELCOME (shim -> plugin): the HMAC key and signature scheme of the
 *           kernel, the shim's static X25519 public key (the only client
 *           the relay accepts, see link.h), the transport the kernel needs.
 *
 * On the wire: "SJR1" magic, a 4-byte big-endian length, the credential.
 * Inside the credential: the version line "sjrdv=5\n", then one JSON object
 * whose "type" is "hello" or "welcome" and which holds each field below
 * exactly once and nothing else (jansson, unpacked strictly).  The version
 * stays a line of its own so that an end of version 4 or earlier, which
 * reads "key=value" lines, still names the version it was sent.  Keys are
 * SJ_KEY_HEX lowercase hex digits.
 */
#ifndef SJ_RENDEZVOUS_H
#define SJ_RENDEZVOUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "connfile.h"
#include "rdv_text.h"
#include "sj_err.h"

/* Largest frame accepted (a MUNGE credential of a ~1 KiB payload is ~2 KiB). */
#define SJ_FRAME_MAX (16 * 1024)
/* Largest HELLO frame: the longest HELLO text is under 512 bytes (its
 * fields are bounded, see test_rdv_msg.c), under 1 KiB once sealed by
 * MUNGE with any of its ciphers and MACs.  The login shim refuses a longer
 * frame at its length, before a byte of it is read. */
#define SJ_HELLO_TEXT_MAX 512
#define SJ_HELLO_FRAME_MAX 4096
/* "SJR1" and the length. */
#define SJ_FRAME_HEADER 8

/* The value of srun --jupyter-kernel=HOST:PORT:NONCE.  HOST may be empty:
 * the plugin then uses the launching node's address. */
struct sj_rdv_spec {
	char host[256];
	int port;
	char nonce[SJ_NONCE_HEX + 1];
};

int sj_rdv_spec_parse(const char *s, struct sj_rdv_spec *spec,
		      struct sj_err *err);
int sj_rdv_spec_format(const struct sj_rdv_spec *spec, char *buf, size_t len,
		       struct sj_err *err);

struct sj_hello {
	char nonce[SJ_NONCE_HEX + 1];		/* the shim's, from the spec */
	char node_nonce[SJ_NONCE_HEX + 1];	/* the plugin's own */
	char node[64];				/* short host name */
	char addr[64];				/* relay address (IPv4/IPv6 text) */
	int port;				/* the relay's one port */
	char server_key[SJ_KEY_HEX + 1];	/* relay's X25519 public key */
	uint32_t job_id;
	uint32_t step_id;
};

struct sj_welcome {
	char nonce[SJ_NONCE_HEX + 1];
	char node_nonce[SJ_NONCE_HEX + 1];
	char key[SJ_KEY_MAX + 1];
	char signature_scheme[32];
	char client_key[SJ_KEY_HEX + 1];	/* shim's X25519 public key */
	char transport[8];	/* kernel's: "default" (plugstack's), "ipc",
				   or "tcp" for kernels without ipc */
};

/* Encode into a malloc'd NUL-terminated text (the caller clears a
 * WELCOME's before freeing it: it holds the HMAC key), refusing what decode
 * would refuse; decode is strict: another version, unknown, duplicate,
 * missing, mistyped or malformed fields are errors that name the field. */
char *sj_hello_encode(const struct sj_hello *h, struct sj_err *err);
int sj_hello_decode(const char *text, size_t len, struct sj_hello *h,
		    struct sj_err *err);
char *sj_welcome_encode(const struct sj_welcome *w, struct sj_err *err);
int sj_welcome_decode(const char *text, size_t len, struct sj_welcome *w,
		      struct sj_err *err);

/* MUNGE: seal payload so that only `uid` can unseal it, encrypted with
 * AES-256 and authenticated with HMAC-SHA-256 whatever munged's default;
 * unseal refuses a credential with no or a weaker cipher (not AES) or MAC
 * (not SHA-256/512), checks that it was made by `expect_uid`, and maps
 * MUNGE's errors (expired, replayed, rewound, unauthorised) to clear text.
 * *cred / *payload are malloc'd; the caller frees them. */
int sj_seal(const char *payload, size_t len, uid_t uid, char **cred,
	    struct sj_err *err);
int sj_unseal(const char *cred, uid_t expect_uid, char **payload,
	      size_t *len, struct sj_err *err);

/* What sj_unseal accepts of a credential's MUNGE_OPT_CIPHER_TYPE and
 * MUNGE_OPT_MAC_TYPE (munge.h numbers). */
int sj_seal_strength_check(int cipher, int mac, struct sj_err *err);

/* Framing on a connected stream socket, each bounded by timeout_ms (< 0:
 * no bound).  send never raises SIGPIPE.  recv hands back a malloc'd
 * buffer with a NUL after the len bytes; frames over SJ_FRAME_MAX are
 * refused on both sides. */
int sj_frame_send(int fd, const char *data, size_t len, int timeout_ms,
		  struct sj_err *err);
int sj_frame_recv(int fd, int timeout_ms, char **data, size_t *len,
		  struct sj_err *err);

/* The length a frame header announces, if its magic is right and the
 * length at most max. */
int sj_frame_header_parse(const unsigned char hdr[SJ_FRAME_HEADER],
			  size_t max, size_t *len, struct sj_err *err);

/* TCP connect to host:port within timeout_ms (< 0: no bound; name lookup
 * is not bounded, so pass numeric addresses where it matters); *fd is a
 * blocking, close-on-exec socket, or -1 on failure. */
int sj_tcp_connect(const char *host, int port, int timeout_ms, int *fd,
		   struct sj_err *err);

#endif
