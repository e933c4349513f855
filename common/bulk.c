// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bulk: long lists of plain strings kept out of the cJSON tree (bulk.h),
 * taken by the JSON reader's hook as it meets them: a list is taken only
 * when it is, as written, a valid JSON array of plain strings.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "json.h"
#include "util.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t ws(const char *t, size_t i, size_t len)
{
	while (i < len && is_ws(t[i]))
		i++;
	return i;
}

/*
 * The reader's hook (json_take_fn): takes the list at t[i] when it is the
 * value of "from" or "to" or a member of "groups" and holds at least
 * BULK_MIN plain strings (no escapes, no control characters) and nothing
 * else. Returns the index past it, or 0.
 */
static size_t take(void *arg, const char *t, size_t i, size_t len,
		   const char *key, const char *okey, int *id)
{
	struct bulk *b = arg;
	size_t j = ws(t, i + 1, len), n = 0, bytes = 0, end;
	struct bulk_list *l;
	char *q;

	if (strcmp(key, "from") && strcmp(key, "to") &&
	    (!okey || strcmp(okey, "groups")))
		return 0;
	for (;;) { /* "string" (, "string")* ] -- nothing else */
		size_t k = j + 1;

		if (j >= len || t[j] != '"')
			return 0;
		while (k < len && t[k] != '"' && t[k] != '\\' &&
		       (unsigned char)t[k] >= 0x20)
			k++;
		if (k >= len || t[k] != '"')
			return 0;
		n++;
		bytes += k - j;
		j = ws(t, k + 1, len);
		if (j < len && t[j] == ']')
			break;
		if (j >= len || t[j] != ',')
			return 0;
		j = ws(t, j + 1, len);
	}
	if (n < BULK_MIN || bytes > UINT32_MAX || b->n >= INT_MAX)
		return 0;
	end = j + 1;
	xgrow((void **)&b->v, &b->cap, b->n, sizeof(*b->v));
	*id = (int)b->n;
	l = &b->v[b->n++];
	l->buf = q = xmalloc(bytes);
	l->off = xmalloc(n * sizeof(*l->off));
	l->n = 0;
	l->open = i;
	l->close = end - 1;
	for (j = i + 1; j < end; j++) {
		if (t[j] != '"')
			continue;
		size_t k = j + 1;

		while (t[k] != '"')
			k++;
		l->off[l->n++] = (uint32_t)(q - l->buf);
		memcpy(q, t + j + 1, k - j - 1);
		q += k - j - 1;
		*q++ = '\0';
		j = k;
	}
	return end;
}

cJSON *bulk_parse(const char *text, size_t len, struct bulk *b, char **err)
{
	cJSON *root;

	memset(b, 0, sizeof(*b));
	root = json_parse_taking(text, len, take, b, err);
	if (!root)
		bulk_free(b);
	return root;
}

const struct bulk_list *bulk_get(const struct bulk *b, const cJSON *v)
{
	if (!b || !v || !(v->type & JSON_TAKEN) || v->valueint < 0 ||
	    (size_t)v->valueint >= b->n)
		return NULL;
	return &b->v[v->valueint];
}

cJSON *bulk_copy(const cJSON *v, const struct bulk *b)
{
	const struct bulk_list *l = bulk_get(b, v);
	cJSON *c;

	if (l) {
		c = cJSON_CreateArray();
		for (size_t i = 0; i < l->n; i++)
			cJSON_AddItemToArray(c,
					     cJSON_CreateString(bulk_str(l, i)));
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		c = cJSON_IsArray(v) ? cJSON_CreateArray()
				     : cJSON_CreateObject();
		for (const cJSON *m = v->child; m; m = m->next) {
			cJSON *mc = bulk_copy(m, b);

			if (m->string)
				cJSON_AddItemToObject(c, m->string, mc);
			else
				cJSON_AddItemToArray(c, mc);
		}
	} else {
		c = cJSON_Duplicate(v, 0);
	}
	if (!c)
		abort();
	return c;
}

void bulk_free(struct bulk *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].buf);
		free(b->v[i].off);
	}
	free(b->v);
	memset(b, 0, sizeof(*b));
}
