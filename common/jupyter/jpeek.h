// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jpeek.h - the little the shims read of the Jupyter messages they pass
 * on: a header's msg_type, and a status's execution_state.  Frames pass
 * through untouched (forward.h); the login shim looks at them to tell
 * a shutdown_request from other requests before the kernel is up, to
 * know when a shutdown_reply has gone toward Jupyter (then it need not
 * wait long for the kernel's last words), and to run the idle clock.
 *
 * It is a text search, not a JSON parser: a header is a small object the
 * kernel writes, and a wrong answer costs a few ms of waiting, not
 * correctness.
 */
#ifndef SJ_JPEEK_H
#define SJ_JPEEK_H

#include <stddef.h>
#include <stdint.h>

/* Whether a Jupyter message header (JSON) has "msg_type": "<msg_type>",
 * with any spacing around the colon. */
int sj_header_has_type(const void *data, size_t n, const char *msg_type);

/* Whether a message from a client (ZMTP frames: zmtp.h) is a request of
 * msg_type. */
int sj_jpeek_request_is(const uint8_t *frames, size_t len,
			const char *msg_type);

/* A status message's execution_state, from the kernel's iopub message in
 * the link's layout (a 4-byte length before each frame): 1 busy, 0 idle,
 * -1 not a status, or another state. */
int sj_jpeek_status(const uint8_t *frames, size_t len);

/* Follows a message frame by frame (call with each frame in turn, from a
 * zeroed struct with after_delim -1) and says when the header is a
 * shutdown_reply's. */
struct sj_jpeek_reply {
	int after_delim;	/* -1: the delimiter not seen yet */
};
int sj_jpeek_shutdown_reply(struct sj_jpeek_reply *r, const void *data,
			    size_t n);

#endif
