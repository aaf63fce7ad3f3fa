// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"
#include "logtext.h"

#include <stdarg.h>
#include <stdio.h>

int shim_verbose;

static void emit(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line keeps lines whole when srun writes too. */
	fprintf(stderr, SJ_SHIM_LOG_PREFIX "%s\n", line);
	fflush(stderr);
}

void shim_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap);
	va_end(ap);
}

void shim_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap);
	va_end(ap);
}

void shim_debug(const char *fmt, ...)
{
	va_list ap;

	if (!shim_verbose)
		return;
	va_start(ap, fmt);
	emit(fmt, ap);
	va_end(ap);
}

void shim_note(void *arg, int debug, const char *msg)
{
	(void)arg;
	if (debug)
		shim_debug("%s", msg);
	else
		shim_error("%s", msg);
}
