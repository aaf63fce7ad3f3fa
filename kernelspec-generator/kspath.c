// SPDX-License-Identifier: GPL-2.0-or-later
#include "kspath.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int add_dir(struct gen_kspath *p, const char *base, struct sj_err *err)
{
	size_t len = strlen(base);
	char *d, **nv;

	/* jupyter_core strips trailing separators before joining. */
	while (len > 1 && base[len - 1] == '/')
		len--;
	if (asprintf(&d, "%.*s/kernels", (int)len, base) < 0)
		return sj_err_set(err, "out of memory");
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->dirs[i], d) == 0) {
			free(d);
			return 0;
		}
	}
	nv = realloc(p->dirs, (p->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(d);
		return sj_err_set(err, "out of memory");
	}
	p->dirs = nv;
	p->dirs[p->n++] = d;
	return 0;
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] == '/')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : NULL;
}

static int add_user_dirs(struct gen_kspath *p, struct sj_err *err)
{
	const char *data = getenv("JUPYTER_DATA_DIR");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *ubase = getenv("PYTHONUSERBASE");
	const char *home = home_dir();
	char buf[4096];
	int rv = 0;

	if (data == NULL || data[0] == '\0') {
		if (xdg != NULL && xdg[0] != '\0')
			snprintf(buf, sizeof(buf), "%s/jupyter", xdg);
		else if (home != NULL)
			snprintf(buf, sizeof(buf), "%s/.local/share/jupyter",
				 home);
		else
			return sj_err_set(err, "cannot tell where your Jupyter "
					  "data directory is (no HOME); set "
					  "JUPYTER_DATA_DIR");
		data = buf;
	}
	p->user = p->n;
	if (add_dir(p, data, err))
		return -1;
	/* Python's user site: PYTHONUSERBASE or ~/.local. */
	if (ubase != NULL && ubase[0] != '\0') {
		snprintf(buf, sizeof(buf), "%s/share/jupyter", ubase);
		rv = add_dir(p, buf, err);
	} else if (home != NULL) {
		snprintf(buf, sizeof(buf), "%s/.local/share/jupyter", home);
		rv = add_dir(p, buf, err);
	}
	return rv;
}

int gen_kspath_init(struct gen_kspath *p, struct sj_err *err)
{
	const char *jp = getenv("JUPYTER_PATH");

	memset(p, 0, sizeof(*p));
	if (jp != NULL && jp[0] != '\0') {
		char *copy = strdup(jp), *save = NULL, *tok;

		if (copy == NULL)
			return sj_err_set(err, "out of memory");
		/* Empty entries would become relative "kernels": skipped. */
		for (tok = strtok_r(copy, ":", &save); tok != NULL;
		     tok = strtok_r(NULL, ":", &save)) {
			if (add_dir(p, tok, err)) {
				free(copy);
				goto fail;
			}
		}
		free(copy);
	}
	if (add_user_dirs(p, err) ||
	    add_dir(p, "/usr/local/share/jupyter", err) ||
	    add_dir(p, "/usr/share/jupyter", err))
		goto fail;
	return 0;
fail:
	gen_kspath_free(p);
	return -1;
}

void gen_kspath_free(struct gen_kspath *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->dirs[i]);
	free(p->dirs);
	p->dirs = NULL;
	p->n = 0;
}

const struct gen_kspec *gen_kspec_find(const struct gen_kspec_list *l,
				       const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static int is_spec_dir(const char *dir)
{
	char path[4096];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/kernel.json", dir) >=
	    sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int add_spec(struct gen_kspec_list *l, const char *dirname,
		    const char *entry, size_t where, struct sj_err *err)
{
	struct gen_kspec *nv, s = { .where = where };

	if (asprintf(&s.dir, "%s/%s", dirname, entry) < 0)
		return sj_err_set(err, "out of memory");
	s.name = strdup(entry);
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (s.name == NULL || nv == NULL) {
		free(s.dir);
		free(s.name);
		if (nv != NULL)
			l->v = nv;
		return sj_err_set(err, "out of memory");
	}
	for (char *c = s.name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	l->v = nv;
	l->v[l->n++] = s;
	return 0;
}

static int scan_dir(struct gen_kspec_list *l, const char *dirname,
		    size_t where, struct sj_err *err)
{
	DIR *d = opendir(dirname);
	struct dirent *de;
	int rv = -1;

	if (d == NULL)
		return 0;
	for (;;) {
		char sub[4096];

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				sj_err_errno(err, errno, "cannot read %s",
					     dirname);
				goto out;
			}
			break;
		}
		/* Dot entries include our own half-written temporaries. */
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dirname,
				     de->d_name) >= sizeof(sub) ||
		    !is_spec_dir(sub))
			continue;
		if (gen_kspec_find(l, de->d_name) != NULL)
			continue;
		if (add_spec(l, dirname, de->d_name, where, err))
			goto out;
	}
	rv = 0;
out:
	closedir(d);
	return rv;
}

static int by_name(const void *a, const void *b)
{
	const struct gen_kspec *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int gen_kspath_list(const struct gen_kspath *p, struct gen_kspec_list *l,
		    struct sj_err *err)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < p->n; i++) {
		if (scan_dir(l, p->dirs[i], i, err)) {
			gen_kspec_list_free(l);
			return -1;
		}
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_name);
	return 0;
}

void gen_kspec_list_free(struct gen_kspec_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].dir);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
