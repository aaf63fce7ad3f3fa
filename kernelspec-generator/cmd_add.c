// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_add.c - jupyter slurm add KERNEL [OPTIONS].
 *
 * Everything is checked before anything is written: the options, the
 * wrapped kernelspec, the name, the shim, then Slurm.  Any refusal is one
 * line and exit status 2.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmd.h"
#include "install.h"
#include "kspath.h"
#include "label.h"
#include "opts.h"
#include "shimpath.h"
#include "spec.h"

struct add {
	struct gen_opts o;
	struct gen_kspath path;
	struct gen_kspec_list specs;
	const struct gen_kspec *k;	/* the wrapped one */
	json_t *wrapped;
	char name[256];
	char display[1024];
	char shim[PATH_MAX];
};

/* "python3, ir" (kernelspecs not of ours) for the unknown-kernel error. */
static void available(const struct gen_kspec_list *l, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		struct sj_err e;
		json_t *s;
		int ours;
		size_t used = strlen(out);

		if (gen_spec_load(l->v[i].dir, &s, &e))
			continue;
		ours = gen_spec_mark(s) != NULL;
		json_decref(s);
		if (!ours && used + 1 < len)
			snprintf(out + used, len - used, "%s%s",
				 used ? ", " : "", l->v[i].name);
	}
}

static int find_wrapped(struct add *a, struct sj_err *err)
{
	char names[1024];
	json_t *mark;

	a->k = gen_kspec_find(&a->specs, a->o.kernel);
	if (a->k == NULL) {
		available(&a->specs, names, sizeof(names));
		if (names[0] == '\0')
			return sj_err_set(err, "no kernelspec %s: Jupyter has "
					  "none on its path (install a kernel "
					  "first, e.g. python3 -m ipykernel "
					  "install --user)", a->o.kernel);
		return sj_err_set(err, "no kernelspec %s (allowed: %s; "
				  "jupyter kernelspec list shows them)",
				  a->o.kernel, names);
	}
	if (gen_spec_load(a->k->dir, &a->wrapped, err))
		return sj_err_wrap(err, "kernelspec %s", a->k->name);
	mark = gen_spec_mark(a->wrapped);
	if (mark != NULL)
		return sj_err_set(err, "%s is itself a Slurm kernelspec; wrap "
				  "the kernel it wraps (%s) instead",
				  a->k->name,
				  json_string_value(json_object_get(mark,
								    "wraps")));
	return gen_spec_wrapped_argv_check(a->wrapped, a->k->name, err);
}

static int choose_names(struct add *a, struct sj_err *err)
{
	const char *wdn = json_string_value(json_object_get(a->wrapped,
							    "display_name"));

	if (a->o.name != NULL)
		snprintf(a->name, sizeof(a->name), "%s", a->o.name);
	else if (gen_default_name(a->k->name, &a->o, a->name,
				  sizeof(a->name), err))
		return -1;
	if (a->o.display_name != NULL) {
		if ((size_t)snprintf(a->display, sizeof(a->display), "%s",
				     a->o.display_name) >= sizeof(a->display))
			return sj_err_set(err, "--display-name: too long "
					  "(allowed: up to %zu bytes)",
					  sizeof(a->display) - 1);
		return 0;
	}
	return gen_display_name(wdn, a->k->name, &a->o, a->display,
				sizeof(a->display), err);
}

/* A name Jupyter already knows needs --force, and must not end up hidden
 * behind a JUPYTER_PATH entry or replace what it wraps. */
static int check_clash(const struct add *a, struct sj_err *err)
{
	const struct gen_kspec *c = gen_kspec_find(&a->specs, a->name);

	if (c == NULL)
		return 0;
	if (c == a->k)
		return sj_err_set(err, "--name=%s: that is the kernelspec being "
				  "wrapped (allowed: another name)", a->name);
	if (c->where < a->path.user)
		return sj_err_set(err, "--name=%s: the kernelspec %s (on "
				  "JUPYTER_PATH) would hide the new one "
				  "(allowed: another name)", a->name, c->dir);
	if (!a->o.force)
		return sj_err_set(err, "--name=%s: a kernelspec of that name "
				  "exists (%s); --force %s it, or choose "
				  "another --name", a->name, c->dir,
				  c->where == a->path.user ? "replaces"
							   : "hides");
	return 0;
}

/* The kernel.json text; malloc'd. */
static char *spec_text(const struct add *a, struct sj_err *err)
{
	struct gen_build b = {
		.o = &a->o, .kernel = a->k->name, .kernel_dir = a->k->dir,
		.wrapped = a->wrapped, .shim = a->shim,
		.display_name = a->display,
	};
	json_t *spec = NULL;
	char *text;

	if (gen_spec_build(&b, &spec, err))
		return NULL;
	text = gen_spec_dump(spec, err);
	json_decref(spec);
	return text;
}

int cmd_add(int argc, char **argv)
{
	struct add a;
	struct sj_err err;
	char *text = NULL;
	const char *why = NULL;
	int rv = GEN_EXIT_USAGE;

	memset(&a, 0, sizeof(a));
	if (gen_opts_parse(argc, argv, &a.o, &err))
		goto fail;
	if (a.o.help) {
		fputs(gen_usage_add, stdout);
		rv = GEN_EXIT_OK;
		goto out;
	}
	if (gen_opts_check(&a.o, &err))
		goto fail;
	if (gen_kspath_init(&a.path, &err) ||
	    gen_kspath_list(&a.path, &a.specs, &err)) {
		rv = GEN_EXIT_FAIL;
		goto fail;
	}
	if (find_wrapped(&a, &err) || choose_names(&a, &err) ||
	    gen_name_check(a.name, &err) || check_clash(&a, &err) ||
	    gen_find_shim(a.o.shim, a.shim, sizeof(a.shim), &err))
		goto fail;
	if (!a.o.no_check && gen_check_slurm(&a.o, &err))
		goto fail;
	/* Written into the spec, so that show says it and the spec works on
	 * its own. */
	a.o.kernel_transport = gen_spec_transport(&a.o, a.wrapped, &why);
	text = spec_text(&a, &err);
	if (text == NULL)
		goto fail;
	if (gen_install(a.path.dirs[a.path.user], a.name, a.k->dir, text,
			a.o.force, &err)) {
		rv = GEN_EXIT_FAIL;
		goto fail;
	}
	sj_info("added %s, \"%s\" (%s/%s)%s", a.name, a.display,
		a.path.dirs[a.path.user], a.name,
		a.o.no_check ? "; not checked with Slurm (--no-check)" : "");
	if (why != NULL)
		sj_info("%s is %s: its kernel listens on 127.0.0.1 of its "
			"node (--kernel-transport=tcp)", a.k->name, why);
	sj_info("pick \"%s\" in Jupyter; jupyter slurm remove %s removes "
		"it", a.display, a.name);
	rv = GEN_EXIT_OK;
	goto out;
fail:
	gen_error("%s", err.msg);
out:
	free(text);
	json_decref(a.wrapped);
	gen_kspec_list_free(&a.specs);
	gen_kspath_free(&a.path);
	gen_opts_free(&a.o);
	return rv;
}
