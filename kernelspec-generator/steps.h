// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * steps.h - what the shim will run for a kernelspec, for `show`.
 *
 * This mirrors the shim (shim/login.c choose_allocation, shim/alloc.c
 * alloc_init, shim/slurm.c slurm_allocate and slurm_start_step): when one
 * changes what it runs, this changes with it.  The constants come from the
 * shim's own headers.
 */
#ifndef GEN_STEPS_H
#define GEN_STEPS_H

#include <stdint.h>
#include <stdio.h>

#include "split.h"

/* The job name the shim gives allocations it makes for these salloc
 * arguments: "jupyter-kernel-" and a hash of them. */
void gen_alloc_name(const struct gen_strv *salloc, char *out, size_t len);

/* The allocation, the salloc, the srun and the release, numbered. */
void gen_steps_print(FILE *f, const struct gen_split *s);

#endif
