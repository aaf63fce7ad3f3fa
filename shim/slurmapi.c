#include "slurmapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>

/* libslurm exports these and scontrol prints them, but slurm.h does not
 * declare them. */
extern char *slurm_job_state_string(uint32_t state);
extern char *slurm_job_reason_string(enum job_state_reason reason);

/* Reads slurm.conf once: only called once a Slurm command worked (salloc,
 * squeue or srun), so the configuration is there. */
static void api_init(void)
{
	static int done;

	if (!done) {
		slurm_init(NULL);
		done = 1;
	}
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

int slurm_job_facts(const char *jobid, struct slurm_job_facts *f)
{
	job_info_msg_t *msg = NULL;
	uint32_t id;
	int rv = -1;

	memset(f, 0, sizeof(*f));
	if (parse_jobid(jobid, &id))
		return -1;
	api_init();
	if (slurm_load_job(&msg, id, SHOW_ALL) != SLURM_SUCCESS || msg == NULL)
		return -1;
	for (uint32_t i = 0; i < msg->record_count; i++) {
		const slurm_job_info_t *j = &msg->job_array[i];
		const char *s;

		if (j->job_id != id)
			continue;
		s = slurm_job_state_string(j->job_state);
		snprintf(f->state, sizeof(f->state), "%s", s ? s : "");
		s = slurm_job_reason_string((enum job_state_reason)
					    j->state_reason);
		snprintf(f->reason, sizeof(f->reason), "%s", s ? s : "");
		snprintf(f->nodes, sizeof(f->nodes), "%s",
			 j->nodes ? j->nodes : "");
		f->num_nodes = j->num_nodes;
		f->end_time = j->time_limit == INFINITE ? 0 : j->end_time;
		rv = f->state[0] ? 0 : -1;
		break;
	}
	slurm_free_job_info_msg(msg);
	return rv;
}

int slurm_running_jobs_named(const char *name, char ids[][32], int max)
{
	job_info_msg_t *msg = NULL;
	int n = 0;

	api_init();
	if (slurm_load_job_user(&msg, (uint32_t)getuid(), SHOW_ALL) !=
	    SLURM_SUCCESS || msg == NULL)
		return -1;
	for (uint32_t i = 0; i < msg->record_count && n < max; i++) {
		const slurm_job_info_t *j = &msg->job_array[i];

		if ((j->job_state & JOB_STATE_BASE) != JOB_RUNNING ||
		    j->name == NULL || strcmp(j->name, name) != 0)
			continue;
		snprintf(ids[n++], 32, "%u", (unsigned)j->job_id);
	}
	slurm_free_job_info_msg(msg);
	return n;
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
