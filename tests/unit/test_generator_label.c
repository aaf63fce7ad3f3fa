// SPDX-License-Identifier: GPL-2.0-or-later
/* Default names and display names of generated kernelspecs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "label.h"
#include "testutil.h"

static void display(const char *wrapped, const struct gen_opts *o,
		    const char *want)
{
	struct sj_err err = { "" };
	char buf[256];

	if (gen_display_name(wrapped, "python3", o, buf, sizeof(buf), &err))
		fail_msg("failed: %s", err.msg);
	assert_string_equal(buf, want);
}

static void test_display_names(void **state)
{
	struct gen_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.partition = "debug";
	o.time = "60";
	display("Python 3 (ipykernel)", &o,
		"Python 3 (Slurm: debug, 1 node, 1h)");
	o.nodes = "2";
	o.time = "1:30:00";
	o.gpus = "a100:2";
	display("Python 3 (ipykernel)", &o,
		"Python 3 (Slurm: debug, 2 nodes, 2 a100 GPUs, 1h30min)");
	o.gpus = "1";
	o.nodes = "2-4";
	o.time = "2-00:00:00";
	display("R", &o, "R (Slurm: debug, 2-4 nodes, 1 GPU, 2d)");
	memset(&o, 0, sizeof(o));
	/* Cluster defaults: only what is known. */
	display("Julia 1.9", &o, "Julia 1.9 (Slurm: 1 node)");
	o.gres = "gpu:1";
	o.time = "45";
	display("", &o, "python3 (Slurm: 1 node, gpu:1, 45min)");
	display(NULL, &o, "python3 (Slurm: 1 node, gpu:1, 45min)");
	/* A parenthesis that is part of the name stays. */
	memset(&o, 0, sizeof(o));
	display("Python(3)", &o, "Python(3) (Slurm: 1 node)");
	memset(&o, 0, sizeof(o));
	o.jobid = "1234";
	display("Python 3 (ipykernel)", &o, "Python 3 (Slurm: job 1234)");
	o.kernel_node = "n2";
	display("Python 3 (ipykernel)", &o,
		"Python 3 (Slurm: job 1234, node n2)");
}

static void test_display_name_too_long(void **state)
{
	struct sj_err err = { "" };
	struct gen_opts o;
	char buf[16];

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(gen_display_name("Python 3", "python3", &o, buf,
					  sizeof(buf), &err), -1);
	assert_non_null(strstr(err.msg, "give --display-name"));
}

static void name(const char *kernel, const struct gen_opts *o,
		 const char *want)
{
	struct sj_err err = { "" };
	char buf[256];

	if (gen_default_name(kernel, o, buf, sizeof(buf), &err))
		fail_msg("failed: %s", err.msg);
	assert_string_equal(buf, want);
}

static void test_default_names(void **state)
{
	struct gen_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	name("python3", &o, "slurm-python3");
	o.partition = "debug";
	name("python3", &o, "slurm-python3-debug");
	o.partition = "GPU,debug";
	name("ir", &o, "slurm-ir-gpu-debug");
	o.partition = NULL;
	o.jobid = "77";
	name("julia-1.9", &o, "slurm-julia-1.9-job77");
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_display_names),
	cmocka_unit_test(test_display_name_too_long),
	cmocka_unit_test(test_default_names))
