// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nftext: renders a plan as nft(8) text, spelled the way nftables 1.0.6
 * lists the bytecode that fwd's netlink builder emits for it. Output only;
 * no decisions about what the ruleset contains are made here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "nftext.h"

/* buf_printf without the format: sets print hundreds of thousands. */
static void buf_puts(struct fw_buf *out, const char *s)
{
	buf_add(out, s, strlen(s));
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "ipv6-icmp";
	}
	return NULL;
}

static const char *icmp_name(uint8_t t, bool v6)
{
	static const char *const v4[] = {
		[0] = "echo-reply",	       [3] = "destination-unreachable",
		[4] = "source-quench",	       [5] = "redirect",
		[8] = "echo-request",	       [9] = "router-advertisement",
		[10] = "router-solicitation", [11] = "time-exceeded",
		[12] = "parameter-problem",
	};
	static const char *const v6n[] = {
		[1] = "destination-unreachable", [2] = "packet-too-big",
		[3] = "time-exceeded",		 [4] = "parameter-problem",
		[128] = "echo-request",		 [129] = "echo-reply",
		[133] = "nd-router-solicit",	 [134] = "nd-router-advert",
		[135] = "nd-neighbor-solicit",	 [136] = "nd-neighbor-advert",
		[137] = "nd-redirect",
	};

	if (v6)
		return t < sizeof(v6n) / sizeof(v6n[0]) ? v6n[t] : NULL;
	return t < sizeof(v4) / sizeof(v4[0]) ? v4[t] : NULL;
}

static void print_elem(struct fw_buf *out, enum fw_mkind kind, int family,
		       const struct fw_elem *e)
{
	const char *name = NULL;

	switch (kind) {
	case FW_M_SADDR:
	case FW_M_DADDR: {
		struct fw_addr_range r = {.family = (uint8_t)family};
		char s[2 * INET6_ADDRSTRLEN + 8];

		memcpy(r.lo, e->lo, 16);
		memcpy(r.hi, e->hi, 16);
		addr_format(&r, s, sizeof(s));
		buf_puts(out, s);
		return;
	}
	case FW_M_SPORT:
	case FW_M_DPORT: {
		unsigned lo = (unsigned)e->lo[0] << 8 | e->lo[1];
		unsigned hi = (unsigned)e->hi[0] << 8 | e->hi[1];

		if (lo == hi)
			buf_printf(out, "%u", lo);
		else
			buf_printf(out, "%u-%u", lo, hi);
		return;
	}
	case FW_M_L4PROTO:
		name = proto_name(e->lo[0]);
		break;
	case FW_M_ICMP_TYPE:
	case FW_M_ICMPV6_TYPE:
		name = icmp_name(e->lo[0], kind == FW_M_ICMPV6_TYPE);
		break;
	default:
		break;
	}
	if (name)
		buf_printf(out, "%s", name);
	else
		buf_printf(out, "%u", e->lo[0]);
}

/* " & 255.255.255.0": the mask of a hash map's key, as an address. */
static void print_mask(struct fw_buf *out, int family, unsigned plen)
{
	struct fw_elem e;

	memset(&e, 0, sizeof(e));
	for (unsigned b = 0; b < plen; b++)
		e.lo[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	memcpy(e.hi, e.lo, sizeof(e.hi));
	buf_puts(out, " & ");
	print_elem(out, FW_M_SADDR, family, &e);
}

static void print_value(struct fw_buf *out, const struct fw_match *m)
{
	if (m->set) {
		buf_printf(out, "@%s", m->set);
		return;
	}
	if (m->nelems == 1) {
		print_elem(out, m->kind, m->family, &m->elems[0]);
		return;
	}
	buf_printf(out, "{ ");
	for (size_t i = 0; i < m->nelems; i++) {
		if (i)
			buf_printf(out, ", ");
		print_elem(out, m->kind, m->family, &m->elems[i]);
	}
	buf_printf(out, " }");
}

static void print_ct_state(struct fw_buf *out, uint32_t mask)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {{FW_CT_INVALID, "invalid"},
		     {FW_CT_ESTABLISHED, "established"},
		     {FW_CT_RELATED, "related"},
		     {FW_CT_NEW, "new"}};
	const char *sep = "";

	buf_printf(out, "ct state ");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mask & names[i].bit) {
			buf_printf(out, "%s%s", sep, names[i].name);
			sep = ",";
		}
}

/* The single transport protocol a rule matched, for "tcp dport" style. */
static const char *single_l4(const struct fw_match *m)
{
	if (m->kind != FW_M_L4PROTO || m->nelems != 1 || m->set)
		return NULL;
	if (m->elems[0].lo[0] == 6 || m->elems[0].lo[0] == 17)
		return proto_name(m->elems[0].lo[0]);
	return NULL;
}

static bool ports_follow(const struct fw_prule *r, size_t i)
{
	return i + 1 < r->nm && (r->m[i + 1].kind == FW_M_SPORT ||
				 r->m[i + 1].kind == FW_M_DPORT);
}

static void print_match(struct fw_buf *out, const struct fw_prule *r,
			size_t i, const char **l4)
{
	const struct fw_match *m = &r->m[i];
	const char *ip = m->family == 6 ? "ip6" : "ip";

	switch (m->kind) {
	case FW_M_IIFNAME:
	case FW_M_OIFNAME:
		buf_printf(out, "%s \"%s\"",
			   m->kind == FW_M_IIFNAME ? "iifname" : "oifname",
			   m->str);
		return;
	case FW_M_CT_STATE:
		print_ct_state(out, m->mask);
		return;
	case FW_M_NFPROTO:
		buf_printf(out, "meta nfproto %s", m->family == 6 ? "ipv6" : "ipv4");
		return;
	case FW_M_SADDR:
	case FW_M_DADDR:
		buf_printf(out, "%s %s ", ip,
			   m->kind == FW_M_SADDR ? "saddr" : "daddr");
		break;
	case FW_M_L4PROTO:
		*l4 = single_l4(m);
		if (*l4 && ports_follow(r, i))
			return; /* nft folds it into "tcp dport" */
		buf_printf(out, "meta l4proto ");
		break;
	case FW_M_SPORT:
	case FW_M_DPORT:
		buf_printf(out, "%s %s ", *l4 ? *l4 : "th",
			   m->kind == FW_M_SPORT ? "sport" : "dport");
		break;
	case FW_M_ICMP_TYPE:
		buf_printf(out, "icmp type ");
		break;
	case FW_M_ICMPV6_TYPE:
		buf_printf(out, "icmpv6 type ");
		break;
	}
	print_value(out, m);
}

static const char *unit_name(uint32_t unit)
{
	return unit == 3600 ? "hour" : unit == 60 ? "minute" : "second";
}

static void print_stmt(struct fw_buf *out, const struct fw_stmt *s)
{
	switch (s->kind) {
	case FW_S_LIMIT:
		buf_printf(out, "limit rate %s%u/%s", s->over ? "over " : "",
			   s->rate, unit_name(s->unit));
		if (s->burst != FW_LIMIT_BURST_DEFAULT)
			buf_printf(out, " burst %u packets", s->burst);
		return;
	case FW_S_LOG:
		buf_printf(out, "log prefix \"%s\"", s->prefix);
		if (s->group >= 0)
			buf_printf(out, " group %d", s->group);
		return;
	case FW_S_COUNTER:
		buf_printf(out, "counter name \"%s\"", s->counter);
		return;
	}
}

static void print_verdict(struct fw_buf *out, const struct fw_prule *r)
{
	static const char *const rej[] = {
		[0] = "reject", [4] = "reject with icmp port-unreachable",
		[6] = "reject with icmpv6 port-unreachable"};

	switch (r->verdict) {
	case FW_V_NONE:
		return;
	case FW_V_ACCEPT:
		buf_printf(out, "accept");
		return;
	case FW_V_DROP:
		buf_printf(out, "drop");
		return;
	case FW_V_REJECT:
		buf_printf(out, "%s", rej[r->reject_family]);
		return;
	case FW_V_REJECT_TCP_RST:
		buf_printf(out, "reject with tcp reset");
		return;
	case FW_V_JUMP:
		buf_printf(out, "jump %s", r->target);
		return;
	case FW_V_RETURN:
		buf_printf(out, "return");
		return;
	case FW_V_VMAP:
		buf_printf(out, "%s saddr", r->family == 6 ? "ip6" : "ip");
		if (r->plen && r->plen < (r->family == 6 ? 128 : 32))
			print_mask(out, r->family, r->plen);
		buf_printf(out, " . meta l4proto . th dport vmap @%s",
			   r->target);
		return;
	}
}

static void print_rule(struct fw_buf *out, const struct fw_prule *r)
{
	const char *l4 = NULL;
	size_t mark;

	buf_printf(out, "\t\t");
	mark = out->len;
	for (size_t i = 0; i < r->nm; i++) {
		size_t before = out->len;

		if (out->len > mark)
			buf_printf(out, " ");
		print_match(out, r, i, &l4);
		if (out->len == before + 1)
			out->s[--out->len] = '\0'; /* folded: drop the space */
	}
	for (size_t i = 0; i < r->ns; i++) {
		if (out->len > mark)
			buf_printf(out, " ");
		print_stmt(out, &r->s[i]);
	}
	if (r->verdict != FW_V_NONE) {
		if (out->len > mark)
			buf_printf(out, " ");
		print_verdict(out, r);
	}
	if (r->comment)
		buf_printf(out, " comment \"%s\"", r->comment);
	buf_printf(out, "\n");
}

static const char *hook_name(int hook)
{
	return hook == 1 ? "input" : hook == 2 ? "forward" : "output";
}

static void print_chain(struct fw_buf *out, const struct fw_pchain *c)
{
	buf_printf(out, "\tchain %s {\n", c->name);
	if (c->base)
		buf_printf(out,
			   "\t\ttype filter hook %s priority filter; "
			   "policy %s;\n",
			   hook_name(c->hook), c->policy_drop ? "drop" : "accept");
	for (size_t i = 0; i < c->nrules; i++)
		print_rule(out, &c->rules[i]);
	buf_printf(out, "\t}\n");
}

static void print_set(struct fw_buf *out, const struct fw_pset *s)
{
	enum fw_mkind kind = FW_M_SADDR;
	int family = s->key == FW_KEY_IPV6 ? 6 : 4;

	buf_printf(out, "\tset %s {\n\t\ttype %s\n", s->name,
		   family == 6 ? "ipv6_addr" : "ipv4_addr");
	if (s->interval)
		buf_printf(out, "\t\tflags interval\n");
	if (s->size)
		buf_printf(out, "\t\tsize %u\n", s->size);
	if (s->nelems) {
		/* nft puts two IPv4 addresses on a line, IPv6 one. */
		size_t per_line = family == 6 ? 1 : 2;

		buf_printf(out, "\t\telements = { ");
		for (size_t i = 0; i < s->nelems; i++) {
			if (i)
				buf_puts(out, i % per_line
						      ? ", "
						      : ",\n\t\t\t     ");
			print_elem(out, kind, family, &s->elems[i]);
		}
		buf_printf(out, " }\n");
	}
	buf_printf(out, "\t}\n");
}

static void print_melem(struct fw_buf *out, const struct fw_pmap *m,
			const struct fw_pmelem *e)
{
	char ports[16];

	print_elem(out, FW_M_SADDR, m->family, &e->addr);
	buf_puts(out, e->proto == 6 ? " . tcp . " : " . udp . ");
	if (e->plo == e->phi)
		snprintf(ports, sizeof(ports), "%u", e->plo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", e->plo, e->phi);
	buf_puts(out, ports);
	buf_puts(out, " counter packets 0 bytes 0 comment \"");
	buf_puts(out, e->rule);
	buf_puts(out, "\" : ");
	if (e->verdict == FW_V_JUMP) {
		buf_puts(out, "jump ");
		buf_puts(out, e->target);
	} else {
		buf_puts(out, e->verdict == FW_V_DROP ? "drop" : "accept");
	}
}

/* nft lists a map's elements one to a line, in the kernel's order. */
static void print_map(struct fw_buf *out, const struct fw_pmap *m)
{
	buf_printf(out,
		   "\tmap %s {\n\t\ttype %s . inet_proto . inet_service : "
		   "verdict\n",
		   m->name, m->family == 6 ? "ipv6_addr" : "ipv4_addr");
	if (!m->plen)
		buf_puts(out, "\t\tflags interval\n");
	if (m->size)
		buf_printf(out, "\t\tsize %u\n", m->size);
	buf_puts(out, "\t\tcounter\n");
	if (m->nelems) {
		buf_printf(out, "\t\telements = { ");
		for (size_t i = 0; i < m->nelems; i++) {
			if (i)
				buf_puts(out, ",\n\t\t\t     ");
			print_melem(out, m, &m->elems[i]);
		}
		buf_printf(out, " }\n");
	}
	buf_printf(out, "\t}\n");
}

void nftext_print(struct fw_buf *out, const struct fw_plan *plan,
		  fw_counter_fn counters, void *ctx)
{
	bool first = true;

	buf_printf(out, "table inet %s {\n", plan->table);
	for (size_t i = 0; i < plan->ncounters; i++) {
		uint64_t pk = 0, by = 0;

		if (plan->counters[i].in_elems)
			continue;
		if (counters)
			counters(ctx, plan->counters[i].name, &pk, &by);
		buf_printf(out,
			   "%s\tcounter %s {\n\t\tpackets %llu bytes %llu\n"
			   "\t}\n",
			   first ? "" : "\n", plan->counters[i].name,
			   (unsigned long long)pk, (unsigned long long)by);
		first = false;
	}
	for (size_t i = 0; i < plan->nsets; i++) {
		buf_printf(out, "%s", first ? "" : "\n");
		print_set(out, &plan->sets[i]);
		first = false;
	}
	for (size_t i = 0; i < plan->nmaps; i++) {
		buf_printf(out, "%s", first ? "" : "\n");
		print_map(out, &plan->maps[i]);
		first = false;
	}
	for (size_t i = 0; i < plan->nchains; i++) {
		buf_printf(out, "%s", first ? "" : "\n");
		print_chain(out, &plan->chains[i]);
		first = false;
	}
	buf_printf(out, "}\n");
}
