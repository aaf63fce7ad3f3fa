// SPDX-License-Identifier: GPL-2.0-or-later
#include "label.h"

#include <stdio.h>
#include <string.h>

#include "slurmtime.h"

int gen_default_name(const char *kernel, const struct gen_opts *o,
		     char *out, size_t len, struct sj_err *err)
{
	int n;

	if (o->jobid != NULL)
		n = snprintf(out, len, "slurm-%s-job%s", kernel, o->jobid);
	else if (o->partition != NULL)
		n = snprintf(out, len, "slurm-%s-%s", kernel, o->partition);
	else
		n = snprintf(out, len, "slurm-%s", kernel);
	/* Kernelspec names stay well under this; a longer one is useless
	 * in a launcher anyway. */
	if (n < 0 || (size_t)n >= len || n > 200)
		return sj_err_set(err, "the default name for %.60s is too "
				  "long; give --name", kernel);
	for (char *p = out; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (strchr("abcdefghijklmnopqrstuvwxyz0123456789._-",
				*p) == NULL)
			*p = '-';
	}
	return 0;
}

/* Appends ", text" (or text, first) to the list in buf. */
static void add_part(char *buf, size_t len, const char *text)
{
	size_t used = strlen(buf);

	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
			 text);
}

static void gpu_part(const char *gpus, char *out, size_t len)
{
	const char *colon = strrchr(gpus, ':');
	const char *count = colon != NULL ? colon + 1 : gpus;
	const char *plural = strcmp(count, "1") == 0 ? "" : "s";

	if (colon != NULL)
		snprintf(out, len, "%s %.*s GPU%s", count, (int)(colon - gpus),
			 gpus, plural);
	else
		snprintf(out, len, "%s GPU%s", count, plural);
}

int gen_display_name(const char *wrapped, const char *kernel,
		     const struct gen_opts *o, char *out, size_t len,
		     struct sj_err *err)
{
	char parts[512] = "", piece[200];
	const char *base = wrapped != NULL && wrapped[0] ? wrapped : kernel;
	size_t blen = strlen(base);
	int n;

	/* "Python 3 (ipykernel)": the parenthesis says how it is run, which
	 * is what ours replaces. */
	if (blen > 0 && base[blen - 1] == ')') {
		const char *open = strrchr(base, '(');

		if (open != NULL && open > base && open[-1] == ' ')
			blen = (size_t)(open - base - 1);
	}
	if (o->jobid != NULL) {
		snprintf(piece, sizeof(piece), "job %s", o->jobid);
		add_part(parts, sizeof(parts), piece);
		if (o->kernel_node != NULL) {
			snprintf(piece, sizeof(piece), "node %s",
				 o->kernel_node);
			add_part(parts, sizeof(parts), piece);
		}
	} else {
		const char *nodes = o->nodes != NULL ? o->nodes : "1";

		if (o->partition != NULL)
			add_part(parts, sizeof(parts), o->partition);
		snprintf(piece, sizeof(piece), "%s node%s", nodes,
			 strcmp(nodes, "1") == 0 ? "" : "s");
		add_part(parts, sizeof(parts), piece);
		if (o->gpus != NULL) {
			gpu_part(o->gpus, piece, sizeof(piece));
			add_part(parts, sizeof(parts), piece);
		} else if (o->gres != NULL) {
			snprintf(piece, sizeof(piece), "%s", o->gres);
			add_part(parts, sizeof(parts), piece);
		}
		if (o->time != NULL) {
			long long secs;

			/* Checked before: it parses. */
			if (gen_time_parse(o->time, &secs, err))
				return -1;
			gen_time_label(gen_time_minutes(secs), piece,
				       sizeof(piece));
			add_part(parts, sizeof(parts), piece);
		}
	}
	n = snprintf(out, len, "%.*s (Slurm: %s)", (int)blen, base, parts);
	if (n < 0 || (size_t)n >= len)
		return sj_err_set(err, "the display name is too long; give "
				  "--display-name");
	return 0;
}
