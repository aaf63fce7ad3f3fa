// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdv_server.h - the login shim's end of the rendezvous (see
 * common/rendezvous/rendezvous.h for the protocol).
 *
 * The port is in srun's argv, which every user can read, so strangers may
 * connect too.  Connections are served side by side from the caller's
 * poll loop, each on a non-blocking socket with RDV_DEADLINE_MS from its
 * accept to bring a whole HELLO (and as long again for our WELCOME to go
 * out); common/rendezvous/rdv_table.h says which one makes room when all slots are
 * taken.  A frame longer than a HELLO can be is refused at its length, and
 * MUNGE is asked only about a frame that arrived whole.
 */
#ifndef SHIM_RDV_SERVER_H
#define SHIM_RDV_SERVER_H

#include <poll.h>

#include "connfile.h"
#include "ratelimit.h"
#include "rdv_table.h"
#include "rendezvous.h"
#include "sj_err.h"

#define RDV_DEADLINE_MS 3000
/* The listening socket and one per slot. */
#define RDV_POLLFDS (1 + SJ_RDV_SLOTS)

struct rdv_conn {
	int fd;
	char peer[64];			/* "[addr]:port", for the log */
	unsigned char hdr[SJ_FRAME_HEADER];
	size_t got;			/* bytes read: header, then body */
	size_t len;			/* body length, once the header is in */
	char *body;			/* len + 1 bytes once the header is in */
	char *out;			/* the WELCOME frame being sent */
	size_t out_len, out_off;
	struct sj_hello hello;		/* the HELLO it answers */
};

struct rdv_server {
	int fd;					/* listening socket */
	struct sj_rdv_spec spec;		/* what srun passes on */
	struct sj_rdv_table table;		/* which conn[] are in use */
	struct rdv_conn conn[SJ_RDV_SLOTS];
	int polled[RDV_POLLFDS];		/* pollfd -> slot (-1: listen) */
	unsigned long long polled_seq[RDV_POLLFDS];
	int npolled;
	struct sj_ratelimit refusals;		/* their lines in the log */
	/* Ours, as the node reached it (numeric; set with the HELLO): the
	 * link connects from it, the one address the node takes it from. */
	char local_addr[64];
};

/* Listens on all addresses, on an ephemeral port; makes the nonce.  r may
 * be passed to rdv_server_close whether this succeeds or not. */
int rdv_server_open(struct rdv_server *r, const char *host,
		    struct sj_err *err);

/* Fills pfd[0..n) (n <= RDV_POLLFDS, returned) with what the server waits
 * for; *timeout_ms is lowered to the nearest deadline. */
int rdv_server_pollfds(struct rdv_server *r, struct pollfd *pfd,
		       int *timeout_ms);

/* After poll() filled the revents of what rdv_server_pollfds gave:
 * reads, refuses (with a rate-limited line in the log), answers, drops
 * the connections past their deadline and accepts new ones.  Returns 1
 * with *hello filled once a genuine HELLO came and its WELCOME went out
 * whole; 0 to keep waiting; -1 when the listening socket itself failed
 * (err says why). */
int rdv_server_serve(struct rdv_server *r, const struct pollfd *pfd,
		     const struct sj_connfile *cf, const char *client_public,
		     const char *transport, struct sj_hello *hello,
		     struct sj_err *err);

/* Closes the listening socket and every connection in progress, and logs
 * the count of refusals not logged yet. */
void rdv_server_close(struct rdv_server *r);

#endif
