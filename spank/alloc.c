// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * alloc.c - salloc and sbatch (allocator context).
 *
 * `salloc --jupyter-kernel` makes an allocation for kernels.  Its shell and
 * everything started there (a Jupyter server, the shims it starts) learn it
 * from SLURM_JUPYTER_ALLOCATION=1; prolog and epilog see
 * SPANK_JUPYTER_ALLOCATION=1.  The option itself reaches every step of the
 * allocation through the environment (see option.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

#define SJ_ENV_ALLOCATION "SLURM_JUPYTER_ALLOCATION"
#define SJ_JOBCTL_ALLOCATION "JUPYTER_ALLOCATION"

int sj_alloc_post_opt(spank_t sp, int ac, char **av)
{
	const struct sj_opt *o = sj_option();
	const char *error = NULL;
	spank_err_t rc;

	(void)ac;
	(void)av;
	if (o->kind == SJ_OPT_UNSET)
		return 0;
	/* The value would reach every step of the allocation, and each would
	 * try the same rendezvous. */
	if (o->kind == SJ_OPT_RENDEZVOUS) {
		sj_error("--" SJ_OPTION "=HOST:PORT:NONCE is "
			 "for srun (slurm-jupyter-shim sets it); salloc and "
			 "sbatch take --" SJ_OPTION " without a value");
		return -1;
	}
	if (sj_plugin_config(&error) == NULL) {
		sj_error("--" SJ_OPTION ": the plugin is "
			 "misconfigured (plugstack.conf: %s)", error);
		return -1;
	}
	if (setenv(SJ_ENV_ALLOCATION, "1", 1) != 0) {
		sj_error("setenv %s: %s", SJ_ENV_ALLOCATION,
			 strerror(errno));
		return -1;
	}
	rc = spank_job_control_setenv(sp, SJ_JOBCTL_ALLOCATION, "1", 1);
	if (rc != ESPANK_SUCCESS) {
		sj_error("spank_job_control_setenv %s: %s",
			 SJ_JOBCTL_ALLOCATION, spank_strerror(rc));
		return -1;
	}
	return 0;
}
