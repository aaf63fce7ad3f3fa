// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * check.h - what Slurm itself can say about add's options, asked before
 * anything is written:
 *
 *   - the partitions (scontrol show partition): each one named exists
 *     (without --partition: there is a default one), --time fits its
 *     MaxTime, --nodes fits its nodes;
 *   - --jobid: the job exists, is yours, and is pending or running;
 *   - --account: where accounting is on (AccountingStorageType is not
 *     accounting_storage/none), one of your associations (sacctmgr);
 *   - --qos: likewise, one the association the job is charged to allows
 *     (--account's, or your default account's).
 *     Without accounting Slurm takes any account or QOS name, so nothing
 *     is checked or said.
 *
 * When Slurm cannot be asked (no slurmctld, no scontrol), the message
 * says so and the caller refuses unless --no-check.
 */
#ifndef GEN_CHECK_H
#define GEN_CHECK_H

#include "opts.h"
#include "sj_err.h"

int gen_check_slurm(const struct gen_opts *o, struct sj_err *err);

#endif
