// SPDX-License-Identifier: GPL-2.0-or-later
/* A connection file, as Jupyter (or anyone who can write one) left it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "connfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_connfile cf;
	struct sj_err err;
	char ep[512];

	if (sj_connfile_parse((const char *)data, size, &cf, &err) != 0)
		return 0;
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		(void)sj_connfile_endpoint(&cf, ch, ep, sizeof(ep), &err);
	return 0;
}
