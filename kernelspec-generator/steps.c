#include "steps.h"

#include <stdlib.h>
#include <string.h>

#include "../shim/args.h"
#include "../shim/slurm.h"
#include "quote.h"

void gen_alloc_name(const struct gen_strv *salloc, char *out, size_t len)
{
	/* FNV-1a over each argument and its NUL, as shim/alloc.c does. */
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < salloc->n; i++) {
		for (const char *p = salloc->v[i]; ; p++) {
			h ^= (uint8_t)*p;
			h *= 16777619u;
			if (*p == '\0')
				break;
		}
	}
	snprintf(out, len, SHIM_JOB_NAME "-%08x", (unsigned)h);
}

static void print_setup(FILE *f, const char *setup)
{
	char *script = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&script, &len);

	/* The same script as shim/slurm.c: the kernel starts only if the
	 * setup succeeded, and "$@" keeps its argv intact. */
	fputs(" /bin/sh -c ", f);
	if (m == NULL) {
		fputs("'...'", f);
	} else {
		fprintf(m, "{ %s\n} || { echo \"slurm-jupyter-shim: --setup "
			"failed (exit status $?); not starting the kernel\" "
			">&2; exit 1; }\nexec \"$@\"", setup);
		fclose(m);
		gen_quote(f, script);
	}
	free(script);
	fputs(" slurm-jupyter-setup", f);
}

static void print_srun(FILE *f, const struct gen_split *s)
{
	fputs("       srun --jobid=JOBID --overlap --nodes=1 --ntasks=1 "
	      "--job-name=" SHIM_JOB_NAME " --jupyter-kernel=HOST:PORT:NONCE",
	      f);
	if (s->kernel_node != NULL) {
		fputs(" --nodelist=", f);
		gen_quote(f, s->kernel_node);
	}
	gen_quote_list(f, &s->srun, 1);
	fputc(' ', f);
	gen_quote(f, s->shim);
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

	snprintf(deflinger, sizeof(deflinger), "%d", SHIM_DEFAULT_LINGER);
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
			"own named %s that %s, found with squeue; else makes "
			"one:\n", name, s->share ? "runs (--share)" :
			"no kernel uses");
		fprintf(f, "       salloc --no-shell --job-name=%s", name);
		gen_quote_list(f, &s->salloc, 1);
		fputc('\n', f);
	}
	fputs("  2. starts the kernel as a step of it (JOBID):\n", f);
	print_srun(f, s);
	fputs("  3. forwards Jupyter's five channels to the kernel over "
	      "CURVE-encrypted ZeroMQ", f);
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
