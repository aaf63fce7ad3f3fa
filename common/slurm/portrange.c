// SPDX-License-Identifier: GPL-2.0-or-later
#include "portrange.h"

#include <stddef.h>

/* Reads a decimal port at *s and advances *s past it.  Only digits: no
 * sign, no space, no leading zero (so "010" cannot be taken for octal). */
static int parse_port(const char **s, int *port, struct sj_err *err)
{
	const char *p = *s;
	long v = 0;

	if (*p < '0' || *p > '9')
		return sj_err_set(err, "expected a port number (N or N-M)");
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return sj_err_set(err, "port with a leading zero");
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return sj_err_set(err, "port out of range 1-65535");
		p++;
	}
	*port = (int)v;
	*s = p;
	return 0;
}

int sj_port_range_parse(const char *s, struct sj_port_range *r,
			struct sj_err *err)
{
	const char *p = s;
	int lo, hi;

	if (s == NULL || *s == '\0')
		return sj_err_set(err, "empty port range");
	if (parse_port(&p, &lo, err) != 0)
		return -1;
	if (*p == '\0') {
		hi = lo;
	} else if (*p == '-') {
		p++;
		if (parse_port(&p, &hi, err) != 0)
			return -1;
		if (*p != '\0')
			return sj_err_set(err, "junk after the port range "
					  "(expected N or N-M)");
	} else {
		return sj_err_set(err, "junk after the port (expected N or "
				  "N-M)");
	}
	if (lo == 0 && hi == 0 && p == s + 1) {
		r->lo = r->hi = 0;	/* "0": ephemeral */
		return 0;
	}
	if (lo < 1 || hi < 1)
		return sj_err_set(err, "port out of range 1-65535 (a lone 0 "
				  "means any free port)");
	if (lo > hi)
		return sj_err_set(err, "first port %d is greater than last "
				  "port %d", lo, hi);
	r->lo = lo;
	r->hi = hi;
	return 0;
}
