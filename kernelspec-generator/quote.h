// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * quote.h - arguments written so a shell reads them back unchanged.
 */
#ifndef GEN_QUOTE_H
#define GEN_QUOTE_H

#include <stdio.h>

#include "opts.h"

/* s as is when it has nothing a shell would interpret, else in single
 * quotes ('\'' for a quote inside). */
void gen_quote(FILE *f, const char *s);

/* Each of v, quoted, separated by spaces (a leading space each when
 * lead is set). */
void gen_quote_list(FILE *f, const struct gen_strv *v, int lead);

#endif
