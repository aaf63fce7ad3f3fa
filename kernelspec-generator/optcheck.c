// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * optcheck.c - whether the values of add's options make sense on their
 * own: numbers are numbers, times are Slurm times, names are kernelspec
 * names, and options that cannot go together are not given together.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idle.h"
#include "kernelstep.h"
#include "news.h"
#include "shimopt.h"
#include "opts.h"
#include "slurmtime.h"

/* A whole number without sign or blanks, 1..max. */
static int positive(const char *s, size_t n, unsigned long long max)
{
	unsigned long long v = 0;

	if (n == 0 || n > 19)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	return v >= 1 && v <= max;
}

static int whole(const char *s, unsigned long long max)
{
	return positive(s, strlen(s), max);
}

static int node_count(const char *s)
{
	const char *dash = strchr(s, '-');
	unsigned long long lo, hi;

	if (dash == NULL)
		return whole(s, 1000000);
	if (!positive(s, (size_t)(dash - s), 1000000) || !whole(dash + 1, 1000000))
		return 0;
	lo = strtoull(s, NULL, 10);
	hi = strtoull(dash + 1, NULL, 10);
	return lo <= hi;
}

/* N or TYPE:N */
static int gpu_count(const char *s)
{
	const char *colon = strrchr(s, ':');

	if (colon == NULL)
		return whole(s, 100000);
	for (const char *p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
		    *p != '.')
			return 0;
	return colon > s && whole(colon + 1, 100000);
}

/* Slurm's --mem: a number with an optional unit; 0 means all of it. */
static int mem_size(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 15)
		return 0;
	if (s[n] == '\0')
		return 1;
	return strchr("KkMmGgTt", s[n]) != NULL && s[n + 1] == '\0';
}

static int env_name(const char *s, size_t n)
{
	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int gen_name_check(const char *name, struct sj_err *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > 200 || name[0] == '.' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return sj_err_set(err, "--name=%.100s: not a kernelspec name "
				  "(allowed: up to 200 lowercase letters, "
				  "digits, '.', '_' and '-', not starting with "
				  "'.')", name);
	return 0;
}

/* salloc arguments the shim would take for its own, or that would
 * change what the shim relies on. */
static int salloc_arg_check(const char *a, struct sj_err *err)
{
	/* The shim's own (shimopt.h), and those it reads before them. */
	static const char *const others[] = { "--node", "--help",
					      "--version" };
	const char *shims[SJ_SHIMOPT_COUNT + 3];

	for (int i = 0; i < SJ_SHIMOPT_COUNT; i++)
		shims[i] = sj_shimopt_name((enum sj_shimopt)i);
	for (int i = 0; i < 3; i++)
		shims[SJ_SHIMOPT_COUNT + i] = others[i];

	if (a[0] == '\0')
		return sj_err_set(err, "--salloc-arg: empty argument");
	if (has_control(a))
		return sj_err_set(err, "--salloc-arg: control character in "
				  "the argument");
	if (strcmp(a, "-f") == 0 || strcmp(a, "--") == 0 ||
	    strcmp(a, "-h") == 0)
		return sj_err_set(err, "--salloc-arg=%.100s: not allowed (the "
				  "shim reads it itself)", a);
	for (size_t i = 0; i < sizeof(shims) / sizeof(shims[0]); i++) {
		size_t n = strlen(shims[i]);

		if (strncmp(a, shims[i], n) == 0 &&
		    (a[n] == '\0' || a[n] == '='))
			return sj_err_set(err, "--salloc-arg=%.100s: not "
					  "allowed (the shim reads %s itself)",
					  a, shims[i]);
	}
	if (strncmp(a, "--job-name", 10) == 0 || strncmp(a, "-J", 2) == 0)
		return sj_err_set(err, "--salloc-arg=%.100s: not allowed (the "
				  "shim names the job itself)", a);
	return 0;
}

static int env_check(const struct gen_strv *env, struct sj_err *err)
{
	for (size_t i = 0; i < env->n; i++) {
		const char *eq = strchr(env->v[i], '=');
		size_t n = eq != NULL ? (size_t)(eq - env->v[i]) : 0;

		if (eq == NULL || !env_name(env->v[i], n))
			return sj_err_set(err, "--env=%.100s: expected "
					  "NAME=VALUE, NAME made of letters, "
					  "digits and '_', not starting with a "
					  "digit", env->v[i]);
		for (size_t j = 0; j < i; j++)
			if (strncmp(env->v[j], env->v[i], n + 1) == 0)
				return sj_err_set(err, "--env: %.*s given "
						  "twice", (int)n, env->v[i]);
	}
	return 0;
}

static int values_check(const struct gen_opts *o, struct sj_err *err)
{
	struct {
		const char *flag, *value;
	} strs[] = {
		{ "--display-name", o->display_name },
		{ "--account", o->account }, { "--partition", o->partition },
		{ "--gres", o->gres }, { "--reservation", o->reservation },
		{ "--qos", o->qos }, { "--constraint", o->constraint },
		{ "--setup", o->setup }, { "--shim", o->shim },
		{ "--rendezvous-host", o->rendezvous_host },
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strs[i].value == NULL)
			continue;
		if (strs[i].value[0] == '\0')
			return sj_err_set(err, "%s: empty value", strs[i].flag);
		/* --setup is a shell script: lines are fine there. */
		if (strcmp(strs[i].flag, "--setup") != 0 &&
		    has_control(strs[i].value))
			return sj_err_set(err, "%s: control character in the "
					  "value", strs[i].flag);
	}
	for (size_t i = 0; i < o->srun_args.n; i++)
		if (o->srun_args.v[i][0] == '\0')
			return sj_err_set(err, "--srun-arg: empty argument");
	return 0;
}

static int numbers_check(const struct gen_opts *o, struct sj_err *err)
{
	struct sj_err e;
	long long secs;

	if (o->nodes != NULL && !node_count(o->nodes))
		return sj_err_set(err, "--nodes=%.100s: not a node count "
				  "(allowed: a number N >= 1, or a range "
				  "MIN-MAX)", o->nodes);
	if (o->cpus_per_task != NULL && !whole(o->cpus_per_task, 1000000))
		return sj_err_set(err, "--cpus-per-task=%.100s: not a number "
				  "(allowed: a whole number >= 1)",
				  o->cpus_per_task);
	if (o->gpus != NULL && !gpu_count(o->gpus))
		return sj_err_set(err, "--gpus=%.100s: not a GPU count "
				  "(allowed: N or TYPE:N with N >= 1, e.g. 2 "
				  "or a100:2)", o->gpus);
	if (o->mem != NULL && !mem_size(o->mem))
		return sj_err_set(err, "--mem=%.100s: not a memory size "
				  "(allowed: a number with an optional unit "
				  "K, M, G or T, e.g. 4000 or 16G)", o->mem);
	if (o->jobid != NULL && !whole(o->jobid, 0xfffffff0ULL))
		return sj_err_set(err, "--jobid=%.100s: not a job id "
				  "(allowed: a number, as squeue shows it)",
				  o->jobid);
	if (o->time != NULL) {
		if (gen_time_parse(o->time, &secs, &e))
			return sj_err_set(err, "--time=%.100s: %s", o->time,
					  e.msg);
		if (secs == 0)
			return sj_err_set(err, "--time=%.100s: at least one "
					  "minute (Slurm reads 0 as no limit; "
					  "leave --time out for the partition's "
					  "default)", o->time);
	}
	return 0;
}

int gen_opts_check(const struct gen_opts *o, struct sj_err *err)
{
	if (o->kernel == NULL)
		return sj_err_set(err, "missing KERNEL, the kernelspec to wrap "
				  "(jupyter kernelspec list shows them)");
	if (o->name != NULL && gen_name_check(o->name, err))
		return -1;
	if (values_check(o, err) || numbers_check(o, err) ||
	    env_check(&o->env, err))
		return -1;
	if (o->linger != NULL) {
		char *end;
		unsigned long v = strtoul(o->linger, &end, 10);

		if (o->linger[0] < '0' || o->linger[0] > '9' || *end != '\0' ||
		    v > SJ_MAX_LINGER)
			return sj_err_set(err, "--linger=%.100s: not a number of "
					  "seconds (allowed: 0 to %d)",
					  o->linger, SJ_MAX_LINGER);
	}
	if (o->warn_before != NULL) {
		struct sj_warn_plan plan;

		if (sj_warn_parse(o->warn_before, &plan, err))
			return -1;
	}
	if (o->idle_timeout != NULL) {
		unsigned secs;

		if (sj_idle_parse(o->idle_timeout, &secs, err))
			return -1;
	}
	if (o->jobid != NULL && (o->share || o->linger != NULL))
		return sj_err_set(err, "--share and --linger are for "
				  "allocations the shim makes; not with "
				  "--jobid");
	if (o->kernel_transport != NULL &&
	    strcmp(o->kernel_transport, "ipc") != 0 &&
	    strcmp(o->kernel_transport, "tcp") != 0)
		return sj_err_set(err, "--kernel-transport=%.100s: not a "
				  "transport (allowed: ipc, tcp)",
				  o->kernel_transport);
	if (o->kernel_node != NULL &&
	    (o->kernel_node[0] == '\0' || o->kernel_node[0] == '-' ||
	     strpbrk(o->kernel_node, " ,\t\n") != NULL))
		return sj_err_set(err, "--kernel-node=%.100s: not a node name "
				  "(allowed: one node of the allocation, "
				  "e.g. n1)", o->kernel_node);
	for (size_t i = 0; i < o->salloc_args.n; i++)
		if (salloc_arg_check(o->salloc_args.v[i], err))
			return -1;
	if (o->jobid != NULL) {
		for (size_t i = 0; i < gen_n_salloc_opts; i++)
			if (gen_salloc_value(o, &gen_salloc_opts[i]) != NULL)
				return sj_err_set(err, "%s does not apply with "
						  "--jobid (the kernel runs in "
						  "allocation %s, which has its "
						  "own)",
						  gen_salloc_opts[i].flag,
						  o->jobid);
		if (o->salloc_args.n > 0)
			return sj_err_set(err, "--salloc-arg does not apply "
					  "with --jobid (no salloc is run)");
	}
	return 0;
}
