// SPDX-License-Identifier: GPL-2.0-or-later
#include "rdv_table.h"

#include <netinet/in.h>
#include <string.h>

#include "netaddr.h"

void sj_rdv_source(const struct sockaddr *sa, socklen_t len,
		   unsigned char key[16])
{
	static const unsigned char loopback[16] = { [15] = 1 };

	/* Any local user can connect from any 127/8 address: one source. */
	if (sj_addr_key(sa, len, key) == 0 && sj_addr_key_loopback(key))
		memcpy(key, loopback, 16);
}

static int same_source(const struct sj_rdv_slot *a,
		       const struct sj_rdv_slot *b)
{
	return memcmp(a->source, b->source, sizeof(a->source)) == 0;
}

/* How many slots that may be pushed out share slot i's source. */
static int source_count(const struct sj_rdv_table *t, int i)
{
	int n = 0;

	for (int j = 0; j < SJ_RDV_SLOTS; j++)
		if (t->slot[j].used && !t->slot[j].keep &&
		    same_source(&t->slot[i], &t->slot[j]))
			n++;
	return n;
}

int sj_rdv_table_pick(const struct sj_rdv_table *t, int *evict)
{
	int best = -1, best_count = 0;

	*evict = 0;
	for (int i = 0; i < SJ_RDV_SLOTS; i++)
		if (!t->slot[i].used)
			return i;
	for (int i = 0; i < SJ_RDV_SLOTS; i++) {
		int n;

		if (t->slot[i].keep)
			continue;
		n = source_count(t, i);
		if (best < 0 || n > best_count ||
		    (n == best_count && t->slot[i].seq < t->slot[best].seq)) {
			best = i;
			best_count = n;
		}
	}
	if (best >= 0)
		*evict = 1;
	return best;
}

void sj_rdv_table_take(struct sj_rdv_table *t, int i,
		       const unsigned char source[16], long long deadline)
{
	struct sj_rdv_slot *s = &t->slot[i];

	s->used = 1;
	s->keep = 0;
	s->seq = t->next_seq++;
	s->deadline = deadline;
	memcpy(s->source, source, sizeof(s->source));
}

void sj_rdv_table_release(struct sj_rdv_table *t, int i)
{
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
}

int sj_rdv_table_expired(const struct sj_rdv_table *t, long long now)
{
	for (int i = 0; i < SJ_RDV_SLOTS; i++)
		if (t->slot[i].used && t->slot[i].deadline <= now)
			return i;
	return -1;
}

int sj_rdv_table_wait_ms(const struct sj_rdv_table *t, long long now,
			 int cap)
{
	long long w = cap;

	for (int i = 0; i < SJ_RDV_SLOTS; i++) {
		long long left;

		if (!t->slot[i].used)
			continue;
		left = t->slot[i].deadline - now;
		if (left < 0)
			left = 0;
		if (left < w)
			w = left;
	}
	return (int)w;
}
