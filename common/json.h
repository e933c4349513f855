/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json: JSON documents read into cJSON trees (jsonread.c), with syntax
 * errors by line and column, and the strict checks on them -- unknown and
 * duplicate keys, integral numbers, value descriptions and closest-name
 * suggestions for diagnostics.
 */
#ifndef FW_JSON_H
#define FW_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "diag.h"

/* Parses one JSON document (jsonread.c); NULL with a malloc'ed "line L,
 * column C: ..." message in *err. The tree's nodes live in one block:
 * read it with cJSON's accessors, free it with json_free, and neither add
 * nor remove nodes (cJSON_Delete, cJSON_AddItem*, ...). */
cJSON *json_parse(const char *text, size_t len, char **err);
/*
 * A reader's hook for lists kept out of the tree (bulk.h): asked at each
 * list that is the value of an object's member, with that member's key and
 * the key whose value the object is (NULL for the document's top), it
 * returns the index past the list at t[i] when it took the list, with the
 * list's number in *id, or 0 to leave it to the reader. A taken list reads
 * as a string node flagged JSON_TAKEN, with valueint = *id.
 */
typedef size_t (*json_take_fn)(void *arg, const char *t, size_t i,
			       size_t len, const char *key,
			       const char *okey, int *id);
#define JSON_TAKEN 0x1000 /* above cJSON's own type bits */
cJSON *json_parse_taking(const char *text, size_t len, json_take_fn take,
			 void *arg, char **err);
void json_free(cJSON *root);
/* Reports, in document order, keys of obj not in allowed (NULL-ended) and
 * keys given twice. Returns true if there were none. */
bool json_check_keys(struct fw_diags *d, const char *file, const char *path,
		     const cJSON *obj, const char *const *allowed);
/* A short description of a value for messages: 70000, "abc", true, a list,
 * an object. Returns a malloc'ed string. */
char *json_describe(const cJSON *v);
/* True if v is a finite number with no fractional part in [min, max]. */
bool json_int(const cJSON *v, double min, double max, long long *out);
/* The name in names (NULL-ended) closest to s, or NULL if none is close. */
const char *json_suggest(const char *s, const char *const *names);
/* Joins "parent.key" / "parent[i]"; malloc'ed. */
char *json_path_key(const char *parent, const char *key);
char *json_path_idx(const char *parent, size_t i);
/* "parent[i]" written at out (room for plen + 23 bytes); its length. */
size_t json_path_idx_in(char *out, const char *parent, size_t plen,
			size_t i);

#endif
