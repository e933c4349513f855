// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_json: libFuzzer target for the JSON reader (jsonread.c), checked
 * against cJSON both ways. A document it reads, cJSON reads to the same
 * tree (but for numbers longer than the 63 characters cJSON takes, and
 * a byte order mark with less than two bytes after it). A
 * document cJSON reads whole, it reads too (but for \u escapes cJSON
 * reads as a NUL character, which it refuses on purpose, and NUL bytes,
 * which json_parse refused before).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/jsame.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether t holds a run of number characters longer than cJSON takes. */
static bool long_number(const char *t, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		run = strchr("0123456789+-.eE", t[i]) && t[i] ? run + 1 : 0;
		if (run > 63)
			return true;
	}
	return false;
}

/* Whether t holds a \u escape that cJSON turns into a NUL character,
 * cutting its string short: "\u0000" or one without four hex digits
 * (refused here on purpose). */
static bool nul_escape(const char *t, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		size_t k = 0;

		if (t[i] != '\\' || t[i + 1] != 'u')
			continue;
		while (k < 4 && i + 2 + k < n && isxdigit((unsigned char)t[i + 2 + k]))
			k++;
		if (k < 4 || !memcmp(t + i + 2, "0000", 4))
			return true;
	}
	return false;
}

/* Whether cJSON read all of t: its value, then only blank space. */
static bool whole(const char *t, size_t n, const char *end)
{
	for (size_t i = end ? (size_t)(end - t) : n; i < n; i++)
		if (t[i] == '\0' || (unsigned char)t[i] > ' ')
			return false;
	return end != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data, *end = NULL;
	char *err = NULL;
	cJSON *mine = json_parse(t, size, &err);
	cJSON *theirs = cJSON_ParseWithLengthOpts(t, size, &end, 0);
	bool read = theirs && whole(t, size, end);

	/* cJSON skips a byte order mark only with 2 more bytes after it. */
	bool short_bom = size < 5 && size >= 3 && !memcmp(t, "\xef\xbb\xbf", 3);

	if (mine && !read && !long_number(t, size) && !short_bom)
		abort();
	if (!mine && read && !memchr(t, '\0', size) && !nul_escape(t, size))
		abort();
	if (mine && theirs && !jsame(mine, theirs))
		abort();
	if (!mine && !err)
		abort();
	json_free(mine);
	cJSON_Delete(theirs);
	free(err);
	return 0;
}
