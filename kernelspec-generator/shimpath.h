// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shimpath.h - which slurm-jupyter-shim a kernelspec names.
 *
 * --shim=PATH if given; else the one installed next to jupyter-slurm
 * (the same directory as /proc/self/exe), so a kernelspec names the shim
 * of the same installation; else the first on PATH.  Always an absolute
 * path: Jupyter may start kernels with another PATH.
 */
#ifndef GEN_SHIMPATH_H
#define GEN_SHIMPATH_H

#include <stddef.h>

#include "sj_err.h"

#define GEN_SHIM_NAME "slurm-jupyter-shim"

int gen_find_shim(const char *given, char *out, size_t len,
		  struct sj_err *err);

#endif
