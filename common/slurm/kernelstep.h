// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kernelstep.h - what the shim asks of Slurm, in one place, so that
 * `jupyter slurm show` prints exactly what the shim will run.
 */
#ifndef SJ_KERNELSTEP_H
#define SJ_KERNELSTEP_H

#include <stddef.h>

/* Job names: every allocation and step of ours starts with this. */
#define SJ_JOB_NAME "jupyter-kernel"

/* Seconds an unused allocation is kept for the next kernel: longer than
 * a restart (Jupyter waits up to 5 s for a kernel to shut down). */
#define SJ_DEFAULT_LINGER 10
#define SJ_MAX_LINGER 86400

/*
 * The login shim tells the kernel about its allocation through srun's
 * environment: srun overwrites SLURM_NNODES and SLURM_NODELIST with the
 * kernel step's (one node, one task), so code in a cell that runs srun
 * would get one node.  The node shim puts the job's values back and
 * drops the step's task layout, as a salloc shell has it.
 * SLURM_JUPYTER_END_TIME stays for the kernel: the allocation's end, in
 * seconds since the epoch, as it was when the kernel started (absent
 * without a time limit).
 */
#define SJ_ENV_JOB_NODELIST "SLURM_JUPYTER_JOB_NODELIST"
#define SJ_ENV_JOB_NUM_NODES "SLURM_JUPYTER_JOB_NUM_NODES"
#define SJ_ENV_END_TIME "SLURM_JUPYTER_END_TIME"

/* "jupyter-kernel-XXXXXXXX": XXXXXXXX is FNV-1a over the Slurm options
 * (each with its NUL), so kernels with the same options find each
 * other's allocations. */
void sj_alloc_job_name(const char *const *slurm_args, size_t n, char *out,
		       size_t len);

/* The /bin/sh -c script that runs --setup before the kernel: the kernel
 * starts only if the setup succeeded, and "$@" keeps its argv intact.
 * Returns a malloc'd string, NULL when out of memory. */
char *sj_setup_script(const char *setup);

#endif
