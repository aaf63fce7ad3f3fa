// SPDX-License-Identifier: GPL-2.0-or-later
/* A kernelspec's argv, which anyone who can edit kernel.json wrote: read by
 * the shim (shim/args.c) when Jupyter runs it and by jupyter slurm list and
 * show (kernelspec-generator/split.c), both through the one option grammar
 * (common/slurm/shimopt.c), and its kernel's argv[0] by common/jupyter/kernelkind.c.
 * Input starting with '{' is a kernel.json; anything else is an argv split
 * at NUL.  The two readers must agree: what list shows is what runs. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "kernelkind.h"
#include "shimopt.h"
#include "split.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* What sj_shimopt_match promises, argument by argument. */
static void check_grammar(int ac, char **av)
{
	for (int i = 1; i < ac; i++) {
		int j = i;
		const char *v;
		enum sj_shimopt o = sj_shimopt_match(
			ac, (const char *const *)av, &j, &v);
		const char *name = sj_shimopt_name(o);

		if (o == SJ_SHIMOPT_NONE) {
			if (j != i || v != NULL)
				abort();
			continue;
		}
		if (name == NULL || strncmp(av[i], name, strlen(name)) != 0)
			abort();
		if (!sj_shimopt_has_value(o)) {
			if (j != i || v != NULL || strcmp(av[i], name) != 0)
				abort();
		} else if (j == i) {
			if (v != av[i] + strlen(name) + 1)
				abort();
		} else if (j != i + 1 || v != av[j] ||
			   strcmp(av[i], name) != 0) {
			abort();
		}
		i = j;
	}
}

static void same_strv(const char *const *a, size_t an, char *const *b,
		      size_t bn)
{
	if (an != bn)
		abort();
	for (size_t i = 0; i < an; i++)
		if (!same(a[i], b[i]))
			abort();
}

/* The shim accepted av: list and show must read the same from it. */
static void check_agree(const struct shim_args *a, const json_t *argv)
{
	struct gen_split s;
	struct sj_err err;
	unsigned long linger;

	if (gen_split_argv(argv, &s, &err) != 0)
		abort();
	if (!same(s.jobid, a->jobid) ||
	    !same(s.rendezvous_host, a->rendezvous_host) ||
	    !same(s.setup, a->setup) || !same(s.kernel_node, a->kernel_node) ||
	    !same(s.node_shim, a->node_shim) || s.share != a->share ||
	    s.verbose != a->verbose ||
	    !same(s.kernel_transport ? s.kernel_transport : "default",
		  a->kernel_transport))
		abort();
	linger = s.linger ? strtoul(s.linger, NULL, 10) : SJ_DEFAULT_LINGER;
	if (linger != a->linger)
		abort();
	same_strv(s.srun.v, s.srun.n, a->srun_argv, (size_t)a->srun_argc);
	same_strv(s.salloc.v, s.salloc.n, a->slurm_argv,
		  (size_t)a->slurm_argc);
	same_strv(s.kernel.v, s.kernel.n, a->kernel_argv,
		  (size_t)a->kernel_argc);
	if (a->kernel_argv[a->kernel_argc] != NULL)
		abort();
	gen_split_free(&s);
}

static void run(int ac, char **av, const json_t *argv)
{
	struct shim_args a;
	struct gen_split s;
	struct sj_err err;
	const char *why;

	check_grammar(ac, av);
	if (shim_args_parse(ac, av, &a, &err) == 0) {
		if (a.mode == SHIM_LOGIN)
			check_agree(&a, argv);
		if (a.kernel_argv != NULL) {
			why = sj_kernel_needs_tcp(
				(const char *const *)a.kernel_argv,
				(size_t)a.kernel_argc);
			if (why != NULL && a.kernel_argv[0][0] == '\0')
				abort();
		}
	}
	shim_args_free(&a);
	if (gen_split_argv(argv, &s, &err) == 0)
		gen_split_free(&s);
}

/* A kernel.json: its argv, if it is an array of strings. */
static void from_json(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, 0, &jerr);
	json_t *argv = json_object_get(root, "argv");
	char *av[MAX_ARGS + 1];
	size_t n = json_array_size(argv);
	struct gen_split s;
	struct sj_err err;

	if (gen_split_argv(argv, &s, &err) == 0)
		gen_split_free(&s);
	if (n == 0 || n > MAX_ARGS)
		goto out;
	for (size_t i = 0; i < n; i++) {
		/* Cast: the shim's argv is char **, and it does not write. */
		av[i] = (char *)json_string_value(json_array_get(argv, i));
		if (av[i] == NULL)
			goto out;
	}
	av[n] = NULL;
	run((int)n, av, argv);
out:
	json_decref(root);
}

static void from_argv(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *av[MAX_ARGS + 1];
	json_t *argv = json_array();
	int ac = 0;

	if (buf == NULL || argv == NULL)
		goto out;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size && ac < MAX_ARGS;) {
		av[ac] = buf + i;
		/* nocheck: argv need not be UTF-8, and split reads bytes. */
		if (json_array_append_new(argv,
					  json_string_nocheck(av[ac])) != 0)
			goto out;
		ac++;
		i += strlen(buf + i) + 1;
	}
	av[ac] = NULL;
	run(ac, av, argv);
out:
	json_decref(argv);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == '{')
		from_json(data, size);
	else
		from_argv(data, size);
	return 0;
}
