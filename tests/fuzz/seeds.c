// SPDX-License-Identifier: GPL-2.0-or-later
/* Writes the seed corpus of tests/fuzz/corpus/ (run by make-seeds): the
 * messages and files the parsers read, made by the code that writes them
 * for real (the rendezvous's encoders, relay.json's writer, jupyter
 * slurm's kernel.json, the ZMTP and Jupyter message builders), so that a
 * fuzzer starts from what it would meet and not from nothing.  Each seed
 * made here is checked to be accepted by its parser first: a seed the
 * parser refuses would teach the fuzzer nothing of the inside. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "connfile.h"
#include "fuzzbuf.h"
#include "jmsg.h"
#include "jsign.h"
#include "link.h"
#include "noise.h"
#include "relayinfo.h"
#include "rendezvous.h"
#include "spec.h"
#include "zmtp.h"

static const char *top;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("seeds: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void put(const char *harness, const char *name, const void *data,
		size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, harness);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/%s", top, harness, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die("writing %s", path);
}

/* The input prefixed by one byte (a harness's selector). */
static void put_sel(const char *harness, const char *name, uint8_t sel,
		    const void *data, size_t len)
{
	uint8_t *b = malloc(len + 1);

	if (b == NULL)
		die("out of memory");
	b[0] = sel;
	memcpy(b + 1, data, len);
	put(harness, name, b, len + 1);
	free(b);
}

static void rendezvous(void)
{
	struct sj_rdv_spec spec = { .host = "10.0.0.5", .port = 40123 };
	struct sj_hello h = {
		.node = "n1", .addr = "10.0.0.11", .port = 41000,
		.job_id = 42, .step_id = 0,
	};
	struct sj_welcome w = {
		.key = "6f1c7d5e-3a0b-4c8e-9f2d-1b7a6e5c4d3b",
		.signature_scheme = "hmac-sha256", .transport = "default",
	};
	struct sj_err err;
	char buf[512], sec[SJ_KEY_HEX + 1], *t;
	unsigned char hdr[SJ_FRAME_HEADER] = "SJR1";
	size_t n;

	memset(spec.nonce, 'a', SJ_NONCE_HEX);
	memcpy(h.nonce, spec.nonce, sizeof(h.nonce));
	memset(h.node_nonce, '7', SJ_NONCE_HEX);
	memcpy(w.nonce, h.nonce, sizeof(w.nonce));
	memcpy(w.node_nonce, h.node_nonce, sizeof(w.node_nonce));
	if (sj_rdv_keypair(h.server_key, sec, &err) ||
	    sj_rdv_keypair(w.client_key, sec, &err))
		die("%s", err.msg);
	if (sj_rdv_spec_format(&spec, buf, sizeof(buf), &err) ||
	    sj_rdv_spec_parse(buf, &spec, &err))
		die("spec: %s", err.msg);
	put("fuzz_rendezvous", "spec", buf, strlen(buf));
	spec.host[0] = '\0';
	if (sj_rdv_spec_format(&spec, buf, sizeof(buf), &err) ||
	    sj_rdv_spec_parse(buf, &spec, &err))
		die("spec: %s", err.msg);
	put("fuzz_rendezvous", "spec-no-host", buf, strlen(buf));
	snprintf(spec.host, sizeof(spec.host), "fd00::1");
	if (sj_rdv_spec_format(&spec, buf, sizeof(buf), &err) == 0 &&
	    sj_rdv_spec_parse(buf, &spec, &err) == 0)
		put("fuzz_rendezvous", "spec-ipv6", buf, strlen(buf));
	t = sj_hello_encode(&h, &err);
	if (t == NULL || sj_hello_decode(t, strlen(t), &h, &err))
		die("hello: %s", err.msg);
	put("fuzz_rendezvous", "hello", t, strlen(t));
	n = strlen(t);
	hdr[4] = 0;
	hdr[5] = 0;
	hdr[6] = (unsigned char)(n >> 8);
	hdr[7] = (unsigned char)n;
	if (sj_frame_header_parse(hdr, SJ_HELLO_FRAME_MAX, &n, &err))
		die("frame header: %s", err.msg);
	put("fuzz_rendezvous", "frame-header", hdr, sizeof(hdr));
	free(t);
	t = sj_welcome_encode(&w, &err);
	if (t == NULL || sj_welcome_decode(t, strlen(t), &w, &err))
		die("welcome: %s", err.msg);
	put("fuzz_rendezvous", "welcome", t, strlen(t));
	free(t);
}

static void relayinfo(void)
{
	struct sj_relayinfo ri = {
		.address = "10.0.0.11", .login_address = "10.0.0.1",
		.port = 41000, .fd = 3,
		.nonce = "00112233445566778899aabbccddeeff",
		.node_nonce = "ffeeddccbbaa99887766554433221100",
		.job_id = 42, .step_id = 0,
	};
	char path[512], cpub[SJ_KEY_HEX + 1], csec[SJ_KEY_HEX + 1];
	struct sj_err err;

	if (sj_rdv_keypair(ri.server_public, ri.server_secret, &err) ||
	    sj_rdv_keypair(cpub, csec, &err))
		die("%s", err.msg);
	memcpy(ri.client_public, cpub, sizeof(cpub));
	snprintf(path, sizeof(path), "%s/fuzz_relayinfo", top);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("mkdir %s", path);
	snprintf(path, sizeof(path), "%s/fuzz_relayinfo/ipv4", top);
	if (sj_relayinfo_write(path, &ri, &err) ||
	    sj_relayinfo_load(path, &ri, &err))
		die("relay.json: %s", err.msg);
	snprintf(ri.address, sizeof(ri.address), "fd00::11");
	snprintf(ri.login_address, sizeof(ri.login_address), "fd00::1");
	snprintf(path, sizeof(path), "%s/fuzz_relayinfo/ipv6", top);
	if (sj_relayinfo_write(path, &ri, &err) ||
	    sj_relayinfo_load(path, &ri, &err))
		die("relay.json: %s", err.msg);
	/* The writer makes it 0600, as it must for the secret key. */
	if (chmod(path, 0644) != 0)
		die("chmod %s", path);
	snprintf(path, sizeof(path), "%s/fuzz_relayinfo/ipv4", top);
	if (chmod(path, 0644) != 0)
		die("chmod %s", path);
}

/* Jupyter's connection files, as jupyter_client writes them (tcp, and
 * ipc with its path prefix). */
static void connfile(void)
{
	static const char *const files[][2] = {
		{ "tcp", "{\n  \"shell_port\": 53794,\n  \"iopub_port\": 43649,\n"
		  "  \"stdin_port\": 46535,\n  \"control_port\": 38491,\n"
		  "  \"hb_port\": 60191,\n  \"ip\": \"127.0.0.1\",\n"
		  "  \"key\": \"b2b0d1a8-6c0b6e4e1d2f3a4b5c6d7e8f\",\n"
		  "  \"transport\": \"tcp\",\n"
		  "  \"signature_scheme\": \"hmac-sha256\",\n"
		  "  \"kernel_name\": \"python3\"\n}" },
		{ "ipc", "{\n  \"shell_port\": 1,\n  \"iopub_port\": 2,\n"
		  "  \"stdin_port\": 3,\n  \"control_port\": 4,\n"
		  "  \"hb_port\": 5,\n  \"ip\": \"/tmp/kernel-ipc\",\n"
		  "  \"key\": \"\",\n  \"transport\": \"ipc\",\n"
		  "  \"signature_scheme\": \"hmac-sha512\",\n"
		  "  \"kernel_name\": \"\"\n}" },
	};
	struct sj_connfile cf;
	struct sj_err err;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (sj_connfile_parse(files[i][1], strlen(files[i][1]), &cf,
				      &err))
			die("connection file %s: %s", files[i][0], err.msg);
		put("fuzz_connfile", files[i][0], files[i][1],
		    strlen(files[i][1]));
	}
}

/* A Jupyter message's four parts. */
static const char header[] =
	"{\"msg_id\":\"3c1f0e2a_1\",\"session\":\"3c1f0e2a\","
	"\"username\":\"alice\",\"date\":\"2026-12-03T15:00:00.000000Z\","
	"\"msg_type\":\"kernel_info_request\",\"version\":\"5.3\"}";
static const char *const parts[4] = { header, "{}", "{}", "{}" };

/* ZMTP frames of a message signed with key and scheme, after routing
 * frames (rid may be NULL). */
static void zmtp_message(struct sj_buf *b, const char *key, const char *scheme,
			 const char *rid)
{
	const uint8_t *p[4];
	size_t n[4];
	char hex[SJ_JSIGN_HEX_MAX + 1] = "";
	struct sj_jsign s;
	struct sj_err err;
	const char *d = SJ_JUPYTER_DELIMITER;

	for (int i = 0; i < 4; i++) {
		p[i] = (const uint8_t *)parts[i];
		n[i] = strlen(parts[i]);
	}
	if (sj_jsign_init(&s, key, scheme, &err))
		die("%s", err.msg);
	if (s.digest != 0)
		sj_jsign_hex(&s, p, n, hex);
	if ((rid != NULL &&
	     sj_zmtp_put_frame(b, SJ_ZMTP_MORE, rid, strlen(rid))) ||
	    sj_zmtp_put_frame(b, SJ_ZMTP_MORE, d, strlen(d)) ||
	    sj_zmtp_put_frame(b, SJ_ZMTP_MORE, hex, strlen(hex)))
		die("out of memory");
	for (int i = 0; i < 4; i++)
		if (sj_zmtp_put_frame(b, i < 3 ? SJ_ZMTP_MORE : 0, p[i], n[i]))
			die("out of memory");
}

static void jsign(void)
{
	struct sj_buf b = { 0 };
	struct sj_jsign s;
	struct sj_err err;

	zmtp_message(&b, "fuzz-key", "hmac-sha256", NULL);
	if (sj_jsign_init(&s, "fuzz-key", "hmac-sha256", &err) ||
	    sj_jsign_check_zmtp(&s, b.p, b.len, &err))
		die("jsign: %s", err.msg);
	put("fuzz_jsign", "sha256", b.p, b.len);
	b.len = 0;
	zmtp_message(&b, "fuzz-key", "hmac-sha512", "client-1");
	if (sj_jsign_init(&s, "fuzz-key", "hmac-sha512", &err) ||
	    sj_jsign_check_zmtp(&s, b.p, b.len, &err))
		die("jsign: %s", err.msg);
	put("fuzz_jsign", "sha512-routed", b.p, b.len);
	sj_buf_free(&b);
}

/* What a client sends from its first byte: greeting, READY, then
 * messages (a SUB socket: a subscription). */
static void client_stream(struct sj_buf *b, const char *type, int sub)
{
	uint8_t g[SJ_ZMTP_GREETING_BYTES];

	sj_zmtp_greeting(g);
	if (sj_buf_reserve(b, sizeof(g)))
		die("out of memory");
	memcpy(b->p + b->len, g, sizeof(g));
	b->len += sizeof(g);
	if (sj_zmtp_put_ready(b, type, NULL, 0))
		die("out of memory");
	if (sub) {
		/* ZMTP 3.0's subscription: a message whose body starts 1. */
		if (sj_zmtp_put_frame(b, 0, "\1", 1))
			die("out of memory");
	} else {
		zmtp_message(b, "", "hmac-sha256", NULL);
		zmtp_message(b, "", "hmac-sha256", NULL);
	}
}

static void zmtp(void)
{
	struct sj_buf b = { 0 };

	client_stream(&b, "DEALER", 0);
	put_sel("fuzz_zmtp", "dealer-whole", 63, b.p, b.len);
	put_sel("fuzz_zmtp", "dealer-bytewise", 0, b.p, b.len);
	put_sel("fuzz_zfront", "shell-dealer", SJ_SHELL, b.p, b.len);
	put_sel("fuzz_zfront", "control-dealer", SJ_CONTROL, b.p, b.len);
	b.len = 0;
	client_stream(&b, "SUB", 1);
	put_sel("fuzz_zmtp", "sub", 7, b.p, b.len);
	put_sel("fuzz_zfront", "iopub-sub", SJ_IOPUB, b.p, b.len);
	b.len = 0;
	client_stream(&b, "REQ", 0);
	put_sel("fuzz_zfront", "hb-req", SJ_HB, b.p, b.len);
	sj_buf_free(&b);
}

/* rid, header, parent, metadata, content, split at NUL: fuzz_standin's
 * layout. */
static void standin(void)
{
	static const char reply[] =
		"{\"status\":\"ok\",\"protocol_version\":\"5.3\","
		"\"implementation\":\"ipython\",\"implementation_version\":"
		"\"8.20.0\",\"language_info\":{\"name\":\"python\",\"version\":"
		"\"3.11.2\",\"mimetype\":\"text/x-python\",\"file_extension\":"
		"\".py\"},\"banner\":\"Python 3.11.2\",\"help_links\":[]}\n";
	char msg[2048];
	int n;

	n = snprintf(msg, sizeof(msg), "client-1%c%s%c{}%c{}%c{}", 0, header,
		     0, 0, 0);
	put_sel("fuzz_standin", "kernel-info-shell", 0x20 | SJ_SHELL, msg,
		(size_t)n);
	put_sel("fuzz_standin", "kernel-info-control", 0x20 | SJ_CONTROL, msg,
		(size_t)n);
	n = snprintf(msg, sizeof(msg), "%c%s%c{}%c{}%c%s", 0, header, 0, 0, 0,
		     reply);
	put_sel("fuzz_standin", "kernel-reply", 0x10, msg, (size_t)n);
	{
		struct sj_buf b = { 0 };

		zmtp_message(&b, "fuzz-key", "hmac-sha256", NULL);
		put_sel("fuzz_standin", "raw-shell", SJ_SHELL, b.p, b.len);
		b.len = 0;
		if (sj_zmtp_put_frame(&b, 0, "ping", 4))
			die("out of memory");
		put_sel("fuzz_standin", "raw-hb", SJ_HB, b.p, b.len);
		sj_buf_free(&b);
	}
}

/* jupyter slurm add's kernel.json, and its argv split at NUL. */
static void kernelspec(void)
{
	const char *srun[] = { "--cpu-bind=none" }, *salloc[] = { "-p", "gpu" };
	struct gen_opts o = {
		.partition = "debug", .time = "1:00:00", .linger = "30",
		.setup = "module load python", .kernel_node = "n2",
		.srun_args = { srun, 1 }, .salloc_args = { salloc, 2 },
		.shim_verbose = 1,
	};
	const char *wrapped_text =
		"{\"argv\": [\"/usr/bin/python3\", \"-m\", \"ipykernel_launcher\","
		" \"-f\", \"{connection_file}\"], \"display_name\": \"Python 3\","
		" \"language\": \"python\"}";
	json_error_t je;
	json_t *w = json_loads(wrapped_text, 0, &je), *spec = NULL, *argv;
	struct gen_build b = {
		.o = &o, .kernel = "python3",
		.kernel_dir = "/usr/share/jupyter/kernels/python3",
		.wrapped = w, .shim = "/usr/bin/slurm-jupyter-shim",
		.display_name = "Python 3 (Slurm: debug, 1h)",
	};
	struct sj_err err;
	char *text, flat[4096];
	size_t off = 0;

	if (w == NULL || gen_spec_build(&b, &spec, &err))
		die("kernelspec: %s", w == NULL ? je.text : err.msg);
	text = gen_spec_dump(spec, &err);
	if (text == NULL)
		die("kernelspec: %s", err.msg);
	put("fuzz_kernelspec", "kernel.json", text, strlen(text));
	free(text);
	argv = json_object_get(spec, "argv");
	for (size_t i = 0; i < json_array_size(argv); i++) {
		const char *a = json_string_value(json_array_get(argv, i));
		size_t n = strlen(a) + 1;

		if (off + n > sizeof(flat))
			die("argv too long");
		memcpy(flat + off, a, n);
		off += n;
	}
	put("fuzz_kernelspec", "argv", flat, off - 1);
	json_decref(spec);
	json_decref(w);
}

/* ---------------------------------------------------------- the link */

/* A record's entry: a whole frame. */
static void entry(struct sj_buf *b, const char *s)
{
	fz_frame(b, s, strlen(s));
}

/* A record: its length, its kind, the entries. */
static void record(struct sj_buf *b, int kind, const struct sj_buf *e)
{
	uint8_t k = (uint8_t)kind;

	fz_append_be32(b, (uint32_t)(1 + e->len));
	fz_append(b, &k, 1);
	fz_append(b, e->p, e->len);
}

/* A shell request as the login shim puts it on the link: the client's
 * routing id, then the message. */
static void request_entries(struct sj_buf *e)
{
	entry(e, "client-1");
	entry(e, SJ_JUPYTER_DELIMITER);
	entry(e, "");
	for (int i = 0; i < 4; i++)
		entry(e, parts[i]);
}

/* fuzz_link: entries (whole, and a frame in parts), Noise's first
 * message and a transport message, both made with keys other than the
 * harness's (whose it must never open). */
static void link_seeds(void)
{
	static const uint8_t prologue[SJ_LINK_PROLOGUE_BYTES];
	uint8_t secret[SJ_NOISE_DHLEN] = { 7 }, peer[SJ_NOISE_DHLEN] = { 8 };
	uint8_t key[SJ_NOISE_KEYLEN] = { 7 }, msg[SJ_NOISE_KK_MSG_LEN(0)];
	struct sj_buf e = { 0 }, r = { 0 }, out = { 0 };
	struct sj_noise_kk hs;
	struct sj_noise_cipher cs;
	struct sj_err err;
	size_t n;

	request_entries(&e);
	if (!sj_link_frames_valid(e.p, e.len, 0))
		die("link: whole entries refused");
	put("fuzz_link", "entries-whole", e.p, e.len);
	e.len = 0;
	/* "abcdefgh" in two pieces, and another frame after it. */
	if (sj_link_entry_put(&e, SJ_LINK_START, 8, 1, "abc", 3) ||
	    sj_link_entry_put(&e, SJ_LINK_PIECE, 5, 0, "defgh", 5))
		fz_oom();
	entry(&e, "last");
	if (!sj_link_frames_valid(e.p, e.len, 1) ||
	    sj_link_frames_valid(e.p, e.len, 0))
		die("link: entries in parts misjudged");
	put("fuzz_link", "entries-parts", e.p, e.len);

	/* A fixed ephemeral key too: the same seed on every run. */
	if (crypto_scalarmult_base(peer, peer) ||
	    sj_noise_kk_init(&hs, 1, prologue, sizeof(prologue), secret, peer,
			     &err) ||
	    sj_noise_kk_set_ephemeral(&hs, key, &err) ||
	    sj_noise_kk_write(&hs, NULL, 0, msg, sizeof(msg), &n, &err))
		die("link: the first handshake message: %s", err.msg);
	sj_noise_kk_wipe(&hs);
	put("fuzz_link", "kk-message-1", msg, n);
	record(&r, SJ_SHELL, &e);
	sj_noise_cipher_init(&cs, key);
	if (sj_link_seal(&cs, 3, r.p, r.len, &out, &err))
		die("link: %s", err.msg);
	put("fuzz_link", "transport", out.p + 2, out.len - 2);

	/* fuzz_link_server: the first byte odd, the records the login shim
	 * sends after its HELLO, in messages of (byte >> 1) + 1 bytes; even,
	 * raw bytes from the greeting on. */
	r.len = e.len = 0;
	request_entries(&e);
	record(&r, SJ_SHELL, &e);
	e.len = 0;
	entry(&e, "\1");
	record(&r, SJ_IOPUB, &e);
	e.len = 0;
	entry(&e, "client-2");
	entry(&e, "ping");
	record(&r, SJ_HB, &e);
	put_sel("fuzz_link_server", "records", 0xff, r.p, r.len);
	put_sel("fuzz_link_server", "records-cut-7", 13, r.p, r.len);
	e.len = 0;
	entry(&e, "client-1");
	record(&r, SJ_SHELL | SJ_LINK_MORE, &e);
	put_sel("fuzz_link_server", "record-in-parts", 0x41, r.p, r.len);
	out.len = 0;
	fz_append(&out, "SJL3\0", 5);
	fz_append(&out, (uint8_t[]){ (uint8_t)n }, 1);
	fz_append(&out, msg, n);
	put_sel("fuzz_link_server", "greeting-kk-stranger", 0, out.p, out.len);
	put_sel("fuzz_link_server", "greeting-v2", 0, "SJL2", 4);
	sj_buf_free(&e);
	sj_buf_free(&r);
	sj_buf_free(&out);
}

/* fuzz_e2e's operations (see its op()): a frame of up to 63 bytes as
 * they are, a frame of the harness's pattern, kernel and client
 * messages, subscriptions. */
static void e2e_frame(struct sj_buf *b, const char *s)
{
	uint8_t n = (uint8_t)strlen(s);

	if (n > 63)
		die("e2e: a literal frame of more than 63 bytes");
	fz_append(b, &n, 1);
	fz_append(b, s, n);
}

static void e2e_big(struct sj_buf *b, int k)
{
	fz_append(b, (uint8_t[]){ (uint8_t)(0xf0 | k), 0x35, (uint8_t)k }, 3);
}

/* The kernel's message on ch: its frames (after the routing id the
 * harness puts first, or on iopub the topic, which is frames[0]). */
static void e2e_kernel(struct sj_buf *b, int ch, int wrong_rid, int n,
		       const char *const *frames)
{
	fz_append(b, (uint8_t[]){ (uint8_t)(ch << 3),
			       (uint8_t)((ch == SJ_IOPUB ? n - 1 : n) |
					 (wrong_rid ? 8 : 0)) }, 2);
	for (int i = 0; i < n; i++)
		e2e_frame(b, frames[i]);
}

static void e2e_client(struct sj_buf *b, int ch, int n,
		       const char *const *frames)
{
	fz_append(b, (uint8_t[]){ (uint8_t)(2 | ch << 3), (uint8_t)(n - 1) },
		  2);
	for (int i = 0; i < n; i++)
		e2e_frame(b, frames[i]);
}

static void e2e_sub(struct sj_buf *b, const char *topic, int sub)
{
	uint8_t n = (uint8_t)strlen(topic), op = 4;

	if (n > 8)
		die("e2e: a topic of more than 8 bytes");
	/* Its length is the byte mod 9, unsubscribing its top bit. */
	fz_append(b, &op, 1);
	op = sub ? n : (uint8_t)(n + 9 * 15);
	fz_append(b, &op, 1);
	fz_append(b, topic, n);
}

static void e2e(void)
{
	static const char *const req[] = {
		SJ_JUPYTER_DELIMITER, "",
		"{\"msg_type\":\"execute_request\"}", "{}", "{}",
		"{\"code\":\"1+1\"}",
	};
	static const char *const reply[] = {
		SJ_JUPYTER_DELIMITER, "", "{\"msg_type\":\"execute_reply\"}",
		"{\"msg_type\":\"execute_request\"}", "{}",
		"{\"status\":\"ok\"}",
	};
	static const char *const busy[] = {
		"kernel.3c1f.status", SJ_JUPYTER_DELIMITER, "",
		"{\"msg_type\":\"status\"}", "{}", "{}",
		"{\"execution_state\":\"busy\"}",
	};
	static const char *const shutdown[] = {
		SJ_JUPYTER_DELIMITER, "", "{\"msg_type\":\"shutdown_reply\"}",
		"{}", "{}", "{\"restart\":false}",
	};
	static const char *const input[] = {
		SJ_JUPYTER_DELIMITER, "", "{\"msg_type\":\"input_request\"}",
		"{}", "{}", "{\"prompt\":\"? \"}",
	};
	static const char *const ping[] = { "ping-3c1f" };
	struct sj_buf b = { 0 };

	/* A session: Identity "sess1", link at once, everything
	 * subscribed, a request and its reply around busy. */
	fz_append(&b, "\5sess1", 6);
	e2e_sub(&b, "", 1);
	e2e_client(&b, SJ_SHELL, 6, req);
	e2e_kernel(&b, SJ_IOPUB, 0, 7, busy);
	e2e_kernel(&b, SJ_SHELL, 0, 6, reply);
	e2e_client(&b, SJ_HB, 1, ping);
	e2e_kernel(&b, SJ_HB, 0, 1, ping);
	put("fuzz_e2e", "session", b.p, b.len);

	/* Before the job starts: requests wait for the link. */
	b.len = 0;
	fz_append(&b, "\x83" "abc", 4);
	e2e_client(&b, SJ_SHELL, 6, req);
	e2e_client(&b, SJ_CONTROL, 6, req);
	e2e_sub(&b, "kernel.", 1);
	fz_append(&b, "\7", 1);	/* the link opens */
	e2e_kernel(&b, SJ_IOPUB, 0, 7, busy);
	e2e_kernel(&b, SJ_SHELL, 0, 6, reply);
	e2e_kernel(&b, SJ_CONTROL, 0, 6, shutdown);
	put("fuzz_e2e", "early", b.p, b.len);

	/* No Identity: the login shim names the sockets; stdin. */
	b.len = 0;
	fz_append(&b, "\0", 1);
	e2e_client(&b, SJ_SHELL, 6, req);
	e2e_kernel(&b, SJ_STDIN, 0, 6, input);
	e2e_client(&b, SJ_STDIN, 6, reply);
	e2e_kernel(&b, SJ_SHELL, 1, 6, reply);	/* to nobody */
	e2e_kernel(&b, SJ_IOPUB, 0, 7, busy);	/* not subscribed */
	put("fuzz_e2e", "no-identity", b.p, b.len);

	/* Big frames both ways, and one written a byte at a time. */
	b.len = 0;
	fz_append(&b, "\2id", 3);
	e2e_sub(&b, "", 1);
	/* The kernel on shell: 3 frames. */
	fz_append(&b, (uint8_t[]){ 0x00, 3 }, 2);
	e2e_frame(&b, SJ_JUPYTER_DELIMITER);
	e2e_big(&b, 1);
	e2e_frame(&b, "{}");
	fz_append(&b, (uint8_t[]){ 0x08, 0x01 }, 2);	/* kernel iopub */
	e2e_frame(&b, "stream");
	e2e_big(&b, 3);
	/* Shell's ends write a byte at a time. */
	fz_append(&b, (uint8_t[]){ 0x05, 0x00 }, 2);
	e2e_client(&b, SJ_SHELL, 6, req);
	e2e_kernel(&b, SJ_SHELL, 0, 6, reply);
	fz_append(&b, "\6", 1);
	put("fuzz_e2e", "big", b.p, b.len);

	/* Subscriptions come and go. */
	b.len = 0;
	fz_append(&b, "\1x", 2);
	e2e_sub(&b, "kernel.3", 0);
	e2e_sub(&b, "kernel.", 1);
	e2e_kernel(&b, SJ_IOPUB, 0, 7, busy);
	e2e_sub(&b, "kernel.", 0);
	e2e_kernel(&b, SJ_IOPUB, 0, 7, busy);
	e2e_sub(&b, "", 1);
	e2e_sub(&b, "k", 1);
	e2e_kernel(&b, SJ_IOPUB, 0, 7, busy);
	put("fuzz_e2e", "subscriptions", b.p, b.len);
	sj_buf_free(&b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	top = argv[1];
	rendezvous();
	relayinfo();
	connfile();
	jsign();
	zmtp();
	standin();
	kernelspec();
	link_seeds();
	e2e();
	return 0;
}
