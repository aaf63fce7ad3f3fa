// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * login.h - what the login shim's two files share: login.c sets up and
 * runs the kernel (allocation, step, rendezvous, link, forwarding);
 * login_news.c holds the stand-in, Slurm's news for the cells, the
 * last-end file and the clocks (warnings, idle).  Nothing else includes
 * it.
 */
#ifndef SHIM_LOGIN_H
#define SHIM_LOGIN_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "args.h"
#include "connfile.h"
#include "forward.h"
#include "idle.h"
#include "news.h"
#include "rdv_server.h"
#include "slurm.h"
#include "standin.h"

struct login {
	const struct shim_args *args;
	struct sj_connfile cf;
	char jobid[32];
	pid_t srun;
	int srun_status;
	int srun_done;
	int sfd;
	int stopping;
	struct sj_hello hello;
	int have_hello;
	int parent_fd;		/* pidfd of Jupyter, -1 if unsupported */
	struct sj_channels *ch;	/* Jupyter's clients, served meanwhile */
	struct sj_news news;	/* Slurm's news for the cells (news.h) */
	struct sj_warn_plan warn;	/* a copy: sj_warn_step marks it */
	char last_end[512];	/* the note for the next kernel ("": none) */
	unsigned prev_idle;	/* the previous kernel ended idle this long */
	struct sj_idle idle;	/* --idle-timeout's clock */
	int idle_ended;		/* we asked the kernel to shut down */
	struct sj_standin *si;	/* signs the shim's own requests */
	const char *last_end_path;
};

/* login.c: ends the kernel's step (srun relays SIGTERM), once. */
void stop_srun(struct login *l);

/* login_news.c.  A file the kernels of one kernelspec keep in the lock
 * directory, "<what>-<hash>.<ext>" ("" if there is none). */
void spec_state_path(const struct shim_args *a, const struct sj_connfile *cf,
		     const char *what, const char *ext, char *out, size_t len);
/* The stand-in answers for the kernel until the link is opened. */
int standin_open(struct sj_standin *si, const struct shim_args *a,
		 const struct sj_connfile *cf, struct sj_err *err);
/* Slurm ended the request while it waited (scancel, jupyter slurm
 * cancel): the held cell is told why before the shim exits. */
void tell_not_started(struct login *l, const char *jobid);

/* slurm_wait_also's pending: the waiting line in the held cell. */
void on_pending(void *arg, const char *jobid,
		const struct slurm_job_facts *f);
/* The warning clock (a timerfd) strikes at t; 0 stops it. */
void warn_arm(int fd, time_t t);
/* The idle clock strikes at t. */
void idle_arm(int fd, time_t t);
/* sj_fwd_watch handlers of the two clocks (w->arg: the struct login). */
int on_warn_clock(struct sj_fwd_watch *w);
int on_idle_clock(struct sj_fwd_watch *w);
/* Why the last kernel of this kernelspec ended (the file at path): read
 * once into l->last_end or l->prev_idle, and removed. */
void take_last_end(struct login *l, const char *path);
/* Tells the next kernel of this kernelspec that this one ended idle. */
void note_idle_end(struct login *l, unsigned idle);
/* The kernel runs: the waiting line says where; the previous end told. */
void tell_started(struct login *l);
/* Slurm ended the kernel: the running cell and the next kernel (the file
 * at path) are told why. */
void tell_death(struct login *l, const struct slurm_job_facts *f,
		const char *path);

#endif
