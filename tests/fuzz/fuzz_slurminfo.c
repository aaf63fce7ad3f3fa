// SPDX-License-Identifier: GPL-2.0-or-later
/* What jupyter slurm reads from Slurm's commands (scontrol's partitions
 * and config, sacctmgr's accounts and QOS: any program named so on PATH
 * prints what it likes) and the --time a user gives.  Lists for messages
 * stay within their buffers, a partition found by name is that one, and
 * a time read prints Slurm's way and reads back as the same minutes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slurminfo.h"
#include "slurmtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ends_within(const char *s, size_t len)
{
	if (memchr(s, '\0', len) == NULL)
		abort();
}

static void partitions(const char *text)
{
	struct gen_partitions p;
	struct sj_err err;
	char names[64];

	if (gen_partitions_parse(text, &p, &err) != 0)
		return;
	for (size_t i = 0; i < p.n; i++) {
		const struct gen_partition *f =
			gen_partition_find(&p, p.v[i].name);

		if (p.v[i].name[0] == '\0' || f == NULL ||
		    strcmp(f->name, p.v[i].name) != 0 ||
		    (p.v[i].max_minutes < 0 &&
		     p.v[i].max_minutes != GEN_UNLIMITED))
			abort();
	}
	if (gen_partition_default(&p) != NULL &&
	    !gen_partition_default(&p)->is_default)
		abort();
	gen_partition_names(&p, names, sizeof(names));
	ends_within(names, sizeof(names));
	gen_partitions_free(&p);
}

static void accounts(const char *text)
{
	char v[64], acct[32], list[48];

	if (gen_record_field(text, "MaxTime", v, sizeof(v)) == 1)
		ends_within(v, sizeof(v));
	if (gen_config_value(text, "AccountingStorageType", v, sizeof(v)) ==
	    1)
		ends_within(v, sizeof(v));
	(void)gen_accounts_contain(text, "physics", list, sizeof(list));
	ends_within(list, sizeof(list));
	if (gen_qos_allowed(text, NULL, "normal", acct, sizeof(acct), list,
			    sizeof(list)) >= 0) {
		ends_within(acct, sizeof(acct));
		ends_within(list, sizeof(list));
	}
	(void)gen_qos_allowed(text, "chem", "long", acct, sizeof(acct), list,
			      sizeof(list));
}

static void time_limit(const char *s)
{
	long long sec, back, min;
	struct sj_err err;
	char out[64];

	if (gen_time_parse(s, &sec, &err) != 0)
		return;
	if (sec < 0)
		abort();
	min = gen_time_minutes(sec);
	if (min < 0 || min * 60 < sec || min * 60 - sec >= 60)
		abort();
	gen_time_slurm(min, out, sizeof(out));
	if (gen_time_parse(out, &back, &err) != 0 || back != min * 60)
		abort();
	gen_time_label(min, out, sizeof(out));
	ends_within(out, sizeof(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	partitions(s);
	accounts(s);
	time_limit(s);
	free(s);
	return 0;
}
