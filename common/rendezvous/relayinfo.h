// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relayinfo.h - what the plugin hands to `slurm-jupyter-shim --node`.
 *
 * In task_init the plugin binds the relay's listening socket (so no
 * other process can take the ports between choosing and using them), leaves
 * it open across execve, and writes relay.json (0600) into the step's
 * private directory.  The node shim finds the directory in the environment
 * variable SLURM_JUPYTER_DIR (a path, not a secret).
 */
#ifndef SJ_RELAYINFO_H
#define SJ_RELAYINFO_H

#include "connfile.h"
#include "rendezvous.h"
#include "sj_err.h"

#define SJ_ENV_DIR "SLURM_JUPYTER_DIR"
#define SJ_RELAY_FILE "relay.json"
#define SJ_KERNEL_FILE "kernel.json"

struct sj_relayinfo {
	char address[64];			/* where the relay listens */
	/* The login shim's address, as the rendezvous reached it: the link
	 * is taken from there only. */
	char login_address[64];
	int port;
	int fd;					/* inherited listening socket */
	/* The link's static keys (SJ_KEY_HEX lowercase hex digits). */
	char server_public[SJ_KEY_HEX + 1];
	char server_secret[SJ_KEY_HEX + 1];
	char client_public[SJ_KEY_HEX + 1];	/* the only client allowed */
	/* The rendezvous, which the link's Noise prologue binds
	 * (sj_link_bind): both nonces, the job and step. */
	char nonce[SJ_NONCE_HEX + 1];
	char node_nonce[SJ_NONCE_HEX + 1];
	uint32_t job_id;
	uint32_t step_id;
};

/* Writes ri as JSON (0600, atomically) after checking it as load would. */
int sj_relayinfo_write(const char *path, const struct sj_relayinfo *ri,
		       struct sj_err *err);
/* Reads it back strictly: unknown, duplicate, missing, mistyped or
 * malformed keys are errors that name the key. */
int sj_relayinfo_load(const char *path, struct sj_relayinfo *ri,
		      struct sj_err *err);

#endif
