// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_show.c - jupyter slurm show NAME: one Slurm kernelspec in full.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "lookup.h"
#include "quote.h"
#include "spec.h"
#include "split.h"
#include "steps.h"

static void field(const char *label, const char *value)
{
	printf("  %-13s %s\n", label, value != NULL ? value : "-");
}

static void print_env(const json_t *spec)
{
	json_t *env = json_object_get(spec, "env"), *v;
	const char *key;

	if (json_object_size(env) == 0)
		return;
	printf("  %-13s", "environment");
	json_object_foreach(env, key, v) {
		const char *val = json_string_value(v);
		char *a = NULL;

		if (val == NULL || asprintf(&a, "%s=%s", key, val) < 0)
			continue;
		putchar(' ');
		gen_quote(stdout, a);
		free(a);
	}
	putchar('\n');
}

static void print_argv(const struct gen_split *s)
{
	struct gen_strv all = { .v = s->all };

	/* all runs up to the kernel's argv, which ends the array. */
	all.n = (size_t)(s->kernel.v - s->all) + s->kernel.n;
	printf("  %-13s ", "argv");
	gen_quote_list(stdout, &all, 0);
	putchar('\n');
}

int cmd_show(int argc, char **argv)
{
	struct gen_lookup lk;
	struct gen_split s = { 0 };
	struct sj_err err;
	const char *wraps, *wdir;
	char buf[4096];
	int rv;

	if (gen_lookup_cmd(argc, argv, gen_usage_show, &lk, &rv))
		goto out;
	rv = GEN_EXIT_USAGE;
	if (gen_split_argv(json_object_get(lk.spec, "argv"), &s, &err)) {
		sj_err_wrap(&err, "%s is broken", lk.k->name);
		goto fail;
	}
	wraps = json_string_value(json_object_get(lk.mark, "wraps"));
	wdir = json_string_value(json_object_get(lk.mark, "wraps_dir"));
	printf("%s\n", lk.k->name);
	field("display name", json_string_value(json_object_get(lk.spec,
							"display_name")));
	field("directory", lk.k->dir);
	snprintf(buf, sizeof(buf), "%s (%s)", wraps ? wraps : "?",
		 wdir ? wdir : "?");
	field("wraps", buf);
	printf("  %-13s ", "options");
	if (s.options.n == 0)
		fputs("(Slurm's defaults)", stdout);
	gen_quote_list(stdout, &s.options, 0);
	putchar('\n');
	print_env(lk.spec);
	print_argv(&s);
	putchar('\n');
	gen_steps_print(stdout, &s);
	if (access(s.shim, X_OK) != 0)
		sj_warning("%s is missing or not executable; the kernel "
			   "cannot start (jupyter slurm add --force writes it "
			   "again)", s.shim);
	rv = GEN_EXIT_OK;
	goto out;
fail:
	gen_error("%s", err.msg);
out:
	gen_split_free(&s);
	gen_lookup_free(&lk);
	return rv;
}
