// SPDX-License-Identifier: GPL-2.0-or-later
#include "alloc.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernelstep.h"
#include "lockdir.h"
#include "log.h"
#include "slurm.h"

int alloc_init(struct alloc *al, const struct shim_args *a,
	       struct sj_err *err)
{
	memset(al, 0, sizeof(*al));
	al->lock_fd = -1;
	sj_alloc_job_name((const char *const *)a->slurm_argv, (size_t)a->slurm_argc, al->name,
			  sizeof(al->name));
	if (sj_lockdir_mine(al->lock_dir, sizeof(al->lock_dir), err))
		return -1;
	shim_debug("lock directory %s", al->lock_dir);
	return 0;
}

int alloc_lock_path(const char *lock_dir, const char *jobid, char *buf,
		    size_t len)
{
	int n = snprintf(buf, len, "%s/%s.lock", lock_dir, jobid);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * Opens a lock file (O_CREAT in flags: made if missing).  Only a regular
 * file of ours will do: our directory admits nobody else, but root may
 * have left something, and a lock we cannot trust is no lock.  On failure
 * errno is kept (alloc_find tells ENOENT apart).
 */
static int open_lock(const char *path, int flags, struct sj_err *err)
{
	struct stat st;
	int fd, e;

	/* O_NONBLOCK: a FIFO in its place must not hang us. */
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | flags,
		  0600);
	if (fd < 0) {
		e = errno;
		sj_err_errno(err, e, "%s", path);
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		sj_err_errno(err, e, "%s", path);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != getuid()) {
		close(fd);
		sj_err_set(err, "%s is not a lock file of yours (a %s of uid "
			   "%ju); remove it", path,
			   S_ISREG(st.st_mode) ? "file" : "non-file",
			   (uintmax_t)st.st_uid);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static int lock_file(struct alloc *al, const char *jobid, int create,
		     struct sj_err *err)
{
	if (alloc_lock_path(al->lock_dir, jobid, al->lock_path,
			    sizeof(al->lock_path)))
		return sj_err_set(err, "lock path too long");
	al->lock_fd = open_lock(al->lock_path, create ? O_CREAT : 0, err);
	return al->lock_fd < 0 ? -1 : 0;
}

static void unlock(struct alloc *al)
{
	if (al->lock_fd >= 0)
		close(al->lock_fd);
	al->lock_fd = -1;
}

static int flock_retry(int fd, int op)
{
	int r;

	while ((r = flock(fd, op)) != 0 && errno == EINTR)
		;
	return r;
}

/* The record for `jupyter slurm ps` (lockdir.h). */
static int write_info(int fd, const struct sj_lockinfo *li, const char *path,
		      struct sj_err *err)
{
	char buf[256];
	int n = sj_lockinfo_format(li, buf, sizeof(buf));
	ssize_t w;

	if (n < 0)
		return sj_err_set(err, "%s: record too long", path);
	w = write(fd, buf, (size_t)n);
	if (w != n)
		return sj_err_errno(err, w < 0 ? errno : EIO, "writing %s",
				    path);
	return 0;
}

/*
 * The lock file of a new allocation appears already locked: it is made
 * under a private name, locked, and only then linked into place.  An
 * unshared alloc_find skips allocations without a lock file, so it cannot
 * take a just-granted allocation before its maker holds it.
 */
int alloc_lock(struct alloc *al, struct sj_err *err)
{
	char tmp[600];
	int fd, n;

	if (al->lock_fd >= 0)
		return 0;	/* since salloc named the job: alloc_named */
	if (alloc_lock_path(al->lock_dir, al->jobid, al->lock_path,
			    sizeof(al->lock_path)))
		return sj_err_set(err, "lock path too long");
	n = snprintf(tmp, sizeof(tmp), "%s.new-%ld", al->lock_path,
		     (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sj_err_set(err, "lock path too long");
	unlink(tmp);
	fd = open_lock(tmp, O_CREAT | O_EXCL, err);
	if (fd < 0)
		return -1;
	if (write_info(fd, &al->info, tmp, err)) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (flock_retry(fd, LOCK_SH) != 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		return sj_err_errno(err, e, "flock %s", tmp);
	}
	if (link(tmp, al->lock_path) == 0) {
		unlink(tmp);
		al->lock_fd = fd;
		return 0;
	}
	/* A --share kernel found the allocation first and made the file;
	 * sharing was what it asked for. */
	int e = errno;
	close(fd);
	unlink(tmp);
	if (e != EEXIST)
		return sj_err_errno(err, e, "link %s", al->lock_path);
	if (lock_file(al, al->jobid, 0, err))
		return -1;
	if (flock_retry(al->lock_fd, LOCK_SH) != 0) {
		e = errno;
		unlock(al);
		return sj_err_errno(err, e, "flock %s", al->lock_path);
	}
	return 0;
}

int alloc_named(void *arg, const char *jobid, struct sj_err *err)
{
	struct alloc *al = arg;

	if (strlen(jobid) >= sizeof(al->jobid))
		return sj_err_set(err, "job id %s too long", jobid);
	if (al->jobid != jobid)
		strcpy(al->jobid, jobid);
	return alloc_lock(al, err);
}

int alloc_use_own(struct alloc *al, const struct shim_args *a,
		  const char *jobid, const char *kernelspec,
		  struct sj_err *err)
{
	if (alloc_init(al, a, err))
		return -1;
	if (strlen(jobid) >= sizeof(al->jobid))
		return sj_err_set(err, "job id %s too long", jobid);
	strcpy(al->jobid, jobid);
	al->info.user_made = 1;
	snprintf(al->info.kernelspec, sizeof(al->info.kernelspec), "%s",
		 kernelspec);
	return alloc_lock(al, err);
}

static int job_running(const char *jobid, struct slurm_job_facts *f)
{
	return slurm_job_facts(jobid, f) == 0 &&
	       strcmp(f->state, "RUNNING") == 0;
}

/* Enough for any one user's kernels of one kernelspec. */
#define MAX_CANDIDATES 64

int alloc_find(struct alloc *al, int share, struct sj_err *err)
{
	char ids[MAX_CANDIDATES][32];
	int n = slurm_running_jobs_named(al->name, ids, MAX_CANDIDATES);

	/* Slurm unreachable: nothing to reuse; salloc will say why. */
	for (int i = 0; i < n; i++) {
		if (strlen(ids[i]) >= sizeof(al->jobid))
			continue;
		/* Unshared: only an allocation nobody uses (lingering),
		 * so only one that has a lock file: see alloc_lock(). */
		if (lock_file(al, ids[i], share, err)) {
			if (!share && errno == ENOENT)
				continue;
			return -1;
		}
		int r = share ? flock_retry(al->lock_fd, LOCK_SH) :
			flock(al->lock_fd, LOCK_EX | LOCK_NB);
		if (r == 0 && !share)
			r = flock_retry(al->lock_fd, LOCK_SH);
		/* Locked first, checked second: see alloc.h. */
		if (r == 0 && job_running(ids[i], &al->facts)) {
			strcpy(al->jobid, ids[i]);
			al->owned = 1;
			return 1;
		}
		unlock(al);
	}
	memset(&al->facts, 0, sizeof(al->facts));
	return 0;
}

void alloc_stamp_leave(const char *jobid, const char *lock_dir)
{
	char lock_path[512];
	struct sj_err err;
	int fd;

	if (alloc_lock_path(lock_dir, jobid, lock_path, sizeof(lock_path)))
		return;
	/* No O_CREAT: without a file the allocation has gone already, or
	 * its maker died before locking (its janitor handles that). */
	fd = open_lock(lock_path, 0, &err);
	if (fd < 0) {
		if (errno != ENOENT)
			shim_error("not stamping: %s", err.msg);
		return;
	}
	if (futimens(fd, NULL) != 0)
		shim_debug("cannot stamp %s: %s", lock_path, strerror(errno));
	close(fd);
}

/* Seconds since the last kernel left the allocation (the lock file's
 * mtime); a large number when that cannot be told. */
static double since_last_leave(int fd)
{
	struct stat st;
	struct timespec now;

	if (fstat(fd, &st) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return 1e9;
	return (double)(now.tv_sec - st.st_mtim.tv_sec) +
	       (double)(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
}

/* Slurm says the job has ended (not when it cannot say). */
static int job_ended(const char *jobid)
{
	char state[64], reason[128];

	return slurm_job_state(jobid, state, sizeof(state), reason,
			       sizeof(reason)) == 0 &&
	       strcmp(state, "RUNNING") != 0 && strcmp(state, "PENDING") != 0;
}

void alloc_release_if_unused(const char *jobid, const char *lock_dir,
			      unsigned linger)
{
	char lock_path[512];
	struct sj_err err;
	int fd, made = 0;

	if (alloc_lock_path(lock_dir, jobid, lock_path, sizeof(lock_path))) {
		shim_error("lock path too long; not releasing allocation %s",
			   jobid);
		return;
	}
	fd = open_lock(lock_path, 0, &err);
	if (fd < 0 && errno == ENOENT) {
		/* Released by someone else, or our shim died before it made
		 * the file; only Slurm tells which. */
		if (job_ended(jobid))
			return;
		/* No kernel ever stamped a file we make: no linger to wait. */
		made = 1;
		fd = open_lock(lock_path, O_CREAT, &err);
	}
	if (fd < 0) {
		shim_error("%s; not releasing allocation %s", err.msg, jobid);
		return;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		shim_debug("allocation %s is in use; keeping it", jobid);
		close(fd);
		return;
	}
	/* A kernel left after ours: its janitor counts the linger from
	 * then.  The slack absorbs the file system's coarse clock. */
	double idle = since_last_leave(fd);
	if (!made && idle + 0.25 < (double)linger) {
		shim_debug("allocation %s was left %.1f s ago; its last "
			   "kernel's janitor releases it", jobid, idle);
		close(fd);
		return;
	}
	if (job_ended(jobid)) {
		/* Another janitor released it, or Slurm ended it. */
		unlink(lock_path);
		close(fd);
		return;
	}
	if (slurm_cancel(jobid) == 0) {
		shim_debug("released allocation %s", jobid);
		/* Only now: a shim that opened the old file sees the job
		 * gone when it checks. */
		unlink(lock_path);
	} else {
		shim_error("could not cancel allocation %s (slurmctld "
			   "unreachable?); cancel it with: scancel %s",
			   jobid, jobid);
	}
	close(fd);
}
