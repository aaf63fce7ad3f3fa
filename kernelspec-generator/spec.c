// SPDX-License-Identifier: GPL-2.0-or-later
#include "spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connfile.h"
#include "kernelkind.h"
#include "shimopt.h"

int gen_spec_load(const char *dir, json_t **spec, struct sj_err *err)
{
	char path[4096];
	json_error_t je;
	json_t *j;

	if ((size_t)snprintf(path, sizeof(path), "%s/kernel.json", dir) >=
	    sizeof(path))
		return sj_err_set(err, "%.100s...: path too long", dir);
	j = json_load_file(path, 0, &je);
	if (j == NULL)
		return sj_err_set(err, "%s: %s (line %d)", path, je.text,
				  je.line);
	if (!json_is_object(j)) {
		json_decref(j);
		return sj_err_set(err, "%s: not a JSON object", path);
	}
	*spec = j;
	return 0;
}

json_t *gen_spec_mark(const json_t *spec)
{
	json_t *md = json_object_get(spec, "metadata");
	json_t *mark = json_object_get(md, GEN_MARK_KEY);

	if (!json_is_object(mark) ||
	    !json_is_integer(json_object_get(mark, "generator")))
		return NULL;
	return mark;
}

int gen_spec_wrapped_argv_check(const json_t *wrapped, const char *kernel,
				struct sj_err *err)
{
	const json_t *argv = json_object_get(wrapped, "argv");
	int names_cf = 0;
	size_t i;
	json_t *a;

	if (!json_is_array(argv) || json_array_size(argv) == 0)
		return sj_err_set(err, "kernelspec %s has no argv to wrap",
				  kernel);
	json_array_foreach(argv, i, a) {
		if (!json_is_string(a))
			return sj_err_set(err, "kernelspec %s: argv[%zu] is "
					  "not a string", kernel, i);
		if (strstr(json_string_value(a), SJ_CONNFILE_TOKEN))
			names_cf = 1;
	}
	if (!names_cf)
		return sj_err_set(err, "kernelspec %s: its argv never names "
				  SJ_CONNFILE_TOKEN ", so the kernel could "
				  "not find its connection file", kernel);
	return 0;
}

const char *gen_spec_transport(const struct gen_opts *o,
			       const json_t *wrapped, const char **why)
{
	const json_t *argv = json_object_get(wrapped, "argv");
	const char *v[1];

	*why = NULL;
	if (o->kernel_transport != NULL)
		return o->kernel_transport;
	if (!json_is_array(argv) || json_array_size(argv) == 0)
		return NULL;
	v[0] = json_string_value(json_array_get(argv, 0));
	if (v[0] == NULL)
		return NULL;
	*why = sj_kernel_needs_tcp(v, 1);
	return *why != NULL ? "tcp" : NULL;
}

/* Appends a new string; jansson refuses strings that are not UTF-8. */
static int push(json_t *arr, const char *s, struct sj_err *err)
{
	json_t *v = json_string(s);

	if (v == NULL)
		return sj_err_set(err, "\"%.60s\" is not valid UTF-8", s);
	if (json_array_append_new(arr, v) != 0)
		return sj_err_set(err, "out of memory");
	return 0;
}

static int pushf(json_t *arr, const char *flag, const char *value,
		 struct sj_err *err)
{
	char *s;
	int rv;

	if (asprintf(&s, "%s=%s", flag, value) < 0)
		return sj_err_set(err, "out of memory");
	rv = push(arr, s, err);
	free(s);
	return rv;
}

/* A shim option (shimopt.h) in the spec: the flag, or --name=value. */
static int push_opt(json_t *argv, enum sj_shimopt opt, const char *value,
		    struct sj_err *err)
{
	return value == NULL ? push(argv, sj_shimopt_name(opt), err) :
	       pushf(argv, sj_shimopt_name(opt), value, err);
}

static int shim_part(json_t *argv, const struct gen_opts *o,
		     struct sj_err *err)
{
	const struct {
		enum sj_shimopt opt;
		int on;
		const char *value;
	} parts[] = {
		{ SJ_SHIMOPT_SHIM_VERBOSE, o->shim_verbose, NULL },
		{ SJ_SHIMOPT_JOBID, o->jobid != NULL, o->jobid },
		{ SJ_SHIMOPT_KERNEL_NODE, o->kernel_node != NULL,
		  o->kernel_node },
		{ SJ_SHIMOPT_RENDEZVOUS_HOST, o->rendezvous_host != NULL,
		  o->rendezvous_host },
		{ SJ_SHIMOPT_KERNEL_TRANSPORT, o->kernel_transport != NULL,
		  o->kernel_transport },
		{ SJ_SHIMOPT_SHARE, o->share, NULL },
		{ SJ_SHIMOPT_LINGER, o->linger != NULL, o->linger },
		{ SJ_SHIMOPT_WARN_BEFORE, o->warn_before != NULL,
		  o->warn_before },
		{ SJ_SHIMOPT_IDLE_TIMEOUT, o->idle_timeout != NULL,
		  o->idle_timeout },
		{ SJ_SHIMOPT_SETUP, o->setup != NULL, o->setup },
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++)
		if (parts[i].on && push_opt(argv, parts[i].opt, parts[i].value,
					    err))
			return -1;
	for (size_t i = 0; i < o->srun_args.n; i++)
		if (push_opt(argv, SJ_SHIMOPT_SRUN_ARG, o->srun_args.v[i], err))
			return -1;
	return 0;
}

static int salloc_part(json_t *argv, const struct gen_opts *o,
		       struct sj_err *err)
{
	for (size_t i = 0; i < gen_n_salloc_opts; i++) {
		const char *v = gen_salloc_value(o, &gen_salloc_opts[i]);

		if (v != NULL && pushf(argv, gen_salloc_opts[i].flag, v, err))
			return -1;
	}
	for (size_t i = 0; i < o->salloc_args.n; i++)
		if (push(argv, o->salloc_args.v[i], err))
			return -1;
	return 0;
}

int gen_spec_argv(const struct gen_opts *o, const char *shim,
		  const json_t *wrapped_argv, json_t **out, struct sj_err *err)
{
	json_t *argv = json_array(), *a;
	size_t i;

	if (argv == NULL)
		return sj_err_set(err, "out of memory");
	if (push(argv, shim, err) || shim_part(argv, o, err) ||
	    salloc_part(argv, o, err) || push(argv, "-f", err) ||
	    push(argv, SJ_CONNFILE_TOKEN, err) || push(argv, "--", err))
		goto fail;
	/* Intact, {connection_file} included: Jupyter fills it in, and the
	 * shim turns it back into the token for the node. */
	json_array_foreach(wrapped_argv, i, a) {
		if (json_array_append(argv, a) != 0) {
			sj_err_set(err, "out of memory");
			goto fail;
		}
	}
	*out = argv;
	return 0;
fail:
	json_decref(argv);
	return -1;
}

static int set_str(json_t *obj, const char *key, const char *value)
{
	json_t *v;

	if (value == NULL)
		return 0;
	v = json_string(value);
	return v == NULL ? -1 : json_object_set_new(obj, key, v);
}

static int array_put(json_t *arr, const char *s)
{
	json_t *v = json_string(s);

	return v == NULL ? -1 : json_array_append_new(arr, v);
}

/* NAME=VALUE (checked before: there is a '=') into the env object. */
static int env_put(json_t *env, const char *s)
{
	const char *eq = strchr(s, '=');
	char *name = strndup(s, (size_t)(eq - s));
	json_t *v = json_string(eq + 1);
	int rv = -1;

	if (name != NULL && v != NULL)
		rv = json_object_set_new(env, name, v);
	else
		json_decref(v);
	free(name);
	return rv;
}

/* l under key: a list, or (env) an object of NAME=VALUE; nothing when l
 * is empty. */
static int set_all(json_t *obj, const char *key, const struct gen_strv *l,
		   int env)
{
	json_t *c;

	if (l->n == 0)
		return 0;
	c = env ? json_object() : json_array();
	if (c == NULL)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		if ((env ? env_put : array_put)(c, l->v[i]) != 0) {
			json_decref(c);
			return -1;
		}
	}
	return json_object_set_new(obj, key, c);
}

json_t *gen_spec_options(const struct gen_opts *o)
{
	json_t *opts = json_object();

	if (opts == NULL)
		return NULL;
	for (size_t i = 0; i < gen_n_salloc_opts; i++)
		if (set_str(opts, gen_salloc_opts[i].key,
			    gen_salloc_value(o, &gen_salloc_opts[i])))
			goto fail;
	if (set_all(opts, "salloc_args", &o->salloc_args, 0) ||
	    set_str(opts, "jobid", o->jobid) ||
	    set_str(opts, "kernel_node", o->kernel_node) ||
	    set_str(opts, "setup", o->setup) ||
	    set_str(opts, "rendezvous_host", o->rendezvous_host) ||
	    set_str(opts, "kernel_transport", o->kernel_transport) ||
	    set_str(opts, "linger", o->linger) ||
	    set_str(opts, "warn_before", o->warn_before) ||
	    set_str(opts, "idle_timeout", o->idle_timeout) ||
	    set_all(opts, "srun_args", &o->srun_args, 0) ||
	    set_all(opts, "env", &o->env, 1))
		goto fail;
	if (o->shim_verbose &&
	    json_object_set_new(opts, "shim_verbose", json_true()) != 0)
		goto fail;
	if (o->share && json_object_set_new(opts, "share", json_true()) != 0)
		goto fail;
	return opts;
fail:
	json_decref(opts);
	return NULL;
}

static int build_env(const struct gen_build *b, json_t *spec,
		     struct sj_err *err)
{
	const json_t *wenv = json_object_get(b->wrapped, "env");
	json_t *env;

	if (wenv != NULL && !json_is_object(wenv))
		return sj_err_set(err, "kernelspec %s: env is not an object",
				  b->kernel);
	if (wenv == NULL && b->o->env.n == 0)
		return 0;
	env = wenv != NULL ? json_deep_copy(wenv) : json_object();
	if (env == NULL)
		return sj_err_set(err, "out of memory");
	for (size_t i = 0; i < b->o->env.n; i++) {
		if (env_put(env, b->o->env.v[i]) != 0) {
			json_decref(env);
			return sj_err_set(err, "--env=%.60s: not valid UTF-8",
					  b->o->env.v[i]);
		}
	}
	if (json_object_set_new(spec, "env", env) != 0)
		return sj_err_set(err, "out of memory");
	return 0;
}

static int build_metadata(const struct gen_build *b, json_t *spec,
			  struct sj_err *err)
{
	const json_t *wmd = json_object_get(b->wrapped, "metadata");
	json_t *md, *mark = NULL, *opts;

	md = json_is_object(wmd) ? json_deep_copy(wmd) : json_object();
	if (md == NULL)
		return sj_err_set(err, "out of memory");
	/* A provisioner would start the shim its own way, not as the local
	 * process the shim must be. */
	json_object_del(md, "kernel_provisioner");
	opts = gen_spec_options(b->o);
	if (opts != NULL)
		/* "o" hands opts over, also when packing fails. */
		mark = json_pack("{s:i, s:s, s:s, s:s, s:o}", "generator",
				 GEN_MARK_VERSION, "version", SJ_VERSION,
				 "wraps", b->kernel, "wraps_dir",
				 b->kernel_dir, "options", opts);
	/* json_object_set_new consumes its value even when it fails. */
	if (mark == NULL || json_object_set_new(md, GEN_MARK_KEY, mark) != 0) {
		json_decref(md);
		return sj_err_set(err, "cannot build the metadata (a value "
				  "that is not UTF-8?)");
	}
	if (json_object_set_new(spec, "metadata", md) != 0)
		return sj_err_set(err, "out of memory");
	return 0;
}

int gen_spec_build(const struct gen_build *b, json_t **out,
		   struct sj_err *err)
{
	json_t *spec = json_object(), *argv = NULL, *dn, *v;
	const char *key;

	if (spec == NULL)
		return sj_err_set(err, "out of memory");
	if (gen_spec_wrapped_argv_check(b->wrapped, b->kernel, err) ||
	    gen_spec_argv(b->o, b->shim, json_object_get(b->wrapped, "argv"),
			  &argv, err))
		goto fail;
	if (json_object_set_new(spec, "argv", argv) != 0) {
		sj_err_set(err, "out of memory");
		goto fail;
	}
	dn = json_string(b->display_name);
	if (dn == NULL || json_object_set_new(spec, "display_name", dn)) {
		sj_err_set(err, "--display-name: not valid UTF-8");
		goto fail;
	}
	/* language, interrupt_mode and whatever else the kernel's author
	 * put there, in their order. */
	json_object_foreach((json_t *)b->wrapped, key, v) {
		if (strcmp(key, "argv") == 0 ||
		    strcmp(key, "display_name") == 0 ||
		    strcmp(key, "env") == 0 || strcmp(key, "metadata") == 0)
			continue;
		if (json_object_set(spec, key, v) != 0) {
			sj_err_set(err, "out of memory");
			goto fail;
		}
	}
	if (build_env(b, spec, err) || build_metadata(b, spec, err))
		goto fail;
	*out = spec;
	return 0;
fail:
	json_decref(spec);
	return -1;
}

char *gen_spec_dump(const json_t *spec, struct sj_err *err)
{
	char *text = json_dumps(spec, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	char *withnl;

	if (text == NULL) {
		sj_err_set(err, "cannot serialise the kernelspec");
		return NULL;
	}
	if (asprintf(&withnl, "%s\n", text) < 0) {
		free(text);
		sj_err_set(err, "out of memory");
		return NULL;
	}
	free(text);
	return withnl;
}
