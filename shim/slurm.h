// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * slurm.h - the Slurm commands the login shim runs.
 */
#ifndef SHIM_SLURM_H
#define SHIM_SLURM_H

#include <sys/types.h>

#include "args.h"
#include "slurmapi.h"
#include "sj_err.h"

/* Something else served while waiting for Slurm: when fd is readable,
 * ready is called; it returns 0, or -1 to fail the wait with err.
 * pending (may be NULL) hears how the pending job stands each time Slurm
 * is asked (at first, then every few seconds). */
struct slurm_wait_also {
	int fd;
	int (*ready)(void *arg, struct sj_err *err);
	void (*pending)(void *arg, const char *jobid,
			const struct slurm_job_facts *f);
	void *arg;
	/* named (may be NULL) hears the job id as soon as salloc names it,
	 * pending or granted (after the janitor): -1 fails the wait. */
	int (*named)(void *named_arg, const char *jobid, struct sj_err *err);
	void *named_arg;
};

/*
 * salloc --no-shell with the user's Slurm options.  salloc's own messages
 * (pending, queued, granted, errors) are passed to our stderr, which is
 * the Jupyter server's log.  The job id is handed to the janitor as soon as
 * salloc names it, so even a pending job is cancelled if we die.  A
 * terminating signal (read from sfd) while waiting abandons the request.
 * Like slurm_start_step, refuses a Slurm of another release first
 * (slurm_release_check).  also (may be NULL) is served meanwhile: the
 * login shim answers Jupyter's clients while the job waits.  Returns 0
 * with jobid granted; -1 with err; 1 with err when salloc named jobid and
 * then ended without an allocation (Slurm cancelled or refused the
 * request): the caller may ask Slurm why.
 */
int slurm_allocate(const struct shim_args *a, const char *job_name,
		   int janitor_fd, int sfd, const struct slurm_wait_also *also,
		   char *jobid, size_t len, struct sj_err *err);

/* srun --jobid=J --overlap -N1 -n1 --jupyter-kernel=SPEC SHIM --node -- ARGV,
 * in a process group of its own. */
int slurm_start_step(const struct shim_args *a, const char *jobid,
		     const char *spec, pid_t *pid, struct sj_err *err);

/* Why the kernel of job J ended, from the job's state and srun's status:
 * returns 1 and one line for the server log when it did not end of its
 * own accord or failed, 0 for a clean exit of a kernel in a live job.
 * f gets the job's facts (state "" if Slurm could not say). */
int slurm_explain_end(const char *jobid, const char *node, int status,
		      char *buf, size_t len, struct slurm_job_facts *f);

/* Job J ended CANCELLED: if Slurm's accounting says who cancelled it
 * within a few seconds (sacct, killed past them), cause becomes
 * sj_text_cancelled's sentence and 1 is returned; else 0 and cause is
 * left as it was (no accounting, accounting slow or down). */
int slurm_cancel_cause(const char *jobid, char *cause, size_t len);

/* scancel J, retried for about two minutes while slurmctld does not
 * answer; 0 when Slurm took it. */
int slurm_cancel(const char *jobid);

/* scancel --signal=SIG J.S, without waiting for it. */
void slurm_signal_step(const char *jobid, unsigned step, const char *sig);

#endif
