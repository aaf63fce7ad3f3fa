// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdv_table.h - the login shim's rendezvous connections in progress, as a
 * small fixed table without I/O (the sockets are shim/rdv_server.c's).
 *
 * Anyone who reads srun's argv knows the rendezvous port, so a stranger
 * can connect and say nothing.  Each connection therefore gets a deadline
 * from its accept, and the table has a fixed number of slots: when they
 * are all taken, a new connection pushes out the oldest one of the source
 * address that holds the most slots.  A stranger who floods from one host
 * thus pushes out only his own connections, never the plugin's from
 * another host; all loopback addresses count as one source, since any
 * local user may connect from any of 127.0.0.0/8.
 */
#ifndef SJ_RDV_TABLE_H
#define SJ_RDV_TABLE_H

#include <stddef.h>
#include <sys/socket.h>

#define SJ_RDV_SLOTS 16

struct sj_rdv_slot {
	int used;
	int keep;			/* never pushed out (being answered) */
	unsigned long long seq;		/* accept order: lower is older */
	long long deadline;		/* monotonic ms */
	unsigned char source[16];	/* sj_rdv_source() of the peer */
};

struct sj_rdv_table {
	struct sj_rdv_slot slot[SJ_RDV_SLOTS];
	unsigned long long next_seq;
};

/* The peer's source key: its IPv6 address (IPv4 as v4-mapped), all of
 * loopback one key.  Other families and short addresses all map to one
 * key of their own. */
void sj_rdv_source(const struct sockaddr *sa, socklen_t len,
		   unsigned char key[16]);

/* The slot for a new connection: a free one (*evict = 0), else the one to
 * push out first (*evict = 1): the oldest among those not kept of the
 * source holding the most such slots.  -1 when every slot is kept. */
int sj_rdv_table_pick(const struct sj_rdv_table *t, int *evict);

/* Marks slot i used by a connection from source, due at deadline. */
void sj_rdv_table_take(struct sj_rdv_table *t, int i,
		       const unsigned char source[16], long long deadline);

void sj_rdv_table_release(struct sj_rdv_table *t, int i);

/* A used slot whose deadline is at or before now, or -1. */
int sj_rdv_table_expired(const struct sj_rdv_table *t, long long now);

/* Milliseconds from now to the nearest deadline (0 if one has passed),
 * at most cap; cap when no slot is used. */
int sj_rdv_table_wait_ms(const struct sj_rdv_table *t, long long now,
			 int cap);

#endif
