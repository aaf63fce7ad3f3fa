// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_ps.c - jupyter slurm ps and cancel: the allocations of this user's
 * kernels on this login host, from the shims' lock files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "allocs.h"
#include "cmd.h"
#include "lockdir.h"
#include "run.h"

/* How long cancel waits for the kernels of a cancelled job to end: Slurm
 * kills them within KillWait (30 s by default), and their shims exit. */
#define CANCEL_WAIT_MS (90 * 1000)

/* /proc/locks as text; "" where there is none (then no kernel is
 * counted, and only cancel's own lock tells who still uses a job). */
static char *proc_locks(void)
{
	FILE *f = fopen("/proc/locks", "re");
	char *text = NULL;
	size_t len = 0;

	if (f != NULL) {
		char chunk[4096];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			char *t = realloc(text, len + n + 1);

			if (t == NULL)
				break;
			text = t;
			memcpy(text + len, chunk, n);
			len += n;
			text[len] = '\0';
		}
		fclose(f);
	}
	return text != NULL ? text : strdup("");
}

/* Opens a lock file of ours, as the shim does (shim/alloc.c): a regular
 * file of this user's, never through a symbolic link. */
static int open_lock(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
			O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
	    st->st_uid != getuid()) {
		close(fd);
		return -1;
	}
	return fd;
}

static void read_info(int fd, struct sj_lockinfo *li)
{
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf));

	sj_lockinfo_parse(buf, n > 0 ? (size_t)n : 0, li);
}

/* Every lock file in the directory, with its record and kernel count. */
static int collect(int dirfd, struct gen_allocs *a, struct sj_err *err)
{
	int dfd = dup(dirfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	char *locks = NULL;
	struct dirent *e;
	int rv = 0;

	if (d == NULL) {
		rv = sj_err_errno(err, errno, "reading the lock directory");
		if (dfd >= 0)
			close(dfd);
		return rv;
	}
	locks = proc_locks();
	if (locks == NULL) {
		rv = sj_err_set(err, "out of memory");
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		struct sj_lockinfo li;
		struct stat st;
		char jobid[32];
		int fd;

		if (!sj_lockfile_jobid(e->d_name, jobid, sizeof(jobid)))
			continue;
		fd = open_lock(dirfd, e->d_name, &st);
		if (fd < 0)
			continue;	/* removed meanwhile, or not ours */
		read_info(fd, &li);
		close(fd);
		if (gen_allocs_add(a, jobid, &li, err)) {
			rv = -1;
			break;
		}
		a->v[a->n - 1].kernels = gen_proc_locks_count(
			locks, major(st.st_dev), minor(st.st_dev),
			(unsigned long long)st.st_ino);
	}
	gen_allocs_sort(a);
out:
	closedir(d);
	free(locks);
	return rv;
}

/* squeue on every job of ours Slurm still knows. */
static int ask_slurm(struct gen_allocs *a, struct sj_err *err)
{
	char user[32];
	char *argv[] = { "squeue", "--noheader", "--states=all", user,
			 "--format=" GEN_SQUEUE_FORMAT, NULL };
	struct gen_output o;
	char line[200];
	int rv = 0;

	if (a->n == 0)
		return 0;
	snprintf(user, sizeof(user), "--user=%ju", (uintmax_t)getuid());
	if (gen_run(argv, GEN_RUN_TIMEOUT_MS, &o, err)) {
		gen_output_free(&o);
		return -1;
	}
	if (o.status != 0) {
		gen_first_line(o.errtext, line, sizeof(line));
		rv = sj_err_set(err, "squeue failed: %s", line[0] ? line :
				"(no message)");
	} else {
		gen_allocs_merge_squeue(a, o.out);
	}
	gen_output_free(&o);
	return rv;
}

/* Removes the lock file of an ended job no shim holds, as the shims'
 * janitors do (shim/alloc.c); 1 when it did. */
static int tidy_one(int dirfd, const struct gen_alloc *al)
{
	char name[64];
	struct stat st;
	int fd, done = 0;

	snprintf(name, sizeof(name), "%s.lock", al->jobid);
	fd = open_lock(dirfd, name, &st);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		done = unlinkat(dirfd, name, 0) == 0;
	close(fd);
	return done;
}

static void tidy(int dirfd, struct gen_allocs *a)
{
	size_t k = 0;

	for (size_t i = 0; i < a->n; i++) {
		if (gen_alloc_ended(&a->v[i]) && a->v[i].kernels == 0 &&
		    tidy_one(dirfd, &a->v[i]))
			continue;
		a->v[k++] = a->v[i];
	}
	a->n = k;
}

/* The allocations as ps shows them; dirfd stays open for cancel. */
static int load(struct gen_allocs *a, int *dirfd, struct sj_err *err)
{
	char dir[512];

	memset(a, 0, sizeof(*a));
	*dirfd = -1;
	/* Where the shims of this user on this host keep their locks. */
	if (sj_lockdir_mine(dir, sizeof(dir), err))
		return -1;
	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return sj_err_errno(err, errno, "%s", dir);
	if (collect(*dirfd, a, err) || ask_slurm(a, err))
		return -1;
	tidy(*dirfd, a);
	return 0;
}

static int print_json(const struct gen_allocs *a)
{
	json_t *j = gen_allocs_json(a);
	int r;

	if (j == NULL) {
		gen_error("out of memory");
		return GEN_EXIT_FAIL;
	}
	r = json_dumpf(j, stdout, JSON_INDENT(2));
	json_decref(j);
	if (r != 0 || putchar('\n') == EOF) {
		gen_error("cannot write the output");
		return GEN_EXIT_FAIL;
	}
	return GEN_EXIT_OK;
}

int cmd_ps(int argc, char **argv)
{
	struct gen_allocs a;
	struct sj_err err;
	int json = 0, dirfd, rv;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(gen_usage_ps, stdout);
			return GEN_EXIT_OK;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			continue;
		}
		gen_error("ps: unexpected argument \"%.100s\" (jupyter slurm "
			  "ps --help)", argv[i]);
		return GEN_EXIT_USAGE;
	}
	if (load(&a, &dirfd, &err)) {
		gen_error("ps: %s", err.msg);
		rv = GEN_EXIT_FAIL;
	} else if (json) {
		rv = print_json(&a);
	} else {
		if (a.n > 0)
			gen_allocs_print(stdout, &a);
		else
			puts("no allocations of your Jupyter kernels on this "
			     "host");
		rv = GEN_EXIT_OK;
	}
	if (dirfd >= 0)
		close(dirfd);
	gen_allocs_free(&a);
	return rv;
}

/* ---- cancel ---- */

static int is_jobid(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= 10 && s[n] == '\0' && s[0] != '0';
}

static struct gen_alloc *find(struct gen_allocs *a, const char *jobid)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].jobid, jobid) == 0)
			return &a->v[i];
	return NULL;
}

/* Why jobid is none of ours to cancel, in one line. */
static void explain_unknown(const char *jobid)
{
	char sel[48], line[200];
	char *argv[] = { "squeue", "--noheader", "--states=all", sel,
			 "--format=%u|%T", NULL };
	struct gen_output o;
	struct sj_err err;
	struct passwd *pw = getpwuid(getuid());

	snprintf(sel, sizeof(sel), "--jobs=%s", jobid);
	if (gen_run(argv, GEN_RUN_TIMEOUT_MS, &o, &err) == 0 &&
	    o.status == 0 && o.out[0] != '\0') {
		char *state;

		gen_first_line(o.out, line, sizeof(line));
		state = strchr(line, '|');
		if (state != NULL)
			*state++ = '\0';
		if (pw == NULL || strcmp(line, pw->pw_name) != 0)
			gen_error("cancel: job %s is %s's, not yours: "
				  "refused", jobid, line);
		else if (state != NULL && strcmp(state, "RUNNING") != 0 &&
			 strcmp(state, "PENDING") != 0)
			gen_error("cancel: job %s has ended already (%s)",
				  jobid, state);
		else
			gen_error("cancel: job %s is not an allocation of "
				  "your Jupyter kernels on this host (jupyter "
				  "slurm ps lists them; scancel %s cancels any "
				  "job of yours)", jobid, jobid);
	} else if (o.status != 0 && strstr(o.errtext, "Invalid job id")) {
		gen_error("cancel: there is no job %s in Slurm (jupyter slurm "
			  "ps lists your kernels' allocations)", jobid);
	} else {
		gen_error("cancel: job %s is not an allocation of your Jupyter "
			  "kernels on this host (jupyter slurm ps lists them)",
			  jobid);
	}
	gen_output_free(&o);
}

static int scancel(const char *jobid, struct sj_err *err)
{
	char *argv[] = { "scancel", (char *)jobid, NULL };
	struct gen_output o;
	char line[200];
	int rv = 0;

	if (gen_run(argv, GEN_RUN_TIMEOUT_MS, &o, err)) {
		gen_output_free(&o);
		return -1;
	}
	if (o.status != 0) {
		gen_first_line(o.errtext, line, sizeof(line));
		rv = sj_err_set(err, "scancel %s failed: %s", jobid,
				line[0] ? line : "(no message)");
	}
	gen_output_free(&o);
	return rv;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Once Slurm has ended the job, its kernels' shims exit and drop their
 * locks; then the lock file goes, as a janitor removes it (their janitors
 * find it gone with the job and leave it so).  0 when it went; 1 when a
 * kernel still held it after CANCEL_WAIT_MS.
 */
static int wait_and_remove(int dirfd, const char *jobid)
{
	char name[64];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "%s.lock", jobid);
	fd = open_lock(dirfd, name, &st);
	if (fd < 0)
		return 0;	/* a janitor was quicker */
	for (long waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0;
	     waited += 100) {
		if (errno != EWOULDBLOCK || waited >= CANCEL_WAIT_MS) {
			close(fd);
			return 1;
		}
		sleep_ms(100);
	}
	(void)unlinkat(dirfd, name, 0);
	close(fd);
	return 0;
}

static int cancel_one(int dirfd, const struct gen_alloc *al)
{
	struct sj_err err;

	if (!gen_alloc_ended(al) && scancel(al->jobid, &err)) {
		gen_error("cancel: %s", err.msg);
		return GEN_EXIT_FAIL;
	}
	if (wait_and_remove(dirfd, al->jobid)) {
		gen_error("cancel: job %s was cancelled, but a kernel still "
			  "used it after %d s (jupyter slurm ps shows it)",
			  al->jobid, CANCEL_WAIT_MS / 1000);
		return GEN_EXIT_FAIL;
	}
	printf("cancelled job %s (%s): %d kernel%s ended\n", al->jobid,
	       al->info.kernelspec[0] ? al->info.kernelspec : "kernelspec "
	       "unknown", al->kernels, al->kernels == 1 ? "" : "s");
	/* Line by line: a script reading us sees each as it happens. */
	fflush(stdout);
	return GEN_EXIT_OK;
}

struct cancel_args {
	int all, force;
	const char **jobids;
	int n;
};

static int cancel_args(int argc, char **argv, struct cancel_args *c)
{
	memset(c, 0, sizeof(*c));
	c->jobids = calloc((size_t)argc, sizeof(*c->jobids));
	if (c->jobids == NULL) {
		gen_error("out of memory");
		return GEN_EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			fputs(gen_usage_cancel, stdout);
			return -1;
		} else if (strcmp(s, "--all") == 0) {
			c->all = 1;
		} else if (strcmp(s, "--force") == 0) {
			c->force = 1;
		} else if (s[0] == '-') {
			gen_error("cancel: unknown option %.100s (jupyter "
				  "slurm cancel --help)", s);
			return GEN_EXIT_USAGE;
		} else if (!is_jobid(s)) {
			gen_error("cancel: \"%.100s\" is not a job id (a "
				  "number, as jupyter slurm ps shows them)",
				  s);
			return GEN_EXIT_USAGE;
		} else {
			c->jobids[c->n++] = s;
		}
	}
	if (c->all == (c->n > 0)) {
		gen_error("cancel: give JOBID... or --all (jupyter slurm "
			  "cancel --help)");
		return GEN_EXIT_USAGE;
	}
	return 0;
}

/* Refuses the lot, before anything is cancelled, if one JOBID is not
 * ours to cancel. */
static int check_jobids(struct gen_allocs *a, const struct cancel_args *c)
{
	for (int i = 0; i < c->n; i++) {
		const struct gen_alloc *al = find(a, c->jobids[i]);

		if (al == NULL) {
			explain_unknown(c->jobids[i]);
			return GEN_EXIT_USAGE;
		}
		if (al->info.user_made && !c->force) {
			gen_error("cancel: job %s is your own allocation "
				  "(--jobid or salloc --jupyter-kernel), not "
				  "one a kernel made: not cancelled (--force "
				  "cancels it)", al->jobid);
			return GEN_EXIT_USAGE;
		}
	}
	return GEN_EXIT_OK;
}

int cmd_cancel(int argc, char **argv)
{
	struct cancel_args c;
	struct gen_allocs a = { NULL, 0 };
	struct sj_err err;
	int dirfd = -1, rv;

	rv = cancel_args(argc, argv, &c);
	if (rv != 0) {
		free(c.jobids);
		return rv < 0 ? GEN_EXIT_OK : rv;
	}
	if (load(&a, &dirfd, &err)) {
		gen_error("cancel: %s", err.msg);
		rv = GEN_EXIT_FAIL;
		goto out;
	}
	rv = check_jobids(&a, &c);
	if (rv != GEN_EXIT_OK)
		goto out;
	for (size_t i = 0; i < a.n; i++) {
		const struct gen_alloc *al = &a.v[i];
		int want = c.all;
		int r;

		for (int j = 0; j < c.n && !want; j++)
			want = strcmp(al->jobid, c.jobids[j]) == 0;
		if (!want)
			continue;
		if (c.all && al->info.user_made && !c.force) {
			printf("kept job %s: your own allocation (--force "
			       "cancels it too)\n", al->jobid);
			continue;
		}
		r = cancel_one(dirfd, al);
		if (r != GEN_EXIT_OK)
			rv = r;
	}
	if (c.all && a.n == 0)
		puts("no allocations of your Jupyter kernels on this host");
out:
	if (dirfd >= 0)
		close(dirfd);
	gen_allocs_free(&a);
	free(c.jobids);
	return rv;
}
