/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon_int: the daemon's state, shared by daemon.c and commands.c only. */
#ifndef FW_DAEMON_INT_H
#define FW_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "daemon.h"
#include "nl.h"
#include "plan.h"
#include "policy.h"
#include "sha256.h"
#include "state.h"

/* A policy made ready for the kernel. */
struct fw_ready {
	char *doc;
	size_t len;
	struct fw_policy *policy;
	struct fw_plan *plan;
	char plan_sha[FW_SHA256_HEX_LEN]; /* of the nft text of the plan */
	struct fw_state_meta meta;
};

struct fw_daemon {
	struct fw_daemon_config cfg;
	struct fw_nl *nl;
	struct fw_ready *active;
	uint32_t genid;	  /* the kernel's generation after our last commit */
	bool genid_known;
	unsigned long apply_ok, apply_failed;
	time_t last_apply;
};

struct apply_result {
	bool changed; /* the ruleset differs from the active one */
	bool kernel;  /* a transaction was sent */
};

/* Parses and plans a self-contained document; NULL with diagnostics. */
struct fw_ready *daemon_ready_new(const struct fw_daemon *d, const char *doc,
			   size_t len, const char *by, struct fw_diags *diags);
void daemon_ready_free(struct fw_ready *r);
/*
 * Applies r (taking ownership) and makes it active. flags: FW_NL_DRY_RUN.
 * -1 with diagnostics when the kernel refuses; nothing changes then.
 */
int daemon_apply(struct fw_daemon *d, struct fw_ready *r, unsigned flags,
		struct fw_diags *diags, struct apply_result *res);

#endif
