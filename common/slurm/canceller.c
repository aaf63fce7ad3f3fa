// SPDX-License-Identifier: GPL-2.0-or-later
#include "canceller.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sj_cancelled_by(const char *state, unsigned *uid)
{
	static const char mark[] = "CANCELLED by ";
	unsigned long v;
	char *end;

	if (strncmp(state, mark, sizeof(mark) - 1) != 0)
		return 0;
	state += sizeof(mark) - 1;
	if (*state < '0' || *state > '9')
		return 0;
	errno = 0;
	v = strtoul(state, &end, 10);
	/* 4294967294: Slurm's NO_VAL, never a uid it recorded */
	if (errno != 0 || v >= 0xfffffffeUL ||
	    (*end != '\0' && strcmp(end, "\n") != 0))
		return 0;
	*uid = (unsigned)v;
	return 1;
}
