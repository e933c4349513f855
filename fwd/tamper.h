/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tamper: watches nftables change events (NFNLGRP_NFTABLES) for
 * transactions by other processes that touch fwd's table, and reports
 * them. Reads events only; repairing is the caller's.
 */
#ifndef FW_TAMPER_H
#define FW_TAMPER_H

#include <stdint.h>

#include "loop.h"

/* pid/comm of the process whose transaction touched the table (0/"" when
 * events were lost and fwd cannot know). */
typedef void (*fw_tamper_cb)(void *arg, uint32_t pid, const char *comm);

struct fw_tamper;

/* NULL/errno. */
struct fw_tamper *tamper_open(struct fw_loop *loop, const char *table,
			      fw_tamper_cb cb, void *arg);
void tamper_free(struct fw_tamper *t);
/*
 * Leaves the event group while fwd sends its own transaction (so that the
 * kernel builds no notification per element for fwd to read back), and
 * joins it again. t may be NULL.
 */
void tamper_pause(struct fw_tamper *t);
void tamper_resume(struct fw_tamper *t);

#endif
