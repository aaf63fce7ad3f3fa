// SPDX-License-Identifier: GPL-2.0-or-later
#include "steps.h"

#include <stdlib.h>
#include <string.h>

#include "kernelstep.h"
#include "quote.h"

void gen_alloc_name(const struct gen_strv *salloc, char *out, size_t len)
{
	sj_alloc_job_name(salloc->v, salloc->n, out, len);
}

static void print_setup(FILE *f, const char *setup)
{
	char *script = sj_setup_script(setup);

	fputs(" /bin/sh -c ", f);
	if (script == NULL)
		fputs("'...'", f);
	else
		gen_quote(f, script);
	free(script);
	fputs(" slurm-jupyter-setup", f);
}

static void print_srun(FILE *f, const struct gen_split *s)
{
	fputs("       srun --jobid=JOBID --overlap --nodes=1 --ntasks=1 "
	      "--job-name=" SJ_JOB_NAME " --jupyter-kernel=HOST:PORT:NONCE",
	      f);
	if (s->kernel_node != NULL) {
		fputs(" --nodelist=", f);
		gen_quote(f, s->kernel_node);
	}
	gen_quote_list(f, &s->srun, 1);
	fputc(' ', f);
	gen_quote(f, s->node_shim != NULL ? s->node_shim : s->shim);
	fputs(" --node --", f);
	if (s->setup != NULL)
		print_setup(f, s->setup);
	gen_quote_list(f, &s->kernel, 1);
	fputc('\n', f);
}

void gen_steps_print(FILE *f, const struct gen_split *s)
{
	char name[64];
	char deflinger[16];
	const char *linger = s->linger;

	snprintf(deflinger, sizeof(deflinger), "%d", SJ_DEFAULT_LINGER);
	if (linger == NULL)
		linger = deflinger;
	fputs("When Jupyter starts it, the shim on this host\n", f);
	if (s->jobid != NULL) {
		fprintf(f, "  1. uses your allocation %s (--jobid; the shim "
			"never cancels it);\n", s->jobid);
	} else {
		gen_alloc_name(&s->salloc, name, sizeof(name));
		fprintf(f, "  1. uses the allocation of salloc --jupyter-kernel "
			"if Jupyter runs inside one; else an allocation of its "
			"own named %s that %s (of your running jobs); else makes "
			"one:\n", name, s->share ? "runs (--share)" :
			"no kernel uses");
		fprintf(f, "       salloc --no-shell --job-name=%s", name);
		gen_quote_list(f, &s->salloc, 1);
		fputc('\n', f);
	}
	fputs("  2. starts the kernel as a step of it (JOBID):\n", f);
	print_srun(f, s);
	fputs("  3. forwards Jupyter's five channels to the kernel over one "
	      "encrypted connection", f);
	if (s->rendezvous_host != NULL)
		fprintf(f, " (nodes call back at %s)", s->rendezvous_host);
	if (s->kernel_transport != NULL)
		fprintf(f, " (the kernel talks %s on the node)",
			s->kernel_transport);
	fputs(";\n", f);
	if (s->jobid != NULL)
		fputs("  4. ends the step when the kernel ends.\n", f);
	else
		fprintf(f, "  4. ends the step when the kernel ends; an "
			"allocation of its own is released (scancel JOBID) %s s "
			"after its last kernel left.\n", linger);
}
