// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * install.h - putting a kernelspec directory in place, and taking it away.
 *
 * The new directory is built beside the kernels directory (in the Jupyter
 * data directory, where Jupyter does not look for kernelspecs), complete
 * with its resources and kernel.json, and then renamed into place: Jupyter
 * sees the old spec or the new one, never a half-written one.  Replacing
 * swaps the two with renameat2(RENAME_EXCHANGE) where the file system can.
 * Removing renames the spec out of the kernels directory first.
 */
#ifndef GEN_INSTALL_H
#define GEN_INSTALL_H

#include "sj_err.h"

/* Writes kernels_dir/name: the regular files of resources (logos and
 * whatever else the wrapped kernel keeps there; not kernel.json, not
 * subdirectories, not dot files) and kernel.json with json_text.  The
 * kernelspec's directory is 0755 and its files 0644 whatever the umask (a
 * kernelspec holds no secret); missing directories above it are made as
 * mkdir -p would.  An existing kernels_dir/name is replaced only when
 * replace is set. */
int gen_install(const char *kernels_dir, const char *name,
		const char *resources, const char *json_text, int replace,
		struct sj_err *err);

/* Removes the kernelspec directory dir (".../kernels/NAME"). */
int gen_uninstall(const char *dir, struct sj_err *err);

#endif
