/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nl: the netlink backend. Loads a plan into the kernel as one nftables
 * transaction over a NETLINK_NETFILTER socket that stays open for the
 * daemon's life, and reads back generation, table and counters. fwd owns
 * exactly one table (family inet, plan->table) and never touches another.
 */
#ifndef FW_NL_H
#define FW_NL_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "plan.h"

struct fw_nl;

/* Opens the socket. NULL with errno. */
struct fw_nl *nl_open(void);
/* Closes it; accepts NULL. */
void nl_close(struct fw_nl *nl);

/* Validate the whole batch in the kernel but commit nothing. */
#define FW_NL_DRY_RUN 0x1

/*
 * Replaces the content of plan->table in one atomic batch: named counters
 * that exist in both keep their values, everything else is replaced. 0, or
 * -1 with diagnostics in d (path = the JSON path of the plan object that
 * the kernel refused, message = kernel error text and what object). The
 * ruleset is unchanged after a failure or a dry run.
 */
int nl_apply(struct fw_nl *nl, const struct fw_plan *plan, unsigned flags,
	     struct fw_diags *d);

/*
 * As nl_apply, at the cost of the difference: old is the plan the kernel
 * held after the caller's last commit, which moved the generation to genid.
 * When the plans differ only in counters and set or map elements, only
 * those are sent -- untouched elements keep their counters, and what a
 * deleted map element counted goes to its rule's named counter -- in one
 * batch that the kernel refuses if the generation moved since. Anything
 * else (or old NULL, or such a refusal) replaces the table as nl_apply.
 */
int nl_apply_delta(struct fw_nl *nl, const struct fw_plan *plan,
		   const struct fw_plan *old, uint32_t genid, unsigned flags,
		   struct fw_diags *d);

/* The ruleset generation (NFT_MSG_GETGEN). -1 with errno. */
/*
 * Only element changes of named sets of plan, v[0..n), in one batch that
 * the kernel refuses if the generation moved from genid. 0 done, 1 when
 * the ruleset changed meanwhile (nothing done), -1 refused (d).
 */
int nl_apply_elems(struct fw_nl *nl, const struct fw_plan *plan,
		   const struct fw_elem_change *v, size_t n, uint32_t genid,
		   struct fw_diags *d);

int nl_genid(struct fw_nl *nl, uint32_t *genid);

/*
 * Table flags that lock fwd's table against other processes. Debian 12's
 * UAPI headers (Linux 6.1) predate NFT_TABLE_F_PERSIST (Linux 6.9), so it
 * is defined here; OWNER alone would delete the table when fwd exits.
 */
#ifndef NFT_TABLE_F_OWNER
#define NFT_TABLE_F_OWNER 0x2
#endif
#ifndef NFT_TABLE_F_PERSIST
#define NFT_TABLE_F_PERSIST 0x4
#endif
#define FW_NL_LOCK (NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST)

/* 1 if the kernel takes the lock flags (a batch without END: nothing is
 * committed), 0 if it refuses them, -1 with errno. */
int nl_lock_supported(struct fw_nl *nl);
/* From now on, tables fwd creates or adopts get these flags. */
void nl_set_lock(struct fw_nl *nl, uint32_t flags);
/* Takes ownership of an existing (orphaned) table without other changes. */
int nl_claim(struct fw_nl *nl, const char *table, struct fw_diags *d);

/* Whether table (family inet) exists: 1, 0, or -1 with errno. */
int nl_table_exists(struct fw_nl *nl, const char *table);
/* The same, with the table's flags in *flags when it exists. */
int nl_table_info(struct fw_nl *nl, const char *table, uint32_t *flags);

struct fw_counter_val {
	char *name;
	uint64_t packets, bytes;
};

/*
 * All named counters of table, in kernel order. *v is malloc'ed (NULL when
 * there are none); free it with nl_counters_free. 0, or -1 with errno.
 */
int nl_counters(struct fw_nl *nl, const char *table, struct fw_counter_val **v,
		size_t *n);
void nl_counters_free(struct fw_counter_val *v, size_t n);

#endif
