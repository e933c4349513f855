// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * json: the strict layer between cJSON trees and the policy walker. It reports
 * problems into a diagnostics list and never prints.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

static bool listed(const char *k, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (k[0] == (*allowed)[0] && !strcmp(k, *allowed))
			return true;
	return false;
}

static char *join_names(const char *const *names)
{
	struct fw_buf b = {0};

	for (const char *const *n = names; *n; n++)
		buf_printf(&b, "%s%s", n == names ? "" : ", ", *n);
	return b.s;
}

bool json_check_keys(struct fw_diags *d, const char *file, const char *path,
		     const cJSON *obj, const char *const *allowed)
{
	bool ok = true;

	for (const cJSON *c = obj->child; c; c = c->next) {
		char *p = NULL;
		const cJSON *e;

		if (!listed(c->string, allowed)) {
			p = json_path_key(path, c->string);
			const char *near = json_suggest(c->string, allowed);
			char *all = join_names(allowed);

			if (near)
				diags_add(d, file, p,
					  "unknown key \"%s\" (did you mean "
					  "\"%s\"?)",
					  c->string, near);
			else
				diags_add(d, file, p,
					  "unknown key \"%s\" (expected one "
					  "of: %s)",
					  c->string, all);
			free(all);
			ok = false;
		}
		for (e = obj->child; e != c; e = e->next)
			if (!strcmp(e->string, c->string))
				break;
		if (e != c) {
			if (!p)
				p = json_path_key(path, c->string);
			diags_add(d, file, p, "duplicate key \"%s\"",
				  c->string);
			ok = false;
		}
		free(p);
	}
	return ok;
}

char *json_describe(const cJSON *v)
{
	if (cJSON_IsString(v)) {
		size_t n = strlen(v->valuestring);

		if (n > 40)
			return xasprintf("\"%.37s...\"", v->valuestring);
		return xasprintf("\"%s\"", v->valuestring);
	}
	if (cJSON_IsNumber(v)) {
		if (!isfinite(v->valuedouble))
			return xstrdup("a number out of range");
		return xasprintf("%.17g", v->valuedouble);
	}
	if (cJSON_IsTrue(v))
		return xstrdup("true");
	if (cJSON_IsFalse(v))
		return xstrdup("false");
	if (cJSON_IsNull(v))
		return xstrdup("null");
	if (cJSON_IsArray(v))
		return xstrdup("a list");
	return xstrdup("an object");
}

bool json_int(const cJSON *v, double min, double max, long long *out)
{
	double x;

	if (!cJSON_IsNumber(v))
		return false;
	x = v->valuedouble;
	if (!isfinite(x) || x != floor(x) || x < min || x > max)
		return false;
	*out = (long long)x;
	return true;
}

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), *row, r;

	if (la > 64 || lb > 64)
		return 99;
	row = xcalloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best;

			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	r = row[lb];
	free(row);
	return r;
}

const char *json_suggest(const char *s, const char *const *names)
{
	const char *best = NULL;
	size_t bd = 99, limit = strlen(s) <= 4 ? 1 : 2;

	for (; *names; names++) {
		size_t dd = distance(s, *names);

		if (dd < bd) {
			bd = dd;
			best = *names;
		}
	}
	return bd <= limit ? best : NULL;
}

/* Without printf: the walker makes one per node. */
char *json_path_key(const char *parent, const char *key)
{
	size_t plen, klen = strlen(key);
	char *s;

	if (!parent || !parent[0])
		return xstrdup(key);
	plen = strlen(parent);
	s = xmalloc(plen + 1 + klen + 1);
	memcpy(s, parent, plen);
	s[plen] = '.';
	memcpy(s + plen + 1, key, klen + 1);
	return s;
}

size_t json_path_idx_in(char *out, const char *parent, size_t plen,
			size_t i)
{
	char digits[24], *d = digits + sizeof(digits);
	size_t n;

	do
		*--d = (char)('0' + i % 10);
	while ((i /= 10));
	n = (size_t)(digits + sizeof(digits) - d);
	memcpy(out, parent, plen);
	out[plen] = '[';
	memcpy(out + plen + 1, d, n);
	out[plen + 1 + n] = ']';
	out[plen + 2 + n] = '\0';
	return plen + 2 + n;
}

char *json_path_idx(const char *parent, size_t i)
{
	size_t plen = parent ? strlen(parent) : 0;
	char *s = xmalloc(plen + 24);

	json_path_idx_in(s, parent ? parent : "", plen, i);
	return s;
}
