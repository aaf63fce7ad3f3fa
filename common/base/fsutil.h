// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fsutil.h - careful file handling for secrets and per-step directories.
 */
#ifndef SJ_FSUTIL_H
#define SJ_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "sj_err.h"

/* Reads a whole regular file (not following a final symlink) of at most
 * max bytes into a malloc'd NUL-terminated buffer. */
int sj_read_file(const char *path, size_t max, char **buf, size_t *len,
		 struct sj_err *err);

/* write(2) until all of data is written, through EINTR and short writes. */
int sj_write_all(int fd, const void *data, size_t len);

/* Writes data to path with mode 0600 via a temp file in the same directory
 * and rename(2), so readers never see a partial file. */
int sj_write_file_atomic(const char *path, const void *data, size_t len,
			 struct sj_err *err);

/* Opens the directory path (O_DIRECTORY|O_NOFOLLOW: a final symlink is
 * refused) into *fd and checks that it is owned by owner and not writable
 * by group or others, so that nobody else can put or swap names in it.
 * Everything root does below it goes through *fd, never through the path
 * again.  A missing directory is success with *fd = -1. */
int sj_open_owned_dir(const char *path, uid_t owner, int *fd,
		      struct sj_err *err);

/* Creates (or accepts an existing) directory owned by root with the given
 * mode; refuses a symlink, a directory owned by someone else, or an existing
 * one writable by group or others beyond what mode allows (an existing one
 * keeps its mode otherwise: the admin may have chosen it).  If fd is not
 * NULL, the checked directory stays open there for *at() calls. */
int sj_mkdir_root(const char *path, mode_t mode, int *fd, struct sj_err *err);

/* Which file a name was when we made it or looked at it. */
struct sj_file_id {
	dev_t dev;
	ino_t ino;
};

/* Creates a fresh directory name (must not exist) in the directory open at
 * dfd, owned by uid:gid, mode 0700, and tells which one it is in *id.
 * Meant for root (task_init_privileged); on failure the directory is
 * removed again.  Messages name it by name only. */
int sj_mkdir_private_at(int dfd, const char *name, uid_t uid, gid_t gid,
			struct sj_file_id *id, struct sj_err *err);

/* Removes path and everything below it without following symlinks.  A
 * missing path is success.  Meant for a user's own files: the path is
 * resolved as given (root uses sj_rmtree_at). */
int sj_rmtree(const char *path, struct sj_err *err);

/* Removes name in the directory open at dfd and everything below it,
 * relative to descriptors only: no symlink is ever followed (one in the
 * tree or in name's place is removed as a name, or refused, see below), no
 * mount point crossed, and no directory entered that is not owned by
 * name's owner (root removes only what that owner could remove).  With
 * expect NULL, name may be anything (a file or symlink is unlinked); with
 * expect, name must be that very directory, else nothing is removed and it
 * is an error.  A missing name is success.  Messages name it by name. */
int sj_rmtree_at(int dfd, const char *name, const struct sj_file_id *expect,
		 struct sj_err *err);

/* Fills out with 2*nbytes lowercase hex digits and a NUL (libsodium's
 * randombytes_buf, which does not fail). */
int sj_random_hex(char *out, size_t nbytes, struct sj_err *err);

/* 1 when path is a regular file we may execute. */
int sj_is_executable(const char *path);

/* The one PATH search: the first dir/name of path (NULL: execvp's default,
 * "/bin:/usr/bin") that sj_is_executable, into out.  An empty or relative
 * entry counts as execvp counts it (from the current directory), unless
 * absolute_only: then it is skipped, for a path that must mean the same
 * to another process.  -1 if none (out ""), a candidate too long for out
 * being none. */
int sj_path_search(const char *name, const char *path, int absolute_only,
		   char *out, size_t len);

#endif
