// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dispatch.c - the SPANK entry points of spank_jupyter.so.
 *
 * Each callback goes to the file of the context it runs in.  In slurmstepd
 * (remote context) init and init_post_opt must never fail: Slurm drains the
 * node when they do.  Problems found there are remembered and fail only a
 * kernel step, from task_init_privileged or task_init.
 */
#include <string.h>

#include "plugin.h"

SPANK_PLUGIN(jupyter, 1)

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
/* From 25.05 Slurm asks the plugin what a failed init means, and drains
 * the node unless told otherwise.  Our remote init does not fail (see
 * above); should it ever, the step's job fails and the node stays up.
 * The type is spank.h's: a plain int. */
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif

/* Shows up in `strings spank_jupyter.so`: the plugin only loads into the
 * Slurm major.minor it was built for. */
__attribute__((used)) static const char spank_jupyter_build_info[] =
	"spank_jupyter " SJ_VERSION " built for Slurm " SJ_SLURM_VERSION;

static struct {
	int parsed;
	struct sj_config config;
	struct sj_err config_err;
} plugin;

const struct sj_config *sj_plugin_config(const char **error)
{
	if (plugin.parsed)
		return &plugin.config;
	if (error != NULL)
		*error = plugin.config_err.msg;
	return NULL;
}

/* The one logger's sink here: Slurm's log, which Slurm filters by its
 * own verbosity (so our debug lines are always handed on). */
static void to_slurm(enum sj_log_level level, const char *line)
{
	switch (level) {
	case SJ_LOG_ERROR:
		slurm_error("%s", line);
		break;
	case SJ_LOG_WARNING:
	case SJ_LOG_INFO:
		slurm_info("%s", line);
		break;
	case SJ_LOG_DEBUG:
		slurm_verbose("%s", line);
		break;
	}
}

/* First thing in every entry point Slurm may call without init. */
static void log_init(void)
{
	sj_log_init(SJ_PLUGIN_LOG_PREFIX, to_slurm);
	sj_log_set_debug(1);
}

static int uses_option(spank_context_t ctx)
{
	return ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR ||
	       ctx == S_CTX_REMOTE;
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	spank_context_t ctx = spank_context();
	struct sj_err err;

	log_init();
	/* slurmd: nothing to do, and a failure there would keep it from
	 * starting.  (In the job epilog's process Slurm calls no init.) */
	if (!uses_option(ctx))
		return 0;

	sj_debug("%s", spank_jupyter_build_info);

	memset(&plugin, 0, sizeof(plugin));
	sj_config_defaults(&plugin.config);
	if (sj_config_parse(ac, av, &plugin.config, &plugin.config_err) == 0) {
		plugin.parsed = 1;
	} else if (ctx == S_CTX_REMOTE) {
		/* Only SlurmdLogFile sees this; a kernel step reports it to
		 * its user again. */
		sj_error("plugstack.conf: %s", plugin.config_err.msg);
	}

	if (sj_option_register(sp, &err) != 0) {
		sj_error("%s", err.msg);
		/* A remote failure would drain the node; without the
		 * option no step of this process is a kernel step. */
		return ctx == S_CTX_REMOTE ? 0 : -1;
	}
	return 0;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	switch (spank_context()) {
	case S_CTX_LOCAL:
		return sj_srun_post_opt(sp, ac, av);
	case S_CTX_ALLOCATOR:
		return sj_alloc_post_opt(sp, ac, av);
	case S_CTX_REMOTE:
		return sj_stepd_post_opt(sp, ac, av);
	default:
		return 0;
	}
}

/* fn, in context want only. */
static int only_in(spank_context_t want, int (*fn)(spank_t, int, char **),
		   spank_t sp, int ac, char **av)
{
	return spank_context() == want ? fn(sp, ac, av) : 0;
}

int slurm_spank_task_init_privileged(spank_t sp, int ac, char **av)
{
	return only_in(S_CTX_REMOTE, sj_stepd_task_init_privileged, sp, ac,
		       av);
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	return only_in(S_CTX_REMOTE, sj_stepd_task_init, sp, ac, av);
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
	return only_in(S_CTX_REMOTE, sj_stepd_task_exit, sp, ac, av);
}

/* Slurm calls no init in the epilog's process. */
int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	log_init();
	return only_in(S_CTX_JOB_SCRIPT, sj_job_epilog, sp, ac, av);
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	spank_context_t ctx = spank_context();
	int rv = 0;

	if (ctx == S_CTX_REMOTE)
		rv = sj_stepd_exit(sp, ac, av);
	if (uses_option(ctx)) {
		sj_option_reset();
		memset(&plugin, 0, sizeof(plugin));
	}
	return rv;
}
