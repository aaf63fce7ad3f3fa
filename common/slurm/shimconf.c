// SPDX-License-Identifier: GPL-2.0-or-later
#include "shimconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idle.h"
#include "kernelstep.h"
#include "shimopt.h"

#define KNOWN_KEYS "idle_timeout, warn_before, linger"

static const char *const key_names[SJ_SHIMCONF_NKEYS] = {
	[SJ_SHIMCONF_IDLE_TIMEOUT] = "idle_timeout",
	[SJ_SHIMCONF_WARN_BEFORE] = "warn_before",
	[SJ_SHIMCONF_LINGER] = "linger",
};

const char *sj_shimconf_key_name(enum sj_shimconf_key k)
{
	return k >= 0 && k < SJ_SHIMCONF_NKEYS ? key_names[k] : NULL;
}

/* linger: 0, or one duration up to SJ_MAX_LINGER. */
static int set_linger(struct sj_shimconf *c, const char *v,
		      struct sj_err *err)
{
	const char *end;
	unsigned s = 0;

	if (strcmp(v, "0") == 0) {
		c->linger = 0;
		return 0;
	}
	if (sj_shimopt_duration(v, &end, &s) != SJ_DURATION_OK ||
	    *end != '\0' || s > SJ_MAX_LINGER)
		return sj_err_set(err, "linger=%s: 0 or one duration with a "
				  "unit (s, m or h) up to 24h, as in 30s", v);
	c->linger = s;
	return 0;
}

static int set_value(struct sj_shimconf *c, enum sj_shimconf_key k,
		     const char *v, struct sj_err *err)
{
	switch (k) {
	case SJ_SHIMCONF_IDLE_TIMEOUT:
		return sj_idle_parse(v, &c->idle_timeout, err);
	case SJ_SHIMCONF_WARN_BEFORE:
		if (strlen(v) >= sizeof(c->warn_text))
			return sj_err_set(err, "warn_before: longer than %zu "
					  "characters",
					  sizeof(c->warn_text) - 1);
		if (sj_warn_parse(v, &c->warn, err))
			return -1;
		strcpy(c->warn_text, v);
		return 0;
	case SJ_SHIMCONF_LINGER:
		return set_linger(c, v, err);
	case SJ_SHIMCONF_NKEYS:
	default:
		return sj_err_set(err, "internal error");
	}
}

static int blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* One line (NUL-terminated; trimmed in place): *key is the key it set,
 * -1 for a comment or a blank line. */
static int take_line(struct sj_shimconf *c, char *line, int *key,
		     struct sj_err *err)
{
	char *eq, *name, *v, *e;
	int k;

	*key = -1;
	while (blank(*line))
		line++;
	e = line + strlen(line);
	while (e > line && blank(e[-1]))
		*--e = '\0';
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (eq == NULL)
		return sj_err_set(err, "\"%.100s\": expected key=value (known "
				  "keys: " KNOWN_KEYS ")", line);
	name = line;
	v = eq + 1;
	for (e = eq; e > name && blank(e[-1]); e--)
		;
	*e = '\0';
	while (blank(*v))
		v++;
	for (k = 0; k < SJ_SHIMCONF_NKEYS; k++)
		if (strcmp(name, key_names[k]) == 0)
			break;
	if (k == SJ_SHIMCONF_NKEYS)
		return sj_err_set(err, "unknown key \"%.100s\" (known: "
				  KNOWN_KEYS ")", name);
	if (c->line[k] != 0)
		return sj_err_set(err, "%s given again (first on line %d)",
				  name, c->line[k]);
	if (*v == '\0')
		return sj_err_set(err, "%s has no value", name);
	*key = k;
	return set_value(c, (enum sj_shimconf_key)k, v, err);
}

int sj_shimconf_parse(const char *text, size_t len, const char *path,
		      struct sj_shimconf *c, struct sj_err *err)
{
	struct sj_shimconf cfg;
	const char *p = text, *end = text + len;
	int n = 0;

	memset(&cfg, 0, sizeof(cfg));
	if (memchr(text, '\0', len) != NULL)
		return sj_err_set(err, "%s: contains a NUL byte: not a text "
				  "file", path);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512];
		int k;

		n++;
		if (ll >= sizeof(line))
			return sj_err_set(err, "%s line %d: longer than %zu "
					  "characters", path, n,
					  sizeof(line) - 1);
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (take_line(&cfg, line, &k, err))
			return sj_err_wrap(err, "%s line %d", path, n);
		if (k >= 0)
			cfg.line[k] = n;
		p = nl != NULL ? nl + 1 : end;
	}
	*c = cfg;
	return 0;
}

int sj_shimconf_check_stat(const struct stat *st, const char *path, int dir,
			   struct sj_err *err)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);

	if (!dir && !S_ISREG(st->st_mode))
		return sj_err_set(err, "%s is not a regular file: refused",
				  path);
	if (dir && !S_ISDIR(st->st_mode))
		return sj_err_set(err, "%s is not a directory: refused", path);
	if (st->st_uid != 0)
		return sj_err_set(err, "%s belongs to uid %ju, not root: "
				  "refused (chown root %s)", path,
				  (uintmax_t)st->st_uid, path);
	if ((mode & (S_IWGRP | S_IWOTH)) && !(dir && (mode & S_ISVTX)))
		return sj_err_set(err, "%s is writable by %s (mode %04o): "
				  "refused (chmod go-w %s)", path,
				  (mode & S_IWOTH) ? "everyone" : "its group",
				  mode, path);
	return 0;
}

const char *sj_shimconf_path(void)
{
	const char *p = getenv(SJ_SHIMCONF_ENV);

	return p != NULL && p[0] != '\0' ? p : SJ_SHIMCONF_PATH;
}

/* Every directory above resolved (absolute, symlinks resolved). */
static int check_above(const char *resolved, struct sj_err *err)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s", resolved);
	while (strcmp(p, "/") != 0) {
		char *slash = strrchr(p, '/');

		if (slash == NULL)
			break;
		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
		if (stat(p, &st) != 0)
			return sj_err_errno(err, errno, "%s", p);
		if (sj_shimconf_check_stat(&st, p, 1, err))
			return -1;
	}
	return 0;
}

/* The whole file from fd (at most SJ_SHIMCONF_MAX bytes), malloc'd. */
static int read_all(int fd, const char *path, char **text, size_t *len,
		    struct sj_err *err)
{
	char *buf = malloc(SJ_SHIMCONF_MAX + 1);
	size_t n = 0;

	if (buf == NULL)
		return sj_err_set(err, "out of memory");
	for (;;) {
		ssize_t r = read(fd, buf + n, SJ_SHIMCONF_MAX + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return sj_err_errno(err, e, "reading %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > SJ_SHIMCONF_MAX) {
			free(buf);
			return sj_err_set(err, "%s: longer than %d bytes: not "
					  "a configuration", path,
					  SJ_SHIMCONF_MAX);
		}
	}
	*text = buf;
	*len = n;
	return 0;
}

int sj_shimconf_load(const char *path, struct sj_shimconf *c, int *found,
		     struct sj_err *err)
{
	char resolved[PATH_MAX], *text = NULL;
	struct stat st;
	size_t len = 0;
	int fd, r;

	memset(c, 0, sizeof(*c));
	*found = 0;
	if (path[0] != '/')
		return sj_err_set(err, "%s: not an absolute path", path);
	if (realpath(path, resolved) == NULL) {
		if (errno == ENOENT)
			return 0;	/* no site defaults */
		return sj_err_errno(err, errno, "%s", path);
	}
	/* O_NOFOLLOW and fstat: what is checked is what is read. */
	fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return sj_err_errno(err, errno, "%s", path);
	if (fstat(fd, &st) != 0) {
		r = sj_err_errno(err, errno, "%s", path);
		close(fd);
		return r;
	}
	if (sj_shimconf_check_stat(&st, path, 0, err) ||
	    check_above(resolved, err) ||
	    read_all(fd, path, &text, &len, err)) {
		close(fd);
		return -1;
	}
	close(fd);
	r = sj_shimconf_parse(text, len, path, c, err);
	free(text);
	if (r == 0)
		*found = 1;
	return r;
}
