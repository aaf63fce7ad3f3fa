// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * plugin.h - what the parts of spank_jupyter.so share.
 *
 * dispatch.c owns the SPANK entry points and hands each callback to the
 * file of its context: option.c (the --jupyter-kernel option, every
 * context), alloc.c (salloc, sbatch), slurmstepd.c (the compute node) and epilog.c
 * (the job epilog).
 * Nothing here is exported: the version script keeps it local.
 */
#ifndef SJ_PLUGIN_H
#define SJ_PLUGIN_H

#include <slurm/spank.h>

#include "config.h"
#include "logger.h"
#include "logtext.h"
#include "rendezvous.h"
#include "sj_err.h"

#define SJ_OPTION "jupyter-kernel"

/* dispatch.c: the plugstack.conf arguments, parsed in init.  NULL if they
 * were bad; *error (if not NULL) then says why. */
const struct sj_config *sj_plugin_config(const char **error);

/* option.c: what --jupyter-kernel said in this process. */
enum sj_opt_kind {
	SJ_OPT_UNSET = 0,	/* not given */
	SJ_OPT_MARKER,		/* a value without ':': an allocation marker */
	SJ_OPT_BAD,		/* a value with ':' that is no rendezvous */
	SJ_OPT_RENDEZVOUS,	/* HOST:PORT:NONCE: this step runs a kernel */
};

struct sj_opt {
	enum sj_opt_kind kind;
	struct sj_rdv_spec spec;	/* SJ_OPT_RENDEZVOUS */
	struct sj_err err;		/* SJ_OPT_BAD */
};

int sj_option_register(spank_t sp, struct sj_err *err);
const struct sj_opt *sj_option(void);
void sj_option_reset(void);

/* Local (srun) context: fails the command if the option was given while
 * the plugstack arguments are bad. */
int sj_srun_post_opt(spank_t sp, int ac, char **av);

/* alloc.c: salloc and sbatch. */
int sj_alloc_post_opt(spank_t sp, int ac, char **av);

/* slurmstepd.c: the compute node. */
int sj_stepd_post_opt(spank_t sp, int ac, char **av);
int sj_stepd_task_init_privileged(spank_t sp, int ac, char **av);
int sj_stepd_task_init(spank_t sp, int ac, char **av);
int sj_stepd_task_exit(spank_t sp, int ac, char **av);
int sj_stepd_exit(spank_t sp, int ac, char **av);

/* epilog.c: the job epilog (root, every node of the job); never fails. */
int sj_job_epilog(spank_t sp, int ac, char **av);

#endif
