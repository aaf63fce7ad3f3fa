// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sitedef.h - the site's defaults for the shim's options (shimconf.h) as
 * jupyter slurm show and doctor tell them: what a kernelspec's kernel
 * gets for each, and from where.
 */
#ifndef GEN_SITEDEF_H
#define GEN_SITEDEF_H

#include <stddef.h>
#include <stdio.h>

#include "shimconf.h"
#include "sj_err.h"
#include "split.h"

/* Seconds as a duration of the shim's grammar: "0", "90s", "30m", "2h". */
void gen_duration_text(unsigned seconds, char *buf, size_t len);

/* One line per key (shimconf.h's order), "KEY=VALUE (line N)" for each
 * the file sets, joined by ", "; "nothing" if it sets none. */
void gen_site_sets(const struct sj_shimconf *c, char *buf, size_t len);

/*
 * show's lines, "  LABEL  VALUE (FROM)", for --idle-timeout,
 * --warn-before and --linger of kernelspec s: FROM is "kernelspec",
 * "site default, PATH line N" or "built-in default".  c: the site file's
 * settings (none set when there is no file).
 */
void gen_site_print(FILE *f, const struct gen_split *s,
		    const struct sj_shimconf *c, const char *path);

#endif
