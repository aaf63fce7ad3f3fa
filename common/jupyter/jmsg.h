// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jmsg.h - Jupyter messages the login shim makes itself (the Jupyter
 * messaging protocol, "The Wire Protocol").
 *
 * While the kernel's job waits in the queue, the login shim stands in for
 * the kernel: it answers kernel_info_request and publishes the status
 * around it (forward.h).  Front ends check what they get as they would a
 * kernel's message: the signature (a wrong one silently breaks every
 * later output in Notebook 6.4), and a header with msg_id, session,
 * username, date and version.  So each message is signed with the
 * connection file's key and scheme, and carries one session id per
 * shim, as a kernel's would.
 */
#ifndef SJ_JMSG_H
#define SJ_JMSG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "jsign.h"
#include "sj_err.h"

#define SJ_JMSG_VERSION "5.3"	/* the protocol version we speak */

struct sj_jmsg {
	struct sj_jsign sign;	/* wiped by sj_jmsg_wipe */
	char session[33];	/* 32 hex digits, random */
	char username[96];	/* already escaped for JSON */
	uint64_t seq;		/* numbers the msg_ids */
};

/* From the connection file's key and scheme (an empty key: unsigned
 * messages, as Jupyter does then) and the user's name. */
int sj_jmsg_init(struct sj_jmsg *m, const char *key, const char *scheme,
		 const char *username, struct sj_err *err);
void sj_jmsg_wipe(struct sj_jmsg *m);

/* Appends one message to out in the link's layout (each frame a 4-byte
 * big-endian length, then its bytes): the frames already in prefix (the
 * same layout: routing ids, an iopub topic; may be empty), "<IDS|MSG>",
 * the signature, a new header of msg_type dated now, parent (a header,
 * JSON, or "{}"), metadata "{}" and content (JSON).  Returns -1 when out
 * of memory; out is then as it was. */
int sj_jmsg_build(struct sj_jmsg *m, struct sj_buf *out, const void *prefix,
		  size_t prefix_len, const char *msg_type, const void *parent,
		  size_t parent_len, const void *content, size_t content_len,
		  const struct timespec *now, struct sj_err *err);

/* The date of a header: ISO 8601, UTC, microseconds, "Z" (28 bytes with
 * the NUL). */
#define SJ_JMSG_DATE_LEN 28
void sj_jmsg_date(const struct timespec *now, char out[SJ_JMSG_DATE_LEN]);

/* Appends one whole frame in the link's layout (sj_link_entry_put); -1
 * when out of memory or over SJ_LINK_LEN_MASK bytes. */
int sj_jmsg_put_frame(struct sj_buf *out, const void *data, size_t len);

/*
 * The parts of a message as it is on the wire: routing ids (or an iopub
 * topic), "<IDS|MSG>", the signature, header, parent_header, metadata,
 * content, then any buffers.  The one reader of that order: whoever
 * looks for the delimiter or a part after it goes through
 * sj_jmsg_parts_zmtp or sj_jmsg_parts_link.
 */
enum sj_jmsg_part {
	SJ_JMSG_SIG,
	SJ_JMSG_HEADER,
	SJ_JMSG_PARENT,
	SJ_JMSG_METADATA,
	SJ_JMSG_CONTENT,
	SJ_JMSG_NPARTS		/* all five: a whole message */
};

struct sj_jmsg_parts {
	const uint8_t *part[SJ_JMSG_NPARTS];	/* NULL for a part not found */
	size_t len[SJ_JMSG_NPARTS];
	int nparts;		/* found after the delimiter; -1: none */
	int nids;		/* frames before the delimiter */
	size_t ids_end;		/* the offset of the delimiter's frame, or
				 * without one where the walk stopped */
	int bad;		/* it stopped short, at bytes that are no
				 * frame */
};

/* Reads the parts of a message given as its ZMTP frames (zmtp.h), or in
 * the link's layout (link_entry.h: a START or PIECE entry counts as a
 * frame of the bytes it holds).  The first frame that is "<IDS|MSG>" is
 * the delimiter; any frame after it is a part, whatever it holds.  The
 * walk stops at the content: buffers are not read.  Returns p->nparts:
 * SJ_JMSG_NPARTS for a whole message, fewer when the frames end (or,
 * p->bad, turn malformed) before the content, -1 when there is no
 * delimiter.  The parts found are in p whatever it returns. */
int sj_jmsg_parts_zmtp(const uint8_t *frames, size_t len,
		       struct sj_jmsg_parts *p);
int sj_jmsg_parts_link(const uint8_t *frames, size_t len,
		       struct sj_jmsg_parts *p);

/* Whether a frame is the delimiter, "<IDS|MSG>". */
int sj_jmsg_is_delimiter(const void *data, size_t n);

/* A client's message (its ZMTP frames) split for a reply: route gets rid
 * (none if NULL) and the frames before the delimiter, in the link's
 * layout (the routing a reply carries back, as sj_jmsg_build's prefix);
 * *header points at the header frame, NULL if the message is no Jupyter
 * message.  -1 when out of memory. */
int sj_jmsg_route(struct sj_buf *route, const uint8_t *rid, size_t rid_len,
		  const uint8_t *frames, size_t len, const uint8_t **header,
		  size_t *header_len);

#endif
