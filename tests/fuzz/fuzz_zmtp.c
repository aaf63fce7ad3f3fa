// SPDX-License-Identifier: GPL-2.0-or-later
/* ZMTP bytes from a client of the login shim or from the kernel: the
 * handshake, then messages, parsed as they arrive in pieces of the sizes
 * the first bytes choose, and every frame walked. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "zmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void frames(const uint8_t *p, size_t n)
{
	uint8_t flags;
	const uint8_t *body;
	size_t len;

	for (size_t off = 0; off < n;) {
		long l = sj_zmtp_parse_frame(p + off, n - off, &flags, &body,
					     &len);

		if (l <= 0)
			return;
		off += (size_t)l;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sj_buf in = { 0 };
	enum sj_zmtp_state state = SJ_ZMTP_GREETING;
	struct sj_zmtp_scan scan;
	size_t step, fed = 0;
	char type[16];

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	memset(&scan, 0, sizeof(scan));
	while (fed < size) {
		size_t n = size - fed < step ? size - fed : step;
		const uint8_t *body, *id;
		size_t blen, idlen;

		if (sj_buf_reserve(&in, n) != 0)
			break;
		memcpy(in.p + in.len, data + fed, n);
		in.len += n;
		fed += n;
		if (state != SJ_ZMTP_OPEN) {
			int r = sj_zmtp_handshake(&in, &state, &body, &blen);

			if (r < 0)
				break;
			if (r == 0)
				continue;
			if (sj_zmtp_ready_parse(body, blen, type,
						sizeof(type), &id,
						&idlen) != 0)
				break;
			state = SJ_ZMTP_OPEN;
		}
		for (;;) {
			int command, r = sj_zmtp_scan(&scan, in.p + in.off,
						      in.len - in.off,
						      &command);

			if (r < 0)
				goto out;
			if (r == 0)
				break;
			frames(in.p + in.off, scan.end);
			in.off += scan.end;
			memset(&scan, 0, sizeof(scan));
		}
		sj_buf_consumed(&in);
	}
out:
	sj_buf_free(&in);
	return 0;
}
