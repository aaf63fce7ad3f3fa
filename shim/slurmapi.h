// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * slurmapi.h - what the shim asks slurmctld directly, through libslurm:
 * one RPC instead of a scontrol or squeue process.  Each question runs in
 * a forked child that loads libslurm (see slurmapi.c), so the shim that
 * stays for the kernel's life never has it resident.
 */
#ifndef SHIM_SLURMAPI_H
#define SHIM_SLURMAPI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sj_err.h"

struct slurm_job_facts {
	char state[32];		/* "RUNNING", "TIMEOUT", ... as scontrol */
	char base_state[32];	/* without flags: "CANCELLED" even while
				 * state still says "COMPLETING" */
	char reason[64];	/* "Resources", "TimeLimit", ... */
	char nodes[1024];	/* the job's node list, "" while pending */
	uint32_t num_nodes;
	time_t end_time;	/* 0: no time limit */
	time_t start_time;	/* pending: Slurm's estimate, 0 if none */
	uint32_t time_limit;	/* minutes, 0: none */
	char partition[64];
};

/* The job's facts; -1 if Slurm cannot say (slurmctld unreachable, no such
 * job): never to be taken as "the job has gone". */
int slurm_job_facts(const char *jobid, struct slurm_job_facts *f);

/* Up to max ids of this user's RUNNING jobs named name; their number,
 * or -1 if Slurm cannot say. */
int slurm_running_jobs_named(const char *name, char ids[][32], int max);

/*
 * 0 when the Slurm here is the release (major.minor) this shim was built
 * for; -1 with one line naming both and what to do otherwise.  "Here" is
 * the srun on PATH (salloc, srun and scancel are run from PATH, and srun
 * loads our plugin) and the libslurm the questions above load: an upgrade
 * that removed its soname is refused like one that changed srun.  Learnt
 * by the first question's child, beside its question (no process of its
 * own when a question comes first); asked for alone otherwise; then kept.
 * Called before anything is submitted (salloc, srun).
 */
int slurm_release_check(struct sj_err *err);

/* State and reason only, as strings (see struct slurm_job_facts). */
int slurm_job_state(const char *jobid, char *state, size_t slen,
		    char *reason, size_t rlen);

#endif
