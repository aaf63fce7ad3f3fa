// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * canceller.h - who cancelled a job, as Slurm's accounting records it.
 *
 * slurmctld keeps no canceller in the job record it hands out (scontrol,
 * slurm_load_job); slurmdbd does, and sacct shows it in its State column:
 * "CANCELLED by 1001".  The shim asks sacct when the kernel's job ended
 * CANCELLED, so that the notebook can say who stopped the kernel.
 */
#ifndef SJ_CANCELLER_H
#define SJ_CANCELLER_H

/* sacct's State of one job (`sacct -n -X -P -o State`): 1 with *uid for
 * "CANCELLED by UID" (a trailing newline is fine), 0 for anything else
 * (another state, a cancellation with no uid recorded, or a job
 * accounting does not know yet). */
int sj_cancelled_by(const char *state, unsigned *uid);

#endif
