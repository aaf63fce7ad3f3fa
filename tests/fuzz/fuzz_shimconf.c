// SPDX-License-Identifier: GPL-2.0-or-later
/* The site's shim.conf (common/slurm/shimconf.h): whatever the bytes,
 * what is accepted is within the bounds the shim's options have, and
 * written back as a file reads back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernelstep.h"
#include "shimconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct sj_shimconf *c)
{
	if (c->idle_timeout > SJ_SHIMOPT_DURATION_LONGEST ||
	    c->linger > SJ_MAX_LINGER || c->warn.n < 0 ||
	    c->warn.n > SJ_WARN_MAX ||
	    memchr(c->warn_text, '\0', sizeof(c->warn_text)) == NULL)
		abort();
	for (int i = 0; i < c->warn.n; i++)
		if (c->warn.before[i] < 1 ||
		    c->warn.before[i] > SJ_SHIMOPT_DURATION_LONGEST)
			abort();
	for (int k = 0; k < SJ_SHIMCONF_NKEYS; k++)
		for (int j = k + 1; j < SJ_SHIMCONF_NKEYS; j++)
			if (c->line[k] != 0 && c->line[k] == c->line[j])
				abort();
}

/* "key=0" or "key=Ns", a line at text + *n. */
static void put_duration(char *text, size_t len, int *n, const char *key,
			 unsigned seconds)
{
	int r = seconds == 0 ?
		snprintf(text + *n, len - (size_t)*n, "%s=0\n", key) :
		snprintf(text + *n, len - (size_t)*n, "%s=%us\n", key, seconds);

	if (r < 0 || (size_t)r >= len - (size_t)*n)
		abort();
	*n += r;
}

/* The keys c sets, as a file of their own, parsed again. */
static void round_trip(const struct sj_shimconf *c)
{
	char text[512];
	struct sj_shimconf back;
	struct sj_err err;
	int n = 0, r;

	if (c->line[SJ_SHIMCONF_IDLE_TIMEOUT])
		put_duration(text, sizeof(text), &n, "idle_timeout",
			     c->idle_timeout);
	if (c->line[SJ_SHIMCONF_WARN_BEFORE]) {
		r = snprintf(text + n, sizeof(text) - (size_t)n,
			     "# warnings\n warn_before = %s\n", c->warn_text);
		if (r < 0 || (size_t)r >= sizeof(text) - (size_t)n)
			abort();
		n += r;
	}
	if (c->line[SJ_SHIMCONF_LINGER])
		put_duration(text, sizeof(text), &n, "linger", c->linger);
	if (sj_shimconf_parse(text, (size_t)n, "f", &back, &err) != 0 ||
	    back.idle_timeout != c->idle_timeout ||
	    back.linger != c->linger || back.warn.n != c->warn.n ||
	    memcmp(back.warn.before, c->warn.before,
		   sizeof(c->warn.before[0]) * (size_t)c->warn.n) != 0)
		abort();
	for (int k = 0; k < SJ_SHIMCONF_NKEYS; k++)
		if ((back.line[k] != 0) != (c->line[k] != 0))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_shimconf c;
	struct sj_err err;

	if (size > SJ_SHIMCONF_MAX)
		return 0;
	if (sj_shimconf_parse((const char *)data, size, "f", &c, &err) == 0) {
		check(&c);
		round_trip(&c);
	}
	return 0;
}
