// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * source: reads a policy file and its includes (paths relative to the
 * including file) as UTF-8 text, detects include cycles, reads a file
 * that several include once, and merges a validated set of files into one
 * document. Does not validate content.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "proto.h"
#include "source.h"
#include "util.h"

#define MAX_INCLUDE_DEPTH 16

struct loader {
	struct fw_srcs *s;
	struct fw_diags *d;
	const char *stack[MAX_INCLUDE_DEPTH]; /* real paths being loaded */
	const char *names[MAX_INCLUDE_DEPTH];
	size_t depth;
	size_t cap;
	int failed;
};

static void src_add(struct loader *l, char *name, char *real, cJSON *root,
		    bool top, const struct bulk *bulk)
{
	struct fw_srcs *s = l->s;

	xgrow((void **)&s->v, &l->cap, s->n, sizeof(*s->v));
	s->v[s->n++] = (struct fw_src){.name = name,
				       .real = real,
				       .root = root,
				       .top = top,
				       .bulk = *bulk};
}

/* "dir/of/including.json" + "groups.json" -> "dir/of/groups.json" */
static char *relative_to(const char *including, const char *inc)
{
	const char *slash = strrchr(including, '/');

	if (inc[0] == '/' || !slash)
		return xstrdup(inc);
	return xasprintf("%.*s/%s", (int)(slash - including), including, inc);
}

static const struct fw_src *find_loaded(const struct loader *l,
					const char *real)
{
	for (size_t i = 0; i < l->s->n; i++)
		if (!strcmp(l->s->v[i].real, real))
			return &l->s->v[i];
	return NULL;
}

static int load_one(struct loader *l, const char *name, const char *from,
		    const char *path);

static char *cycle_text(const struct loader *l, size_t from, const char *last)
{
	struct fw_buf b = {0};

	for (size_t i = from; i < l->depth; i++)
		buf_printf(&b, "%s -> ", l->names[i]);
	buf_printf(&b, "%s", last);
	return b.s;
}

static void load_includes(struct loader *l, const char *name, cJSON *root)
{
	const cJSON *inc = cJSON_GetObjectItemCaseSensitive(root, "include");
	const cJSON *it;
	size_t i = 0;

	/* A bad "include" value is the validator's to report. */
	if (cJSON_IsString(inc)) {
		char *p = relative_to(name, inc->valuestring);

		load_one(l, p, name, "include");
		free(p);
		return;
	}
	if (!cJSON_IsArray(inc))
		return;
	cJSON_ArrayForEach(it, inc)
	{
		char *path = json_path_idx("include", i++);

		if (cJSON_IsString(it)) {
			char *p = relative_to(name, it->valuestring);

			load_one(l, p, name, path);
			free(p);
		}
		free(path);
	}
}

/* 0: load the file included at path; 1: it is loaded already; -1: it must
 * not be (diagnostics). */
static int check_include(struct loader *l, const char *name,
			 const char *from, const char *path, const char *real)
{
	const struct fw_src *dup;

	for (size_t i = 0; i < l->depth; i++) {
		if (strcmp(l->stack[i], real))
			continue;
		char *c = cycle_text(l, i, name);

		diags_add(l->d, from, path, "include cycle: %s", c);
		free(c);
		return -1;
	}
	/* Reached again by another way (two files include a third): it is
	 * read once, and its names are defined once. */
	dup = find_loaded(l, real);
	if (dup)
		return 1;
	if (l->depth == MAX_INCLUDE_DEPTH) {
		diags_add(l->d, from, path, "includes nest deeper than %d",
			  MAX_INCLUDE_DEPTH);
		return -1;
	}
	return 0;
}

bool source_text_ok(struct fw_diags *d, const char *name, const char *text,
		    size_t len)
{
	size_t bad = proto_utf8_prefix(text, len), line = 1, col = 1;

	if (bad == len)
		return true;
	for (size_t i = 0; i < bad; i++, col++)
		if (text[i] == '\n') {
			line++;
			col = 0;
		}
	if (text[bad])
		diags_add(d, name, NULL,
			  "line %zu, column %zu: not UTF-8 text (byte 0x%02x)",
			  line, col, (unsigned char)text[bad]);
	else
		diags_add(d, name, NULL,
			  "line %zu, column %zu: a NUL byte (a policy is text)",
			  line, col);
	return false;
}

static int load_one(struct loader *l, const char *name, const char *from,
		    const char *path)
{
	char *real = realpath(name, NULL), *text, *err;
	struct bulk bulk;
	size_t len;
	cJSON *root;

	text = real ? file_read(real, &len) : NULL;
	if (!text) {
		if (from)
			diags_add(l->d, from, path, "cannot read \"%s\": %s",
				  name, strerror(errno));
		else
			diags_add(l->d, name, NULL, "cannot read: %s",
				  strerror(errno));
		free(real);
		l->failed = 1;
		return -1;
	}
	switch (from ? check_include(l, name, from, path, real) : 0) {
	case 0:
		break;
	case 1:
		free(text);
		free(real);
		return 0;
	default:
		free(text);
		free(real);
		l->failed = 1;
		return -1;
	}
	if (!source_text_ok(l->d, name, text, len)) {
		free(text);
		free(real);
		l->failed = 1;
		return -1;
	}
	root = bulk_parse(text, len, &bulk, &err);
	if (from || !root) {
		free(text);
		text = NULL;
	}
	if (!root) {
		diags_add(l->d, name, NULL, "%s", err);
		free(err);
		free(real);
		l->failed = 1;
		return -1;
	}
	l->stack[l->depth] = real;
	l->names[l->depth++] = name;
	load_includes(l, name, root);
	l->depth--;
	src_add(l, xstrdup(name), real, root, from == NULL, &bulk);
	l->s->v[l->s->n - 1].text = text;
	l->s->v[l->s->n - 1].len = len;
	return 0;
}

int source_load_file(const char *path, struct fw_srcs *s, struct fw_diags *d)
{
	struct loader l = {.s = s, .d = d};

	s->v = NULL;
	s->n = 0;
	load_one(&l, path, NULL, NULL);
	return l.failed ? -1 : 0;
}

int source_load_text(const char *name, const char *text, size_t len,
		     struct fw_srcs *s, struct fw_diags *d)
{
	char *err;
	struct bulk bulk;
	cJSON *root;

	s->v = NULL;
	s->n = 0;
	if (!source_text_ok(d, name, text, len))
		return -1;
	root = bulk_parse(text, len, &bulk, &err);
	if (!root) {
		diags_add(d, name, NULL, "%s", err);
		free(err);
		return -1;
	}
	s->v = xcalloc(1, sizeof(*s->v));
	s->v[0] = (struct fw_src){.name = xstrdup(name),
				  .real = xstrdup(name),
				  .root = root,
				  .top = true,
				  .bulk = bulk};
	s->n = 1;
	return 0;
}

void source_free(struct fw_srcs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].real);
		json_free(s->v[i].root);
		bulk_free(&s->v[i].bulk);
		free(s->v[i].text);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static const char *const chain_keys[] = {"input", "output", "forward"};

static void merge_chain(cJSON *out, const struct fw_src *src,
			const char *key)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(src->root, key);
	const cJSON *rules, *def, *r;
	cJSON *oc, *orules;

	if (!c)
		return;
	oc = cJSON_GetObjectItemCaseSensitive(out, key);
	if (!oc) {
		oc = cJSON_AddObjectToObject(out, key);
		cJSON_AddArrayToObject(oc, "rules");
	}
	def = cJSON_GetObjectItemCaseSensitive(c, "default");
	if (src->top && def)
		cJSON_AddItemToObject(oc, "default", bulk_copy(def, &src->bulk));
	orules = cJSON_GetObjectItemCaseSensitive(oc, "rules");
	rules = cJSON_GetObjectItemCaseSensitive(c, "rules");
	cJSON_ArrayForEach(r, rules)
		cJSON_AddItemToArray(orules, bulk_copy(r, &src->bulk));
}

static void copy_key(cJSON *out, const struct fw_src *src, const char *key)
{
	const cJSON *v = src ? cJSON_GetObjectItemCaseSensitive(src->root, key)
			     : NULL;

	if (v)
		cJSON_AddItemToObject(out, key, bulk_copy(v, &src->bulk));
}

char *source_bundle(const struct fw_srcs *s)
{
	const struct fw_src *top = NULL;
	const cJSON *g;
	cJSON *out, *groups;
	char *text;

	/* A file without includes is sent as it was written. */
	if (s->n == 1 && s->v[0].text &&
	    !cJSON_GetObjectItemCaseSensitive(s->v[0].root, "include")) {
		text = xmalloc(s->v[0].len + 1);
		memcpy(text, s->v[0].text, s->v[0].len);
		text[s->v[0].len] = '\0';
		return text;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].top)
			top = &s->v[i];
	/* The copies take the long lists back. */
	out = cJSON_CreateObject();
	copy_key(out, top, "version");
	copy_key(out, top, "host");
	groups = cJSON_AddObjectToObject(out, "groups");
	for (size_t i = 0; i < s->n; i++)
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(
					      s->v[i].root, "groups"))
			cJSON_AddItemToObject(groups, g->string,
					      bulk_copy(g, &s->v[i].bulk));
	for (size_t k = 0; k < ARRAY_SIZE(chain_keys); k++)
		for (size_t i = 0; i < s->n; i++)
			merge_chain(out, &s->v[i], chain_keys[k]);
	copy_key(out, top, "options");
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (!text)
		abort();
	return text;
}
