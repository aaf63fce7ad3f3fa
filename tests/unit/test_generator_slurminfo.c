// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading scontrol's and sacctmgr's answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "slurminfo.h"
#include "testutil.h"

/* As Slurm 22.05 prints them (scontrol --all --oneliner show partition),
 * shortened. */
static const char partitions[] =
	"PartitionName=debug AllowGroups=ALL Default=YES QoS=N/A "
	"DefaultTime=NONE MaxNodes=UNLIMITED MaxTime=01:00:00 MinNodes=0 "
	"Nodes=n[1-3] State=UP TotalCPUs=96 TotalNodes=3\n"
	"PartitionName=short AllowGroups=ALL Default=NO MaxNodes=2 "
	"MaxTime=00:05:00 State=UP TotalNodes=3\n"
	"PartitionName=long Default=NO MaxNodes=UNLIMITED "
	"MaxTime=7-00:00:00 State=DOWN TotalNodes=40\n"
	"PartitionName=free Default=NO MaxTime=UNLIMITED State=UP\n";

static void test_partitions(void **state)
{
	struct sj_err err = { "" };
	struct gen_partitions p;
	const struct gen_partition *d;
	char names[128];

	(void)state;
	assert_int_equal(gen_partitions_parse(partitions, &p, &err), 0);
	assert_int_equal(p.n, 4);
	d = gen_partition_default(&p);
	assert_non_null(d);
	assert_string_equal(d->name, "debug");
	assert_int_equal(d->max_minutes, 60);
	assert_int_equal(d->max_nodes, 3);
	assert_string_equal(d->state, "UP");
	d = gen_partition_find(&p, "short");
	assert_non_null(d);
	assert_false(d->is_default);
	assert_int_equal(d->max_minutes, 5);
	assert_int_equal(d->max_nodes, 2);
	d = gen_partition_find(&p, "long");
	assert_int_equal(d->max_minutes, 7 * 1440);
	assert_int_equal(d->max_nodes, 40);
	assert_string_equal(d->state, "DOWN");
	d = gen_partition_find(&p, "free");
	assert_int_equal(d->max_minutes, GEN_UNLIMITED);
	assert_int_equal(d->max_nodes, GEN_UNLIMITED);
	assert_null(gen_partition_find(&p, "nope"));
	assert_null(gen_partition_find(&p, "debu"));
	gen_partition_names(&p, names, sizeof(names));
	assert_string_equal(names, "debug, short, long, free");
	gen_partitions_free(&p);
}

static void test_no_default_and_empty(void **state)
{
	struct sj_err err = { "" };
	struct gen_partitions p;

	(void)state;
	assert_int_equal(gen_partitions_parse("", &p, &err), 0);
	assert_int_equal(p.n, 0);
	assert_null(gen_partition_default(&p));
	gen_partitions_free(&p);
	assert_int_equal(gen_partitions_parse(
		"PartitionName=a MaxTime=5\nno partition here\n", &p, &err),
		0);
	assert_int_equal(p.n, 1);
	assert_null(gen_partition_default(&p));
	gen_partitions_free(&p);
}

static void test_bad_partition_lines(void **state)
{
	struct sj_err err = { "" };
	struct gen_partitions p;

	(void)state;
	assert_int_equal(gen_partitions_parse(
		"PartitionName=a MaxTime=soon\n", &p, &err), -1);
	assert_non_null(strstr(err.msg, "partition a: cannot read "
			       "MaxTime=soon"));
	assert_int_equal(gen_partitions_parse(
		"PartitionName= MaxTime=5\n", &p, &err), -1);
	assert_non_null(strstr(err.msg, "without a name"));
}

static void test_record_field(void **state)
{
	char v[16];

	(void)state;
	/* Whole keys only: "Name" is not the end of "PartitionName". */
	assert_int_equal(gen_record_field("PartitionName=x Name=y", "Name", v,
					  sizeof(v)), 1);
	assert_string_equal(v, "y");
	assert_int_equal(gen_record_field("JobState=RUNNING Reason=None",
					  "JobState", v, sizeof(v)), 1);
	assert_string_equal(v, "RUNNING");
	assert_int_equal(gen_record_field("A=1", "B", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(gen_record_field("A=0123456789abcdefghij", "A", v,
					  sizeof(v)), 0);
}

static const char config[] =
	"Configuration data as of 2026-01-01T00:00:00\n"
	"AccountingStorageBackupHost = (null)\n"
	"AccountingStorageEnforce = none\n"
	"AccountingStorageType   = accounting_storage/none\n"
	"AccountingStorageUser   = root\n"
	"MessageTimeout          = 10 sec\n";

static void test_config_value(void **state)
{
	static const struct {
		const char *key, *want;		/* want NULL: not found */
	} cases[] = {
		{ "AccountingStorageType", "accounting_storage/none" },
		{ "MessageTimeout", "10 sec" },
		{ "AccountingStorage", NULL },	/* a prefix of a key */
		{ "Nope", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char v[64] = "";
		int found = gen_config_value(config, cases[i].key, v,
					     sizeof(v));

		if (found != (cases[i].want != NULL) ||
		    (found && strcmp(v, cases[i].want) != 0))
			fail_msg("%s: %d \"%s\"", cases[i].key, found, v);
	}
}

static void test_accounts(void **state)
{
	/* sacctmgr -n -P show associations user=U format=account: one line
	 * per association, so accounts repeat. */
	static const char text[] = "physics\nchem\nphysics\nbio|x\n";
	char list[64];

	(void)state;
	assert_int_equal(gen_accounts_contain(text, "chem", list,
					      sizeof(list)), 1);
	assert_string_equal(list, "physics, chem, bio");
	assert_int_equal(gen_accounts_contain(text, "PHYSICS", list,
					      sizeof(list)), 1);
	assert_int_equal(gen_accounts_contain(text, "bi", list, sizeof(list)),
			 0);
	assert_int_equal(gen_accounts_contain(text, "math", list,
					      sizeof(list)), 0);
	assert_int_equal(gen_accounts_contain("", "x", list, sizeof(list)), 0);
	assert_string_equal(list, "");
	/* "phys" must not count as already listed because of "physics". */
	assert_int_equal(gen_accounts_contain("physics\nphys\n", "x", list,
					      sizeof(list)), 0);
	assert_string_equal(list, "physics, phys");
}

static void test_qos(void **state)
{
	/* sacctmgr -n -P show user U withassoc
	 * format=defaultaccount,account,qos: one line per association (per
	 * partition too), the default account on each. */
	static const char text[] =
		"physics|physics|interactive,normal\n"
		"physics|chem|normal,vip\n"
		"physics|physics|normal,long\n";
	char acct[32], list[64];

	(void)state;
	/* Without --account: the default account's QOS, all its lines. */
	assert_int_equal(gen_qos_allowed(text, NULL, "long", acct,
					 sizeof(acct), list, sizeof(list)), 1);
	assert_string_equal(acct, "physics");
	assert_string_equal(list, "interactive, normal, long");
	assert_int_equal(gen_qos_allowed(text, NULL, "vip", acct,
					 sizeof(acct), list, sizeof(list)), 0);
	assert_string_equal(list, "interactive, normal, long");
	/* With --account: that association's, whatever the case. */
	assert_int_equal(gen_qos_allowed(text, "CHEM", "VIP", acct,
					 sizeof(acct), list, sizeof(list)), 1);
	assert_string_equal(acct, "CHEM");
	assert_string_equal(list, "normal, vip");
	assert_int_equal(gen_qos_allowed(text, "chem", "interactive", acct,
					 sizeof(acct), list, sizeof(list)), 0);
	/* "inter" is not "interactive". */
	assert_int_equal(gen_qos_allowed(text, NULL, "inter", acct,
					 sizeof(acct), list, sizeof(list)), 0);
	/* No association, or one without QOS: nothing allowed. */
	assert_int_equal(gen_qos_allowed(text, "bio", "normal", acct,
					 sizeof(acct), list, sizeof(list)), 0);
	assert_string_equal(list, "");
	assert_int_equal(gen_qos_allowed("a|a|\n", NULL, "normal", acct,
					 sizeof(acct), list, sizeof(list)), 0);
	assert_string_equal(acct, "a");
	assert_string_equal(list, "");
	assert_int_equal(gen_qos_allowed("", NULL, "normal", acct,
					 sizeof(acct), list, sizeof(list)), 0);
	assert_string_equal(acct, "");
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_partitions),
	cmocka_unit_test(test_no_default_and_empty),
	cmocka_unit_test(test_bad_partition_lines),
	cmocka_unit_test(test_record_field),
	cmocka_unit_test(test_config_value),
	cmocka_unit_test(test_accounts),
	cmocka_unit_test(test_qos))
