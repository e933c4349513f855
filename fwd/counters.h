/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * counters: one timed reading of the named counters of fwd's table, looked
 * up by name, and per-second rates between two readings.
 */
#ifndef FW_COUNTERS_H
#define FW_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "nl.h"

struct fw_counters {
	uint64_t t_ms; /* CLOCK_MONOTONIC of the reading; 0 = none */
	struct fw_counter_val *v; /* sorted by name */
	size_t n;
};

/* Replaces c with a fresh reading of table. -1/errno (c left empty). */
int counters_read(struct fw_nl *nl, const char *table, struct fw_counters *c);
void counters_free(struct fw_counters *c);
/* Moves src into dst (freeing what dst held); src becomes empty. */
void counters_move(struct fw_counters *dst, struct fw_counters *src);
const struct fw_counter_val *counters_get(const struct fw_counters *c,
					  const char *name);
/* Packets per second of name from base to now; < 0 when unknown. */
double counters_rate(const struct fw_counters *now,
		     const struct fw_counters *base, const char *name);

#endif
