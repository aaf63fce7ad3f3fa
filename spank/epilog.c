// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * epilog.c - the job epilog on each node of a job (S_CTX_JOB_SCRIPT, root).
 *
 * slurmstepd removes a kernel step's directory when the step ends.  If
 * slurmstepd itself died (killed, out of memory), its directory stays;
 * the job epilog runs on every node of the job afterwards and removes
 * every <runtime_dir>/<job>.<digits> directory that is left.  It works
 * through a descriptor of runtime_dir opened with task_init_privileged's
 * checks (owned by root, not writable by others, not a symlink), so that
 * only root can have put those names there.  It never fails: a failing
 * epilog drains the node.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	char prefix[32];
	struct dirent *de;
	struct stat st;
	struct sj_err err;
	DIR *dir;
	int fd;

	/* Slurm calls no init in this process: the arguments come here. */
	sj_config_defaults(&config);
	if (sj_config_parse(ac, av, &config, &err) != 0) {
		sj_error("job_epilog: plugstack.conf: %s",
			 err.msg);
		return 0;
	}
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS) {
		sj_error("job_epilog: no job id");
		return 0;
	}
	if (sj_open_owned_dir(config.runtime_dir, 0, &fd, &err) != 0) {
		sj_error("job_epilog: job %" PRIu32 ": "
			 "nothing removed: %s", job_id, err.msg);
		return 0;
	}
	if (fd < 0)		/* no kernel ever ran here */
		return 0;
	dir = fdopendir(fd);
	if (dir == NULL) {
		sj_error("job_epilog: %s: %s",
			 config.runtime_dir, strerror(errno));
		close(fd);
		return 0;
	}
	snprintf(prefix, sizeof(prefix), "%" PRIu32 ".", job_id);
	while ((de = readdir(dir)) != NULL) {
		struct sj_file_id id;

		if (!is_step_dir_of(de->d_name, prefix))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		/* That very directory, not what the name may be by now. */
		id.dev = st.st_dev;
		id.ino = st.st_ino;
		if (sj_rmtree_at(dirfd(dir), de->d_name, &id, &err) != 0)
			sj_error("job_epilog: cannot remove "
				 "%s/%s: %s", config.runtime_dir,
				 de->d_name, err.msg);
		else
			sj_info("job_epilog: removed %s/%s, "
				"left by a step that did not clean up",
				config.runtime_dir, de->d_name);
	}
	closedir(dir);
	return 0;
}
