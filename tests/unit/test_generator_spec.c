// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel.json jupyter slurm add writes, and how list and show read a
 * generated argv back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "spec.h"
#include "split.h"
#include "steps.h"
#include "testutil.h"

#define SHIM "/opt/sj/bin/slurm-jupyter-shim"

static const char wrapped_text[] =
	"{\"argv\": [\"/usr/bin/python3\", \"-m\", \"ipykernel_launcher\","
	" \"-f\", \"{connection_file}\"],"
	" \"display_name\": \"Python 3 (ipykernel)\","
	" \"language\": \"python\", \"interrupt_mode\": \"message\","
	" \"env\": {\"A\": \"from-kernel\", \"B\": \"kept\"},"
	" \"codemirror_mode\": \"python\","
	" \"metadata\": {\"debugger\": true,"
	"   \"kernel_provisioner\": {\"provisioner_name\": \"x\"}}}";

static json_t *wrapped(void)
{
	json_error_t je;
	json_t *w = json_loads(wrapped_text, 0, &je);

	if (w == NULL)
		fail_msg("test JSON: %s", je.text);
	return w;
}

static const char *str_at(const json_t *arr, size_t i)
{
	const char *s = json_string_value(json_array_get(arr, i));

	if (s == NULL)
		fail_msg("argv[%zu] is not a string", i);
	return s;
}

static void expect_argv(const json_t *argv, const char *const *want,
			size_t n)
{
	assert_int_equal(json_array_size(argv), n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(str_at(argv, i), want[i]) != 0)
			fail_msg("argv[%zu] = \"%s\", expected \"%s\"", i,
				 str_at(argv, i), want[i]);
}

static json_t *build(const struct gen_opts *o, const json_t *w)
{
	struct gen_build b = {
		.o = o, .kernel = "python3",
		.kernel_dir = "/usr/share/jupyter/kernels/python3",
		.wrapped = w, .shim = SHIM,
		.display_name = "Python 3 (Slurm: debug, 1 node, 1h)",
	};
	struct sj_err err = { "" };
	json_t *spec = NULL;

	if (gen_spec_build(&b, &spec, &err))
		fail_msg("build failed: %s", err.msg);
	return spec;
}

/* The kernelspec built from o around the wrapped kernel has argv want. */
static void expect_spec_argv(const struct gen_opts *o,
			     const char *const *want, size_t n)
{
	json_t *w = wrapped(), *spec = build(o, w);

	expect_argv(json_object_get(spec, "argv"), want, n);
	json_decref(spec);
	json_decref(w);
}

#define EXPECT_SPEC_ARGV(o, want) \
	expect_spec_argv(o, want, sizeof(want) / sizeof(want[0]))

static void test_argv_order(void **state)
{
	const char *salloc[] = { "--exclusive" }, *srun[] = { "-v", "--x=1" };
	struct gen_opts o;
	static const char *const want[] = {
		SHIM, "--shim-verbose", "--kernel-node=n2",
		"--rendezvous-host=10.0.0.1", "--kernel-transport=tcp",
		"--setup=module load py",
		"--srun-arg=-v", "--srun-arg=--x=1",
		"--partition=debug", "--account=proj", "--nodes=2",
		"--time=60", "--gpus=1", "--gres=gpu:1", "--reservation=r",
		"--qos=q", "--constraint=c", "--mem=4G", "--cpus-per-task=2",
		"--exclusive", "-f", "{connection_file}", "--",
		"/usr/bin/python3", "-m", "ipykernel_launcher", "-f",
		"{connection_file}",
	};

	(void)state;
	memset(&o, 0, sizeof(o));
	o.partition = "debug";
	o.account = "proj";
	o.nodes = "2";
	o.time = "60";
	o.gpus = "1";
	o.gres = "gpu:1";
	o.reservation = "r";
	o.qos = "q";
	o.constraint = "c";
	o.mem = "4G";
	o.cpus_per_task = "2";
	o.salloc_args = (struct gen_strv){ salloc, 1 };
	o.srun_args = (struct gen_strv){ srun, 2 };
	o.kernel_node = "n2";
	o.setup = "module load py";
	o.rendezvous_host = "10.0.0.1";
	o.kernel_transport = "tcp";
	o.shim_verbose = 1;
	EXPECT_SPEC_ARGV(&o, want);
}

static void test_jobid_argv(void **state)
{
	struct gen_opts o;
	static const char *const want[] = {
		SHIM, "--jobid=123", "-f", "{connection_file}", "--",
		"/usr/bin/python3", "-m", "ipykernel_launcher", "-f",
		"{connection_file}",
	};

	(void)state;
	memset(&o, 0, sizeof(o));
	o.jobid = "123";
	EXPECT_SPEC_ARGV(&o, want);
}

static void test_copied_and_merged(void **state)
{
	const char *env[] = { "A=mine", "C=new value" };
	struct gen_opts o;
	json_t *w = wrapped(), *spec, *md, *mark, *opts;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.partition = "debug";
	o.time = "60";
	o.env = (struct gen_strv){ env, 2 };
	spec = build(&o, w);
	assert_string_equal(json_string_value(json_object_get(spec,
			    "display_name")),
			    "Python 3 (Slurm: debug, 1 node, 1h)");
	assert_string_equal(json_string_value(json_object_get(spec,
			    "language")), "python");
	assert_string_equal(json_string_value(json_object_get(spec,
			    "interrupt_mode")), "message");
	/* Keys the generator does not know travel along. */
	assert_string_equal(json_string_value(json_object_get(spec,
			    "codemirror_mode")), "python");
	/* env: the kernel's, then ours on top. */
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(spec, "env"), "A")), "mine");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(spec, "env"), "B")), "kept");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(spec, "env"), "C")), "new value");
	md = json_object_get(spec, "metadata");
	assert_true(json_is_true(json_object_get(md, "debugger")));
	assert_null(json_object_get(md, "kernel_provisioner"));
	mark = gen_spec_mark(spec);
	assert_non_null(mark);
	assert_int_equal(json_integer_value(json_object_get(mark,
			 "generator")), GEN_MARK_VERSION);
	assert_string_equal(json_string_value(json_object_get(mark, "wraps")),
			    "python3");
	assert_string_equal(json_string_value(json_object_get(mark,
			    "wraps_dir")), "/usr/share/jupyter/kernels/python3");
	opts = json_object_get(mark, "options");
	assert_string_equal(json_string_value(json_object_get(opts,
			    "partition")), "debug");
	assert_string_equal(json_string_value(json_object_get(opts, "time")),
			    "60");
	assert_null(json_object_get(opts, "nodes"));
	/* Only what add was given, not the kernel's own env. */
	assert_int_equal(json_object_size(json_object_get(opts, "env")), 2);
	/* The wrapped spec is left as it was. */
	assert_null(json_object_get(json_object_get(w, "env"), "C"));
	assert_non_null(json_object_get(json_object_get(w, "metadata"),
					"kernel_provisioner"));
	assert_null(gen_spec_mark(w));
	json_decref(spec);
	json_decref(w);
}

static void test_no_env_no_key(void **state)
{
	json_error_t je;
	json_t *w = json_loads("{\"argv\": [\"k\", \"{connection_file}\"]}",
			       0, &je), *spec;
	struct gen_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	spec = build(&o, w);
	assert_null(json_object_get(spec, "env"));
	assert_null(json_object_get(spec, "language"));
	assert_non_null(gen_spec_mark(spec));
	json_decref(spec);
	json_decref(w);
}

static void build_fails(const char *wtext, const char *display,
			const char *needle)
{
	struct gen_opts o;
	struct gen_build b = {
		.o = &o, .kernel = "k", .kernel_dir = "/k",
		.shim = SHIM, .display_name = display,
	};
	struct sj_err err = { "" };
	json_error_t je;
	json_t *w = json_loads(wtext, 0, &je), *spec = NULL;

	memset(&o, 0, sizeof(o));
	if (w == NULL)
		fail_msg("test JSON: %s", je.text);
	b.wrapped = w;
	if (gen_spec_build(&b, &spec, &err) != -1)
		fail_msg("built; expected an error with \"%s\"", needle);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
	assert_null(spec);
	json_decref(w);
}

static void test_bad_wrapped_specs(void **state)
{
	(void)state;
	build_fails("{}", "d", "kernelspec k has no argv to wrap");
	build_fails("{\"argv\": []}", "d", "has no argv to wrap");
	build_fails("{\"argv\": \"python\"}", "d", "has no argv to wrap");
	build_fails("{\"argv\": [\"python\", 3]}", "d",
		    "argv[1] is not a string");
	build_fails("{\"argv\": [\"python\", \"-f\", \"x.json\"]}", "d",
		    "its argv never names {connection_file}");
	build_fails("{\"argv\": [\"k\", \"{connection_file}\"], \"env\": 5}",
		    "d", "env is not an object");
	build_fails("{\"argv\": [\"k\", \"{connection_file}\"]}", "bad \xff",
		    "--display-name: not valid UTF-8");
}

static void test_dump_is_indented_with_newline(void **state)
{
	struct sj_err err = { "" };
	struct gen_opts o;
	json_t *w = wrapped(), *spec, *back;
	char *text;
	json_error_t je;

	(void)state;
	memset(&o, 0, sizeof(o));
	spec = build(&o, w);
	text = gen_spec_dump(spec, &err);
	assert_non_null(text);
	assert_true(strncmp(text, "{\n \"argv\": [\n", 13) == 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	back = json_loads(text, 0, &je);
	assert_non_null(back);
	assert_true(json_equal(back, spec));
	free(text);
	json_decref(back);
	json_decref(spec);
	json_decref(w);
}

static void test_split(void **state)
{
	json_t *a = test_json("[\"/s\", \"--shim-verbose\", \"--jobid\", \"9\","
			    " \"--setup=true\", \"--kernel-node=n1\","
			    " \"--srun-arg=-v\", \"--share\", \"--linger=0\","
			    " \"-p\", \"debug\", \"--time=5\","
			    " \"--rendezvous-host=h\", \"--kernel-transport=tcp\","
			    " \"-f\", \"{connection_file}\", \"--\", \"k\","
			    " \"-f\", \"{connection_file}\"]");
	struct sj_err err = { "" };
	struct gen_split s;

	(void)state;
	assert_int_equal(gen_split_argv(a, &s, &err), 0);
	assert_string_equal(s.shim, "/s");
	assert_true(s.verbose);
	assert_true(s.share);
	assert_string_equal(s.linger, "0");
	assert_string_equal(s.jobid, "9");
	assert_string_equal(s.setup, "true");
	assert_string_equal(s.kernel_node, "n1");
	assert_string_equal(s.rendezvous_host, "h");
	assert_string_equal(s.kernel_transport, "tcp");
	assert_int_equal(s.srun.n, 1);
	assert_string_equal(s.srun.v[0], "-v");
	assert_int_equal(s.salloc.n, 3);
	assert_string_equal(s.salloc.v[0], "-p");
	assert_string_equal(s.salloc.v[1], "debug");
	assert_string_equal(s.salloc.v[2], "--time=5");
	assert_int_equal(s.options.n, 13);
	assert_string_equal(s.options.v[0], "--shim-verbose");
	assert_int_equal(s.kernel.n, 3);
	assert_string_equal(s.kernel.v[0], "k");
	assert_string_equal(s.kernel.v[2], "{connection_file}");
	gen_split_free(&s);
	json_decref(a);
}

static void split_fails(const char *text)
{
	json_t *a = test_json(text);
	struct sj_err err = { "" };
	struct gen_split s;

	if (gen_split_argv(a, &s, &err) != -1)
		fail_msg("%s: split", text);
	json_decref(a);
}

static void test_split_refuses_non_shim_argv(void **state)
{
	(void)state;
	split_fails("[\"/usr/bin/python3\", \"-m\", \"ipykernel_launcher\","
		    " \"-f\", \"{connection_file}\"]");
	split_fails("[\"/s\", \"-p\", \"x\", \"y\", \"--\", \"k\"]");
	split_fails("[\"/s\", \"-f\", \"{connection_file}\", \"--\"]");
	split_fails("[\"/s\", 5, \"-f\", \"c\", \"--\", \"k\"]");
	split_fails("{\"argv\": 1}");
}

static char *steps_of(const char *argv_text)
{
	json_t *a = test_json(argv_text);
	struct sj_err err = { "" };
	struct gen_split s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (gen_split_argv(a, &s, &err))
		fail_msg("split: %s", err.msg);
	gen_steps_print(f, &s);
	fclose(f);
	gen_split_free(&s);
	json_decref(a);
	return buf;
}

static void contains(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL)
		fail_msg("\"%s\" not in:\n%s", needle, text);
}

static void test_steps(void **state)
{
	char *t = steps_of("[\"/b/shim\", \"--partition=debug\", \"--time=60\","
			   " \"--setup=module load x\", \"--kernel-node=n3\","
			   " \"--srun-arg=--cpu-bind=none\","
			   " \"-f\", \"{connection_file}\", \"--\", \"py\","
			   " \"-f\", \"{connection_file}\"]");

	(void)state;
	contains(t, "named jupyter-kernel-ba68d8e3 that no kernel uses");
	contains(t, "       salloc --no-shell --job-name=jupyter-kernel-"
		 "ba68d8e3 --partition=debug --time=60\n");
	contains(t, "       srun --jobid=JOBID --overlap --nodes=1 --ntasks=1 "
		 "--job-name=jupyter-kernel --jupyter-kernel=HOST:PORT:NONCE "
		 "--nodelist=n3 --cpu-bind=none /b/shim --node -- /bin/sh -c "
		 "'{ module load x\n} || { echo \"slurm-jupyter-shim: --setup "
		 "failed (exit status $?); not starting the kernel\" >&2; exit "
		 "1; }\nexec \"$@\"' slurm-jupyter-setup py -f "
		 "'{connection_file}'\n");
	contains(t, "released (scancel JOBID) 10 s after its last kernel");
	free(t);

	t = steps_of("[\"/b/shim\", \"--jobid=55\", \"-f\", \"c\", \"--\","
		     " \"py\"]");
	contains(t, "uses your allocation 55 (--jobid; the shim never "
		 "cancels it)");
	contains(t, "srun --jobid=JOBID");
	if (strstr(t, "salloc --no-shell") != NULL)
		fail_msg("salloc with --jobid:\n%s", t);
	free(t);

	t = steps_of("[\"/b/shim\", \"--share\", \"--linger=0\", \"-f\", \"c\","
		     " \"--\", \"py\"]");
	contains(t, "that runs (--share)");
	contains(t, "salloc --no-shell --job-name=jupyter-kernel-");
	contains(t, "(scancel JOBID) 0 s after");
	free(t);
}

static void test_alloc_name(void **state)
{
	const char *none[] = { NULL };
	const char *two[] = { "--partition=debug", "--time=60" };
	const char *joined[] = { "--partition=debug--time=60" };
	char a[64], b[64], c[64];

	(void)state;
	gen_alloc_name(&(struct gen_strv){ none, 0 }, a, sizeof(a));
	/* FNV-1a of nothing is its offset basis. */
	assert_string_equal(a, "jupyter-kernel-811c9dc5");
	gen_alloc_name(&(struct gen_strv){ two, 2 }, b, sizeof(b));
	gen_alloc_name(&(struct gen_strv){ joined, 1 }, c, sizeof(c));
	assert_string_equal(b, "jupyter-kernel-ba68d8e3");
	/* Argument boundaries count. */
	assert_string_not_equal(b, c);
}

static char *quoted(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	gen_quote(f, s);
	fclose(f);
	return buf;
}

static void quote_is(const char *s, const char *want)
{
	char *q = quoted(s);

	assert_string_equal(q, want);
	free(q);
}

static void test_quote(void **state)
{
	(void)state;
	quote_is("--partition=debug", "--partition=debug");
	quote_is("/usr/bin/python3", "/usr/bin/python3");
	quote_is("", "''");
	quote_is("a b", "'a b'");
	quote_is("{connection_file}", "'{connection_file}'");
	quote_is("it's", "'it'\\''s'");
	quote_is("$HOME", "'$HOME'");
	quote_is("a\nb", "'a\nb'");
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_argv_order),
	cmocka_unit_test(test_jobid_argv),
	cmocka_unit_test(test_copied_and_merged),
	cmocka_unit_test(test_no_env_no_key),
	cmocka_unit_test(test_bad_wrapped_specs),
	cmocka_unit_test(test_dump_is_indented_with_newline),
	cmocka_unit_test(test_split),
	cmocka_unit_test(test_split_refuses_non_shim_argv),
	cmocka_unit_test(test_steps),
	cmocka_unit_test(test_alloc_name),
	cmocka_unit_test(test_quote))
