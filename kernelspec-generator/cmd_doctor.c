// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_doctor.c - jupyter slurm doctor: one line per check, in order, each
 * with what to do when it fails.  Exit status 0 only when all pass.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "doctor.h"
#include "kspath.h"
#include "run.h"
#include "shimpath.h"
#include "spec.h"

#define DEFAULT_TIMEOUT 60
#define MAX_TIMEOUT 3600

void dr_line(struct doctor *d, enum verdict v, const char *fmt, ...)
{
	static const char *const word[] = { "ok  ", "FAIL", "skip" };
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("%s %s\n", word[v], line);
	fflush(stdout);
	if (v != DR_OK)
		d->failed = 1;
}

static int add_slurm(struct doctor *d, const char *flag, const char *v)
{
	char *s;

	if (d->nslurm == MAX_SLURM_ARGS)
		return -1;
	if (flag == NULL) {
		d->slurm[d->nslurm++] = v;
		return 0;
	}
	if (asprintf(&s, "%s=%s", flag, v) < 0)
		return -1;
	d->owned[d->nowned++] = s;
	d->slurm[d->nslurm++] = s;
	return 0;
}

/* --opt=V or --opt V (and -o V); NULL if argv[*i] is not opt. */
static const char *value(const char *opt, const char *shortopt, int argc,
			 char **argv, int *i, int *missing)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], opt) == 0 ||
	    (shortopt != NULL && strcmp(argv[*i], shortopt) == 0)) {
		if (*i + 1 < argc)
			return argv[++*i];
		*missing = 1;
	}
	return NULL;
}

/* 1: --help printed; 0: parsed; -1: usage error printed. */
static int parse(struct doctor *d, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v;
		int missing = 0, r = 0;

		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(gen_usage_doctor, stdout);
			return 1;
		} else if (strcmp(argv[i], "-v") == 0 ||
			   strcmp(argv[i], "--verbose") == 0) {
			d->verbose = 1;
		} else if ((v = value("--kernel", NULL, argc, argv, &i,
				      &missing))) {
			d->kernel = v;
		} else if ((v = value("--shim", NULL, argc, argv, &i,
				      &missing))) {
			d->shim_opt = v;
		} else if ((v = value("--timeout", NULL, argc, argv, &i,
				      &missing))) {
			char *end;
			long t = strtol(v, &end, 10);

			if (*v < '1' || *v > '9' || *end != '\0' || t < 1 ||
			    t > MAX_TIMEOUT) {
				gen_error("doctor: --timeout=%.100s: seconds, "
					  "1 to %d", v, MAX_TIMEOUT);
				return -1;
			}
			d->timeout = (int)t;
		} else if ((v = value("--partition", "-p", argc, argv, &i,
				      &missing))) {
			r = add_slurm(d, "--partition", v);
		} else if ((v = value("--account", "-A", argc, argv, &i,
				      &missing))) {
			r = add_slurm(d, "--account", v);
		} else if ((v = value("--salloc-arg", NULL, argc, argv, &i,
				      &missing))) {
			r = add_slurm(d, NULL, v);
		} else if (!missing) {
			gen_error("doctor: unknown argument \"%.100s\" "
				  "(jupyter slurm doctor --help)", argv[i]);
			return -1;
		}
		if (missing) {
			gen_error("doctor: %.100s needs a value", argv[i]);
			return -1;
		}
		if (r != 0) {
			gen_error("doctor: too many Slurm options");
			return -1;
		}
	}
	return 0;
}

/* The kernelspec's argv, {resource_dir} filled in as jupyter_client does;
 * {connection_file} stays for the node shim. */
static int kernel_argv(struct doctor *d, char ***out, size_t *n,
		       char *why, size_t len)
{
	struct gen_kspath path = { 0 };
	struct gen_kspec_list specs = { 0 };
	const struct gen_kspec *k;
	json_t *spec = NULL, *a, *v;
	struct sj_err err;
	size_t i;
	int rv = -1;

	*out = NULL;
	if (gen_kspath_init(&path, &err) ||
	    gen_kspath_list(&path, &specs, &err)) {
		snprintf(why, len, "%s", err.msg);
		goto out;
	}
	k = gen_kspec_find(&specs, d->kernel);
	if (k == NULL) {
		snprintf(why, len, "no kernelspec \"%s\" here (jupyter "
			 "kernelspec list); fix: give --kernel=NAME of an "
			 "installed kernel", d->kernel);
		goto out;
	}
	if (gen_spec_load(k->dir, &spec, &err)) {
		snprintf(why, len, "%s", err.msg);
		goto out;
	}
	if (gen_spec_mark(spec) != NULL) {
		snprintf(why, len, "kernelspec \"%s\" is a Slurm one; fix: "
			 "give --kernel=NAME of a plain kernel", d->kernel);
		goto out;
	}
	if (gen_spec_wrapped_argv_check(spec, d->kernel, &err)) {
		snprintf(why, len, "%s", err.msg);
		goto out;
	}
	a = json_object_get(spec, "argv");
	*n = json_array_size(a);
	*out = calloc(*n + 1, sizeof(**out));
	if (*out == NULL)
		goto nomem;
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v), *r;
		char *x;

		if ((r = strstr(s, "{resource_dir}")) != NULL) {
			if (asprintf(&x, "%.*s%s%s", (int)(r - s), s, k->dir,
				     r + strlen("{resource_dir}")) < 0)
				x = NULL;
		} else {
			x = strdup(s);
		}
		if (x == NULL)
			goto nomem;
		(*out)[i] = x;
	}
	rv = 0;
	goto out;
nomem:
	snprintf(why, len, "out of memory");
out:
	if (rv != 0 && *out != NULL) {
		for (i = 0; i < *n; i++)
			free((*out)[i]);
		free(*out);
		*out = NULL;
	}
	json_decref(spec);
	gen_kspec_list_free(&specs);
	gen_kspath_free(&path);
	return rv;
}

static void print_log(const char *log)
{
	const char *p = log;

	printf("---- slurm-jupyter-shim's log\n");
	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");

		printf("  | %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	printf("----\n");
}

static void report_trial(struct doctor *d, const struct dk_result *r)
{
	const char *node = r->node[0] ? r->node : "the compute node";

	if (r->stage >= DK_RENDEZVOUS)
		dr_line(d, DR_OK, "rendezvous: %s reached this host and bound "
		       "its relay port (%s)", node,
		       r->relay[0] ? r->relay : "port not logged");
	else if (r->reached)
		dr_line(d, DR_OK, "rendezvous: the compute node reached this "
		       "host");
	else
		dr_line(d, DR_FAIL, "rendezvous: %s; fix: compute nodes must "
		       "reach this host on TCP (ephemeral ports); if they use "
		       "another address for it, add --rendezvous-host=ADDR to "
		       "the kernelspecs",
		       r->why[0] ? r->why : "no call from a compute node in "
		       "time (is the job pending? squeue; or --timeout)");

	if (r->stage >= DK_RELAY)
		dr_line(d, DR_OK, "relay: this host reached %s's relay port",
		       node);
	else if (r->reached && r->stage < DK_RENDEZVOUS)
		dr_line(d, DR_FAIL, "relay: %s; fix: relay_ports in "
		       "plugstack.conf needs a free port per kernel on "
		       "every node", r->why[0] ? r->why : "the node could "
		       "not set up its relay");
	else if (r->stage == DK_RENDEZVOUS)
		dr_line(d, DR_FAIL, "relay: this host did not reach %s's relay "
		       "port (%s); fix: allow TCP from login nodes to "
		       "relay_ports (plugstack.conf) on compute nodes", node,
		       r->relay[0] ? r->relay : "address unknown");
	else
		dr_line(d, DR_SKIP, "relay: needs the rendezvous");

	if (r->stage == DK_ANSWERED)
		dr_line(d, DR_OK, "kernel: %s on %s answered kernel_info in "
		       "%.1f s: %s", d->kernel, node, r->seconds, r->banner);
	else if (r->stage == DK_RELAY)
		dr_line(d, DR_FAIL, "kernel: %s on %s did not answer "
			"kernel_info "
		       "in %d s%s%s; fix: check that the kernel runs on the "
		       "node (jupyter slurm doctor -v shows its log)",
		       d->kernel, node, d->timeout, r->why[0] ? ": " : "",
		       r->why);
	else
		dr_line(d, DR_SKIP, "kernel: needs the relay");
}

/* (d) and (e): a real kernel, started as Jupyter would. */
static void check_kernel(struct doctor *d)
{
	char **kargv = NULL, why[512], linger[] = "--linger=0", f[] = "-f",
	     dash[] = "--", minute[] = "--time=1";
	const char *argv[16 + MAX_SLURM_ARGS + 64];
	struct dk_result r;
	struct sj_err err;
	size_t nk = 0, n = 0, cf;

	if (kernel_argv(d, &kargv, &nk, why, sizeof(why))) {
		dr_line(d, DR_FAIL, "rendezvous: cannot start a trial "
			"kernel: %s", why);
		dr_line(d, DR_SKIP, "relay: needs the rendezvous");
		dr_line(d, DR_SKIP, "kernel: needs the relay");
		return;
	}
	if (nk > 64)
		nk = 64;
	argv[n++] = d->shim;
	argv[n++] = linger;
	argv[n++] = minute;	/* for salloc; a --salloc-arg may override it */
	for (size_t i = 0; i < d->nslurm; i++)
		argv[n++] = d->slurm[i];
	argv[n++] = f;
	cf = n;
	argv[n++] = "";
	argv[n++] = dash;
	for (size_t i = 0; i < nk; i++)
		argv[n++] = kargv[i];
	argv[n] = NULL;
	if (dk_run((char *const *)argv, cf, d->timeout, &r, &err)) {
		dr_line(d, DR_FAIL, "rendezvous: cannot start a trial "
			"kernel: %s", err.msg);
		dr_line(d, DR_SKIP, "relay: needs the rendezvous");
		dr_line(d, DR_SKIP, "kernel: needs the relay");
	} else {
		report_trial(d, &r);
	}
	if (d->verbose && r.log != NULL)
		print_log(r.log);
	dk_result_free(&r);
	for (size_t i = 0; i < nk; i++)
		free(kargv[i]);
	free(kargv);
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor d = { .kernel = "python3", .timeout = DEFAULT_TIMEOUT };
	int r, slurm, plugin, munge, shim = 0;

	r = parse(&d, argc, argv);
	if (r != 0) {
		for (size_t i = 0; i < d.nowned; i++)
			free(d.owned[i]);
		return r > 0 ? GEN_EXIT_OK : GEN_EXIT_USAGE;
	}
	slurm = doctor_check_slurm(&d);
	plugin = doctor_check_plugin(&d);
	munge = doctor_check_munge(&d);
	/* The shim check submits a job: never to a Slurm we refuse. */
	if (!slurm)
		dr_line(&d, DR_SKIP, "shim: needs slurm");
	else if (munge)
		shim = doctor_check_shim(&d);
	else
		dr_line(&d, DR_SKIP, "shim: needs munge (srun)");
	(void)doctor_check_site(&d);
	if (plugin && munge && shim) {
		check_kernel(&d);
	} else {
		dr_line(&d, DR_SKIP,
			"rendezvous: needs plugin, munge and shim");
		dr_line(&d, DR_SKIP, "relay: needs the rendezvous");
		dr_line(&d, DR_SKIP, "kernel: needs the relay");
	}
	for (size_t i = 0; i < d.nowned; i++)
		free(d.owned[i]);
	return d.failed ? GEN_EXIT_FAIL : GEN_EXIT_OK;
}
