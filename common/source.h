/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * source: the files of one policy -- the main file and its includes, read
 * and parsed in order (includes depth-first, before the including file).
 */
#ifndef FW_SOURCE_H
#define FW_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "bulk.h"
#include "diag.h"

struct fw_src {
	char *name; /* as shown in diagnostics */
	char *real; /* canonical path, for cycles and duplicates */
	cJSON *root;
	bool top; /* the main policy file */
	struct bulk bulk; /* the long lists of root (bulk.h) */
	char *text;	  /* the file as read (the main file only) */
	size_t len;
};

struct fw_srcs {
	struct fw_src *v;
	size_t n;
};

/* Reads path and every file it includes. Files that cannot be read or
 * parsed are reported in d and left out; returns -1 if any was. */
int source_load_file(const char *path, struct fw_srcs *s, struct fw_diags *d);
/* A policy is UTF-8 text without NUL bytes (fwd and fwctl alike): else
 * false, with one diagnostic naming the first byte that is not, by line
 * and column. */
bool source_text_ok(struct fw_diags *d, const char *name, const char *text,
		    size_t len);
/* One in-memory, self-contained document (as fwd receives it). */
int source_load_text(const char *name, const char *text, size_t len,
		     struct fw_srcs *s, struct fw_diags *d);
/* The merged, include-free document of a validated source list. */
char *source_bundle(const struct fw_srcs *s);
void source_free(struct fw_srcs *s);

#endif
