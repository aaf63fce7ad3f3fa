// SPDX-License-Identifier: GPL-2.0-or-later
#include "run.h"

#include <stdlib.h>
#include <string.h>

#include "spawn.h"

int gen_run(char *const argv[], int timeout_ms, struct gen_output *out,
	    struct sj_err *err)
{
	return sj_run(argv, timeout_ms, &out->out, &out->errtext,
		      &out->status, err);
}

void gen_output_free(struct gen_output *out)
{
	free(out->out);
	free(out->errtext);
	out->out = out->errtext = NULL;
}

void gen_first_line(const char *text, char *buf, size_t len)
{
	size_t n;

	while (*text == '\n')
		text++;
	n = strcspn(text, "\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
}
