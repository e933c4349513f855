// SPDX-License-Identifier: GPL-2.0-or-later
/* diag: collects diagnostics in document order; never prints. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "util.h"

void diags_init(struct fw_diags *d)
{
	d->v = NULL;
	d->n = 0;
	d->dropped = 0;
}

void diags_free(struct fw_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].path);
		free(d->v[i].msg);
	}
	free(d->v);
	diags_init(d);
}

void diags_add(struct fw_diags *d, const char *file, const char *path,
	       const char *fmt, ...)
{
	struct fw_diag *g;
	va_list ap;

	if (d->n >= FW_DIAG_MAX) {
		d->dropped++;
		return;
	}
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	g = &d->v[d->n++];
	g->file = file ? xstrdup(file) : NULL;
	g->path = xstrdup(path ? path : "");
	va_start(ap, fmt);
	if (vasprintf(&g->msg, fmt, ap) < 0)
		abort();
	va_end(ap);
}

char *diag_format(const struct fw_diag *g)
{
	if (g->file && g->path[0])
		return xasprintf("%s: %s: %s", g->file, g->path, g->msg);
	if (g->file)
		return xasprintf("%s: %s", g->file, g->msg);
	if (g->path[0])
		return xasprintf("%s: %s", g->path, g->msg);
	return xstrdup(g->msg);
}
