// SPDX-License-Identifier: GPL-2.0-or-later
/* arena: chunks of memory handed out in order, released all at once. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "util.h"

#define CHUNK (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct fw_arena {
	struct chunk *head;
};

struct fw_arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct fw_arena));
}

void arena_free(struct fw_arena *a)
{
	if (!a)
		return;
	while (a->head) {
		struct chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
	free(a);
}

/* n bytes at the next multiple of align in the head chunk (a new chunk
 * when they do not fit): not zeroed. */
static void *take(struct fw_arena *a, size_t n, size_t align)
{
	struct chunk *c = a->head;
	size_t at = c ? (c->used + align - 1) / align * align : 0;
	void *p;

	if (!c || at > c->size || c->size - at < n) {
		size_t sz = n > CHUNK ? n : CHUNK;

		c = xmalloc(sizeof(*c) + sz);
		c->size = sz;
		c->next = a->head;
		a->head = c;
		at = 0;
	}
	p = (char *)c->data + at;
	c->used = at + n;
	return p;
}

void *arena_alloc(struct fw_arena *a, size_t n)
{
	void *p = take(a, n, sizeof(max_align_t));

	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct fw_arena *a, const char *s, size_t n)
{
	char *p = take(a, n + 1, 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *arena_memdup(struct fw_arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n);

	if (n)
		memcpy(q, p, n);
	return q;
}

char *arena_strdup(struct fw_arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_cat(struct fw_arena *a, ...)
{
	va_list ap;
	size_t n = 0;
	const char *p;
	char *s, *q;

	va_start(ap, a);
	while ((p = va_arg(ap, const char *)) != NULL)
		n += strlen(p);
	va_end(ap);
	s = q = take(a, n + 1, 1);
	va_start(ap, a);
	while ((p = va_arg(ap, const char *)) != NULL) {
		size_t k = strlen(p);

		memcpy(q, p, k);
		q += k;
	}
	va_end(ap);
	*q = '\0';
	return s;
}

char *arena_printf(struct fw_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s, *r;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	r = arena_strdup(a, s);
	free(s);
	return r;
}
