// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_mapbytes: map elements written straight into the batch (nl_build.c)
 * against the same elements built with libnftnl's objects, byte for byte:
 * IPv4 and IPv6, hash and interval maps, accept, drop and jump verdicts,
 * carried counters, long names, and messages that end at 256 elements.
 * No kernel needed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nl_int.h"
#include "t.h"
#include "util.h"

#define PER_MSG 256 /* NL_ELEMS_PER_MSG */

/* The batch of tx as one buffer. */
static char *batch_bytes(struct fw_nl_tx *tx, size_t *len)
{
	int n = nftnl_batch_iovec_len(tx->batch);
	struct iovec *iov = xcalloc((size_t)n, sizeof(*iov));
	struct fw_buf b = {0};

	nftnl_batch_iovec(tx->batch, iov, (uint32_t)n);
	buf_add(&b, "", 0);
	for (int i = 0; i < n; i++)
		buf_add(&b, iov[i].iov_base, iov[i].iov_len);
	free(iov);
	*len = b.len;
	return b.s;
}

/* What libnftnl builds for elements v[0..n) of m, in messages of
 * PER_MSG, sequence numbers from seq. */
static char *libnftnl_bytes(const struct fw_pmap *m, const char *table,
			    uint32_t id, const struct fw_pmelem *v, size_t n,
			    const uint64_t (*carry)[2], uint32_t seq,
			    size_t *len)
{
	struct fw_buf b = {0};
	char *page = xmalloc(1 << 17);

	buf_add(&b, "", 0);
	for (size_t at = 0; at < n; at += PER_MSG) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *nlh;

		/* Attribute padding: zero, as nl_build writes it. */
		memset(page, 0, 1 << 17);
		nlh = nftnl_nlmsg_build_hdr(page, NFT_MSG_NEWSETELEM,
					    NFPROTO_INET,
					    NLM_F_CREATE | NLM_F_ACK, seq++);

		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, m->name);
		nftnl_set_set_u32(s, NFTNL_SET_ID, id);
		for (size_t i = at; i < n && i < at + PER_MSG; i++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			uint8_t key[24], u[40];
			size_t kl = nl_build_map_key(key, m, v[i].addr.lo,
						     v[i].proto, v[i].plo);
			size_t rl = strlen(v[i].rule) + 1;

			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key,
					   (uint32_t)kl);
			if (!m->plen) {
				nl_build_map_key(key, m, v[i].addr.hi,
						 v[i].proto, v[i].phi);
				nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END,
						   key, (uint32_t)kl);
			}
			nftnl_set_elem_set_u32(
				e, NFTNL_SET_ELEM_VERDICT,
				v[i].verdict == FW_V_JUMP   ? (uint32_t)NFT_JUMP
				: v[i].verdict == FW_V_DROP ? NF_DROP
							    : NF_ACCEPT);
			if (v[i].verdict == FW_V_JUMP)
				nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN,
						       v[i].target);
			u[0] = NFTNL_UDATA_SET_ELEM_COMMENT;
			u[1] = (uint8_t)rl;
			memcpy(u + 2, v[i].rule, rl);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, u,
					   (uint32_t)rl + 2);
			if (carry && (carry[i][0] || carry[i][1])) {
				struct nftnl_expr *c = nftnl_expr_alloc("counter");

				nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS,
						   carry[i][0]);
				nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES,
						   carry[i][1]);
				nftnl_set_elem_add_expr(e, c);
			}
			nftnl_set_elem_add(s, e);
		}
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		buf_add(&b, nlh, nlh->nlmsg_len);
	}
	free(page);
	*len = b.len;
	return b.s;
}

/* n elements of a map of family fam (plen 0: an interval map), every
 * seventh a jump with a long chain name, every fifth a drop. */
static struct fw_pmelem *elems(size_t n, int fam, uint8_t plen)
{
	struct fw_pmelem *v = xcalloc(n + 1, sizeof(*v));
	size_t alen = fam == 6 ? 16 : 4;

	for (size_t i = 0; i < n; i++) {
		v[i].addr.lo[0] = 10;
		v[i].addr.lo[alen - 2] = (uint8_t)(i >> 8);
		v[i].addr.lo[alen - 1] = (uint8_t)i;
		memcpy(v[i].addr.hi, v[i].addr.lo, alen);
		if (!plen)
			v[i].addr.hi[alen - 1] |= 0x0f;
		v[i].proto = i % 2 ? 17 : 6;
		v[i].plo = (uint16_t)(1000 + i);
		v[i].phi = plen ? v[i].plo : (uint16_t)(v[i].plo + 9);
		v[i].verdict = i % 7 == 3   ? FW_V_JUMP
			       : i % 5 == 1 ? FW_V_DROP
					    : FW_V_ACCEPT;
		v[i].target = v[i].verdict == FW_V_JUMP
				      ? "input_a-rule-name-of-thirty-two-chars"
				      : NULL;
		v[i].rule = i % 3 ? "r" : "a-rule-name-of-thirty-two-chars";
	}
	return v;
}

static void same(size_t n, int fam, uint8_t plen, bool counters)
{
	struct fw_plan plan = {.table = "fwtest"};
	struct fw_pmap m = {.name = "input_accept_ip", .family = (uint8_t)fam,
			    .plen = plen};
	struct fw_pmelem *v = elems(n, fam, plen);
	uint64_t (*carry)[2] = counters ? xcalloc(n + 1, sizeof(*carry))
					: NULL;
	struct fw_nl nl = {.seq = 41};
	struct fw_nl_tx tx;
	size_t glen, wlen;
	char *got, *want;

	for (size_t i = 0; counters && i < n; i++)
		if (i % 4) {
			carry[i][0] = i;
			carry[i][1] = (uint64_t)i << 33;
		}
	nl_tx_init(&tx, &nl, &plan);
	nl_build_map_elems(&tx, &m, 7, v, n, (const uint64_t(*)[2])carry);
	got = batch_bytes(&tx, &glen);
	want = libnftnl_bytes(&m, plan.table, 7, v, n,
			      (const uint64_t(*)[2])carry, tx.seq0, &wlen);
	T_OK(glen == wlen && !memcmp(got, want, glen),
	     "%zu elements, IPv%d, %s map%s: %zu bytes as libnftnl builds "
	     "them (%zu)",
	     n, fam, plen ? "hash" : "interval",
	     counters ? ", counters carried" : "", glen, wlen);
	T_OK(tx.seq - tx.seq0 == (n + PER_MSG - 1) / PER_MSG,
	     "%zu elements: %u messages", n, tx.seq - tx.seq0);
	nl_tx_free(&tx);
	free(got);
	free(want);
	free(carry);
	free(v);
}

/* Elements with chain names near the kernel's limit: messages end on
 * their size before 256 elements, each element list under a netlink
 * attribute's 65,535 bytes, and no element is lost at the cuts. */
static void long_names(void)
{
	struct fw_plan plan = {.table = "fwtest"};
	struct fw_pmap m = {.name = "input_accept_ip6", .family = 6};
	struct fw_pmelem *v = elems(1000, 6, 0);
	uint64_t (*carry)[2] = xcalloc(1001, sizeof(*carry));
	char *target = xmalloc(251);
	struct fw_nl nl = {.seq = 41};
	struct fw_nl_tx tx;
	size_t len, at = 0, nmsg = 0, nelem = 0, biggest = 0;
	char *got;

	memset(target, 'c', 250);
	target[250] = '\0';
	for (size_t i = 0; i < 1000; i++) {
		v[i].verdict = FW_V_JUMP;
		v[i].target = target;
		carry[i][0] = carry[i][1] = 1;
	}
	nl_tx_init(&tx, &nl, &plan);
	nl_build_map_elems(&tx, &m, 7, v, 1000, (const uint64_t(*)[2])carry);
	got = batch_bytes(&tx, &len);
	while (at + sizeof(struct nlmsghdr) <= len) {
		const struct nlmsghdr *nlh = (const void *)(got + at);
		const struct nlattr *a, *e;

		nmsg++;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		{
			if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
				continue;
			if (mnl_attr_get_len(a) > biggest)
				biggest = mnl_attr_get_len(a);
			mnl_attr_for_each_nested(e, a) nelem++;
		}
		at += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	T_OK(nmsg > (1000 + PER_MSG - 1) / PER_MSG && nelem == 1000 &&
		     biggest < 65536 && at == len,
	     "elements with long chain names: %zu messages, %zu elements, "
	     "largest list %zu bytes",
	     nmsg, nelem, biggest);
	nl_tx_free(&tx);
	free(got);
	free(target);
	free(carry);
	free(v);
}

int main(void)
{
	static const size_t sizes[] = {0, 1, 255, 256, 257, 1000};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		same(sizes[i], 4, 32, false);
		same(sizes[i], 6, 0, true);
	}
	same(300, 4, 0, false);
	same(300, 6, 64, true);
	same(513, 4, 24, true);
	long_names();
	return t_done();
}
