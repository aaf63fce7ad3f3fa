// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel bytes through both shims: a fake kernel (ZMTP 3, a ROUTER on
 * shell, control, stdin and hb, a PUB on iopub) <-> the node shim's
 * forwarding (forward.c over zmtp.c) <-> the link (link.c: Noise KK with
 * fixed static keys, real records, Rekey every REKEY_EVERY messages) <->
 * the login shim's forwarding (forward.c over zfront.c) <-> a fake
 * Jupyter client (a DEALER with an Identity on each of the four, a SUB on
 * iopub).  One process and one thread: each round writes what the fake
 * ends have queued (in pieces the input picks), then does one turn of
 * each shim's loop as sj_forward_run would (link, local side, flushes;
 * not the holds of backpressure: nothing here queues the 8 MiB they start
 * at), then reads what reached the fake ends.
 *
 * The input is a list of operations (see op()): the kernel sends a
 * message on a channel, the client sends one, the client subscribes or
 * unsubscribes, the pipeline settles, the fake ends change how much they
 * write at once, the login shim opens its link (until then the client's
 * messages wait in its backlog, as before a job starts).  Frames come
 * from the input: how many, their bytes, and big ones (over a Noise
 * message, over SJ_ZMTP_STREAM_MIN: sent on in parts) filled from it.
 *
 * At the end each channel's messages, in each direction, must have
 * arrived frame for frame as sent, in order, except what the protocol
 * drops, which the harness defines here and expects dropped:
 *  - iopub: a message goes to the client if one of its subscriptions is
 *    a prefix of its first frame at the time (subscriptions change only
 *    once everything has settled);
 *  - a reply whose routing id is no client's, or with nothing after the
 *    routing id, goes nowhere;
 *  - toward the kernel, iopub carries only subscriptions: each new one
 *    once, none after the empty one (everything), unsubscriptions never.
 * The kernel's ephemeral keys are random (link.c makes them), so the
 * ciphertexts differ from run to run; nothing else does. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "forward.h"
#include "fuzzbuf.h"
#include "zend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NONCE "00112233445566778899aabbccddeeff"
#define NODE_NONCE "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define REKEY_EVERY 2
/* A big frame: over one Noise message (64 KiB) and SJ_ZMTP_STREAM_MIN. */
#define BIG_MIN (SJ_ZMTP_STREAM_MIN + 1)
#define BIGS_PER_INPUT 2
#define SUBS_PER_CLIENT 32	/* zfront.c's SUBS_PER_PEER */
#define TOPIC_MAX 8
/* Operations taken from one input: more only slow every run down. */
#define OPS_MAX 64
/* Rounds without progress before the pipeline is called stuck. */
#define ROUNDS_MAX 200000

enum { TO_KERNEL, TO_CLIENT };

static struct sj_link_keys node_keys, login_keys;
static char kernel_ep[SJ_NCHANNELS][128], front_ep[SJ_NCHANNELS][128];
static int kernel_listen[SJ_NCHANNELS];
static int link_listen = -1, link_port;

static struct sj_channels node, login;
static struct zend kernel[SJ_NCHANNELS], client[SJ_NCHANNELS];
static struct sj_buf expect[SJ_NCHANNELS][2];
static uint8_t rid[SJ_NCHANNELS][SJ_ZMTP_RID_MAX];
static size_t rid_len[SJ_NCHANNELS];
static int identity;	/* the client names itself (else zfront does) */
static int known;	/* rid[] read from the login shim */

/* The client's subscriptions, and what the node shim has sent on. */
static uint8_t topics[SUBS_PER_CLIENT][TOPIC_MAX];
static size_t topic_len[SUBS_PER_CLIENT];
static int ntopics;
static struct sj_buf node_subs;	/* each: a length byte, the topic */
static int node_nsubs, node_subs_all;

/* Bytes for the big frames: no two of its 64 KiB windows alike. */
#define PATTERN_BYTES (BIG_MIN + 16 * 1024 + 256)
static uint8_t pattern[PATTERN_BYTES];

static char notes[8][160];
static unsigned nnotes;

static void fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz_e2e: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	for (unsigned i = nnotes > 8 ? nnotes - 8 : 0; i < nnotes; i++)
		fprintf(stderr, "  shim said: %s\n", notes[i % 8]);
	abort();
}

static void noted(void *arg, int debug, const char *msg)
{
	(void)arg;
	(void)debug;
	snprintf(notes[nnotes++ % 8], sizeof(notes[0]), "%s", msg);
}

/* ------------------------------------------------------- the input */

struct input {
	const uint8_t *p;
	size_t n;
	int bigs;
};

static uint8_t take(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* ------------------------------------------------------ the fake ends */

/* Reads what reached a fake end.  A peer closing on it is a finding:
 * nothing here is anything to drop a connection for. */
static void end_read(struct zend *e, const char *who, int ch)
{
	int r = zend_read(e);

	if (r == -1)
		fail("the %s's %s connection was closed on it (%s)", who,
		     sj_channel_name(ch), errno ? strerror(errno) : "EOF");
	if (r == -2)
		fail("the %s's %s peer sent no ZMTP 3 greeting", who,
		     sj_channel_name(ch));
}

static int end_write(struct zend *e)
{
	int r = zend_write(e);

	if (r < 0)
		fail("writing a fake end: %s", strerror(errno));
	return r;
}

/* ------------------------------------------------------ the two shims */

static void must(int r, const char *what, const struct sj_err *err)
{
	if (r != 0)
		fail("%s: %s", what, err->msg);
}

/* One turn of a shim's loop, as loop_round in forward_loop.c takes it
 * (the login shim before its link: sj_channels_serve_early). */
static void step(struct sj_channels *c)
{
	struct sj_err err = { "" };

	if (!c->link_open) {
		must(sj_channels_serve_early(c, &err), "serve_early", &err);
		return;
	}
	must(sj_evloop_wait(&c->loop, 0, &err) < 0, "wait", &err);
	must(sj_evloop_dispatch(&c->loop, SJ_EV_OWNER_LINK, &err), "link",
	     &err);
	must(sj_evloop_dispatch(&c->loop, c->front != NULL ?
				SJ_EV_OWNER_LISTENER : SJ_EV_OWNER_KERNEL,
				&err), c->front != NULL ? "zfront" : "zmtp",
	     &err);
	must(sj_link_flush(&c->link, &err), "link flush", &err);
	if (c->front != NULL)
		sj_zfront_flush(c->front);
	else
		sj_zmtp_flush(c->kernel);
}

/* One round: the fake ends write, each shim takes a turn, the fake ends
 * read.  Returns whether anything is still to do: bytes written or read,
 * or an fd of a shim with an event waiting (a socket's, a timer's). */
static int round_once(void)
{
	struct pollfd p[4 + 2 * SJ_NCHANNELS] = {
		{ .fd = node.loop.epfd, .events = POLLIN },
		{ .fd = -1 },
		{ .fd = login.loop.epfd, .events = POLLIN },
		{ .fd = -1 },
	};
	int moved = 0, n;

	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		moved |= end_write(&kernel[ch]) | end_write(&client[ch]);
	step(&node);
	step(&login);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		p[4 + 2 * ch] = (struct pollfd){ .fd = kernel[ch].fd,
						  .events = POLLIN };
		p[5 + 2 * ch] = (struct pollfd){ .fd = client[ch].fd,
						  .events = POLLIN };
	}
	n = poll(p, 4 + 2 * SJ_NCHANNELS, 0);
	if (n < 0 && errno == EINTR)
		return 1;	/* libFuzzer's timer: look again */
	if (n < 0)
		fail("poll: %s", strerror(errno));
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		if (p[4 + 2 * ch].revents)
			end_read(&kernel[ch], "kernel", ch);
		if (p[5 + 2 * ch].revents)
			end_read(&client[ch], "client", ch);
		moved |= zend_pending(&kernel[ch]) | zend_pending(&client[ch]);
	}
	return moved || n > 0;
}

/* Rounds until nothing is left to do. */
static void settle(void)
{
	for (long r = 0; round_once(); r++)
		if (r == ROUNDS_MAX)
			fail("the shims did not settle in %d rounds",
			     ROUNDS_MAX);
}

static void open_link(void)
{
	struct sj_err err = { "" };

	if (login.link_open)
		return;
	must(sj_channels_link_client(&login, "127.0.0.1", link_port, NULL,
				     &login_keys, noted, NULL, &err),
	     "link client", &err);
	login.link.rekey_every = REKEY_EVERY;
}

/* The routing ids the login shim gave the client's sockets (their
 * Identity if it has one), once they are open. */
static void learn_rids(void)
{
	if (known)
		return;
	open_link();
	settle();
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		struct sj_zfront_peer *p = NULL;

		if (ch == SJ_IOPUB)
			continue;
		for (int i = 0; i < SJ_ZFRONT_MAX_PEERS && p == NULL; i++)
			p = login.front->peer[ch][i];
		if (p == NULL || p->state != SJ_ZMTP_OPEN)
			fail("the client's %s socket is not open",
			     sj_channel_name(ch));
		memcpy(rid[ch], p->rid, p->rid_len);
		rid_len[ch] = p->rid_len;
	}
	if (node.link.live == NULL || node.link.live->state != SJ_CONN_LIVE ||
	    login.link.live == NULL || login.link.live->state != SJ_CONN_LIVE)
		fail("the link did not come up");
	known = 1;
}

/* ------------------------------------------------------------ messages */

/* A frame's bytes from the input: up to 63 of its bytes as they are, or
 * up to 1 KiB, or (at most BIGS_PER_INPUT times) a big one of 64 to 80
 * KiB, taken from the pattern where one byte of it says. */
static void frame_bytes(struct input *in, struct sj_buf *f)
{
	uint8_t s = take(in), v;
	size_t n;

	f->len = 0;
	if (s < 0xc0) {
		n = s & 63;
		for (size_t i = 0; i < n; i++) {
			v = take(in);
			fz_append(f, &v, 1);
		}
		return;
	}
	if (s < 0xf0 || in->bigs == BIGS_PER_INPUT) {
		n = (size_t)(s & 15) * 64 + take(in);
	} else {
		in->bigs++;
		n = BIG_MIN + (size_t)(s & 15) * 1024 + take(in);
	}
	fz_append(f, pattern + take(in), n);
}

/* One message written by a fake end: first (a routing id or a topic;
 * none if first_len is SIZE_MAX), then nframes frames from the input,
 * ZMTP-framed onto e->out and, in the harness's layout, onto *exp (NULL:
 * expected nowhere).  skip: exp does not get the first frame (a routing
 * id the login shim takes off). */
static void message(struct input *in, struct zend *e, const uint8_t *first,
		    size_t first_len, int nframes, struct sj_buf *exp,
		    int skip)
{
	struct sj_buf f = { 0 }, m = { 0 };
	int total = nframes + (first_len != SIZE_MAX), k = 0;

	if (first_len != SIZE_MAX) {
		zend_frame(e, total > 1 ? 1 : 0, first, first_len);
		if (!skip)
			fz_frame(&m, first, first_len);
		k = 1;
	}
	for (; k < total; k++) {
		frame_bytes(in, &f);
		zend_frame(e, k + 1 < total ? 1 : 0, f.p, f.len);
		fz_frame(&m, f.p, f.len);
	}
	if (exp != NULL) {
		fz_append_be32(exp, (size_t)(total - skip));
		fz_append(exp, m.p, m.len);
	}
	sj_buf_free(&f);
	sj_buf_free(&m);
}

static int subscribed(const uint8_t *topic, size_t n)
{
	for (int i = 0; i < ntopics; i++)
		if (topic_len[i] <= n &&
		    (topic_len[i] == 0 ||
		     memcmp(topics[i], topic, topic_len[i]) == 0))
			return 1;
	return 0;
}

/* The kernel's message on ch: to the client with the routing id it
 * names (or none, then dropped), on iopub to the client if subscribed. */
static void from_kernel(struct input *in, int ch)
{
	uint8_t b = take(in), wrong[SJ_ZMTP_RID_MAX + 1];
	int nframes = b & 7;
	struct sj_buf f = { 0 };

	learn_rids();
	if (ch == SJ_IOPUB) {
		frame_bytes(in, &f);	/* the topic */
		message(in, &kernel[ch], f.p, f.len, nframes,
			subscribed(f.p, f.len) ? &expect[ch][TO_CLIENT] : NULL,
			0);
		sj_buf_free(&f);
		return;
	}
	if (b & 8) {	/* a routing id no client has */
		memcpy(wrong, rid[ch], rid_len[ch]);
		wrong[rid_len[ch]] = '?';
		message(in, &kernel[ch], wrong, rid_len[ch] + 1, nframes, NULL,
			0);
		return;
	}
	message(in, &kernel[ch], rid[ch], rid_len[ch], nframes,
		nframes > 0 ? &expect[ch][TO_CLIENT] : NULL, 1);
}

/* The client's request on ch: to the kernel after its routing id. */
static void from_client(struct input *in, int ch)
{
	struct sj_buf m = { 0 }, *exp = &expect[ch][TO_KERNEL];

	/* The login shim names a socket without an Identity only once it
	 * is open. */
	if (!identity)
		learn_rids();
	message(in, &client[ch], NULL, SIZE_MAX, 1 + (take(in) & 7), &m, 0);
	/* The kernel gets the routing id first: one more frame. */
	fz_append_be32(exp, sj_get_be32(m.p) + 1);
	fz_frame(exp, rid[ch], rid_len[ch]);
	fz_append(exp, m.p + 4, m.len - 4);
	sj_buf_free(&m);
}

/* The node shim passes each new subscription on once, none after the
 * empty one, and past SJ_ZMTP_SUBS_MAX the empty one instead. */
static void node_subscribes(const uint8_t *topic, size_t n)
{
	struct sj_buf *exp = &expect[SJ_IOPUB][TO_KERNEL], sub = { 0 };
	uint8_t one = 1;

	if (node_subs_all)
		return;
	for (size_t i = 0; i < node_subs.len; i += 1 + node_subs.p[i])
		if (node_subs.p[i] == n && memcmp(node_subs.p + i + 1, topic,
						  n) == 0)
			return;
	if (node_nsubs == SJ_ZMTP_SUBS_MAX)
		n = 0;
	fz_append(&node_subs, (uint8_t[]){ (uint8_t)n }, 1);
	fz_append(&node_subs, topic, n);
	node_nsubs++;
	node_subs_all = n == 0;
	fz_append(&sub, &one, 1);
	fz_append(&sub, topic, n);
	fz_append_be32(exp, 1);
	fz_frame(exp, sub.p, sub.len);
	sj_buf_free(&sub);
}

/* The client (un)subscribes, between two settled states. */
static void subscription(struct input *in)
{
	uint8_t b = take(in), t[TOPIC_MAX], m[1 + TOPIC_MAX];
	size_t n = b % (TOPIC_MAX + 1);
	int at = -1, sub = !(b & 0x80);

	for (size_t i = 0; i < n; i++)
		t[i] = take(in);
	for (int i = 0; i < ntopics; i++)
		if (topic_len[i] == n && memcmp(topics[i], t, n) == 0)
			at = i;
	if (sub && at < 0 && ntopics == SUBS_PER_CLIENT)
		return;		/* one more would drop the client */
	settle();
	m[0] = (uint8_t)sub;
	memcpy(m + 1, t, n);
	zend_frame(&client[SJ_IOPUB], 0, m, 1 + n);
	if (sub && at < 0) {
		memcpy(topics[ntopics], t, n);
		topic_len[ntopics++] = n;
		node_subscribes(t, n);
	} else if (!sub && at >= 0) {
		ntopics--;
		memcpy(topics[at], topics[ntopics], TOPIC_MAX);
		topic_len[at] = topic_len[ntopics];
	}
	settle();
}

static const size_t chunks[8] = { 1, 3, 17, 64, 255, 4096, 65536,
				  SIZE_MAX };

static void op(struct input *in)
{
	uint8_t b = take(in);
	int ch = (b >> 3) % SJ_NCHANNELS;

	switch (b & 7) {
	case 0:
	case 1:
		from_kernel(in, ch);
		break;
	case 2:
	case 3:
		from_client(in, ch == SJ_IOPUB ? SJ_SHELL : ch);
		break;
	case 4:
		subscription(in);
		break;
	case 5:
		kernel[ch].chunk = chunks[(b >> 5) & 7];
		client[ch].chunk = chunks[take(in) & 7];
		break;
	case 6:
		settle();
		break;
	default:
		open_link();
		break;
	}
	/* Some of it on its way, in pieces, before the next. */
	for (int i = 0; i < ((b >> 5) & 3); i++)
		(void)round_once();
}

/* ------------------------------------------------------- setting up */

static void die_errno(const char *what)
{
	fail("%s: %s", what, strerror(errno));
}

static void keys(void)
{
	uint8_t login_secret[32] = { 0x11, 0x22, 0x33 };
	uint8_t node_secret[32] = { 0x66, 0x77, 0x88 };
	struct sj_err err = { "" };

	if (sodium_init() < 0)
		fail("sodium_init");
	memcpy(login_keys.self_secret, login_secret, 32);
	memcpy(node_keys.self_secret, node_secret, 32);
	if (crypto_scalarmult_base(login_keys.self_public, login_secret) ||
	    crypto_scalarmult_base(node_keys.self_public, node_secret))
		fail("crypto_scalarmult_base");
	memcpy(login_keys.peer_public, node_keys.self_public, 32);
	memcpy(node_keys.peer_public, login_keys.self_public, 32);
	must(sj_link_bind(&login_keys, NONCE, NODE_NONCE, 7, 0, &err), "bind",
	     &err);
	must(sj_link_bind(&node_keys, NONCE, NODE_NONCE, 7, 0, &err), "bind",
	     &err);
}

static char *tmp_dir;

/* At exit: the kernel's socket files and their directory (the login
 * shim's are gone with it, each run). */
static void remove_dir(void)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		(void)unlink(kernel_ep[ch] + 6);
	(void)rmdir(tmp_dir);
}

/* Once: the keys, the kernel's five sockets (ipc, in a directory of
 * our own: on tmpfs if there is one, as the login shim binds five socket
 * files on every run) and the link's listening port on loopback. */
static void setup_once(void)
{
	static char shm[] = "/dev/shm/fuzz-e2e-XXXXXX";
	static char tmp[] = "/tmp/fuzz-e2e-XXXXXX";
	char *dir = mkdtemp(shm);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8) + (i >> 16));
	keys();
	if (dir == NULL && (dir = mkdtemp(tmp)) == NULL)
		die_errno("mkdtemp");
	tmp_dir = dir;
	if (atexit(remove_dir))
		fail("atexit");
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };

		snprintf(kernel_ep[ch], sizeof(kernel_ep[ch]), "ipc://%s/k%d",
			 dir, ch);
		snprintf(front_ep[ch], sizeof(front_ep[ch]), "ipc://%s/f%d",
			 dir, ch);
		snprintf(un.sun_path, sizeof(un.sun_path), "%s",
			 kernel_ep[ch] + 6);
		kernel_listen[ch] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (kernel_listen[ch] < 0 ||
		    bind(kernel_listen[ch], (struct sockaddr *)&un,
			 sizeof(un)) || listen(kernel_listen[ch], 4))
			die_errno("the kernel's socket");
	}
	link_listen = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (link_listen < 0 ||
	    bind(link_listen, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(link_listen, 4) ||
	    getsockname(link_listen, (struct sockaddr *)&sin, &sl))
		die_errno("the link's socket");
	link_port = ntohs(sin.sin_port);
}

/* Both shims, the kernel's ends accepted and the client's connected:
 * nothing has moved yet. */
static void setup(const uint8_t *id, size_t id_len)
{
	struct sj_endpoints ke, fe;
	struct sj_zfront_auth auth = { .owner = getuid(), .key = "",
				       .scheme = "" };
	struct sj_err err = { "" };
	int lfd = dup(link_listen);

	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		ke.endpoint[ch] = kernel_ep[ch];
		fe.endpoint[ch] = front_ep[ch];
	}
	must(sj_channels_open_kernel(&node, &ke, noted, NULL, &err),
	     "the node shim's kernel side", &err);
	if (lfd < 0)
		die_errno("dup");
	must(sj_channels_link_server(&node, lfd, 30, NULL, &node_keys, noted,
				     NULL, &err), "link server", &err);
	node.link.rekey_every = REKEY_EVERY;
	must(sj_channels_open_jupyter(&login, &fe, &auth, noted, NULL, &err),
	     "the login shim's Jupyter side", &err);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0), kfd;

		snprintf(un.sun_path, sizeof(un.sun_path), "%s",
			 front_ep[ch] + 6);
		if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un)))
			die_errno("the client's connect");
		do	/* connected already: only a signal can hold it up */
			kfd = accept(kernel_listen[ch], NULL, NULL);
		while (kfd < 0 && errno == EINTR);
		if (zend_init(&client[ch], fd) || zend_init(&kernel[ch], kfd))
			die_errno("a fake end's socket");
		zend_hello(&kernel[ch], ch == SJ_IOPUB ? "PUB" : "ROUTER",
			   NULL, 0);
		zend_hello(&client[ch], ch == SJ_IOPUB ? "SUB" : "DEALER", id,
			   id_len);
		if (id_len > 0) {
			memcpy(rid[ch], id, id_len);
			rid_len[ch] = id_len;
		}
	}
}

/* Both shims closed; the link's sockets with a reset, so that loopback
 * is not left full of TIME_WAIT after millions of runs. */
static void teardown(void)
{
	struct linger now = { .l_onoff = 1, .l_linger = 0 };
	struct sj_link *links[2] = { &node.link, &login.link };

	for (int i = 0; i < 2; i++)
		if (links[i]->live != NULL &&
		    setsockopt(links[i]->live->fd, SOL_SOCKET, SO_LINGER,
			       &now, sizeof(now)))
			die_errno("SO_LINGER");
	sj_channels_close(&login, 0);
	sj_channels_close(&node, 0);
	for (int ch = 0; ch < SJ_NCHANNELS; ch++) {
		zend_free(&kernel[ch]);
		zend_free(&client[ch]);
		sj_buf_free(&expect[ch][TO_KERNEL]);
		sj_buf_free(&expect[ch][TO_CLIENT]);
	}
	sj_buf_free(&node_subs);
	node_nsubs = node_subs_all = ntopics = known = 0;
	nnotes = 0;
}

/* What arrived against what was sent, channel by channel (and, with
 * FUZZ_E2E_SHOW set, how much, to see what an input does). */
static void compare(void)
{
	for (int ch = 0; ch < SJ_NCHANNELS; ch++)
		for (int dir = 0; dir < 2; dir++) {
			const struct sj_buf *x = &expect[ch][dir];
			const struct sj_buf *g = dir == TO_KERNEL ?
						 &kernel[ch].got :
						 &client[ch].got;
			size_t i = 0;

			if (getenv("FUZZ_E2E_SHOW") != NULL)
				fprintf(stderr, "%s toward the %s: %zu bytes\n",
					sj_channel_name(ch), dir == TO_KERNEL ?
					"kernel" : "client", g->len);
			if (x->len == g->len &&
			    (x->len == 0 || memcmp(x->p, g->p, x->len) == 0))
				continue;
			while (i < x->len && i < g->len && x->p[i] == g->p[i])
				i++;
			if (i < x->len || i < g->len)
				fail("%s, toward the %s: %zu bytes expected, "
				     "%zu arrived, first difference at %zu",
				     sj_channel_name(ch),
				     dir == TO_KERNEL ? "kernel" : "client",
				     x->len, g->len, i);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .p = data, .n = size };
	uint8_t id[16], b;
	size_t id_len;

	if (link_listen < 0)
		setup_once();
	/* The client's Identity: none (the login shim names its sockets)
	 * or up to 15 bytes, not starting with 0 (ZeroMQ's own ids). */
	b = take(&in);
	id_len = b & 15;
	for (size_t i = 0; i < id_len; i++)
		id[i] = take(&in) | 1;
	identity = id_len > 0;
	setup(id, id_len);
	if (!(b & 0x80))
		open_link();	/* else: as before the job started */
	for (int i = 0; i < OPS_MAX && in.n > 0; i++)
		op(&in);
	open_link();
	settle();
	compare();
	teardown();
	return 0;
}
