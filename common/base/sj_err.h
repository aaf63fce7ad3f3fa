// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sj_err.h - errors carried as values.
 *
 * Every fallible function in common/ returns 0 on success and -1 on failure,
 * and on failure fills a caller-owned struct sj_err with one human-readable
 * line that names the problem.  Callers prefix it with their own context
 * ("spank_jupyter: ", "slurm-jupyter-shim: ") when they print it.
 */
#ifndef SJ_ERR_H
#define SJ_ERR_H

#include <stddef.h>

struct sj_err {
	char msg[512];
};

/* Sets err->msg (printf-style); err may be NULL.  Always returns -1 so that
 * callers can write `return sj_err_set(err, "...")`. */
int sj_err_set(struct sj_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like sj_err_set, with ": strerror(errnum)" appended. */
int sj_err_errno(struct sj_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an error already set. */
int sj_err_wrap(struct sj_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
