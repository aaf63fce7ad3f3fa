// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * child.h - waiting for a child process.
 */
#ifndef SJ_CHILD_H
#define SJ_CHILD_H

#include <sys/types.h>

/* Waits until child pid has ended, through signals that interrupt the
 * wait; *status (may be NULL) is waitpid's.  0, or -1 with errno (ECHILD:
 * not our child, or reaped already). */
int sj_wait_child(pid_t pid, int *status);

#endif
