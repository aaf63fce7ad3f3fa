#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernelstep.h"
#include "log.h"
#include "slurm.h"

/* A directory only we can use: ours, 0700, not a symlink. */
static int private_dir(const char *path, struct sj_err *err)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return sj_err_errno(err, errno, "mkdir %s", path);
	if (lstat(path, &st) != 0)
		return sj_err_errno(err, errno, "%s", path);
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0)
		return sj_err_set(err, "%s must be a directory of yours with "
				  "mode 0700", path);
	return 0;
}

int alloc_init(struct alloc *al, const struct shim_args *a,
	       struct sj_err *err)
{
	char dir[400];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	memset(al, 0, sizeof(*al));
	al->lock_fd = -1;
	sj_alloc_job_name((const char *const *)a->slurm_argv, (size_t)a->slurm_argc, al->name,
			  sizeof(al->name));
	if (xdg != NULL && xdg[0] == '/' && strlen(xdg) < 300)
		snprintf(dir, sizeof(dir), "%s/slurm-jupyter", xdg);
	else
		snprintf(dir, sizeof(dir), "/tmp/slurm-jupyter-%u",
			 (unsigned)getuid());
	if (private_dir(dir, err))
		return -1;
	snprintf(al->lock_dir, sizeof(al->lock_dir), "%s", dir);
	return 0;
}

int alloc_lock_path(const char *lock_dir, const char *jobid, char *buf,
		    size_t len)
{
	int n = snprintf(buf, len, "%s/%s.lock", lock_dir, jobid);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int lock_file(struct alloc *al, const char *jobid, int create,
		     struct sj_err *err)
{
	if (alloc_lock_path(al->lock_dir, jobid, al->lock_path,
			    sizeof(al->lock_path)))
		return sj_err_set(err, "lock path too long");
	al->lock_fd = open(al->lock_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
			   (create ? O_CREAT : 0), 0600);
	if (al->lock_fd < 0) {
		int e = errno;

		sj_err_errno(err, e, "%s", al->lock_path);
		errno = e;	/* alloc_find tells ENOENT apart */
		return -1;
	}
	return 0;
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

	if (alloc_lock_path(al->lock_dir, al->jobid, al->lock_path,
			    sizeof(al->lock_path)))
		return sj_err_set(err, "lock path too long");
	n = snprintf(tmp, sizeof(tmp), "%s.new-%ld", al->lock_path,
		     (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sj_err_set(err, "lock path too long");
	unlink(tmp);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return sj_err_errno(err, errno, "%s", tmp);
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
	int fd;

	if (alloc_lock_path(lock_dir, jobid, lock_path, sizeof(lock_path)))
		return;
	/* No O_CREAT: without a file the allocation has gone already, or
	 * its maker died before locking (its janitor handles that). */
	fd = open(lock_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
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

void alloc_release_if_unused(const char *jobid, const char *lock_dir,
			      unsigned linger)
{
	char lock_path[512];
	int fd;

	if (alloc_lock_path(lock_dir, jobid, lock_path, sizeof(lock_path))) {
		shim_error("lock path too long; not releasing allocation %s",
			   jobid);
		return;
	}
	/* O_CREAT: the shim may have died before it took its lock. */
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		shim_error("cannot open %s: %s; not releasing allocation %s",
			   lock_path, strerror(errno), jobid);
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
	if (idle + 0.25 < (double)linger) {
		shim_debug("allocation %s was left %.1f s ago; its last "
			   "kernel's janitor releases it", jobid, idle);
		close(fd);
		return;
	}
	char state[64], reason[128];
	if (slurm_job_state(jobid, state, sizeof(state), reason,
			    sizeof(reason)) == 0 &&
	    strcmp(state, "RUNNING") != 0 && strcmp(state, "PENDING") != 0) {
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
