// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nl_maps: reads what the elements of fwd's verdict maps counted, so that
 * a rule planned into a map reports its packets under its named counter.
 * Reads only; never changes the ruleset.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nl_int.h"
#include "util.h"

static void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

/* The chain part of a map name "<chain>_accept_ip6" or, for a hash map,
 * "<chain>_deny_ip_24"; 0 if not ours. */
static size_t map_chain_len(const char *name)
{
	static const char *const kinds[] = {"_accept_ip", "_accept_ip6",
					    "_deny_ip", "_deny_ip6"};
	size_t n = strlen(name), d = n;

	while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
		d--;
	if (d < n && d > 0 && name[d - 1] == '_')
		n = d - 1;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i]);

		if (n > k && !memcmp(name + n - k, kinds[i], k))
			return n - k;
	}
	return 0;
}

struct names {
	char **v;
	size_t n, cap;
};

static int map_cb(const struct nlmsghdr *nlh, void *data)
{
	struct names *ns = data;
	struct nftnl_set *s = must(nftnl_set_alloc());

	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_MAP) &&
	    map_chain_len(nftnl_set_get_str(s, NFTNL_SET_NAME))) {
		xgrow((void **)&ns->v, &ns->cap, ns->n, sizeof(*ns->v));
		ns->v[ns->n++] = xstrdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

struct sums {
	struct fw_counter_val *v;
	size_t n, cap;
	const char *map;
	size_t chain_len;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct fw_counter_val *)a)->name,
		      ((const struct fw_counter_val *)b)->name);
}

struct fw_counter_val *nl_counter_find(struct fw_counter_val *v, size_t n,
				       const char *name)
{
	struct fw_counter_val key = {(char *)name, 0, 0};

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_name) : NULL;
}

bool nl_counter_prefixed(const struct fw_counter_val *v, size_t n,
			 const char *prefix)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].name, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strncmp(v[lo].name, prefix, strlen(prefix));
}

/* The comment of an element: nftnl udata, type COMMENT, NUL-terminated. */
static const char *elem_comment(struct nftnl_set_elem *e)
{
	uint32_t len = 0;
	const uint8_t *u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);

	for (uint32_t i = 0; u && i + 2 <= len; i += 2u + u[i + 1]) {
		uint32_t l = u[i + 1];

		if (i + 2 + l > len)
			break;
		if (u[i] == NFTNL_UDATA_SET_ELEM_COMMENT && l &&
		    u[i + 2 + l - 1] == '\0')
			return (const char *)&u[i + 2];
	}
	return NULL;
}

static int ctr_cb(struct nftnl_expr *x, void *data)
{
	uint64_t *pb = data;

	if (!strcmp(nftnl_expr_get_str(x, NFTNL_EXPR_NAME), "counter")) {
		pb[0] += nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
		pb[1] += nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static void sums_add(struct sums *s, struct nftnl_set_elem *e)
{
	const char *rule = elem_comment(e);
	uint64_t pb[2] = {0, 0};
	struct fw_counter_val *cv;

	if (!rule ||
	    (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT) &&
	     (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT) == NFT_JUMP))
		return;
	nftnl_set_elem_expr_foreach(e, ctr_cb, pb);
	xgrow((void **)&s->v, &s->cap, s->n, sizeof(*s->v));
	cv = &s->v[s->n++];
	cv->name = xasprintf("%.*s_%s", (int)s->chain_len, s->map, rule);
	cv->packets = pb[0];
	cv->bytes = pb[1];
}

void nl_each_elem(const struct nlmsghdr *nlh,
		  void (*fn)(void *arg, struct nftnl_set_elem *e), void *arg)
{
	struct nftnl_set *s = must(nftnl_set_alloc());
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0) {
		it = must(nftnl_set_elems_iter_create(s));
		for (e = nftnl_set_elems_iter_cur(it); e;
		     e = nftnl_set_elems_iter_next(it))
			fn(arg, e);
		nftnl_set_elems_iter_destroy(it);
	}
	nftnl_set_free(s);
}

static void sum_one(void *arg, struct nftnl_set_elem *e)
{
	sums_add(arg, e);
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	nl_each_elem(nlh, sum_one, data);
	return MNL_CB_OK;
}

static int dump_elems(struct fw_nl *nl, const char *table, struct sums *s)
{
	struct nlmsghdr *nlh =
	    nl_req(nl, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP);
	struct nftnl_set *set = must(nftnl_set_alloc());

	nftnl_set_set_str(set, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(set, NFTNL_SET_NAME, s->map);
	nftnl_set_elems_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	return nl_query(nl, nlh, elem_cb, s);
}

void nl_counters_sort(struct fw_counter_val *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
}

/* Sorts by name and adds up entries of the same name. */
static size_t sums_fold(struct fw_counter_val *v, size_t n)
{
	size_t out = 0;

	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
	for (size_t i = 0; i < n; i++) {
		if (out && !strcmp(v[out - 1].name, v[i].name)) {
			v[out - 1].packets += v[i].packets;
			v[out - 1].bytes += v[i].bytes;
			free(v[i].name);
			continue;
		}
		v[out++] = v[i];
	}
	return out;
}

int nl_map_counts(struct fw_nl *nl, const char *table,
		  struct fw_counter_val **v, size_t *n)
{
	struct nlmsghdr *nlh = nl_req(nl, NFT_MSG_GETSET, NFPROTO_INET,
				      NLM_F_DUMP);
	struct nftnl_set *set = must(nftnl_set_alloc());
	struct names ns = {0};
	struct sums s = {0};
	int r;

	nftnl_set_set_str(set, NFTNL_SET_TABLE, table);
	nftnl_set_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	r = nl_query(nl, nlh, map_cb, &ns);
	if (r < 0 && errno == ENOENT)
		r = 0; /* no table: no maps */
	for (size_t i = 0; r == 0 && i < ns.n; i++) {
		s.map = ns.v[i];
		s.chain_len = map_chain_len(ns.v[i]);
		r = dump_elems(nl, table, &s);
	}
	for (size_t i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	if (r < 0) {
		nl_counters_free(s.v, s.n);
		return -1;
	}
	*v = s.v;
	*n = sums_fold(s.v, s.n);
	return 0;
}
