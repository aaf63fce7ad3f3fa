// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * janitor.h - releases the allocation the shim made, whatever happens.
 *
 * A small process in a session of its own (so Jupyter's killpg does not
 * reach it) holds the read end of a pipe.  The shim tells it which
 * allocation it uses; when the pipe closes (the shim exited, cleanly or by
 * SIGKILL), the janitor waits the linger time and cancels the allocation
 * if no other shim uses it (alloc.h), retrying while slurmctld is
 * unreachable.  Allocations no shim made are never named to it.
 */
#ifndef SHIM_JANITOR_H
#define SHIM_JANITOR_H

#include "sj_err.h"

/* Forks: call it before the shim opens the connection file's sockets or
 * reads the key, so the janitor holds neither (it closes what it inherits
 * all the same). */
int janitor_start(int *wfd, struct sj_err *err);

/* What the janitor needs to know: "job" (an allocation made by a shim, to
 * release when unused), "lockdir" (see alloc.h), "linger" (seconds to wait
 * after we are gone before releasing it). */
int janitor_tell(int wfd, const char *key, const char *value,
		 struct sj_err *err);
int janitor_own_job(int wfd, const char *jobid, struct sj_err *err);

#endif
