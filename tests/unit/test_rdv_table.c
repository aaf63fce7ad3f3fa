// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>

#include "rdv_table.h"
#include "testutil.h"

/* The source key of a peer at text, as accept() on the login shim's dual
 * stack socket reports it (IPv4 as v4-mapped), or as AF_INET (v4 = 1). */
static void key_of(const char *text, int v4, unsigned char key[16])
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	memset(&s6, 0, sizeof(s6));
	memset(&s4, 0, sizeof(s4));
	if (v4) {
		s4.sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4.sin_addr), 1);
		sj_rdv_source((struct sockaddr *)&s4, sizeof(s4), key);
		return;
	}
	s6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, text, &s6.sin6_addr), 1);
	sj_rdv_source((struct sockaddr *)&s6, sizeof(s6), key);
}

static int same(const char *a, int a4, const char *b, int b4)
{
	unsigned char ka[16], kb[16];

	key_of(a, a4, ka);
	key_of(b, b4, kb);
	return memcmp(ka, kb, 16) == 0;
}

static void test_source(void **state)
{
	(void)state;
	/* One host, however it is written. */
	assert_true(same("::ffff:10.77.0.11", 0, "10.77.0.11", 1));
	assert_true(same("fd00::b", 0, "fd00::b", 0));
	assert_false(same("::ffff:10.77.0.11", 0, "::ffff:10.77.0.1", 0));
	assert_false(same("10.77.0.11", 1, "10.77.0.12", 1));
	assert_false(same("fd00::b", 0, "fd00::c", 0));
	assert_false(same("::ffff:10.77.0.11", 0, "::a4d:b", 0));
	/* Any local user may connect from any loopback address: all are
	 * one source. */
	assert_true(same("127.0.0.1", 1, "127.3.4.5", 1));
	assert_true(same("::1", 0, "::ffff:127.0.0.2", 0));
	assert_true(same("::1", 0, "127.255.255.254", 1));
	assert_false(same("::1", 0, "10.77.0.1", 1));
}

/* Takes a slot as a new connection from text would: the slot pick chose.
 * Returns the slot; *evicted: the slot pushed out, or -1. */
static int connect_from(struct sj_rdv_table *t, const char *text,
			long long deadline, int *evicted)
{
	unsigned char key[16];
	int evict, i;

	key_of(text, 1, key);
	i = sj_rdv_table_pick(t, &evict);
	assert_true(i >= 0 && i < SJ_RDV_SLOTS);
	assert_int_equal(t->slot[i].used, evict);
	*evicted = evict ? i : -1;
	sj_rdv_table_take(t, i, key, deadline);
	return i;
}

static void test_fills_free_slots_first(void **state)
{
	struct sj_rdv_table t;
	int ev, seen[SJ_RDV_SLOTS] = { 0 };

	(void)state;
	memset(&t, 0, sizeof(t));
	for (int n = 0; n < SJ_RDV_SLOTS; n++) {
		int i = connect_from(&t, "10.0.0.1", 100, &ev);

		assert_int_equal(ev, -1);
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
	}
	/* A freed slot is taken before anyone is pushed out. */
	sj_rdv_table_release(&t, 7);
	assert_int_equal(connect_from(&t, "10.0.0.1", 100, &ev), 7);
	assert_int_equal(ev, -1);
}

static void test_pushes_out_oldest(void **state)
{
	struct sj_rdv_table t;
	int ev, order[SJ_RDV_SLOTS];

	(void)state;
	memset(&t, 0, sizeof(t));
	for (int n = 0; n < SJ_RDV_SLOTS; n++)
		connect_from(&t, "10.0.0.1", 100, &ev);
	/* Free and retake them in another order than their index. */
	for (int n = 0; n < SJ_RDV_SLOTS; n++) {
		int i = (n * 5 + 3) % SJ_RDV_SLOTS;

		sj_rdv_table_release(&t, i);
		assert_int_equal(connect_from(&t, "10.0.0.1", 100, &ev), i);
		order[n] = i;
	}
	/* One source: the oldest goes first, then the next oldest. */
	for (int n = 0; n < SJ_RDV_SLOTS; n++) {
		assert_int_equal(connect_from(&t, "10.0.0.1", 100, &ev),
				 order[n]);
		assert_int_equal(ev, order[n]);
	}
	/* Two sources of eight each: still the oldest. */
	memset(&t, 0, sizeof(t));
	for (int n = 0; n < SJ_RDV_SLOTS; n++)
		connect_from(&t, n % 2 ? "10.0.0.1" : "10.0.0.2", 100, &ev);
	assert_int_equal(connect_from(&t, "10.0.0.3", 100, &ev), 0);
	assert_int_equal(ev, 0);
}

static void test_flood_spares_other_sources(void **state)
{
	struct sj_rdv_table t;
	int ev, plugin, gone = 0;

	(void)state;
	memset(&t, 0, sizeof(t));
	/* The stranger was there first; the plugin connects, then a
	 * loopback stranger too; then the flood goes on. */
	for (int n = 0; n < SJ_RDV_SLOTS - 3; n++)
		connect_from(&t, "10.77.0.1", 100, &ev);
	plugin = connect_from(&t, "10.77.0.11", 100, &ev);
	connect_from(&t, "127.0.0.1", 100, &ev);
	connect_from(&t, "127.0.0.2", 100, &ev);
	for (int n = 0; n < 10000; n++) {
		connect_from(&t, n % 3 ? "10.77.0.1" : "127.0.0.9", 100, &ev);
		assert_int_not_equal(ev, plugin);
		assert_true(t.slot[plugin].used);
	}
	/* A flood from the plugin's own host pushes it out in its turn, as
	 * the oldest of the biggest source. */
	for (int n = 0; n < SJ_RDV_SLOTS; n++) {
		connect_from(&t, "10.77.0.11", 100, &ev);
		gone += ev == plugin;
	}
	assert_true(gone >= 1);
}

static void test_kept_slots_stay(void **state)
{
	struct sj_rdv_table t;
	int ev, kept;

	(void)state;
	memset(&t, 0, sizeof(t));
	kept = connect_from(&t, "10.0.0.5", 100, &ev);
	t.slot[kept].keep = 1;
	for (int n = 0; n < 100; n++) {
		connect_from(&t, "10.0.0.5", 100, &ev);
		assert_int_not_equal(ev, kept);
	}
	/* A kept slot is no reason to push out its source's others first:
	 * it does not count. */
	memset(&t, 0, sizeof(t));
	for (int n = 0; n < SJ_RDV_SLOTS; n++) {
		int i = connect_from(&t, n < 9 ? "10.0.0.1" : "10.0.0.2", 100,
				     &ev);

		t.slot[i].keep = n < 3;
	}
	/* 10.0.0.1: 6 not kept; 10.0.0.2: 7. */
	assert_int_equal(connect_from(&t, "10.0.0.3", 100, &ev), 9);
	for (int i = 0; i < SJ_RDV_SLOTS; i++)
		t.slot[i].keep = 1;
	assert_int_equal(sj_rdv_table_pick(&t, &ev), -1);
	assert_int_equal(ev, 0);
}

static void test_deadlines(void **state)
{
	struct sj_rdv_table t;
	int ev, a, b;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(sj_rdv_table_expired(&t, LLONG_MAX), -1);
	assert_int_equal(sj_rdv_table_wait_ms(&t, 0, 1000), 1000);
	a = connect_from(&t, "10.0.0.1", 5000, &ev);
	b = connect_from(&t, "10.0.0.1", 3000, &ev);
	assert_int_equal(sj_rdv_table_wait_ms(&t, 0, 1000), 1000);
	assert_int_equal(sj_rdv_table_wait_ms(&t, 0, INT_MAX), 3000);
	assert_int_equal(sj_rdv_table_wait_ms(&t, 2500, INT_MAX), 500);
	assert_int_equal(sj_rdv_table_expired(&t, 2999), -1);
	assert_int_equal(sj_rdv_table_expired(&t, 3000), b);
	assert_int_equal(sj_rdv_table_wait_ms(&t, 3001, INT_MAX), 0);
	sj_rdv_table_release(&t, b);
	assert_int_equal(sj_rdv_table_expired(&t, 3001), -1);
	assert_int_equal(sj_rdv_table_wait_ms(&t, 3001, INT_MAX), 1999);
	assert_int_equal(sj_rdv_table_expired(&t, 99999), a);
	sj_rdv_table_release(&t, a);
	assert_int_equal(sj_rdv_table_wait_ms(&t, 99999, 7), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_fills_free_slots_first),
		cmocka_unit_test(test_pushes_out_oldest),
		cmocka_unit_test(test_flood_spares_other_sources),
		cmocka_unit_test(test_kept_slots_stay),
		cmocka_unit_test(test_deadlines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
