// SPDX-License-Identifier: GPL-2.0-or-later
#include "slurmapi.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <slurm/slurm.h>

#include "child.h"
#include "log.h"
#include "proc.h"
#include "slurmver.h"

/*
 * Each question is asked by a child process that loads libslurm, asks,
 * writes the answer into a pipe and exits.  Loaded into the shim itself,
 * libslurm and the plugins slurm_init loads (about 2 MiB) would stay
 * resident for the kernel's whole life, for the few questions asked at
 * its start and its end; a fork costs a millisecond each time.
 */
#ifndef SJ_LIBSLURM
#error "SJ_LIBSLURM (libslurm's soname) must be defined by the Makefile"
#endif

#define MAX_IDS 64

/*
 * Which Slurm is here, learnt by the first child (see slurm_release_check
 * in slurmapi.h): the srun the shim will run from PATH, asked with
 * --version while the child loads libslurm, and whether libslurm loads.
 */
struct release {
	int lib_loaded;
	char lib_error[256];		/* dlerror() when it did not load */
	char srun[PATH_MAX];		/* "" when PATH has none */
	char srun_said[256];		/* the first line of srun --version */
	int srun_status;
};

struct answer {
	int rv;
	struct slurm_job_facts facts;
	int n;
	char ids[MAX_IDS][32];
	int checked;			/* rel is filled */
	struct release rel;
};

/* The parent's verdict on the Slurm here, once a child has told it. */
static int release_checked;
static struct sj_err release_refusal;

/* libslurm's functions, looked up in the child. */
struct api {
	/* Typed by the header built against: their arguments change
	 * between releases (slurm_load_job in 26.05). */
	__typeof__(slurm_init) *init;
	__typeof__(slurm_load_job) *load_job;
	__typeof__(slurm_load_job_user) *load_job_user;
	__typeof__(slurm_free_job_info_msg) *free_job_info_msg;
	/* Exported and what scontrol prints, but not in slurm.h. */
	char *(*job_state_string)(uint32_t);
	const char *(*job_reason_string)(enum job_state_reason);
};

/* RTLD_GLOBAL: the plugins libslurm loads in turn (auth/munge, ...) take
 * its symbols from the global scope.  SJ_LIBSLURM names libslurm by its
 * soname, which Slurm changes with every release (38 for 22.05, 45 for
 * 26.05): whatever loads is the libslurm of the release built for, and the
 * structs of our slurm.h are its structs.  (slurm_api_version() says no
 * more: it returns that same soname number, not the release.)  Upgrades
 * remove it; that is reported (rel->lib_error) and refused. */
static int api_load(struct api *a, struct release *rel)
{
	void *h = dlopen(SJ_LIBSLURM, RTLD_NOW | RTLD_GLOBAL);

	if (h == NULL) {
		const char *e = dlerror();

		snprintf(rel->lib_error, sizeof(rel->lib_error), "%s",
			 e != NULL ? e : SJ_LIBSLURM);
		return -1;
	}
	rel->lib_loaded = 1;
	*(void **)&a->init = dlsym(h, "slurm_init");
	*(void **)&a->load_job = dlsym(h, "slurm_load_job");
	*(void **)&a->load_job_user = dlsym(h, "slurm_load_job_user");
	*(void **)&a->free_job_info_msg = dlsym(h, "slurm_free_job_info_msg");
	*(void **)&a->job_state_string = dlsym(h, "slurm_job_state_string");
	/* Renamed (and made const) in a Slurm after 22.05; 25.11 has only
	 * the new name.  Looked up by name, not by the version built for,
	 * since the release that renamed it is not known here. */
	*(void **)&a->job_reason_string =
		dlsym(h, "slurm_job_state_reason_string");
	if (a->job_reason_string == NULL)
		*(void **)&a->job_reason_string =
			dlsym(h, "slurm_job_reason_string");
	if (a->init == NULL || a->load_job == NULL ||
	    a->load_job_user == NULL || a->free_job_info_msg == NULL ||
	    a->job_state_string == NULL || a->job_reason_string == NULL)
		return -1;
	a->init(NULL);
	return 0;
}

/* In the child: starts `srun --version` with its output into *fd, to be
 * read by srun_collect once libslurm is loaded. */
static pid_t srun_start(struct release *rel, int *fd)
{
	char *argv[] = { rel->srun, "--version", NULL };
	struct sj_err err;
	int p[2];
	pid_t pid;

	*fd = -1;
	if (sj_command_path("srun", getenv("PATH"), rel->srun,
			    sizeof(rel->srun)) || pipe2(p, O_CLOEXEC) != 0)
		return -1;
	struct proc_spawn ps = {
		.argv = argv, .parent_death_sig = SIGKILL, .stdin_fd = -1,
		.stdout_fd = p[1], .stderr_fd = p[1],
	};
	if (proc_spawn(&ps, &pid, &err)) {
		snprintf(rel->srun_said, sizeof(rel->srun_said), "%.200s",
			 err.msg);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

/* In the child: what srun said (its first line) and its exit status. */
static void srun_collect(struct release *rel, pid_t pid, int fd)
{
	char buf[sizeof(rel->srun_said)];
	size_t got = 0;
	int status = 0;

	if (pid < 0)
		return;
	while (got < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(rel->srun_said, sizeof(rel->srun_said), "%s", buf);
	(void)sj_wait_child(pid, &status);
	rel->srun_status = proc_exit_code(status);
}

static int parse_jobid(const char *jobid, uint32_t *id)
{
	char *end;
	unsigned long v;

	if (jobid == NULL || jobid[0] < '1' || jobid[0] > '9')
		return -1;
	v = strtoul(jobid, &end, 10);
	if (*end != '\0' || v > UINT32_MAX)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

/* In the child: job id's record, as slurm_load_job gives it. */
static int load_one_job(const struct api *a, uint32_t id,
			job_info_msg_t **msg)
{
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(26, 5, 0)
	/* 26.05 names a job by a step id, which may carry a SLUID instead. */
	slurm_step_id_t step = SLURM_STEP_ID_INITIALIZER;

	step.job_id = id;
	return a->load_job(msg, step, SHOW_ALL);
#else
	return a->load_job(msg, id, SHOW_ALL);
#endif
}

/* In the child: the facts of job id. */
static int facts_of(const struct api *a, uint32_t id,
		    struct slurm_job_facts *f)
{
	job_info_msg_t *msg = NULL;
	int rv = -1;

	if (load_one_job(a, id, &msg) != SLURM_SUCCESS || msg == NULL)
		return -1;
	for (uint32_t i = 0; i < msg->record_count; i++) {
		const slurm_job_info_t *j = &msg->job_array[i];
		const char *s;

		if (j->job_id != id)
			continue;
		s = a->job_state_string(j->job_state);
		snprintf(f->state, sizeof(f->state), "%s", s ? s : "");
		s = a->job_state_string(j->job_state & JOB_STATE_BASE);
		snprintf(f->base_state, sizeof(f->base_state), "%s",
			 s ? s : "");
		s = a->job_reason_string((enum job_state_reason)
					 j->state_reason);
		snprintf(f->reason, sizeof(f->reason), "%s", s ? s : "");
		snprintf(f->nodes, sizeof(f->nodes), "%s",
			 j->nodes ? j->nodes : "");
		f->num_nodes = j->num_nodes;
		f->end_time = j->time_limit == INFINITE ? 0 : j->end_time;
		f->time_limit = j->time_limit == INFINITE ||
				j->time_limit == NO_VAL ? 0 : j->time_limit;
		f->start_time = j->start_time;
		snprintf(f->partition, sizeof(f->partition), "%s",
			 j->partition ? j->partition : "");
		rv = f->state[0] ? 0 : -1;
		break;
	}
	a->free_job_info_msg(msg);
	return rv;
}

/* In the child: this user's running jobs named name. */
static int running_named(const struct api *a, const char *name,
			 struct answer *ans, int max)
{
	job_info_msg_t *msg = NULL;

	if (a->load_job_user(&msg, (uint32_t)getuid(), SHOW_ALL) !=
	    SLURM_SUCCESS || msg == NULL)
		return -1;
	for (uint32_t i = 0; i < msg->record_count && ans->n < max; i++) {
		const slurm_job_info_t *j = &msg->job_array[i];

		if ((j->job_state & JOB_STATE_BASE) != JOB_RUNNING ||
		    j->name == NULL || strcmp(j->name, name) != 0)
			continue;
		snprintf(ans->ids[ans->n++], 32, "%u", (unsigned)j->job_id);
	}
	a->free_job_info_msg(msg);
	return 0;
}

static void judge_release(const struct release *rel);

/* Runs the question in a child; 0 with *ans filled, or -1.  Neither id
 * nor name: no question, only the check of the Slurm here.  The first
 * child also checks it, beside its question. */
static int ask(uint32_t id, const char *name, int max, struct answer *ans)
{
	int p[2], check = !release_checked, status = 0;
	pid_t pid;

	memset(ans, 0, sizeof(*ans));
	ans->rv = -1;
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		struct api a;
		struct answer out;
		sigset_t none;
		pid_t srun = -1;
		int srun_fd = -1;

		close(p[0]);
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		/* Our answer is worthless once the shim has gone. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(&out, 0, sizeof(out));
		out.rv = -1;
		if (check)
			srun = srun_start(&out.rel, &srun_fd);
		if (api_load(&a, &out.rel) == 0)
			out.rv = name != NULL ?
				 running_named(&a, name, &out, max) :
				 id != 0 ? facts_of(&a, id, &out.facts) : 0;
		if (check) {
			srun_collect(&out.rel, srun, srun_fd);
			out.checked = 1;
		}
		_exit(write(p[1], &out, sizeof(out)) == (ssize_t)sizeof(out) ?
		      0 : 1);
	}
	close(p[1]);
	size_t got = 0;
	while (got < sizeof(*ans)) {
		ssize_t r = read(p[0], (char *)ans + got, sizeof(*ans) - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(p[0]);
	(void)sj_wait_child(pid, &status);
	if (got != sizeof(*ans)) {
		/* No verdict: slurm_release_check asks again, alone,
		 * before anything is submitted. */
		if (check && WIFSIGNALED(status))
			shim_debug("the libslurm child died of signal %d",
				   WTERMSIG(status));
		memset(ans, 0, sizeof(*ans));
		return -1;
	}
	if (check && ans->checked)
		judge_release(&ans->rel);
	return ans->rv;
}

/* The parent's verdict on what the first child learnt. */
static void judge_release(const struct release *rel)
{
	struct sj_slurm_version srun;
	char where[PATH_MAX + 300];
	int srun_known = sj_slurm_version_banner(rel->srun_said, &srun) == 0;

	release_checked = 1;
	if (rel->srun[0] == '\0')
		snprintf(where, sizeof(where), "no srun on PATH");
	else if (srun_known)
		snprintf(where, sizeof(where), "%s", rel->srun);
	else
		snprintf(where, sizeof(where), "%s --version said \"%s\", "
			 "exit status %d", rel->srun, rel->srun_said,
			 rel->srun_status);
	/* srun first: after an upgrade it is what names the new release,
	 * while our libslurm has merely gone. */
	if (sj_slurm_release_check("this shim", SJ_SLURM_VERSION,
				   srun_known ? &srun : NULL, where,
				   &release_refusal))
		return;
	if (!rel->lib_loaded) {
		snprintf(where, sizeof(where), "its libslurm does not load: %s",
			 rel->lib_error);
		(void)sj_slurm_release_check("this shim", SJ_SLURM_VERSION,
					     NULL, where, &release_refusal);
		return;
	}
	release_refusal.msg[0] = '\0';
	shim_debug("Slurm %s here (%s; libslurm %s)", rel->srun_said,
		   rel->srun, SJ_LIBSLURM);
}

int slurm_release_check(struct sj_err *err)
{
	struct answer a;

	if (!release_checked)
		(void)ask(0, NULL, 0, &a);
	if (!release_checked)
		return sj_err_set(err, "this shim was built for Slurm %s but "
				  "cannot tell which Slurm this is (the "
				  "child that loads %s died); reinstall "
				  "spank-jupyter built against this Slurm",
				  SJ_SLURM_VERSION, SJ_LIBSLURM);
	if (release_refusal.msg[0] != '\0')
		return sj_err_set(err, "%s", release_refusal.msg);
	return 0;
}

int slurm_job_facts(const char *jobid, struct slurm_job_facts *f)
{
	struct answer a;
	uint32_t id;

	memset(f, 0, sizeof(*f));
	if (parse_jobid(jobid, &id) || ask(id, NULL, 0, &a))
		return -1;
	*f = a.facts;
	f->state[sizeof(f->state) - 1] = '\0';
	f->reason[sizeof(f->reason) - 1] = '\0';
	f->nodes[sizeof(f->nodes) - 1] = '\0';
	f->partition[sizeof(f->partition) - 1] = '\0';
	f->base_state[sizeof(f->base_state) - 1] = '\0';
	return 0;
}

int slurm_running_jobs_named(const char *name, char ids[][32], int max)
{
	struct answer a;

	if (max > MAX_IDS)
		max = MAX_IDS;
	if (ask(0, name, max, &a))
		return -1;
	for (int i = 0; i < a.n && i < max; i++) {
		memcpy(ids[i], a.ids[i], 32);
		ids[i][31] = '\0';
	}
	return a.n < max ? a.n : max;
}

int slurm_job_state(const char *jobid, char *state, size_t slen,
		    char *reason, size_t rlen)
{
	struct slurm_job_facts f;

	state[0] = reason[0] = '\0';
	if (slurm_job_facts(jobid, &f))
		return -1;
	snprintf(state, slen, "%s", f.state);
	snprintf(reason, rlen, "%s", f.reason);
	return 0;
}
