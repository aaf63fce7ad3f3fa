// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kernel_client.h - the node shim's ZMTP client of the kernel's five
 * sockets (the login side's counterpart, for Jupyter's clients, is
 * jupyter_listener.h; the wire format both speak is zmtp.h).
 *
 * The kernel binds its sockets on loopback or ipc; the node shim connects
 * to each as a DEALER (shell, control, stdin, hb) or a SUB (iopub) and
 * speaks ZMTP 3.0 (ZeroMQ RFC 23) with the NULL mechanism itself, from
 * its one thread.  libzmq would hand every message to its I/O thread and
 * back, two thread wake-ups per message on each way through the shim; on
 * a compute node where the kernel wants every CPU, one is enough.
 *
 * What a DEALER and a SUB do that matters here: a DEALER sends its
 * routing id in READY (the kernel's ROUTER then addresses replies, and
 * stdin's input_request, to it); a SUB sends subscriptions as messages
 * whose first byte is 1 (subscribe) or 0 (unsubscribe), and sends them
 * all again when it reconnects (here: each distinct one once).  Messages
 * written before a connection is up wait, as libzmq's would.  The kernel
 * binds a moment after we start, so a refused connect is retried every
 * 10 ms.
 *
 * The functions keep the sj_zmtp_ prefix they had when this was zmtp.c.
 */
#ifndef SJ_KERNEL_CLIENT_H
#define SJ_KERNEL_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "connfile.h"
#include "evloop.h"
#include "link.h"
#include "sj_err.h"
#include "zmtp.h"

/* Distinct subscriptions the node shim keeps to send again on a new
 * connection to the kernel (Jupyter makes one: everything); past this,
 * it subscribes to everything. */
#define SJ_ZMTP_SUBS_MAX 256

struct sj_zmtp_conn {
	int fd;
	uint32_t gen;		/* counts connections: part of its tag */
	enum sj_zmtp_type type;
	enum sj_zmtp_state state;
	unsigned ev;		/* SJ_EV_ flags it is registered with */
	struct sockaddr_storage sa;
	socklen_t salen;
	char endpoint[300];
	struct sj_buf in, out;
	struct sj_buf queue;	/* written while not open */
	struct sj_zmtp_scan scan;
	int streaming;		/* a message going on in parts */
	int first;		/* no part of it has gone yet */
	size_t frame_left;	/* bytes of a frame in pieces still to come */
	int frame_more;		/* that frame is not the message's last */
	struct sj_zmtp_topics subs;	/* SUB: to send again on reconnect */
	int subs_all;		/* one of them is to everything */
};

/* Called for each whole message from the kernel; frames holds its ZMTP
 * frames, to be walked with sj_zmtp_frame_next.  Returns 0 or -1. */
typedef int (*sj_zmtp_message_fn)(void *arg, int ch, const uint8_t *frames,
				  size_t len);

/* Past this much of a message waiting (or of a frame), it goes on in
 * parts as it arrives rather than whole.  A message's first part is
 * whole, or at least SJ_ZMTP_TOPIC_MAX bytes of its first frame. */
#define SJ_ZMTP_STREAM_MIN (64 * 1024)

/* A part of such a message: a whole frame (total = n), the first n bytes
 * of a frame of total bytes (START), or more bytes of it (PIECE).  more:
 * another frame follows the frame; first: the message's first part;
 * last: the message's last. */
enum sj_zmtp_part { SJ_ZMTP_PART_FRAME, SJ_ZMTP_PART_START,
		    SJ_ZMTP_PART_PIECE };
typedef int (*sj_zmtp_part_fn)(void *arg, int ch, enum sj_zmtp_part what,
			       const uint8_t *data, size_t n, size_t total,
			       int more, int first, int last);

struct sj_zmtp {
	struct sj_evloop *loop;	/* the caller's; we register in it */
	int timer_fd;		/* reconnects */
	uint8_t rid[SJ_ZMTP_RID_MAX];
	size_t rid_len;
	struct sj_zmtp_conn c[SJ_NCHANNELS];
	int held;		/* the kernel's output waits (sj_zmtp_hold) */
	sj_zmtp_message_fn on_message;
	sj_zmtp_part_fn on_part;
	void *arg;
	sj_note_fn note;
	void *note_arg;
};

/* Starts connecting to the kernel's five endpoints (as
 * sj_connfile_endpoint writes them); rid is the routing id of the shell
 * and stdin DEALERs.  z registers in lp as its SJ_EV_OWNER_KERNEL and is
 * served from it. */
int sj_zmtp_open(struct sj_zmtp *z, struct sj_evloop *lp,
		 const char *const *endpoints,
		 const uint8_t *rid, size_t rid_len,
		 sj_zmtp_message_fn on_message, sj_zmtp_part_fn on_part,
		 void *arg, sj_note_fn note, void *note_arg,
		 struct sj_err *err);
/* Queues one message for channel ch; frames in the link's layout (a
 * 4-byte big-endian length before each frame). */
int sj_zmtp_send(struct sj_zmtp *z, int ch, const uint8_t *frames,
		 size_t len, struct sj_err *err);
/* Writes what the sockets take now. */
void sj_zmtp_flush(struct sj_zmtp *z);
/* Bytes waiting for the kernel to read. */
size_t sj_zmtp_queued(const struct sj_zmtp *z);
/* Stops (hold) or resumes reading what the kernel sends (but its
 * heartbeat): while the link cannot take more, it waits in the kernel's
 * own queues, where libzmq drops at its high-water mark as it always
 * would for a slow peer. */
int sj_zmtp_hold(struct sj_zmtp *z, int hold);
void sj_zmtp_close(struct sj_zmtp *z);

#endif
