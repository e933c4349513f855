// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * counters: a reading of the table's named counters (one netlink dump),
 * sorted for lookups, and rates between two readings. Reads only.
 */
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "loop.h"

static int by_name(const void *a, const void *b)
{
	const struct fw_counter_val *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void counters_free(struct fw_counters *c)
{
	nl_counters_free(c->v, c->n);
	c->v = NULL;
	c->n = 0;
	c->t_ms = 0;
}

int counters_read(struct fw_nl *nl, const char *table, struct fw_counters *c)
{
	counters_free(c);
	if (nl_counters(nl, table, &c->v, &c->n) < 0)
		return -1;
	c->t_ms = loop_now_ms();
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), by_name);
	return 0;
}

void counters_move(struct fw_counters *dst, struct fw_counters *src)
{
	counters_free(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

const struct fw_counter_val *counters_get(const struct fw_counters *c,
					  const char *name)
{
	struct fw_counter_val key = {.name = (char *)name};

	if (!c->n)
		return NULL;
	return bsearch(&key, c->v, c->n, sizeof(*c->v), by_name);
}

double counters_rate(const struct fw_counters *now,
		     const struct fw_counters *base, const char *name)
{
	const struct fw_counter_val *a, *b;

	if (!base->t_ms || now->t_ms <= base->t_ms)
		return -1;
	a = counters_get(now, name);
	b = counters_get(base, name);
	if (!a || !b || a->packets < b->packets)
		return -1; /* new, or recreated since the base reading */
	return (double)(a->packets - b->packets) * 1000.0 /
	       (double)(now->t_ms - base->t_ms);
}
