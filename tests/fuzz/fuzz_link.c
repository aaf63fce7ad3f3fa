// SPDX-License-Identifier: GPL-2.0-or-later
/* What a peer of the link can send: Noise's first handshake message, as
 * the node shim reads it from whoever connects (it must not open without
 * the login shim's static secret, whatever its bytes); a transport message
 * (which must not open without the session's key, nor after a Rekey); and
 * the entries of an opened record, with and without parts allowed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[SJ_NOISE_KEYLEN] = { 1, 2, 3 };
	static const uint8_t s_secret[SJ_NOISE_DHLEN] = { 4, 5, 6 };
	static const uint8_t rs[SJ_NOISE_DHLEN] = { 9 };	/* a real point */
	static const uint8_t prologue[SJ_LINK_PROLOGUE_BYTES];
	struct sj_noise_cipher cs;
	struct sj_noise_kk hs;
	struct sj_buf plain = { 0 };
	uint8_t payload[SJ_NOISE_MSG_MAX];
	size_t plen;

	(void)sj_link_frames_valid(data, size, 0);
	(void)sj_link_frames_valid(data, size, 1);

	if (sj_noise_kk_init(&hs, 0, prologue, sizeof(prologue), s_secret, rs,
			     NULL) != 0)
		abort();
	if (sj_noise_kk_read(&hs, data, size, payload, sizeof(payload), &plen,
			     NULL) == 0)
		abort();	/* a forged handshake message opened */
	sj_noise_kk_wipe(&hs);

	/* As message 0, and as the first after a Rekey (nonce 3, every 3). */
	for (uint64_t n = 0; n <= 3; n += 3) {
		sj_noise_cipher_init(&cs, key);
		sj_noise_cipher_set_nonce(&cs, n);
		if (sj_link_open_msg(&cs, 3, data, size, &plain) == 0)
			abort();	/* a forged transport message opened */
		if (plain.len != 0)
			abort();	/* and left something behind */
	}
	sj_buf_free(&plain);
	return 0;
}
