// SPDX-License-Identifier: GPL-2.0-or-later
#include "shimpath.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

static int set(char *out, size_t len, const char *path, struct sj_err *err)
{
	if ((size_t)snprintf(out, len, "%s", path) >= len)
		return sj_err_set(err, "%.100s...: path too long", path);
	return 0;
}

static int beside_self(char *out, size_t len)
{
	char self[PATH_MAX], cand[PATH_MAX + sizeof(GEN_SHIM_NAME)];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return 0;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return 0;
	snprintf(cand, sizeof(cand), "%.*s/" GEN_SHIM_NAME,
		 (int)(slash - self), self);
	return sj_is_executable(cand) && set(out, len, cand, NULL) == 0;
}

/* A relative PATH entry would mean something else to Jupyter: only
 * absolute ones count. */
static int on_path(char *out, size_t len)
{
	const char *path = getenv("PATH");

	return path != NULL &&
	       sj_path_search(GEN_SHIM_NAME, path, 1, out, len) == 0;
}

int gen_find_shim(const char *given, char *out, size_t len,
		  struct sj_err *err)
{
	if (given != NULL) {
		char abs[PATH_MAX], cwd[PATH_MAX];

		/* Absolute, but symlinks kept: a site's stable link to the
		 * current version stays the link. */
		if (given[0] == '/') {
			if (set(abs, sizeof(abs), given, err))
				return -1;
		} else if (getcwd(cwd, sizeof(cwd)) == NULL) {
			return sj_err_errno(err, errno, "--shim=%s: cannot "
					    "make it absolute", given);
		} else if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd,
					    given) >= sizeof(abs)) {
			return sj_err_set(err, "--shim=%.100s: path too long",
					  given);
		}
		if (!sj_is_executable(abs))
			return sj_err_set(err, "--shim=%s: not an executable "
					  "file (allowed: the path of "
					  GEN_SHIM_NAME ")", given);
		return set(out, len, abs, err);
	}
	if (beside_self(out, len) || on_path(out, len))
		return 0;
	return sj_err_set(err, "cannot find " GEN_SHIM_NAME " next to "
			  "jupyter-slurm or on PATH; give --shim=PATH");
}
