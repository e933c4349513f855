// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * guard: evaluates one new TCP connection against a policy's input chain
 * the way the SPEC defines it (deny overrides, then the first accept, then
 * the default). Conditions fwd cannot know for the future connection (its
 * interface, its source port) count against an accept and for a deny.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "guard.h"

enum { NO, MAYBE, YES };

static bool in_range(const struct fw_addr_range *r, const struct fw_addr_range *a)
{
	return r->family == a->family && memcmp(r->lo, a->lo, 16) <= 0 &&
	       memcmp(a->lo, r->hi, 16) <= 0;
}

static const struct fw_group *group(const struct fw_policy *p, const char *n)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (!strcmp(p->groups[i].name, n))
			return &p->groups[i];
	return NULL;
}

/* Whether an address list (absent = any) contains a. */
static bool list_has(const struct fw_policy *p, const struct fw_addr_list *l,
		     const struct fw_addr_range *a)
{
	if (!l->n)
		return true;
	if (!a)
		return true; /* unknown address: possibly in the list */
	for (size_t i = 0; i < l->n; i++) {
		const struct fw_group *g;

		if (!l->v[i].group) {
			if (in_range(&l->v[i].r, a))
				return true;
			continue;
		}
		g = group(p, l->v[i].group);
		for (size_t j = 0; g && j < g->nflat; j++)
			if (in_range(&g->flat[j], a))
				return true;
	}
	return false;
}

static bool ports_have(const struct fw_port_range *v, size_t n, unsigned port)
{
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		if (v[i].lo <= port && port <= v[i].hi)
			return true;
	return false;
}

/* Does rule r match the connection: NO, MAYBE (depends on what we cannot
 * know), or YES. */
static int matches(const struct fw_policy *p, const struct fw_rule *r,
		   const struct fw_addr_range *client,
		   const struct fw_addr_range *server, unsigned port)
{
	if (r->proto && !(r->proto & FW_P_TCP))
		return NO;
	if (!ports_have(r->dport, r->ndport, port) ||
	    !list_has(p, &r->from, client) || !list_has(p, &r->to, server))
		return NO;
	if (!server && r->to.n)
		return MAYBE;
	if (r->niif || r->nsport)
		return MAYBE;
	return YES;
}

int guard_admits(const struct fw_policy *p, const char *client,
		 const char *server, unsigned port, char *why, size_t len)
{
	const struct fw_chain *in = &p->chains[FW_INPUT];
	struct fw_addr_range c, s, *sp = NULL;
	const char *maybe = NULL;
	char *err = NULL;

	if (addr_parse(client, &c, &err) < 0 ||
	    (server && addr_parse(server, &s, &err) < 0)) {
		snprintf(why, len, "\"%s\" is not an address", server ? server : client);
		free(err);
		return -1;
	}
	if (server)
		sp = &s;
	if (!in->declared)
		return true;
	for (size_t i = 0; i < in->nrules; i++) {
		const struct fw_rule *r = &in->rules[i];

		if (r->action != FW_ACCEPT && matches(p, r, &c, sp, port) != NO) {
			snprintf(why, len, "rule \"%s\" (%s) would stop it",
				 r->name, policy_action_name(r->action));
			return false;
		}
	}
	for (size_t i = 0; i < in->nrules; i++) {
		int m = matches(p, &in->rules[i], &c, sp, port);

		if (in->rules[i].action != FW_ACCEPT || m == NO)
			continue;
		if (m == YES)
			return true;
		if (!maybe)
			maybe = in->rules[i].name;
	}
	if (in->def == FW_ACCEPT)
		return true;
	if (maybe)
		snprintf(why, len,
			 "only rule \"%s\" could accept it, and it depends on "
			 "the interface, source port or destination of the "
			 "new connection; otherwise the default drops it",
			 maybe);
	else
		snprintf(why, len, "no rule of the input chain accepts it: the "
				   "default drops it");
	return false;
}
