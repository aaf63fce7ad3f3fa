// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log.h - the shim's messages, on stderr, which Jupyter puts in its log.
 * Every line starts with SJ_SHIM_LOG_PREFIX (logtext.h) so a user can grep
 * for it.
 */
#ifndef SHIM_LOG_H
#define SHIM_LOG_H

extern int shim_verbose;

void shim_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void shim_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void shim_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* evio.h's sj_note_fn: debug lines as shim_debug, the others as errors. */
void shim_note(void *arg, int debug, const char *msg);

#endif
