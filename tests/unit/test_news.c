// SPDX-License-Identifier: GPL-2.0-or-later
/* Slurm's news in the notebook (common/jupyter/news.c, common/jupyter/newstext.c): the
 * texts a user reads, the messages that carry them (signed, on iopub,
 * parented to the right cell), the cells the shim follows, and when it
 * warns before the allocation ends (--warn-before). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "canceller.h"
#include "connfile.h"
#include "jmsg.h"
#include "jsign.h"
#include "news.h"
#include "newstext.h"
#include "zmtp.h"
#include "testutil.h"

#define KEY "5e1f-news-key"
/* A client's routing id, as zfront gives it. */
#define RID ((const uint8_t *)"\0R1")

/* 2026-12-03 14:05:00 UTC (the tests run with TZ=UTC). */
#define T1405 ((time_t)1796306700)

static void test_texts(void **state)
{
	char b[512];

	(void)state;
	assert_int_equal(sj_text_waiting(b, sizeof(b), "123", "debug",
					 "Resources", T1405), 0);
	assert_string_equal(b, "Waiting for Slurm job 123 on partition debug: "
			    "Resources (expected start 14:05)");
	assert_int_equal(sj_text_waiting(b, sizeof(b), "123", "", "JobHeldUser",
					 0), 0);
	assert_string_equal(b, "Waiting for Slurm job 123: JobHeldUser");
	assert_int_equal(sj_text_started(b, sizeof(b), "123", "n2"), 0);
	assert_string_equal(b, "Job 123 started on n2");
	assert_int_equal(sj_text_not_granted(b, sizeof(b), "123"), 0);
	assert_string_equal(b, "Job 123 did not start");

	/* A warning sent a moment after it was due still says 10. */
	assert_int_equal(sj_text_warning(b, sizeof(b), "123", 599,
					 T1405 + 55 * 60), 0);
	assert_string_equal(b, "Slurm job 123 ends in 10 minutes (at 15:00). "
			    "Save your work.");
	sj_text_warning(b, sizeof(b), "123", 59, T1405);
	assert_string_equal(b, "Slurm job 123 ends in 1 minute (at 14:05). "
			    "Save your work.");
	sj_text_warning(b, sizeof(b), "123", 30, T1405);
	assert_string_equal(b, "Slurm job 123 ends in 30 seconds (at 14:05). "
			    "Save your work.");

	/* Too small: -1 and nothing half written. */
	assert_int_equal(sj_text_started(b, 8, "123", "n2"), -1);
	assert_string_equal(b, "");
}

static void cause_is(const char *state, const char *reason, uint32_t limit,
		     const char *want)
{
	char b[512];

	assert_int_equal(sj_text_cause(b, sizeof(b), "123", state, reason,
				       "n2", limit), 1);
	assert_string_equal(b, want);
}

static void test_causes(void **state)
{
	char b[512];

	(void)state;
	cause_is("TIMEOUT", "None", 60,
		 "Slurm job 123 reached its time limit (1:00:00)");
	/* Still completing: the reason tells. */
	cause_is("COMPLETING", "TimeLimit", 2,
		 "Slurm job 123 reached its time limit (0:02:00)");
	cause_is("TIMEOUT", "None", 2 * 1440 + 90,
		 "Slurm job 123 reached its time limit (2-01:30:00)");
	cause_is("NODE_FAIL", "None", 60, "node n2 of Slurm job 123 failed");
	cause_is("CANCELLED", "None", 60,
		 "Slurm job 123 was cancelled (scancel)");
	cause_is("PREEMPTED", "None", 60, "Slurm job 123 was preempted");
	cause_is("OUT_OF_MEMORY", "None", 60,
		 "Slurm job 123 ran out of memory");
	/* A kernel that ended in a job still running: not Slurm's doing. */
	assert_int_equal(sj_text_cause(b, sizeof(b), "123", "RUNNING", "None",
				       "n2", 60), 0);
	assert_string_equal(b, "");
	assert_int_equal(sj_text_cause(b, sizeof(b), "123", "COMPLETED",
				       "None", "n2", 60), 0);

	sj_text_death(b, sizeof(b), "Slurm job 123 reached its time limit "
		      "(1:00:00)");
	assert_string_equal(b, "The kernel was stopped: Slurm job 123 reached "
			    "its time limit (1:00:00). Its variables are gone; "
			    "restart the kernel to continue in a new "
			    "allocation.");
	sj_text_previous(b, sizeof(b), "Slurm job 123 was cancelled (scancel)",
			 "n3", "124");
	assert_string_equal(b, "The previous kernel was stopped: Slurm job 123 "
			    "was cancelled (scancel). This kernel runs on n3 "
			    "in Slurm job 124.");
}

static void test_warn_parse(void **state)
{
	struct sj_warn_plan p;
	struct sj_err err = { "" };

	(void)state;
	assert_ok(sj_warn_parse("10m,1m", &p, &err), err);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.before[0], 600);
	assert_int_equal(p.before[1], 60);
	assert_ok(sj_warn_parse("1h,90s", &p, &err), err);
	assert_int_equal(p.before[0], 3600);
	assert_int_equal(p.before[1], 90);
	assert_ok(sj_warn_parse("0", &p, &err), err);
	assert_int_equal(p.n, 0);
	assert_fails(sj_warn_parse("10", &p, &err), err,
		     "--warn-before=10: each duration needs a unit");
	assert_fails(sj_warn_parse("", &p, &err), err, "durations like");
	assert_fails(sj_warn_parse("0m", &p, &err), err, "from 1s to 7 days");
	assert_fails(sj_warn_parse("169h", &p, &err), err, "from 1s to 7 days");
	assert_fails(sj_warn_parse("10m;1m", &p, &err), err,
		     "separated by commas");
	assert_fails(sj_warn_parse("10m,,1m", &p, &err), err,
		     "durations like");
	assert_fails(sj_warn_parse("-1m", &p, &err), err, "durations like");
	assert_fails(sj_warn_parse("1s,2s,3s,4s,5s,6s,7s,8s,9s", &p, &err),
		     err, "at most 8 durations");
}

static void test_warn_step(void **state)
{
	struct sj_warn_plan p;
	struct sj_err err = { "" };
	time_t next;

	(void)state;
	assert_ok(sj_warn_parse("10m,1m", &p, &err), err);
	/* Asked halfway to each warning, then at it. */
	assert_int_equal(sj_warn_step(&p, 10000, 0, &next), 0);
	assert_int_equal(next, 4700);
	assert_int_equal(sj_warn_step(&p, 10000, 9390, &next), 0);
	assert_int_equal(next, 9400);
	assert_int_equal(sj_warn_step(&p, 10000, 9400, &next), 1);
	assert_int_equal(next, 9400 + 270);
	assert_int_equal(sj_warn_step(&p, 10000, 9670, &next), 0);
	assert_int_equal(sj_warn_step(&p, 10000, 9940, &next), 1);
	assert_int_equal(next, 0);
	assert_int_equal(sj_warn_step(&p, 10000, 9950, &next), 0);

	/* The end moved earlier (scontrol update TimeLimit): seen when
	 * asked halfway, and warned at once. */
	assert_ok(sj_warn_parse("10m,1m", &p, &err), err);
	assert_int_equal(sj_warn_step(&p, 10000, 0, &next), 0);
	assert_int_equal(sj_warn_step(&p, 5000, 4700, &next), 1);
	assert_int_equal(next, 4700 + 120);
	/* ... and later again: warned again when it is due. */
	assert_int_equal(sj_warn_step(&p, 9000, 4820, &next), 0);
	assert_int_equal(sj_warn_step(&p, 9000, 8400, &next), 1);

	/* A job that starts with 5 minutes left is not told so at once;
	 * it is warned a minute before its end. */
	assert_ok(sj_warn_parse("10m,1m", &p, &err), err);
	assert_int_equal(sj_warn_step(&p, 1300, 1000, &next), 0);
	assert_int_equal(next, 1000 + 120);
	assert_int_equal(sj_warn_step(&p, 1300, 1240, &next), 1);
	assert_int_equal(next, 0);

	/* No time limit, or no warnings: never asked again. */
	assert_int_equal(sj_warn_step(&p, 0, 1000, &next), 0);
	assert_int_equal(next, 0);
	assert_ok(sj_warn_parse("0", &p, &err), err);
	assert_int_equal(sj_warn_step(&p, 1030, 1000, &next), 0);
	assert_int_equal(next, 0);
}

/* A client's message on shell, as ZMTP frames. */
static void client_msg(struct sj_buf *z, const char *msg_type,
		       const char *msg_id)
{
	char header[256];

	z->len = z->off = 0;
	snprintf(header, sizeof(header), "{\"msg_id\": \"%s\", \"session\": "
		 "\"s\", \"msg_type\": \"%s\", \"version\": \"5.3\"}", msg_id,
		 msg_type);
	assert_int_equal(sj_zmtp_put_frame(z, 1, "<IDS|MSG>", 9), 0);
	assert_int_equal(sj_zmtp_put_frame(z, 1, "sig", 3), 0);
	assert_int_equal(sj_zmtp_put_frame(z, 1, header, strlen(header)), 0);
	assert_int_equal(sj_zmtp_put_frame(z, 1, "{}", 2), 0);
	assert_int_equal(sj_zmtp_put_frame(z, 1, "{}", 2), 0);
	assert_int_equal(sj_zmtp_put_frame(z, 0, "{\"code\":\"1\"}", 12), 0);
}

/* The kernel's message toward the clients, in the link's layout: first
 * its routing id (shell) or topic (iopub). */
static void kernel_msg(struct sj_buf *l, const char *first,
		       const char *msg_type, const char *parent_id,
		       const char *content)
{
	char header[128], parent[128];

	l->len = l->off = 0;
	snprintf(header, sizeof(header), "{\"msg_id\":\"k1\",\"msg_type\":"
		 "\"%s\"}", msg_type);
	snprintf(parent, sizeof(parent), "{\"msg_type\":\"execute_request\","
		 "\"msg_id\":\"%s\"}", parent_id);
	assert_int_equal(sj_jmsg_put_frame(l, first, strlen(first)), 0);
	assert_int_equal(sj_jmsg_put_frame(l, "<IDS|MSG>", 9), 0);
	assert_int_equal(sj_jmsg_put_frame(l, "sig", 3), 0);
	assert_int_equal(sj_jmsg_put_frame(l, header, strlen(header)), 0);
	assert_int_equal(sj_jmsg_put_frame(l, parent, strlen(parent)), 0);
	assert_int_equal(sj_jmsg_put_frame(l, "{}", 2), 0);
	assert_int_equal(sj_jmsg_put_frame(l, content, strlen(content)), 0);
}

static void kernel_reply(struct sj_buf *l, const char *msg_type,
			 const char *parent_id)
{
	kernel_msg(l, "rid", msg_type, parent_id, "{}");
}

/* A message in the link's layout is signed as a kernel's is, with the
 * connection file's key, so the front end takes it. */
static void signed_as_kernel(const uint8_t *p, size_t len)
{
	struct sj_buf z = { 0 };
	struct sj_jsign check;
	struct sj_err err = { "" };

	link_to_zmtp(p, len, &z);
	assert_ok(sj_jsign_init(&check, KEY, "hmac-sha256", &err), err);
	assert_ok(sj_jsign_check_zmtp(&check, z.p, z.len, &err), err);
	sj_buf_free(&z);
}

struct published {
	char topic[128], header[600], parent[600], content[1200];
};

/* Takes the next message the news publishes and checks what every one
 * must be: the topic, <IDS|MSG>, a signature with the connection file's
 * key, and the header's msg_type. */
static void next_is(struct sj_news *n, const char *msg_type,
		    struct published *m)
{
	const uint8_t *p;
	size_t len;
	char want[80];
	int ch;

	assert_int_equal(sj_news_next(n, &ch, &p, &len), 1);
	assert_int_equal(ch, SJ_IOPUB);
	link_frame_text(p, len, 0, m->topic, sizeof(m->topic));
	snprintf(want, sizeof(want), "kernel.slurm-jupyter-shim.%s",
		 msg_type);
	assert_string_equal(m->topic, want);
	link_frame_text(p, len, 1, want, sizeof(want));
	assert_string_equal(want, "<IDS|MSG>");
	link_frame_text(p, len, 3, m->header, sizeof(m->header));
	link_frame_text(p, len, 4, m->parent, sizeof(m->parent));
	link_frame_text(p, len, 6, m->content, sizeof(m->content));
	snprintf(want, sizeof(want), "\"msg_type\":\"%s\"", msg_type);
	assert_non_null(strstr(m->header, want));
	assert_non_null(strstr(m->header, "\"version\":\"5.3\""));
	assert_non_null(strstr(m->header, "\"date\":\""));
	signed_as_kernel(p, len);
	sj_news_sent(n);
}

static void parent_is(const struct published *m, const char *msg_id);

/* Takes the next message: an execute_reply on shell for the client that
 * sent parent_id's request (routed by its id), signed, parented to the
 * request, with content. */
static void reply_is(struct sj_news *n, const char *parent_id,
		     const char *content)
{
	const uint8_t *p;
	size_t len;
	char f[1200], want[64];
	int ch;

	assert_int_equal(sj_news_next(n, &ch, &p, &len), 1);
	assert_int_equal(ch, SJ_SHELL);
	assert_true(len > 7 && sj_get_be32(p) == 3);
	assert_memory_equal(p + 4, RID, 3);
	link_frame_text(p, len, 1, f, sizeof(f));
	assert_string_equal(f, "<IDS|MSG>");
	link_frame_text(p, len, 3, f, sizeof(f));
	assert_non_null(strstr(f, "\"msg_type\":\"execute_reply\""));
	link_frame_text(p, len, 4, f, sizeof(f));
	snprintf(want, sizeof(want), "\"msg_id\": \"%s\"", parent_id);
	assert_non_null(strstr(f, want));
	link_frame_text(p, len, 6, f, sizeof(f));
	assert_string_equal(f, content);
	signed_as_kernel(p, len);
	sj_news_sent(n);
}

static void idle_for(struct sj_news *n, const char *parent_id)
{
	struct published m;

	next_is(n, "status", &m);
	parent_is(&m, parent_id);
	assert_string_equal(m.content, "{\"execution_state\":\"idle\"}");
}

static void nothing_next(struct sj_news *n)
{
	const uint8_t *p;
	size_t len;
	int ch;

	assert_int_equal(sj_news_next(n, &ch, &p, &len), 0);
}

static void parent_is(const struct published *m, const char *msg_id)
{
	char want[64];

	snprintf(want, sizeof(want), "\"msg_id\": \"%s\"", msg_id);
	assert_non_null(strstr(m->parent, want));
}

static void test_messages(void **state)
{
	struct sj_jmsg maker;
	struct sj_news n;
	struct sj_buf z = { 0 }, l = { 0 };
	struct sj_err err = { "" };
	struct published m;
	char want[200];

	(void)state;
	assert_ok(sj_jmsg_init(&maker, KEY, "hmac-sha256", "ann", &err), err);
	assert_ok(sj_news_init(&n, &maker, &err), err);

	/* The job waits, no cell yet: nothing to show it in. */
	assert_ok(sj_news_waiting(&n, "Waiting for Slurm job 7: Priority",
				  &err), err);
	nothing_next(&n);
	/* Other requests open no cell. */
	client_msg(&z, "kernel_info_request", "q0");
	assert_ok(sj_news_request(&n, RID, 3, z.p, z.len, &err), err);
	nothing_next(&n);
	assert_false(sj_news_running(&n));

	/* The first cell shows the waiting line... */
	client_msg(&z, "execute_request", "c1");
	assert_ok(sj_news_request(&n, RID, 3, z.p, z.len, &err), err);
	assert_true(sj_news_running(&n));
	next_is(&n, "display_data", &m);
	parent_is(&m, "c1");
	assert_non_null(strstr(m.content, "\"text/plain\":\"Waiting for Slurm "
			       "job 7: Priority\""));
	snprintf(want, sizeof(want), "\"transient\":{\"display_id\":"
		 "\"slurm-wait-%s\"}", maker.session);
	assert_non_null(strstr(m.content, want));
	nothing_next(&n);
	/* ... updated in place when it changes, not when it does not. */
	assert_ok(sj_news_waiting(&n, "Waiting for Slurm job 7: Priority",
				  &err), err);
	nothing_next(&n);
	assert_ok(sj_news_waiting(&n, "Waiting for Slurm job 7: Resources",
				  &err), err);
	next_is(&n, "update_display_data", &m);
	parent_is(&m, "c1");
	assert_non_null(strstr(m.content, "Resources"));
	assert_non_null(strstr(m.content, want));
	/* A second cell held behind it gets no line of its own. */
	client_msg(&z, "execute_request", "c2");
	assert_ok(sj_news_request(&n, RID, 3, z.p, z.len, &err), err);
	nothing_next(&n);
	assert_ok(sj_news_started(&n, "Job 7 started on n2", &err), err);
	next_is(&n, "update_display_data", &m);
	assert_non_null(strstr(m.content, "\"Job 7 started on n2\""));
	assert_non_null(strstr(m.content, want));

	/* A warning goes to the cell running (the oldest unanswered). */
	assert_ok(sj_news_say(&n, "Slurm job 7 ends \"soon\"", &err), err);
	next_is(&n, "stream", &m);
	parent_is(&m, "c1");
	assert_string_equal(m.content, "{\"name\":\"stderr\",\"text\":"
			    "\"Slurm job 7 ends \\\"soon\\\"\\n\"}");
	/* Replies close the cells; other replies do not. */
	kernel_reply(&l, "kernel_info_reply", "c1");
	sj_news_reply(&n, l.p, l.len);
	kernel_reply(&l, "execute_reply", "c1");
	sj_news_reply(&n, l.p, l.len);
	assert_ok(sj_news_say(&n, "second", &err), err);
	next_is(&n, "stream", &m);
	parent_is(&m, "c2");
	kernel_reply(&l, "execute_reply", "c2");
	sj_news_reply(&n, l.p, l.len);
	assert_false(sj_news_running(&n));

	/* No cell runs: the news waits for the next one, at its top. */
	assert_ok(sj_news_say(&n, "one", &err), err);
	assert_ok(sj_news_say(&n, "two", &err), err);
	nothing_next(&n);
	assert_ok(sj_news_death(&n, "The kernel was stopped: x.", "Not run.",
				&err), err);
	next_is(&n, "error", &m);
	assert_string_equal(m.parent, "{}");
	assert_string_equal(m.content, "{\"ename\":\"SlurmJobEnded\","
			    "\"evalue\":\"The kernel was stopped: x.\","
			    "\"traceback\":[\"The kernel was stopped: x.\"]}");
	client_msg(&z, "execute_request", "c3");
	assert_ok(sj_news_request(&n, RID, 3, z.p, z.len, &err), err);
	next_is(&n, "stream", &m);
	parent_is(&m, "c3");
	assert_non_null(strstr(m.content, "\"text\":\"one\\ntwo\\n\""));
	nothing_next(&n);
	/* The kernel dies in a cell: its error is that cell's. */
	assert_ok(sj_news_death(&n, "The kernel was stopped: y.", "Not run.",
				&err), err);
	next_is(&n, "error", &m);
	parent_is(&m, "c3");
	reply_is(&n, "c3", "{\"status\":\"error\",\"ename\":"
		 "\"SlurmJobEnded\",\"evalue\":\"The kernel was stopped: y."
		 "\",\"traceback\":[\"The kernel was stopped: y.\"],"
		 "\"execution_count\":null}");
	idle_for(&n, "c3");
	nothing_next(&n);
	assert_false(sj_news_running(&n));

	sj_news_free(&n);
	sj_jmsg_wipe(&maker);
	sj_buf_free(&z);
	sj_buf_free(&l);
}

/* Slurm ends the kernel with cells open: each is answered for it, the
 * running one with the cause and the count the kernel gave it, those
 * behind it as not run; a cell the kernel answered is not. */
static void test_death_replies(void **state)
{
	struct sj_jmsg maker;
	struct sj_news n;
	struct sj_buf z = { 0 }, l = { 0 };
	struct sj_err err = { "" };
	struct published m;
	static const char *const ids[] = { "c1", "c2", "c3" };

	(void)state;
	assert_ok(sj_jmsg_init(&maker, KEY, "hmac-sha256", "ann", &err), err);
	assert_ok(sj_news_init(&n, &maker, &err), err);
	for (int i = 0; i < 3; i++) {
		client_msg(&z, "execute_request", ids[i]);
		assert_ok(sj_news_request(&n, RID, 3, z.p, z.len, &err), err);
	}
	kernel_msg(&l, "kernel.1.execute_input", "execute_input", "c1",
		   "{\"code\":\"x = \\\"execution_count\\\"\","
		   "\"execution_count\":4}");
	sj_news_reply(&n, l.p, l.len);
	/* Answered just before the end: not answered again. */
	kernel_msg(&l, "rid", "execute_reply", "c1",
		   "{\"status\":\"ok\",\"execution_count\":4}");
	sj_news_reply(&n, l.p, l.len);
	kernel_msg(&l, "kernel.1.execute_input", "execute_input", "c2",
		   "{\"code\":\"sleep(900)\",\"execution_count\":5}");
	sj_news_reply(&n, l.p, l.len);
	nothing_next(&n);

	assert_ok(sj_news_death(&n, "Stopped \"here\".", "Not run.", &err),
		  err);
	next_is(&n, "error", &m);
	parent_is(&m, "c2");
	reply_is(&n, "c2", "{\"status\":\"error\",\"ename\":\"SlurmJobEnded\","
		 "\"evalue\":\"Stopped \\\"here\\\".\",\"traceback\":"
		 "[\"Stopped \\\"here\\\".\"],\"execution_count\":5}");
	idle_for(&n, "c2");
	reply_is(&n, "c3", "{\"status\":\"error\",\"ename\":\"SlurmJobEnded\","
		 "\"evalue\":\"Not run.\",\"traceback\":[\"Not run.\"],"
		 "\"execution_count\":null}");
	idle_for(&n, "c3");
	nothing_next(&n);
	assert_false(sj_news_running(&n));

	/* A cell the kernel gave no count yet: the last count it gave. */
	client_msg(&z, "execute_request", "c4");
	assert_ok(sj_news_request(&n, RID, 3, z.p, z.len, &err), err);
	assert_ok(sj_news_death(&n, "Gone.", "Not run.", &err), err);
	next_is(&n, "error", &m);
	reply_is(&n, "c4", "{\"status\":\"error\",\"ename\":\"SlurmJobEnded\","
		 "\"evalue\":\"Gone.\",\"traceback\":[\"Gone.\"],"
		 "\"execution_count\":5}");
	idle_for(&n, "c4");
	nothing_next(&n);

	sj_news_free(&n);
	sj_jmsg_wipe(&maker);
	sj_buf_free(&z);
	sj_buf_free(&l);
}

static void test_cancelled_by(void **state)
{
	char b[512];
	unsigned uid = 7;

	(void)state;
	assert_int_equal(sj_cancelled_by("CANCELLED by 1001\n", &uid), 1);
	assert_int_equal(uid, 1001);
	assert_int_equal(sj_cancelled_by("CANCELLED by 0", &uid), 1);
	assert_int_equal(uid, 0);
	/* Not (yet) in accounting, no uid, or not a uid. */
	assert_int_equal(sj_cancelled_by("RUNNING\n", &uid), 0);
	assert_int_equal(sj_cancelled_by("", &uid), 0);
	assert_int_equal(sj_cancelled_by("CANCELLED\n", &uid), 0);
	assert_int_equal(sj_cancelled_by("CANCELLED by x", &uid), 0);
	assert_int_equal(sj_cancelled_by("CANCELLED by 12 13", &uid), 0);
	assert_int_equal(sj_cancelled_by("CANCELLED by 4294967294", &uid), 0);
	assert_int_equal(uid, 0);

	assert_int_equal(sj_text_cancelled(b, sizeof(b), "123", 1001, 1001,
					   ""), 0);
	assert_string_equal(b, "Slurm job 123 was cancelled by you (scancel)");
	sj_text_cancelled(b, sizeof(b), "123", 0, 1001, "root");
	assert_string_equal(b, "Slurm job 123 was cancelled by an "
			    "administrator (root)");
	sj_text_cancelled(b, sizeof(b), "123", 1002, 1001, "bob");
	assert_string_equal(b, "Slurm job 123 was cancelled by user bob");
	sj_text_cancelled(b, sizeof(b), "123", 1002, 1001, "");
	assert_string_equal(b, "Slurm job 123 was cancelled by user 1002");
	sj_text_not_run(b, sizeof(b), "Slurm job 123 was cancelled by you "
			"(scancel)");
	assert_string_equal(b, "Not run: the kernel was stopped before this "
			    "cell ran; Slurm job 123 was cancelled by you "
			    "(scancel).");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_causes),
		cmocka_unit_test(test_warn_parse),
		cmocka_unit_test(test_warn_step),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_death_replies),
		cmocka_unit_test(test_cancelled_by),
	};

	if (setenv("TZ", "UTC", 1) != 0)
		return 1;
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
