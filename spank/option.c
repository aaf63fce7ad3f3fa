// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * option.c - the --jupyter-kernel option.
 *
 *   srun --jupyter-kernel=HOST:PORT:NONCE   set by slurm-jupyter-shim: this
 *                                           step runs a kernel
 *   salloc --jupyter-kernel[=WORD]          an allocation for kernels
 *
 * A value without ':' is an allocation marker.  Options given to salloc
 * reach every step of the allocation through the environment, so a step
 * that sees a marker is not a kernel step.
 *
 * In slurmstepd, Slurm 22.05 up to 23.11 runs the callback twice: once for
 * the launch message and once for the environment, which may carry the
 * marker of the enclosing salloc.  So a rendezvous, once seen, is never
 * replaced by anything of lower rank, and the callback never fails there
 * (a failing remote callback drains the node): a bad value is remembered
 * and fails the step in task_init.
 */
#include <string.h>

#include "plugin.h"

static struct sj_opt state;

static int option_cb(int val, const char *optarg, int remote);

static struct spank_option option = {
	SJ_OPTION,
	"[HOST:PORT:NONCE]",
	"Jupyter kernels. salloc: an allocation for kernels. "
	"srun: HOST:PORT:NONCE is set by slurm-jupyter-shim, not by hand.",
	2, 0, option_cb,
};

static void classify(const char *optarg, struct sj_opt *o)
{
	memset(o, 0, sizeof(*o));
	if (optarg == NULL || strchr(optarg, ':') == NULL) {
		o->kind = SJ_OPT_MARKER;
		return;
	}
	if (sj_rdv_spec_parse(optarg, &o->spec, &o->err) != 0) {
		memset(&o->spec, 0, sizeof(o->spec));
		o->kind = SJ_OPT_BAD;
		return;
	}
	o->kind = SJ_OPT_RENDEZVOUS;
}

static int option_cb(int val, const char *optarg, int remote)
{
	struct sj_opt next;

	(void)val;
	classify(optarg, &next);
	if (!remote) {
		if (next.kind == SJ_OPT_BAD) {
			sj_error("--" SJ_OPTION ": %s",
				 next.err.msg);
			return -1;
		}
		/* On a command line the last one counts. */
		state = next;
		return 0;
	}
	if (next.kind > state.kind) {
		state = next;
	} else if (next.kind == SJ_OPT_RENDEZVOUS &&
		   memcmp(&next.spec, &state.spec, sizeof(next.spec)) != 0) {
		sj_debug("--" SJ_OPTION ": ignoring a "
			 "second rendezvous %s:%d", next.spec.host,
			 next.spec.port);
	}
	return 0;
}

int sj_option_register(spank_t sp, struct sj_err *err)
{
	spank_err_t rc = spank_option_register(sp, &option);

	if (rc != ESPANK_SUCCESS)
		return sj_err_set(err, "cannot register --%s: %s", SJ_OPTION,
				  spank_strerror(rc));
	return 0;
}

const struct sj_opt *sj_option(void)
{
	return &state;
}

void sj_option_reset(void)
{
	memset(&state, 0, sizeof(state));
}

int sj_srun_post_opt(spank_t sp, int ac, char **av)
{
	const char *error = NULL;

	(void)sp;
	(void)ac;
	(void)av;
	if (state.kind != SJ_OPT_RENDEZVOUS)
		return 0;
	/* The nodes read the same plugstack.conf as a rule; say it here
	 * rather than after the step has been launched. */
	if (sj_plugin_config(&error) == NULL) {
		sj_error("--" SJ_OPTION ": the plugin is "
			 "misconfigured (plugstack.conf: %s)", error);
		return -1;
	}
	return 0;
}
