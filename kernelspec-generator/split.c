// SPDX-License-Identifier: GPL-2.0-or-later
#include "split.h"

#include <stdlib.h>
#include <string.h>

#include "connfile.h"
#include "shimopt.h"

/* Takes v[*i] if it is a shim option (shimopt.h); 0 if it is salloc's. */
static int shim_opt(struct gen_split *s, const char **v, size_t n, size_t *i)
{
	const char *x;
	int k = (int)*i;
	enum sj_shimopt o = sj_shimopt_match((int)n, v, &k, &x);

	*i = (size_t)k;
	switch (o) {
	case SJ_SHIMOPT_SHIM_VERBOSE:
		s->verbose = 1;
		break;
	case SJ_SHIMOPT_SHARE:
		s->share = 1;
		break;
	case SJ_SHIMOPT_LINGER:
		s->linger = x;
		break;
	case SJ_SHIMOPT_WARN_BEFORE:
		s->warn_before = x;
		break;
	case SJ_SHIMOPT_IDLE_TIMEOUT:
		s->idle_timeout = x;
		break;
	case SJ_SHIMOPT_JOBID:
		s->jobid = x;
		break;
	case SJ_SHIMOPT_RENDEZVOUS_HOST:
		s->rendezvous_host = x;
		break;
	case SJ_SHIMOPT_KERNEL_TRANSPORT:
		s->kernel_transport = x;
		break;
	case SJ_SHIMOPT_SETUP:
		s->setup = x;
		break;
	case SJ_SHIMOPT_KERNEL_NODE:
		s->kernel_node = x;
		break;
	case SJ_SHIMOPT_NODE_SHIM:
		s->node_shim = x;
		break;
	case SJ_SHIMOPT_SRUN_ARG:
		s->srun.v[s->srun.n++] = x;
		break;
	case SJ_SHIMOPT_NONE:
	case SJ_SHIMOPT_COUNT:
		return 0;
	}
	return 1;
}

int gen_split_argv(const json_t *argv, struct gen_split *s,
		   struct sj_err *err)
{
	size_t n = json_array_size(argv), i;
	const char **v = NULL;
	int seen_f = 0;

	memset(s, 0, sizeof(*s));
	if (!json_is_array(argv) || n < 5)
		return sj_err_set(err, "argv is not a shim's command line");
	v = calloc(n, sizeof(*v));
	s->all = v;
	s->srun.v = calloc(n, sizeof(char *));
	s->salloc.v = calloc(n, sizeof(char *));
	if (v == NULL || s->srun.v == NULL || s->salloc.v == NULL) {
		sj_err_set(err, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		v[i] = json_string_value(json_array_get(argv, i));
		if (v[i] == NULL) {
			sj_err_set(err, "argv[%zu] is not a string", i);
			goto fail;
		}
	}
	s->shim = v[0];
	for (i = 1; i < n; i++) {
		if (strcmp(v[i], "--") == 0) {
			s->kernel.v = v + i + 1;
			s->kernel.n = n - i - 1;
			break;
		}
		if (strcmp(v[i], "-f") == 0) {
			if (!seen_f) {
				s->options.v = v + 1;
				s->options.n = i - 1;
			}
			seen_f = 1;
			i++;
		} else if (!shim_opt(s, v, n, &i)) {
			s->salloc.v[s->salloc.n++] = v[i];
		}
	}
	if (!seen_f || s->kernel.n == 0) {
		sj_err_set(err, "argv lacks \"-f\", \"" SJ_CONNFILE_TOKEN "\" or "
			   "\"-- KERNEL ARGV\"");
		goto fail;
	}
	return 0;
fail:
	gen_split_free(s);
	return -1;
}

void gen_split_free(struct gen_split *s)
{
	free(s->srun.v);
	free(s->salloc.v);
	free(s->all);
	memset(s, 0, sizeof(*s));
}
