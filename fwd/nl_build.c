// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nl_build: turns plan sets and rules into nftables netlink messages, byte
 * for byte what nft 1.0.6 sends for the text the nftext printer prints for
 * them (dependencies, set udata, interval elements). Never sends anything.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <netinet/in.h>

#include "nl_int.h"
#include "util.h"

/*
 * nft's own numbers, which it keeps in set udata and which `nft list` reads
 * back: datatype ids (src/datatype.h), byte order, expression types and
 * protocol descriptor ids of nftables 1.0.6. Not in any kernel header.
 */
enum {
	NL_DT_IPADDR = 7,
	NL_DT_IP6ADDR = 8,
	NL_DT_INET_PROTO = 12,
	NL_DT_INET_SERVICE = 13,
	NL_DT_ICMP_TYPE = 14,
	NL_DT_ICMPV6_TYPE = 29,
};
enum { NL_BO_HOST = 1, NL_BO_BIG = 2 };
enum { NL_EXPR_PAYLOAD = 7, NL_EXPR_META = 9 };
enum {
	NL_PD_ICMP = 4,
	NL_PD_UDP = 6,
	NL_PD_TCP = 8,
	NL_PD_TH = 11,
	NL_PD_IP = 12,
	NL_PD_IP6 = 13,
	NL_PD_ICMPV6 = 14,
};

#define NL_KEY_META 0xff     /* fw_nl_key.base: a meta key, not payload */
#define NL_ELEMS_PER_MSG 256 /* keeps each NEWSETELEM far below 64 KiB */
#define NL_UDATA_MAX 256     /* NFT_USERDATA_MAXLEN */

/* Where a match's key comes from and how nft describes it in a set. */
struct fw_nl_key {
	uint8_t base, offset, len; /* payload base or NL_KEY_META */
	uint32_t meta;		   /* NFT_META_* when base is NL_KEY_META */
	uint32_t dtype, byteorder; /* set key type and udata byte order */
	uint32_t desc, field;	   /* typeof udata: proto desc and field */
	bool prefix;		   /* one element may be sent as a prefix */
};

#define NL_TH NFT_PAYLOAD_TRANSPORT_HEADER
#define NL_ADDR(o, l, t, d, f)                                                \
	{ .base = NFT_PAYLOAD_NETWORK_HEADER, .offset = o, .len = l,          \
	  .dtype = t, .byteorder = NL_BO_BIG, .desc = d, .field = f,          \
	  .prefix = true }

static const struct fw_nl_key key_saddr4 =
	NL_ADDR(12, 4, NL_DT_IPADDR, NL_PD_IP, 11);
static const struct fw_nl_key key_daddr4 =
	NL_ADDR(16, 4, NL_DT_IPADDR, NL_PD_IP, 12);
static const struct fw_nl_key key_saddr6 =
	NL_ADDR(8, 16, NL_DT_IP6ADDR, NL_PD_IP6, 8);
static const struct fw_nl_key key_daddr6 =
	NL_ADDR(24, 16, NL_DT_IP6ADDR, NL_PD_IP6, 9);
static const struct fw_nl_key key_l4proto = {
	.base = NL_KEY_META, .len = 1, .meta = NFT_META_L4PROTO,
	.dtype = NL_DT_INET_PROTO, .byteorder = NL_BO_HOST,
	.desc = NFT_META_L4PROTO,
};
/* offset, field and desc are set per match: "tcp dport", "th sport"... */
static const struct fw_nl_key key_port = {
	.base = NL_TH, .len = 2, .dtype = NL_DT_INET_SERVICE,
	.byteorder = NL_BO_BIG, .desc = NL_PD_TH,
};
static const struct fw_nl_key key_icmp = {
	.base = NL_TH, .len = 1, .dtype = NL_DT_ICMP_TYPE,
	.byteorder = NL_BO_BIG, .desc = NL_PD_ICMP, .field = 1,
};
static const struct fw_nl_key key_icmpv6 = {
	.base = NL_TH, .len = 1, .dtype = NL_DT_ICMPV6_TYPE,
	.byteorder = NL_BO_BIG, .desc = NL_PD_ICMPV6, .field = 1,
};

/* One rule being built, with what its matches have established so far. */
struct rule_ctx {
	struct fw_nl_tx *tx;
	struct nftnl_rule *r;
	const struct fw_prule *pr;
	const char *what;
	int nfproto; /* 0, or 4 / 6 once the rule matched that family */
	int l4proto; /* -1, or the one protocol the rule matched */
	const char *err;
};

static void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

/* --- expressions ------------------------------------------------------ */

static struct nftnl_expr *expr_add(struct rule_ctx *c, const char *name)
{
	struct nftnl_expr *e = must(nftnl_expr_alloc(name));

	nftnl_rule_add_expr(c->r, e);
	return e;
}

static void e_meta(struct rule_ctx *c, uint32_t key)
{
	struct nftnl_expr *e = expr_add(c, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void e_cmp(struct rule_ctx *c, uint32_t op, const void *data,
		  uint32_t len)
{
	struct nftnl_expr *e = expr_add(c, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static struct nftnl_expr *e_payload(struct rule_ctx *c, uint32_t base,
				    uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = expr_add(c, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	return e;
}

static void e_bitwise(struct rule_ctx *c, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = expr_add(c, "bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

static void e_lookup(struct rule_ctx *c, const char *set, uint32_t id)
{
	struct nftnl_expr *e = expr_add(c, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
}

static void e_payload_to(struct rule_ctx *c, uint32_t base, uint32_t off,
			 uint32_t len, uint32_t dreg)
{
	nftnl_expr_set_u32(e_payload(c, base, off, len),
			   NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

static void e_verdict(struct rule_ctx *c, int verdict, const char *chain)
{
	struct nftnl_expr *e = expr_add(c, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static void e_reject(struct rule_ctx *c, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = expr_add(c, "reject");

	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
}

/* "meta KEY == v" on a one-byte key: nfproto and l4proto. */
static void e_meta_eq8(struct rule_ctx *c, uint32_t key, uint8_t v)
{
	e_meta(c, key);
	e_cmp(c, NFT_CMP_EQ, &v, 1);
}

/*
 * nft's implicit dependencies: an address match needs the family; a
 * transport header match needs the protocol, and (only when it has to add
 * that) the family first. An explicit match establishes the same context.
 */
static void need_family(struct rule_ctx *c, int family)
{
	if (c->nfproto == family)
		return;
	e_meta_eq8(c, NFT_META_NFPROTO,
		   family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	c->nfproto = family;
}

static void need_l4proto(struct rule_ctx *c, int family, uint8_t proto)
{
	if (c->l4proto == proto)
		return;
	if (family)
		need_family(c, family);
	e_meta_eq8(c, NFT_META_L4PROTO, proto);
	c->l4proto = proto;
}

/* --- sets and elements ------------------------------------------------ */

/* Increments a big-endian key; false when it was all ones. */
static bool key_inc(uint8_t *k, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++k[i] != 0)
			return true;
	return false;
}

static bool key_zero(const uint8_t *k, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (k[i])
			return false;
	return true;
}

/* Elements of one set, sent NL_ELEMS_PER_MSG per NEWSETELEM message. */
struct elem_out {
	struct fw_nl_tx *tx;
	const char *set, *path, *what;
	uint32_t id;
	struct nftnl_set *cur;
	unsigned n;
	bool del; /* DELSETELEM instead of NEWSETELEM */
	/* map elements, written into the batch as they come */
	struct nlmsghdr *nlh;
	struct nlattr *list;
};

static struct nftnl_set *set_ref(const char *table, const char *name,
				 uint32_t id)
{
	struct nftnl_set *s = must(nftnl_set_alloc());

	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

static void elem_flush(struct elem_out *o)
{
	struct nlmsghdr *nlh;

	if (!o->cur)
		return;
	nlh = nl_tx_msg(o->tx, o->del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
			o->del ? 0 : NLM_F_CREATE, o->path,
			xasprintf("%s of %s", o->del ? "deletion of elements"
						     : "elements",
				  o->what));
	nftnl_set_elems_nlmsg_build_payload(nlh, o->cur);
	nl_tx_end(o->tx);
	nftnl_set_free(o->cur);
	o->cur = NULL;
	o->n = 0;
}

static void elem_put(struct elem_out *o, const uint8_t *key, size_t len,
		     bool end, bool open)
{
	struct nftnl_set_elem *e = must(nftnl_set_elem_alloc());

	if (!o->cur)
		o->cur = set_ref(o->tx->plan->table, o->set, o->id);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
				       NFT_SET_ELEM_INTERVAL_END);
	if (open) {
		/* nft marks a range that runs to the end of the key space. */
		struct nftnl_udata_buf *u = must(nftnl_udata_buf_alloc(16));

		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_ELEM_FLAGS,
				    NFTNL_SET_ELEM_F_INTERVAL_OPEN);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
				   nftnl_udata_buf_data(u),
				   nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	nftnl_set_elem_add(o->cur, e);
	if (++o->n == NL_ELEMS_PER_MSG)
		elem_flush(o);
}

/* One element: an address, or (interval) a range as its start element
 * and an end element at hi + 1 (none when hi is all ones). */
static void elem_range(struct elem_out *o, const struct fw_elem *e,
		       size_t len, bool interval)
{
	uint8_t end[16];
	bool open;

	if (!interval) {
		elem_put(o, e->lo, len, false, false);
		return;
	}
	memcpy(end, e->hi, len);
	open = !key_inc(end, len);
	elem_put(o, e->lo, len, false, open);
	if (!open)
		elem_put(o, end, len, true, false);
}

/* A whole set as nft sends it; an interval set starts with an end
 * element at 0 unless its first range starts there. */
static void elems_add(struct elem_out *o, const struct fw_elem *v, size_t n,
		      size_t len, bool interval)
{
	static const uint8_t zero[16];

	if (interval && n && !key_zero(v[0].lo, len))
		elem_put(o, zero, len, true, false);
	for (size_t i = 0; i < n; i++)
		elem_range(o, &v[i], len, interval);
	elem_flush(o);
}

void nl_build_set_elems(struct fw_nl_tx *tx, const struct fw_pset *ps,
			const struct fw_elem *v, size_t n, bool del)
{
	size_t len = ps->key == FW_KEY_IPV6 ? 16 : 4;
	char *what = xasprintf("set \"%s\"", ps->name);
	struct elem_out o = {.tx = tx,
			     .set = ps->name,
			     .path = ps->path ? ps->path : ps->name,
			     .what = what,
			     .del = del};

	for (size_t i = 0; i < n; i++)
		elem_range(&o, &v[i], len, ps->interval);
	elem_flush(&o);
	free(what);
}

/* nft's NFTA_SET_DESC_SIZE: every range counts its end, open or not. */
static uint32_t elems_size(const struct fw_elem *v, size_t n, size_t len,
			   bool interval)
{
	if (!interval)
		return (uint32_t)n;
	return (uint32_t)(2 * n + (n && !key_zero(v[0].lo, len)));
}

static void set_udata(struct nftnl_set *s, const struct fw_nl_key *k, bool anon,
		      bool interval)
{
	struct nftnl_udata_buf *u = must(nftnl_udata_buf_alloc(NL_UDATA_MAX));
	struct nftnl_udata *key, *data;

	nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, k->byteorder);
	if (anon && interval)
		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_MERGE_ELEMENTS, 1);
	if (anon) {
		/* The expression the set was written for ("typeof"). */
		key = nftnl_udata_nest_start(u, NFTNL_UDATA_SET_KEY_TYPEOF);
		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_TYPEOF_EXPR,
				    k->base == NL_KEY_META ? NL_EXPR_META
							   : NL_EXPR_PAYLOAD);
		data = nftnl_udata_nest_start(u, NFTNL_UDATA_SET_TYPEOF_DATA);
		nftnl_udata_put_u32(u, 0, k->desc);
		if (k->base != NL_KEY_META)
			nftnl_udata_put_u32(u, 1, k->field);
		nftnl_udata_nest_end(u, data);
		nftnl_udata_nest_end(u, key);
	}
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
			   nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

static void set_send(struct fw_nl_tx *tx, struct nftnl_set *s, const char *path,
		     const char *what)
{
	struct nlmsghdr *nlh;

	nlh = nl_tx_msg(tx, NFT_MSG_NEWSET, NLM_F_CREATE, path, xstrdup(what));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nl_tx_end(tx);
	nftnl_set_free(s);
}

uint32_t nl_build_set_id(const struct fw_nl_tx *tx, const char *name)
{
	const struct fw_plan *p = tx->plan;

	for (size_t i = 0; i < p->nsets; i++)
		if (!strcmp(p->sets[i].name, name))
			return (uint32_t)i + 1;
	for (size_t i = 0; i < p->nmaps; i++)
		if (!strcmp(p->maps[i].name, name))
			return (uint32_t)(p->nsets + i) + 1;
	return 0;
}

void nl_build_set(struct fw_nl_tx *tx, const struct fw_pset *ps, uint32_t id)
{
	const struct fw_nl_key *k =
	    ps->key == FW_KEY_IPV6 ? &key_saddr6 : &key_saddr4;
	struct nftnl_set *s = set_ref(tx->plan->table, ps->name, id);
	const char *path = ps->path ? ps->path : ps->name;
	char *what = xasprintf("set \"%s\"", ps->name);
	struct elem_out o = {.tx = tx, .set = ps->name, .path = path,
			     .what = what, .id = id};

	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
			  ps->interval ? NFT_SET_INTERVAL : 0);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, k->dtype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, k->len);
	if (ps->size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, ps->size);
	set_udata(s, k, false, ps->interval);
	set_send(tx, s, path, what);
	elems_add(&o, ps->elems, ps->nelems, k->len, ps->interval);
	free(what);
}

/* --- verdict maps ------------------------------------------------------ */

/*
 * nft's concatenated type "ipv4_addr . inet_proto . inet_service" (its
 * type ids, 6 bits apart) and the set udata nft 1.0.6 writes for a map
 * declared with it, byte for byte.
 */
#define NL_CONCAT_TYPE(addr)                                                  \
	((uint32_t)(addr) << 12 | NL_DT_INET_PROTO << 6 | NL_DT_INET_SERVICE)
static const uint8_t map_udata[] = {
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00, /* key byte order: none */
	0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* data byte order: none */
	0x03, 0x08, 0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x06, 0x04, 0x00, 0x00, 0x00, 0x00, /* data interval: no */
};

/* A concatenated key: address, protocol and port, each in 4-byte words. */
size_t nl_build_map_key(uint8_t *k, const struct fw_pmap *m, const uint8_t *a,
			uint8_t proto, uint16_t port)
{
	size_t alen = m->family == 6 ? 16 : 4;

	memset(k, 0, alen + 8);
	memcpy(k, a, alen);
	k[alen] = proto;
	k[alen + 4] = (uint8_t)(port >> 8);
	k[alen + 5] = (uint8_t)port;
	return alen + 8;
}

struct nftnl_set_elem *nl_build_map_elem_key(const struct fw_pmap *m,
					     const struct fw_pmelem *x)
{
	struct nftnl_set_elem *e = must(nftnl_set_elem_alloc());
	uint8_t key[24];
	size_t len = nl_build_map_key(key, m, x->addr.lo, x->proto, x->plo);

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
	if (!m->plen) {
		nl_build_map_key(key, m, x->addr.hi, x->proto, x->phi);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key,
				   (uint32_t)len);
	}
	return e;
}

/*
 * Map elements go into the batch as they come, attribute by attribute:
 * the attributes, their order and the element nests numbered from 1 are
 * those of nftnl_set_elems_nlmsg_build_payload, without its objects (an
 * allocation for each element and each of its fields, for thousands of
 * elements; tests/unit/test_mapbytes.c compares the two byte for byte). A
 * message ends at NL_ELEMS_PER_MSG elements, or before its element list
 * could outgrow a netlink attribute's 16-bit length.
 */
#define NL_ELEMS_MSG_MAX 60000 /* bytes, before an element (at most 1 KiB) */

/* mnl_attr_put with its padding zeroed (libmnl 1.0.4 leaves whatever the
 * buffer held): the same batch for the same plan. */
static void put0(struct nlmsghdr *nlh, uint16_t type, size_t len,
		 const void *data)
{
	struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);

	mnl_attr_put(nlh, type, len, data);
	memset((char *)mnl_attr_get_payload(a) + len, 0, MNL_ALIGN(len) - len);
}

static void put0_str(struct nlmsghdr *nlh, uint16_t type, const char *s)
{
	put0(nlh, type, strlen(s) + 1, s);
}

static void map_msg_end(struct elem_out *o)
{
	if (!o->nlh)
		return;
	mnl_attr_nest_end(o->nlh, o->list);
	nl_tx_end(o->tx);
	o->nlh = NULL;
	o->n = 0;
}

static void map_msg_start(struct elem_out *o)
{
	o->nlh = nl_tx_msg(o->tx, NFT_MSG_NEWSETELEM, NLM_F_CREATE, o->path,
			   xasprintf("elements of %s", o->what));
	put0_str(o->nlh, NFTA_SET_ELEM_LIST_SET, o->set);
	mnl_attr_put_u32(o->nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(o->id));
	put0_str(o->nlh, NFTA_SET_ELEM_LIST_TABLE, o->tx->plan->table);
	o->list = mnl_attr_nest_start(o->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	o->n = 0;
}

static void put_key(struct nlmsghdr *nlh, uint16_t type, const uint8_t *key,
		    size_t len)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, key);
	mnl_attr_nest_end(nlh, n);
}

static void map_elem_put(struct elem_out *o, const struct fw_pmap *m,
			 const struct fw_pmelem *x, uint64_t pk, uint64_t by)
{
	uint8_t key[24], u[NL_UDATA_MAX];
	size_t len, n = strlen(x->rule) + 1;
	struct nlattr *e, *d, *v;
	struct nlmsghdr *nlh;

	if (o->nlh && (o->n == NL_ELEMS_PER_MSG ||
		       o->nlh->nlmsg_len > NL_ELEMS_MSG_MAX))
		map_msg_end(o);
	if (!o->nlh)
		map_msg_start(o);
	nlh = o->nlh;
	e = mnl_attr_nest_start(nlh, (uint16_t)++o->n);
	len = nl_build_map_key(key, m, x->addr.lo, x->proto, x->plo);
	put_key(nlh, NFTA_SET_ELEM_KEY, key, len);
	if (!m->plen) {
		nl_build_map_key(key, m, x->addr.hi, x->proto, x->phi);
		put_key(nlh, NFTA_SET_ELEM_KEY_END, key, len);
	}
	d = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
	v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
	if (x->verdict == FW_V_JUMP) {
		mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
		put0_str(nlh, NFTA_VERDICT_CHAIN, x->target);
	} else {
		mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE,
				 htonl(x->verdict == FW_V_DROP ? NF_DROP
							       : NF_ACCEPT));
	}
	mnl_attr_nest_end(nlh, v);
	mnl_attr_nest_end(nlh, d);
	/* The rule's name as the element's comment: one udata attribute
	 * (type, length, bytes). */
	if (n > 255 || n + 2 > sizeof(u))
		abort(); /* rule names are 32 bytes at most */
	u[0] = NFTNL_UDATA_SET_ELEM_COMMENT;
	u[1] = (uint8_t)n;
	memcpy(u + 2, x->rule, n);
	put0(nlh, NFTA_SET_ELEM_USERDATA, n + 2, u);
	/* The map's counter template gives every element a counter of its
	 * own; one spelled out costs the kernel a parse and a second
	 * allocation, so only elements that start above zero carry it. */
	if (pk || by) {
		struct nlattr *x1 = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_EXPR),
			      *x2;

		put0_str(nlh, NFTA_EXPR_NAME, "counter");
		x2 = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
		mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(by));
		mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(pk));
		mnl_attr_nest_end(nlh, x2);
		mnl_attr_nest_end(nlh, x1);
	}
	mnl_attr_nest_end(nlh, e);
}

void nl_build_map(struct fw_nl_tx *tx, const struct fw_pmap *m, uint32_t id,
		  const uint64_t (*carry)[2])
{
	uint8_t fields[4] = {m->family == 6 ? 16 : 4, 1, 2, 0};
	struct nftnl_set *s = set_ref(tx->plan->table, m->name, id);
	char *what = xasprintf("map \"%s\"", m->name);

	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
			  m->plen ? NFT_SET_MAP
				  : NFT_SET_CONCAT | NFT_SET_MAP |
					NFT_SET_INTERVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  NL_CONCAT_TYPE(m->family == 6 ? NL_DT_IP6ADDR
							: NL_DT_IPADDR));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, m->family == 6 ? 24 : 12);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	/* Field lengths would make the kernel pick an interval type. */
	if (!m->plen)
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, 3);
	if (m->size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, m->size);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, map_udata, sizeof(map_udata));
	nftnl_set_add_expr(s, must(nftnl_expr_alloc("counter")));
	set_send(tx, s, m->name, what);
	nl_build_map_elems(tx, m, id, m->elems, m->nelems, carry);
	free(what);
}

void nl_build_map_del(struct fw_nl_tx *tx, const struct fw_pmap *m,
		      const struct fw_pmelem *v, size_t n)
{
	char *what = xasprintf("map \"%s\"", m->name);
	struct elem_out o = {.tx = tx, .set = m->name, .path = m->name,
			     .what = what, .del = true};

	for (size_t i = 0; i < n; i++) {
		if (!o.cur)
			o.cur = set_ref(tx->plan->table, m->name, 0);
		nftnl_set_elem_add(o.cur, nl_build_map_elem_key(m, &v[i]));
		if (++o.n == NL_ELEMS_PER_MSG)
			elem_flush(&o);
	}
	elem_flush(&o);
	free(what);
}

void nl_build_map_elems(struct fw_nl_tx *tx, const struct fw_pmap *m,
			uint32_t id, const struct fw_pmelem *v, size_t n,
			const uint64_t (*carry)[2])
{
	char *what = xasprintf("map \"%s\"", m->name);
	struct elem_out o = {.tx = tx, .set = m->name, .path = m->name,
			     .what = what, .id = id};

	for (size_t i = 0; i < n; i++)
		map_elem_put(&o, m, &v[i], carry ? carry[i][0] : 0,
			     carry ? carry[i][1] : 0);
	map_msg_end(&o);
	free(what);
}

/* The anonymous constant set of a match with several elements. */
static uint32_t anon_set(struct rule_ctx *c, const struct fw_match *m,
			 const struct fw_nl_key *k)
{
	uint32_t id = ++c->tx->set_id;
	struct nftnl_set *s = set_ref(c->tx->plan->table, "__set%d", id);
	const char *path = c->pr->path;
	char *what = xasprintf("set of %s", c->what);
	struct elem_out o = {.tx = c->tx, .set = "__set%d", .path = path,
			     .what = what, .id = id};
	bool interval = false;

	for (size_t i = 0; i < m->nelems; i++)
		if (memcmp(m->elems[i].lo, m->elems[i].hi, k->len))
			interval = true;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
			  NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
			      (interval ? NFT_SET_INTERVAL : 0));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, k->dtype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, k->len);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE,
			  elems_size(m->elems, m->nelems, k->len, interval));
	set_udata(s, k, true, interval);
	set_send(c->tx, s, path, what);
	elems_add(&o, m->elems, m->nelems, k->len, interval);
	free(what);
	return id;
}

/* --- matches ---------------------------------------------------------- */

static void load(struct rule_ctx *c, const struct fw_nl_key *k, uint32_t len)
{
	if (k->base == NL_KEY_META)
		e_meta(c, k->meta);
	else
		e_payload(c, k->base, k->offset, len);
}

/*
 * A CIDR prefix: nft loads only the covered bytes when the prefix ends on
 * a byte boundary, else the whole key and masks it.
 */
static void match_prefix(struct rule_ctx *c, const struct fw_nl_key *k,
			 const uint8_t *lo, int plen)
{
	uint8_t mask[16] = {0};

	if (plen % 8 == 0) {
		load(c, k, (uint32_t)plen / 8);
		e_cmp(c, NFT_CMP_EQ, lo, (uint32_t)plen / 8);
		return;
	}
	for (int b = 0; b < plen; b++)
		mask[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	load(c, k, k->len);
	e_bitwise(c, mask, k->len);
	e_cmp(c, NFT_CMP_EQ, lo, k->len);
}

/* The key of k against a match's named set or literal elements. */
static int match_value(struct rule_ctx *c, const struct fw_match *m,
		       const struct fw_nl_key *k)
{
	const struct fw_elem *e = m->elems;
	int plen;

	if (m->set) {
		load(c, k, k->len);
		e_lookup(c, m->set, nl_build_set_id(c->tx, m->set));
		return 0;
	}
	if (m->nelems == 0 || plan_keylen(m) != k->len) {
		c->err = "a match without elements or with a bad key length";
		return -1;
	}
	if (m->nelems > 1) {
		uint32_t id = anon_set(c, m, k);

		load(c, k, k->len);
		e_lookup(c, "__set%d", id);
		return 0;
	}
	if (!memcmp(e->lo, e->hi, k->len)) {
		load(c, k, k->len);
		e_cmp(c, NFT_CMP_EQ, e->lo, k->len);
		return 0;
	}
	plen = k->prefix ? plan_elem_prefix(e, k->len) : -1;
	if (plen == 0) {
		c->err = "a /0 prefix (the planner matches the family)";
		return -1;
	}
	if (plen > 0) {
		match_prefix(c, k, e->lo, plen);
		return 0;
	}
	load(c, k, k->len);
	e_cmp(c, NFT_CMP_GTE, e->lo, k->len);
	e_cmp(c, NFT_CMP_LTE, e->hi, k->len);
	return 0;
}

static int match_addr(struct rule_ctx *c, const struct fw_match *m)
{
	bool src = m->kind == FW_M_SADDR;

	if (m->family != 4 && m->family != 6) {
		c->err = "an address match without a family";
		return -1;
	}
	need_family(c, m->family);
	if (m->family == 4)
		return match_value(c, m, src ? &key_saddr4 : &key_daddr4);
	return match_value(c, m, src ? &key_saddr6 : &key_daddr6);
}

static int match_nfproto(struct rule_ctx *c, const struct fw_match *m)
{
	if (m->family != 4 && m->family != 6) {
		c->err = "a family match without a family";
		return -1;
	}
	e_meta_eq8(c, NFT_META_NFPROTO,
		   m->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	c->nfproto = m->family;
	return 0;
}

static int match_l4proto(struct rule_ctx *c, const struct fw_match *m)
{
	const struct fw_elem *e = m->elems;

	if (match_value(c, m, &key_l4proto) < 0)
		return -1;
	c->l4proto = -1;
	if (!m->set && m->nelems == 1 && e->lo[0] == e->hi[0])
		c->l4proto = e->lo[0];
	return 0;
}

/* A port set is typed after how nft prints it: "tcp dport", "th dport". */
static int match_port(struct rule_ctx *c, const struct fw_match *m)
{
	struct fw_nl_key k = key_port;

	k.offset = m->kind == FW_M_SPORT ? 0 : 2;
	k.field = m->kind == FW_M_SPORT ? 1 : 2;
	if (c->l4proto == IPPROTO_TCP)
		k.desc = NL_PD_TCP;
	else if (c->l4proto == IPPROTO_UDP)
		k.desc = NL_PD_UDP;
	return match_value(c, m, &k);
}

static int match_icmp(struct rule_ctx *c, const struct fw_match *m)
{
	if (m->kind == FW_M_ICMP_TYPE) {
		need_l4proto(c, 4, IPPROTO_ICMP);
		return match_value(c, m, &key_icmp);
	}
	need_l4proto(c, 6, IPPROTO_ICMPV6);
	return match_value(c, m, &key_icmpv6);
}

/* "eth0" compares all IFNAMSIZ bytes; "eth*" only the bytes before '*'. */
static int match_ifname(struct rule_ctx *c, const struct fw_match *m)
{
	char name[IFNAMSIZ] = {0};
	size_t len = m->str ? strlen(m->str) : 0;
	bool wild = len && m->str[len - 1] == '*';

	if (len == 0 || len >= (size_t)IFNAMSIZ + wild || (wild && len == 1)) {
		c->err = "an interface name that is empty or too long";
		return -1;
	}
	memcpy(name, m->str, len - wild);
	e_meta(c,
	       m->kind == FW_M_IIFNAME ? NFT_META_IIFNAME : NFT_META_OIFNAME);
	e_cmp(c, NFT_CMP_EQ, name, wild ? (uint32_t)len - 1 : IFNAMSIZ);
	return 0;
}

/* "ct state a,b": (state & mask) != 0, the mask in host byte order. */
static int match_ct_state(struct rule_ctx *c, const struct fw_match *m)
{
	struct nftnl_expr *e = expr_add(c, "ct");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e_bitwise(c, &m->mask, sizeof(m->mask));
	e_cmp(c, NFT_CMP_NEQ, &zero, sizeof(zero));
	return 0;
}

typedef int (*match_fn)(struct rule_ctx *c, const struct fw_match *m);

static const match_fn match_fns[] = {
    [FW_M_IIFNAME] = match_ifname,    [FW_M_OIFNAME] = match_ifname,
    [FW_M_CT_STATE] = match_ct_state, [FW_M_NFPROTO] = match_nfproto,
    [FW_M_SADDR] = match_addr,	      [FW_M_DADDR] = match_addr,
    [FW_M_L4PROTO] = match_l4proto,   [FW_M_SPORT] = match_port,
    [FW_M_DPORT] = match_port,	      [FW_M_ICMP_TYPE] = match_icmp,
    [FW_M_ICMPV6_TYPE] = match_icmp,
};

/* --- statements and verdicts ------------------------------------------ */

static void stmt_limit(struct rule_ctx *c, const struct fw_stmt *s)
{
	struct nftnl_expr *e = expr_add(c, "limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, s->rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, s->unit);
	/* nft sends its default burst of 5 when none is given. */
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, s->burst ? s->burst : 5);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS,
			   s->over ? NFT_LIMIT_F_INV : 0);
}

static void stmt_log(struct rule_ctx *c, const struct fw_stmt *s)
{
	struct nftnl_expr *e = expr_add(c, "log");

	if (s->prefix)
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, s->prefix);
	if (s->group >= 0)
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, (uint16_t)s->group);
}

static void stmt_counter(struct rule_ctx *c, const struct fw_stmt *s)
{
	struct nftnl_expr *e = expr_add(c, "objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, s->counter);
}

static int add_stmt(struct rule_ctx *c, const struct fw_stmt *s)
{
	switch (s->kind) {
	case FW_S_LIMIT:
		stmt_limit(c, s);
		return 0;
	case FW_S_LOG:
		stmt_log(c, s);
		return 0;
	case FW_S_COUNTER:
		if (!s->counter)
			break;
		stmt_counter(c, s);
		return 0;
	}
	c->err = "an unknown statement";
	return -1;
}

/*
 * "reject" in an inet rule that already matched a family is the family's
 * own icmp port-unreachable, as nft compiles it; icmpx otherwise.
 */
static void verdict_reject(struct rule_ctx *c)
{
	if (c->nfproto == 4)
		e_reject(c, NFT_REJECT_ICMP_UNREACH, 3 /* ICMP_PORT_UNREACH */);
	else if (c->nfproto == 6)
		e_reject(c, NFT_REJECT_ICMP_UNREACH,
			 4 /* ICMP6_DST_UNREACH_NOPORT */);
	else
		e_reject(c, NFT_REJECT_ICMPX_UNREACH,
			 NFT_REJECT_ICMPX_PORT_UNREACH);
}

/*
 * "ip saddr . meta l4proto . th dport vmap @m": the three keys side by
 * side from register 1 on, in the 32-bit registers nft picks for them.
 */
/*
 * "ip saddr [& MASK] . meta l4proto . th dport vmap @map", as nft 1.0.6
 * encodes it: an interval map's key has its protocol in network byte
 * order (byteorder), a hash map's key the source masked to its plen.
 */
static void verdict_vmap(struct rule_ctx *c, const struct fw_prule *r)
{
	bool v6 = r->family == 6;
	uint32_t proto_reg = v6 ? NFT_REG_2 : NFT_REG32_01;
	unsigned bits = v6 ? 128 : 32;
	struct nftnl_expr *e;

	need_family(c, r->family);
	e_payload_to(c, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4,
		     NFT_REG_1);
	if (r->plen && r->plen < bits) {
		uint8_t mask[16] = {0};

		for (unsigned b = 0; b < r->plen; b++)
			mask[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		e_bitwise(c, mask, bits / 8);
	}
	e = expr_add(c, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, proto_reg);
	if (!r->plen) {
		e = expr_add(c, "byteorder");
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, proto_reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, proto_reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP,
				   NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
	}
	e_payload_to(c, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2,
		     v6 ? NFT_REG32_05 : NFT_REG32_02);
	e = expr_add(c, "lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, r->target);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID,
			   nl_build_set_id(c->tx, r->target));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
}

static int add_verdict(struct rule_ctx *c, const struct fw_prule *r)
{
	switch (r->verdict) {
	case FW_V_NONE:
		return 0;
	case FW_V_ACCEPT:
		e_verdict(c, NF_ACCEPT, NULL);
		return 0;
	case FW_V_DROP:
		e_verdict(c, NF_DROP, NULL);
		return 0;
	case FW_V_RETURN:
		e_verdict(c, NFT_RETURN, NULL);
		return 0;
	case FW_V_JUMP:
		if (!r->target)
			break;
		e_verdict(c, NFT_JUMP, r->target);
		return 0;
	case FW_V_REJECT:
		verdict_reject(c);
		return 0;
	case FW_V_REJECT_TCP_RST:
		need_l4proto(c, 0, IPPROTO_TCP);
		e_reject(c, NFT_REJECT_TCP_RST, 0);
		return 0;
	case FW_V_VMAP:
		if (!r->target || (r->family != 4 && r->family != 6))
			break;
		verdict_vmap(c, r);
		return 0;
	}
	c->err = "an unknown verdict";
	return -1;
}

/* --- rules ------------------------------------------------------------ */

static void rule_comment(struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *u = must(nftnl_udata_buf_alloc(NL_UDATA_MAX));

	nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
			    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

static int rule_fill(struct rule_ctx *c)
{
	const struct fw_prule *r = c->pr;

	for (size_t i = 0; i < r->nm; i++) {
		unsigned kind = r->m[i].kind;

		if (kind >= ARRAY_SIZE(match_fns) || !match_fns[kind]) {
			c->err = "an unknown match";
			return -1;
		}
		if (match_fns[kind](c, &r->m[i]) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->ns; i++)
		if (add_stmt(c, &r->s[i]) < 0)
			return -1;
	return add_verdict(c, r);
}

int nl_build_rule(struct fw_nl_tx *tx, const struct fw_pchain *pc,
		  const struct fw_prule *pr, size_t idx, struct fw_diags *d)
{
	struct rule_ctx c = {tx,  must(nftnl_rule_alloc()), pr, NULL, 0, -1,
			     NULL};
	const char *path = pr->path ? pr->path : pc->name;
	char *what =
	    pr->comment
		? xasprintf("rule \"%s\" of chain %s", pr->comment, pc->name)
		: xasprintf("rule %zu of chain %s", idx + 1, pc->name);
	struct nlmsghdr *nlh;

	c.what = what;
	nftnl_rule_set_str(c.r, NFTNL_RULE_TABLE, tx->plan->table);
	nftnl_rule_set_str(c.r, NFTNL_RULE_CHAIN, pc->name);
	if (rule_fill(&c) < 0) {
		diags_add(d, NULL, path, "cannot encode %s: %s", what, c.err);
		nftnl_rule_free(c.r);
		free(what);
		return -1;
	}
	if (pr->comment)
		rule_comment(c.r, pr->comment);
	nlh = nl_tx_msg(tx, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, path,
			what);
	nftnl_rule_nlmsg_build_payload(nlh, c.r);
	nl_tx_end(tx);
	nftnl_rule_free(c.r);
	return 0;
}
