/*
 * zap.h - the node relay's gatekeeper (ZMQ RFC 27, ZAP).
 *
 * libzmq asks this handler about every CURVE handshake on the relay's
 * sockets; only the key the login shim sent in the rendezvous passes.
 */
#ifndef SHIM_ZAP_H
#define SHIM_ZAP_H

#include <stdint.h>

#include "forward.h"
#include "sj_err.h"

struct zap {
	void *socket;
	uint8_t allowed[32];
	unsigned long refused;
};

/* Binds inproc://zeromq.zap.01; call before binding the CURVE sockets. */
int zap_open(struct zap *z, void *ctx, const char *allowed_z85,
	     struct sj_err *err);
/* Answers the waiting requests; a watch callback for the forwarder. */
int zap_on_ready(struct sj_fwd_watch *w);
void zap_close(struct zap *z);

#endif
