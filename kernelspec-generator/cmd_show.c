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
#include "sitedef.h"
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

/* The shim's defaults its kernel gets, and from where; the site file
 * is the one the kernelspec's environment names, as the shim reads it.
 * A file the shim would refuse is a warning: no kernel starts. */
static void print_defaults(const json_t *spec, const struct gen_split *s)
{
	const char *path = json_string_value(json_object_get(
		json_object_get(spec, "env"), SJ_SHIMCONF_ENV));
	struct sj_shimconf c;
	struct sj_err err;
	int found;

	if (path == NULL || path[0] == '\0')
		path = sj_shimconf_path();
	if (sj_shimconf_load(path, &c, &found, &err))
		gen_error("warning: site defaults: %s; the kernel cannot start "
			  "until it is fixed", err.msg);
	gen_site_print(stdout, s, &c, path);
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
	print_defaults(lk.spec, &s);
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
