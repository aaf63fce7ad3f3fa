// SPDX-License-Identifier: GPL-2.0-or-later
#include "logger.h"

#include <stdarg.h>
#include <stdio.h>

static const char *log_prefix = "";
static sj_log_sink_fn *log_sink = sj_log_to_stderr;
static int log_debug;

static void put(FILE *f, const char *line)
{
	/* One write per line keeps lines whole when srun writes too; a log
	 * line that cannot be written has nowhere else to go. */
	(void)fprintf(f, "%s\n", line);
	(void)fflush(f);
}

void sj_log_to_stderr(enum sj_log_level level, const char *line)
{
	(void)level;
	put(stderr, line);
}

void sj_log_to_terminal(enum sj_log_level level, const char *line)
{
	put(level == SJ_LOG_INFO ? stdout : stderr, line);
}

void sj_log_init(const char *prefix, sj_log_sink_fn *sink)
{
	log_prefix = prefix != NULL ? prefix : "";
	log_sink = sink != NULL ? sink : sj_log_to_stderr;
}

void sj_log_set_debug(int on)
{
	log_debug = on;
}

int sj_log_debug(void)
{
	return log_debug;
}

const char *sj_log_prefix(void)
{
	return log_prefix;
}

void sj_log(enum sj_log_level level, const char *fmt, ...)
{
	char msg[1024], line[1200];
	va_list ap;

	if (level == SJ_LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(line, sizeof(line), "%s%s%s", log_prefix,
		       level == SJ_LOG_WARNING ? "warning: " : "", msg);
	log_sink(level, line);
}
