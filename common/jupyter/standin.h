// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * standin.h - the login shim as the kernel while the kernel is not up.
 *
 * A Slurm job may wait in the queue for minutes, and front ends give a
 * kernel 60 s to answer kernel_info_request (nbclient, jupyter console,
 * Notebook's server) before they give up on it.  So until the link to
 * the node is opened, the login shim answers kernel_info_request on shell
 * and control itself, with the status busy and idle around it on iopub as
 * a kernel would (Notebook's nudge waits for any iopub message), and
 * echoes heartbeats.  It answers comm_info_request too (no comms: there
 * is no kernel to have any), until a request waits for the kernel: a
 * front end opening a notebook asks for it, and a kernel shut down idle
 * (idle.h) must not be started again for that.  Everything else waits
 * for the kernel, in order (forward.h).  The content of its kernel_info_reply is the wrapped
 * kernel's own, recorded the last time it started (the shim asks the
 * kernel once the link is opened), or else a minimal one of its own.
 */
#ifndef SJ_STANDIN_H
#define SJ_STANDIN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jmsg.h"
#include "sj_err.h"

/* The largest kernel_info_reply content recorded and replayed. */
#define SJ_STANDIN_INFO_MAX (64 * 1024)
#define SJ_STANDIN_RID_LEN 17

struct sj_standin {
	struct sj_jmsg maker;
	char *info;		/* kernel_info_reply content, malloc'd */
	size_t info_len;
	int info_recorded;	/* info is the kernel's, from record_path */
	char record_path[512];	/* "": nothing recorded or replayed */
	/* The routing id of the shim's own kernel_info_request: 0 and 16
	 * random bytes.  No client's can equal it: zfront's own ids that
	 * start with 0 are 5 bytes, and a client's Identity never does. */
	uint8_t own_rid[SJ_STANDIN_RID_LEN];
	uint64_t answered;	/* requests answered */
	int held;		/* a request on shell or control waits for
				 * the kernel: comm_info waits too */
};

/* key and scheme: the connection file's; language: the kernel's language
 * for the minimal content ("" if unknown); record_path: the file the
 * kernel's content is kept in ("" for none).  A recorded content is read
 * from it now if there is one that looks like a JSON object. */
int sj_standin_init(struct sj_standin *s, const char *key,
		    const char *scheme, const char *username,
		    const char *language, const char *version,
		    const char *record_path, struct sj_err *err);
void sj_standin_free(struct sj_standin *s);

/* A message from a client on channel ch (rid its routing id, frames its
 * ZMTP frames) while the kernel is not up.  If the shim answers it,
 * appends the answer to reply (the link's layout, rid first, for
 * sj_zfront_send on ch) and, for a kernel_info_request or
 * comm_info_request, the iopub status busy and idle to busy and idle,
 * and returns 1.  Returns 0 for a message
 * that must wait for the kernel, -1 when out of memory. */
int sj_standin_answer(struct sj_standin *s, int ch, const uint8_t *rid,
		      size_t rid_len, const uint8_t *frames, size_t len,
		      struct sj_buf *reply, struct sj_buf *busy,
		      struct sj_buf *idle, struct sj_err *err);

/* The shim's own kernel_info_request for shell, in the link's layout with
 * own_rid first: its reply is the kernel's content to record. */
int sj_standin_request(struct sj_standin *s, struct sj_buf *out,
		       struct sj_err *err);

/* If frames (the link's layout, a message from the kernel on shell) is
 * the reply to sj_standin_request, records its content (0600, atomically)
 * and returns 1, else 0.  A failure to record is only logged by the
 * caller: err is set and 1 returned all the same (the reply is ours). */
int sj_standin_take_reply(struct sj_standin *s, const uint8_t *frames,
			  size_t len, struct sj_err *err);

/* Whether p (n bytes) looks like a JSON object: enough to replay it as a
 * content frame (the kernel wrote it; this only makes sure it is not a
 * truncated file). */
int sj_standin_json_object(const char *p, size_t n);

#endif
