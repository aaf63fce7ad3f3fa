// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>

#include "child.h"
#include "logger.h"
#include "spawn.h"
#include "testutil.h"

/* Runs sp to its end with its stdout and stderr in the file at path;
 * returns its exit code and leaves what it printed in out. */
static int run_to_file(struct sj_spawn *sp, const char *path, char *out,
		       size_t len)
{
	struct sj_err err = { "" };
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int status = 0;
	ssize_t n;
	pid_t pid;

	assert_true(fd >= 0);
	sp->stdout_fd = sp->stderr_fd = fd;
	assert_ok(sj_spawn(sp, &pid, &err), err);
	assert_int_equal(sj_wait_child(pid, &status), 0);
	n = pread(fd, out, len - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	return sj_exit_code(status);
}

/* The child has the environment, descriptors and stdin it is given. */
static void test_child_gets_what_it_is_given(void **state)
{
	static char *env[] = { "SJ_X=given", NULL };
	struct tmp *t = *state;
	/* Inheritable, at a number the scripts name. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int extra = dup2(null, 9);
	char out[256];
	static const struct {
		const char *name, *script;
		int keep, code;
		const char *want;
	} cases[] = {
		{ "environment as given", "echo \"$SJ_X ${HOME:-nohome}\"", 0,
		  0, "given nohome\n" },
		{ "stdin is /dev/null", "cat; echo done", 0, 0, "done\n" },
		{ "a kept fd stays", "echo x >&9 && echo ok", 1, 0, "ok\n" },
		{ "other fds are closed", "{ echo x >&9; } 2>/dev/null || echo no",
		  0, 0, "no\n" },
		{ "exit code", "exit 7", 0, 7, "" },
	};

	assert_int_equal(extra, 9);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { "/bin/sh", "-c", (char *)cases[i].script,
				 NULL };
		struct sj_spawn sp = { .argv = argv, .envp = env,
				       .stdin_fd = -1,
				       .keep_fds = &extra,
				       .nkeep = cases[i].keep };
		int code;

		code = run_to_file(&sp, at(t, "out"), out, sizeof(out));
		if (code != cases[i].code || strcmp(out, cases[i].want) != 0)
			fail_msg("%s: exit %d, \"%s\"", cases[i].name, code,
				 out);
	}
	close(extra);
	close(null);
}

/* A program that is not there: an error for the caller, or a shell's
 * message and 127 from the child. */
static void test_exec_failure(void **state)
{
	char *argv[] = { "sj-no-such-command", NULL };
	struct tmp *t = *state;
	struct sj_spawn sp = { .argv = argv, .stdin_fd = -1,
			       .stdout_fd = -1, .stderr_fd = -1 };
	struct sj_err err = { "" };
	char out[256];
	pid_t pid = -1;

	assert_fails(sj_spawn(&sp, &pid, &err), err,
		     "cannot run sj-no-such-command: No such file or "
		     "directory");
	sj_log_init("prog: ", NULL);
	sp.exec_fail = SJ_EXEC_FAIL_EXIT127;
	assert_int_equal(run_to_file(&sp, at(t, "out"), out, sizeof(out)),
			 127);
	assert_string_equal(out, "prog: cannot run sj-no-such-command: No "
			    "such file or directory\n");
}

SJ_TEST_MAIN(
	cmocka_unit_test_setup_teardown(
		test_child_gets_what_it_is_given, tmpdir_setup,
		tmpdir_teardown),
	cmocka_unit_test_setup_teardown(test_exec_failure,
					tmpdir_setup, tmpdir_teardown))
