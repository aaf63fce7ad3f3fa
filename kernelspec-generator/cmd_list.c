// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_list.c - jupyter slurm list: one line per Slurm kernelspec.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "lookup.h"
#include "spec.h"
#include "split.h"

static void print_one(const struct gen_kspec *k, const json_t *spec,
		      const json_t *mark, int width)
{
	const char *wraps = json_string_value(json_object_get(mark, "wraps"));
	struct gen_split s;
	struct sj_err e;

	printf("%-*s  %s  ", width, k->name, wraps != NULL ? wraps : "?");
	if (gen_split_argv(json_object_get(spec, "argv"), &s, &e)) {
		printf("(broken: %s)\n", e.msg);
		return;
	}
	if (s.options.n == 0 &&
	    json_object_size(json_object_get(json_object_get(mark, "options"),
					     "env")) == 0)
		fputs("(Slurm's defaults)", stdout);
	gen_print_options(stdout, &s, mark);
	putchar('\n');
	gen_split_free(&s);
}

int cmd_list(int argc, char **argv)
{
	struct gen_lookup lk;
	struct sj_err err;
	const char *none;
	json_t **specs = NULL;
	int width = 0, n = 0, r;

	r = gen_simple_args(argc, argv, gen_usage_list, 0, &none);
	if (r != 0)
		return r > 0 ? GEN_EXIT_OK : GEN_EXIT_USAGE;
	if (gen_lookup_init(&lk, &err)) {
		gen_error("%s", err.msg);
		gen_lookup_free(&lk);
		return GEN_EXIT_FAIL;
	}
	specs = calloc(lk.specs.n + 1, sizeof(*specs));
	if (specs == NULL) {
		gen_error("out of memory");
		gen_lookup_free(&lk);
		return GEN_EXIT_FAIL;
	}
	/* Unreadable specs are Jupyter's problem, not a list's: skipped. */
	for (size_t i = 0; i < lk.specs.n; i++) {
		if (gen_spec_load(lk.specs.v[i].dir, &specs[i], &err))
			continue;
		if (gen_spec_mark(specs[i]) == NULL) {
			json_decref(specs[i]);
			specs[i] = NULL;
			continue;
		}
		if ((int)strlen(lk.specs.v[i].name) > width)
			width = (int)strlen(lk.specs.v[i].name);
		n++;
	}
	for (size_t i = 0; i < lk.specs.n; i++)
		if (specs[i] != NULL)
			print_one(&lk.specs.v[i], specs[i],
				  gen_spec_mark(specs[i]), width);
	if (n == 0)
		gen_error("no Slurm kernelspecs yet (jupyter slurm add KERNEL "
			  "makes one)");
	for (size_t i = 0; i < lk.specs.n; i++)
		json_decref(specs[i]);
	free(specs);
	gen_lookup_free(&lk);
	return GEN_EXIT_OK;
}
