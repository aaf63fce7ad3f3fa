#include "split.h"

#include <stdlib.h>
#include <string.h>

/* "--name=value" or "--name value", as the shim takes them. */
static const char *opt_value(const char *name, const char **v, size_t n,
			     size_t *i)
{
	size_t len = strlen(name);

	if (strncmp(v[*i], name, len) != 0)
		return NULL;
	if (v[*i][len] == '=')
		return v[*i] + len + 1;
	if (v[*i][len] == '\0' && *i + 1 < n)
		return v[++*i];
	return NULL;
}

static int shim_opt(struct gen_split *s, const char **v, size_t n, size_t *i)
{
	const char *x;

	if (strcmp(v[*i], "--shim-verbose") == 0)
		s->verbose = 1;
	else if (strcmp(v[*i], "--share") == 0)
		s->share = 1;
	else if ((x = opt_value("--linger", v, n, i)))
		s->linger = x;
	else if ((x = opt_value("--jobid", v, n, i)))
		s->jobid = x;
	else if ((x = opt_value("--rendezvous-host", v, n, i)))
		s->rendezvous_host = x;
	else if ((x = opt_value("--kernel-transport", v, n, i)))
		s->kernel_transport = x;
	else if ((x = opt_value("--setup", v, n, i)))
		s->setup = x;
	else if ((x = opt_value("--kernel-node", v, n, i)))
		s->kernel_node = x;
	else if ((x = opt_value("--srun-arg", v, n, i)))
		s->srun.v[s->srun.n++] = x;
	else
		return 0;
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
		sj_err_set(err, "argv lacks \"-f\", \"{connection_file}\" or "
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
