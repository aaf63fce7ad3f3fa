// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * slurmver.h - which Slurm release a version string names, and the one
 * check every part of spank-jupyter makes with it: the Slurm it runs
 * against must be the major.minor it was built for.  Slurm keeps neither
 * its ABI (libslurm's soname, the structs of slurm.h) nor its plugin
 * interface across releases, so 22.05.8 and 22.05.2 go together but 22.05
 * and 23.02 never do.
 */
#ifndef SJ_SLURMVER_H
#define SJ_SLURMVER_H

#include <stddef.h>

#include "sj_err.h"

struct sj_slurm_version {
	unsigned major;		/* 22 */
	unsigned minor;		/* 5 */
	unsigned micro;		/* 8; 0 when not given */
};

/* A version alone, all of s: "22.05", "22.05.8", "26.05.3-1" (a package
 * revision or a tag after '-' is ignored).  -1 for anything else. */
int sj_slurm_version_parse(const char *s, struct sj_slurm_version *v);

/* The first line of `srun --version` (or salloc's): "slurm 26.05.3",
 * Debian's "slurm-wlm 22.05.8"; a trailing newline is fine.  -1 for any
 * other line, which includes an error message in its place. */
int sj_slurm_version_banner(const char *line, struct sj_slurm_version *v);

/* The Slurm in the first line of `slurm-jupyter-shim --version`:
 * "slurm-jupyter-shim 0.1.0 (built for Slurm 22.05.8)". */
int sj_slurm_version_built_for(const char *line, struct sj_slurm_version *v);

/* 1 when a and b are the same release (major.minor). */
int sj_slurm_same_release(const struct sj_slurm_version *a,
			  const struct sj_slurm_version *b);

/* "22.05", as Slurm names its releases. */
void sj_slurm_release_str(const struct sj_slurm_version *v, char *buf,
			  size_t len);

/* The file execvp would run for name (no '/' in it) with this PATH (NULL:
 * execvp's default, "/bin:/usr/bin"; an empty entry is the current
 * directory): which salloc and srun a program of ours runs.  -1 if none.
 * sj_path_search (fsutil.h) with relative entries counted. */
int sj_command_path(const char *name, const char *path, char *out,
		    size_t len);

/*
 * The check.  who: the program checked ("this shim"); built_for: the
 * version it was built for (SJ_SLURM_VERSION); found: the version the
 * Slurm found says, or NULL if it could not be told; where: which part of
 * that Slurm was asked (a path), and when found is NULL, what it said.
 * 0 when the releases are the same; -1 with one line for the user
 * otherwise, naming both releases and what to do.
 */
int sj_slurm_release_check(const char *who, const char *built_for,
			   const struct sj_slurm_version *found,
			   const char *where, struct sj_err *err);

#endif
