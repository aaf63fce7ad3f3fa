// SPDX-License-Identifier: GPL-2.0-or-later
/* The rendezvous as a stranger can send it: a frame header on the login
 * shim's port, the text of a HELLO or WELCOME (after MUNGE, but checked as
 * if anything could be in it), and the spec in srun's argument. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_hello h;
	struct sj_welcome w;
	struct sj_rdv_spec spec;
	struct sj_err err;
	size_t len;
	char *s;

	if (size >= SJ_FRAME_HEADER)
		(void)sj_frame_header_parse(data, 4096, &len, &err);
	(void)sj_hello_decode((const char *)data, size, &h, &err);
	(void)sj_welcome_decode((const char *)data, size, &w, &err);
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sj_rdv_spec_parse(s, &spec, &err) == 0) {
		char back[512];

		(void)sj_rdv_spec_format(&spec, back, sizeof(back), &err);
	}
	free(s);
	return 0;
}
