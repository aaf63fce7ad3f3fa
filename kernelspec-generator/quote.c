// SPDX-License-Identifier: GPL-2.0-or-later
#include "quote.h"

#include <string.h>

static const char safe[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	"_@%+=:,./-";

void gen_quote(FILE *f, const char *s)
{
	if (s[0] != '\0' && strspn(s, safe) == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

void gen_quote_list(FILE *f, const struct gen_strv *v, int lead)
{
	for (size_t i = 0; i < v->n; i++) {
		if (lead || i > 0)
			fputc(' ', f);
		gen_quote(f, v->v[i]);
	}
}
