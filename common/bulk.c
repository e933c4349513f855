// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bulk: long lists of plain strings kept out of the cJSON tree (bulk.h).
 * The scanner below only has to find lists; json_parse still checks the
 * whole document, and a list is taken only when it is, as written, a valid
 * JSON array of plain strings.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "json.h"
#include "util.h"

/* What a taken list is replaced with: "\u0001<index>". */
#define MARK '\x01'
#define MARK_TEXT "\\u0001"
#define MAX_DEPTH 64

struct frame {
	bool obj;
	const char *key; /* the key this container is the value of */
	size_t klen;
};

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

static bool key_is(const char *k, size_t klen, const char *name)
{
	return k && klen == strlen(name) && !memcmp(k, name, klen);
}

/* The end (index past the closing quote) of the string opening at i, or
 * len when it does not close. */
static size_t string_end(const char *t, size_t i, size_t len)
{
	for (i++; i < len; i++) {
		if (t[i] == '\\')
			i++;
		else if (t[i] == '"')
			return i + 1;
	}
	return len;
}

/*
 * If the array opening at i is a list of at least BULK_MIN plain strings
 * (no escapes, no control characters), moves them into a new list of b
 * and overwrites the array; returns the index past it, or 0.
 */
static size_t take(char *t, size_t i, size_t len, struct bulk *b)
{
	size_t j = ws(t, i + 1, len), n = 0, bytes = 0, end;
	struct bulk_list *l;
	char *q, mark[32];
	int mlen;

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
	if (n < BULK_MIN || bytes > UINT32_MAX)
		return 0;
	end = j + 1;
	mlen = snprintf(mark, sizeof(mark), "\"" MARK_TEXT "%zu\"", b->n);
	if (mlen < 0 || (size_t)mlen > end - i)
		return 0;
	xgrow((void **)&b->v, &b->cap, b->n, sizeof(*b->v));
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
	memcpy(t + i, mark, (size_t)mlen);
	for (j = i + (size_t)mlen; j < end; j++)
		if (t[j] != '\n')
			t[j] = ' ';
	return end;
}

/* Finds and takes the long lists of t (writable, len bytes). */
static void scan(char *t, size_t len, struct bulk *b)
{
	struct frame st[MAX_DEPTH];
	size_t depth = 0, i = 0, klen = 0;
	const char *key = NULL;

	while (i < len) {
		char c = t[i];

		if (c == '"') {
			size_t e = string_end(t, i, len);

			if (depth && st[depth - 1].obj && ws(t, e, len) < len &&
			    t[ws(t, e, len)] == ':') {
				key = t + i + 1;
				klen = e - i - 2;
			}
			i = e;
			continue;
		}
		if (c == '[' && depth && st[depth - 1].obj &&
		    (key_is(key, klen, "from") || key_is(key, klen, "to") ||
		     key_is(st[depth - 1].key, st[depth - 1].klen,
			    "groups"))) {
			size_t e = take(t, i, len, b);

			if (e) {
				i = e;
				key = NULL;
				continue;
			}
		}
		if (c == '{' || c == '[') {
			if (depth == MAX_DEPTH)
				return; /* json_parse will judge the rest */
			st[depth++] = (struct frame){c == '{', key, klen};
			key = NULL;
		} else if ((c == '}' || c == ']') && depth) {
			depth--;
			key = NULL;
		}
		i++;
	}
}

cJSON *bulk_parse(const char *text, size_t len, struct bulk *b, char **err)
{
	char *copy;
	cJSON *root;

	memset(b, 0, sizeof(*b));
	/* A document that holds the mark itself, escaped or raw, is parsed
	 * as it is. */
	if (memmem(text, len, MARK_TEXT, strlen(MARK_TEXT)) ||
	    memchr(text, MARK, len) || memchr(text, '\0', len))
		return json_parse(text, len, err);
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	scan(copy, len, b);
	root = json_parse(copy, len, err);
	free(copy);
	if (!root && b->n) {
		/* Report against the text as written. */
		free(*err);
		bulk_free(b);
		return json_parse(text, len, err);
	}
	return root;
}

const struct bulk_list *bulk_get(const struct bulk *b, const cJSON *v)
{
	char *end;
	unsigned long i;

	if (!b || !b->n || !cJSON_IsString(v) || v->valuestring[0] != MARK)
		return NULL;
	i = strtoul(v->valuestring + 1, &end, 10);
	return *end || end == v->valuestring + 1 || i >= b->n ? NULL
							      : &b->v[i];
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
