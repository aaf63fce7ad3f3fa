// SPDX-License-Identifier: GPL-2.0-or-later
#include "slurminfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slurmtime.h"

int gen_record_field(const char *line, const char *key, char *out,
		     size_t len)
{
	size_t kl = strlen(key), n;
	const char *p = line;

	out[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			p += kl + 1;
			n = strcspn(p, " \n");
			if (n >= len)
				return 0;
			memcpy(out, p, n);
			out[n] = '\0';
			return 1;
		}
		p += kl;
	}
	return 0;
}

/* "UNLIMITED", or a number of nodes. */
static long long count(const char *s)
{
	char *end;
	long long v;

	if (strcasecmp(s, "UNLIMITED") == 0 || s[0] == '\0')
		return GEN_UNLIMITED;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v >= 0 ? v : GEN_UNLIMITED;
}

static int parse_line(const char *line, struct gen_partition *p,
		      struct sj_err *err)
{
	char v[128];
	long long secs, total;

	memset(p, 0, sizeof(*p));
	if (!gen_record_field(line, "PartitionName", p->name,
			      sizeof(p->name)) || p->name[0] == '\0')
		return sj_err_set(err, "scontrol printed a partition without "
				  "a name");
	if (!gen_record_field(line, "MaxTime", v, sizeof(v)) ||
	    strcasecmp(v, "UNLIMITED") == 0 || strcasecmp(v, "INFINITE") == 0)
		p->max_minutes = GEN_UNLIMITED;
	else if (gen_time_parse(v, &secs, NULL) == 0)
		p->max_minutes = gen_time_minutes(secs);
	else
		return sj_err_set(err, "partition %s: cannot read MaxTime=%s",
				  p->name, v);
	/* A missing field leaves "" behind: no limit, not the default. */
	(void)gen_record_field(line, "MaxNodes", v, sizeof(v));
	p->max_nodes = count(v);
	(void)gen_record_field(line, "TotalNodes", v, sizeof(v));
	total = count(v);
	if (total != GEN_UNLIMITED &&
	    (p->max_nodes == GEN_UNLIMITED || total < p->max_nodes))
		p->max_nodes = total;
	(void)gen_record_field(line, "Default", v, sizeof(v));
	p->is_default = strcmp(v, "YES") == 0;
	(void)gen_record_field(line, "State", p->state, sizeof(p->state));
	return 0;
}

int gen_partitions_parse(const char *text, struct gen_partitions *p,
			 struct sj_err *err)
{
	const char *line = text;

	memset(p, 0, sizeof(*p));
	while (*line != '\0') {
		size_t n = strcspn(line, "\n");
		char *copy = strndup(line, n);
		struct gen_partition *nv;

		if (copy == NULL)
			goto oom;
		if (strstr(copy, "PartitionName=") != NULL) {
			nv = realloc(p->v, (p->n + 1) * sizeof(*nv));
			if (nv == NULL) {
				free(copy);
				goto oom;
			}
			p->v = nv;
			if (parse_line(copy, &p->v[p->n], err)) {
				free(copy);
				gen_partitions_free(p);
				return -1;
			}
			p->n++;
		}
		free(copy);
		line += n;
		if (*line == '\n')
			line++;
	}
	return 0;
oom:
	gen_partitions_free(p);
	return sj_err_set(err, "out of memory");
}

void gen_partitions_free(struct gen_partitions *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

const struct gen_partition *gen_partition_find(const struct gen_partitions *p,
					       const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return &p->v[i];
	return NULL;
}

const struct gen_partition *gen_partition_default(
	const struct gen_partitions *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].is_default)
			return &p->v[i];
	return NULL;
}

/* Appends ", item" (or item, first) if there is room. */
static void append(char *out, size_t len, const char *item)
{
	size_t used = strlen(out);

	if (used + 1 < len)
		snprintf(out + used, len - used, "%s%s", used ? ", " : "",
			 item);
}

void gen_partition_names(const struct gen_partitions *p, char *out,
			 size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++)
		append(out, len, p->v[i].name);
}

int gen_config_value(const char *text, const char *key, char *out,
		     size_t len)
{
	size_t kl = strlen(key);
	const char *line = text;

	out[0] = '\0';
	while (*line != '\0') {
		size_t n = strcspn(line, "\n");

		if (n > kl && strncmp(line, key, kl) == 0 &&
		    (line[kl] == ' ' || line[kl] == '=')) {
			const char *v = line + kl + strspn(line + kl, " ");
			size_t vl;

			if (*v != '=')
				goto next;
			v++;
			v += strspn(v, " ");
			vl = (size_t)(line + n - v);
			if (vl >= len)
				return 0;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 1;
		}
next:
		line += n;
		if (*line == '\n')
			line++;
	}
	return 0;
}

/* Whether item is one of the ", "-separated entries of list. */
static int in_list(const char *list, const char *item)
{
	size_t il = strlen(item);

	for (const char *q = list; (q = strstr(q, item)) != NULL; q += il)
		if ((q == list || q[-1] == ' ') &&
		    (q[il] == ',' || q[il] == '\0'))
			return 1;
	return 0;
}

int gen_accounts_contain(const char *text, const char *account, char *list,
			 size_t len)
{
	const char *line = text;
	int found = 0;

	list[0] = '\0';
	while (*line != '\0') {
		/* -P: the first field ends at '|' (format=account has one). */
		size_t n = strcspn(line, "\n|");
		char name[256];

		if (n > 0 && n < sizeof(name)) {
			memcpy(name, line, n);
			name[n] = '\0';
			if (strcasecmp(name, account) == 0)
				found = 1;
			/* Associations repeat the account per partition. */
			if (!in_list(list, name))
				append(list, len, name);
		}
		line += strcspn(line, "\n");
		if (*line == '\n')
			line++;
	}
	return found;
}

/* Field i (0-based) of a -P line, '|'-separated, into out. */
static void pipe_field(const char *line, int i, char *out, size_t len)
{
	size_t n;

	for (; i > 0 && *line != '\0'; i--) {
		line = strchr(line, '|');
		if (line == NULL) {
			out[0] = '\0';
			return;
		}
		line++;
	}
	n = strcspn(line, "|");
	if (n >= len)
		n = 0;		/* longer than any name: no match */
	memcpy(out, line, n);
	out[n] = '\0';
}

/* Adds the QOS of a comma-separated list to out; 1 if qos is among them. */
static int qos_list_add(char *qos_field, const char *qos, char *out,
			size_t len)
{
	char *save = NULL, *tok;
	int found = 0;

	for (tok = strtok_r(qos_field, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(tok, qos) == 0)
			found = 1;
		if (!in_list(out, tok))
			append(out, len, tok);
	}
	return found;
}

int gen_qos_allowed(const char *text, const char *account, const char *qos,
		    char *acct, size_t acct_len, char *list, size_t len)
{
	const char *line = text;
	char field[1024];
	int found = 0;

	list[0] = '\0';
	acct[0] = '\0';
	if (account != NULL)
		snprintf(acct, acct_len, "%s", account);
	while (*line != '\0') {
		size_t n = strcspn(line, "\n");
		char *copy = strndup(line, n);

		if (copy == NULL)
			return -1;
		if (acct[0] == '\0')
			pipe_field(copy, 0, acct, acct_len);
		pipe_field(copy, 1, field, sizeof(field));
		if (acct[0] != '\0' && strcasecmp(field, acct) == 0) {
			pipe_field(copy, 2, field, sizeof(field));
			found |= qos_list_add(field, qos, list, len);
		}
		free(copy);
		line += n;
		if (*line == '\n')
			line++;
	}
	return found;
}
