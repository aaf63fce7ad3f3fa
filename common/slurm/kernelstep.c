// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernelstep.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "logtext.h"

void sj_alloc_job_name(const char *const *slurm_args, size_t n, char *out,
		       size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		for (const char *p = slurm_args[i]; ; p++) {
			h ^= (uint8_t)*p;
			h *= 16777619u;
			if (*p == '\0')
				break;
		}
	}
	snprintf(out, len, SJ_JOB_NAME "-%08x", (unsigned)h);
}

char *sj_setup_script(const char *setup)
{
	char *script = NULL;

	if (asprintf(&script, "{ %s\n} || { echo \"" SJ_SHIM_LOG_PREFIX "--setup "
		     "failed (exit status $?); not starting the kernel\" >&2; "
		     "exit 1; }\nexec \"$@\"", setup) < 0)
		return NULL;
	return script;
}
