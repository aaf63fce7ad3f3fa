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

/* Creates (or accepts an existing) directory owned by root with the given
 * mode; refuses a symlink, a directory owned by someone else, or an existing
 * one writable by group or others beyond what mode allows (an existing one
 * keeps its mode otherwise: the admin may have chosen it). */
int sj_mkdir_root(const char *path, mode_t mode, struct sj_err *err);

/* Creates a fresh directory (must not exist) owned by uid:gid, mode 0700.
 * Meant for root (task_init_privileged); on failure the directory is
 * removed again. */
int sj_mkdir_private(const char *path, uid_t uid, gid_t gid,
		     struct sj_err *err);

/* Removes path and everything below it without following symlinks.  A
 * missing path is success. */
int sj_rmtree(const char *path, struct sj_err *err);

/* Fills out with 2*nbytes lowercase hex digits and a NUL (getrandom). */
int sj_random_hex(char *out, size_t nbytes, struct sj_err *err);

#endif
