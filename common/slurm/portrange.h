// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * portrange.h - "N-M" TCP port ranges from plugstack.conf.
 */
#ifndef SJ_PORTRANGE_H
#define SJ_PORTRANGE_H

#include "sj_err.h"

struct sj_port_range {
	int lo;		/* 0 and 0: any port the kernel picks (ephemeral) */
	int hi;
};

/* Accepts "0" (ephemeral), "N" (one port) and "N-M" with
 * 1 <= N <= M <= 65535. */
int sj_port_range_parse(const char *s, struct sj_port_range *r,
			struct sj_err *err);

#endif
