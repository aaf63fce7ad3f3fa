// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * doctor_checks.c - the checks of jupyter slurm doctor that need no
 * kernel: the Slurm release, the plugin, munge, the shim here and on a
 * compute node.
 */
#include <munge.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"
#include "run.h"
#include "shimconf.h"
#include "shimpath.h"
#include "sitedef.h"
#include "slurmver.h"

/* The Slurm `shim --version` says it was built for, in built ("" when the
 * shim cannot be found or does not say: the shim check tells why). */
static void shim_built_for(struct doctor *d, char *shim, size_t len,
			   char *built, size_t blen)
{
	char *argv[] = { shim, "--version", NULL };
	struct sj_slurm_version v;
	struct gen_output o;
	struct sj_err err;
	char first[300];

	built[0] = '\0';
	if (gen_find_shim(d->shim_opt, shim, len, &err))
		return;
	if (gen_run(argv, GEN_RUN_TIMEOUT_MS, &o, &err) == 0 &&
	    o.status == 0) {
		gen_first_line(o.out, first, sizeof(first));
		if (sj_slurm_version_built_for(first, &v) == 0)
			snprintf(built, blen, "%u.%02u.%u", v.major, v.minor,
				 v.micro);
	}
	gen_output_free(&o);
}

/* (0) The srun on PATH is of the Slurm release jupyter-slurm and the
 * shim were built for: Slurm's ABI and plugin interface change with
 * each release, and the shim refuses any other. */
int doctor_check_slurm(struct doctor *d)
{
	char *argv[] = { "srun", "--version", NULL };
	char srun[PATH_MAX], shim[PATH_MAX], built[32], first[300],
	     where[PATH_MAX + 800], who[PATH_MAX + 64];
	struct sj_slurm_version here;
	struct gen_output o;
	struct sj_err err;
	int known = 0;

	if (sj_command_path("srun", getenv("PATH"), srun, sizeof(srun))) {
		dr_line(d, DR_FAIL, "slurm: no srun on PATH; fix: install "
			"Slurm's client commands (srun) on this host and put "
			"them on PATH");
		return 0;
	}
	if (gen_run(argv, GEN_RUN_TIMEOUT_MS, &o, &err)) {
		snprintf(where, sizeof(where), "%s --version: %s", srun,
			 err.msg);
	} else {
		gen_first_line(o.status == 0 ? o.out : o.errtext, first,
			       sizeof(first));
		known = o.status == 0 &&
			sj_slurm_version_banner(first, &here) == 0;
		if (known)
			snprintf(where, sizeof(where), "%s", srun);
		else
			snprintf(where, sizeof(where), "%s --version said "
				 "\"%s\", exit status %d", srun, first,
				 o.status);
		gen_output_free(&o);
	}
	if (sj_slurm_release_check("jupyter-slurm", SJ_SLURM_VERSION,
				   known ? &here : NULL, where, &err)) {
		dr_line(d, DR_FAIL, "slurm: %s", err.msg);
		return 0;
	}
	shim_built_for(d, shim, sizeof(shim), built, sizeof(built));
	snprintf(who, sizeof(who), "%s", shim);
	if (built[0] != '\0' &&
	    sj_slurm_release_check(who, built, &here, where, &err)) {
		dr_line(d, DR_FAIL, "slurm: %s", err.msg);
		return 0;
	}
	if (built[0] != '\0')
		snprintf(who, sizeof(who), ", %s for Slurm %s", shim, built);
	else
		who[0] = '\0';
	dr_line(d, DR_OK, "slurm: %s is Slurm %u.%02u.%u; jupyter-slurm was "
		"built for Slurm %s%s", srun, here.major, here.minor,
		here.micro, SJ_SLURM_VERSION, who);
	return 1;
}

/* (a) SPANK lists a plugin's options in srun --help only if it loaded. */
int doctor_check_plugin(struct doctor *d)
{
	char *argv[] = { "srun", "--help", NULL };
	struct gen_output o;
	struct sj_err err;
	char first[300];
	int ok = 0;

	if (gen_run(argv, GEN_RUN_TIMEOUT_MS, &o, &err)) {
		dr_line(d, DR_FAIL, "plugin: %s; fix: install Slurm's client "
		       "commands (srun) on this host and put them on PATH",
		       err.msg);
	} else if (o.status != 0) {
		gen_first_line(o.errtext, first, sizeof(first));
		dr_line(d, DR_FAIL, "plugin: srun --help failed (%s); "
			"fix: check "
		       "plugstack.conf (a required plugin that cannot be "
		       "loaded fails every srun)", first);
	} else if (strstr(o.out, "--jupyter-kernel") == NULL) {
		dr_line(d, DR_FAIL, "plugin: srun does not know "
			"--jupyter-kernel; "
		       "fix: add \"required spank_jupyter.so\" to "
		       "plugstack.conf on login and compute nodes "
		       "(man spank_jupyter)");
	} else {
		dr_line(d, DR_OK, "plugin: srun --help lists --jupyter-kernel "
		       "(spank_jupyter.so is loaded)");
		ok = 1;
	}
	gen_output_free(&o);
	return ok;
}

/* (b) What `munge -n | unmunge` does, without the pipe.  A context of
 * our own gives the detailed message (which socket, why). */
int doctor_check_munge(struct doctor *d)
{
	munge_ctx_t ctx = munge_ctx_create();
	char *cred = NULL;
	uid_t uid = 0;
	gid_t gid;
	munge_err_t e;

	if (ctx == NULL) {
		dr_line(d, DR_FAIL, "munge: out of memory");
		return 0;
	}
	e = munge_encode(&cred, ctx, NULL, 0);
	if (e == EMUNGE_SUCCESS)
		e = munge_decode(cred, ctx, NULL, NULL, &uid, &gid);
	free(cred);
	if (e != EMUNGE_SUCCESS) {
		const char *m = munge_ctx_strerror(ctx);

		dr_line(d, DR_FAIL, "munge: %s; fix: start munged on this host "
		       "(systemctl start munge) with the cluster's "
		       "/etc/munge/munge.key", m ? m : munge_strerror(e));
		munge_ctx_destroy(ctx);
		return 0;
	}
	munge_ctx_destroy(ctx);
	if (uid != getuid()) {
		dr_line(d, DR_FAIL, "munge: a credential made here decodes "
			"as uid %ju, not yours (%ju); fix: check munged",
			(uintmax_t)uid, (uintmax_t)getuid());
		return 0;
	}
	dr_line(d, DR_OK, "munge: a credential made here decodes here");
	return 1;
}

/* (c) The login shim starts `SHIM --node` under its own path. */
int doctor_check_shim(struct doctor *d)
{
	char *local[] = { d->shim, "--version", NULL };
	char immediate[32], first[300];
	const char *argv[16 + MAX_SLURM_ARGS];
	struct gen_output o;
	struct sj_err err = { .msg = "" };
	size_t n = 0;
	int ok = 0;

	if (gen_find_shim(d->shim_opt, d->shim, sizeof(d->shim), &err)) {
		dr_line(d, DR_FAIL, "shim: %s; fix: install slurm-jupyter-shim "
		       "next to jupyter-slurm", err.msg);
		return 0;
	}
	if (gen_run(local, GEN_RUN_TIMEOUT_MS, &o, &err) == 0 &&
	    o.status != 0) {
		gen_first_line(o.errtext, first, sizeof(first));
		sj_err_set(&err, "exit status %d: %s", o.status, first);
	}
	if (err.msg[0] != '\0') {
		dr_line(d, DR_FAIL, "shim: %s --version does not run here "
			"(%s); "
		       "fix: reinstall it", d->shim, err.msg);
		gen_output_free(&o);
		return 0;
	}
	gen_first_line(o.out, d->version, sizeof(d->version));
	gen_output_free(&o);

	snprintf(immediate, sizeof(immediate), "--immediate=%d", d->timeout);
	argv[n++] = "srun";
	argv[n++] = "--job-name=jupyter-slurm-doctor";
	argv[n++] = "-N1";
	argv[n++] = "-n1";
	argv[n++] = "--time=1";
	argv[n++] = immediate;
	for (size_t i = 0; i < d->nslurm; i++)
		argv[n++] = d->slurm[i];
	argv[n++] = d->shim;
	argv[n++] = "--version";
	argv[n] = NULL;
	if (gen_run((char *const *)argv, (d->timeout + 30) * 1000, &o, &err)) {
		dr_line(d, DR_FAIL, "shim: srun %s --version: %s; fix: check "
		       "that jobs start (sinfo, squeue)", d->shim, err.msg);
	} else if (o.status != 0) {
		const char *e = strstr(o.errtext, "error");

		/* From the start of the first error line, if any. */
		while (e != NULL && e > o.errtext && e[-1] != '\n')
			e--;
		gen_first_line(e != NULL ? e : o.errtext, first, sizeof(first));
		if (strstr(o.errtext, "execve") != NULL)
			dr_line(d, DR_FAIL, "shim: %s --version did not "
				"run on a "
			       "compute node (%s); fix: install "
			       "slurm-jupyter-shim at the same path on every "
			       "compute node", d->shim, first);
		else
			dr_line(d, DR_FAIL, "shim: srun -N1 -n1 --time=1 %s "
			       "--version failed (%s); fix: check the Slurm "
			       "options given (-p, -A, --salloc-arg) and that "
			       "jobs start (sinfo, squeue)", d->shim, first);
	} else {
		gen_first_line(o.out, first, sizeof(first));
		if (strcmp(first, d->version) != 0)
			dr_line(d, DR_FAIL, "shim: %s is \"%s\" here but "
				"\"%s\" on "
			       "a compute node; fix: install the same version "
			       "everywhere", d->shim, d->version, first);
		else
			dr_line(d, DR_OK, "shim: %s here and on a compute node "
			       "(%s)", d->shim, d->version);
		ok = strcmp(first, d->version) == 0;
	}
	gen_output_free(&o);
	return ok;
}


/* (d) The site's defaults: a file the shim refuses stops every kernel. */
int doctor_check_site(struct doctor *d)
{
	const char *path = sj_shimconf_path();
	struct sj_shimconf c;
	struct sj_err err;
	char sets[600];
	int found;

	if (sj_shimconf_load(path, &c, &found, &err)) {
		dr_line(d, DR_FAIL, "site: %s; fix: the shim refuses to start "
			"until the file is root's, writable by root only, and "
			"every line is a known key=value (man "
			"slurm-jupyter-shim)", err.msg);
		return 0;
	}
	if (!found) {
		dr_line(d, DR_OK, "site: no %s: the shim's built-in defaults",
			path);
		return 1;
	}
	gen_site_sets(&c, sets, sizeof(sets));
	dr_line(d, DR_OK, "site: %s sets %s", path, sets);
	return 1;
}
