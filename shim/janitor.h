/*
 * janitor.h - releases the allocation the shim made, whatever happens.
 *
 * A small process in a session of its own (so Jupyter's killpg does not
 * reach it) holds the read end of a pipe.  The shim tells it which job it
 * made; when the pipe closes (the shim exited, cleanly or by SIGKILL), the
 * janitor cancels that job, retrying while slurmctld is unreachable.
 * Allocations the shim did not make are never named to it.
 */
#ifndef SHIM_JANITOR_H
#define SHIM_JANITOR_H

#include "sj_err.h"

/* Must run before any thread exists (i.e. before zmq_ctx_new). */
int janitor_start(int *wfd, struct sj_err *err);
int janitor_own_job(int wfd, const char *jobid, struct sj_err *err);

#endif
