// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * allocs.h - the allocations of `jupyter slurm ps` and `cancel`: what the
 * lock files of this login host say (common/slurm/lockdir.h), who holds their
 * locks (/proc/locks), and what squeue says of their jobs.
 *
 * Pure text and table work, kept apart from the files and commands so
 * that it can be tested without a cluster.
 */
#ifndef GEN_ALLOCS_H
#define GEN_ALLOCS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "lockdir.h"
#include "sj_err.h"

/* What squeue prints for each job: id, state, reason, partition, nodes,
 * time left, '|' between (none of them can hold one). */
#define GEN_SQUEUE_FORMAT "%i|%T|%r|%P|%N|%L"

/* A state for a lock file whose job Slurm no longer knows. */
#define GEN_STATE_GONE "GONE"

struct gen_alloc {
	char jobid[32];
	struct sj_lockinfo info;
	int kernels;			/* shims holding its lock */
	/* From squeue; state GEN_STATE_GONE and the rest "" if it did not
	 * list the job. */
	char state[32];
	char reason[128];
	char partition[128];
	char nodes[256];
	char time_left[32];		/* running jobs only, else "" */
};

struct gen_allocs {
	struct gen_alloc *v;
	size_t n;
};

/* Appends an allocation with jobid and info, the rest empty. */
int gen_allocs_add(struct gen_allocs *a, const char *jobid,
		   const struct sj_lockinfo *info, struct sj_err *err);
void gen_allocs_free(struct gen_allocs *a);

/* Sorts by job id, numerically. */
void gen_allocs_sort(struct gen_allocs *a);

/* Fills the Slurm fields of every allocation from squeue's output
 * (GEN_SQUEUE_FORMAT lines); those it does not list become GONE. */
void gen_allocs_merge_squeue(struct gen_allocs *a, const char *text);

/* Whether the job has ended: GONE, or one of Slurm's final states.  A
 * state this does not know counts as alive. */
int gen_alloc_ended(const struct gen_alloc *al);

/* How many flock(2) locks /proc/locks (text) lists on the file dev:ino,
 * waiters not counted: the kernels that use an allocation. */
int gen_proc_locks_count(const char *text, unsigned dev_major,
			 unsigned dev_minor, unsigned long long ino);

/* Seconds in squeue's %L ("59:30", "1:00:00", "2-03:00:00"), or -1 for
 * anything else ("UNLIMITED", "INVALID", ""). */
long long gen_time_left_seconds(const char *s);

/* The table ps prints: a header and one line per allocation. */
void gen_allocs_print(FILE *f, const struct gen_allocs *a);

/* The JSON ps --json prints: an array of objects, one per allocation
 * (see jupyter-slurm.1 for the fields).  NULL when out of memory. */
json_t *gen_allocs_json(const struct gen_allocs *a);

#endif
