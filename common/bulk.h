/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bulk: long lists of plain strings -- the members of big groups, the
 * sources of a rule -- kept out of the JSON tree. A tree node costs
 * about eighty bytes with its string; a million addresses would cost
 * eighty megabytes before the walker saw the first. Here each string costs its
 * bytes and an offset.
 *
 * bulk_parse reads the document (json_parse_taking) and, as the reader
 * meets them, takes the lists of at least BULK_MIN strings without escapes
 * that are the value of "from" or "to" or a member of a "groups" object:
 * their strings go here, and the tree holds a node flagged JSON_TAKEN in
 * their place. The walker asks bulk_get whether a value is such a list.
 */
#ifndef FW_BULK_H
#define FW_BULK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define BULK_MIN 32

struct bulk_list {
	char *buf;	/* the strings, each NUL-terminated, in order */
	uint32_t *off;	/* where each starts in buf */
	size_t n;
	size_t open, close; /* where its '[' and ']' are in the text */
};

struct bulk {
	struct bulk_list *v;
	size_t n, cap;
};

/* json_parse (json.h) of text with its long lists moved into b. */
cJSON *bulk_parse(const char *text, size_t len, struct bulk *b, char **err);
/* The list that v stands for, or NULL when v is an ordinary value. */
const struct bulk_list *bulk_get(const struct bulk *b, const cJSON *v);
static inline const char *bulk_str(const struct bulk_list *l, size_t i)
{
	return l->buf + l->off[i];
}
/* A copy of v (malloc'ed, for cJSON_Delete) with the lists back in it
 * as ordinary arrays: for printing. */
cJSON *bulk_copy(const cJSON *v, const struct bulk *b);
void bulk_free(struct bulk *b);

#endif
