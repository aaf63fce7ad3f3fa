// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log.h - the shim's messages: the one logger (logger.h), which main()
 * sets up with SJ_SHIM_LOG_PREFIX on stderr, where Jupyter keeps them.
 */
#ifndef SHIM_LOG_H
#define SHIM_LOG_H

#include "logger.h"

#define shim_error(...)	sj_log(SJ_LOG_ERROR, __VA_ARGS__)
#define shim_info(...)	sj_log(SJ_LOG_INFO, __VA_ARGS__)
#define shim_debug(...)	sj_log(SJ_LOG_DEBUG, __VA_ARGS__)

struct sj_channels;

/* A debug line with what the shim forwarded (forward.h's stats), as both
 * ends write it when their forwarding ends. */
void shim_debug_forwarded(const struct sj_channels *ch);

/* Once, first thing in main(): the prefix, stderr. */
void shim_log_init(void);

/* evio.h's sj_note_fn: debug lines as shim_debug, the others as errors. */
void shim_note(void *arg, int debug, const char *msg);

#endif
