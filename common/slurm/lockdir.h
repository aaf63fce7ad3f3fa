// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lockdir.h - where a user's allocation lock files live on a login node.
 *
 * Every shim of one user on one login node, and their janitors, must agree
 * on the directory (see shim/alloc.h), and no other user may be able to
 * create, replace or fill it: a directory another user made first would
 * stop every kernel of ours from starting.  The first that qualifies:
 *
 *   1. $XDG_RUNTIME_DIR/slurm-jupyter, if XDG_RUNTIME_DIR is an absolute
 *      path to a safe directory of ours (below);
 *   2. /run/user/UID/slurm-jupyter, if /run/user/UID is one;
 *   3. $XDG_CACHE_HOME/slurm-jupyter/HOST (else $HOME/.cache/...), HOST
 *      the short host name since locks are per login node; missing
 *      directories are made 0700, and anything on the way that another
 *      user could change is refused with a message naming it.
 *
 * A safe directory of ours: after symlinks are resolved, it is ours and
 * writable by nobody else, and every directory above it belongs to root
 * or to us and is writable by nobody else unless it is sticky (/tmp),
 * where nobody else can rename or remove what is ours.  Candidates 1 and 2
 * that are not safe are passed over; the directories made inside the
 * chosen one must be safe too, or the choice fails: falling through there
 * would let two shims pick different directories.
 */
#ifndef SJ_LOCKDIR_H
#define SJ_LOCKDIR_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "sj_err.h"

struct sj_lockdir_env {
	const char *xdg_runtime_dir;	/* NULL or "" when unset */
	const char *xdg_cache_home;	/* NULL or "" when unset */
	const char *home;		/* NULL or "" when unset */
	const char *run_user;		/* "/run/user" */
	const char *host;		/* short host name */
	uid_t uid;
};

/* How the choice sees the file system: lstat(2), mkdir(2) and realpath(3)
 * for real (sj_lockdir_real_fs); tests substitute what they cannot make. */
struct sj_lockdir_fs {
	int (*lstat)(const char *path, struct stat *st, void *arg);
	int (*mkdir)(const char *path, mode_t mode, void *arg);
	/* resolved has PATH_MAX bytes; returns it, or NULL with errno. */
	char *(*realpath)(const char *path, char *resolved, void *arg);
	void *arg;
};

extern const struct sj_lockdir_fs sj_lockdir_real_fs;

/* Chooses (and makes, where needed) the lock directory; writes its path
 * to out (len bytes).  Fails with a message naming the path at fault. */
int sj_lockdir_choose(const struct sj_lockdir_env *env,
		      const struct sj_lockdir_fs *fs, char *out, size_t len,
		      struct sj_err *err);

/* The host name up to its first '.', for a path component. */
int sj_short_hostname(char *buf, size_t len, struct sj_err *err);

/* sj_lockdir_choose for this process: its uid, its environment
 * (XDG_RUNTIME_DIR, XDG_CACHE_HOME, HOME), /run/user and this host, the
 * real file system.  The shim and `jupyter slurm ps` find the same
 * directory only through this. */
int sj_lockdir_mine(char *out, size_t len, struct sj_err *err);

/*
 * What a lock file <jobid>.lock says about its allocation, for `jupyter
 * slurm ps` and `cancel`: written by the shim that made the file, before
 * the file appears (shim/alloc.c), as "made-by=shim|user" and
 * "kernelspec=NAME" lines.  An empty file (an older shim's, or one a
 * --share kernel opened first) reads as made by a shim with no kernelspec
 * known: only shims made lock files before the user's own allocations had
 * them.  Who uses the allocation is not in the file but in its flocks.
 */
struct sj_lockinfo {
	int user_made;		/* the user's own (--jobid, salloc
				 * --jupyter-kernel): no shim releases it */
	char kernelspec[128];	/* of the kernel that made the file; "" */
};

/* The record for buf (len bytes, NUL included); its length, or -1 if it
 * does not fit.  A kernelspec name that is not one (control characters,
 * too long) is left out rather than written. */
int sj_lockinfo_format(const struct sj_lockinfo *li, char *buf, size_t len);

/* Reads the first len bytes of text; what it does not know it ignores. */
void sj_lockinfo_parse(const char *text, size_t len, struct sj_lockinfo *li);

/* 1 with jobid set (len bytes) if name is a lock file's, "<digits>.lock";
 * 0 for anything else the directory holds. */
int sj_lockfile_jobid(const char *name, char *jobid, size_t len);

#endif
