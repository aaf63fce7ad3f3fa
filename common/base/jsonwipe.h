// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jsonwipe.h - jansson without leftover copies of secrets.
 *
 * jansson copies every string it parses or is given (the lexer's token
 * buffer, the json_t, the dump's growing buffer) and frees the copies
 * without clearing them, so a key read from or written to a JSON file
 * stays in freed heap memory, where a core dump would find it.
 */
#ifndef SJ_JSONWIPE_H
#define SJ_JSONWIPE_H

#include <jansson.h>
#include <stddef.h>

/* Makes jansson clear every block it frees, for the life of the process.
 * For programs only (the shim), before any other thread exists: a plugin
 * must not change its host's allocator, and could not undo it when it is
 * unloaded. */
void sj_json_wipe_frees(void);

/* The same, handing each cleared block to release rather than free(3):
 * for tests, which look at the blocks before they free them. */
void sj_json_wipe_frees_to(void (*release)(void *p));

/* Clears the text of a string value in place (it stays a string of NULs
 * of the same length); anything else is left alone.  Before the value is
 * freed: what jansson frees is cleared only with sj_json_wipe_frees. */
void sj_json_wipe_string(json_t *v);

/* json_dumps into a buffer of ours (json_dumpb: no intermediate copies);
 * NUL-terminated, malloc'd, NULL on failure.  The caller clears and frees
 * it. */
char *sj_json_dump_secret(const json_t *root, size_t flags);

#endif
