// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * doctor.h - jupyter slurm doctor: is this login node ready for kernels on
 * compute nodes?  The checks, in order, each one line:
 *
 *   slurm       srun on PATH is the Slurm release we were built for
 *   plugin      srun --help lists --jupyter-kernel
 *   munge       a credential made here decodes here
 *   shim        slurm-jupyter-shim is here and the same one runs on a node
 *   site        the site's defaults for the shim (shimconf.h), if any,
 *               are root's and read well; what they set
 *   rendezvous  a compute node reached this host and bound its relay port
 *   relay       this host reached the node's relay port (link handshake)
 *   kernel      a kernel started through the shim answers kernel_info
 *
 * A check whose precondition failed is skipped, and says which one.
 */
#ifndef GEN_DOCTOR_H
#define GEN_DOCTOR_H

#include <limits.h>
#include <stddef.h>

#include "sj_err.h"

#define MAX_SLURM_ARGS 64

struct doctor {
	const char *kernel;		/* --kernel (python3) */
	const char *shim_opt;		/* --shim=PATH */
	int timeout;			/* --timeout, seconds per wait */
	int verbose;			/* -v: print the trial's shim log */
	const char *slurm[MAX_SLURM_ARGS];	/* for srun and salloc */
	size_t nslurm;
	char *owned[MAX_SLURM_ARGS];	/* "--partition=X" made from -p X */
	size_t nowned;
	int failed;			/* a check failed or was skipped */
	char shim[PATH_MAX];		/* found by the shim check */
	char version[256];		/* its --version here */
};

enum verdict { DR_OK, DR_FAIL, DR_SKIP };	/* ok, FAIL, skip */

/* One line: "ok  ", "FAIL" or "skip", then the text; anything but ok
 * makes the exit status 1. */
void dr_line(struct doctor *d, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* doctor_checks.c: (0) and (a) to (c); 1 when the check passed. */
int doctor_check_slurm(struct doctor *d);
int doctor_check_plugin(struct doctor *d);
int doctor_check_munge(struct doctor *d);
int doctor_check_shim(struct doctor *d);
/* The site's shim.conf: 1 when there is none or the shim would take it. */
int doctor_check_site(struct doctor *d);

/* What the trial kernel got to. */
enum dk_stage {
	DK_NONE = 0,
	DK_RENDEZVOUS,		/* "kernel starting on NODE" */
	DK_RELAY,		/* the node saw our link handshake */
	DK_ANSWERED,		/* kernel_info_reply */
};

struct dk_result {
	enum dk_stage stage;
	int reached;		/* the node connected to the rendezvous */
	char node[64];
	char relay[128];	/* "ADDR port P", from the node shim */
	char why[512];		/* the failure, from the shim's log */
	char banner[128];	/* implementation and version */
	double seconds;		/* until the answer */
	char *log;		/* the shim's stderr, malloc'd */
};

/* Starts argv[0] (the shim) with a connection file of its own, waits for
 * each stage at most timeout seconds in all, and ends it.  -1 only when
 * it could not be tried (err set). */
int dk_run(char *const *argv, size_t connfile_arg, int timeout,
	   struct dk_result *r, struct sj_err *err);
void dk_result_free(struct dk_result *r);

/* doctor_msg.c: kernel_info over the shell channel, signed as the
 * connection file says (hmac-sha256). */
int dk_send_kernel_info(void *sock, const char *key, const char *session,
			struct sj_err *err);
/* 1: a kernel_info_reply (banner filled), 0: something else or nothing
 * yet, -1: error. */
int dk_recv_kernel_info(void *sock, const char *key, char *banner,
			size_t len, struct sj_err *err);

#endif
