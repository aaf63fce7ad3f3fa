// SPDX-License-Identifier: GPL-2.0-or-later
#include "newstext.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int put(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int put(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* HH:MM of t, local time; "?" if the time cannot be told. */
static void hhmm(time_t t, char out[8])
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, 8, "%H:%M", &tm) == 0)
		strcpy(out, "?");
}

int sj_text_waiting(char *buf, size_t len, const char *jobid,
		    const char *partition, const char *reason, time_t start)
{
	char where[96] = "", when[40] = "", at[8];

	if (partition[0] != '\0')
		snprintf(where, sizeof(where), " on partition %.80s",
			 partition);
	if (start > 0) {
		hhmm(start, at);
		snprintf(when, sizeof(when), " (expected start %s)", at);
	}
	return put(buf, len, "Waiting for Slurm job %s%s: %s%s", jobid, where,
		   reason, when);
}

int sj_text_started(char *buf, size_t len, const char *jobid,
		    const char *node)
{
	return put(buf, len, "Job %s started on %s", jobid, node);
}

int sj_text_not_granted(char *buf, size_t len, const char *jobid)
{
	return put(buf, len, "Job %s did not start", jobid);
}

/* Rounded to what a reader needs: whole minutes from a minute and a
 * half on, so that a warning due 10 minutes ahead, sent a few
 * milliseconds late, still says 10. */
static void left_words(long left, char *out, size_t len)
{
	if (left >= 90)
		snprintf(out, len, "%ld minutes", (left + 30) / 60);
	else if (left >= 45)
		snprintf(out, len, "1 minute");
	else if (left > 1)
		snprintf(out, len, "%ld seconds", left);
	else
		snprintf(out, len, "a moment");
}

int sj_text_warning(char *buf, size_t len, const char *jobid, long left,
		    time_t end)
{
	char words[40], at[8];

	left_words(left, words, sizeof(words));
	hhmm(end, at);
	return put(buf, len, "Slurm job %s ends in %s (at %s). Save your "
		   "work.", jobid, words, at);
}

/* Minutes as Slurm's [D-]H:MM:SS, with hours unpadded. */
static void limit_words(uint32_t minutes, char *out, size_t len)
{
	unsigned d = minutes / 1440, h = minutes / 60 % 24, m = minutes % 60;

	if (d > 0)
		snprintf(out, len, "%u-%02u:%02u:00", d, h, m);
	else
		snprintf(out, len, "%u:%02u:00", h, m);
}

int sj_text_cause(char *buf, size_t len, const char *jobid, const char *state,
		  const char *reason, const char *node, uint32_t time_limit)
{
	char limit[32];
	int r;

	/* While the job completes, the state may still read COMPLETING or
	 * RUNNING; the reason already tells. */
	if (strcmp(state, "TIMEOUT") == 0 || strcmp(reason, "TimeLimit") == 0) {
		if (time_limit > 0) {
			limit_words(time_limit, limit, sizeof(limit));
			r = put(buf, len, "Slurm job %s reached its time limit "
				"(%s)", jobid, limit);
		} else {
			r = put(buf, len, "Slurm job %s reached its time "
				"limit", jobid);
		}
	} else if (strcmp(state, "DEADLINE") == 0) {
		r = put(buf, len, "Slurm job %s reached its deadline", jobid);
	} else if (strcmp(state, "NODE_FAIL") == 0 ||
		   strcmp(reason, "NodeDown") == 0) {
		r = put(buf, len, "node %s of Slurm job %s failed", node,
			jobid);
	} else if (strcmp(state, "CANCELLED") == 0) {
		r = put(buf, len, "Slurm job %s was cancelled (scancel)",
			jobid);
	} else if (strcmp(state, "PREEMPTED") == 0) {
		r = put(buf, len, "Slurm job %s was preempted", jobid);
	} else if (strcmp(state, "OUT_OF_MEMORY") == 0) {
		r = put(buf, len, "Slurm job %s ran out of memory", jobid);
	} else {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	return r < 0 ? -1 : 1;
}

int sj_text_cancelled(char *buf, size_t len, const char *jobid, unsigned by,
		      unsigned me, const char *name)
{
	if (by == me)
		return put(buf, len, "Slurm job %s was cancelled by you "
			   "(scancel)", jobid);
	if (by == 0)
		return put(buf, len, "Slurm job %s was cancelled by an "
			   "administrator (root)", jobid);
	if (name[0] == '\0')
		return put(buf, len, "Slurm job %s was cancelled by user %u",
			   jobid, by);
	return put(buf, len, "Slurm job %s was cancelled by user %s", jobid,
		   name);
}

int sj_text_death(char *buf, size_t len, const char *cause)
{
	return put(buf, len, "The kernel was stopped: %s. Its variables are "
		   "gone; restart the kernel to continue in a new "
		   "allocation.", cause);
}

int sj_text_not_run(char *buf, size_t len, const char *cause)
{
	return put(buf, len, "Not run: the kernel was stopped before this "
		   "cell ran; %s.", cause);
}

int sj_text_not_started(char *buf, size_t len, const char *cause)
{
	return put(buf, len, "The kernel did not start: %s before it was "
		   "granted. Restart the kernel to ask Slurm again.", cause);
}

int sj_text_previous(char *buf, size_t len, const char *cause,
		     const char *node, const char *jobid)
{
	return put(buf, len, "The previous kernel was stopped: %s. This "
		   "kernel runs on %s in Slurm job %s.", cause, node, jobid);
}

int sj_text_idle_previous(char *buf, size_t len, unsigned idle,
			  const char *node, const char *jobid)
{
	char words[40];

	if (idle < 60)
		snprintf(words, sizeof(words), "%u second%s", idle,
			 idle == 1 ? "" : "s");
	else
		snprintf(words, sizeof(words), "%u minute%s", idle / 60,
			 idle / 60 == 1 ? "" : "s");
	return put(buf, len, "The previous kernel was shut down after %s idle "
		   "and its allocation released; this kernel runs on %s in "
		   "Slurm job %s.", words, node, jobid);
}
