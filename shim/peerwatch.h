/*
 * peerwatch.h - notices on the node that the login shim has gone.
 *
 * If srun or the login shim is killed, or the login node fails, nobody
 * tells the node: the step would run on.  The relay's shell socket is
 * monitored; the login shim is "there" while at least one connection that
 * passed the CURVE handshake is up (a port scanner never passes it).  When
 * the last one drops and none comes back within the grace time (ZMQ
 * reconnects by itself after a network blip), the kernel is ended.
 */
#ifndef SHIM_PEERWATCH_H
#define SHIM_PEERWATCH_H

#include "forward.h"
#include "sj_err.h"

#define PEERWATCH_MAX 16

struct peerwatch {
	void *monitor;		/* PAIR connected to the socket's monitor */
	int timer_fd;		/* armed while nobody is connected */
	int grace_s;
	int ever_connected;
	int gone;		/* the grace time ran out */
	int npeers;
	char peers[PEERWATCH_MAX][64];	/* endpoints that passed CURVE */
};

int peerwatch_open(struct peerwatch *pw, void *ctx, void *socket,
		   int grace_s, struct sj_err *err);
/* Watch callbacks: monitor events, and the grace timer (returns 1: stop). */
int peerwatch_on_event(struct sj_fwd_watch *w);
int peerwatch_on_timer(struct sj_fwd_watch *w);
void peerwatch_close(struct peerwatch *pw);

#endif
