// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * doctor_msg.c - one Jupyter message each way: kernel_info_request out on
 * the shell channel, kernel_info_reply back, signed with the connection
 * file's key (Jupyter messaging protocol 5.3, hmac-sha256).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "doctor.h"
#include "fsutil.h"
#include "jmsg.h"
#include "jsign.h"

#define NPARTS 4		/* header, parent, metadata, content */
#define MAX_FRAMES 16

/* The signature of the four parts with the connection file's key (the
 * doctor's trial kernel uses Jupyter's default, hmac-sha256). */
static int sign(const char *key, const char *const part[NPARTS],
		const size_t plen[NPARTS], char hex[SJ_JSIGN_HEX_MAX + 1],
		struct sj_err *err)
{
	struct sj_jsign js;

	if (sj_jsign_init(&js, key, "hmac-sha256", err))
		return -1;
	sj_jsign_hex(&js, (const uint8_t *const *)part, plen, hex);
	sj_jsign_wipe(&js);
	return 0;
}

int dk_send_kernel_info(void *sock, const char *key, const char *session,
			struct sj_err *err)
{
	char header[512], id[33], date[SJ_JMSG_DATE_LEN];
	char hex[SJ_JSIGN_HEX_MAX + 1];
	const char *part[NPARTS];
	size_t plen[NPARTS];
	struct timespec ts;

	if (sj_random_hex(id, 16, err))
		return -1;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	sj_jmsg_date(&ts, date);
	snprintf(header, sizeof(header),
		 "{\"msg_id\":\"%s\",\"session\":\"%s\",\"username\":"
		 "\"jupyter-slurm-doctor\",\"date\":\"%s\","
		 "\"msg_type\":\"kernel_info_request\",\"version\":\""
		 SJ_JMSG_VERSION "\"}", id, session, date);
	part[0] = header;
	part[1] = part[2] = part[3] = "{}";
	for (int i = 0; i < NPARTS; i++)
		plen[i] = strlen(part[i]);
	if (sign(key, part, plen, hex, err))
		return -1;
	if (zmq_send(sock, SJ_JUPYTER_DELIMITER, strlen(SJ_JUPYTER_DELIMITER),
		     ZMQ_SNDMORE) < 0 ||
	    zmq_send(sock, hex, strlen(hex), ZMQ_SNDMORE) < 0)
		goto fail;
	for (int i = 0; i < NPARTS; i++)
		if (zmq_send(sock, part[i], plen[i],
			     i < NPARTS - 1 ? ZMQ_SNDMORE : 0) < 0)
			goto fail;
	return 0;
fail:
	return sj_err_set(err, "sending kernel_info_request: %s",
			  zmq_strerror(zmq_errno()));
}

/* "ipython 8.5.0 (python 3.11.2)" from the reply's content. */
static void describe(const char *content, size_t len, char *out, size_t olen)
{
	json_t *c = json_loadb(content, len, 0, NULL);
	const char *impl = json_string_value(
		json_object_get(c, "implementation"));
	const char *iv = json_string_value(json_object_get(c,
			"implementation_version"));
	json_t *li = json_object_get(c, "language_info");
	const char *lang = json_string_value(json_object_get(li, "name"));
	const char *lv = json_string_value(json_object_get(li, "version"));

	snprintf(out, olen, "%s %s (%s %s)", impl ? impl : "?", iv ? iv : "",
		 lang ? lang : "?", lv ? lv : "");
	json_decref(c);
}

int dk_recv_kernel_info(void *sock, const char *key, char *banner,
			size_t len, struct sj_err *err)
{
	zmq_msg_t f[MAX_FRAMES];
	size_t n = 0, d;
	int more = 1, rv = 0;

	while (more) {
		size_t ml = sizeof(more);

		if (n == MAX_FRAMES) {
			rv = sj_err_set(err, "a reply of more than %d frames",
					MAX_FRAMES);
			goto out;
		}
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
			int e = zmq_errno();

			zmq_msg_close(&f[n]);
			if (n == 0 && (e == EAGAIN || e == EINTR))
				return 0;
			rv = sj_err_set(err, "receiving: %s", zmq_strerror(e));
			goto out;
		}
		n++;
		if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ml) != 0)
			more = 0;
	}
	for (d = 0; d < n; d++)
		if (sj_jmsg_is_delimiter(zmq_msg_data(&f[d]),
					 zmq_msg_size(&f[d])))
			break;
	if (d + 2 + NPARTS > n)
		goto out;	/* not a Jupyter message: ignore it */
	{
		const char *part[NPARTS];
		size_t plen[NPARTS];
		char hex[SJ_JSIGN_HEX_MAX + 1];
		json_t *h;
		const char *type;

		for (int i = 0; i < NPARTS; i++) {
			part[i] = zmq_msg_data(&f[d + 2 + i]);
			plen[i] = zmq_msg_size(&f[d + 2 + i]);
		}
		if (sign(key, part, plen, hex, err)) {
			rv = -1;
			goto out;
		}
		if (zmq_msg_size(&f[d + 1]) != strlen(hex) ||
		    memcmp(zmq_msg_data(&f[d + 1]), hex, strlen(hex)) != 0) {
			rv = sj_err_set(err, "a reply with a bad signature");
			goto out;
		}
		h = json_loadb(part[0], plen[0], 0, NULL);
		type = json_string_value(json_object_get(h, "msg_type"));
		if (type != NULL && strcmp(type, "kernel_info_reply") == 0) {
			describe(part[3], plen[3], banner, len);
			rv = 1;
		}
		json_decref(h);
	}
out:
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
	return rv;
}
