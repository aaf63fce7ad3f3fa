/*
 * epilog.c - the job epilog on each node of a job (S_CTX_JOB_SCRIPT, root).
 *
 * slurmstepd removes a kernel step's directory when the step ends.  If
 * slurmstepd itself died (killed, out of memory), its directory stays;
 * the job epilog runs on every node of the job afterwards and removes
 * every <runtime_dir>/<job>.* that is left.  It never fails: a failing
 * epilog drains the node.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "plugin.h"

/* "<job>.<digits>": a step directory of this job, nothing else. */
static int is_step_dir_of(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);
	const char *step = name + pl;

	return strncmp(name, prefix, pl) == 0 && step[0] != '\0' &&
	       strspn(step, "0123456789") == strlen(step);
}

int sj_job_epilog(spank_t sp, int ac, char **av)
{
	struct sj_config config;
	uint32_t job_id;
	char prefix[32], path[4096];
	struct dirent *de;
	struct stat st;
	struct sj_err err;
	DIR *dir;

	/* Slurm calls no init in this process: the arguments come here. */
	sj_config_defaults(&config);
	if (sj_config_parse(ac, av, &config, &err) != 0) {
		slurm_error(SJ_LOG_PREFIX "job_epilog: plugstack.conf: %s",
			    err.msg);
		return 0;
	}
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS) {
		slurm_error(SJ_LOG_PREFIX "job_epilog: no job id");
		return 0;
	}
	dir = opendir(config.runtime_dir);
	if (dir == NULL) {
		if (errno != ENOENT)
			slurm_error(SJ_LOG_PREFIX "job_epilog: %s: %s",
				    config.runtime_dir, strerror(errno));
		return 0;
	}
	snprintf(prefix, sizeof(prefix), "%" PRIu32 ".", job_id);
	while ((de = readdir(dir)) != NULL) {
		if (!is_step_dir_of(de->d_name, prefix))
			continue;
		int n = snprintf(path, sizeof(path), "%s/%s",
				 config.runtime_dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (sj_rmtree(path, &err) != 0)
			slurm_error(SJ_LOG_PREFIX "job_epilog: cannot remove "
				    "%s: %s", path, err.msg);
		else
			slurm_info(SJ_LOG_PREFIX "job_epilog: removed %s, "
				   "left by a step that did not clean up",
				   path);
	}
	closedir(dir);
	return 0;
}
