// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kernelkind.h - which known kernels cannot use the ipc transport.
 *
 * xeus kernels (xeus-python's xpython, xeus-cling's xcpp, ...) read their
 * socket's endpoint back into a 32-byte buffer (xeus get_socket_port,
 * zmq last_endpoint) and abort with "zmq::error_t: Invalid argument" when
 * it is longer.  "ipc://" + the per-step directory + "/kernel-N" always is,
 * so they get loopback tcp.  Every other kernel keeps ipc: ipykernel and
 * IRkernel (1.3.2, tested) bind "ipc://IP-PORT" as Jupyter does.
 */
#ifndef SJ_KERNELKIND_H
#define SJ_KERNELKIND_H

#include <stddef.h>

/* NULL when nothing is known against ipc for the kernel of argv[0..argc),
 * else why, for a message ("a xeus kernel (...)").  Looks at argv[0]'s
 * base name only: a xeus kernel's kernelspec runs its own program. */
const char *sj_kernel_needs_tcp(const char *const *argv, size_t argc);

#endif
