// SPDX-License-Identifier: GPL-2.0-or-later
#include "standin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "connfile.h"
#include "forward.h"
#include "link_entry.h"
#include "fsutil.h"
#include "zmtp.h"


/* What a client's message is, as far as answering it goes. */
struct request {
	struct sj_buf prefix;	/* rid, then its frames before the delimiter */
	const uint8_t *header;	/* NULL: not a Jupyter message */
	size_t header_len;
};

/* comm_info_reply while the kernel is not up: it has no comms yet. */
#define NO_COMMS "{\"status\":\"ok\",\"comms\":{}}"

int sj_standin_json_object(const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == ' '))
		n--;
	return n >= 2 && p[0] == '{' && p[n - 1] == '}' &&
	       memchr(p, '\0', n) == NULL;
}

static int default_info(struct sj_standin *s, const char *language,
			const char *version, struct sj_err *err)
{
	char lang[64] = "";
	char buf[1024];
	int n;

	for (size_t i = 0, o = 0; language[i] != '\0' && o + 1 < sizeof(lang);
	     i++) {
		char c = language[i];

		/* A language name needs no escaping; anything odd is left
		 * out rather than escaped. */
		if (c != '"' && c != '\\' && (unsigned char)c >= 0x20)
			lang[o++] = c;
		lang[o] = '\0';
	}
	n = snprintf(buf, sizeof(buf),
		     "{\"status\":\"ok\",\"protocol_version\":\"%s\","
		     "\"implementation\":\"slurm-jupyter-shim\","
		     "\"implementation_version\":\"%s\","
		     "\"language_info\":{\"name\":\"%s\"},"
		     "\"banner\":\"slurm-jupyter-shim: waiting for Slurm to "
		     "start the kernel\",\"help_links\":[]}",
		     SJ_JMSG_VERSION, version, lang);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return sj_err_set(err, "version too long");
	s->info = strdup(buf);
	if (s->info == NULL)
		return sj_err_set(err, "out of memory");
	s->info_len = (size_t)n;
	return 0;
}

int sj_standin_init(struct sj_standin *s, const char *key,
		    const char *scheme, const char *username,
		    const char *language, const char *version,
		    const char *record_path, struct sj_err *err)
{
	char *rec = NULL;
	size_t len = 0;
	struct sj_err ignored;

	memset(s, 0, sizeof(*s));
	if (strlen(record_path) >= sizeof(s->record_path))
		return sj_err_set(err, "state file path too long");
	strcpy(s->record_path, record_path);
	if (sj_jmsg_init(&s->maker, key, scheme, username, err))
		return -1;
	if (getrandom(s->own_rid + 1, sizeof(s->own_rid) - 1, 0) !=
	    (ssize_t)sizeof(s->own_rid) - 1)
		return sj_err_errno(err, errno, "getrandom");
	s->own_rid[0] = 0;
	/* No recording yet, or an unreadable one: the minimal content. */
	if (record_path[0] != '\0' &&
	    sj_read_file(record_path, SJ_STANDIN_INFO_MAX, &rec, &len,
			 &ignored) == 0) {
		if (sj_standin_json_object(rec, len)) {
			s->info = rec;
			s->info_len = len;
			s->info_recorded = 1;
			return 0;
		}
		free(rec);
	}
	return default_info(s, language, version, err);
}

void sj_standin_free(struct sj_standin *s)
{
	sj_jmsg_wipe(&s->maker);
	free(s->info);
	s->info = NULL;
}

static int status(struct sj_standin *s, struct sj_buf *out, const char *state,
		  const struct request *q, const struct timespec *now,
		  struct sj_err *err)
{
	static const char topic[] = "kernel.slurm-jupyter-shim.status";
	char content[64];
	struct sj_buf t = { 0 };
	int n = snprintf(content, sizeof(content),
			 "{\"execution_state\":\"%s\"}", state);
	int r;

	if (sj_jmsg_put_frame(&t, topic, sizeof(topic) - 1))
		return sj_err_set(err, "out of memory");
	r = sj_jmsg_build(&s->maker, out, t.p, t.len, "status", q->header,
			  q->header_len, content, (size_t)n, now, err);
	sj_buf_free(&t);
	return r;
}

int sj_standin_answer(struct sj_standin *s, int ch, const uint8_t *rid,
		      size_t rid_len, const uint8_t *frames, size_t len,
		      struct sj_buf *reply, struct sj_buf *busy,
		      struct sj_buf *idle, struct sj_err *err)
{
	struct request q = { .prefix = { 0 } };
	struct timespec now;
	const char *type, *content;
	size_t content_len;
	int r = -1;

	if (ch == SJ_HB) {
		/* A heartbeat is an echo: the kernel is there to answer. */
		const uint8_t *data;
		size_t off = 0, n;

		if (sj_jmsg_put_frame(reply, rid, rid_len))
			return sj_err_set(err, "out of memory");
		while (sj_zmtp_frame_next(frames, len, &off, &data, &n))
			if (sj_jmsg_put_frame(reply, data, n))
				return sj_err_set(err, "out of memory");
		return 1;
	}
	if (ch != SJ_SHELL && ch != SJ_CONTROL)
		return 0;
	if (sj_jmsg_route(&q.prefix, rid, rid_len, frames, len, &q.header,
			  &q.header_len)) {
		sj_err_set(err, "out of memory");
		goto out;
	}
	r = 0;
	if (q.header != NULL && sj_header_has_type(q.header, q.header_len,
						   "kernel_info_request")) {
		type = "kernel_info_reply";
		content = s->info;
		content_len = s->info_len;
	} else if (q.header != NULL && !s->held &&
		   sj_header_has_type(q.header, q.header_len,
				      "comm_info_request")) {
		/* Only while nothing waits: a request held before it may
		 * open a comm, and the kernel would list it. */
		type = "comm_info_reply";
		content = NO_COMMS;
		content_len = strlen(NO_COMMS);
	} else {
		s->held = 1;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	r = -1;
	if (status(s, busy, "busy", &q, &now, err) ||
	    sj_jmsg_build(&s->maker, reply, q.prefix.p, q.prefix.len, type,
			  q.header, q.header_len, content, content_len, &now,
			  err) ||
	    status(s, idle, "idle", &q, &now, err))
		goto out;
	s->answered++;
	r = 1;
out:
	sj_buf_free(&q.prefix);
	return r;
}

int sj_standin_request(struct sj_standin *s, struct sj_buf *out,
		       struct sj_err *err)
{
	struct sj_buf rid = { 0 };
	struct timespec now;
	int r;

	clock_gettime(CLOCK_REALTIME, &now);
	if (sj_jmsg_put_frame(&rid, s->own_rid, sizeof(s->own_rid)))
		return sj_err_set(err, "out of memory");
	r = sj_jmsg_build(&s->maker, out, rid.p, rid.len, "kernel_info_request",
			  "{}", 2, "{}", 2, &now, err);
	sj_buf_free(&rid);
	return r;
}

int sj_standin_take_reply(struct sj_standin *s, const uint8_t *frames,
			  size_t len, struct sj_err *err)
{
	struct sj_jmsg_parts p;
	struct sj_link_entry x;
	size_t at = 0;

	if (sj_link_entry_next(frames, len, &at, &x) != 1 ||
	    x.n != sizeof(s->own_rid) ||
	    memcmp(x.data, s->own_rid, sizeof(s->own_rid)) != 0)
		return 0;
	/* Ours: [rid] <IDS|MSG> sig header parent metadata content. */
	if (sj_jmsg_parts_link(frames, len, &p) != SJ_JMSG_NPARTS ||
	    s->record_path[0] == '\0')
		return 1;
	const char *content = (const char *)p.part[SJ_JMSG_CONTENT];
	size_t n = p.len[SJ_JMSG_CONTENT];

	if (n > SJ_STANDIN_INFO_MAX || !sj_standin_json_object(content, n)) {
		sj_err_set(err, "the kernel's kernel_info_reply is not kept "
			   "(%zu bytes, or not a JSON object)", n);
		return 1;
	}
	if (sj_write_file_atomic(s->record_path, content, n, err))
		return 1;
	return 1;
}
