// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * link.h - the one connection between the login shim and the node shim.
 *
 * All five Jupyter channels cross the cluster network on a single TCP
 * connection from the login shim (client) to the node shim (server):
 * Noise_KK_25519_ChaChaPoly_BLAKE2b (noise.h), the login shim the
 * initiator, each end's static X25519 public key known to the other from
 * the MUNGE-sealed rendezvous, with our records inside Noise's transport
 * payloads.  docs/link.md has the protocol byte by byte and which bytes are
 * whose; decisions.md why it replaced CURVE and then our own key schedule.
 *
 * On connect both ends send a greeting, "SJL3"; the client sends Noise's
 * first handshake message with it, the server answers with the second.
 * The prologue binds both rendezvous nonces, the job and step and the
 * version, so a link can only continue the rendezvous that keyed it.  Then
 * each Noise message on the wire is a 2-byte big-endian length and the
 * message; the plaintexts of one direction, in order, are a stream of our
 * records: a 4-byte big-endian length and that many bytes of plaintext.
 * The second handshake message proves the server (only the holder of its
 * static secret can write it for the client's fresh ephemeral key); the
 * client's first transport message, a HELLO record alone, proves the
 * client (the first handshake message could be a replay), and only then
 * does the server take the connection as the login shim's.
 *
 * Plaintext of a record: one byte of kind (a channel number and flags, or
 * HELLO), then entries: a whole frame, each a 4-byte big-endian length
 * and its bytes, or the START or a PIECE of a frame too big to wait for
 * (below).  A message is one record, or, from the node shim when it is
 * big, several: the hops then overlap and no shim holds it whole.
 *
 * Messages written while no connection is up wait in a backlog, in clear,
 * in this process only, and are sealed once one is: Jupyter's first iopub
 * subscription and the kernel's first status must not be lost to a
 * connection that is still being made.  Nothing here is bounded: a slow
 * reader costs the shims memory, never the kernel's output.
 */
#ifndef SJ_LINK_H
#define SJ_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "connfile.h"
#include "evio.h"
#include "link_entry.h"
#include "netaddr.h"
#include "noise.h"
#include "sj_err.h"

#define SJ_LINK_KEY_BYTES 32
/* "SJL3": the protocol and its version, which the prologue binds too. */
#define SJ_LINK_GREETING_BYTES 4
#define SJ_LINK_VERSION '3'
/* Version 2 sealed each record with a tag of this size; the limit on a
 * record below keeps its room, so what fits in a message is unchanged. */
#define SJ_LINK_TAG_BYTES 16
#define SJ_LINK_RECORD_MAX (1u << 30)
/* Largest record plaintext (kind and entries) accepted or sent; a message
 * bigger than this is refused. */
#define SJ_LINK_PLAIN_MAX (SJ_LINK_RECORD_MAX - SJ_LINK_TAG_BYTES)
/* "spank-jupyter link", "SJL3", nonce, node nonce, job, step. */
#define SJ_LINK_PROLOGUE_BYTES (18 + 4 + 16 + 16 + 4 + 4)
/* Each direction rekeys (Noise's Rekey) before every this-many-th
 * transport message: a key seals at most 2^20 messages of 64 KiB, 64 GiB,
 * and an old key is gone from memory. */
#define SJ_LINK_REKEY_EVERY (UINT64_C(1) << 20)
/* Connections accepted but not yet proven to be the login shim's.  Many
 * more than one: for the login shim's to be pushed out before its first
 * handshake message is read, this many others must arrive from its own
 * host within one round trip; after that, see SJ_LINK_UNPROVEN_MAX. */
#define SJ_LINK_PENDING 64
/* Of those, at most this many past the first handshake message: only the
 * login shim, or a replay of its message, gets there.  A newcomer pushes
 * out the oldest connection that has not (a stranger that only
 * connected), one of these only gives way to another of these. */
#define SJ_LINK_UNPROVEN_MAX 8
/* Connections taken per turn of the event loop; then the connections
 * already there are read first. */
#define SJ_LINK_ACCEPT_BATCH 16

/* The kind byte: a channel (0-4), the flags below, or HELLO. */
enum {
	SJ_LINK_CONT = 0x08,	/* continues this channel's open message */
	SJ_LINK_MORE = 0x10,	/* the message goes on in a later record */
	SJ_LINK_HELLO = 0x80,
};
/* An entry's header word, and the entries one at a time: link_entry.h. */

struct sj_link_keys {
	uint8_t self_public[SJ_LINK_KEY_BYTES];
	uint8_t self_secret[SJ_LINK_KEY_BYTES];
	uint8_t peer_public[SJ_LINK_KEY_BYTES];
	/* Noise's prologue: the rendezvous this link continues (sj_link_bind) */
	uint8_t prologue[SJ_LINK_PROLOGUE_BYTES];
	/* Set by sj_link_bind alone: keys without a prologue open nothing. */
	int bound;
};

enum sj_conn_state {
	SJ_CONN_CONNECTING,	/* client: connect() in progress */
	SJ_CONN_GREETING,	/* waiting for the peer's greeting */
	SJ_CONN_HANDSHAKE,	/* waiting for the peer's handshake message */
	SJ_CONN_UNPROVEN,	/* server: keys made, the client's HELLO not
				   yet seen */
	SJ_CONN_LIVE,
};

struct sj_link_conn {
	int fd;
	uint64_t serial;		/* its tag in the loop: never reused */
	enum sj_conn_state state;
	unsigned ev;			/* SJ_EV_ flags it is registered with */
	char peer[80];			/* "ADDR:PORT", for messages */
	struct sj_noise_kk hs;		/* until the handshake is through */
	struct sj_noise_cipher tx, rx;	/* after it */
	/* What arrived, opened in place: from in.off, `plain` bytes of
	 * plaintext not yet a whole record, `gap` bytes of a spent tag and
	 * length field, then bytes still sealed. */
	struct sj_buf in, out;
	size_t plain, gap;
};

/* Called for every record that arrives: kind its kind byte (channel and
 * flags), entries the entries as described above (already checked to be
 * well formed), valid until it returns.  Returns 0, or -1 to fail the
 * link's caller. */
typedef int (*sj_link_deliver_fn)(void *arg, int kind, const uint8_t *entries,
				  size_t len);

struct sj_link {
	int server;
	struct sj_evloop *loop;	/* the caller's; we register in it */
	int accept_due, timer_due;	/* seen in a batch, done after it */
	int listen_fd;		/* server */
	int timer_fd;		/* client: reconnect; server: grace */
	char host[64];		/* client: where the server listens */
	char source[64];	/* client: the address it connects from, or "" */
	int port;
	int grace_s;		/* server: how long without the client */
	int gone;		/* server: the grace time ran out */
	int ever_live;
	int handshake_ms;	/* client: how long a server may take */
	uint64_t rekey_every;	/* SJ_LINK_REKEY_EVERY; tests set fewer */
	unsigned epoch;		/* connections that went live so far */
	uint64_t next_serial;
	struct sj_link_keys keys;
	/* Each connection's handshake starts as a copy: the prologue and
	 * both static keys hashed once, not per stranger. */
	struct sj_noise_kk hs_template;
	struct sj_link_conn *live;
	/* Not live yet, oldest first (the client has at most one). */
	struct sj_link_conn *pending[SJ_LINK_PENDING];
	struct sj_buf backlog;	/* plaintext records while nothing is live */
	struct sj_buf stage;	/* records being written for the live one */
	struct sj_buf *rec_buf;	/* the record being written, or NULL */
	size_t rec_start;
	sj_link_deliver_fn deliver;
	void *deliver_arg;
	sj_note_fn note;
	void *note_arg;
	uint64_t refused;	/* connections that failed to prove */
	struct sj_ratelimit refusals;	/* lines about them */
	/* server: the only address a connection is taken from, if set */
	int peer_only_set;
	unsigned char peer_only[SJ_ADDR_KEY_BYTES];
	char peer_only_text[64];
};

/* The keys as the rendezvous carries them: hex text (rdv_text.h).  k is
 * then not yet bound: sj_link_bind must follow. */
int sj_link_keys_from_hex(struct sj_link_keys *k, const char *self_public,
			  const char *self_secret, const char *peer_public,
			  struct sj_err *err);

/* Fills k->prologue from the rendezvous: nonce (the login shim's) and
 * node_nonce (the plugin's), each SJ_NONCE_HEX lowercase hex digits, and
 * the job and step ids.  Both ends must bind the same, or no handshake
 * completes; sj_link_open_* refuse keys not bound. */
int sj_link_bind(struct sj_link_keys *k, const char *nonce,
		 const char *node_nonce, uint32_t job_id, uint32_t step_id,
		 struct sj_err *err);

/* Client: connects to host:port now and again whenever the connection is
 * lost, from the numeric address source (NULL: the one routing picks;
 * the login shim gives the one the node reached it at, the only one the
 * node takes the link from).  Server: accepts on listen_fd (a listening socket, ours from now
 * on); gone is set once no proven client has been there for grace_s
 * seconds (counted from now, until the first one comes), and takes
 * connections from the numeric address peer_only alone (NULL: from any;
 * others are closed before a byte is read or sent).  keys is copied and
 * the caller's copy may be wiped.  Both register L in lp as its
 * SJ_EV_OWNER_LINK (one link per loop) and are served from it: in each
 * batch, the connections' events first, then the timer, then accept (a
 * newcomer accepted first could push out one whose proof is already
 * waiting to be read). */
int sj_link_open_client(struct sj_link *L, struct sj_evloop *lp,
			const char *host, int port,
			const char *source, const struct sj_link_keys *keys,
			sj_link_deliver_fn deliver, void *deliver_arg,
			sj_note_fn note, void *note_arg,
			struct sj_err *err);
int sj_link_open_server(struct sj_link *L, struct sj_evloop *lp,
			int listen_fd, int grace_s,
			const char *peer_only, const struct sj_link_keys *keys,
			sj_link_deliver_fn deliver, void *deliver_arg,
			sj_note_fn note, void *note_arg,
			struct sj_err *err);

/* One record out: begin (kind: the channel, with SJ_LINK_CONT if it goes
 * on with a message begun in an earlier record), entries, end.  A whole
 * message is one record of whole frames; a message too big to wait for
 * goes in several, the last without SJ_LINK_MORE (sj_link_msg_more sets
 * it on the record being written). */
int sj_link_msg_begin(struct sj_link *L, int kind, struct sj_err *err);
int sj_link_msg_frame(struct sj_link *L, const void *data, size_t len,
		      struct sj_err *err);
int sj_link_msg_frame_start(struct sj_link *L, size_t total, int more,
			    const void *data, size_t len, struct sj_err *err);
int sj_link_msg_piece(struct sj_link *L, const void *data, size_t len,
		      struct sj_err *err);
void sj_link_msg_more(struct sj_link *L);
/* A msg_ call that fails forgets the message being written: nothing
 * half-written is ever sealed. */
int sj_link_msg_end(struct sj_link *L, struct sj_err *err);

/* Bytes waiting to go out: in the backlog and on the live connection. */
size_t sj_link_queued(const struct sj_link *L);
/* Stops (hold) or resumes reading the live connection: while the other
 * side's records cannot be passed on, they wait in TCP.  Call again
 * after a new connection goes live. */
int sj_link_hold(struct sj_link *L, int hold);

/* Writes what the socket takes now; the rest goes when it is writable. */
int sj_link_flush(struct sj_link *L, struct sj_err *err);
/* Whether sealed bytes are still waiting for the live connection. */
int sj_link_unsent(const struct sj_link *L);
/* Waits up to timeout_ms for the live connection to take what is queued
 * (the kernel's last words); returns 0 when all went. */
int sj_link_flush_wait(struct sj_link *L, int timeout_ms);

void sj_link_close(struct sj_link *L);

/* The pieces the unit tests and fuzzers check on their own. */
/* Seals plain[0..len) onto out as Noise transport messages, each a 2-byte
 * big-endian length and at most SJ_NOISE_MSG_MAX bytes, calling Rekey on
 * cs before every rekey_every-th; out of memory, it fails having sealed
 * nothing and used no nonce.  Opens one such message (msg, len bytes
 * after its length field) and appends its plaintext to plain. */
int sj_link_seal(struct sj_noise_cipher *cs, uint64_t rekey_every,
		 const uint8_t *plain, size_t len, struct sj_buf *out,
		 struct sj_err *err);
int sj_link_open_msg(struct sj_noise_cipher *cs, uint64_t rekey_every,
		     const uint8_t *msg, size_t len, struct sj_buf *plain);
/* The same in place: msg[0..len) is replaced by its plaintext, *plain_len
 * bytes at msg.  Returns -1, msg's bytes then undefined, if it does not
 * open. */
int sj_link_open_in_place(struct sj_noise_cipher *cs, uint64_t rekey_every,
			  uint8_t *msg, size_t len, size_t *plain_len);
/* Checks that entries[0..len) are well formed (see SJ_LINK_START); parts:
 * whether START and PIECE entries may be among them (a record of a
 * message in parts) or only whole frames. */
int sj_link_frames_valid(const uint8_t *frames, size_t len, int parts);

#endif
