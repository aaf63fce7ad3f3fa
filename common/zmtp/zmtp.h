// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zmtp.h - ZMTP 3.0 (ZeroMQ RFC 23) with the NULL mechanism, as it is on
 * the wire: the greeting, frames, the READY command, and a set of
 * subscriptions.  Both shims speak it without libzmq (see decisions.md):
 * the node shim as the kernel's client (kernel_client.h), the login shim
 * as the server Jupyter's clients connect to (jupyter_listener.h).
 */
#ifndef SJ_ZMTP_H
#define SJ_ZMTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"

#define SJ_ZMTP_GREETING_BYTES 64
#define SJ_ZMTP_RID_MAX 255
/* The longest subscription (topic prefix) a client may make. */
#define SJ_ZMTP_TOPIC_MAX 1024

enum sj_zmtp_type { SJ_ZMTP_DEALER, SJ_ZMTP_SUB };

enum sj_zmtp_state {
	SJ_ZMTP_WAITING,	/* no connection; the retry timer runs */
	SJ_ZMTP_CONNECTING,
	SJ_ZMTP_GREETING,	/* our greeting and READY sent */
	SJ_ZMTP_READY_WAIT,	/* the peer's greeting read */
	SJ_ZMTP_OPEN,
};

/* Where sj_zmtp_scan got to in a message still arriving: parsing goes on
 * from there, not from the message's start, on every read. */
struct sj_zmtp_scan {
	size_t end;		/* whole frames so far end here */
	size_t frames;		/* how many */
	size_t body;		/* their bodies' bytes */
	size_t next_size;	/* the body of the frame being waited for */
};

/* A set of subscriptions (topic prefixes), as both ends keep them: each
 * one a ZMTP subscription message (one frame: 1, then the topic), so that
 * the node side can send them all again as they are. */
struct sj_zmtp_topics {
	struct sj_buf frames;
	int n;
};

/* Where the first topic in t is that equals topic (or, with prefix, that
 * is a prefix of it, as a message's first frame is matched): its offset
 * in t->frames, or -1. */
long sj_zmtp_topics_find(const struct sj_zmtp_topics *t, const uint8_t *topic,
			 size_t n, int prefix);
/* Adds topic (the caller has checked it is not there).  -1 when out of
 * memory. */
int sj_zmtp_topics_add(struct sj_zmtp_topics *t, const uint8_t *topic,
		       size_t n);
/* Takes topic out, if it is there. */
void sj_zmtp_topics_remove(struct sj_zmtp_topics *t, const uint8_t *topic,
			   size_t n);
void sj_zmtp_topics_free(struct sj_zmtp_topics *t);

/* Walks the frames of a message: returns 1 and the next frame, or 0 at
 * the end.  *off starts at 0. */
int sj_zmtp_frame_next(const uint8_t *frames, size_t len, size_t *off,
		       const uint8_t **data, size_t *n);

/* The same, going on from where s (zeroed for a new message) got to:
 * 1 when the message is whole (s->end its length; *command if it is a
 * command), 0 if more bytes are needed, -1 if a frame is malformed. */
int sj_zmtp_scan(struct sj_zmtp_scan *s, const uint8_t *p, size_t avail,
		 int *command);
/* The handshake as it arrives on in (either end): the greeting, then the
 * peer's READY.  Returns 1 with the READY command's body (consumed from
 * in; *state is then READY_WAIT, for the caller to check the body and
 * open), 0 if more bytes are needed, -1 if the greeting is not ZMTP 3
 * with the NULL mechanism, -2 if no READY command follows it. */
int sj_zmtp_handshake(struct sj_buf *in, enum sj_zmtp_state *state,
		      const uint8_t **body, size_t *n);

/* The pieces the unit tests check on their own.  Parses one frame at p:
 * returns its total length, 0 if more bytes are needed, -1 if malformed;
 * *flags, *body, *n describe it. */
long sj_zmtp_parse_frame(const uint8_t *p, size_t avail, uint8_t *flags,
			 const uint8_t **body, size_t *n);
/* A frame's header alone: 1 with its flags, header length and body
 * length, 0 if more bytes are needed, -1 if malformed. */
int sj_zmtp_parse_head(const uint8_t *p, size_t avail, uint8_t *flags,
		       size_t *head, size_t *size);
void sj_zmtp_greeting(uint8_t g[SJ_ZMTP_GREETING_BYTES]);
int sj_zmtp_put_frame(struct sj_buf *b, uint8_t flags, const void *data,
		      size_t n);
/* A frame's header alone, for a body of n bytes that follows later. */
int sj_zmtp_put_head(struct sj_buf *b, uint8_t flags, size_t n);
int sj_zmtp_put_ready(struct sj_buf *out, const char *type,
		      const uint8_t *rid, size_t rid_len);
/* A READY command's socket type (NUL-terminated into type) and Identity
 * (NULL if none); -1 if malformed or without a type. */
int sj_zmtp_ready_parse(const uint8_t *body, size_t n, char *type,
			size_t tlen, const uint8_t **id, size_t *idlen);
#define SJ_ZMTP_MORE 0x01
#define SJ_ZMTP_COMMAND 0x04
/* Whether a greeting is one we can talk to (ZMTP 3.x, NULL). */
int sj_zmtp_greeting_ok(const uint8_t *g);
/* Checks a peer's READY command body for the socket type we need. */
int sj_zmtp_ready_ok(const uint8_t *body, size_t n, enum sj_zmtp_type us);
int sj_zmtp_parse_endpoint(const char *ep, struct sockaddr_storage *sa,
			   socklen_t *salen);

#endif
