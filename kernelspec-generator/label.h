// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * label.h - what a generated kernelspec is called.
 *
 * The default name and display name say what the kernel gets, so that a
 * launcher with several of them reads like a menu:
 *   slurm-python3-debug   "Python 3 (Slurm: debug, 1 node, 1h)"
 */
#ifndef GEN_LABEL_H
#define GEN_LABEL_H

#include <stddef.h>

#include "opts.h"
#include "sj_err.h"

/* "slurm-KERNEL[-PARTITION|-jobID]", lowercased, other characters made
 * '-' so that it is a valid kernelspec name. */
int gen_default_name(const char *kernel, const struct gen_opts *o,
		     char *out, size_t len, struct sj_err *err);

/* The wrapped display name without a trailing "(...)", then
 * "(Slurm: partition, N nodes, GPUs, time)".  wrapped may be NULL or
 * empty: the kernel name stands in. */
int gen_display_name(const char *wrapped, const char *kernel,
		     const struct gen_opts *o, char *out, size_t len,
		     struct sj_err *err);

#endif
