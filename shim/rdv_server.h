/*
 * rdv_server.h - the login shim's end of the rendezvous (see
 * common/rendezvous.h for the protocol).
 */
#ifndef SHIM_RDV_SERVER_H
#define SHIM_RDV_SERVER_H

#include "connfile.h"
#include "rendezvous.h"
#include "sj_err.h"

struct rdv_server {
	int fd;					/* listening socket */
	struct sj_rdv_spec spec;		/* what srun passes on */
};

/* Listens on all addresses, on an ephemeral port; makes the nonce. */
int rdv_server_open(struct rdv_server *r, const char *host,
		    struct sj_err *err);

/* Accepts one connection and runs the exchange.  Returns 0 with *hello
 * filled when a genuine HELLO arrived and the WELCOME went out; -1 when
 * this connection was refused (err says why; keep listening). */
int rdv_server_exchange(struct rdv_server *r, const struct sj_connfile *cf,
			const char *client_public, const char *transport,
			struct sj_hello *hello, struct sj_err *err);

void rdv_server_close(struct rdv_server *r);

#endif
