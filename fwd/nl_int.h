/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nl_int: what nl.c (socket, transaction) and nl_build.c (sets, rules)
 * share: a batch being built, with the plan object to blame for each
 * message. Private to the netlink backend.
 */
#ifndef FW_NL_INT_H
#define FW_NL_INT_H

#include <stdint.h>

#include "diag.h"
#include "plan.h"

struct nftnl_batch;
struct nlmsghdr;

/* What the kernel's answer to one message is about. */
struct fw_nl_blame {
	const char *path; /* borrowed from the plan; NULL for none */
	char *what;	  /* malloc'ed: 'rule "ssh" of chain input' */
};

/* One transaction being built: consecutive sequence numbers from seq0. */
struct fw_nl_tx {
	struct nftnl_batch *batch;
	const struct fw_plan *plan;
	uint32_t seq0, seq;	   /* first and next sequence number */
	struct fw_nl_blame *blame; /* [seq - seq0] */
	size_t cap;
	uint32_t nacks;	 /* messages that carry NLM_F_ACK */
	uint32_t set_id; /* last NFTA_SET_ID handed out */
};

/*
 * Starts the next message of the batch (family inet, flags | NLM_F_ACK) and
 * records whom to blame for it: path (borrowed, NULL for none) and what
 * (taken). Finish it with nl_tx_end once the payload is in.
 */
struct nlmsghdr *nl_tx_msg(struct fw_nl_tx *tx, uint16_t type, uint16_t flags,
			   const char *path, char *what);
void nl_tx_end(struct fw_nl_tx *tx);

/* The set ID of the plan's named set name, or 0 when it has none. */
uint32_t nl_build_set_id(const struct fw_nl_tx *tx, const char *name);
/* Adds a named set of the plan and its elements; set id = index + 1. */
void nl_build_set(struct fw_nl_tx *tx, const struct fw_pset *s, uint32_t id);
/*
 * Adds one rule of chain c, preceded by its anonymous sets. -1 with a
 * diagnostic in d when the plan holds something that cannot be encoded.
 */
int nl_build_rule(struct fw_nl_tx *tx, const struct fw_pchain *c,
		  const struct fw_prule *r, size_t idx, struct fw_diags *d);

#endif
