// SPDX-License-Identifier: GPL-2.0-or-later
/* plugstack.conf arguments: the bytes split at NUL into argv. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *av[64];
	struct sj_config c;
	struct sj_err err;
	int ac = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size && ac < 64;) {
		av[ac++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	(void)sj_config_parse(ac, av, &c, &err);
	free(buf);
	return 0;
}
