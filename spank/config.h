// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * config.h - plugstack.conf arguments of spank_jupyter.so.
 *
 *   required /usr/lib/.../spank_jupyter.so runtime_dir=/run/spank-jupyter ...
 *
 * Pure logic (no SPANK calls) so that it is unit-tested on its own.  Every
 * argument is key=value; an unknown key, a repeated key or a bad value is an
 * error naming the argument.
 */
#ifndef SJ_CONFIG_H
#define SJ_CONFIG_H

#include "portrange.h"
#include "sj_err.h"

enum sj_kernel_transport { SJ_TRANSPORT_IPC, SJ_TRANSPORT_TCP };

struct sj_config {
	char runtime_dir[200];		/* node-local, absolute */
	struct sj_port_range relay_ports;
	char relay_address[64];		/* "" = the address facing srun */
	int rendezvous_timeout;		/* seconds, 1..600 */
	enum sj_kernel_transport kernel_transport;
};

void sj_config_defaults(struct sj_config *c);
/* Starts from the defaults; c is written only on success.  With
 * kernel_transport=ipc the runtime_dir must leave room for the kernel's
 * socket paths <runtime_dir>/<job>.<step>/kernel-<port> (at most 72
 * characters). */
int sj_config_parse(int ac, char **av, struct sj_config *c,
		    struct sj_err *err);

#endif
