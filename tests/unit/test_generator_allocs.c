// SPDX-License-Identifier: GPL-2.0-or-later
/* jupyter slurm ps: the lock records, squeue's lines, /proc/locks, and
 * the table and JSON a user reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocs.h"
#include "lockdir.h"
#include "testutil.h"

static void test_lockinfo_round_trip(void **state)
{
	struct sj_lockinfo in = { .user_made = 1 }, out;
	char buf[256];
	int n;

	(void)state;
	strcpy(in.kernelspec, "slurm-python3-debug");
	n = sj_lockinfo_format(&in, buf, sizeof(buf));
	assert_string_equal(buf, "made-by=user\nkernelspec=slurm-python3-debug\n");
	assert_int_equal(n, (int)strlen(buf));
	sj_lockinfo_parse(buf, (size_t)n, &out);
	assert_true(out.user_made);
	assert_string_equal(out.kernelspec, "slurm-python3-debug");

	in.user_made = 0;
	in.kernelspec[0] = '\0';
	sj_lockinfo_format(&in, buf, sizeof(buf));
	assert_string_equal(buf, "made-by=shim\n");
	assert_int_equal(sj_lockinfo_format(&in, buf, 5), -1);
}

static void test_lockinfo_odd_input(void **state)
{
	struct sj_lockinfo in = { 0 }, out;
	char buf[256];
	static const char junk[] = "made-by=userx\nkernelspec=a\tb\nfoo=1\n"
				   "kernelspec=ok";

	(void)state;
	/* An empty file: an older shim's, made by a shim. */
	sj_lockinfo_parse("", 0, &out);
	assert_false(out.user_made);
	assert_string_equal(out.kernelspec, "");
	/* A name with a newline would forge a line: left out. */
	strcpy(in.kernelspec, "x\nmade-by=user");
	sj_lockinfo_format(&in, buf, sizeof(buf));
	assert_string_equal(buf, "made-by=shim\n");
	sj_lockinfo_parse(junk, strlen(junk), &out);
	assert_false(out.user_made);
	assert_string_equal(out.kernelspec, "ok");
	/* No terminating newline or NUL needed: only len bytes are read. */
	sj_lockinfo_parse("made-by=user", 12, &out);
	assert_true(out.user_made);
}

static void test_lockfile_jobid(void **state)
{
	char id[32];

	(void)state;
	assert_int_equal(sj_lockfile_jobid("4711.lock", id, sizeof(id)), 1);
	assert_string_equal(id, "4711");
	assert_int_equal(sj_lockfile_jobid("4711.lock.new-99", id,
					   sizeof(id)), 0);
	assert_int_equal(sj_lockfile_jobid("kernel-info-ab.json", id,
					   sizeof(id)), 0);
	assert_int_equal(sj_lockfile_jobid(".lock", id, sizeof(id)), 0);
	assert_int_equal(sj_lockfile_jobid("12.lock", id, 3), 1);
	assert_int_equal(sj_lockfile_jobid("123.lock", id, 3), 0);
}

/* As Linux 6.1 prints /proc/locks: two shims and a waiter on 0xfe:00
 * inode 777, another file's lock, a POSIX lock on the same inode. */
static const char proc_locks[] =
	"1: FLOCK  ADVISORY  READ  4242 fe:00:777 0 EOF\n"
	"1: -> FLOCK  ADVISORY  WRITE 4250 fe:00:777 0 EOF\n"
	"2: FLOCK  ADVISORY  READ  4243 fe:00:777 0 EOF\n"
	"3: FLOCK  ADVISORY  READ  4244 fe:00:778 0 EOF\n"
	"4: POSIX  ADVISORY  WRITE 1000 fe:00:777 0 EOF\n"
	"5: FLOCK  ADVISORY  READ  4245 00:1a:777 0 EOF\n"
	"6: OFDLCK ADVISORY  READ  -1 fe:00:777 0 EOF";

static void test_proc_locks(void **state)
{
	(void)state;
	assert_int_equal(gen_proc_locks_count(proc_locks, 0xfe, 0, 777), 2);
	assert_int_equal(gen_proc_locks_count(proc_locks, 0xfe, 0, 778), 1);
	assert_int_equal(gen_proc_locks_count(proc_locks, 0, 0x1a, 777), 1);
	assert_int_equal(gen_proc_locks_count(proc_locks, 0xfe, 0, 779), 0);
	assert_int_equal(gen_proc_locks_count("", 0xfe, 0, 777), 0);
}

static void test_time_left(void **state)
{
	(void)state;
	assert_int_equal(gen_time_left_seconds("59:30"), 59 * 60 + 30);
	assert_int_equal(gen_time_left_seconds("0:05"), 5);
	assert_int_equal(gen_time_left_seconds("1:00:00"), 3600);
	assert_int_equal(gen_time_left_seconds("2-03:00:00"),
			 2 * 86400 + 3 * 3600);
	assert_int_equal(gen_time_left_seconds("UNLIMITED"), -1);
	assert_int_equal(gen_time_left_seconds("INVALID"), -1);
	assert_int_equal(gen_time_left_seconds(""), -1);
}

/* Three lock files: two made by shims, one the user's; squeue (22.05,
 * GEN_SQUEUE_FORMAT) lists two of them and a job of no kernel's. */
static void three(struct gen_allocs *a)
{
	struct sj_lockinfo shim = { 0 }, user = { .user_made = 1 };
	struct sj_err err;

	memset(a, 0, sizeof(*a));
	strcpy(shim.kernelspec, "slurm-py-debug");
	strcpy(user.kernelspec, "mine");
	assert_int_equal(gen_allocs_add(a, "120", &user, &err), 0);
	assert_int_equal(gen_allocs_add(a, "99", &shim, &err), 0);
	shim.kernelspec[0] = '\0';
	assert_int_equal(gen_allocs_add(a, "1000", &shim, &err), 0);
	a->v[0].kernels = 1;
	a->v[1].kernels = 2;
	gen_allocs_sort(a);
	gen_allocs_merge_squeue(a,
		"120|RUNNING|None|debug|n2|4:10\n"
		"77|RUNNING|None|debug|n3|1:00:00\n"
		"99|PENDING|Resources|debug||1:00:00\n");
}

static void test_merge_and_ended(void **state)
{
	struct gen_allocs a;

	(void)state;
	three(&a);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[0].jobid, "99");
	assert_string_equal(a.v[1].jobid, "120");
	assert_string_equal(a.v[2].jobid, "1000");
	assert_string_equal(a.v[0].state, "PENDING");
	assert_string_equal(a.v[0].reason, "Resources");
	/* A pending job's %L is its limit, not time left. */
	assert_string_equal(a.v[0].time_left, "");
	assert_string_equal(a.v[1].reason, "");
	assert_string_equal(a.v[1].nodes, "n2");
	assert_string_equal(a.v[1].time_left, "4:10");
	assert_string_equal(a.v[2].state, GEN_STATE_GONE);
	assert_false(gen_alloc_ended(&a.v[0]));
	assert_false(gen_alloc_ended(&a.v[1]));
	assert_true(gen_alloc_ended(&a.v[2]));
	strcpy(a.v[1].state, "CANCELLED");
	assert_true(gen_alloc_ended(&a.v[1]));
	strcpy(a.v[1].state, "COMPLETING");
	assert_false(gen_alloc_ended(&a.v[1]));
	gen_allocs_free(&a);
}

static void test_table(void **state)
{
	struct gen_allocs a;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	three(&a);
	gen_allocs_print(f, &a);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text,
"JOBID  STATE                PARTITION  NODES  TIME LEFT  KERNELS  KERNELSPEC      MADE BY\n"
"99     PENDING (Resources)  debug      -      -          2        slurm-py-debug  shim\n"
"120    RUNNING              debug      n2     4:10       1        mine            you\n"
"1000   GONE                 -          -      -          0        -               shim\n");
	free(text);
	gen_allocs_free(&a);
}

static void test_json_listing(void **state)
{
	struct gen_allocs a;
	json_t *j;
	char *s;

	(void)state;
	three(&a);
	j = gen_allocs_json(&a);
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s,
		"[{\"jobid\":99,\"state\":\"PENDING\",\"reason\":\"Resources\","
		"\"partition\":\"debug\",\"nodes\":null,\"time_left\":null,"
		"\"time_left_seconds\":null,\"kernels\":2,"
		"\"kernelspec\":\"slurm-py-debug\",\"made_by\":\"shim\"},"
		"{\"jobid\":120,\"state\":\"RUNNING\",\"reason\":null,"
		"\"partition\":\"debug\",\"nodes\":\"n2\",\"time_left\":\"4:10\","
		"\"time_left_seconds\":250,\"kernels\":1,"
		"\"kernelspec\":\"mine\",\"made_by\":\"user\"},"
		"{\"jobid\":1000,\"state\":\"GONE\",\"reason\":null,"
		"\"partition\":null,\"nodes\":null,\"time_left\":null,"
		"\"time_left_seconds\":null,\"kernels\":0,"
		"\"kernelspec\":null,\"made_by\":\"shim\"}]");
	free(s);
	json_decref(j);
	gen_allocs_free(&a);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_lockinfo_round_trip),
	cmocka_unit_test(test_lockinfo_odd_input),
	cmocka_unit_test(test_lockfile_jobid),
	cmocka_unit_test(test_proc_locks),
	cmocka_unit_test(test_time_left),
	cmocka_unit_test(test_merge_and_ended),
	cmocka_unit_test(test_table),
	cmocka_unit_test(test_json_listing))
