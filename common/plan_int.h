/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan_int: what plan.c (the per-rule plan) and planmap.c (verdict maps)
 * share while one plan is being built. Private to the planner.
 */
#ifndef FW_PLAN_INT_H
#define FW_PLAN_INT_H

#include "plan.h"

struct fw_rvec {
	struct fw_prule *v;
	size_t n, cap;
};

struct fw_builder {
	const struct fw_policy *p;
	const struct fw_plan_opts *o;
	struct fw_plan *plan;
	struct fw_arena *a;
	size_t ccap, scap, mcap, chcap;
	struct fw_rvec *chain_rules; /* parallel to plan->chains */
	bool *inlined; /* by group index: a rule or map holds its members */
};

/* A new empty rule at the end of chain ch. */
struct fw_prule *plan_chain_push(struct fw_builder *b, size_t ch);
/* Every nft rule of policy rule r (chain cid) at the end of chain ch. */
void plan_emit_rule(struct fw_builder *b, size_t ch, enum fw_chain_id cid,
		    const struct fw_rule *r);
/* The chain of r's own ("<chain>_<rule>"): log, counter, verdict. */
const char *plan_rule_chain(struct fw_builder *b, const struct fw_rule *r,
			    const char *cname, const char *counter);
const struct fw_group *plan_find_group(const struct fw_policy *p,
				       const char *name);
/* The group whose members are about to be copied into a rule or a map
 * (rather than referred to through its named sets). */
const struct fw_group *plan_inline_group(const struct fw_builder *b,
					 const char *name);

/*
 * Plans the rules of chain cid into base chain ch with verdict maps, if
 * the chain has enough rules that maps can hold; false (and nothing done)
 * otherwise.
 */
bool planmap_chain(struct fw_builder *b, size_t ch, enum fw_chain_id cid);

#endif
