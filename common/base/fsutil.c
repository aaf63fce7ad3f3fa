// SPDX-License-Identifier: GPL-2.0-or-later
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

/* The removals hold one descriptor per level; a user who builds a deeper
 * tree in the step directory gets an error (and a leftover directory)
 * rather than a root process that runs out of descriptors. */
#define RMTREE_MAX_DEPTH 128

int sj_read_file(const char *path, size_t max, char **buf, size_t *len,
		 struct sj_err *err)
{
	struct stat st;
	char *data = NULL;
	size_t cap = 0, used = 0;
	int fd, rv = -1;

	*buf = NULL;
	if (len != NULL)
		*len = 0;
	if (max >= SIZE_MAX - 1)
		return sj_err_set(err, "%s: read limit too large", path);
	/* O_NONBLOCK: opening a FIFO must not hang before fstat rejects it. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			return sj_err_set(err, "%s is a symbolic link, refused",
					  path);
		return sj_err_errno(err, errno, "cannot open %s", path);
	}
	if (fstat(fd, &st) != 0) {
		sj_err_errno(err, errno, "cannot stat %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		sj_err_set(err, "%s is not a regular file", path);
		goto fail;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
		sj_err_set(err, "%s is too large (%jd bytes, limit %zu)", path,
			   (intmax_t)st.st_size, max);
		goto fail;
	}
	/* The size is a hint only: the file may change while we read it, so
	 * the limit is enforced on what is actually read. */
	cap = (size_t)st.st_size + 1;
	data = malloc(cap + 1);
	if (data == NULL) {
		sj_err_errno(err, errno, "reading %s", path);
		goto fail;
	}
	for (;;) {
		ssize_t n;

		if (used == cap) {
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *p;

			if (ncap <= cap) {
				sj_err_set(err, "%s is too large (limit %zu "
					   "bytes)", path, max);
				goto fail;
			}
			p = realloc(data, ncap + 1);
			if (p == NULL) {
				sj_err_errno(err, errno, "reading %s", path);
				goto fail;
			}
			data = p;
			cap = ncap;
		}
		n = read(fd, data + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sj_err_errno(err, errno, "cannot read %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		sj_err_set(err, "%s is too large (limit %zu bytes)", path, max);
		goto fail;
	}
	data[used] = '\0';
	*buf = data;
	data = NULL;
	if (len != NULL)
		*len = used;
	rv = 0;
fail:
	if (data != NULL) {
		explicit_bzero(data, cap);
		free(data);
	}
	close(fd);
	return rv;
}

int sj_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sj_write_file_atomic(const char *path, const void *data, size_t len,
			 struct sj_err *err)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash == NULL ? 0 : (size_t)(slash - path) + 1;
	const char *base = path + dirlen;
	char tmp[PATH_MAX];
	int fd = -1, n, rv = -1;

	if (*base == '\0')
		return sj_err_set(err, "%s: not a file name", path);
	/* A dot file in the same directory, so rename(2) stays on one file
	 * system and a crash leaves nothing a reader would take for real. */
	n = snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)dirlen, path,
		     base);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sj_err_set(err, "%s: path too long", path);
	/* mkostemp: O_CREAT|O_EXCL, mode 0600. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return sj_err_errno(err, errno, "cannot create a temporary "
				    "file for %s", path);
	if (fchmod(fd, 0600) != 0) {
		sj_err_errno(err, errno, "chmod %s", tmp);
		goto fail;
	}
	if (sj_write_all(fd, data, len) != 0) {
		sj_err_errno(err, errno, "cannot write %s", tmp);
		goto fail;
	}
	if (fsync(fd) != 0) {
		sj_err_errno(err, errno, "fsync %s", tmp);
		goto fail;
	}
	n = close(fd);
	fd = -1;
	if (n != 0) {
		sj_err_errno(err, errno, "cannot write %s", tmp);
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		sj_err_errno(err, errno, "cannot rename %s to %s", tmp, path);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rv;
}

/* Opens path as a directory without following a final symlink; if
 * missing_ok, a missing one is success with *fd = -1. */
static int open_dir_nofollow(const char *path, int missing_ok, int *fd,
			     struct sj_err *err)
{
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd >= 0 || (errno == ENOENT && missing_ok))
		return 0;
	if (errno == ELOOP || errno == ENOTDIR)
		return sj_err_set(err, "%s is not a directory (or is a symbolic "
				  "link), refused", path);
	return sj_err_errno(err, errno, "cannot open directory %s", path);
}

/* Checks the directory open at fd (path names it): owned by owner, and
 * writable by group or others no more than mode allows. */
static int check_dir(int fd, const char *path, uid_t owner, mode_t mode,
		     struct sj_err *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return sj_err_errno(err, errno, "cannot stat %s", path);
	if (st.st_uid != owner && owner == 0)
		return sj_err_set(err, "directory %s is owned by uid %ju, not "
				  "root, refused", path, (uintmax_t)st.st_uid);
	if (st.st_uid != owner)
		return sj_err_set(err, "directory %s is owned by uid %ju, not "
				  "uid %ju, refused", path,
				  (uintmax_t)st.st_uid, (uintmax_t)owner);
	/* Others could replace the per-step directories in it. */
	if (st.st_mode & ~mode & (S_IWGRP | S_IWOTH))
		return sj_err_set(err, "directory %s is writable by group or "
				  "others (mode %04o), refused", path,
				  (unsigned)(st.st_mode & 07777));
	return 0;
}

int sj_open_owned_dir(const char *path, uid_t owner, int *fd,
		      struct sj_err *err)
{
	if (open_dir_nofollow(path, 1, fd, err) != 0)
		return -1;
	if (*fd < 0)
		return 0;
	if (check_dir(*fd, path, owner, 0755, err) != 0) {
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

int sj_mkdir_root(const char *path, mode_t mode, int *dirfd,
		  struct sj_err *err)
{
	int created = 1, fd;

	if (dirfd != NULL)
		*dirfd = -1;
	if (mkdir(path, mode) != 0) {
		if (errno != EEXIST)
			return sj_err_errno(err, errno, "cannot create "
					    "directory %s", path);
		created = 0;
	}
	if (open_dir_nofollow(path, 0, &fd, err) != 0)
		return -1;
	/* mkdir(2) applied the umask; check_dir tells if it was not ours. */
	if (created && fchmod(fd, mode) != 0) {
		sj_err_errno(err, errno, "chmod %s", path);
		goto fail;
	}
	if (check_dir(fd, path, 0, mode, err) != 0)
		goto fail;
	if (dirfd != NULL)
		*dirfd = fd;
	else
		close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

int sj_mkdir_private_at(int dfd, const char *name, uid_t uid, gid_t gid,
			struct sj_file_id *id, struct sj_err *err)
{
	struct stat st, lst;
	int fd;

	if (mkdirat(dfd, name, 0700) != 0) {
		if (errno == EEXIST)
			return sj_err_set(err, "%s already exists", name);
		return sj_err_errno(err, errno, "cannot create directory %s",
				    name);
	}
	/* Work on the descriptor, so that what gets chowned is what we
	 * made even if the name were replaced in between. */
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0) {
		sj_err_errno(err, errno, "cannot open directory %s", name);
		goto fail;
	}
	if (fchown(fd, uid, gid) != 0) {
		sj_err_errno(err, errno, "cannot chown %s to %ju:%ju", name,
			     (uintmax_t)uid, (uintmax_t)gid);
		goto fail;
	}
	if (fchmod(fd, 0700) != 0) {
		sj_err_errno(err, errno, "chmod %s", name);
		goto fail;
	}
	if (fstat(fd, &st) != 0 ||
	    fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
		sj_err_errno(err, errno, "cannot stat %s", name);
		goto fail;
	}
	if (!S_ISDIR(lst.st_mode) || lst.st_dev != st.st_dev ||
	    lst.st_ino != st.st_ino || st.st_uid != uid || st.st_gid != gid ||
	    (st.st_mode & 07777) != 0700) {
		sj_err_set(err, "%s changed while it was being created", name);
		goto fail;
	}
	close(fd);
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	/* Best effort: the first error is the one worth reporting.  Only
	 * ever an (empty) directory: AT_REMOVEDIR removes nothing else. */
	(void)unlinkat(dfd, name, AT_REMOVEDIR);
	return -1;
}

/* Which directories a removal may enter: those of the tree's owner, on
 * the tree's file system. */
struct tree_bounds {
	uid_t owner;
	dev_t dev;
};

/* Empties the directory open at dfd (which it closes) and everything
 * below; `path` names it in messages. */
static int empty_dir(int dfd, const char *path, const struct tree_bounds *b,
		     int depth, struct sj_err *err)
{
	struct dirent *de;
	DIR *d;
	int rv = -1;

	if (depth > RMTREE_MAX_DEPTH) {
		close(dfd);
		return sj_err_set(err, "cannot remove %s: nested deeper than "
				  "%d levels", path, RMTREE_MAX_DEPTH);
	}
	d = fdopendir(dfd);
	if (d == NULL) {
		sj_err_errno(err, errno, "cannot read directory %s", path);
		close(dfd);
		return -1;
	}
	for (;;) {
		const char *name;
		struct stat st;
		char *sub;
		int cfd;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				sj_err_errno(err, errno, "cannot read "
					     "directory %s", path);
				goto out;
			}
			break;
		}
		name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			sj_err_errno(err, errno, "cannot stat %s/%s", path,
				     name);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			/* A symlink goes as a name, its target stays. */
			if (unlinkat(dirfd(d), name, 0) != 0 &&
			    errno != ENOENT) {
				sj_err_errno(err, errno, "cannot remove %s/%s",
					     path, name);
				goto out;
			}
			continue;
		}
		/* O_NOFOLLOW: if the entry was swapped for a symlink since
		 * fstatat, this fails instead of following it. */
		cfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY |
			     O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			sj_err_errno(err, errno, "cannot open %s/%s", path,
				     name);
			goto out;
		}
		if (fstat(cfd, &st) != 0) {
			sj_err_errno(err, errno, "cannot stat %s/%s", path,
				     name);
			close(cfd);
			goto out;
		}
		/* Someone else's directory, moved or mounted into the tree,
		 * is not the owner's to empty, so not ours either. */
		if (st.st_uid != b->owner || st.st_dev != b->dev) {
			sj_err_set(err, "cannot remove %s/%s: a directory of "
				   "uid %ju%s, not of the tree's owner (uid "
				   "%ju), refused", path, name,
				   (uintmax_t)st.st_uid,
				   st.st_dev != b->dev ?
				   " on another file system" : "",
				   (uintmax_t)b->owner);
			close(cfd);
			goto out;
		}
		if (asprintf(&sub, "%s/%s", path, name) < 0) {
			close(cfd);
			sj_err_set(err, "cannot remove %s: out of memory",
				   path);
			goto out;
		}
		if (empty_dir(cfd, sub, b, depth + 1, err) != 0) {
			free(sub);
			goto out;
		}
		if (unlinkat(dirfd(d), name, AT_REMOVEDIR) != 0 &&
		    errno != ENOENT) {
			sj_err_errno(err, errno, "cannot remove %s", sub);
			free(sub);
			goto out;
		}
		free(sub);
	}
	rv = 0;
out:
	closedir(d);
	return rv;
}

/* Empties the directory open at fd (closing it); its owner and file
 * system bound what gets entered. */
static int empty_open_dir(int fd, const char *path, struct sj_err *err)
{
	struct tree_bounds b;
	struct stat st;

	if (fstat(fd, &st) != 0) {
		sj_err_errno(err, errno, "cannot stat %s", path);
		close(fd);
		return -1;
	}
	b.owner = st.st_uid;
	b.dev = st.st_dev;
	return empty_dir(fd, path, &b, 0, err);
}

int sj_rmtree(const char *path, struct sj_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != ELOOP && errno != ENOTDIR)
			return sj_err_errno(err, errno, "cannot open %s", path);
		/* A symlink or a file: remove the name itself. */
		if (unlink(path) != 0 && errno != ENOENT)
			return sj_err_errno(err, errno, "cannot remove %s",
					    path);
		return 0;
	}
	if (empty_open_dir(fd, path, err) != 0)
		return -1;
	if (rmdir(path) != 0 && errno != ENOENT)
		return sj_err_errno(err, errno, "cannot remove %s", path);
	return 0;
}

int sj_rmtree_at(int dfd, const char *name, const struct sj_file_id *expect,
		 struct sj_err *err)
{
	struct stat st;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return sj_err_errno(err, errno, "cannot stat %s", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (expect != NULL)
			return sj_err_set(err, "%s is not a directory (or is a "
					  "symbolic link), not removed", name);
		if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT)
			return sj_err_errno(err, errno, "cannot remove %s",
					    name);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return sj_err_errno(err, errno, "cannot open %s", name);
	if (expect != NULL) {
		if (fstat(fd, &st) != 0) {
			sj_err_errno(err, errno, "cannot stat %s", name);
			close(fd);
			return -1;
		}
		if (st.st_dev != expect->dev || st.st_ino != expect->ino) {
			close(fd);
			return sj_err_set(err, "%s is not the directory that "
					  "was made (another inode), not "
					  "removed", name);
		}
	}
	if (empty_open_dir(fd, name, err) != 0)
		return -1;
	if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		return sj_err_errno(err, errno, "cannot remove %s", name);
	return 0;
}

int sj_random_hex(char *out, size_t nbytes, struct sj_err *err)
{
	unsigned char buf[64];
	size_t done, want;

	if (sodium_init() < 0)
		return sj_err_set(err, "libsodium failed to initialise");
	for (done = 0; done < nbytes; done += want) {
		want = nbytes - done < sizeof(buf) ? nbytes - done : sizeof(buf);
		randombytes_buf(buf, want);
		sodium_bin2hex(out + 2 * done, 2 * want + 1, buf, want);
	}
	out[2 * nbytes] = '\0';
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int sj_is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

int sj_path_search(const char *name, const char *path, int absolute_only,
		   char *out, size_t len)
{
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (;;) {
		size_t n = strcspn(path, ":");
		int w = -1;

		if (!absolute_only || path[0] == '/')
			w = n == 0 ? snprintf(out, len, "./%s", name) :
				snprintf(out, len, "%.*s/%s", (int)n, path,
					 name);
		if (w >= 0 && (size_t)w < len && sj_is_executable(out))
			return 0;
		if (path[n] == '\0')
			break;
		path += n + 1;
	}
	if (len > 0)
		out[0] = '\0';
	return -1;
}
