// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spec.h - the kernel.json of a generated kernelspec.
 *
 *   argv          [SHIM, shim options, salloc options, "-f",
 *                  "{connection_file}", "--", the wrapped argv...]
 *   display_name  ours
 *   language, interrupt_mode and any other key: the wrapped spec's
 *   env           the wrapped spec's env, then --env on top
 *   metadata      the wrapped spec's (without kernel_provisioner: the
 *                 shim must be started as a plain process) plus
 *                 "slurm_jupyter": {"generator": 1, "version": ...,
 *                 "wraps": NAME, "wraps_dir": DIR, "options": {...}}
 *
 * The "slurm_jupyter" mark is how list, show and remove know their own.
 */
#ifndef GEN_SPEC_H
#define GEN_SPEC_H

#include <jansson.h>

#include "opts.h"
#include "sj_err.h"

#define GEN_MARK_KEY "slurm_jupyter"
#define GEN_MARK_VERSION 1

struct gen_build {
	const struct gen_opts *o;
	const char *kernel;		/* the wrapped kernelspec's name */
	const char *kernel_dir;
	const json_t *wrapped;		/* its kernel.json */
	const char *shim;		/* absolute path */
	const char *display_name;
};

/* Loads dir/kernel.json; it must be a JSON object. */
int gen_spec_load(const char *dir, json_t **spec, struct sj_err *err);

/* The "slurm_jupyter" object of a spec we made, else NULL. */
json_t *gen_spec_mark(const json_t *spec);

/* The wrapped argv must be a non-empty array of strings that names
 * {connection_file}: the kernel has no other way to find it. */
int gen_spec_wrapped_argv_check(const json_t *wrapped, const char *kernel,
				struct sj_err *err);

/* The kernel transport a spec wrapping `wrapped` gets: the one asked for
 * (--kernel-transport), else "tcp" for a kernel known not to work over
 * ipc (kernelkind.h), else NULL (the site's default, ipc).  *why is set
 * to the reason when tcp was chosen here, else NULL. */
const char *gen_spec_transport(const struct gen_opts *o,
			       const json_t *wrapped, const char **why);

/* The argv alone (for tests and show). */
int gen_spec_argv(const struct gen_opts *o, const char *shim,
		  const json_t *wrapped_argv, json_t **argv,
		  struct sj_err *err);

/* The options as the metadata records them. */
json_t *gen_spec_options(const struct gen_opts *o);

/* The whole kernel.json. */
int gen_spec_build(const struct gen_build *b, json_t **spec,
		   struct sj_err *err);

/* kernel.json text: indented like Jupyter writes it, with a final
 * newline.  malloc'd. */
char *gen_spec_dump(const json_t *spec, struct sj_err *err);

#endif
