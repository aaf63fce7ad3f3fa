// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * newstext.h - every text the login shim shows a notebook user in a
 * cell's output (issue 16): Slurm's news about the kernel's job.  They
 * are all here so that the tests and the README quote one wording.
 *
 * Each function writes one line, without a newline, into buf and returns
 * 0, or -1 if it did not fit (buf then holds "").  Times of day are the
 * login host's local time, HH:MM.
 */
#ifndef SJ_NEWSTEXT_H
#define SJ_NEWSTEXT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "Waiting for Slurm job 123 on partition debug: Resources (expected
 * start 14:05)"; no partition part if partition is "", no estimate if
 * start is 0. */
int sj_text_waiting(char *buf, size_t len, const char *jobid,
		    const char *partition, const char *reason, time_t start);

/* "Job 123 started on n2" */
int sj_text_started(char *buf, size_t len, const char *jobid,
		    const char *node);

/* "Job 123 did not start": the waiting line when Slurm ended the request
 * before it was granted (the cell's error says why). */
int sj_text_not_granted(char *buf, size_t len, const char *jobid);

/* "Slurm job 123 ends in 10 minutes (at 15:00). Save your work."; left
 * is the number of seconds until end. */
int sj_text_warning(char *buf, size_t len, const char *jobid, long left,
		    time_t end);

/* Why Slurm ended the job, as a clause: "Slurm job 123 reached its time
 * limit (1:00:00)", from the job's state without its flags (CANCELLED,
 * not COMPLETING) and reason as scontrol shows them (time_limit in
 * minutes, node where the kernel ran).  Returns 1
 * with buf set when Slurm ended the job, 0 (buf "") when the state names
 * no such cause, -1 if it did not fit. */
int sj_text_cause(char *buf, size_t len, const char *jobid, const char *state,
		  const char *reason, const char *node, uint32_t time_limit);

/* The cause of a job cancelled, when accounting names who did it
 * (canceller.h): "Slurm job 123 was cancelled by you (scancel)" when by
 * is me, "... by an administrator (root)" when by is 0, else "... by user
 * NAME" (name "": by's number). */
int sj_text_cancelled(char *buf, size_t len, const char *jobid, unsigned by,
		      unsigned me, const char *name);

/* The running cell's error: "The kernel was stopped: CAUSE. Its variables
 * are gone; restart the kernel to continue in a new allocation." */
int sj_text_death(char *buf, size_t len, const char *cause);

/* The reply to a cell still waiting behind it: "Not run: the kernel was
 * stopped before this cell ran; CAUSE." */
int sj_text_not_run(char *buf, size_t len, const char *cause);

/* The held cell's error when Slurm ended the request before it was
 * granted: "The kernel did not start: CAUSE before it was granted.
 * Restart the kernel to ask Slurm again." */
int sj_text_not_started(char *buf, size_t len, const char *cause);

/* The next kernel's first cell: "The previous kernel was stopped: CAUSE.
 * This kernel runs on n2 in Slurm job 124." */
int sj_text_previous(char *buf, size_t len, const char *cause,
		     const char *node, const char *jobid);

/* The next kernel's first cell after an idle shutdown (--idle-timeout):
 * "The previous kernel was shut down after 30 minutes idle and its
 * allocation released; this kernel runs on n2 in Slurm job 124."  idle
 * is in seconds: under a minute it is told in seconds, else in whole
 * minutes. */
int sj_text_idle_previous(char *buf, size_t len, unsigned idle,
			  const char *node, const char *jobid);

/* The ename of the error output. */
#define SJ_TEXT_DEATH_ENAME "SlurmJobEnded"

#endif
