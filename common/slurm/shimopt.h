// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shimopt.h - the shim's own options before -f, the one grammar for them.
 *
 * The shim parses its kernel.json argv with these (shim/args.c), and
 * jupyter slurm writes (kernelspec-generator/spec.c) and reads back
 * (kernelspec-generator/split.c) kernelspecs with them: whatever is not
 * one of them goes to salloc, so an option known to one and not the other
 * would be taken for a salloc option.
 */
#ifndef SJ_SHIMOPT_H
#define SJ_SHIMOPT_H

enum sj_shimopt {
	SJ_SHIMOPT_NONE = -1,	/* not a shim option: salloc's */
	SJ_SHIMOPT_JOBID,
	SJ_SHIMOPT_RENDEZVOUS_HOST,
	SJ_SHIMOPT_SETUP,
	SJ_SHIMOPT_KERNEL_NODE,
	SJ_SHIMOPT_SRUN_ARG,
	SJ_SHIMOPT_KERNEL_TRANSPORT,
	SJ_SHIMOPT_LINGER,
	SJ_SHIMOPT_NODE_SHIM,
	SJ_SHIMOPT_SHARE,
	SJ_SHIMOPT_SHIM_VERBOSE,
	SJ_SHIMOPT_WARN_BEFORE,
	SJ_SHIMOPT_IDLE_TIMEOUT,
	SJ_SHIMOPT_COUNT
};

/* The option as written in argv, e.g. "--linger". */
const char *sj_shimopt_name(enum sj_shimopt o);

/* Whether the option takes a value ("--name=VALUE" or "--name VALUE"). */
int sj_shimopt_has_value(enum sj_shimopt o);

/*
 * Which shim option argv[*i] is, of argc arguments.  For an option with a
 * value, *value is set and, when the value is the next argument, *i moves
 * onto it.  A valued option without its value (last in argv) is not the
 * shim's: salloc will name it.  Returns SJ_SHIMOPT_NONE for anything else.
 */
enum sj_shimopt sj_shimopt_match(int argc, const char *const *argv, int *i,
				 const char **value);

/* The longest duration an option of the shim takes: 7 days. */
#define SJ_SHIMOPT_DURATION_LONGEST (7 * 24 * 3600)

/* How a duration at the start of a value reads. */
enum sj_duration_status {
	SJ_DURATION_OK = 0,
	SJ_DURATION_NO_NUMBER,		/* does not start with a digit */
	SJ_DURATION_NO_UNIT,		/* digits not followed by s, m or h */
	SJ_DURATION_RANGE,		/* 0, or beyond 7 days */
};

/*
 * One duration of the shim's options (--idle-timeout, each of
 * --warn-before's) at s: digits and a unit, s, m or h ("90s", "30m",
 * "2h"), 1 s to SJ_SHIMOPT_DURATION_LONGEST.  On SJ_DURATION_OK,
 * *seconds is set and *end points past the unit; the caller names the
 * option in its message for any other status.
 */
enum sj_duration_status sj_shimopt_duration(const char *s, const char **end,
					    unsigned *seconds);

#endif
