// SPDX-License-Identifier: GPL-2.0-or-later
/* What a Slurm says its version is: the first line of `srun --version`
 * (any program named srun on PATH prints what it likes), the shim's
 * --version line, and a version alone.  A release read must print and
 * read back as itself, and the check's message must be whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slurmver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_release(const struct sj_slurm_version *v, const char *line)
{
	struct sj_slurm_version back;
	struct sj_err err;
	char rel[32];

	sj_slurm_release_str(v, rel, sizeof(rel));
	if (sj_slurm_version_parse(rel, &back) != 0 ||
	    back.major != v->major || back.minor != v->minor ||
	    !sj_slurm_same_release(v, &back))
		abort();
	if (sj_slurm_release_check("fuzz", "22.05.8", v, line, &err) == 0) {
		if (v->major != 22 || v->minor != 5)
			abort();
	} else if (err.msg[0] == '\0') {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_slurm_version v;
	struct sj_err err;
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sj_slurm_version_parse(s, &v) == 0)
		check_release(&v, s);
	if (sj_slurm_version_banner(s, &v) == 0)
		check_release(&v, s);
	if (sj_slurm_version_built_for(s, &v) == 0)
		check_release(&v, s);
	/* What could not be told is named in the message as it was said. */
	if (sj_slurm_release_check("fuzz", "22.05.8", NULL, s, &err) == 0 ||
	    err.msg[0] == '\0')
		abort();
	free(s);
	return 0;
}
