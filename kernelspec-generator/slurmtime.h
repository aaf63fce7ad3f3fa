// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * slurmtime.h - Slurm time limits, as --time takes them.
 */
#ifndef GEN_SLURMTIME_H
#define GEN_SLURMTIME_H

#include <stddef.h>

#include "sj_err.h"

/* What the error message offers when a time does not parse. */
#define GEN_TIME_FORMATS "M, M:S, H:M:S, D-H, D-H:M or D-H:M:S, " \
	"e.g. 60, 1:30:00, 2-00:00:00"

/* Parses M, M:S, H:M:S, D-H, D-H:M or D-H:M:S into seconds.  The leading
 * field is unbounded (90 is ninety minutes); the ones after it are clock
 * fields (hours < 24 after a day, minutes and seconds < 60). */
int gen_time_parse(const char *s, long long *seconds, struct sj_err *err);

/* Minutes as Slurm counts them: seconds rounded up. */
long long gen_time_minutes(long long seconds);

/* "45min", "1h", "1h30min", "2d", "2d12h": short, for display names. */
void gen_time_label(long long minutes, char *out, size_t len);

/* "01:00:00", "2-00:00:00": Slurm's own way of printing a limit. */
void gen_time_slurm(long long minutes, char *out, size_t len);

#endif
