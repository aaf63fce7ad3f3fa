// SPDX-License-Identifier: GPL-2.0-or-later
#include "lockdir.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int real_lstat(const char *path, struct stat *st, void *arg)
{
	(void)arg;
	return lstat(path, st);
}

static int real_mkdir(const char *path, mode_t mode, void *arg)
{
	(void)arg;
	return mkdir(path, mode);
}

static char *real_realpath(const char *path, char *resolved, void *arg)
{
	(void)arg;
	return realpath(path, resolved);
}

const struct sj_lockdir_fs sj_lockdir_real_fs = {
	.lstat = real_lstat,
	.mkdir = real_mkdir,
	.realpath = real_realpath,
	.arg = NULL,
};

#define WHAT_TO_DO "; set XDG_RUNTIME_DIR or XDG_CACHE_HOME to a directory " \
	"of yours that only you can write"

static int is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int get_dir(const struct sj_lockdir_fs *fs, const char *path,
		   struct stat *st, struct sj_err *err)
{
	if (fs->lstat(path, st, fs->arg) != 0)
		return sj_err_errno(err, errno, "%s", path);
	if (S_ISLNK(st->st_mode))
		return sj_err_set(err, "%s is a symbolic link", path);
	if (!S_ISDIR(st->st_mode))
		return sj_err_set(err, "%s is not a directory", path);
	return 0;
}

/* The error for path, a directory others can write to (mode). */
static int writable_by_others(const char *path, mode_t mode,
			      struct sj_err *err)
{
	return sj_err_set(err, "%s is writable by others (mode %04o)"
			  WHAT_TO_DO, path, (unsigned)(mode & 07777));
}

/* A directory we keep things in: ours, and nobody else may write it. */
static int own_dir(const struct sj_lockdir_env *env,
		   const struct sj_lockdir_fs *fs, const char *path,
		   struct sj_err *err)
{
	struct stat st;

	if (get_dir(fs, path, &st, err))
		return -1;
	if (st.st_uid != env->uid)
		return sj_err_set(err, "%s belongs to uid %ju, not to you "
				  "(uid %ju)" WHAT_TO_DO, path,
				  (uintmax_t)st.st_uid, (uintmax_t)env->uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return writable_by_others(path, st.st_mode, err);
	return 0;
}

/*
 * A directory on the way to ours: nobody but root and us can replace what
 * is in it.  Sticky and world-writable (/tmp) is fine: there nobody else
 * can rename or remove an entry of ours.
 */
static int safe_parent(const struct sj_lockdir_env *env,
		       const struct sj_lockdir_fs *fs, const char *path,
		       struct sj_err *err)
{
	struct stat st;

	if (get_dir(fs, path, &st, err))
		return -1;
	if (st.st_uid != 0 && st.st_uid != env->uid)
		return sj_err_set(err, "%s belongs to uid %ju, who could "
				  "replace what is in it" WHAT_TO_DO, path,
				  (uintmax_t)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return writable_by_others(path, st.st_mode, err);
	return 0;
}

/* safe_parent for every directory above path (absolute, resolved). */
static int safe_above(const struct sj_lockdir_env *env,
		      const struct sj_lockdir_fs *fs, const char *path,
		      struct sj_err *err)
{
	char p[PATH_MAX];
	size_t n = strlen(path);

	if (path[0] != '/' || n >= sizeof(p))
		return sj_err_set(err, "%s: not an absolute path", path);
	memcpy(p, path, n + 1);
	while (strcmp(p, "/") != 0) {
		char *slash = strrchr(p, '/');

		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
		if (safe_parent(env, fs, p, err))
			return -1;
	}
	return 0;
}

/* Makes path (its parent is checked) unless it exists; then it must be
 * ours, and the lock directory itself (last) private altogether. */
static int make_dir(const struct sj_lockdir_env *env,
		    const struct sj_lockdir_fs *fs, const char *path,
		    int last, struct sj_err *err)
{
	struct stat st;

	if (fs->mkdir(path, 0700, fs->arg) != 0 && errno != EEXIST)
		return sj_err_errno(err, errno, "mkdir %s", path);
	if (own_dir(env, fs, path, err))
		return -1;
	if (last) {
		if (fs->lstat(path, &st, fs->arg) != 0)
			return sj_err_errno(err, errno, "%s", path);
		if (st.st_mode & 077)
			return sj_err_set(err, "%s must have mode 0700, not "
					  "%04o", path,
					  (unsigned)(st.st_mode & 07777));
	}
	return 0;
}

static int join(char *out, size_t len, const char *a, const char *b,
		struct sj_err *err)
{
	int n = snprintf(out, len, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= len)
		return sj_err_set(err, "%s/%s: path too long", a, b);
	return 0;
}

/*
 * A runtime directory (candidates 1 and 2).  Returns 1 if base is not a
 * safe directory of ours (pass it over), 0 with out set, -1 on an error
 * inside it.
 */
static int runtime_candidate(const struct sj_lockdir_env *env,
			     const struct sj_lockdir_fs *fs, const char *base,
			     char *out, size_t len, struct sj_err *err)
{
	char resolved[PATH_MAX];
	struct sj_err ignored;

	if (!is_set(base) || base[0] != '/' ||
	    fs->realpath(base, resolved, fs->arg) == NULL ||
	    own_dir(env, fs, resolved, &ignored) ||
	    safe_above(env, fs, resolved, &ignored))
		return 1;
	if (join(out, len, resolved, "slurm-jupyter", err) ||
	    make_dir(env, fs, out, 1, err))
		return -1;
	return 0;
}

static int host_ok(const char *host)
{
	return is_set(host) && strchr(host, '/') == NULL &&
	       strcmp(host, ".") != 0 && strcmp(host, "..") != 0;
}

/* Candidate 3: base/slurm-jupyter/HOST, made as far as it is missing. */
static int home_candidate(const struct sj_lockdir_env *env,
			  const struct sj_lockdir_fs *fs, char *out,
			  size_t len, struct sj_err *err)
{
	char target[PATH_MAX], resolved[PATH_MAX], tail[PATH_MAX];
	size_t end;
	int r;

	if (!host_ok(env->host))
		return sj_err_set(err, "the host name \"%s\" cannot name a "
				  "directory", env->host ? env->host : "");
	if (is_set(env->xdg_cache_home) && env->xdg_cache_home[0] == '/')
		r = snprintf(target, sizeof(target), "%s/slurm-jupyter/%s",
			     env->xdg_cache_home, env->host);
	else if (is_set(env->home) && env->home[0] == '/')
		r = snprintf(target, sizeof(target),
			     "%s/.cache/slurm-jupyter/%s", env->home,
			     env->host);
	else
		return sj_err_set(err, "neither XDG_RUNTIME_DIR, "
				  "XDG_CACHE_HOME nor HOME is an absolute "
				  "path: no place for the lock directory");
	if (r < 0 || (size_t)r >= sizeof(target))
		return sj_err_set(err, "%s...: path too long", env->host);

	/* The longest part that exists, resolved; the rest we make. */
	end = strlen(target);
	for (;;) {
		char c = target[end];

		target[end] = '\0';
		if (fs->realpath(target, resolved, fs->arg) != NULL) {
			target[end] = c;
			break;
		}
		if (errno != ENOENT || end <= 1)
			return sj_err_errno(err, errno, "%s", target);
		target[end] = c;
		while (end > 1 && target[end - 1] != '/')
			end--;
		if (end > 1)
			end--;	/* the slash */
	}
	if (strlen(resolved) >= len)
		return sj_err_set(err, "%s: path too long", resolved);
	strcpy(out, resolved);
	if (target[end] == '\0')
		return make_dir(env, fs, out, 1, err) ||
		       safe_above(env, fs, out, err) ? -1 : 0;
	if (safe_parent(env, fs, out, err) || safe_above(env, fs, out, err))
		return -1;
	/* What is missing, "/a/b/...": each component in turn. */
	snprintf(tail, sizeof(tail), "%s", target + end);
	if (strcmp(out, "/") == 0)
		out[0] = '\0';
	for (char *c = tail + 1, *next; c != NULL; c = next) {
		char path[PATH_MAX];

		next = strchr(c, '/');
		if (next != NULL)
			*next++ = '\0';
		if (c[0] == '\0')
			continue;	/* "//" in XDG_CACHE_HOME */
		if (join(path, sizeof(path), out, c, err))
			return -1;
		if (strlen(path) >= len)
			return sj_err_set(err, "%s: path too long", path);
		strcpy(out, path);
		if (make_dir(env, fs, out, next == NULL, err))
			return -1;
	}
	return 0;
}

int sj_lockdir_choose(const struct sj_lockdir_env *env,
		      const struct sj_lockdir_fs *fs, char *out, size_t len,
		      struct sj_err *err)
{
	char run_user[PATH_MAX];
	int r;

	r = runtime_candidate(env, fs, env->xdg_runtime_dir, out, len, err);
	if (r <= 0)
		return r;
	if (is_set(env->run_user)) {
		snprintf(run_user, sizeof(run_user), "%s/%ju", env->run_user,
			 (uintmax_t)env->uid);
		r = runtime_candidate(env, fs, run_user, out, len, err);
		if (r <= 0)
			return r;
	}
	if (home_candidate(env, fs, out, len, err)) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int sj_short_hostname(char *buf, size_t len, struct sj_err *err)
{
	char host[HOST_NAME_MAX + 1];
	size_t n;

	if (gethostname(host, sizeof(host)) != 0)
		return sj_err_errno(err, errno, "gethostname");
	host[sizeof(host) - 1] = '\0';
	n = strcspn(host, ".");
	if (n == 0 || n >= len)
		return sj_err_set(err, "host name \"%s\" is empty or too long",
				  host);
	memcpy(buf, host, n);
	buf[n] = '\0';
	return 0;
}

#define MADE_BY "made-by="
#define KERNELSPEC "kernelspec="

/* Jupyter's names are letters, digits, "-", "_" and "."; anything printable
 * is kept, as the record is only ever shown. */
static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i]))
			return 0;
	return 1;
}

int sj_lockinfo_format(const struct sj_lockinfo *li, char *buf, size_t len)
{
	const char *k = li->kernelspec;
	size_t kl = strnlen(k, sizeof(li->kernelspec));
	int keep = kl > 0 && kl < sizeof(li->kernelspec) && printable(k, kl);
	int n = snprintf(buf, len, MADE_BY "%s\n%s%.*s%s",
			 li->user_made ? "user" : "shim",
			 keep ? KERNELSPEC : "", keep ? (int)kl : 0, k,
			 keep ? "\n" : "");

	return n < 0 || (size_t)n >= len ? -1 : n;
}

void sj_lockinfo_parse(const char *text, size_t len, struct sj_lockinfo *li)
{
	const char *p = text, *end = text + len;

	memset(li, 0, sizeof(*li));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		size_t ml = strlen(MADE_BY), kl = strlen(KERNELSPEC);

		if (n == ml + 4 && memcmp(p, MADE_BY "user", n) == 0)
			li->user_made = 1;
		else if (n > kl && n - kl < sizeof(li->kernelspec) &&
			 memcmp(p, KERNELSPEC, kl) == 0 &&
			 printable(p + kl, n - kl)) {
			memcpy(li->kernelspec, p + kl, n - kl);
			li->kernelspec[n - kl] = '\0';
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

int sj_lockfile_jobid(const char *name, char *jobid, size_t len)
{
	size_t n = strspn(name, "0123456789");

	if (n == 0 || n >= len || strcmp(name + n, ".lock") != 0)
		return 0;
	memcpy(jobid, name, n);
	jobid[n] = '\0';
	return 1;
}

int sj_lockdir_mine(char *out, size_t len, struct sj_err *err)
{
	char host[256];
	struct sj_lockdir_env env = {
		.xdg_runtime_dir = getenv("XDG_RUNTIME_DIR"),
		.xdg_cache_home = getenv("XDG_CACHE_HOME"),
		.home = getenv("HOME"),
		.run_user = "/run/user",
		.host = host,
		.uid = getuid(),
	};

	if (sj_short_hostname(host, sizeof(host), err) ||
	    sj_lockdir_choose(&env, &sj_lockdir_real_fs, out, len, err))
		return sj_err_wrap(err, "lock directory");
	return 0;
}
