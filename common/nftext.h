/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nftext: prints a plan in nft syntax, exactly as `nft list table` would. */
#ifndef FW_NFTEXT_H
#define FW_NFTEXT_H

#include <stdint.h>

#include "plan.h"
#include "util.h"

/* Counter values to print; NULL prints zeros. */
typedef void (*fw_counter_fn)(void *ctx, const char *name, uint64_t *packets,
			      uint64_t *bytes);

void nftext_print(struct fw_buf *out, const struct fw_plan *plan,
		  fw_counter_fn counters, void *ctx);

#endif
