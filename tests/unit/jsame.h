/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jsame: whether a tree read by json_parse (jsonread.c) is, node for
 * node, the tree cJSON reads: types, keys, strings, numbers (exactly,
 * valueint too), member order -- and that its links are cJSON's (prev
 * of a first member is the last). For test_json and fuzz_json.
 */
#ifndef FW_JSAME_H
#define FW_JSAME_H

#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

static inline bool jsame(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y, *last = NULL;

	if ((a->type & 0xff) != (b->type & 0xff) || !a->string != !b->string ||
	    (a->string && strcmp(a->string, b->string)))
		return false;
	if (cJSON_IsString(a))
		return !strcmp(a->valuestring, b->valuestring);
	if (cJSON_IsNumber(a))
		return (a->valuedouble == b->valuedouble ||
			(a->valuedouble != a->valuedouble &&
			 b->valuedouble != b->valuedouble)) &&
		       a->valueint == b->valueint;
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next) {
		if ((x != a->child && x->prev != last) || !jsame(x, y))
			return false;
		last = x;
	}
	if (a->child && a->child->prev != last)
		return false;
	return !x && !y;
}

#endif
