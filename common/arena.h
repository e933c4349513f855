/* SPDX-License-Identifier: GPL-2.0-or-later */
/* arena: bump allocator for IR and plan nodes, freed in one call. */
#ifndef FW_ARENA_H
#define FW_ARENA_H

#include <stddef.h>

struct fw_arena;

struct fw_arena *arena_new(void);
void arena_free(struct fw_arena *a);
/* Zeroed memory, aligned for any type; aborts on exhaustion. */
void *arena_alloc(struct fw_arena *a, size_t n);
char *arena_strdup(struct fw_arena *a, const char *s);
/* The n bytes at s and a NUL, packed (no alignment). */
char *arena_strndup(struct fw_arena *a, const char *s, size_t n);
/* The strings given, up to a NULL, one after another: no printf. */
char *arena_cat(struct fw_arena *a, ...) __attribute__((sentinel));
char *arena_printf(struct fw_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void *arena_memdup(struct fw_arena *a, const void *p, size_t n);

#endif
