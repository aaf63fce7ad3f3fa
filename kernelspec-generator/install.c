// SPDX-License-Identifier: GPL-2.0-or-later
#include "install.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "logger.h"

/* A new file, 0644 whatever the umask, flushed to disk. */
static int write_new(const char *path, const char *data, size_t len,
		     struct sj_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		      O_NOFOLLOW, 0644);

	if (fd < 0)
		return sj_err_errno(err, errno, "cannot create %s", path);
	if (fchmod(fd, 0644) != 0 || sj_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		sj_err_errno(err, errno, "cannot write %s", path);
		close(fd);
		return -1;
	}
	if (close(fd) != 0)
		return sj_err_errno(err, errno, "cannot write %s", path);
	return 0;
}

static int fsync_dir(const char *path, struct sj_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rv = 0;

	if (fd < 0)
		return sj_err_errno(err, errno, "cannot open %s", path);
	/* Some file systems cannot sync a directory: nothing to be done. */
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		rv = sj_err_errno(err, errno, "cannot sync %s", path);
	close(fd);
	return rv;
}

/* mkdir -p: what it creates is the user's, so the umask applies. */
static int mkdir_p(const char *path, struct sj_err *err)
{
	char buf[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return sj_err_set(err, "%.100s...: path too long", path);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return sj_err_errno(err, errno, "cannot create %s",
					    buf);
		if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
			return sj_err_set(err, "%s is not a directory", buf);
		*p = c;
		if (c == '\0')
			return 0;
	}
}

static int copy_file(const char *src, const char *dst, struct sj_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rv;

	/* Resource files are logos and small scripts. */
	if (sj_read_file(src, 64 * 1024 * 1024, &data, &len, err))
		return -1;
	rv = write_new(dst, data, len, err);
	free(data);
	return rv;
}

/* Follows symlinks: conda and distributions link logos. */
static int copy_resources(const char *src, const char *dst,
			  struct sj_err *err)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int rv = -1;

	if (d == NULL)
		return sj_err_errno(err, errno, "cannot read %s", src);
	for (;;) {
		char from[PATH_MAX], real[PATH_MAX], to[PATH_MAX];
		struct stat st;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				sj_err_errno(err, errno, "cannot read %s", src);
				goto out;
			}
			break;
		}
		if (de->d_name[0] == '.' ||
		    strcmp(de->d_name, "kernel.json") == 0)
			continue;
		if ((size_t)snprintf(from, sizeof(from), "%s/%s", src,
				     de->d_name) >= sizeof(from) ||
		    (size_t)snprintf(to, sizeof(to), "%s/%s", dst,
				     de->d_name) >= sizeof(to)) {
			sj_err_set(err, "%s/%.60s: path too long", src,
				   de->d_name);
			goto out;
		}
		if (stat(from, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		/* sj_read_file refuses a final symlink: read its target. */
		if (realpath(from, real) == NULL) {
			sj_err_errno(err, errno, "cannot resolve %s", from);
			goto out;
		}
		if (copy_file(real, to, err))
			goto out;
	}
	rv = 0;
out:
	closedir(d);
	return rv;
}

/* ".../kernels" -> "..." (the Jupyter data directory) into out. */
static int parent_of(const char *dir, char *out, size_t len,
		     struct sj_err *err)
{
	const char *slash = strrchr(dir, '/');

	if (slash == NULL || slash == dir)
		return sj_err_set(err, "%s: no parent directory", dir);
	if ((size_t)snprintf(out, len, "%.*s", (int)(slash - dir), dir) >=
	    len)
		return sj_err_set(err, "%.100s...: path too long", dir);
	return 0;
}

/* A fresh name in dir for something on its way out. */
static int graveyard(const char *dir, const char *what, char *out,
		     size_t len, struct sj_err *err)
{
	char hex[17];

	if (sj_random_hex(hex, 8, err))
		return -1;
	if ((size_t)snprintf(out, len, "%s/.jupyter-slurm-%s.%s", dir, what,
			     hex) >= len)
		return sj_err_set(err, "%.100s...: path too long", dir);
	return 0;
}

/* Without RENAME_EXCHANGE: the old one goes aside first, so there is a
 * moment without the kernelspec, but never a half-written one. */
static int replace_by_steps(const char *tmp, const char *final,
			    const char *parent, struct sj_err *err)
{
	char old[PATH_MAX];
	struct sj_err e;

	if (graveyard(parent, "old", old, sizeof(old), err))
		return -1;
	if (rename(final, old) != 0)
		return sj_err_errno(err, errno, "cannot move %s aside", final);
	if (rename(tmp, final) != 0) {
		sj_err_errno(err, errno, "cannot rename %s to %s", tmp, final);
		/* Put the old one back; the first error is the one to tell. */
		(void)rename(old, final);
		return -1;
	}
	if (sj_rmtree(old, &e))
		sj_warning("%s", e.msg);
	return 0;
}

static int put_in_place(const char *tmp, const char *final,
			const char *parent, int replace, struct sj_err *err)
{
	struct sj_err e;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST && !replace)
		return sj_err_set(err, "%s already exists; --force replaces "
				  "it", final);
	if (errno == EEXIST) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final,
			      RENAME_EXCHANGE) == 0) {
			/* tmp now holds the old one. */
			if (sj_rmtree(tmp, &e))
				sj_warning("%s", e.msg);
			return 0;
		}
		if (errno != EINVAL)
			return sj_err_errno(err, errno, "cannot replace %s",
					    final);
		return replace_by_steps(tmp, final, parent, err);
	}
	if (errno != EINVAL)
		return sj_err_errno(err, errno, "cannot rename %s to %s", tmp,
				    final);
	/* A file system without renameat2 flags. */
	if (access(final, F_OK) == 0) {
		if (!replace)
			return sj_err_set(err, "%s already exists; --force "
					  "replaces it", final);
		return replace_by_steps(tmp, final, parent, err);
	}
	if (rename(tmp, final) != 0)
		return sj_err_errno(err, errno, "cannot rename %s to %s", tmp,
				    final);
	return 0;
}

int gen_install(const char *kernels_dir, const char *name,
		const char *resources, const char *json_text, int replace,
		struct sj_err *err)
{
	char parent[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX], final[PATH_MAX];
	struct sj_err e;
	int made = 0;

	if (mkdir_p(kernels_dir, err) ||
	    parent_of(kernels_dir, parent, sizeof(parent), err))
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.jupyter-slurm-new.XXXXXX",
			     parent) >= sizeof(tmp) ||
	    (size_t)snprintf(final, sizeof(final), "%s/%s", kernels_dir,
			     name) >= sizeof(final))
		return sj_err_set(err, "%.100s...: path too long", kernels_dir);
	if (mkdtemp(tmp) == NULL)
		return sj_err_errno(err, errno, "cannot create a directory in "
				    "%s", parent);
	made = 1;
	/* The same length as before mkdtemp filled in the X's. */
	if ((size_t)snprintf(path, sizeof(path), "%s/kernel.json", tmp) >=
	    sizeof(path)) {
		sj_err_set(err, "%.100s...: path too long", tmp);
		goto fail;
	}
	if (chmod(tmp, 0755) != 0) {
		sj_err_errno(err, errno, "chmod %s", tmp);
		goto fail;
	}
	if (copy_resources(resources, tmp, err) ||
	    write_new(path, json_text, strlen(json_text), err) ||
	    fsync_dir(tmp, err) ||
	    put_in_place(tmp, final, parent, replace, err))
		goto fail;
	made = 0;
	if (fsync_dir(kernels_dir, err))
		return -1;
	return 0;
fail:
	if (made && sj_rmtree(tmp, &e))
		sj_warning("%s", e.msg);
	return -1;
}

int gen_uninstall(const char *dir, struct sj_err *err)
{
	char kernels[PATH_MAX], parent[PATH_MAX], gone[PATH_MAX];

	if (parent_of(dir, kernels, sizeof(kernels), err) ||
	    parent_of(kernels, parent, sizeof(parent), err) ||
	    graveyard(parent, "removed", gone, sizeof(gone), err))
		return -1;
	if (rename(dir, gone) != 0)
		return sj_err_errno(err, errno, "cannot remove %s", dir);
	if (sj_rmtree(gone, err))
		return sj_err_wrap(err, "%s is no longer a kernelspec, but "
				   "left behind", gone);
	return fsync_dir(kernels, err);
}
