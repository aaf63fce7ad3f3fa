// SPDX-License-Identifier: GPL-2.0-or-later
#include "idle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sj_idle_parse(const char *s, unsigned *timeout, struct sj_err *err)
{
	const char *end;
	unsigned v = 0;

	*timeout = 0;
	if (strcmp(s, "0") == 0)
		return 0;
	switch (sj_shimopt_duration(s, &end, &v)) {
	case SJ_DURATION_OK:
		break;
	case SJ_DURATION_NO_NUMBER:
		return sj_err_set(err, "--idle-timeout=%s: a duration like "
				  "30m (s, m or h), or 0", s);
	case SJ_DURATION_NO_UNIT:
		return sj_err_set(err, "--idle-timeout=%s: the duration needs "
				  "a unit (s, m or h), as in 30m", s);
	case SJ_DURATION_RANGE:
	default:
		return sj_err_set(err, "--idle-timeout=%s: from 1s to 7 days",
				  s);
	}
	if (*end != '\0')
		return sj_err_set(err, "--idle-timeout=%s: one duration, like "
				  "30m", s);
	*timeout = v;
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
