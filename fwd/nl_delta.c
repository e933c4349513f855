// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nl_delta: applies a plan at the cost of its difference from the plan the
 * kernel holds: counters added or removed, set and map elements added or
 * deleted, in one batch that carries the generation of the caller's last
 * commit (so that the kernel refuses it if anything changed since). Plans
 * that differ in chains, rules or which sets exist go through nl_apply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nl.h"
#include "nl_int.h"
#include "util.h"

/* A map delta bigger than this is not sent element by element: the map is
 * replaced (nl_apply), which the kernel does far faster for big maps. */
#define DELTA_MAP_MAX(n) ((n) / 4 > 256 ? (n) / 4 : 256)

static void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

static bool match_eq(const struct fw_match *a, const struct fw_match *b)
{
	return a->kind == b->kind && a->family == b->family &&
	       str_eq(a->str, b->str) && a->mask == b->mask &&
	       str_eq(a->set, b->set) && a->nelems == b->nelems &&
	       (!a->nelems ||
		!memcmp(a->elems, b->elems, a->nelems * sizeof(*a->elems)));
}

static bool stmt_eq(const struct fw_stmt *a, const struct fw_stmt *b)
{
	return a->kind == b->kind && a->over == b->over && a->rate == b->rate &&
	       a->unit == b->unit && a->burst == b->burst &&
	       str_eq(a->prefix, b->prefix) && a->group == b->group &&
	       str_eq(a->counter, b->counter);
}

static bool rule_eq(const struct fw_prule *a, const struct fw_prule *b)
{
	if (a->nm != b->nm || a->ns != b->ns || a->verdict != b->verdict ||
	    !str_eq(a->target, b->target) ||
	    a->reject_family != b->reject_family ||
	    !str_eq(a->comment, b->comment) || a->family != b->family)
		return false;
	for (size_t i = 0; i < a->nm; i++)
		if (!match_eq(&a->m[i], &b->m[i]))
			return false;
	for (size_t i = 0; i < a->ns; i++)
		if (!stmt_eq(&a->s[i], &b->s[i]))
			return false;
	return true;
}

static bool chain_eq(const struct fw_pchain *a, const struct fw_pchain *b)
{
	if (strcmp(a->name, b->name) || a->base != b->base ||
	    a->hook != b->hook || a->priority != b->priority ||
	    a->policy_drop != b->policy_drop || a->nrules != b->nrules)
		return false;
	for (size_t i = 0; i < a->nrules; i++)
		if (!rule_eq(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

/* Whether only counters and elements differ. */
static bool same_shape(const struct fw_plan *o, const struct fw_plan *n)
{
	if (strcmp(o->table, n->table) || o->nchains != n->nchains ||
	    o->nsets != n->nsets || o->nmaps != n->nmaps)
		return false;
	for (size_t i = 0; i < n->nchains; i++)
		if (!chain_eq(&o->chains[i], &n->chains[i]))
			return false;
	for (size_t i = 0; i < n->nsets; i++)
		if (strcmp(o->sets[i].name, n->sets[i].name) ||
		    o->sets[i].key != n->sets[i].key ||
		    o->sets[i].interval != n->sets[i].interval ||
		    o->sets[i].size != n->sets[i].size)
			return false;
	for (size_t i = 0; i < n->nmaps; i++)
		if (strcmp(o->maps[i].name, n->maps[i].name) ||
		    o->maps[i].family != n->maps[i].family ||
		    o->maps[i].plen != n->maps[i].plen ||
		    o->maps[i].size != n->maps[i].size)
			return false;
	return true;
}

/* --- set elements ------------------------------------------------------ */

struct evec {
	struct fw_elem *v;
	size_t n, cap;
};

static void evec_add(struct evec *e, const struct fw_elem *x)
{
	xgrow((void **)&e->v, &e->cap, e->n, sizeof(*e->v));
	e->v[e->n++] = *x;
}

/* Both lists are sorted and disjoint: one merge finds what differs. */
static void set_delta(const struct fw_pset *o, const struct fw_pset *n,
		      struct evec *del, struct evec *add)
{
	size_t len = n->key == FW_KEY_IPV6 ? 16 : 4, i = 0, j = 0;

	while (i < o->nelems || j < n->nelems) {
		int c = i == o->nelems	 ? 1
			: j == n->nelems ? -1
					 : memcmp(o->elems[i].lo,
						  n->elems[j].lo, len);

		if (c == 0 && !memcmp(o->elems[i].hi, n->elems[j].hi, len)) {
			i++;
			j++;
		} else if (c <= 0 && i < o->nelems) {
			evec_add(del, &o->elems[i++]);
		} else {
			evec_add(add, &n->elems[j++]);
		}
	}
}

/* --- map elements ------------------------------------------------------- */

struct mvec {
	struct fw_pmelem *v;
	size_t n, cap;
};

static void mvec_add(struct mvec *m, const struct fw_pmelem *x)
{
	xgrow((void **)&m->v, &m->cap, m->n, sizeof(*m->v));
	m->v[m->n++] = *x;
}

static int melem_cmp(const void *x, const void *y)
{
	const struct fw_pmelem *a = *(const struct fw_pmelem *const *)x;
	const struct fw_pmelem *b = *(const struct fw_pmelem *const *)y;
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	if (c)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->plo != b->plo)
		return a->plo < b->plo ? -1 : 1;
	if (a->phi != b->phi)
		return a->phi < b->phi ? -1 : 1;
	if (a->verdict != b->verdict)
		return a->verdict < b->verdict ? -1 : 1;
	c = strcmp(a->target ? a->target : "", b->target ? b->target : "");
	return c ? c : strcmp(a->rule, b->rule);
}

static const struct fw_pmelem **msorted(const struct fw_pmap *m)
{
	const struct fw_pmelem **v = xmalloc((m->nelems + 1) * sizeof(*v));

	for (size_t i = 0; i < m->nelems; i++)
		v[i] = &m->elems[i];
	qsort(v, m->nelems, sizeof(*v), melem_cmp);
	return v;
}

/* Elements that differ in anything (key, verdict, rule) go and come. */
static void map_delta(const struct fw_pmap *o, const struct fw_pmap *n,
		      struct mvec *del, struct mvec *add)
{
	const struct fw_pmelem **a = msorted(o), **b = msorted(n);
	size_t i = 0, j = 0;

	while (i < o->nelems || j < n->nelems) {
		int c = i == o->nelems	 ? 1
			: j == n->nelems ? -1
					 : melem_cmp(&a[i], &b[j]);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			mvec_add(del, a[i++]);
		} else {
			mvec_add(add, b[j++]);
		}
	}
	free(a);
	free(b);
}

/* --- what deleted elements counted -------------------------------------- */

struct ekey {
	uint8_t k[48]; /* key, then key end */
	uint64_t pk, by;
};

struct ekeys {
	struct ekey *v;
	size_t n, cap;
};

static int ctr_cb(struct nftnl_expr *x, void *data)
{
	struct ekey *e = data;

	if (!strcmp(nftnl_expr_get_str(x, NFTNL_EXPR_NAME), "counter")) {
		e->pk += nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
		e->by += nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static void ekey_one(void *arg, struct nftnl_set_elem *e)
{
	struct ekeys *ks = arg;
	uint32_t l1 = 0, l2 = 0;
	const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &l1);
	const void *ke = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &l2);
	struct ekey *x;

	/* A hash map's elements have no key end: it stays zero. */
	if (!k || l1 > 24 || l2 > 24)
		return;
	xgrow((void **)&ks->v, &ks->cap, ks->n, sizeof(*ks->v));
	x = &ks->v[ks->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->k, k, l1);
	if (ke)
		memcpy(x->k + 24, ke, l2);
	nftnl_set_elem_expr_foreach(e, ctr_cb, x);
}

static int ekey_cb(const struct nlmsghdr *nlh, void *data)
{
	nl_each_elem(nlh, ekey_one, data);
	return MNL_CB_OK;
}

static int ekey_cmp(const void *a, const void *b)
{
	return memcmp(((const struct ekey *)a)->k, ((const struct ekey *)b)->k,
		      48);
}

/* Elements in one request for what they counted: far below nl->buf. */
#define ELEMS_PER_GET 128

/*
 * Elements v[0..n) of map m as the kernel holds them (keys and counters,
 * into ks), asked for by key: a few elements of a big map cost a few
 * lookups, not a dump of the map. -1/errno (ENOENT: one is not there).
 */
static int elems_get(struct fw_nl *nl, const char *table,
		     const struct fw_pmap *m, const struct fw_pmelem *v,
		     size_t n, struct ekeys *ks)
{
	for (size_t i = 0; i < n;) {
		struct nlmsghdr *nlh =
		    nl_req(nl, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_ACK);
		struct nftnl_set *set = must(nftnl_set_alloc());

		nftnl_set_set_str(set, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(set, NFTNL_SET_NAME, m->name);
		for (size_t k = 0; i < n && k < ELEMS_PER_GET; i++, k++)
			nftnl_set_elem_add(set, nl_build_map_elem_key(m, &v[i]));
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		nftnl_set_free(set);
		if (nl_query(nl, nlh, ekey_cb, ks) < 0)
			return -1;
	}
	return 0;
}

/* One element of a map as the kernel holds it: what it counted. */
static int elem_get(struct fw_nl *nl, const char *table,
		    const struct fw_pmap *m, const struct fw_pmelem *x,
		    uint64_t pb[2])
{
	struct ekeys ks = {0};
	int r = elems_get(nl, table, m, x, 1, &ks);

	pb[0] = r == 0 && ks.n ? ks.v[0].pk : 0;
	pb[1] = r == 0 && ks.n ? ks.v[0].by : 0;
	free(ks.v);
	return r;
}

/* Per rule counter name, what the deleted non-jump elements counted. */
struct carry {
	struct fw_counter_val *v;
	size_t n, cap;
};

static int carry_map(struct fw_nl *nl, const struct fw_plan *old,
		     const struct fw_pmap *m, const struct mvec *del,
		     struct carry *c)
{
	struct ekeys ks = {0};
	const char *cname = m->name;
	size_t clen = strcspn(cname, "_");

	/* Only the deleted elements, asked for by key (a delta deletes a
	 * quarter of a big map at most): not a dump of the map. */
	if (elems_get(nl, old->table, m, del->v, del->n, &ks) < 0) {
		free(ks.v);
		return -1;
	}
	qsort(ks.v, ks.n, sizeof(*ks.v), ekey_cmp);
	for (size_t i = 0; i < del->n; i++) {
		const struct fw_pmelem *x = &del->v[i];
		struct ekey key = {{0}, 0, 0}, *hit;
		struct fw_counter_val *cv;

		if (x->verdict == FW_V_JUMP)
			continue;
		nl_build_map_key(key.k, m, x->addr.lo, x->proto, x->plo);
		if (!m->plen)
			nl_build_map_key(key.k + 24, m, x->addr.hi, x->proto,
					 x->phi);
		hit = ks.n ? bsearch(&key, ks.v, ks.n, sizeof(key), ekey_cmp)
			   : NULL;
		if (!hit || (!hit->pk && !hit->by))
			continue;
		xgrow((void **)&c->v, &c->cap, c->n, sizeof(*c->v));
		cv = &c->v[c->n++];
		/* Chain names have no '_': "input_accept_ip" -> "input". */
		cv->name = xasprintf("%.*s_%s", (int)clen, cname, x->rule);
		cv->packets = hit->pk;
		cv->bytes = hit->by;
	}
	free(ks.v);
	return 0;
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_obj *o = must(nftnl_obj_alloc());
	uint64_t *pb = data;

	if (nftnl_obj_nlmsg_parse(nlh, o) == 0) {
		pb[0] = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		pb[1] = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

/* One named counter's values; 0, or -1/errno. */
static int counter_get(struct fw_nl *nl, const char *table, const char *name,
		       uint64_t *pb)
{
	struct nlmsghdr *nlh = nl_req(nl, NFT_MSG_GETOBJ, NFPROTO_INET,
				      NLM_F_ACK);
	struct nftnl_obj *o = must(nftnl_obj_alloc());

	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	pb[0] = pb[1] = 0;
	return nl_query(nl, nlh, obj_cb, pb);
}

/* --- the batch ------------------------------------------------------------- */

static int cmp_cname(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of p's counters (objects, or with elems, counted in map
 * elements), sorted; their number in *n. */
static const char **counter_names(const struct fw_plan *p, bool elems,
				  size_t *n)
{
	const char **v = xmalloc((p->ncounters + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < p->ncounters; i++)
		if (p->counters[i].in_elems == elems)
			v[(*n)++] = p->counters[i].name;
	qsort(v, *n, sizeof(*v), cmp_cname);
	return v;
}

static bool has_name(const char **v, size_t n, const char *name)
{
	return n && bsearch(&name, v, n, sizeof(*v), cmp_cname);
}

/* New counters first; counters of rules that left, after the elements. */
static void counters_delta(struct fw_nl_tx *tx, const struct fw_plan *o,
			   const struct fw_plan *n, bool add)
{
	const struct fw_plan *from = add ? n : o, *other = add ? o : n;
	size_t nn;
	const char **names = counter_names(other, false, &nn);

	for (size_t i = 0; i < from->ncounters; i++) {
		const struct fw_pcounter *c = &from->counters[i];

		if (!c->in_elems && !has_name(names, nn, c->name))
			nl_tx_counter(tx, add ? NFT_MSG_NEWOBJ : NFT_MSG_DELOBJ,
				      c->name, c->path, NULL);
	}
	free(names);
}

/* Counters whose rules lost counted elements: replaced with the sum. */
static int carry_counters(struct fw_nl *nl, struct fw_nl_tx *tx,
			  const struct fw_plan *n, struct carry *c)
{
	size_t nn;
	const char **names = counter_names(n, false, &nn);
	int r = 0;

	for (size_t i = 0; i < c->n && r == 0; i++) {
		uint64_t pb[2];

		if (!has_name(names, nn, c->v[i].name))
			continue;
		r = counter_get(nl, n->table, c->v[i].name, pb);
		if (r < 0)
			break;
		pb[0] += c->v[i].packets;
		pb[1] += c->v[i].bytes;
		nl_tx_counter(tx, NFT_MSG_DELOBJ, c->v[i].name, NULL, NULL);
		nl_tx_counter(tx, NFT_MSG_NEWOBJ, c->v[i].name, NULL, pb);
	}
	free(names);
	return r;
}

/* --- rules that count in map elements ------------------------------------ */

/* Whether element x of map m counts for counter name "<chain>_<rule>". */
static bool elem_counts_for(const struct fw_pmap *m, const struct fw_pmelem *x,
			    const char *name)
{
	const char *cname = policy_chain_name(m->chain);
	size_t clen = strlen(cname);

	return x->verdict != FW_V_JUMP && !strncmp(name, cname, clen) &&
	       name[clen] == '_' && !strcmp(name + clen + 1, x->rule);
}

struct delta {
	struct evec *sdel, *sadd; /* per set */
	struct mvec *mdel, *madd; /* per map */
	uint64_t (**mcnt)[2];	  /* per map: initial counts of madd, or NULL */
	struct carry carry;
};

/* The first element of name's rule in v[0..n) of map m, or -1. */
static long elem_find(const struct fw_pmap *m, const struct fw_pmelem *v,
		      size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (elem_counts_for(m, &v[i], name))
			return (long)i;
	return -1;
}

/* Adds pb to the initial counts of element ei of map mi's additions. */
static void mcnt_add(struct delta *x, size_t mi, size_t ei,
		     const uint64_t pb[2])
{
	if (!x->mcnt[mi])
		x->mcnt[mi] = xcalloc(x->madd[mi].n, sizeof(*x->mcnt[mi]));
	x->mcnt[mi][ei][0] += pb[0];
	x->mcnt[mi][ei][1] += pb[1];
}

/*
 * Puts what a rule's deleted elements counted into one of its elements:
 * one being added if there is one, else one it keeps, deleted and added
 * again with its own count plus the carried one. (A rule left with no
 * element at all counts nothing any more.) Runs once the additions are
 * final but for the re-added elements, which are added first.
 */
static int carry_elems(struct fw_nl *nl, const struct fw_plan *n,
		       struct delta *x)
{
	size_t ne, nre = 0;
	const char **elems = counter_names(n, true, &ne);
	struct {
		size_t mi, ei;
		uint64_t pb[2];
	} *re = xcalloc(x->carry.n + 1, sizeof(*re));
	int r = 0;

	/* Kept elements to re-add, before any mcnt array is sized. */
	for (size_t c = 0; c < x->carry.n && r == 0; c++) {
		const struct fw_counter_val *cv = &x->carry.v[c];
		bool added = false;

		if (!has_name(elems, ne, cv->name))
			continue;
		for (size_t mi = 0; mi < n->nmaps && !added; mi++)
			added = elem_find(&n->maps[mi], x->madd[mi].v,
					  x->madd[mi].n, cv->name) >= 0;
		for (size_t mi = 0; mi < n->nmaps && !added; mi++) {
			const struct fw_pmap *m = &n->maps[mi];
			long k = elem_find(m, m->elems, m->nelems, cv->name);

			if (k < 0)
				continue;
			r = elem_get(nl, n->table, m, &m->elems[k],
				     re[nre].pb);
			mvec_add(&x->mdel[mi], &m->elems[k]);
			mvec_add(&x->madd[mi], &m->elems[k]);
			re[nre].mi = mi;
			re[nre++].ei = x->madd[mi].n - 1;
			added = true;
		}
	}
	for (size_t i = 0; i < nre; i++)
		mcnt_add(x, re[i].mi, re[i].ei, re[i].pb);
	for (size_t c = 0; c < x->carry.n && r == 0; c++) {
		const struct fw_counter_val *cv = &x->carry.v[c];
		const uint64_t pb[2] = {cv->packets, cv->bytes};

		if (!has_name(elems, ne, cv->name))
			continue;
		for (size_t mi = 0; mi < n->nmaps; mi++) {
			long k = elem_find(&n->maps[mi], x->madd[mi].v,
					   x->madd[mi].n, cv->name);

			if (k >= 0) {
				mcnt_add(x, mi, (size_t)k, pb);
				break;
			}
		}
	}
	free(re);
	free(elems);
	return r;
}

static void delta_free(struct delta *x, const struct fw_plan *p)
{
	for (size_t i = 0; i < p->nsets; i++) {
		free(x->sdel[i].v);
		free(x->sadd[i].v);
	}
	for (size_t i = 0; i < p->nmaps; i++) {
		free(x->mdel[i].v);
		free(x->madd[i].v);
	}
	free(x->sdel);
	free(x->sadd);
	for (size_t i = 0; x->mcnt && i < p->nmaps; i++)
		free(x->mcnt[i]);
	free(x->mcnt);
	free(x->mdel);
	free(x->madd);
	nl_counters_free(x->carry.v, x->carry.n);
}

/* Works out the element deltas; -1 when a map changed too much. */
static int delta_make(struct fw_nl *nl, const struct fw_plan *o,
		      const struct fw_plan *n, struct delta *x)
{
	x->sdel = xcalloc(n->nsets + 1, sizeof(*x->sdel));
	x->sadd = xcalloc(n->nsets + 1, sizeof(*x->sadd));
	x->mdel = xcalloc(n->nmaps + 1, sizeof(*x->mdel));
	x->madd = xcalloc(n->nmaps + 1, sizeof(*x->madd));
	x->mcnt = xcalloc(n->nmaps + 1, sizeof(*x->mcnt));
	for (size_t i = 0; i < n->nsets; i++)
		set_delta(&o->sets[i], &n->sets[i], &x->sdel[i], &x->sadd[i]);
	for (size_t i = 0; i < n->nmaps; i++) {
		map_delta(&o->maps[i], &n->maps[i], &x->mdel[i], &x->madd[i]);
		if (x->mdel[i].n + x->madd[i].n >
		    DELTA_MAP_MAX(n->maps[i].nelems))
			return -1;
		if (x->mdel[i].n &&
		    carry_map(nl, o, &o->maps[i], &x->mdel[i], &x->carry) < 0)
			return -1;
	}
	return x->carry.n ? carry_elems(nl, n, x) : 0;
}

static int delta_fill(struct fw_nl *nl, struct fw_nl_tx *tx,
		      const struct fw_plan *o, const struct fw_plan *n,
		      struct delta *x)
{
	counters_delta(tx, o, n, true);
	if (carry_counters(nl, tx, n, &x->carry) < 0)
		return -1;
	for (size_t i = 0; i < n->nsets; i++) {
		nl_build_set_elems(tx, &n->sets[i], x->sdel[i].v, x->sdel[i].n,
				   true);
		nl_build_set_elems(tx, &n->sets[i], x->sadd[i].v, x->sadd[i].n,
				   false);
	}
	for (size_t i = 0; i < n->nmaps; i++) {
		nl_build_map_del(tx, &n->maps[i], x->mdel[i].v, x->mdel[i].n);
		nl_build_map_elems(tx, &n->maps[i], 0, x->madd[i].v,
				   x->madd[i].n,
				   (const uint64_t(*)[2])x->mcnt[i]);
	}
	counters_delta(tx, o, n, false);
	return 0;
}

/* 0 applied, -1 refused (d), 1: not applicable, use nl_apply. */
static int delta_apply(struct fw_nl *nl, const struct fw_plan *plan,
		       const struct fw_plan *old, uint32_t genid,
		       unsigned flags, struct fw_diags *d)
{
	struct delta x = {0};
	struct fw_nl_tx tx;
	int r = 1;

	if (!same_shape(old, plan))
		return 1;
	if (delta_make(nl, old, plan, &x) == 0) {
		nl_tx_init(&tx, nl, plan);
		nl_tx_begin(&tx, genid);
		if (delta_fill(nl, &tx, old, plan, &x) == 0) {
			if (!(flags & FW_NL_DRY_RUN))
				nl_tx_commit(&tx);
			r = nl_tx_talk(nl, &tx, d);
			if (r == NL_RESTART)
				r = 1;
		}
		nl_tx_free(&tx);
	}
	delta_free(&x, plan);
	return r;
}

int nl_apply_elems(struct fw_nl *nl, const struct fw_plan *plan,
		   const struct fw_elem_change *v, size_t n, uint32_t genid,
		   struct fw_diags *d)
{
	struct fw_nl_tx tx;
	int r;

	nl_tx_init(&tx, nl, plan);
	nl_tx_begin(&tx, genid);
	for (size_t i = 0; i < n; i++) {
		nl_build_set_elems(&tx, v[i].set, v[i].del, v[i].ndel, true);
		nl_build_set_elems(&tx, v[i].set, v[i].add, v[i].nadd, false);
	}
	nl_tx_commit(&tx);
	r = nl_tx_talk(nl, &tx, d);
	nl_tx_free(&tx);
	return r;
}

int nl_apply_delta(struct fw_nl *nl, const struct fw_plan *plan,
		   const struct fw_plan *old, uint32_t genid, unsigned flags,
		   struct fw_diags *d)
{
	struct fw_diags mine;
	int r;

	if (!old)
		return nl_apply(nl, plan, flags, d);
	diags_init(&mine);
	r = delta_apply(nl, plan, old, genid, flags, &mine);
	diags_free(&mine);
	/* Whatever went wrong with the delta, a whole replace decides. */
	return r == 0 ? 0 : nl_apply(nl, plan, flags, d);
}
