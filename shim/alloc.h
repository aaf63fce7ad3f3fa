// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * alloc.h - which allocation a kernel runs in, and who may release it.
 *
 * Allocations the shim makes are named "jupyter-kernel-XXXXXXXX", XXXXXXXX
 * a hash of the Slurm options, so the next kernel of the same kernelspec
 * (a restart, or a second notebook with --share) finds it among the user's
 * running jobs of that name, asked of slurmctld (slurm.h).
 *
 * Every shim using such an allocation holds a shared flock(2) on
 * <runtime>/<jobid>.lock for as long as it lives; the kernel is the lock.
 * When a shim ends, its janitor waits the linger time and then tries the
 * exclusive lock without blocking: it gets it only if no shim uses the
 * allocation, and cancels it while holding it.  An arriving shim takes its
 * shared lock first and checks that the job still runs afterwards, so it
 * either sees the job cancelled (and makes a new one) or holds a lock no
 * janitor can take.  Locks die with their process: SIGKILL is covered.
 * Each janitor stamps the lock file's mtime when its shim has gone and
 * releases only if the newest stamp is the linger old, so the linger
 * counts from the last kernel to leave, not the first.  A new
 * allocation's lock file appears already locked (alloc_lock), as soon as
 * salloc names the job, while it still waits: `jupyter slurm ps` lists
 * the request as PENDING and `cancel` withdraws it.  An unshared kernel
 * reuses only running allocations that have one.  A janitor whose shim
 * died waiting finds the file unheld and the job not ended, and cancels
 * it, as it would a granted allocation nobody uses: a request nobody
 * waits for any more is no less a leak.
 * <runtime> is the user's lock directory (common/slurm/lockdir.h: in
 * $XDG_RUNTIME_DIR, /run/user/UID or ~/.cache, never where another user
 * could make it first); allocations are found and shared per login host.
 */
#ifndef SHIM_ALLOC_H
#define SHIM_ALLOC_H

#include <stddef.h>

#include "args.h"
#include "lockdir.h"
#include "sj_err.h"
#include "slurmapi.h"

struct alloc {
	char jobid[32];
	char name[64];		/* job name of allocations we make */
	char lock_dir[400];
	char lock_path[512];
	int lock_fd;		/* shared flock held while we live */
	int owned;		/* made by a shim: released when unused */
	struct slurm_job_facts facts;	/* as alloc_find saw the job
					 * running; state "" otherwise */
	struct sj_lockinfo info;	/* what a lock file we make says */
};

/* Fills name and the lock directory; no Slurm call. */
int alloc_init(struct alloc *al, const struct shim_args *a,
	       struct sj_err *err);

/* An allocation of ours to reuse: a running job with our name, not in use
 * (or any with --share).  Returns 1 with al->jobid set and the shared lock
 * held, 0 if there is none. */
int alloc_find(struct alloc *al, int share, struct sj_err *err);

/* Takes the shared lock on al->jobid (a new allocation), making the lock
 * file with al->info in it if there is none; nothing if it is held. */
int alloc_lock(struct alloc *al, struct sj_err *err);

/* slurm_wait_also's named, with the struct alloc whose jobid salloc
 * fills as arg: alloc_lock while the job still waits. */
int alloc_named(void *al, const char *jobid, struct sj_err *err);

/* For the user's own allocation jobid (--jobid, salloc --jupyter-kernel):
 * holds a shared lock on its lock file, marked as the user's, so that
 * `jupyter slurm ps` lists it and `cancel` asks first.  No janitor is told:
 * no shim ever releases it.  kernelspec may be "". */
int alloc_use_own(struct alloc *al, const struct shim_args *a,
		  const char *jobid, const char *kernelspec,
		  struct sj_err *err);

/* "<lock_dir>/<jobid>.lock" */
int alloc_lock_path(const char *lock_dir, const char *jobid, char *buf,
		    size_t len);

/* For the janitor, once its shim has gone: records that a kernel left
 * jobid now (the lock file's mtime). */
void alloc_stamp_leave(const char *jobid, const char *lock_dir);

/* For the janitor, linger seconds after its stamp: cancels jobid if no
 * shim holds its lock and no kernel left it less than linger ago (that
 * kernel's janitor decides then).  A lock file that has gone with its job
 * was released by another janitor or by `jupyter slurm cancel`/`ps`, which
 * remove it only once Slurm says the job has ended. */
void alloc_release_if_unused(const char *jobid, const char *lock_dir,
			     unsigned linger);

#endif
