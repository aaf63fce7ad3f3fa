// SPDX-License-Identifier: GPL-2.0-or-later
#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "connfile.h"
#include "idle.h"
#include "shimopt.h"

const char shim_usage[] =
"usage: slurm-jupyter-shim [SHIM OPTIONS] [SLURM OPTIONS] -f CONNECTION_FILE\n"
"                          -- KERNEL ARGV...\n"
"\n"
"Runs a Jupyter kernel on a Slurm compute node.  Named in a kernelspec's\n"
"argv; Jupyter starts it with its connection file.  Everything before -f\n"
"that is not a shim option is passed to salloc (e.g. --partition=debug,\n"
"--time=60, -w n1).\n"
"\n"
"Shim options:\n"
"  --jobid=ID              run in the existing allocation ID (never\n"
"                          cancelled by the shim)\n"
"  --rendezvous-host=ADDR  the address compute nodes reach this host at\n"
"                          (default: the address srun launches from)\n"
"  --setup=COMMAND         shell command run on the node before the kernel\n"
"                          (e.g. \"module load python\"); the kernel starts\n"
"                          only if it succeeds\n"
"  --kernel-node=NAME      in a multi-node allocation, run the kernel on\n"
"                          NAME (default: the first node)\n"
"  --srun-arg=ARG          one more argument for the kernel's srun\n"
"                          (repeatable)\n"
"  --kernel-transport=tcp  the kernel on the node listens on 127.0.0.1\n"
"                          instead of unix sockets in its private\n"
"                          directory, for kernels without ipc support\n"
"                          (default: the site's plugstack setting)\n"
"  --share                 run in an allocation of the same options that\n"
"                          other kernels use (default: only in an unused,\n"
"                          lingering one)\n"
"  --linger=SECONDS        keep an allocation the shim made this long after\n"
"                          its last kernel left, for a restart (default 10;\n"
"                          0 releases it at once)\n"
"  --warn-before=LIST      warn in the running cell this long before the\n"
"                          allocation ends (default " SJ_WARN_DEFAULT "; durations\n"
"                          with s, m or h; 0: no warnings)\n"
"  --idle-timeout=DURATION  shut the kernel down after this long idle (no\n"
"                          request, not busy) and give the allocation back\n"
"                          (default 0: never; s, m or h)\n"

"  --node-shim=PATH        the shim's path on the compute nodes (default:\n"
"                          this program's own path)\n"
"  --shim-verbose          log each step to stderr\n"
"  --help, --version\n"
"\n"
"A site may set its own defaults for --linger, --warn-before and\n"
"--idle-timeout in " SJ_SHIMCONF_PATH ".\n";

/* Takes argv[*i] if it is a shim option (shimopt.h), else gives it to
 * salloc; -1 with err for a shim option's bad value. */
static int shim_option(struct shim_args *a, int argc, char **argv, int *i,
		       struct sj_err *err)
{
	const char *v;
	char *end;
	unsigned long s;

	switch (sj_shimopt_match(argc, (const char *const *)argv, i, &v)) {
	case SJ_SHIMOPT_SHIM_VERBOSE:
		a->verbose = 1;
		break;
	case SJ_SHIMOPT_JOBID:
		a->jobid = v;
		break;
	case SJ_SHIMOPT_RENDEZVOUS_HOST:
		a->rendezvous_host = v;
		break;
	case SJ_SHIMOPT_KERNEL_TRANSPORT:
		if (strcmp(v, "ipc") != 0 && strcmp(v, "tcp") != 0)
			return sj_err_set(err, "--kernel-transport=%s: ipc or "
					  "tcp", v);
		a->kernel_transport = v;
		break;
	case SJ_SHIMOPT_SHARE:
		a->share = 1;
		break;
	case SJ_SHIMOPT_LINGER:
		s = strtoul(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || s > SJ_MAX_LINGER)
			return sj_err_set(err, "--linger=%s: seconds, 0 to %d",
					  v, SJ_MAX_LINGER);
		a->linger = (unsigned)s;
		a->linger_given = 1;
		break;
	case SJ_SHIMOPT_WARN_BEFORE:
		if (sj_warn_parse(v, &a->warn, err))
			return -1;
		a->warn_given = 1;
		break;
	case SJ_SHIMOPT_IDLE_TIMEOUT:
		if (sj_idle_parse(v, &a->idle_timeout, err))
			return -1;
		a->idle_given = 1;
		break;
	case SJ_SHIMOPT_SETUP:
		a->setup = v;
		break;
	case SJ_SHIMOPT_KERNEL_NODE:
		a->kernel_node = v;
		break;
	case SJ_SHIMOPT_NODE_SHIM:
		a->node_shim = v;
		break;
	case SJ_SHIMOPT_SRUN_ARG:
		a->srun_argv[a->srun_argc++] = (char *)v;
		break;
	case SJ_SHIMOPT_NONE:
	case SJ_SHIMOPT_COUNT:
		a->slurm_argv[a->slurm_argc++] = argv[*i];
		break;
	}
	return 0;
}

int shim_args_parse(int argc, char **argv, struct shim_args *a,
		    struct sj_err *err)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->mode = SHIM_LOGIN;
	a->linger = SJ_DEFAULT_LINGER;
	if (sj_warn_parse(SJ_WARN_DEFAULT, &a->warn, err))
		return -1;
	a->kernel_transport = "default";
	if (argc >= 2 && strcmp(argv[1], "--node") == 0) {
		a->mode = SHIM_NODE;
		if (argc < 4 || strcmp(argv[2], "--") != 0)
			return sj_err_set(err, "--node: expected \"--node -- "
					  "KERNEL ARGV...\"");
		a->kernel_argv = argv + 3;
		a->kernel_argc = argc - 3;
		return 0;
	}

	a->slurm_argv = calloc((size_t)argc, sizeof(char *));
	a->srun_argv = calloc((size_t)argc, sizeof(char *));
	if (a->slurm_argv == NULL || a->srun_argv == NULL)
		return sj_err_set(err, "out of memory");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			a->kernel_argv = argv + i + 1;
			a->kernel_argc = argc - i - 1;
			break;
		}
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			a->mode = SHIM_HELP;
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			a->mode = SHIM_VERSION;
			return 0;
		}
		if (strcmp(argv[i], "-f") == 0) {
			if (i + 1 >= argc)
				return sj_err_set(err, "-f needs the "
						  "connection file");
			a->connection_file = argv[++i];
		} else if (strcmp(argv[i], "--node") == 0) {
			return sj_err_set(err, "--node must come first (it "
					  "is the compute-node side, started "
					  "by srun)");
		} else if (shim_option(a, argc, argv, &i, err) < 0) {
			return -1;
		}
	}
	if (a->connection_file == NULL)
		return sj_err_set(err, "missing -f CONNECTION_FILE (kernel.json "
				  "argv must contain \"-f\", "
				  "\"" SJ_CONNFILE_TOKEN "\")");
	if (a->kernel_argv == NULL || a->kernel_argc == 0)
		return sj_err_set(err, "missing \"-- KERNEL ARGV...\" after "
				  "the shim's options");
	if (a->setup != NULL && a->setup[0] == '\0')
		return sj_err_set(err, "--setup: empty command");
	if (a->node_shim != NULL && a->node_shim[0] != '/')
		return sj_err_set(err, "--node-shim=%s: an absolute path on "
				  "the compute nodes", a->node_shim);
	if (a->kernel_node != NULL &&
	    (a->kernel_node[0] == '\0' || a->kernel_node[0] == '-' ||
	     strpbrk(a->kernel_node, " ,\t\n") != NULL))
		return sj_err_set(err, "--kernel-node=%s: one node name",
				  a->kernel_node);
	if (a->jobid != NULL) {
		char *end;
		unsigned long id = strtoul(a->jobid, &end, 10);

		if (*a->jobid == '\0' || *end != '\0' || id == 0 ||
		    id > 0xfffffff0UL)
			return sj_err_set(err, "--jobid=%s: not a job id",
					  a->jobid);
	}
	return 0;
}

void shim_args_free(struct shim_args *a)
{
	free(a->slurm_argv);
	free(a->srun_argv);
	a->slurm_argv = NULL;
	a->srun_argv = NULL;
}

void shim_args_site(struct shim_args *a, const struct sj_shimconf *c)
{
	if (!a->linger_given && c->line[SJ_SHIMCONF_LINGER])
		a->linger = c->linger;
	if (!a->warn_given && c->line[SJ_SHIMCONF_WARN_BEFORE])
		a->warn = c->warn;
	if (!a->idle_given && c->line[SJ_SHIMCONF_IDLE_TIMEOUT])
		a->idle_timeout = c->idle_timeout;
}
