// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * forward.h - the forwarding core that serves both ends of the shim.
 *
 * Both ends have the same shape: Jupyter's five channels on one side and
 * the link to the other shim (link.h) on the other.  The login shim
 * listens where Jupyter's connection file says (jupyter_listener.h); the
 * node shim connects to the kernel (kernel_client.h):
 *
 *   Jupyter -> ROUTER/XPUB [login shim] =link= [node shim] DEALER/SUB -> kernel
 *   (shell, control, stdin, hb: ROUTER and DEALER; iopub: XPUB and SUB)
 *
 * Frames pass through untouched, multipart boundaries intact.  The login
 * side puts each Jupyter client's routing id before its messages and
 * routes the kernel's replies by it, so it rides along in the frames the
 * kernel echoes.  The node's stdin DEALER carries the shell DEALER's
 * routing id, because the kernel routes input_request with the identities
 * of the shell request.  Each shim is one thread: no ZeroMQ library, so
 * no I/O thread to hand every message to and back.
 *
 * Every queue has a bound.  When more than SJ_FWD_QUEUE_HIGH bytes wait
 * to go out on the link (or, on the node, to the kernel), the input that
 * feeds that queue is no longer read until less than SJ_FWD_QUEUE_LOW
 * wait: the clients' requests on the login side (the listener), the
 * kernel's output or the link on the node side.  The sender is slowed by TCP, as
 * between two libzmq sockets; nothing is dropped here that libzmq would
 * not drop (iopub for a subscriber that does not read, jupyter_listener.h).  The
 * login shim always reads the link: its clients' queues drop at their
 * high-water mark instead.
 */
#ifndef SJ_FORWARD_H
#define SJ_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "connfile.h"
#include "evloop.h"
#include "idle.h"
#include "jpeek.h"
#include "jupyter_listener.h"
#include "kernel_client.h"
#include "link.h"
#include "news.h"
#include "sj_err.h"
#include "standin.h"

#define SJ_FWD_QUEUE_HIGH (8u << 20)
#define SJ_FWD_QUEUE_LOW (2u << 20)

/* Jupyter's five endpoints (login) or the kernel's (node), as
 * sj_connfile_endpoint writes them. */
struct sj_endpoints {
	const char *endpoint[SJ_NCHANNELS];
};

struct sj_channels {
	/* The one event loop: the listener or the kernel's client, the
	 * link once it is opened, and sj_forward_run's watches. */
	struct sj_evloop loop;
	struct sj_zfront *front;	/* login: Jupyter's clients */
	struct sj_zmtp *kernel;		/* node: the kernel's sockets */
	struct sj_link link;
	int link_open;
	uint64_t forwarded[SJ_NCHANNELS][2];	/* [ch][0] toward the kernel,
						   [1] toward Jupyter */
	uint64_t dropped[SJ_NCHANNELS];		/* unroutable replies */
	int shutdown_replied;	/* a shutdown_reply went toward Jupyter */
	unsigned epoch;		/* the link connection messages came on */
	int hold_local;		/* the link is full: its feeders wait */
	int hold_link;		/* node: the kernel is full: the link waits */
	/* login: answers for the kernel until the link is opened
	 * (standin.h); NULL: everything waits for the kernel */
	struct sj_standin *standin;
	int info_wait;		/* the standin's own request is out */
	/* login: Slurm's news for the cells (news.h); NULL: none */
	struct sj_news *news;
	/* login: the idle clock (idle.h); NULL: none */
	struct sj_idle *idle;
	/* login, before the link: a request waits that needs the kernel
	 * (not kernel_info, not shutdown); a shutdown_request waits */
	int early_wanted;
	int early_shutdown;
	sj_note_fn note;
	void *note_arg;
};

/* Login: listens where Jupyter's clients connect.  Call before anything
 * can connect (Jupyter connects as soon as it has started us).  note
 * hears of clients refused and connections made and lost. */
int sj_channels_open_jupyter(struct sj_channels *c,
			     const struct sj_endpoints *e,
			     const struct sj_zfront_auth *auth, sj_note_fn note,
			     void *arg, struct sj_err *err);
/* Node: starts connecting to the kernel's sockets. */
int sj_channels_open_kernel(struct sj_channels *c,
			    const struct sj_endpoints *e, sj_note_fn note,
			    void *arg, struct sj_err *err);

/* Login: until the link is opened, s answers what it can for the kernel
 * (standin.h) and everything else waits, in order, to go first on the
 * link; once it is opened, s asks the kernel for its kernel_info_reply
 * once, to record it, and answers nothing more.  s stays the caller's;
 * note hears what the standin did. */
void sj_channels_standin(struct sj_channels *c, struct sj_standin *s,
			 sj_note_fn note, void *arg);

/* Login: n follows the cells in the traffic, and what it has to
 * publish goes out on iopub between the kernel's messages (from
 * sj_forward_run, sj_channels_serve_early, or sj_channels_news_flush). */
void sj_channels_news(struct sj_channels *c, struct sj_news *n);

/* Login: the clock hears of every request on shell and control and of
 * the kernel's status (idle.h).  It stays the caller's. */
void sj_channels_idle(struct sj_channels *c, struct sj_idle *clock);

/* Login: sends a message of the shim's own (the link's layout, as
 * sj_jmsg_build makes it, with a routing id no client has, so that the
 * kernel's reply is dropped) on channel ch.  -1 when out of memory or
 * m is not in that layout. */
int sj_channels_send_own(struct sj_channels *c, int ch,
			 const struct sj_buf *m, struct sj_err *err);

/* Login: publishes what the news has queued, unless a kernel's message in
 * parts is under way on iopub (then it waits for the next round).  A
 * message on iopub that would reach no client waits too (and what is
 * queued behind it), for a client whose SUB is still connecting: just
 * after a restart, Jupyter's shell can be back before its iopub, and the
 * cell's first news would be lost.  Up to SJ_FWD_NEWS_HELD bytes; beyond,
 * and at sj_channels_close, it goes anyway (to whoever listens).  -1 when
 * out of memory. */
#define SJ_FWD_NEWS_HELD (256 << 10)
int sj_channels_news_flush(struct sj_channels *c, struct sj_err *err);

/* Login, before the link is opened: serves Jupyter's clients (call when
 * c->loop.epfd is readable, and wait on it beside what else the shim
 * waits for).  What must wait for the kernel is held, and once
 * SJ_FWD_QUEUE_HIGH bytes are, the clients are no longer read. */
int sj_channels_serve_early(struct sj_channels *c, struct sj_err *err);

/* The link to the other shim (see link.h): the login shim connects, the
 * node shim serves.  Messages for it may be queued before it is up. */
int sj_channels_link_client(struct sj_channels *c, const char *host,
			    int port, const char *source,
			    const struct sj_link_keys *keys, sj_note_fn note,
			    void *arg, struct sj_err *err);
int sj_channels_link_server(struct sj_channels *c, int listen_fd,
			    int grace_s, const char *peer_only,
			    const struct sj_link_keys *keys,
			    sj_note_fn note, void *arg,
			    struct sj_err *err);

/* Closes everything; on the login side Jupyter's clients first get up to
 * linger_ms to take what is still queued for them. */
void sj_channels_close(struct sj_channels *c, int linger_ms);

/* Something else to wait on while forwarding: an fd, registered in the
 * loop (SJ_EV_OWNER_WATCH) while sj_forward_run runs.  on_ready is called
 * after the round's forwarding and writes; it returns 0 to go on, 1 to
 * stop forwarding, -1 on error; it may retire its watch by setting w->fd
 * to -1. */
struct sj_fwd_watch {
	int fd;
	int (*on_ready)(struct sj_fwd_watch *w);
	void *arg;
};

/* Forwards until a watch asks to stop or the link server gives up on its
 * client (c->link.gone; both return 0), or something fails (-1).  Never
 * sleeps: it blocks in epoll_wait until something is ready. */
int sj_forward_run(struct sj_channels *c, struct sj_fwd_watch *w, int nw,
		   struct sj_err *err);

/* Forwards whatever is already queued, for at most quiet_ms of silence,
 * then gives the link up to a second to send what it holds: used after
 * the kernel exits so its last replies still reach the user.  Once a
 * shutdown_reply has passed, 20 ms of silence are enough. */
int sj_forward_drain(struct sj_channels *c, int quiet_ms, struct sj_err *err);

/* One line of counters per channel, for --shim-verbose. */
void sj_channels_stats(const struct sj_channels *c, char *buf, size_t len);

#endif
