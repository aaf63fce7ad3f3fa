// SPDX-License-Identifier: GPL-2.0-or-later
#include "idle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sj_idle_parse(const char *s, unsigned *timeout, struct sj_err *err)
{
	unsigned long v, unit;
	char *end;

	*timeout = 0;
	if (strcmp(s, "0") == 0)
		return 0;
	if (*s < '0' || *s > '9')
		return sj_err_set(err, "--idle-timeout=%s: a duration like "
				  "30m (s, m or h), or 0", s);
	errno = 0;
	v = strtoul(s, &end, 10);
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	default:
		return sj_err_set(err, "--idle-timeout=%s: the duration needs "
				  "a unit (s, m or h), as in 30m", s);
	}
	if (end[1] != '\0')
		return sj_err_set(err, "--idle-timeout=%s: one duration, like "
				  "30m", s);
	if (errno != 0 || v == 0 || v > SJ_IDLE_LONGEST / unit)
		return sj_err_set(err, "--idle-timeout=%s: from 1s to 7 days",
				  s);
	*timeout = (unsigned)(v * unit);
	return 0;
}

void sj_idle_start(struct sj_idle *c, unsigned timeout, time_t now)
{
	c->timeout = timeout;
	c->since = now;
	c->busy = 0;
}

void sj_idle_request(struct sj_idle *c, time_t now)
{
	c->since = now;
}

void sj_idle_status(struct sj_idle *c, int busy, time_t now)
{
	c->busy = busy;
	c->since = now;
}

int sj_idle_due(struct sj_idle *c, time_t now, time_t *next)
{
	*next = 0;
	if (c->timeout == 0 || c->busy)
		return 0;
	if (now < c->since)
		c->since = now;
	if (now - c->since >= (time_t)c->timeout)
		return 1;
	*next = c->since + (time_t)c->timeout;
	return 0;
}
