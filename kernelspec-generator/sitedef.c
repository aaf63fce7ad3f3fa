// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitedef.h"

#include <string.h>

#include "kernelstep.h"

void gen_duration_text(unsigned seconds, char *buf, size_t len)
{
	if (seconds == 0)
		snprintf(buf, len, "0");
	else if (seconds % 3600 == 0)
		snprintf(buf, len, "%uh", seconds / 3600);
	else if (seconds % 60 == 0)
		snprintf(buf, len, "%um", seconds / 60);
	else
		snprintf(buf, len, "%us", seconds);
}

/* The value the site file gives key k, as it would be written. */
static void site_value(const struct sj_shimconf *c, enum sj_shimconf_key k,
		       char *buf, size_t len)
{
	switch (k) {
	case SJ_SHIMCONF_IDLE_TIMEOUT:
		gen_duration_text(c->idle_timeout, buf, len);
		break;
	case SJ_SHIMCONF_WARN_BEFORE:
		snprintf(buf, len, "%s", c->warn_text);
		break;
	case SJ_SHIMCONF_LINGER:
		gen_duration_text(c->linger, buf, len);
		break;
	case SJ_SHIMCONF_NKEYS:
	default:
		buf[0] = '\0';
		break;
	}
}

void gen_site_sets(const struct sj_shimconf *c, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int k = 0; k < SJ_SHIMCONF_NKEYS && used < len; k++) {
		char v[160];
		int n;

		if (c->line[k] == 0)
			continue;
		site_value(c, (enum sj_shimconf_key)k, v, sizeof(v));
		n = snprintf(buf + used, len - used, "%s%s=%s (line %d)",
			     used > 0 ? ", " : "",
			     sj_shimconf_key_name((enum sj_shimconf_key)k), v,
			     c->line[k]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "nothing");
}

static void print_one(FILE *f, const char *label, const char *given,
		      const struct sj_shimconf *c, enum sj_shimconf_key k,
		      const char *path, const char *builtin)
{
	char v[160];

	if (given != NULL) {
		fprintf(f, "  %-13s %s (kernelspec)\n", label, given);
	} else if (c->line[k] != 0) {
		site_value(c, k, v, sizeof(v));
		fprintf(f, "  %-13s %s (site default, %s line %d)\n", label,
			v, path, c->line[k]);
	} else {
		fprintf(f, "  %-13s %s (built-in default)\n", label, builtin);
	}
}

void gen_site_print(FILE *f, const struct gen_split *s,
		    const struct sj_shimconf *c, const char *path)
{
	char linger[32];

	gen_duration_text(SJ_DEFAULT_LINGER, linger, sizeof(linger));
	print_one(f, "idle timeout", s->idle_timeout, c,
		  SJ_SHIMCONF_IDLE_TIMEOUT, path, "0");
	print_one(f, "warn before", s->warn_before, c,
		  SJ_SHIMCONF_WARN_BEFORE, path, SJ_WARN_DEFAULT);
	print_one(f, "linger", s->linger, c, SJ_SHIMCONF_LINGER, path,
		  linger);
}
