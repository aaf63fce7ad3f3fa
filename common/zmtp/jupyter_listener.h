// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jupyter_listener.h - the login shim's ZMTP server for Jupyter's clients.
 *
 * Jupyter's connection file names five ports (or ipc paths); its clients
 * connect to them as DEALER, REQ or SUB sockets.  The login shim listens
 * on them itself and speaks ZMTP 3.0 with the NULL mechanism (ZeroMQ RFC
 * 23), from its one thread, as a ROUTER (shell, control, stdin, hb) and an
 * XPUB (iopub): see kernel_client.h for why not libzmq.
 *
 * What of a ROUTER and an XPUB matters here.  ROUTER: each client gets a
 * routing id (the Identity it sent in READY, or one we make); a message
 * from it travels on with that id as its first frame, and a message for it
 * comes back with the id first, which picks the client and is stripped.
 * A reply for a client that has gone is dropped and counted.  XPUB: each
 * client's subscriptions (messages whose first byte is 1, or 0 to undo)
 * are kept; a published message goes to every client with a subscription
 * that is a prefix of its first frame; subscriptions travel on toward the
 * kernel, unsubscriptions do not (the kernel's output then still reaches
 * the node shim, which is harmless).
 *
 * Unlike a kernel's libzmq, it takes only its owner's clients: a client
 * whose socket is on this host must belong to the owner's uid (or root,
 * if root_too), else it is closed before
 * the greeting (peercred.h).  A client on another host (the connection
 * file names an address other machines reach) has no uid we can learn:
 * every message it sends must carry the connection file's signature
 * (jsign.h), or it is dropped here, and after SJ_ZFRONT_BAD_SIGNATURES
 * the client is.
 *
 * jupyter_listener.c takes the clients and reads them;
 * jupyter_listener_send.c writes to them what the kernel sends.  The
 * functions keep the sj_zfront_ prefix they had when this was zfront.c.
 */
#ifndef SJ_JUPYTER_LISTENER_H
#define SJ_JUPYTER_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "buf.h"
#include "connfile.h"
#include "evloop.h"
#include "jsign.h"
#include "link.h"
#include "ratelimit.h"
#include "sj_err.h"
#include "zmtp.h"

/* Clients per channel: Jupyter has one per open notebook view, and tools
 * that attach (jupyter console --existing) add one each. */
#define SJ_ZFRONT_MAX_PEERS 64
/* A client with more than this unread gets no new messages: they are
 * dropped for it, as libzmq drops at its high-water mark. */
#define SJ_ZFRONT_HWM (16 << 20)
/* A client this far behind a message in parts that is still coming is
 * dropped (the message cannot be dropped half-sent). */
#define SJ_ZFRONT_STREAM_LAG (64 << 20)

/* The largest message a client on another host may send: it is held
 * whole before its signature can be checked. */
#define SJ_ZFRONT_REMOTE_MAX (16 << 20)
/* Messages with a wrong signature a remote client may send before it is
 * dropped (one may be a mistake; a stream of them is not). */
#define SJ_ZFRONT_BAD_SIGNATURES 3

struct sj_zfront_peer {
	int fd;
	int remote;		/* on another host: its messages are checked */
	unsigned bad_signatures;
	int ch, slot;			/* where it is in sj_zfront.peer */
	enum sj_zmtp_state state;	/* GREETING, READY_WAIT or OPEN */
	unsigned ev;		/* SJ_EV_ flags it is registered with */
	uint8_t rid[SJ_ZMTP_RID_MAX];
	size_t rid_len;
	struct sj_buf in, out;
	struct sj_zmtp_scan scan;	/* the message arriving */
	struct sj_zmtp_topics subs;	/* XPUB: its subscriptions */
	uint64_t hwm_dropped;	/* messages it missed by not reading */
	uint64_t serial;	/* tells this peer from a later one in its slot */
};

/* A message from the kernel arriving in parts (link.h, SJ_LINK_MORE):
 * the clients it goes to, chosen when its first part came. */
struct sj_zfront_stream {
	int active;
	size_t frame_left;	/* bytes still due of a STARTed frame */
	int frame_more;		/* the last frame begun is not the last */
	int n;
	int slot[SJ_ZFRONT_MAX_PEERS];
	uint64_t serial[SJ_ZFRONT_MAX_PEERS];
};

/* A message from a client: rid (NULL on iopub, where only subscriptions
 * arrive) and its ZMTP frames (sj_zmtp_frame_next walks them). */
typedef int (*sj_zfront_message_fn)(void *arg, int ch, const uint8_t *rid,
				    size_t rid_len, const uint8_t *frames,
				    size_t len);

/* Whom the clients must be, and the key to check remote ones' messages. */
struct sj_zfront_auth {
	uid_t owner;
	int root_too;			/* root's clients are admitted too */
	const char *key, *scheme;	/* from the connection file */
};

struct sj_zfront {
	struct sj_evloop *loop;	/* the caller's; we register in it */
	uid_t owner;
	int root_too;
	struct sj_jsign sign;	/* wiped at close */
	int can_check;		/* sign works: remote clients may connect */
	struct sj_ratelimit refusals;	/* lines about refused clients */
	int listen_fd[SJ_NCHANNELS];
	char ipc_path[SJ_NCHANNELS][128];	/* unlinked at close */
	struct sj_zfront_peer *peer[SJ_NCHANNELS][SJ_ZFRONT_MAX_PEERS];
	uint32_t next_id;
	uint64_t next_serial;
	uint64_t hwm_dropped;	/* messages not sent to a client not reading */
	int held;		/* requests wait (sj_zfront_hold) */
	struct sj_zfront_stream stream[SJ_NCHANNELS];
	sj_zfront_message_fn on_message;
	void *arg;
	sj_note_fn note;
	void *note_arg;
};

/* Listens on the five endpoints (as sj_connfile_endpoint writes them)
 * for auth's owner's clients, registered in lp as its
 * SJ_EV_OWNER_LISTENER and served from it. */
int sj_zfront_open(struct sj_zfront *f, struct sj_evloop *lp,
		   const char *const *endpoints,
		   const struct sj_zfront_auth *auth,
		   sj_zfront_message_fn on_message, void *arg,
		   sj_note_fn note, void *note_arg, struct sj_err *err);
/* How many clients a message published on iopub (frames in the link's
 * layout, its topic first) would reach now: 0 until a client has
 * connected and subscribed to its topic, as with libzmq's PUB (the slow
 * joiner). */
int sj_zfront_audience(const struct sj_zfront *f, const uint8_t *frames,
		       size_t len);
/* One message toward the clients, frames in the link's layout.  Returns
 * 0, 1 if it was for a client that is not there (dropped), -1 when out of
 * memory. */
int sj_zfront_send(struct sj_zfront *f, int ch, const uint8_t *frames,
		   size_t len, struct sj_err *err);
/* One record of a message in parts (kind with SJ_LINK_MORE and/or
 * SJ_LINK_CONT): its frames and pieces go on to the clients the first
 * record chose.  Returns 0, 1 if the message goes to nobody (no client
 * with its routing id, or its parts do not add up: the clients that got
 * some are dropped), -1 when out of memory. */
int sj_zfront_stream(struct sj_zfront *f, int kind, const uint8_t *entries,
		     size_t len, struct sj_err *err);
/* A message in parts that will not be finished (its next part was lost
 * with a link connection, or a new message began): the clients that got
 * its first parts have a ZeroMQ frame that never ends, so they are
 * disconnected (libzmq reconnects them at once; the message is lost, as
 * a whole message lost on the way would be).  ch < 0: every channel. */
void sj_zfront_abort_stream(struct sj_zfront *f, int ch);
void sj_zfront_flush(struct sj_zfront *f);
/* Stops (hold) or resumes reading the clients' requests (shell, stdin,
 * control): while the link cannot take more, they wait in the clients'
 * sockets and libzmq queues, not in our memory.  Returns -1 if epoll
 * failed for one. */
int sj_zfront_hold(struct sj_zfront *f, int hold);
/* Gives the clients up to timeout_ms to take what is queued. */
void sj_zfront_flush_wait(struct sj_zfront *f, int timeout_ms);
void sj_zfront_close(struct sj_zfront *f);

#endif
