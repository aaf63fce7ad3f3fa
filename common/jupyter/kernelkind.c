// SPDX-License-Identifier: GPL-2.0-or-later
#include "kernelkind.h"

#include <string.h>

/* The xeus kernels' programs (their kernelspecs run them directly). */
static const char *const xeus_programs[] = {
	"xpython", "xcpp", "xcpp11", "xcpp14", "xcpp17", "xcpp20", "xr",
	"xlua", "xsqlite", "xsql", "xoctave", "xwren", "xjavascript", "xnode",
	"xeus-python", "xeus-cling", "xeus-octave", "xeus-r", "xeus-lua",
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

const char *sj_kernel_needs_tcp(const char *const *argv, size_t argc)
{
	const char *b;

	if (argc == 0 || argv[0] == NULL)
		return NULL;
	b = base_name(argv[0]);
	for (size_t i = 0; i < sizeof(xeus_programs) / sizeof(*xeus_programs);
	     i++)
		if (strcmp(b, xeus_programs[i]) == 0)
			return "a xeus kernel (xeus aborts on an ipc endpoint "
			       "of 32 bytes or more)";
	return NULL;
}
