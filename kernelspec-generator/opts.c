// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * opts.c - reading the command line of add into struct gen_opts.
 */
#include "opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define OFF(field) offsetof(struct gen_opts, field)

enum kind { K_STR, K_LIST, K_FLAG };

struct opt_def {
	const char *name;	/* without the leading "--" */
	char letter;		/* Slurm's short option, or 0 */
	enum kind kind;
	size_t off;
};

/* Short letters are salloc's own, so Slurm users can type what they know. */
static const struct opt_def defs[] = {
	{ "name", 0, K_STR, OFF(name) },
	{ "display-name", 0, K_STR, OFF(display_name) },
	{ "account", 'A', K_STR, OFF(account) },
	{ "project", 0, K_STR, OFF(account) },
	{ "partition", 'p', K_STR, OFF(partition) },
	{ "nodes", 'N', K_STR, OFF(nodes) },
	{ "time", 't', K_STR, OFF(time) },
	{ "gpus", 'G', K_STR, OFF(gpus) },
	{ "gres", 0, K_STR, OFF(gres) },
	{ "reservation", 0, K_STR, OFF(reservation) },
	{ "qos", 'q', K_STR, OFF(qos) },
	{ "constraint", 'C', K_STR, OFF(constraint) },
	{ "mem", 0, K_STR, OFF(mem) },
	{ "cpus-per-task", 'c', K_STR, OFF(cpus_per_task) },
	{ "salloc-arg", 0, K_LIST, OFF(salloc_args) },
	{ "jobid", 0, K_STR, OFF(jobid) },
	{ "kernel-node", 0, K_STR, OFF(kernel_node) },
	{ "node", 0, K_STR, OFF(kernel_node) },
	{ "setup", 0, K_STR, OFF(setup) },
	{ "rendezvous-host", 0, K_STR, OFF(rendezvous_host) },
	{ "kernel-transport", 0, K_STR, OFF(kernel_transport) },
	{ "share", 0, K_FLAG, OFF(share) },
	{ "linger", 0, K_STR, OFF(linger) },
	{ "warn-before", 0, K_STR, OFF(warn_before) },
	{ "idle-timeout", 0, K_STR, OFF(idle_timeout) },
	{ "srun-arg", 0, K_LIST, OFF(srun_args) },
	{ "shim-verbose", 0, K_FLAG, OFF(shim_verbose) },
	{ "env", 0, K_LIST, OFF(env) },
	{ "shim", 0, K_STR, OFF(shim) },
	{ "no-check", 0, K_FLAG, OFF(no_check) },
	{ "force", 0, K_FLAG, OFF(force) },
	{ "help", 'h', K_FLAG, OFF(help) },
};

const struct gen_salloc_opt gen_salloc_opts[] = {
	{ "--partition", "partition", OFF(partition) },
	{ "--account", "account", OFF(account) },
	{ "--nodes", "nodes", OFF(nodes) },
	{ "--time", "time", OFF(time) },
	{ "--gpus", "gpus", OFF(gpus) },
	{ "--gres", "gres", OFF(gres) },
	{ "--reservation", "reservation", OFF(reservation) },
	{ "--qos", "qos", OFF(qos) },
	{ "--constraint", "constraint", OFF(constraint) },
	{ "--mem", "mem", OFF(mem) },
	{ "--cpus-per-task", "cpus_per_task", OFF(cpus_per_task) },
};
const size_t gen_n_salloc_opts =
	sizeof(gen_salloc_opts) / sizeof(gen_salloc_opts[0]);

static void *field_at(struct gen_opts *o, size_t off)
{
	return (char *)o + off;
}

static const struct opt_def *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (strlen(defs[i].name) == len &&
		    strncmp(defs[i].name, name, len) == 0)
			return &defs[i];
	return NULL;
}

static const struct opt_def *find_short(char c)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (defs[i].letter == c)
			return &defs[i];
	return NULL;
}

/* The first name of the field d sets: --account for --project. */
static const struct opt_def *canonical(const struct opt_def *d)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (defs[i].off == d->off)
			return &defs[i];
	return d;
}

/* Stores one value; `shown` names the option as the user typed it. */
static int store(struct gen_opts *o, const struct opt_def *d,
		 const char *shown, const char *value, struct sj_err *err)
{
	void *f = field_at(o, d->off);

	switch (d->kind) {
	case K_FLAG:
		if (value != NULL)
			return sj_err_set(err, "%s takes no value", shown);
		*(int *)f = 1;
		return 0;
	case K_STR:
		if (*(const char **)f != NULL)
			return sj_err_set(err, "--%s given twice (counting "
					  "its other names); give it once",
					  canonical(d)->name);
		*(const char **)f = value;
		return 0;
	case K_LIST: {
		struct gen_strv *v = f;

		/* Sized for argc at parse time, so it cannot overflow. */
		v->v[v->n++] = value;
		return 0;
	}
	}
	return sj_err_set(err, "%s: internal error", shown);
}

/* The value of an option given as a separate argument.  Only the raw
 * passthrough options may take one that looks like an option. */
static int next_value(const struct opt_def *d, const char *shown, int argc,
		      char **argv, int *i, const char **value,
		      struct sj_err *err)
{
	if (d->kind == K_FLAG) {
		*value = NULL;
		return 0;
	}
	if (*i + 1 >= argc || (d->kind != K_LIST && argv[*i + 1][0] == '-' &&
			       argv[*i + 1][1] != '\0'))
		return sj_err_set(err, "%s needs a value (%s=VALUE)", shown,
				  shown);
	*value = argv[++*i];
	return 0;
}

static int parse_long(struct gen_opts *o, int argc, char **argv, int *i,
		      struct sj_err *err)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
	size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	const struct opt_def *d = find_long(arg, len);
	const char *value = eq != NULL ? eq + 1 : NULL;
	char shown[64];

	if (d == NULL)
		return sj_err_set(err, "unknown option --%.*s (jupyter slurm "
				  "add --help lists them)", (int)(len > 40 ? 40
								 : len), arg);
	snprintf(shown, sizeof(shown), "--%s", d->name);
	if (value == NULL &&
	    next_value(d, shown, argc, argv, i, &value, err))
		return -1;
	return store(o, d, shown, value, err);
}

static int parse_short(struct gen_opts *o, int argc, char **argv, int *i,
		       struct sj_err *err)
{
	const struct opt_def *d = find_short(argv[*i][1]);
	const char *value = NULL;
	char shown[4] = { '-', argv[*i][1], '\0', '\0' };

	if (d == NULL)
		return sj_err_set(err, "unknown option %s (jupyter slurm add "
				  "--help lists them)", shown);
	if (argv[*i][2] != '\0') {
		if (d->kind == K_FLAG)
			return sj_err_set(err, "%s takes no value", shown);
		value = argv[*i] + 2;
	} else if (next_value(d, shown, argc, argv, i, &value, err)) {
		return -1;
	}
	return store(o, d, shown, value, err);
}

static int alloc_strv(struct gen_strv *v, int argc)
{
	v->n = 0;
	v->v = calloc((size_t)argc + 1, sizeof(*v->v));
	return v->v == NULL ? -1 : 0;
}

int gen_opts_parse(int argc, char **argv, struct gen_opts *o,
		   struct sj_err *err)
{
	int i, positional_only = 0;

	memset(o, 0, sizeof(*o));
	if (alloc_strv(&o->salloc_args, argc) ||
	    alloc_strv(&o->srun_args, argc) || alloc_strv(&o->env, argc))
		return sj_err_set(err, "out of memory");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!positional_only && strcmp(a, "--") == 0) {
			positional_only = 1;
		} else if (!positional_only && a[0] == '-' && a[1] == '-') {
			if (parse_long(o, argc, argv, &i, err))
				return -1;
		} else if (!positional_only && a[0] == '-' && a[1] != '\0') {
			if (parse_short(o, argc, argv, &i, err))
				return -1;
		} else if (o->kernel == NULL) {
			o->kernel = a;
		} else {
			return sj_err_set(err, "unexpected argument \"%.100s\" "
					  "(add wraps one KERNEL; options "
					  "start with --)", a);
		}
		if (o->help)
			return 0;
	}
	return 0;
}

void gen_opts_free(struct gen_opts *o)
{
	free(o->salloc_args.v);
	free(o->srun_args.v);
	free(o->env.v);
	o->salloc_args.v = o->srun_args.v = o->env.v = NULL;
}
