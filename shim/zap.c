#include "zap.h"

#include <string.h>
#include <zmq.h>

#include "curvekey.h"
#include "forward.h"
#include "log.h"

int zap_open(struct zap *z, void *ctx, const char *allowed_z85,
	     struct sj_err *err)
{
	memset(z, 0, sizeof(*z));
	if (sj_z85_decode(allowed_z85, z->allowed, sizeof(z->allowed)) != 0)
		return sj_err_set(err, "client key is not a Z85 CURVE key");
	z->socket = zmq_socket(ctx, ZMQ_REP);
	if (z->socket == NULL)
		return sj_err_set(err, "zap socket: %s",
				  zmq_strerror(zmq_errno()));
	if (zmq_bind(z->socket, "inproc://zeromq.zap.01") != 0)
		return sj_err_set(err, "zap bind: %s",
				  zmq_strerror(zmq_errno()));
	return 0;
}

/* Request frames: version, request id, domain, address, identity,
 * mechanism, then the mechanism's credentials (CURVE: the client key). */
#define ZAP_FRAMES 7

static int answer(struct zap *z)
{
	zmq_msg_t f[ZAP_FRAMES + 1];
	int n = 0, more = 1, ok = 0, rv = -1;
	size_t ml = sizeof(more);
	char peer[64] = "?";

	while (more) {
		zmq_msg_t m;

		if (zmq_msg_init(&m) != 0)
			goto out;
		if (zmq_msg_recv(&m, z->socket, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
			zmq_msg_close(&m);
			if (n == 0 && zmq_errno() == EAGAIN)
				return 0;
			goto out;
		}
		if (zmq_getsockopt(z->socket, ZMQ_RCVMORE, &more, &ml) != 0)
			more = 0;
		if (n < ZAP_FRAMES + 1)
			f[n++] = m;
		else
			zmq_msg_close(&m);
	}
	if (n == ZAP_FRAMES &&
	    zmq_msg_size(&f[5]) == 5 &&
	    memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&f[6]) == sizeof(z->allowed) &&
	    memcmp(zmq_msg_data(&f[6]), z->allowed, sizeof(z->allowed)) == 0)
		ok = 1;
	if (n > 3 && zmq_msg_size(&f[3]) < sizeof(peer)) {
		memcpy(peer, zmq_msg_data(&f[3]), zmq_msg_size(&f[3]));
		peer[zmq_msg_size(&f[3])] = '\0';
	}
	if (!ok) {
		z->refused++;
		shim_error("relay: refused a connection from %s (not the "
			   "login shim's CURVE key)", peer);
	}

	/* Reply: version, request id, status code, text, user id, metadata */
	const char *code = ok ? "200" : "400";
	const char *text = ok ? "OK" : "unknown client key";
	if (n < 2 ||
	    zmq_send(z->socket, "1.0", 3, ZMQ_SNDMORE) < 0 ||
	    zmq_send(z->socket, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
		     ZMQ_SNDMORE) < 0 ||
	    zmq_send(z->socket, code, 3, ZMQ_SNDMORE) < 0 ||
	    zmq_send(z->socket, text, strlen(text), ZMQ_SNDMORE) < 0 ||
	    zmq_send(z->socket, "", 0, ZMQ_SNDMORE) < 0 ||
	    zmq_send(z->socket, "", 0, 0) < 0)
		goto out;
	rv = 1;
out:
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
	return rv;
}

int zap_on_ready(struct sj_fwd_watch *w)
{
	struct zap *z = w->arg;
	int r;

	while ((r = answer(z)) > 0)
		;
	return r < 0 ? -1 : 0;
}

void zap_close(struct zap *z)
{
	if (z->socket != NULL)
		zmq_close(z->socket);
	z->socket = NULL;
}
