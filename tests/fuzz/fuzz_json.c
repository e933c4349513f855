// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_json: libFuzzer target for the JSON reader (jsonread.c), checked
 * against cJSON: a document it reads, cJSON reads to the same tree (but
 * for what cJSON cannot read: numbers longer than 63 characters, more
 * than 512 levels); a document cJSON refuses, it refuses too.
 */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	char *err = NULL;
	cJSON *mine = json_parse(t, size, &err);
	cJSON *theirs = cJSON_ParseWithLength(t, size);

	if (mine && !theirs && !long_number(t, size))
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
