// SPDX-License-Identifier: GPL-2.0-or-later
#include "sj_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The message from fmt and ap; -1, as every sj_err_* returns. */
static int __attribute__((format(printf, 2, 0)))
vset(struct sj_err *err, const char *fmt, va_list ap)
{
	if (err != NULL)
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int sj_err_set(struct sj_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, fmt, ap);
	va_end(ap);
	return -1;
}

int sj_err_errno(struct sj_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vset(err, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
			 strerror(errnum));
	return -1;
}

int sj_err_wrap(struct sj_err *err, const char *fmt, ...)
{
	char prefix[256];
	size_t pl, keep;
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	pl = strlen(prefix) + 2;	/* "prefix: " */
	/* The tail of an overlong message is what gets cut. */
	keep = strnlen(err->msg, sizeof(err->msg) - 1);
	if (keep > sizeof(err->msg) - 1 - pl)
		keep = sizeof(err->msg) - 1 - pl;
	memmove(err->msg + pl, err->msg, keep);
	err->msg[pl + keep] = '\0';
	memcpy(err->msg, prefix, pl - 2);
	memcpy(err->msg + pl - 2, ": ", 2);
	return -1;
}
