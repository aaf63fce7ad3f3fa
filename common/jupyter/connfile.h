// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * connfile.h - Jupyter connection files.
 *
 * The shim reads the one Jupyter wrote on the login node; the plugin writes
 * the kernel's own on the compute node.  Parsing is strict: a connection
 * file is a secret-bearing input from disk, so anything unexpected is an
 * error that names the field, never a guess.
 */
#ifndef SJ_CONNFILE_H
#define SJ_CONNFILE_H

#include <stddef.h>

#include "sj_err.h"

/* Largest connection file we read; real ones are ~300 bytes. */
#define SJ_CONNFILE_MAX_BYTES (64 * 1024)
/* Longest HMAC key accepted (Jupyter uses a 36-char uuid4 string). */
#define SJ_KEY_MAX 512

enum sj_channel {
	SJ_SHELL = 0,
	SJ_IOPUB,
	SJ_STDIN,
	SJ_CONTROL,
	SJ_HB,
	SJ_NCHANNELS
};

/* What Jupyter replaces with the connection file's path in a kernelspec's
 * argv. */
#define SJ_CONNFILE_TOKEN "{connection_file}"

/* "shell", "iopub", ...; "?" for no channel. */
const char *sj_channel_name(enum sj_channel ch);

struct sj_connfile {
	char transport[8];		/* "tcp" or "ipc" */
	char ip[256];			/* tcp: address; ipc: path prefix */
	int ports[SJ_NCHANNELS];	/* tcp: 1..65535; ipc: >= 0 */
	char key[SJ_KEY_MAX + 1];	/* may be empty (no signing) */
	char signature_scheme[32];	/* "hmac-sha256", ... */
	char kernel_name[128];		/* optional, "" if absent */
};

/* Parses JSON text (need not be NUL-terminated). */
int sj_connfile_parse(const char *json, size_t len, struct sj_connfile *cf,
		      struct sj_err *err);

/* Reads and parses a file: must be a regular file of at most
 * SJ_CONNFILE_MAX_BYTES. */
int sj_connfile_load(const char *path, struct sj_connfile *cf,
		     struct sj_err *err);

/* Returns malloc'd JSON text; the caller clears (it holds the key) and
 * frees it. */
char *sj_connfile_dump(const struct sj_connfile *cf, struct sj_err *err);

/* Writes the file with mode 0600 atomically (temp file in the same
 * directory, fsync, rename); an existing file is replaced. */
int sj_connfile_write(const char *path, const struct sj_connfile *cf,
		      struct sj_err *err);

/* "tcp://1.2.3.4:5555" (IPv6 in brackets) or "ipc:///path-5555" for one
 * channel; the ipc form is Jupyter's "IP-PORT" convention. */
int sj_connfile_endpoint(const struct sj_connfile *cf, enum sj_channel ch,
			 char *buf, size_t len, struct sj_err *err);

/* Checks an HMAC key and signature scheme as the connection file rules
 * want them (also used for the copy carried by the rendezvous): the key
 * fits SJ_KEY_MAX; the scheme is [A-Za-z0-9_-], fits the struct, and starts
 * with "hmac-" unless the key is empty (no signing). */
int sj_connfile_check_signing(const char *key, const char *scheme,
			      struct sj_err *err);

#endif
