// SPDX-License-Identifier: GPL-2.0-or-later
/* The messages the login shim makes while the kernel waits for Slurm
 * (common/jupyter/jmsg.c, common/jupyter/standin.c): signed as jsign checks a client's,
 * with the header a front end checks, routed back as the request came. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "connfile.h"
#include "jmsg.h"
#include "fsutil.h"
#include "jsign.h"
#include "standin.h"
#include "zmtp.h"
#include "testutil.h"

#define KEY "0f2a4b6c-secret"

/* The frames of a message in the link's layout, as ZMTP frames. */
static void to_zmtp(const struct sj_buf *link, struct sj_buf *z)
{
	z->len = z->off = 0;
	link_to_zmtp(link->p, link->len, z);
}

/* Frame k of a message in the link's layout, NUL-terminated in out. */
static void frame(const struct sj_buf *link, int k, char *out, size_t len)
{
	link_frame_text(link->p, link->len, k, out, len);
}

/* Frame k of a message in the link's layout is the text want. */
static void frame_is(const struct sj_buf *link, int k, const char *want)
{
	char f[4096];

	frame(link, k, f, sizeof(f));
	assert_string_equal(f, want);
}



static int nframes(const struct sj_buf *link)
{
	return link_nframes(link->p, link->len);
}

static void test_date(void **state)
{
	struct timespec t = { .tv_sec = 1796304600, .tv_nsec = 7654321 };
	char d[SJ_JMSG_DATE_LEN];

	(void)state;
	sj_jmsg_date(&t, d);
	assert_string_equal(d, "2026-12-03T13:30:00.007654Z");
}

/* Each scheme Jupyter uses: jsign, which checks remote clients, takes
 * the message, and the header has what jupyter_client's Session and the
 * browser read. */
static void test_build_signed(void **state)
{
	static const char *const schemes[] = { "hmac-sha256", "hmac-sha512" };
	struct timespec t = { .tv_sec = 1796304600, .tv_nsec = 123456789 };
	struct sj_err err = { "" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct sj_jmsg m;
		struct sj_jsign check;
		struct sj_buf out = { 0 }, pre = { 0 }, z = { 0 };
		char h[600], h2[600];

		assert_ok(sj_jmsg_init(&m, KEY, schemes[i], "ann \"a\"", &err),
			  err);
		assert_int_equal(strlen(m.session), 32);
		assert_int_equal(sj_jmsg_put_frame(&pre, "rid-1", 5), 0);
		assert_ok(sj_jmsg_build(&m, &out, pre.p, pre.len,
					"kernel_info_reply", "{\"msg_id\":\"q\"}",
					14, "{\"status\":\"ok\"}", 15, &t, &err),
			  err);
		assert_int_equal(nframes(&out), 7);
		frame_is(&out, 0, "rid-1");
		frame_is(&out, 1, "<IDS|MSG>");
		frame(&out, 3, h, sizeof(h));
		assert_non_null(strstr(h, "\"msg_type\":\"kernel_info_reply\""));
		assert_non_null(strstr(h, "\"version\":\"5.3\""));
		assert_non_null(strstr(h, "\"username\":\"ann \\\"a\\\"\""));
		assert_non_null(strstr(h, "\"date\":\"2026-12-03T13:30:00"
				       ".123456Z\""));
		assert_non_null(strstr(h, m.session));
		frame_is(&out, 4, "{\"msg_id\":\"q\"}");
		frame_is(&out, 6, "{\"status\":\"ok\"}");

		assert_ok(sj_jsign_init(&check, KEY, schemes[i], &err), err);
		to_zmtp(&out, &z);
		assert_ok(sj_jsign_check_zmtp(&check, z.p, z.len, &err), err);
		/* The next message has a new msg_id, the same session. */
		out.len = 0;
		assert_ok(sj_jmsg_build(&m, &out, NULL, 0, "status", "{}", 2,
					"{}", 2, &t, &err), err);
		frame(&out, 2, h2, sizeof(h2));
		assert_string_not_equal(h, h2);
		assert_non_null(strstr(h2, m.session));
		/* Another key: the signature does not pass. */
		assert_ok(sj_jsign_init(&check, "other", schemes[i], &err),
			  err);
		to_zmtp(&out, &z);
		assert_fails(sj_jsign_check_zmtp(&check, z.p, z.len, &err),
			     err, "wrong signature");
		sj_jmsg_wipe(&m);
		sj_buf_free(&out);
		sj_buf_free(&pre);
		sj_buf_free(&z);
	}
}

/* A client's request as ZMTP frames: [ids...] <IDS|MSG> sig header ... */
static void request(struct sj_buf *z, const char *id, const char *msg_type)
{
	char header[200];
	const char *f[7];
	int n = 0;

	snprintf(header, sizeof(header),
		 "{\"msg_id\":\"req-1\",\"msg_type\": \"%s\"}", msg_type);
	if (id != NULL)
		f[n++] = id;
	f[n++] = "<IDS|MSG>";
	f[n++] = "";
	f[n++] = header;
	f[n++] = "{}";
	f[n++] = "{}";
	f[n++] = "{}";
	z->len = z->off = 0;
	for (int i = 0; i < n; i++)
		assert_int_equal(sj_zmtp_put_frame(z, i + 1 < n ? 1 : 0, f[i],
						   strlen(f[i])), 0);
}

static void signed_ok(const struct sj_buf *m, struct sj_jsign *check)
{
	struct sj_buf z = { 0 };
	struct sj_err err = { "" };

	to_zmtp(m, &z);
	assert_ok(sj_jsign_check_zmtp(check, z.p, z.len, &err), err);
	sj_buf_free(&z);
}

/* The status around an answer, on iopub, signed, with the request as
 * parent: busy, then idle. */
static void status_around(const struct sj_buf *busy, const struct sj_buf *idle,
			  struct sj_jsign *check)
{
	char f[200];

	frame(busy, 0, f, sizeof(f));
	assert_string_equal(f, "kernel.slurm-jupyter-shim.status");
	frame(busy, 6, f, sizeof(f));
	assert_string_equal(f, "{\"execution_state\":\"busy\"}");
	frame(busy, 4, f, sizeof(f));
	assert_non_null(strstr(f, "req-1"));
	signed_ok(busy, check);
	frame(idle, 6, f, sizeof(f));
	assert_string_equal(f, "{\"execution_state\":\"idle\"}");
	frame(idle, 4, f, sizeof(f));
	assert_non_null(strstr(f, "req-1"));
	signed_ok(idle, check);
}

static void test_answer(void **state)
{
	struct tmp *t = *state;
	struct sj_standin s;
	struct sj_err err = { "" };
	struct sj_buf q = { 0 }, reply = { 0 }, busy = { 0 }, idle = { 0 };
	struct sj_buf z = { 0 };
	struct sj_jsign check;
	char f[1200];

	assert_ok(sj_standin_init(&s, KEY, "hmac-sha256", "ann", "python",
				  "9.9", at(t, "info.json"), &err), err);
	assert_false(s.info_recorded);
	assert_ok(sj_jsign_init(&check, KEY, "hmac-sha256", &err), err);

	/* kernel_info_request on shell: answered, routed as it came. */
	request(&q, "client-ident", "kernel_info_request");
	assert_int_equal(sj_standin_answer(&s, SJ_SHELL, (const uint8_t *)"R1",
					   2, q.p, q.len, &reply, &busy, &idle,
					   &err), 1);
	assert_int_equal(nframes(&reply), 8);
	frame_is(&reply, 0, "R1");
	frame_is(&reply, 1, "client-ident");
	frame_is(&reply, 5, "{\"msg_id\":\"req-1\",\"msg_type\": "
		 "\"kernel_info_request\"}");
	frame(&reply, 7, f, sizeof(f));
	assert_non_null(strstr(f, "\"status\":\"ok\""));
	assert_non_null(strstr(f, "\"protocol_version\":\"5.3\""));
	assert_non_null(strstr(f, "\"implementation\":\"slurm-jupyter-shim\""));
	assert_non_null(strstr(f, "\"implementation_version\":\"9.9\""));
	assert_non_null(strstr(f, "\"language_info\":{\"name\":\"python\"}"));
	signed_ok(&reply, &check);
	status_around(&busy, &idle, &check);
	assert_int_equal(s.answered, 1);

	/* On control too; execute_request waits for the kernel; stdin is
	 * never answered here; hb is echoed. */
	reply.len = busy.len = idle.len = 0;
	request(&q, NULL, "kernel_info_request");
	assert_int_equal(sj_standin_answer(&s, SJ_CONTROL,
					   (const uint8_t *)"R2", 2, q.p,
					   q.len, &reply, &busy, &idle, &err),
			 1);
	assert_int_equal(nframes(&reply), 7);

	/* comm_info_request (a front end opening a notebook): no comms, as
	 * a kernel just started has none, signed, with the status around
	 * it... */
	reply.len = busy.len = idle.len = 0;
	request(&q, "client-ident", "comm_info_request");
	assert_int_equal(sj_standin_answer(&s, SJ_SHELL, (const uint8_t *)"R1",
					   2, q.p, q.len, &reply, &busy, &idle,
					   &err), 1);
	frame_is(&reply, 0, "R1");
	frame(&reply, 4, f, sizeof(f));
	assert_non_null(strstr(f, "\"msg_type\":\"comm_info_reply\""));
	frame(&reply, 5, f, sizeof(f));
	assert_non_null(strstr(f, "\"comm_info_request\""));
	frame_is(&reply, 7, "{\"status\":\"ok\",\"comms\":{}}");
	signed_ok(&reply, &check);
	status_around(&busy, &idle, &check);

	reply.len = busy.len = idle.len = 0;
	request(&q, NULL, "execute_request");
	assert_int_equal(sj_standin_answer(&s, SJ_SHELL, (const uint8_t *)"R1",
					   2, q.p, q.len, &reply, &busy, &idle,
					   &err), 0);
	/* ... but not behind a request that waits for the kernel: that one
	 * may open a comm, and the kernel's answer would list it. */
	request(&q, NULL, "comm_info_request");
	assert_int_equal(sj_standin_answer(&s, SJ_SHELL, (const uint8_t *)"R1",
					   2, q.p, q.len, &reply, &busy, &idle,
					   &err), 0);
	request(&q, NULL, "kernel_info_request");
	assert_int_equal(sj_standin_answer(&s, SJ_STDIN, (const uint8_t *)"R1",
					   2, q.p, q.len, &reply, &busy, &idle,
					   &err), 0);
	assert_int_equal(reply.len + busy.len + idle.len, 0);
	q.len = 0;
	assert_int_equal(sj_zmtp_put_frame(&q, 0, "ping", 4), 0);
	assert_int_equal(sj_standin_answer(&s, SJ_HB, (const uint8_t *)"H",
					   1, q.p, q.len, &reply, &busy, &idle,
					   &err), 1);
	assert_int_equal(nframes(&reply), 2);
	frame_is(&reply, 1, "ping");
	assert_int_equal(s.answered, 3);

	sj_standin_free(&s);
	sj_buf_free(&q);
	sj_buf_free(&reply);
	sj_buf_free(&busy);
	sj_buf_free(&idle);
	sj_buf_free(&z);
}

/* The kernel's own reply to the shim's request is recorded (0600) and
 * replayed at the next start; a client's reply is not taken. */
static void test_record_replay(void **state)
{
	struct tmp *t = *state;
	static const char content[] =
		"{\"status\":\"ok\",\"implementation\":\"ipython\","
		"\"language_info\":{\"name\":\"python\",\"version\":\"3.11\"}}";
	struct sj_standin s, s2;
	struct sj_err err = { "" };
	struct sj_buf req = { 0 }, rep = { 0 }, pre = { 0 }, q = { 0 };
	struct sj_buf reply = { 0 }, busy = { 0 }, idle = { 0 };
	struct timespec now = { .tv_sec = 1 };
	struct stat st;
	char f[1200];

	assert_ok(sj_standin_init(&s, KEY, "hmac-sha256", "ann", "", "9.9",
				  at(t, "rec.json"), &err), err);
	assert_ok(sj_standin_request(&s, &req, &err), err);
	frame(&req, 0, f, sizeof(f));
	assert_int_equal(sj_get_be32(req.p), SJ_STANDIN_RID_LEN);
	assert_memory_equal(req.p + 4, s.own_rid, SJ_STANDIN_RID_LEN);
	frame(&req, 3, f, sizeof(f));
	assert_non_null(strstr(f, "\"msg_type\":\"kernel_info_request\""));

	/* A reply for a client is not ours. */
	assert_int_equal(sj_jmsg_put_frame(&pre, "R1", 2), 0);
	assert_ok(sj_jmsg_build(&s.maker, &rep, pre.p, pre.len,
				"kernel_info_reply", "{}", 2, content,
				strlen(content), &now, &err), err);
	assert_int_equal(sj_standin_take_reply(&s, rep.p, rep.len, &err), 0);
	/* The kernel's reply to ours, [own rid, <IDS|MSG>, ...]. */
	pre.len = rep.len = 0;
	assert_int_equal(sj_jmsg_put_frame(&pre, s.own_rid,
					   SJ_STANDIN_RID_LEN), 0);
	assert_ok(sj_jmsg_build(&s.maker, &rep, pre.p, pre.len,
				"kernel_info_reply", "{}", 2, content,
				strlen(content), &now, &err), err);
	err.msg[0] = '\0';
	assert_int_equal(sj_standin_take_reply(&s, rep.p, rep.len, &err), 1);
	assert_string_equal(err.msg, "");
	assert_int_equal(stat(at(t, "rec.json"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	sj_standin_free(&s);

	/* The next start answers with it. */
	assert_ok(sj_standin_init(&s2, KEY, "hmac-sha256", "ann", "", "9.9",
				  at(t, "rec.json"), &err), err);
	assert_true(s2.info_recorded);
	request(&q, NULL, "kernel_info_request");
	assert_int_equal(sj_standin_answer(&s2, SJ_SHELL,
					   (const uint8_t *)"R1", 2, q.p,
					   q.len, &reply, &busy, &idle, &err),
			 1);
	frame_is(&reply, 6, content);
	sj_standin_free(&s2);

	/* A truncated recording is not replayed. */
	assert_ok(sj_write_file_atomic(at(t, "bad.json"), "{\"status\"", 9,
				       &err), err);
	assert_ok(sj_standin_init(&s2, KEY, "hmac-sha256", "ann", "", "9.9",
				  at(t, "bad.json"), &err), err);
	assert_false(s2.info_recorded);
	assert_non_null(strstr(s2.info, "slurm-jupyter-shim"));
	sj_standin_free(&s2);

	sj_buf_free(&req);
	sj_buf_free(&rep);
	sj_buf_free(&pre);
	sj_buf_free(&q);
	sj_buf_free(&reply);
	sj_buf_free(&busy);
	sj_buf_free(&idle);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_date),
	cmocka_unit_test(test_build_signed),
	cmocka_unit_test_setup_teardown(test_answer, tmpdir_setup,
					tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_record_replay,
					tmpdir_setup, tmpdir_teardown))
