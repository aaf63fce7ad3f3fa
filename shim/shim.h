// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shim.h - the two ends of slurm-jupyter-shim.
 */
#ifndef SHIM_SHIM_H
#define SHIM_SHIM_H

#include "args.h"

int login_main(const struct shim_args *a);
int node_main(const struct shim_args *a);

#endif
