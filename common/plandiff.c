// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * plandiff: splits two nft texts into items (a rule line, a chain's hook
 * and policy, one set element, a counter) labelled with their block, and
 * reports the items only one side has. Pure text work; no kernel.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plandiff.h"

struct items {
	char **v;
	size_t n, cap;
};

static void item_add(struct items *it, const char *block, const char *what,
		     size_t len)
{
	while (len && (what[len - 1] == ' ' || what[len - 1] == ','))
		len--;
	while (len && *what == ' ') {
		what++;
		len--;
	}
	if (!len)
		return;
	xgrow((void **)&it->v, &it->cap, it->n, sizeof(char *));
	it->v[it->n++] = xasprintf("%s: %.*s", block, (int)len, what);
}

/* "elements = { a, b,\n c }" -> one item per element. */
static const char *elements(struct items *it, const char *block,
			    const char *p)
{
	p = strchr(p, '{') + 1;
	for (;;) {
		size_t n;

		p += strspn(p, " \t\n");
		n = strcspn(p, ",}\n");
		char *e = xasprintf("element %.*s", (int)n, p);

		/* the element text, without the "element " if it is blank */
		if (strspn(p, " \t") < n)
			item_add(it, block, e, strlen(e));
		free(e);
		p += n;
		if (*p == '}' || !*p)
			return *p ? p + 1 : p;
		p++;
	}
}

static void split(const char *text, struct items *it)
{
	char block[160] = "table";
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *s = p + strspn(p, "\t ");
		size_t sl = len - (size_t)(s - p);

		/* A block opens with "chain|set|map|counter NAME {"; a rule
		 * line may start with "counter" too. */
		bool opens = sl >= 2 && s[sl - 1] == '{' &&
			     (!strncmp(s, "chain ", 6) ||
			      !strncmp(s, "set ", 4) ||
			      !strncmp(s, "map ", 4) ||
			      !strncmp(s, "counter ", 8));

		if (opens) {
			snprintf(block, sizeof(block), "%.*s", (int)(sl - 2), s);
			if (!strncmp(s, "counter ", 8))
				item_add(it, "counter", s + 8, sl - 10);
		} else if (!strncmp(s, "elements = {", 12)) {
			p = elements(it, block, s);
			continue;
		} else if (!strncmp(s, "type ", 5) && !strncmp(block, "chain", 5)) {
			item_add(it, block, s, sl);
		} else if (strncmp(block, "chain", 5) == 0 && sl > 1 &&
			   *s != '}') {
			item_add(it, block, s, sl);
		}
		p += len + (eol != NULL);
	}
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the items of a that b lacks (as multisets), in a's order. */
static size_t only_in(const struct items *a, const struct items *b,
		      char sign, struct fw_buf *out)
{
	char **sorted = xmalloc((b->n + 1) * sizeof(char *));
	char *used = xcalloc(b->n + 1, 1);
	size_t changes = 0;

	if (b->n)
		memcpy(sorted, b->v, b->n * sizeof(char *));
	qsort(sorted, b->n, sizeof(char *), cmp);
	for (size_t i = 0; i < a->n; i++) {
		char **hit = bsearch(&a->v[i], sorted, b->n, sizeof(char *), cmp);

		/* step to the first unused equal entry */
		while (hit && hit > sorted && !strcmp(hit[-1], a->v[i]))
			hit--;
		while (hit && hit < sorted + b->n && !strcmp(*hit, a->v[i]) &&
		       used[hit - sorted])
			hit++;
		if (hit && hit < sorted + b->n && !strcmp(*hit, a->v[i])) {
			used[hit - sorted] = 1;
			continue;
		}
		buf_printf(out, "%c %s\n", sign, a->v[i]);
		changes++;
	}
	free(sorted);
	free(used);
	return changes;
}

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->v[i]);
	free(it->v);
}

size_t plandiff(const char *old_text, const char *new_text,
		struct fw_buf *out)
{
	struct items a = {0}, b = {0};
	size_t n;

	split(old_text ? old_text : "", &a);
	split(new_text, &b);
	buf_add(out, "", 0);
	n = only_in(&a, &b, '-', out);
	n += only_in(&b, &a, '+', out);
	items_free(&a);
	items_free(&b);
	return n;
}
