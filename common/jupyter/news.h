// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * news.h - Slurm's news in the notebook: the messages the login shim adds
 * to iopub about the kernel's job (issue 16; the texts are newstext.h's).
 *
 * Each message is made as a kernel's would be (jmsg.h: signed with the
 * connection file's key, a header with session, msg_id, date and
 * version), published on iopub only, and parented to the cell it is
 * about: the oldest execute_request not yet answered, which is the cell
 * running (or, while the job waits, the first one held).  News for no
 * cell waits for the next execute_request and goes first in its output;
 * a kernel's death with no cell running has no parent.
 *
 * The shim follows the cells from the traffic it forwards: each
 * execute_request a client sends on shell opens one, the execute_reply
 * that names it as parent closes it.  When Slurm ends the kernel, the
 * shim answers the cells the kernel left open, as the kernel would have
 * (an execute_reply with status "error" to the client that asked, then
 * the status idle): without that, a front end shows the cell running
 * forever and a client waiting for its reply waits until its timeout.
 * Nothing here sends: the messages wait in an outbox for the caller
 * (forward.h), which must not put one in the middle of a kernel's
 * message in parts on the same channel.
 */
#ifndef SJ_NEWS_H
#define SJ_NEWS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "jmsg.h"
#include "shimopt.h"
#include "sj_err.h"

/* Cells followed at once; an older one is forgotten beyond (its reply
 * was lost). */
#define SJ_NEWS_CELLS 64

struct sj_news_cell {
	char *header;		/* the request's header, as sent */
	size_t header_len;
	char msg_id[128];
	struct sj_buf route;	/* where its reply goes (sj_jmsg_route) */
	long count;		/* its execution_count (the kernel's
				 * execute_input), -1 until then */
};

struct sj_news {
	struct sj_jmsg *maker;		/* the caller's, shared with standin */
	struct sj_news_cell cell[SJ_NEWS_CELLS];
	int ncells;
	struct sj_buf later;		/* text for the next cell's stderr */
	char display_id[64];		/* the waiting line's */
	char wait_text[512];		/* "" when the job does not wait */
	int wait_shown;			/* display_data sent for it */
	long count;			/* the last execution_count the kernel
					 * gave, -1: none yet */
	/* Messages to send: each a 4-byte length, the channel (one byte),
	 * then its frames in the link's layout (topic or route first). */
	struct sj_buf out;
};

/* maker signs the messages: the standin's (standin.h). */
int sj_news_init(struct sj_news *n, struct sj_jmsg *maker,
		 struct sj_err *err);
void sj_news_free(struct sj_news *n);

/* A client's message on shell (rid its routing id, frames its ZMTP
 * frames, as zfront gives them): an execute_request opens a cell, and
 * news waiting for one goes to it.  -1 when out of memory. */
int sj_news_request(struct sj_news *n, const uint8_t *rid, size_t rid_len,
		    const uint8_t *frames, size_t len, struct sj_err *err);

/* A whole message from the kernel toward the clients on shell or iopub
 * (the link's layout): an execute_reply closes its cell, an
 * execute_input tells its cell's execution_count. */
void sj_news_reply(struct sj_news *n, const uint8_t *frames, size_t len);

/* Whether a cell is open (running, or held while the job waits). */
int sj_news_running(const struct sj_news *n);

/* The job waits: the waiting line is text (display_data the first time a
 * cell is there to show it, update_display_data after each change). */
int sj_news_waiting(struct sj_news *n, const char *text, struct sj_err *err);

/* The job runs: the waiting line, if shown, becomes text. */
int sj_news_started(struct sj_news *n, const char *text, struct sj_err *err);

/* One line on the running cell's stderr, or at the top of the next
 * cell's output if none runs. */
int sj_news_say(struct sj_news *n, const char *text, struct sj_err *err);

/* The kernel is gone: text as an error output of the running cell (none:
 * without a parent), then its execute_reply (status "error", ename
 * SJ_TEXT_DEATH_ENAME, text as evalue and traceback, the execution_count
 * the kernel gave it, or else the last it gave) and the status idle;
 * then each cell still waiting gets the same with not_run and
 * execution_count null, without an error output.  No cell is open
 * after. */
int sj_news_death(struct sj_news *n, const char *text, const char *not_run,
		  struct sj_err *err);

/* The next message to send: 1 with *ch (SJ_IOPUB or SJ_SHELL), *p and
 * *len (the link's layout), 0 if there is none.  sj_news_sent then drops
 * it. */
int sj_news_next(const struct sj_news *n, int *ch, const uint8_t **p,
		 size_t *len);
void sj_news_sent(struct sj_news *n);
/* The bytes of the messages not yet sent. */
size_t sj_news_queued(const struct sj_news *n);

/*
 * When to warn before the allocation ends (--warn-before).
 */
#define SJ_WARN_MAX 8
#define SJ_WARN_DEFAULT "10m,1m"

struct sj_warn_plan {
	unsigned before[SJ_WARN_MAX];	/* seconds before the end */
	int n;
	unsigned done;			/* bit i: before[i] was warned of */
	int looked;			/* the end was seen once */
};

/* "10m,1m", "90s", "1h", "0" (no warnings): durations with a unit (s, m,
 * h), comma-separated.  -1 with err naming what is wrong. */
int sj_warn_parse(const char *s, struct sj_warn_plan *p, struct sj_err *err);

/* The clock strikes: with the job's end as Slurm says it now (0: no time
 * limit), returns 1 if a warning is due (each limit passed is warned of
 * once; a limit the end moved away from again is warned of again; limits
 * already passed when the end is first seen are not: a 5-minute job is
 * not told at its start that it ends in 5 minutes), and
 * sets *next to when to ask Slurm again (0: never).  Slurm is asked again
 * before each warning is due, halfway there each time, so that an end
 * moved earlier (scontrol update TimeLimit) is seen in time. */
int sj_warn_step(struct sj_warn_plan *p, time_t end, time_t now,
		 time_t *next);

#endif
