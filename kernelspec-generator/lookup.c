// SPDX-License-Identifier: GPL-2.0-or-later
#include "lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "quote.h"
#include "spec.h"

int gen_lookup_init(struct gen_lookup *lk, struct sj_err *err)
{
	memset(lk, 0, sizeof(*lk));
	if (gen_kspath_init(&lk->path, err))
		return -1;
	return gen_kspath_list(&lk->path, &lk->specs, err);
}

int gen_lookup_ours(struct gen_lookup *lk, const char *name,
		    struct sj_err *err)
{
	lk->k = gen_kspec_find(&lk->specs, name);
	if (lk->k == NULL) {
		sj_err_set(err, "no kernelspec %s (jupyter slurm list shows "
			   "the Slurm ones)", name);
		return GEN_EXIT_USAGE;
	}
	if (gen_spec_load(lk->k->dir, &lk->spec, err)) {
		sj_err_wrap(err, "kernelspec %s", lk->k->name);
		return GEN_EXIT_USAGE;
	}
	lk->mark = gen_spec_mark(lk->spec);
	if (lk->mark == NULL) {
		sj_err_set(err, "%s (%s) is not a kernelspec jupyter slurm "
			   "made (jupyter kernelspec list shows all of them; "
			   "jupyter kernelspec remove removes any)",
			   lk->k->name, lk->k->dir);
		return GEN_EXIT_USAGE;
	}
	return GEN_EXIT_OK;
}

int gen_lookup_cmd(int argc, char **argv, const char *usage,
		   struct gen_lookup *lk, int *rv)
{
	struct sj_err err;
	const char *name;
	int r;

	memset(lk, 0, sizeof(*lk));
	r = gen_simple_args(argc, argv, usage, 1, &name);
	if (r != 0) {
		*rv = r > 0 ? GEN_EXIT_OK : GEN_EXIT_USAGE;
		return -1;
	}
	if (gen_lookup_init(lk, &err))
		*rv = GEN_EXIT_FAIL;
	else
		*rv = gen_lookup_ours(lk, name, &err);
	if (*rv == GEN_EXIT_OK)
		return 0;
	gen_error("%s", err.msg);
	return -1;
}

void gen_lookup_free(struct gen_lookup *lk)
{
	json_decref(lk->spec);
	gen_kspec_list_free(&lk->specs);
	gen_kspath_free(&lk->path);
	memset(lk, 0, sizeof(*lk));
}

void gen_print_options(FILE *f, const struct gen_split *s,
		       const json_t *mark)
{
	json_t *env = json_object_get(json_object_get(mark, "options"), "env");
	const char *key;
	json_t *v;

	gen_quote_list(f, &s->options, 0);
	json_object_foreach(env, key, v) {
		const char *val = json_string_value(v);
		char *a = NULL;

		if (val == NULL || asprintf(&a, "--env=%s=%s", key, val) < 0)
			continue;
		fputc(' ', f);
		gen_quote(f, a);
		free(a);
	}
}
