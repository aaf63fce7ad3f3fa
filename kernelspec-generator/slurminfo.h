// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * slurminfo.h - reading what scontrol and sacctmgr print.
 *
 * Pure text parsing, kept apart from running the commands so that it can
 * be tested without a cluster.
 */
#ifndef GEN_SLURMINFO_H
#define GEN_SLURMINFO_H

#include <stddef.h>

#include "sj_err.h"

#define GEN_UNLIMITED (-1LL)

/* One line of `scontrol --all --oneliner show partition`. */
struct gen_partition {
	char name[128];
	long long max_minutes;		/* MaxTime; GEN_UNLIMITED */
	long long max_nodes;		/* min(MaxNodes, TotalNodes) */
	int is_default;
	char state[32];
};

struct gen_partitions {
	struct gen_partition *v;
	size_t n;
};

/* The value of KEY=value in a one-line record (space-separated). */
int gen_record_field(const char *line, const char *key, char *out,
		     size_t len);

int gen_partitions_parse(const char *text, struct gen_partitions *p,
			 struct sj_err *err);
void gen_partitions_free(struct gen_partitions *p);
const struct gen_partition *gen_partition_find(const struct gen_partitions *p,
					       const char *name);
const struct gen_partition *gen_partition_default(
	const struct gen_partitions *p);
/* "debug, short" for messages. */
void gen_partition_names(const struct gen_partitions *p, char *out,
			 size_t len);

/* The value of "Key = value" in `scontrol show config`. */
int gen_config_value(const char *text, const char *key, char *out,
		     size_t len);

/* Whether `sacctmgr -n -P show associations user=U format=account` text
 * names account (Slurm keeps account names lowercase); the distinct
 * names, comma-separated, go to list for the message. */
int gen_accounts_contain(const char *text, const char *account, char *list,
			 size_t len);

/* Whether `sacctmgr -n -P show user U withassoc
 * format=defaultaccount,account,qos` text lets the user run jobs with QOS
 * qos under account (NULL: the user's default account, which a job
 * without --account is charged to).  The account looked at goes to acct,
 * the distinct QOS allowed under it, comma-separated, to list; both for
 * the message.  1 allowed, 0 not, -1 out of memory. */
int gen_qos_allowed(const char *text, const char *account, const char *qos,
		    char *acct, size_t acct_len, char *list, size_t len);

#endif
