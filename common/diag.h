/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diag: a list of diagnostics, each "<file>: <json.path>: <message>".
 * Stages collect into it and never print; the boundary (fwctl, fwd) prints.
 */
#ifndef FW_DIAG_H
#define FW_DIAG_H

#include <stddef.h>

#define FW_DIAG_MAX 100 /* more than this is noise; the rest is counted */

struct fw_diag {
	char *file; /* may be NULL */
	char *path; /* JSON path ("input.rules[3].port"), "" for the document */
	char *msg;
};

struct fw_diags {
	struct fw_diag *v;
	size_t n;
	size_t dropped; /* errors past FW_DIAG_MAX */
};

void diags_init(struct fw_diags *d);
void diags_free(struct fw_diags *d);
/* Adds one diagnostic; copies file and path, formats msg. */
void diags_add(struct fw_diags *d, const char *file, const char *path,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Formats "file: path: msg" into a malloc'ed string. */
char *diag_format(const struct fw_diag *g);

#endif
