// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"
#include "forward.h"
#include "logtext.h"

void shim_log_init(void)
{
	sj_log_init(SJ_SHIM_LOG_PREFIX, sj_log_to_stderr);
}

void shim_note(void *arg, int debug, const char *msg)
{
	(void)arg;
	sj_log(debug ? SJ_LOG_DEBUG : SJ_LOG_ERROR, "%s", msg);
}

void shim_debug_forwarded(const struct sj_channels *ch)
{
	char st[512];

	sj_channels_stats(ch, st, sizeof(st));
	shim_debug("forwarded: %s", st);
}
