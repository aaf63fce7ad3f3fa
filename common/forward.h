/*
 * forward.h - the forwarding core that serves both ends of the shim.
 *
 * Both ends have the same shape: five sockets facing the client (Jupyter on
 * the login node; the login shim on the compute node) and five facing the
 * kernel (the node relay; the kernel itself):
 *
 *   shell, control, stdin, hb:  ROUTER (bind)  <->  DEALER (connect)
 *   iopub:                      XPUB   (bind)  <->  XSUB   (connect)
 *
 * Frames pass through untouched, multipart boundaries intact.  The ROUTERs
 * prepend the peer's identity on the way in and strip it on the way out,
 * so every hop's identity rides along in the frames the kernel echoes.  The
 * stdin DEALER carries the shell DEALER's routing id, because the kernel
 * routes input_request with the identities of the shell request.
 */
#ifndef SJ_FORWARD_H
#define SJ_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "connfile.h"
#include "sj_err.h"

/* How the client-facing side authenticates, and how it is reached. */
struct sj_front_opts {
	const char *endpoint[SJ_NCHANNELS];	/* zmq_bind endpoints */
	int fd[SJ_NCHANNELS];			/* ZMQ_USE_FD, or -1 */
	const char *curve_secret;		/* Z85: CURVE server, or NULL */
};

struct sj_back_opts {
	const char *endpoint[SJ_NCHANNELS];	/* zmq_connect endpoints */
	const char *curve_server;		/* Z85 keys: CURVE client, or */
	const char *curve_public;		/* all three NULL for plain */
	const char *curve_secret;
};

struct sj_channels {
	void *ctx;
	void *front[SJ_NCHANNELS];
	void *back[SJ_NCHANNELS];
	uint64_t forwarded[SJ_NCHANNELS][2];	/* [ch][0] front->back, [1] back */
	uint64_t dropped[SJ_NCHANNELS];		/* unroutable replies */
	int shutdown_replied;	/* a shutdown_reply went to the client */
};

/* Creates and binds the front sockets.  Call before anything can connect
 * (Jupyter connects as soon as it has started us). */
int sj_channels_open_front(struct sj_channels *c, void *ctx,
			   const struct sj_front_opts *o, struct sj_err *err);

/* Creates and connects the back sockets. */
int sj_channels_open_back(struct sj_channels *c,
			  const struct sj_back_opts *o, struct sj_err *err);

/* Closes all sockets; the lingers bound how long unsent frames are kept
 * for each side.  Frames for a peer that has gone never leave: give that
 * side 0, or closing waits the whole linger for nothing. */
void sj_channels_close(struct sj_channels *c, int front_linger_ms,
		       int back_linger_ms);

/* Something else to wait on while forwarding: a zmq socket or an fd.
 * on_ready returns 0 to go on, 1 to stop forwarding, -1 on error; it may
 * retire its watch by setting w->fd to -1 (and w->socket to NULL). */
struct sj_fwd_watch {
	void *socket;
	int fd;
	int (*on_ready)(struct sj_fwd_watch *w);
	void *arg;
};

/* Forwards until a watch asks to stop (returns 0) or a socket fails
 * (returns -1).  Never sleeps: it blocks in epoll_wait until something is
 * ready. */
int sj_forward_run(struct sj_channels *c, struct sj_fwd_watch *w, int nw,
		   struct sj_err *err);

/* Forwards whatever is already queued, for at most quiet_ms of silence:
 * used after the kernel exits so its last replies still reach the user.
 * Once a shutdown_reply has passed, 20 ms of silence are enough. */
int sj_forward_drain(struct sj_channels *c, int quiet_ms, struct sj_err *err);

/* Whether a Jupyter message header (JSON) has "msg_type": "<msg_type>",
 * with any spacing around the colon. */
int sj_header_has_type(const void *data, size_t n, const char *msg_type);

/* One line of counters per channel, for --shim-verbose. */
void sj_channels_stats(const struct sj_channels *c, char *buf, size_t len);

#endif
