// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * logger.h - the one logger of all three programs.
 *
 * Each program names itself once at start (sj_log_init): the shim and the
 * generator write to their stderr (the generator's plain news to its
 * stdout), the plugin hands its lines to Slurm's log through a sink.  Every
 * line starts with the program's prefix (logtext.h), which users grep for
 * and jupyter slurm doctor reads; no other code spells a prefix.
 */
#ifndef SJ_LOG_H
#define SJ_LOG_H

enum sj_log_level {
	SJ_LOG_ERROR,
	SJ_LOG_WARNING,		/* the line says "warning: " after the prefix */
	SJ_LOG_INFO,
	SJ_LOG_DEBUG,		/* dropped unless sj_log_set_debug(1) */
};

/* Takes one whole line: prefix included, no newline. */
typedef void sj_log_sink_fn(enum sj_log_level level, const char *line);

/* Every level on stderr, one write a line (the shim: Jupyter's log). */
void sj_log_to_stderr(enum sj_log_level level, const char *line);
/* Info on stdout, the rest on stderr (a command a person runs). */
void sj_log_to_terminal(enum sj_log_level level, const char *line);

/* Once, before the first line: prefix (a string that lives as long as the
 * program, e.g. SJ_SHIM_LOG_PREFIX) and sink (NULL: sj_log_to_stderr).
 * Before it, lines go to stderr without a prefix. */
void sj_log_init(const char *prefix, sj_log_sink_fn *sink);

/* Whether SJ_LOG_DEBUG lines are written (off at start). */
void sj_log_set_debug(int on);
int sj_log_debug(void);

/* The prefix given to sj_log_init ("" before), for text a child process
 * writes on our behalf. */
const char *sj_log_prefix(void);

/* One line: prefix, then fmt; cut at 1 KiB. */
void sj_log(enum sj_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define sj_error(...)	sj_log(SJ_LOG_ERROR, __VA_ARGS__)
#define sj_warning(...)	sj_log(SJ_LOG_WARNING, __VA_ARGS__)
#define sj_info(...)	sj_log(SJ_LOG_INFO, __VA_ARGS__)
#define sj_debug(...)	sj_log(SJ_LOG_DEBUG, __VA_ARGS__)

#endif
