// SPDX-License-Identifier: GPL-2.0-or-later
#include "check.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "slurminfo.h"
#include "slurmtime.h"

#define NO_CHECK_HINT "--no-check writes the kernelspec without asking"

/* Why a Slurm command that ran did not succeed, as the error. */
static int refused(char *const argv[], const char *what,
		   const struct gen_output *out, struct sj_err *err)
{
	size_t n = strlen(argv[0]);
	char line[300];
	int named;

	gen_first_line(out->errtext[0] ? out->errtext : out->out, line,
		       sizeof(line));
	/* sacctmgr names itself, scontrol does not. */
	named = strncmp(line, argv[0], n) == 0 && line[n] == ':';
	return sj_err_set(err, "cannot ask Slurm %s: %s%s%s (is slurmctld "
			  "running?); %s", what, named ? "" : argv[0],
			  named ? "" : ": ", line[0] ? line : "failed",
			  NO_CHECK_HINT);
}

/* Runs a Slurm command; 0 when it ran (its status is in out). */
static int run(char *const argv[], const char *what, struct gen_output *out,
	       struct sj_err *err)
{
	struct sj_err e;

	if (gen_run(argv, GEN_RUN_TIMEOUT_MS, out, &e))
		return sj_err_set(err, "cannot ask Slurm %s: %s; %s", what,
				  e.msg, NO_CHECK_HINT);
	return 0;
}

/* Runs a Slurm command that must succeed. */
static int ask(char *const argv[], const char *what, struct gen_output *out,
	       struct sj_err *err)
{
	if (run(argv, what, out, err))
		return -1;
	if (out->status != 0)
		return refused(argv, what, out, err);
	return 0;
}

static int check_partition(const struct gen_opts *o,
			   const struct gen_partition *p, struct sj_err *err)
{
	char limit[32];
	long long secs;

	if (o->time != NULL && p->max_minutes != GEN_UNLIMITED) {
		if (gen_time_parse(o->time, &secs, err))
			return -1;
		if (gen_time_minutes(secs) > p->max_minutes) {
			gen_time_slurm(p->max_minutes, limit, sizeof(limit));
			return sj_err_set(err, "--time=%s: longer than "
					  "partition %s allows (allowed: at "
					  "most %s, its MaxTime)", o->time,
					  p->name, limit);
		}
	}
	if (o->nodes != NULL && p->max_nodes != GEN_UNLIMITED) {
		long long want = strtoll(o->nodes, NULL, 10);

		if (want > p->max_nodes)
			return sj_err_set(err, "--nodes=%s: more than "
					  "partition %s has (allowed: 1 to "
					  "%lld)", o->nodes, p->name,
					  p->max_nodes);
	}
	return 0;
}

static int check_partitions(const struct gen_opts *o, struct sj_err *err)
{
	char *argv[] = { "scontrol", "--all", "--oneliner", "show",
			 "partition", NULL };
	struct gen_partitions parts = { 0 };
	struct gen_output out = { 0 };
	char names[512], *list = NULL, *save = NULL, *tok;
	const struct gen_partition *p;
	int rv = -1;

	if (ask(argv, "about its partitions", &out, err) ||
	    gen_partitions_parse(out.out, &parts, err))
		goto out;
	gen_partition_names(&parts, names, sizeof(names));
	if (o->partition == NULL) {
		p = gen_partition_default(&parts);
		if (p == NULL) {
			sj_err_set(err, "--partition: the cluster has no "
				   "default partition, give one (allowed: "
				   "%s)", names);
			goto out;
		}
		rv = check_partition(o, p, err);
		goto out;
	}
	/* salloc takes a list; the job may start in any of them. */
	list = strdup(o->partition);
	if (list == NULL) {
		sj_err_set(err, "out of memory");
		goto out;
	}
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		p = gen_partition_find(&parts, tok);
		if (p == NULL) {
			sj_err_set(err, "--partition=%s: no partition %s "
				   "(allowed: %s)", o->partition, tok, names);
			goto out;
		}
		if (check_partition(o, p, err))
			goto out;
	}
	rv = 0;
out:
	free(list);
	gen_partitions_free(&parts);
	gen_output_free(&out);
	return rv;
}

static int check_job(const struct gen_opts *o, struct sj_err *err)
{
	char *argv[] = { "scontrol", "--oneliner", "show", "job",
			 (char *)o->jobid, NULL };
	char state[64], user[128], mine[32], *paren;
	struct gen_output out = { 0 };
	int rv = -1;

	if (run(argv, "about the job", &out, err))
		goto out;
	if (out.status != 0) {
		if (strstr(out.errtext, "Invalid job id") != NULL)
			sj_err_set(err, "--jobid=%s: no such job (allowed: one "
				   "of your pending or running allocations; "
				   "squeue --me lists them)", o->jobid);
		else
			refused(argv, "about the job", &out, err);
		goto out;
	}
	(void)gen_record_field(out.out, "JobState", state, sizeof(state));
	(void)gen_record_field(out.out, "UserId", user, sizeof(user));
	/* UserId=name(uid) */
	snprintf(mine, sizeof(mine), "(%u)", (unsigned)getuid());
	paren = strchr(user, '(');
	if (paren != NULL && strcmp(paren, mine) != 0) {
		sj_err_set(err, "--jobid=%s: the job of %.*s, not yours "
			   "(allowed: one of your allocations)", o->jobid,
			   (int)(paren - user), user);
		goto out;
	}
	if (strcmp(state, "RUNNING") != 0 && strcmp(state, "PENDING") != 0 &&
	    strcmp(state, "CONFIGURING") != 0) {
		sj_err_set(err, "--jobid=%s: the job is %s (allowed: a pending "
			   "or running allocation)", o->jobid,
			   state[0] ? state : "in an unknown state");
		goto out;
	}
	rv = 0;
out:
	gen_output_free(&out);
	return rv;
}

/* Whether Slurm keeps accounts (AccountingStorageType is not none);
 * without accounting it takes any account or QOS name. */
static int accounting_on(int *on, struct sj_err *err)
{
	char *conf[] = { "scontrol", "show", "config", NULL };
	struct gen_output out = { 0 };
	char type[128];

	*on = 0;
	if (ask(conf, "about its configuration", &out, err)) {
		gen_output_free(&out);
		return -1;
	}
	/* Up to 25.11 scontrol says accounting_storage/none; 26.05 says
	 * (null). */
	*on = gen_config_value(out.out, "AccountingStorageType", type,
			       sizeof(type)) &&
	      strcmp(type, "accounting_storage/none") != 0 &&
	      strcmp(type, "(null)") != 0;
	gen_output_free(&out);
	return 0;
}

/* The caller's user name into who. */
static int whoami(const char *flag, const char *value, char *who, size_t len,
		  struct sj_err *err)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw == NULL)
		return sj_err_set(err, "%s=%s: cannot tell who you are (no "
				  "passwd entry for uid %u); %s", flag, value,
				  (unsigned)getuid(), NO_CHECK_HINT);
	snprintf(who, len, "%s", pw->pw_name);
	return 0;
}

static int check_account(const struct gen_opts *o, struct sj_err *err)
{
	char who[64], user_opt[100], list[512];
	char *assoc[] = { "sacctmgr", "--noheader", "--parsable2", "show",
			  "associations", user_opt, "format=account", NULL };
	struct gen_output out = { 0 };
	int rv = -1;

	if (whoami("--account", o->account, who, sizeof(who), err))
		return -1;
	snprintf(user_opt, sizeof(user_opt), "user=%s", who);
	if (ask(assoc, "about your accounts (sacctmgr)", &out, err))
		goto out;
	if (!gen_accounts_contain(out.out, o->account, list, sizeof(list))) {
		if (list[0] != '\0')
			sj_err_set(err, "--account=%s: not an account of %s "
				   "(allowed: %s)", o->account, who, list);
		else
			sj_err_set(err, "--account=%s: %s has no account in "
				   "Slurm's database (ask your site to add "
				   "one)", o->account, who);
		goto out;
	}
	rv = 0;
out:
	gen_output_free(&out);
	return rv;
}

/* The QOS must be one the association the job is charged to allows:
 * --account's, or the user's default account's. */
static int check_qos(const struct gen_opts *o, struct sj_err *err)
{
	char who[64], list[512], acct[128];
	char *assoc[] = { "sacctmgr", "--noheader", "--parsable2", "show",
			  "user", who, "withassoc",
			  "format=defaultaccount,account,qos", NULL };
	struct gen_output out = { 0 };
	int rv = -1, allowed;

	if (whoami("--qos", o->qos, who, sizeof(who), err))
		return -1;
	if (ask(assoc, "about your QOS (sacctmgr)", &out, err))
		goto out;
	allowed = gen_qos_allowed(out.out, o->account, o->qos, acct,
				  sizeof(acct), list, sizeof(list));
	if (allowed < 0) {
		sj_err_set(err, "out of memory");
		goto out;
	}
	if (!allowed) {
		if (list[0] != '\0')
			sj_err_set(err, "--qos=%s: not a QOS %s may use with "
				   "account %s (allowed: %s)", o->qos, who,
				   acct, list);
		else
			sj_err_set(err, "--qos=%s: %s may use no QOS with "
				   "account %s in Slurm's database (ask your "
				   "site)", o->qos, who,
				   acct[0] ? acct : "(none)");
		goto out;
	}
	rv = 0;
out:
	gen_output_free(&out);
	return rv;
}

int gen_check_slurm(const struct gen_opts *o, struct sj_err *err)
{
	/* With --jobid the allocation exists: its partition and limits are
	 * settled (and opts.c refuses salloc options with it). */
	if (o->jobid != NULL)
		return check_job(o, err);
	int on;

	if (check_partitions(o, err))
		return -1;
	if (o->account == NULL && o->qos == NULL)
		return 0;
	if (accounting_on(&on, err))
		return -1;
	if (!on)
		return 0;
	if (o->account != NULL && check_account(o, err))
		return -1;
	if (o->qos != NULL && check_qos(o, err))
		return -1;
	return 0;
}
