// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "kernelkind.h"
#include "opts.h"
#include "spec.h"
#include "testutil.h"

static const char *needs(const char *argv0)
{
	const char *v[] = { argv0, "-f", "{connection_file}" };

	return sj_kernel_needs_tcp(v, 3);
}

/* The kernelspecs Debian ships: xpython and xpython-raw run xeus-python,
 * which aborts on our ipc endpoints; ipykernel and IRkernel do not. */
static void test_known_kernels(void **state)
{
	(void)state;
	assert_non_null(needs("/usr/bin/xpython"));
	assert_non_null(strstr(needs("/usr/bin/xpython"), "xeus"));
	assert_non_null(needs("xpython"));
	assert_non_null(needs("/opt/conda/bin/xcpp17"));
	assert_null(needs("/usr/bin/python3"));
	assert_null(needs("R"));
	assert_null(needs("/usr/bin/julia"));
}

/* The base name must be the whole program name: not a prefix, not a
 * directory. */
static void test_only_the_program_name(void **state)
{
	(void)state;
	assert_null(needs("/usr/bin/xpython3"));
	assert_null(needs("/opt/xpython/bin/python3"));
	assert_null(needs("/usr/bin/xpython/"));
	assert_null(needs(""));
	assert_null(sj_kernel_needs_tcp(NULL, 0));
}

static void test_generator_choice(void **state)
{
	struct gen_opts o;
	json_t *xp = test_json("{\"argv\": [\"/usr/bin/xpython\", \"-f\", "
			     "\"{connection_file}\", \"--raw\"]}");
	json_t *ir = test_json("{\"argv\": [\"R\", \"--slave\", \"-e\", "
			     "\"IRkernel::main()\", \"--args\", "
			     "\"{connection_file}\"]}");
	json_t *odd = test_json("{\"argv\": [1]}");
	const char *why = "unset";

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_string_equal(gen_spec_transport(&o, xp, &why), "tcp");
	assert_non_null(why);
	assert_null(gen_spec_transport(&o, ir, &why));
	assert_null(why);
	assert_null(gen_spec_transport(&o, odd, &why));
	/* What the user asked for wins, and is not "chosen here". */
	o.kernel_transport = "ipc";
	assert_string_equal(gen_spec_transport(&o, xp, &why), "ipc");
	assert_null(why);
	o.kernel_transport = "tcp";
	assert_string_equal(gen_spec_transport(&o, ir, &why), "tcp");
	assert_null(why);
	json_decref(xp);
	json_decref(ir);
	json_decref(odd);
}

SJ_TEST_MAIN(
	cmocka_unit_test(test_known_kernels),
	cmocka_unit_test(test_only_the_program_name),
	cmocka_unit_test(test_generator_choice))
