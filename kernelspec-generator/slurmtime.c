// SPDX-License-Identifier: GPL-2.0-or-later
#include "slurmtime.h"

#include <stdio.h>
#include <string.h>

/* Far beyond any site's limit, small enough that sums cannot overflow. */
#define FIELD_MAX 99999999LL

/* Reads digits up to the next separator.  Returns the end, or NULL. */
static const char *field(const char *p, long long *v)
{
	long long n = 0;
	const char *start = p;

	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p - '0');
		if (n > FIELD_MAX)
			return NULL;
		p++;
	}
	if (p == start)
		return NULL;
	*v = n;
	return p;
}

static int bad(struct sj_err *err)
{
	return sj_err_set(err, "not a Slurm time limit (allowed: "
			  GEN_TIME_FORMATS ")");
}

int gen_time_parse(const char *s, long long *seconds, struct sj_err *err)
{
	long long f[3] = { 0, 0, 0 }, days = 0;
	const char *p = s, *dash = strchr(s, '-');
	int n = 0;

	if (dash != NULL) {
		p = field(s, &days);
		if (p != dash)
			return bad(err);
		p = dash + 1;
	}
	for (;;) {
		p = field(p, &f[n]);
		if (p == NULL)
			return bad(err);
		n++;
		if (*p == '\0')
			break;
		if (*p != ':' || n == 3)
			return bad(err);
		p++;
	}
	if (dash != NULL) {
		/* D-H, D-H:M, D-H:M:S */
		if (f[0] > 23 || (n > 1 && f[1] > 59) || (n > 2 && f[2] > 59))
			return sj_err_set(err, "not a Slurm time limit (in "
					  "D-H:M:S, hours go up to 23 and "
					  "minutes and seconds up to 59)");
		*seconds = days * 86400 + f[0] * 3600 + f[1] * 60 + f[2];
		return 0;
	}
	switch (n) {
	case 1:		/* M */
		*seconds = f[0] * 60;
		break;
	case 2:		/* M:S */
		if (f[1] > 59)
			return sj_err_set(err, "not a Slurm time limit (in M:S, "
					  "seconds go up to 59)");
		*seconds = f[0] * 60 + f[1];
		break;
	default:	/* H:M:S */
		if (f[1] > 59 || f[2] > 59)
			return sj_err_set(err, "not a Slurm time limit (in "
					  "H:M:S, minutes and seconds go up "
					  "to 59)");
		*seconds = f[0] * 3600 + f[1] * 60 + f[2];
		break;
	}
	return 0;
}

long long gen_time_minutes(long long seconds)
{
	return (seconds + 59) / 60;
}

void gen_time_label(long long minutes, char *out, size_t len)
{
	long long d = minutes / 1440, h = minutes / 60 % 24, m = minutes % 60;
	size_t used = 0;

	out[0] = '\0';
	if (d > 0)
		used += (size_t)snprintf(out, len, "%lldd", d);
	if (h > 0 && used < len)
		used += (size_t)snprintf(out + used, len - used, "%lldh", h);
	if ((m > 0 || minutes == 0) && used < len)
		snprintf(out + used, len - used, "%lldmin", m);
}

void gen_time_slurm(long long minutes, char *out, size_t len)
{
	long long d = minutes / 1440, h = minutes / 60 % 24, m = minutes % 60;

	if (d > 0)
		snprintf(out, len, "%lld-%02lld:%02lld:00", d, h, m);
	else
		snprintf(out, len, "%02lld:%02lld:00", h, m);
}
