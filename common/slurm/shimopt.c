// SPDX-License-Identifier: GPL-2.0-or-later
#include "shimopt.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int has_value;
} opts[SJ_SHIMOPT_COUNT] = {
	[SJ_SHIMOPT_JOBID] = { "--jobid", 1 },
	[SJ_SHIMOPT_RENDEZVOUS_HOST] = { "--rendezvous-host", 1 },
	[SJ_SHIMOPT_SETUP] = { "--setup", 1 },
	[SJ_SHIMOPT_KERNEL_NODE] = { "--kernel-node", 1 },
	[SJ_SHIMOPT_SRUN_ARG] = { "--srun-arg", 1 },
	[SJ_SHIMOPT_KERNEL_TRANSPORT] = { "--kernel-transport", 1 },
	[SJ_SHIMOPT_LINGER] = { "--linger", 1 },
	[SJ_SHIMOPT_NODE_SHIM] = { "--node-shim", 1 },
	[SJ_SHIMOPT_SHARE] = { "--share", 0 },
	[SJ_SHIMOPT_SHIM_VERBOSE] = { "--shim-verbose", 0 },
	[SJ_SHIMOPT_WARN_BEFORE] = { "--warn-before", 1 },
	[SJ_SHIMOPT_IDLE_TIMEOUT] = { "--idle-timeout", 1 },
};

const char *sj_shimopt_name(enum sj_shimopt o)
{
	return o >= 0 && o < SJ_SHIMOPT_COUNT ? opts[o].name : NULL;
}

int sj_shimopt_has_value(enum sj_shimopt o)
{
	return o >= 0 && o < SJ_SHIMOPT_COUNT && opts[o].has_value;
}

enum sj_shimopt sj_shimopt_match(int argc, const char *const *argv, int *i,
				 const char **value)
{
	const char *a = argv[*i];

	*value = NULL;
	for (int o = 0; o < SJ_SHIMOPT_COUNT; o++) {
		size_t n = strlen(opts[o].name);

		if (strncmp(a, opts[o].name, n) != 0)
			continue;
		if (!opts[o].has_value) {
			if (a[n] == '\0')
				return (enum sj_shimopt)o;
			continue;
		}
		if (a[n] == '=') {
			*value = a + n + 1;
			return (enum sj_shimopt)o;
		}
		if (a[n] == '\0' && *i + 1 < argc) {
			*value = argv[++*i];
			return (enum sj_shimopt)o;
		}
	}
	return SJ_SHIMOPT_NONE;
}

enum sj_duration_status sj_shimopt_duration(const char *s, const char **end,
					    unsigned *seconds)
{
	unsigned long v, unit;
	char *e;

	*end = s;
	if (*s < '0' || *s > '9')
		return SJ_DURATION_NO_NUMBER;
	errno = 0;
	v = strtoul(s, &e, 10);
	switch (*e) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	default:
		return SJ_DURATION_NO_UNIT;
	}
	if (errno != 0 || v == 0 || v > SJ_SHIMOPT_DURATION_LONGEST / unit)
		return SJ_DURATION_RANGE;
	*seconds = (unsigned)(v * unit);
	*end = e + 1;
	return SJ_DURATION_OK;
}
