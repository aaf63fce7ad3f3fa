// SPDX-License-Identifier: GPL-2.0-or-later
#include "allocs.h"

#include <stdlib.h>
#include <string.h>

#include "slurmtime.h"

int gen_allocs_add(struct gen_allocs *a, const char *jobid,
		   const struct sj_lockinfo *info, struct sj_err *err)
{
	struct gen_alloc *v, *al;

	if (strlen(jobid) >= sizeof(al->jobid))
		return sj_err_set(err, "job id %.40s too long", jobid);
	v = realloc(a->v, (a->n + 1) * sizeof(*v));
	if (v == NULL)
		return sj_err_set(err, "out of memory");
	a->v = v;
	al = &a->v[a->n++];
	memset(al, 0, sizeof(*al));
	strcpy(al->jobid, jobid);
	al->info = *info;
	return 0;
}

void gen_allocs_free(struct gen_allocs *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static int by_jobid(const void *x, const void *y)
{
	const struct gen_alloc *a = x, *b = y;
	size_t la = strlen(a->jobid), lb = strlen(b->jobid);

	/* Digits only (sj_lockfile_jobid): the longer is the larger. */
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a->jobid, b->jobid);
}

void gen_allocs_sort(struct gen_allocs *a)
{
	if (a->n > 1)
		qsort(a->v, a->n, sizeof(*a->v), by_jobid);
}

/* The next '|'-separated field of a line into out; "" if it is too long,
 * as a field cut short would mislead. */
static const char *field(const char *p, const char *end, char *out,
			 size_t len)
{
	const char *bar = memchr(p, '|', (size_t)(end - p));
	size_t n = bar != NULL ? (size_t)(bar - p) : (size_t)(end - p);

	out[0] = '\0';
	if (n < len) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
	return bar != NULL ? bar + 1 : end;
}

static struct gen_alloc *find(struct gen_allocs *a, const char *jobid)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].jobid, jobid) == 0)
			return &a->v[i];
	return NULL;
}

static void merge_line(struct gen_allocs *a, const char *p, const char *end)
{
	char jobid[32], time_left[32];
	struct gen_alloc *al;

	p = field(p, end, jobid, sizeof(jobid));
	al = find(a, jobid);
	if (al == NULL)
		return;
	p = field(p, end, al->state, sizeof(al->state));
	p = field(p, end, al->reason, sizeof(al->reason));
	p = field(p, end, al->partition, sizeof(al->partition));
	p = field(p, end, al->nodes, sizeof(al->nodes));
	(void)field(p, end, time_left, sizeof(time_left));
	/* A job not running has its limit there, not time left. */
	if (strcmp(al->state, "RUNNING") == 0)
		strcpy(al->time_left, time_left);
	if (strcmp(al->reason, "None") == 0)
		al->reason[0] = '\0';
}

void gen_allocs_merge_squeue(struct gen_allocs *a, const char *text)
{
	const char *p = text;

	for (size_t i = 0; i < a->n; i++) {
		struct gen_alloc *al = &a->v[i];

		strcpy(al->state, GEN_STATE_GONE);
		al->reason[0] = al->partition[0] = al->nodes[0] = '\0';
		al->time_left[0] = '\0';
	}
	while (*p != '\0') {
		const char *end = p + strcspn(p, "\n");

		merge_line(a, p, end);
		p = *end == '\n' ? end + 1 : end;
	}
}

int gen_alloc_ended(const struct gen_alloc *al)
{
	static const char *const final[] = {
		GEN_STATE_GONE, "BOOT_FAIL", "CANCELLED", "COMPLETED",
		"DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY",
		"PREEMPTED", "TIMEOUT",
	};

	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++)
		if (strcmp(al->state, final[i]) == 0)
			return 1;
	return 0;
}

/*
 * A line of /proc/locks: "N: FLOCK  ADVISORY  READ  PID MAJ:MIN:INODE 0
 * EOF", MAJ and MIN in hex; a waiter's has "->" after "N:".
 */
static int lock_line_matches(const char *line, unsigned dev_major,
			     unsigned dev_minor, unsigned long long ino)
{
	char kind[16], mode[16], rw[16], dev[64];
	unsigned maj, min;
	unsigned long long i;
	long pid;
	int n = 0;

	if (sscanf(line, "%*[0-9]: %15s %15s %15s %ld %63s%n", kind, mode,
		   rw, &pid, dev, &n) < 5 || n == 0)
		return 0;
	if (strcmp(kind, "FLOCK") != 0)
		return 0;
	if (sscanf(dev, "%x:%x:%llu", &maj, &min, &i) != 3)
		return 0;
	return maj == dev_major && min == dev_minor && i == ino;
}

int gen_proc_locks_count(const char *text, unsigned dev_major,
			 unsigned dev_minor, unsigned long long ino)
{
	const char *p = text;
	int count = 0;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		char line[256];

		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			count += lock_line_matches(line, dev_major, dev_minor,
						   ino);
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return count;
}

long long gen_time_left_seconds(const char *s)
{
	long long secs;

	if (s[0] < '0' || s[0] > '9' || gen_time_parse(s, &secs, NULL) != 0)
		return -1;
	return secs;
}

static const char *or_dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

static void state_text(const struct gen_alloc *al, char *out, size_t len)
{
	if (al->reason[0] != '\0')
		snprintf(out, len, "%s (%s)", al->state, al->reason);
	else
		snprintf(out, len, "%s", al->state);
}

enum { C_JOB, C_STATE, C_PART, C_NODES, C_LEFT, C_KERNELS, C_SPEC, C_BY,
       NCOLS };

static const char *const headers[NCOLS] = {
	"JOBID", "STATE", "PARTITION", "NODES", "TIME LEFT", "KERNELS",
	"KERNELSPEC", "MADE BY",
};

/* The cells of one row; state and kernels are formatted into bufs. */
static void row(const struct gen_alloc *al, char state[200], char kern[16],
		const char *cell[NCOLS])
{
	state_text(al, state, 200);
	snprintf(kern, 16, "%d", al->kernels);
	cell[C_JOB] = al->jobid;
	cell[C_STATE] = state;
	cell[C_PART] = or_dash(al->partition);
	cell[C_NODES] = or_dash(al->nodes);
	cell[C_LEFT] = or_dash(al->time_left);
	cell[C_KERNELS] = kern;
	cell[C_SPEC] = or_dash(al->info.kernelspec);
	/* "you": the user reads this about their own salloc. */
	cell[C_BY] = al->info.user_made ? "you" : "shim";
}

static void print_row(FILE *f, const char *const cell[NCOLS],
		      const int width[NCOLS])
{
	for (int c = 0; c < NCOLS; c++) {
		if (c == NCOLS - 1)
			fprintf(f, "%s\n", cell[c]);
		else
			fprintf(f, "%-*s  ", width[c], cell[c]);
	}
}

void gen_allocs_print(FILE *f, const struct gen_allocs *a)
{
	int width[NCOLS];
	char state[200], kern[16];
	const char *cell[NCOLS];

	for (int c = 0; c < NCOLS; c++)
		width[c] = (int)strlen(headers[c]);
	for (size_t i = 0; i < a->n; i++) {
		row(&a->v[i], state, kern, cell);
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(cell[c]) > width[c])
				width[c] = (int)strlen(cell[c]);
	}
	print_row(f, headers, width);
	for (size_t i = 0; i < a->n; i++) {
		row(&a->v[i], state, kern, cell);
		print_row(f, cell, width);
	}
}

static json_t *str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *one_json(const struct gen_alloc *al)
{
	long long left = gen_time_left_seconds(al->time_left);
	json_t *o = json_pack(
		"{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:i, s:o, s:s}",
		"jobid", (json_int_t)strtoll(al->jobid, NULL, 10),
		"state", al->state,
		"reason", str_or_null(al->reason),
		"partition", str_or_null(al->partition),
		"nodes", str_or_null(al->nodes),
		"time_left", str_or_null(al->time_left),
		"time_left_seconds",
		left >= 0 ? json_integer(left) : json_null(),
		"kernels", al->kernels,
		"kernelspec", str_or_null(al->info.kernelspec),
		"made_by", al->info.user_made ? "user" : "shim");

	return o;
}

json_t *gen_allocs_json(const struct gen_allocs *a)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < a->n; i++) {
		json_t *o = one_json(&a->v[i]);

		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
