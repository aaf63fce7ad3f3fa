// SPDX-License-Identifier: GPL-2.0-or-later
#include "slurmver.h"

#include <stdio.h>
#include <string.h>

#include "fsutil.h"

/* Slurm's numbers are small (26, 05, 3); the bound keeps a long run of
 * digits from overflowing and from passing for a version. */
#define MAX_PART 9999

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A decimal number at *s, advancing *s past it. */
static int number(const char **s, unsigned *out)
{
	const char *p = *s;
	unsigned v = 0;

	if (!is_digit(*p))
		return -1;
	while (is_digit(*p)) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > MAX_PART)
			return -1;
		p++;
	}
	*out = v;
	*s = p;
	return 0;
}

/* "MAJOR.MINOR[.MICRO][-ANYTHING]" at *s, advancing *s past it; what
 * follows must not continue the version ("22.05x", "22.05.8.1"). */
static int version_at(const char **s, struct sj_slurm_version *v)
{
	struct sj_slurm_version r = { 0, 0, 0 };
	const char *p = *s;

	if (number(&p, &r.major) || *p++ != '.' || number(&p, &r.minor))
		return -1;
	if (*p == '.') {
		p++;
		if (number(&p, &r.micro))
			return -1;
	}
	if (*p == '-') {
		/* A package revision ("-1") or a tag ("-0rc1"): not ours. */
		p++;
		if (*p == '\0' || is_space(*p) || *p == ')')
			return -1;
		while (*p != '\0' && !is_space(*p) && *p != ')')
			p++;
	}
	if (*p != '\0' && !is_space(*p) && *p != ')')
		return -1;
	*v = r;
	*s = p;
	return 0;
}

int sj_slurm_version_parse(const char *s, struct sj_slurm_version *v)
{
	struct sj_slurm_version r;

	if (s == NULL || version_at(&s, &r) || *s != '\0')
		return -1;
	*v = r;
	return 0;
}

/* Only blanks and one line end up to the end of s. */
static int rest_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\r')
		s++;
	if (*s == '\n')
		s++;
	return *s == '\0';
}

int sj_slurm_version_banner(const char *line, struct sj_slurm_version *v)
{
	struct sj_slurm_version r;
	const char *p = line;

	if (p == NULL || strncmp(p, "slurm", 5) != 0)
		return -1;
	p += 5;
	/* A distribution's package name: "slurm-wlm". */
	if (*p == '-') {
		p++;
		if (*p == '\0' || is_space(*p))
			return -1;
		while (*p != '\0' && !is_space(*p))
			p++;
	}
	if (*p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	if (version_at(&p, &r) || !rest_blank(p))
		return -1;
	*v = r;
	return 0;
}

int sj_slurm_version_built_for(const char *line, struct sj_slurm_version *v)
{
	static const char tag[] = "(built for Slurm ";
	struct sj_slurm_version r;
	const char *p;

	if (line == NULL || (p = strstr(line, tag)) == NULL)
		return -1;
	p += sizeof(tag) - 1;
	if (version_at(&p, &r) || *p != ')' || !rest_blank(p + 1))
		return -1;
	*v = r;
	return 0;
}

int sj_slurm_same_release(const struct sj_slurm_version *a,
			  const struct sj_slurm_version *b)
{
	return a->major == b->major && a->minor == b->minor;
}

void sj_slurm_release_str(const struct sj_slurm_version *v, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%u.%02u", v->major, v->minor);
}

int sj_command_path(const char *name, const char *path, char *out,
		    size_t len)
{
	return sj_path_search(name, path, 0, out, len);
}

int sj_slurm_release_check(const char *who, const char *built_for,
			   const struct sj_slurm_version *found,
			   const char *where, struct sj_err *err)
{
	struct sj_slurm_version b;
	char bs[16], fs[16];

	if (sj_slurm_version_parse(built_for, &b))
		return sj_err_set(err, "%s was built for an unknown Slurm "
				  "(\"%s\"); rebuild spank-jupyter against "
				  "this Slurm (make SLURM_PREFIX=...)", who,
				  built_for != NULL ? built_for : "");
	sj_slurm_release_str(&b, bs, sizeof(bs));
	if (found == NULL)
		return sj_err_set(err, "%s was built for Slurm %s but cannot "
				  "tell which Slurm this is (%s): use the "
				  "Slurm %s commands, or reinstall "
				  "spank-jupyter built against this Slurm",
				  who, bs, where, bs);
	if (sj_slurm_same_release(&b, found))
		return 0;
	sj_slurm_release_str(found, fs, sizeof(fs));
	return sj_err_set(err, "%s was built for Slurm %s but this is Slurm "
			  "%s (%s): reinstall spank-jupyter built against "
			  "Slurm %s", who, bs, fs, where, fs);
}
