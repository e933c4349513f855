// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * plan: turns a validated policy into what the kernel must hold. Pure data
 * transformation: never prints, never touches a socket.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "arena.h"
#include "plan.h"
#include "plan_int.h"
#include "sha256.h"
#include "util.h"

size_t plan_keylen(const struct fw_match *m)
{
	switch (m->kind) {
	case FW_M_SADDR:
	case FW_M_DADDR:
		return m->family == 6 ? 16 : 4;
	case FW_M_SPORT:
	case FW_M_DPORT:
		return 2;
	case FW_M_L4PROTO:
	case FW_M_ICMP_TYPE:
	case FW_M_ICMPV6_TYPE:
		return 1;
	default:
		return 0;
	}
}

int plan_elem_prefix(const struct fw_elem *e, size_t keylen)
{
	return addr_prefix_len(e->lo, e->hi, keylen);
}

void plan_free(struct fw_plan *plan)
{
	if (!plan)
		return;
	plan_slim(plan);
	arena_free(plan->arena);
	free(plan);
}

size_t plan_set_elems(const struct fw_plan *plan)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->nsets; i++)
		n += plan->sets[i].nelems;
	return n;
}

void plan_slim(struct fw_plan *plan)
{
	for (size_t i = 0; i < plan->nsets; i++) {
		free(plan->sets[i].elems);
		plan->sets[i].elems = NULL;
		if (plan->sets[i].nelems)
			plan->slim = true;
		plan->sets[i].nelems = 0;
	}
}

#define MAX_MATCHES 8
#define MAX_STMTS 3

/* Netfilter hook numbers (linux/netfilter.h), kept here so that the plan
 * needs no kernel headers. */
enum { HOOK_LOCAL_IN = 1, HOOK_FORWARD = 2, HOOK_LOCAL_OUT = 3 };

/* One side (from or to) of a rule, per family: index 0 = v4, 1 = v6. */
struct side {
	bool any;
	bool has[2];
	bool full[2]; /* the whole address space of the family */
	const char *set[2];
	struct fw_elem *el[2];
	size_t nel[2];
};

struct mlist {
	struct fw_match m[MAX_MATCHES];
	size_t n;
};

static struct fw_match *mlist_add(struct mlist *ml, enum fw_mkind kind)
{
	struct fw_match *m = &ml->m[ml->n++];

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	return m;
}

struct fw_prule *plan_chain_push(struct fw_builder *b, size_t chain)
{
	struct fw_rvec *rv = &b->chain_rules[chain];
	struct fw_prule *r;

	xgrow((void **)&rv->v, &rv->cap, rv->n, sizeof(*rv->v));
	r = &rv->v[rv->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static size_t chain_add(struct fw_builder *b, const char *name, bool base)
{
	struct fw_plan *plan = b->plan;
	size_t old = b->chcap;

	xgrow((void **)&plan->chains, &b->chcap, plan->nchains,
	      sizeof(*plan->chains));
	if (b->chcap != old) {
		b->chain_rules = xrealloc(b->chain_rules,
					  b->chcap * sizeof(*b->chain_rules));
		memset(b->chain_rules + old, 0,
		       (b->chcap - old) * sizeof(*b->chain_rules));
	}
	memset(&plan->chains[plan->nchains], 0, sizeof(*plan->chains));
	plan->chains[plan->nchains].name = arena_strdup(b->a, name);
	plan->chains[plan->nchains].base = base;
	return plan->nchains++;
}

static const char *counter_add(struct fw_builder *b, const char *name,
			       enum fw_ckind kind, enum fw_chain_id chain,
			       const struct fw_rule *r)
{
	struct fw_plan *plan = b->plan;
	struct fw_pcounter *c;

	xgrow((void **)&plan->counters, &b->ccap, plan->ncounters,
	      sizeof(*c));
	c = &plan->counters[plan->ncounters++];
	memset(c, 0, sizeof(*c));
	c->name = arena_strdup(b->a, name);
	c->kind = kind;
	c->chain = chain;
	c->action = kind == FW_C_DEFAULT ? b->p->chains[chain].def : FW_DROP;
	if (r) {
		c->rule = r->name;
		c->action = r->action;
		c->path = r->path;
	}
	return c->name;
}

static void plan_set_sum(struct fw_pset *s);

/* The named set of one family of a group, created on first use. */
static const char *group_set(struct fw_builder *b, const struct fw_group *g,
			     int fi)
{
	struct fw_plan *plan = b->plan;
	char *name = arena_printf(b->a, "%s_v%d", g->name, fi ? 6 : 4);
	struct fw_pset *s;

	for (size_t i = 0; i < plan->nsets; i++)
		if (!strcmp(plan->sets[i].name, name))
			return plan->sets[i].name;
	xgrow((void **)&plan->sets, &b->scap, plan->nsets, sizeof(*s));
	s = &plan->sets[plan->nsets++];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->key = fi ? FW_KEY_IPV6 : FW_KEY_IPV4;
	s->path = g->path;
	s->group = g->name;
	s->elems = xmalloc((g->nflat + 1) * sizeof(*s->elems));
	for (size_t i = 0; i < g->nflat; i++)
		if (g->flat[i].family == (fi ? 6 : 4)) {
			memcpy(s->elems[s->nelems].lo, g->flat[i].lo, 16);
			memcpy(s->elems[s->nelems++].hi, g->flat[i].hi, 16);
			/* Single addresses only: a hash set, which the kernel
			 * fills and changes far faster than an interval one. */
			if (memcmp(g->flat[i].lo, g->flat[i].hi, 16))
				s->interval = true;
		}
	if (!s->interval)
		s->size = plan_hash_size(s->nelems);
	plan_set_sum(s);
	return s->name;
}

/* splitmix64's finalizer: every input bit moves every output bit. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

const char *plan_table_name_problem(const char *name)
{
	/* Words of nft's grammar (nftables 1.0.6, Debian 12's) that
	 * "add table inet WORD" refuses: there, a syntax error. Checked
	 * against nft by tests/integration/tablenames.sh. */
	static const char *const words[] = {
		"accept", "add", "ah", "all", "and", "arp", "bridge", "cgroup",
		"chain", "comment", "comp", "constant", "continue", "counter",
		"cpu", "create", "ct", "day", "dccp", "define", "delete",
		"describe", "device", "devices", "dnat", "drop", "dst", "dup",
		"dynamic", "ecn", "element", "elements", "eq", "esp", "ether",
		"exists", "expires", "export", "exthdr", "fib", "flags", "flow",
		"flowtable", "flush", "frag", "fwd", "ge", "get", "goto", "gt",
		"handle", "hbh", "hook", "hour", "ibriport", "ibrname", "icmp",
		"icmpv6", "igmp", "iif", "iifgroup", "iifname", "iiftype",
		"import", "include", "index", "inet", "insert", "interval",
		"ip", "ip6", "ipsec", "jhash", "jump", "le", "limit", "list",
		"log", "lshift", "lt", "map", "mark", "masquerade", "meta",
		"meter", "mh", "missing", "monitor", "ne", "netdev", "nftrace",
		"not", "notrack", "numgen", "obriport", "obrname", "offload",
		"oif", "oifgroup", "oifname", "oiftype", "or", "osf", "pkttype",
		"policy", "position", "priority", "queue", "quota", "random",
		"redefine", "redirect", "reject", "rename", "replace", "reset",
		"return", "rshift", "rt", "rt0", "rt2", "rtclassid", "rule",
		"ruleset", "sctp", "secmark", "set", "size", "skgid", "skuid",
		"snat", "socket", "srh", "symhash", "synproxy", "table", "tcp",
		"th", "time", "timeout", "tproxy", "type", "typeof", "udp",
		"udplite", "undefine", "update", "vlan", "vmap", "xor", "xt", NULL};
	size_t n = strlen(name);

	if (!n || n > 64)
		return "a table name has 1 to 64 characters";
	if (!(isalpha((unsigned char)name[0]) || name[0] == '_') ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_") != n)
		return "a table name is a letter or '_' followed by letters, "
		       "digits and '_'";
	for (const char *const *w = words; *w; w++)
		if (!strcmp(name, *w))
			return "that is a word of nft's language: nft could "
			       "not name the table (fwd_filter is the default)";
	return NULL;
}

/* The key of the element hashes: fixed until plan_digest_key. */
static uint64_t sum_key[4] = {0x9e3779b97f4a7c15ULL, 0x3c6ef372fe94f82aULL,
			      0xdaa66d2c7ddf743fULL, 0x78dde6e5fd29f054ULL};

void plan_digest_key(const uint8_t key[32])
{
	memcpy(sum_key, key, sizeof(sum_key));
}

/*
 * Four 64-bit hashes of an element's key bytes, one per lane of the key,
 * summed per lane into the set's sum: equal sets, equal sums in any
 * order, and two different sets agree only by a 2^-256 accident. A sum of
 * public hashes could be steered into a collision by whoever writes list
 * members (a feed, say): with a secret key (fwd keeps one in its state
 * directory) nobody can compute the hashes to steer.
 */
void plan_set_sum_elem(struct fw_pset *s, const struct fw_elem *e, bool add)
{
	size_t len = s->key == FW_KEY_IPV6 ? 16 : 4;
	uint64_t w[4] = {0, 0, 0, 0};

	memcpy(w, e->lo, len);
	memcpy((uint8_t *)w + 16, e->hi, len);
	for (int lane = 0; lane < 4; lane++) {
		uint64_t h = mix64(sum_key[lane]);

		for (int i = 0; i < 4; i++)
			h = mix64(h ^ w[i] ^ sum_key[(lane + i + 1) & 3]);
		s->sum[lane] += add ? h : (uint64_t)0 - h;
	}
}

/* Computes s->sum from its elements. */
static void plan_set_sum(struct fw_pset *s)
{
	memset(s->sum, 0, sizeof(s->sum));
	for (size_t i = 0; i < s->nelems; i++)
		plan_set_sum_elem(s, &s->elems[i], true);
}

uint32_t plan_hash_size(size_t n)
{
	uint32_t size = FW_SET_SIZE_MIN;

	if (n < FW_SET_SIZE_MIN)
		return 0;
	while (size < 2 * n)
		size *= 2;
	return size;
}

const struct fw_group *plan_find_group(const struct fw_policy *p,
					 const char *name)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (!strcmp(p->groups[i].name, name))
			return &p->groups[i];
	return NULL;
}

const struct fw_group *plan_inline_group(const struct fw_builder *b,
					 const char *name)
{
	const struct fw_group *g = plan_find_group(b->p, name);

	if (g)
		b->inlined[g - b->p->groups] = true;
	return g;
}

/* Which sets' groups the ruleset holds nowhere else (fw_pset.exclusive). */
static void mark_exclusive(struct fw_builder *b)
{
	for (size_t i = 0; i < b->plan->nsets; i++) {
		struct fw_pset *s = &b->plan->sets[i];
		const struct fw_group *g = plan_find_group(b->p, s->group);

		s->exclusive = g && g->singles && !g->referenced &&
			       !b->inlined[g - b->p->groups];
	}
}

static void side_add(struct fw_addr_range **v, size_t *n, size_t *cap,
		     const struct fw_addr_range *r)
{
	xgrow((void **)v, cap, *n, sizeof(**v));
	(*v)[(*n)++] = *r;
}

static void side_build(struct fw_builder *b, const struct fw_addr_list *l,
		       struct side *sd)
{
	struct fw_addr_range *v = NULL;
	size_t n = 0, cap = 0;

	memset(sd, 0, sizeof(*sd));
	sd->any = l->n == 0;
	if (sd->any)
		return;
	if (l->n == 1 && l->v[0].group) {
		const struct fw_group *g = plan_find_group(b->p, l->v[0].group);

		for (int fi = 0; fi < 2; fi++)
			for (size_t i = 0; i < g->nflat; i++)
				if (g->flat[i].family == (fi ? 6 : 4))
					sd->has[fi] = true;
		for (int fi = 0; fi < 2; fi++)
			if (sd->has[fi])
				sd->set[fi] = group_set(b, g, fi);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct fw_group *g;

		if (!l->v[i].group) {
			side_add(&v, &n, &cap, &l->v[i].r);
			continue;
		}
		g = plan_inline_group(b, l->v[i].group);
		for (size_t j = 0; j < g->nflat; j++)
			side_add(&v, &n, &cap, &g->flat[j]);
	}
	n = addr_normalize(v, n);
	for (int fi = 0; fi < 2; fi++) {
		size_t len = fi ? 16 : 4;

		sd->el[fi] = arena_alloc(b->a, n * sizeof(struct fw_elem));
		for (size_t i = 0; i < n; i++) {
			if (v[i].family != (fi ? 6 : 4))
				continue;
			memcpy(sd->el[fi][sd->nel[fi]].lo, v[i].lo, 16);
			memcpy(sd->el[fi][sd->nel[fi]++].hi, v[i].hi, 16);
		}
		sd->has[fi] = sd->nel[fi] > 0;
		sd->full[fi] = sd->nel[fi] == 1 &&
			       addr_prefix_len(sd->el[fi][0].lo,
					       sd->el[fi][0].hi, len) == 0;
	}
	free(v);
}

static int port_cmp(const void *a, const void *b)
{
	const struct fw_port_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void ports_match(struct fw_builder *b, struct mlist *ml,
			enum fw_mkind kind, const struct fw_port_range *in,
			size_t n)
{
	struct fw_port_range *v;
	struct fw_match *m;
	size_t out = 0;

	if (!n)
		return;
	v = arena_memdup(b->a, in, n * sizeof(*v));
	qsort(v, n, sizeof(*v), port_cmp);
	for (size_t i = 1; i < n; i++) {
		if ((uint32_t)v[i].lo <= (uint32_t)v[out].hi + 1) {
			if (v[i].hi > v[out].hi)
				v[out].hi = v[i].hi;
			continue;
		}
		v[++out] = v[i];
	}
	m = mlist_add(ml, kind);
	m->nelems = out + 1;
	m->elems = arena_alloc(b->a, m->nelems * sizeof(*m->elems));
	for (size_t i = 0; i < m->nelems; i++) {
		m->elems[i].lo[0] = (uint8_t)(v[i].lo >> 8);
		m->elems[i].lo[1] = (uint8_t)v[i].lo;
		m->elems[i].hi[0] = (uint8_t)(v[i].hi >> 8);
		m->elems[i].hi[1] = (uint8_t)v[i].hi;
	}
}

static void bytes_match(struct fw_builder *b, struct mlist *ml,
			enum fw_mkind kind, const uint8_t *vals, size_t n)
{
	struct fw_match *m = mlist_add(ml, kind);

	m->nelems = n;
	m->elems = arena_alloc(b->a, n * sizeof(*m->elems));
	for (size_t i = 0; i < n; i++)
		m->elems[i].lo[0] = m->elems[i].hi[0] = vals[i];
}

static void proto_match(struct fw_builder *b, struct mlist *ml, unsigned proto)
{
	/* In protocol-number order, as nft sorts set elements. */
	static const struct {
		unsigned bit;
		uint8_t num;
	} map[] = {{FW_P_ICMP, 1},
		   {FW_P_TCP, 6},
		   {FW_P_UDP, 17},
		   {FW_P_ICMPV6, 58}};
	uint8_t vals[4];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (proto & map[i].bit)
			vals[n++] = map[i].num;
	if (n)
		bytes_match(b, ml, FW_M_L4PROTO, vals, n);
}

static void addr_match(struct mlist *ml, enum fw_mkind kind,
		       const struct side *sd, int fi)
{
	struct fw_match *m;

	if (sd->any || sd->full[fi])
		return;
	m = mlist_add(ml, kind);
	m->family = fi ? 6 : 4;
	m->set = sd->set[fi];
	m->elems = sd->el[fi];
	m->nelems = sd->nel[fi];
}

struct piece {
	const struct fw_rule *r;
	const char *iif, *oif;
	int fi; /* -1: any family */
	unsigned proto;
};

static void piece_matches(struct fw_builder *b, const struct piece *pc,
			  const struct side *from, const struct side *to,
			  struct mlist *ml)
{
	const struct fw_rule *r = pc->r;
	size_t before;

	ml->n = 0;
	if (pc->iif)
		mlist_add(ml, FW_M_IIFNAME)->str = pc->iif;
	if (pc->oif)
		mlist_add(ml, FW_M_OIFNAME)->str = pc->oif;
	if (pc->fi >= 0) {
		before = ml->n;
		addr_match(ml, FW_M_SADDR, from, pc->fi);
		addr_match(ml, FW_M_DADDR, to, pc->fi);
		/* "meta l4proto icmp" already implies IPv4 (nft lists the
		 * pair without the nfproto match, so neither do we). */
		if (ml->n == before &&
		    pc->proto != (pc->fi ? FW_P_ICMPV6 : FW_P_ICMP))
			mlist_add(ml, FW_M_NFPROTO)->family =
				pc->fi ? 6 : 4;
	}
	proto_match(b, ml, pc->proto);
	ports_match(b, ml, FW_M_SPORT, r->sport, r->nsport);
	ports_match(b, ml, FW_M_DPORT, r->dport, r->ndport);
}

static void prule_set(struct fw_builder *b, struct fw_prule *pr,
		      const struct mlist *ml)
{
	pr->nm = ml->n;
	pr->m = arena_memdup(b->a, ml->m, ml->n * sizeof(*ml->m));
}

static struct fw_stmt *stmt_add(struct fw_builder *b, struct fw_prule *pr,
				enum fw_skind kind)
{
	struct fw_stmt *s = arena_alloc(b->a, (pr->ns + 1) * sizeof(*s));

	if (pr->ns)
		memcpy(s, pr->s, pr->ns * sizeof(*s));
	pr->s = s;
	s = &pr->s[pr->ns++];
	s->kind = kind;
	return s;
}

static void set_verdict(struct fw_prule *pr, enum fw_action a,
			unsigned proto, int fi)
{
	if (a == FW_ACCEPT) {
		pr->verdict = FW_V_ACCEPT;
	} else if (a == FW_DROP) {
		pr->verdict = FW_V_DROP;
	} else if (proto == FW_P_TCP) {
		pr->verdict = FW_V_REJECT_TCP_RST;
	} else {
		pr->verdict = FW_V_REJECT;
		pr->reject_family = fi < 0 ? 0 : fi ? 6 : 4;
	}
}

/* Rules with limit or log jump to a chain of their own, so that every
 * piece of the rule shares one rate limiter. */
const char *plan_rule_chain(struct fw_builder *b, const struct fw_rule *r,
			    const char *cname, const char *counter)
{
	char *name = arena_cat(b->a, cname, "_", r->name, NULL);
	size_t ch = chain_add(b, name, false);
	struct fw_prule *pr = plan_chain_push(b, ch);
	struct fw_stmt *s;
	struct mlist ml = {.n = 0};

	if (r->has_limit) {
		s = stmt_add(b, pr, FW_S_LIMIT);
		s->over = true;
		s->rate = r->limit.n;
		s->unit = (uint32_t)r->limit.unit;
		s->burst = r->burst ? r->burst : FW_LIMIT_BURST_DEFAULT;
		pr->verdict = FW_V_RETURN;
		pr = plan_chain_push(b, ch);
	}
	if (r->log) {
		s = stmt_add(b, pr, FW_S_LIMIT);
		s->rate = 5;
		s->unit = 1;
		s->burst = FW_LIMIT_BURST_DEFAULT;
		s = stmt_add(b, pr, FW_S_LOG);
		s->prefix = arena_printf(b->a, "fwd %s %s: ", cname, r->name);
		s->group = -1;
		pr = plan_chain_push(b, ch);
	}
	if (r->action == FW_REJECT && r->proto == FW_P_TCP) {
		proto_match(b, &ml, FW_P_TCP);
		prule_set(b, pr, &ml);
	}
	stmt_add(b, pr, FW_S_COUNTER)->counter = counter;
	set_verdict(pr, r->action, r->proto, -1);
	pr->comment = r->name;
	pr->path = r->path;
	return name;
}

static unsigned piece_proto(unsigned proto, int fi)
{
	if (fi == 0)
		return proto & ~FW_P_ICMPV6;
	if (fi == 1)
		return proto & ~FW_P_ICMP;
	return proto;
}

static void emit_piece(struct fw_builder *b, size_t ch, const struct piece *pc,
		       const struct side *from, const struct side *to,
		       const char *counter, const char *target)
{
	const struct fw_rule *r = pc->r;
	struct fw_prule *pr;
	struct mlist ml;

	piece_matches(b, pc, from, to, &ml);
	pr = plan_chain_push(b, ch);
	prule_set(b, pr, &ml);
	pr->comment = r->name;
	pr->path = r->path;
	if (target) {
		pr->verdict = FW_V_JUMP;
		pr->target = target;
		return;
	}
	stmt_add(b, pr, FW_S_COUNTER)->counter = counter;
	set_verdict(pr, r->action, pc->proto, pc->fi);
}

void plan_emit_rule(struct fw_builder *b, size_t ch, enum fw_chain_id cid,
		    const struct fw_rule *r)
{
	const char *cname = policy_chain_name(cid), *target = NULL;
	const char *counter = arena_cat(b->a, cname, "_", r->name, NULL);
	size_t ni = r->niif ? r->niif : 1, no = r->noif ? r->noif : 1;
	struct side from, to;
	int fams[2], nf = 0;

	side_build(b, &r->from, &from);
	side_build(b, &r->to, &to);
	if (r->has_limit || r->log)
		target = plan_rule_chain(b, r, cname, counter);
	if (from.any && to.any)
		fams[nf++] = -1;
	for (int fi = 0; fi < 2 && !(from.any && to.any); fi++)
		if ((from.any || from.has[fi]) && (to.any || to.has[fi]))
			fams[nf++] = fi;
	for (int f = 0; f < nf; f++) {
		struct piece pc = {r, NULL, NULL, fams[f],
				   piece_proto(r->proto, fams[f])};

		if (r->proto && !pc.proto)
			continue; /* icmp from an IPv6 address: never */
		for (size_t i = 0; i < ni; i++)
			for (size_t o = 0; o < no; o++) {
				pc.iif = r->niif ? r->iif[i] : NULL;
				pc.oif = r->noif ? r->oif[o] : NULL;
				emit_piece(b, ch, &pc, &from, &to, counter,
					   target);
			}
	}
}

static void baseline_icmp(struct fw_builder *b, size_t ch)
{
	/* What keeps networks working: errors, PMTU discovery, and for IPv6
	 * router and neighbour discovery. Echo is the policy's choice. */
	static const uint8_t v4[] = {3, 11, 12};
	static const uint8_t v6[] = {1, 2, 3, 4, 133, 134, 135, 136};
	struct mlist ml = {.n = 0};
	struct fw_prule *pr;

	bytes_match(b, &ml, FW_M_ICMP_TYPE, v4, ARRAY_SIZE(v4));
	pr = plan_chain_push(b, ch);
	prule_set(b, pr, &ml);
	pr->verdict = FW_V_ACCEPT;
	ml.n = 0;
	bytes_match(b, &ml, FW_M_ICMPV6_TYPE, v6, ARRAY_SIZE(v6));
	pr = plan_chain_push(b, ch);
	prule_set(b, pr, &ml);
	pr->verdict = FW_V_ACCEPT;
}

static void baseline(struct fw_builder *b, size_t ch, enum fw_chain_id cid)
{
	const struct fw_baseline *bl = &b->p->baseline;
	const char *cname = policy_chain_name(cid);
	struct mlist ml = {.n = 0};
	struct fw_prule *pr;

	if (bl->loopback && cid != FW_FORWARD) {
		mlist_add(&ml, cid == FW_INPUT ? FW_M_IIFNAME : FW_M_OIFNAME)
			->str = "lo";
		pr = plan_chain_push(b, ch);
		prule_set(b, pr, &ml);
		pr->verdict = FW_V_ACCEPT;
	}
	if (bl->established) {
		ml.n = 0;
		mlist_add(&ml, FW_M_CT_STATE)->mask =
			FW_CT_ESTABLISHED | FW_CT_RELATED;
		pr = plan_chain_push(b, ch);
		prule_set(b, pr, &ml);
		pr->verdict = FW_V_ACCEPT;
	}
	if (bl->invalid) {
		char *name = arena_printf(b->a, "invalid_%s", cname);

		ml.n = 0;
		mlist_add(&ml, FW_M_CT_STATE)->mask = FW_CT_INVALID;
		pr = plan_chain_push(b, ch);
		prule_set(b, pr, &ml);
		stmt_add(b, pr, FW_S_COUNTER)->counter =
			counter_add(b, name, FW_C_INVALID, cid, NULL);
		pr->verdict = FW_V_DROP;
	}
	if (bl->icmp)
		baseline_icmp(b, ch);
}

static void default_rules(struct fw_builder *b, size_t ch, enum fw_chain_id cid)
{
	const struct fw_policy *p = b->p;
	const char *cname = policy_chain_name(cid);
	bool drop = p->chains[cid].def == FW_DROP;
	struct fw_prule *pr;
	struct fw_stmt *s;

	if (drop && p->log_drops) {
		pr = plan_chain_push(b, ch);
		s = stmt_add(b, pr, FW_S_LIMIT);
		s->rate = p->log_rate.n;
		s->unit = (uint32_t)p->log_rate.unit;
		s->burst = FW_LIMIT_BURST_DEFAULT;
		s = stmt_add(b, pr, FW_S_LOG);
		s->prefix = arena_printf(b->a, "fwd drop %s: ", cname);
		s->group = FW_NFLOG_GROUP;
	}
	pr = plan_chain_push(b, ch);
	stmt_add(b, pr, FW_S_COUNTER)->counter =
		counter_add(b, arena_printf(b->a, "default_%s", cname),
			    FW_C_DEFAULT, cid, NULL);
	pr->verdict = drop ? FW_V_DROP : FW_V_ACCEPT;
}

static void build_chain(struct fw_builder *b, enum fw_chain_id cid)
{
	static const int hooks[] = {HOOK_LOCAL_IN, HOOK_LOCAL_OUT,
				    HOOK_FORWARD};
	const struct fw_chain *c = &b->p->chains[cid];
	size_t ch = chain_add(b, policy_chain_name(cid), true);

	b->plan->chains[ch].hook = hooks[cid];
	b->plan->chains[ch].policy_drop = c->def == FW_DROP;
	baseline(b, ch, cid);
	/* Counters in file order, whatever order the rules are emitted in. */
	for (size_t i = 0; i < c->nrules; i++)
		counter_add(b,
			    arena_cat(b->a, policy_chain_name(cid), "_",
				      c->rules[i].name, NULL),
			    FW_C_RULE, cid, &c->rules[i]);
	/* Deny overrides: every drop/reject rule before any accept rule,
	 * each group in file order, so the first match is the SPEC's. */
	if (!planmap_chain(b, ch, cid))
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < c->nrules; i++)
				if ((c->rules[i].action == FW_ACCEPT) ==
				    (pass == 1))
					plan_emit_rule(b, ch, cid,
						       &c->rules[i]);
	default_rules(b, ch, cid);
}

static void *to_arena(struct fw_arena *a, void *v, size_t len)
{
	void *copy = arena_memdup(a, v, len);

	free(v);
	return copy;
}

struct fw_plan *plan_build(const struct fw_policy *p, const char *table,
			   struct fw_diags *d)
{
	return plan_build_opts(p, table, NULL, d);
}

struct fw_plan *plan_build_opts(const struct fw_policy *p, const char *table,
				const struct fw_plan_opts *o,
				struct fw_diags *d)
{
	static const struct fw_plan_opts defaults = {false, FW_PLAN_MAP_MIN,
						     FW_PLAN_HASH_MIN};
	struct fw_builder b = {.p = p, .o = o ? o : &defaults};
	struct fw_plan *plan = xcalloc(1, sizeof(*plan));

	(void)d; /* a validated policy always plans */
	plan->arena = arena_new();
	plan->table = arena_strdup(plan->arena, table);
	b.plan = plan;
	b.a = plan->arena;
	b.inlined = xcalloc(p->ngroups + 1, sizeof(*b.inlined));
	for (int cid = 0; cid < FW_NCHAINS; cid++)
		if (p->chains[cid].declared)
			build_chain(&b, (enum fw_chain_id)cid);
	mark_exclusive(&b);
	free(b.inlined);
	for (size_t i = 0; i < plan->nchains; i++) {
		struct fw_rvec *rv = &b.chain_rules[i];

		plan->chains[i].nrules = rv->n;
		plan->chains[i].rules =
			arena_memdup(b.a, rv->v, rv->n * sizeof(*rv->v));
		free(rv->v);
	}
	free(b.chain_rules);
	/* Move the growable arrays into the arena so plan_free is one call. */
	plan->counters = to_arena(b.a, plan->counters,
				  plan->ncounters * sizeof(*plan->counters));
	plan->sets = to_arena(b.a, plan->sets, plan->nsets * sizeof(*plan->sets));
	plan->maps = to_arena(b.a, plan->maps, plan->nmaps * sizeof(*plan->maps));
	plan->chains = to_arena(b.a, plan->chains,
				plan->nchains * sizeof(*plan->chains));
	return plan;
}

/* --- digest ------------------------------------------------------------ */

/* Planner version: bump when the same policy would plan differently. */
#define PLAN_DIGEST_VERSION "fwd-plan-3"

/*
 * The digest's bytes gather in a buffer and reach SHA-256 4 KiB at a
 * time: a plan is hashed a few bytes at a time, tens of thousands of
 * times, and a call into the hash for each cost more than the hashing.
 */
struct hsink {
	struct fw_sha256 c;
	size_t n;
	uint8_t b[4096];
};

static void hs_put(struct hsink *h, const void *p, size_t n)
{
	if (n > sizeof(h->b) - h->n) {
		sha256_update(&h->c, h->b, h->n);
		h->n = 0;
		if (n > sizeof(h->b)) {
			sha256_update(&h->c, p, n);
			return;
		}
	}
	memcpy(h->b + h->n, p, n);
	h->n += n;
}

static void h_u32(struct hsink *c, uint32_t v)
{
	hs_put(c, &v, sizeof(v));
}

static void h_str(struct hsink *c, const char *s)
{
	size_t n = s ? strlen(s) + 1 : 0;

	h_u32(c, (uint32_t)n);
	hs_put(c, s ? s : "", n);
}

static void h_elems(struct hsink *c, const struct fw_elem *v, size_t n,
		    size_t keylen)
{
	h_u32(c, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		hs_put(c, v[i].lo, keylen);
		hs_put(c, v[i].hi, keylen);
	}
}

static void h_rule(struct hsink *c, const struct fw_prule *r)
{
	h_u32(c, (uint32_t)r->nm);
	for (size_t i = 0; i < r->nm; i++) {
		const struct fw_match *m = &r->m[i];

		h_u32(c, (uint32_t)m->kind << 8 | m->family);
		h_str(c, m->str);
		h_u32(c, m->mask);
		h_str(c, m->set);
		h_elems(c, m->elems, m->nelems, plan_keylen(m));
	}
	h_u32(c, (uint32_t)r->ns);
	for (size_t i = 0; i < r->ns; i++) {
		const struct fw_stmt *s = &r->s[i];

		h_u32(c, (uint32_t)s->kind << 1 | s->over);
		h_u32(c, s->rate);
		h_u32(c, s->unit);
		h_u32(c, s->burst);
		h_str(c, s->prefix);
		h_u32(c, (uint32_t)s->group);
		h_str(c, s->counter);
	}
	h_u32(c, (uint32_t)r->verdict << 16 | (uint32_t)r->reject_family << 8 |
		     r->family);
	h_str(c, r->target);
	h_str(c, r->comment);
}

void plan_digest(const struct fw_plan *p, char hex[65])
{
	struct hsink c;
	uint8_t d[FW_SHA256_LEN];

	sha256_init(&c.c);
	c.n = 0;
	h_str(&c, PLAN_DIGEST_VERSION);
	h_str(&c, p->table);
	h_u32(&c, (uint32_t)p->ncounters);
	for (size_t i = 0; i < p->ncounters; i++) {
		h_str(&c, p->counters[i].name);
		h_u32(&c, p->counters[i].in_elems);
	}
	h_u32(&c, (uint32_t)p->nsets);
	for (size_t i = 0; i < p->nsets; i++) {
		const struct fw_pset *s = &p->sets[i];

		h_str(&c, s->name);
		h_u32(&c, (uint32_t)s->key << 1 | s->interval);
		h_u32(&c, s->size);
		h_u32(&c, (uint32_t)s->nelems);
		hs_put(&c, s->sum, sizeof(s->sum));
	}
	h_u32(&c, (uint32_t)p->nmaps);
	for (size_t i = 0; i < p->nmaps; i++) {
		const struct fw_pmap *m = &p->maps[i];
		size_t alen = m->family == 6 ? 16 : 4;

		h_str(&c, m->name);
		h_u32(&c, (uint32_t)m->family << 1 | m->deny);
		h_u32(&c, (uint32_t)m->plen << 24 | m->size);
		h_u32(&c, (uint32_t)m->nelems);
		for (size_t j = 0; j < m->nelems; j++) {
			const struct fw_pmelem *x = &m->elems[j];

			hs_put(&c, x->addr.lo, alen);
			hs_put(&c, x->addr.hi, alen);
			h_u32(&c, (uint32_t)x->proto << 24 | x->verdict);
			h_u32(&c, (uint32_t)x->plo << 16 | x->phi);
			h_str(&c, x->target);
			h_str(&c, x->rule);
		}
	}
	h_u32(&c, (uint32_t)p->nchains);
	for (size_t i = 0; i < p->nchains; i++) {
		const struct fw_pchain *ch = &p->chains[i];

		h_str(&c, ch->name);
		h_u32(&c, (uint32_t)ch->base << 1 | ch->policy_drop);
		h_u32(&c, (uint32_t)ch->hook);
		h_u32(&c, (uint32_t)ch->priority);
		h_u32(&c, (uint32_t)ch->nrules);
		for (size_t j = 0; j < ch->nrules; j++)
			h_rule(&c, &ch->rules[j]);
	}
	sha256_update(&c.c, c.b, c.n);
	sha256_final(&c.c, d);
	sha256_hex(d, hex);
}
