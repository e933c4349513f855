// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_nl: loads hand-built plans into the kernel with nl_apply and checks
 * the result with `nft` as an independent reader. Needs CAP_NET_ADMIN and
 * refuses to run outside a private network namespace (unshare -n).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "nl.h"
#include "plan.h"
#include "t.h"
#include "util.h"

#define TABLE "fwtest"

/* `nft list table inet fwtest` after plan A, straight from nft 1.0.6. */
static const char expect_a[] =
	"table inet fwtest {\n"
	"\tcounter input_ssh {\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tcounter invalid_input {\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tcounter default_input {\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tcounter lo_out {\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tset app_v4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.0.1.0/24, 10.0.9.5,\n"
	"\t\t\t     192.168.1.1-192.168.1.9 }\n"
	"\t}\n"
	"\n"
	"\tset app_v6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { 2001:db8:1::/64,\n"
	"\t\t\t     ffff::/16 }\n"
	"\t}\n"
	"\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy drop;\n"
	"\t\tiifname \"lo\" accept\n"
	"\t\tct state established,related accept\n"
	"\t\tct state invalid counter name \"invalid_input\" drop\n"
	"\t\tip saddr 10.0.9.5 tcp dport 22 counter name \"input_ssh\" accept comment \"ssh\"\n"
	"\t\tip saddr 10.0.0.0/24 tcp dport 3306 accept comment \"mysql\"\n"
	"\t\tip saddr 10.0.0.0/23 accept comment \"pfx23\"\n"
	"\t\tip saddr 10.0.0.5-10.0.0.9 udp dport 8000-8100 accept comment \"range\"\n"
	"\t\tip6 saddr 2001:db8::/64 accept\n"
	"\t\tip6 saddr { ::1, 2001:db8::/64 } tcp dport { 80, 443, 8000-8100 } accept comment \"web6\"\n"
	"\t\tip saddr { 10.0.0.1, 10.0.0.3 } ip daddr 10.9.9.9 accept\n"
	"\t\tip saddr @app_v4 jump rules\n"
	"\t\tip6 saddr @app_v6 jump rules\n"
	"\t\tmeta l4proto { tcp, udp } th dport 53 accept comment \"dns\"\n"
	"\t\tudp sport { 53, 123 } accept\n"
	"\t\ticmp type { destination-unreachable, echo-request } accept\n"
	"\t\ticmpv6 type { echo-request, nd-neighbor-solicit } accept\n"
	"\t\tiifname \"eth*\" tcp dport 9100 accept\n"
	"\t\tip saddr 198.51.100.0/24 tcp dport 22 reject with tcp reset\n"
	"\t\tmeta l4proto tcp reject\n"
	"\t\tip saddr 203.0.113.7 reject with icmp port-unreachable\n"
	"\t\tip6 saddr 2001:db8:dead::/48 reject with icmpv6 port-unreachable\n"
	"\t\tip daddr { 0.0.0.0/8, 255.255.255.255 } drop comment \"edges\"\n"
	"\t\ttcp dport { 1024, 60000-65535 } accept\n"
	"\t\tip6 daddr 2001:db8::/60 udp sport 1000-2000 accept\n"
	"\t\ticmp type echo-request accept\n"
	"\t\tlimit rate 5/second log prefix \"fwd drop: \" group 2\n"
	"\t\tcounter name \"default_input\"\n"
	"\t}\n"
	"\n"
	"\tchain output {\n"
	"\t\ttype filter hook output priority filter; policy accept;\n"
	"\t\toifname \"lo\" counter name \"lo_out\"\n"
	"\t}\n"
	"\n"
	"\tchain rules {\n"
	"\t\tlimit rate over 10/second burst 20 packets return\n"
	"\t\ttcp dport 3306 log prefix \"mysql \" accept\n"
	"\t}\n"
	"}\n";

/* The same for plan B. */
static const char expect_b[] =
	"table inet fwtest {\n"
	"\tcounter input_ssh {\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tcounter default_input {\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tcounter lo_out {\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tcounter input_web {\n"
	"\t\tpackets 0 bytes 0\n"
	"\t}\n"
	"\n"
	"\tset app_v4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.0.2.0/24 }\n"
	"\t}\n"
	"\n"
	"\tset mon_v4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\telements = { 10.0.8.2 }\n"
	"\t}\n"
	"\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiifname \"lo\" accept\n"
	"\t\tip saddr @mon_v4 tcp dport 9100 counter name \"input_web\" accept comment \"mon\"\n"
	"\t\tip saddr @app_v4 jump web\n"
	"\t\ttcp dport { 22, 80 } counter name \"input_ssh\" accept comment \"ssh\"\n"
	"\t\tcounter name \"default_input\"\n"
	"\t}\n"
	"\n"
	"\tchain output {\n"
	"\t\ttype filter hook output priority filter + 10; policy accept;\n"
	"\t\toifname \"lo\" counter name \"lo_out\"\n"
	"\t}\n"
	"\n"
	"\tchain web {\n"
	"\t\ttcp dport 443 accept\n"
	"\t}\n"
	"}\n";

/* --- a plan built by hand ------------------------------------------------ */

#define MAXC 8	 /* chains, sets, counters */
#define MAXR 32	 /* rules per chain */
#define MAXM 6	 /* matches per rule */
#define MAXS 3	 /* statements per rule */
#define MAXE 8	 /* elements per match or set */

struct pb {
	struct fw_arena *a;
	struct fw_plan p;
	struct fw_pchain *c;
	struct fw_prule *r;
};

static void pb_init(struct pb *b)
{
	memset(b, 0, sizeof(*b));
	b->a = arena_new();
	b->p.table = TABLE;
	b->p.counters = arena_alloc(b->a, MAXC * sizeof(*b->p.counters));
	b->p.sets = arena_alloc(b->a, MAXC * sizeof(*b->p.sets));
	b->p.chains = arena_alloc(b->a, MAXC * sizeof(*b->p.chains));
}

static void pb_free(struct pb *b)
{
	arena_free(b->a);
}

/* One element: "10.0.0.1", "10.0.0.0/24", "a-b", "22", "8000-8100". */
static void parse_elem(struct fw_elem *e, const char *s, int family,
		       size_t keylen)
{
	char lo[64], *dash, *slash;
	int af = family == 6 ? AF_INET6 : AF_INET;

	memset(e, 0, sizeof(*e));
	snprintf(lo, sizeof(lo), "%s", s);
	dash = strchr(lo, '-');
	slash = strchr(lo, '/');
	if (dash)
		*dash++ = '\0';
	if (slash)
		*slash++ = '\0';
	if (family) {
		inet_pton(af, lo, e->lo);
		inet_pton(af, dash ? dash : lo, e->hi);
		for (size_t b = slash ? (size_t)atoi(slash) : keylen * 8;
		     b < keylen * 8; b++)
			e->hi[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		return;
	}
	for (int i = 0, lv = atoi(lo), hv = dash ? atoi(dash) : lv;
	     i < (int)keylen; i++) {
		e->lo[keylen - 1 - i] = (uint8_t)(lv >> (8 * i));
		e->hi[keylen - 1 - i] = (uint8_t)(hv >> (8 * i));
	}
}

/* Comma-separated elements, sorted and disjoint as the planner makes them. */
static size_t parse_elems(struct pb *b, struct fw_elem **v, const char *list,
			  int family, size_t keylen)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	size_t n = 0;

	*v = arena_alloc(b->a, MAXE * sizeof(**v));
	for (tok = strtok_r(copy, ",", &save); tok && n < MAXE;
	     tok = strtok_r(NULL, ",", &save))
		parse_elem(&(*v)[n++], tok, family, keylen);
	free(copy);
	return n;
}

static void pb_counter(struct pb *b, const char *name)
{
	struct fw_pcounter *c = &b->p.counters[b->p.ncounters++];

	c->name = name;
	c->path = arena_printf(b->a, "counters.%s", name);
}

static void pb_set(struct pb *b, const char *name, int family,
		   const char *elems)
{
	struct fw_pset *s = &b->p.sets[b->p.nsets++];

	s->name = name;
	s->key = family == 6 ? FW_KEY_IPV6 : FW_KEY_IPV4;
	s->interval = true;
	s->path = arena_printf(b->a, "groups.%s", name);
	s->nelems = parse_elems(b, &s->elems, elems, family,
				family == 6 ? 16 : 4);
}

static void pb_chain(struct pb *b, const char *name, int hook, int prio,
		     bool drop)
{
	b->c = &b->p.chains[b->p.nchains++];
	b->c->name = name;
	b->c->base = hook >= 0;
	b->c->hook = hook;
	b->c->priority = prio;
	b->c->policy_drop = drop;
	b->c->rules = arena_alloc(b->a, MAXR * sizeof(*b->c->rules));
}

/* A rule of the current chain; path "<chain>.rules[i]", comment = name. */
static void pb_rule(struct pb *b, const char *name, enum fw_verdict v,
		    const char *target)
{
	b->r = &b->c->rules[b->c->nrules];
	b->r->m = arena_alloc(b->a, MAXM * sizeof(*b->r->m));
	b->r->s = arena_alloc(b->a, MAXS * sizeof(*b->r->s));
	b->r->verdict = v;
	b->r->target = target;
	b->r->comment = name;
	b->r->path = arena_printf(b->a, "%s.rules[%zu]", b->c->name,
				  b->c->nrules);
	b->c->nrules++;
}

static struct fw_match *pb_m(struct pb *b, enum fw_mkind kind, int family)
{
	struct fw_match *m = &b->r->m[b->r->nm++];

	m->kind = kind;
	m->family = (uint8_t)family;
	return m;
}

/* A match on literal elements, or on a named set when list is "@name". */
static void pb_match(struct pb *b, enum fw_mkind kind, int family,
		     const char *list)
{
	struct fw_match *m = pb_m(b, kind, family);
	bool addr = kind == FW_M_SADDR || kind == FW_M_DADDR;

	if (list[0] == '@') {
		m->set = list + 1;
		return;
	}
	m->nelems = parse_elems(b, &m->elems, list, addr ? family : 0,
				plan_keylen(m));
}

static void pb_str(struct pb *b, enum fw_mkind kind, const char *s)
{
	pb_m(b, kind, 0)->str = s;
}

static void pb_ct(struct pb *b, uint32_t mask)
{
	pb_m(b, FW_M_CT_STATE, 0)->mask = mask;
}

static struct fw_stmt *pb_s(struct pb *b, enum fw_skind kind)
{
	struct fw_stmt *s = &b->r->s[b->r->ns++];

	s->kind = kind;
	s->group = -1;
	return s;
}

static void pb_count(struct pb *b, const char *counter)
{
	pb_s(b, FW_S_COUNTER)->counter = counter;
}

static void pb_limit(struct pb *b, bool over, uint32_t rate, uint32_t burst)
{
	struct fw_stmt *s = pb_s(b, FW_S_LIMIT);

	s->over = over;
	s->rate = rate;
	s->unit = 1;
	s->burst = burst;
}

static void pb_log(struct pb *b, const char *prefix, int group)
{
	struct fw_stmt *s = pb_s(b, FW_S_LOG);

	s->prefix = prefix;
	s->group = group;
}

#define TCP "6"
#define UDP "17"

static void plan_a_input(struct pb *b)
{
	pb_chain(b, "input", NF_INET_LOCAL_IN, 0, true);
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_str(b, FW_M_IIFNAME, "lo");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_ct(b, FW_CT_ESTABLISHED | FW_CT_RELATED);
	pb_rule(b, NULL, FW_V_DROP, NULL);
	pb_ct(b, FW_CT_INVALID);
	pb_count(b, "invalid_input");
	pb_rule(b, "ssh", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 4, "10.0.9.5");
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "22");
	pb_count(b, "input_ssh");
	pb_rule(b, "mysql", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 4, "10.0.0.0/24");
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "3306");
	pb_rule(b, "pfx23", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 4, "10.0.0.0/23");
	pb_rule(b, "range", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 4, "10.0.0.5-10.0.0.9");
	pb_match(b, FW_M_L4PROTO, 0, UDP);
	pb_match(b, FW_M_DPORT, 0, "8000-8100");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 6, "2001:db8::/64");
	pb_rule(b, "web6", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 6, "::1,2001:db8::/64");
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "80,443,8000-8100");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 4, "10.0.0.1,10.0.0.3");
	pb_match(b, FW_M_DADDR, 4, "10.9.9.9");
	pb_rule(b, NULL, FW_V_JUMP, "rules");
	pb_match(b, FW_M_SADDR, 4, "@app_v4");
	pb_rule(b, NULL, FW_V_JUMP, "rules");
	pb_match(b, FW_M_SADDR, 6, "@app_v6");
}

static void plan_a_input2(struct pb *b)
{
	pb_rule(b, "dns", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_L4PROTO, 0, TCP "," UDP);
	pb_match(b, FW_M_DPORT, 0, "53");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_L4PROTO, 0, UDP);
	pb_match(b, FW_M_SPORT, 0, "53,123");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_ICMP_TYPE, 0, "3,8");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_ICMPV6_TYPE, 0, "128,135");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_str(b, FW_M_IIFNAME, "eth*");
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "9100");
	pb_rule(b, NULL, FW_V_REJECT_TCP_RST, NULL);
	pb_match(b, FW_M_SADDR, 4, "198.51.100.0/24");
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "22");
	pb_rule(b, NULL, FW_V_REJECT, NULL);
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_rule(b, NULL, FW_V_REJECT, NULL);
	pb_match(b, FW_M_SADDR, 4, "203.0.113.7");
	pb_rule(b, NULL, FW_V_REJECT, NULL);
	pb_match(b, FW_M_SADDR, 6, "2001:db8:dead::/48");
	pb_rule(b, "edges", FW_V_DROP, NULL);
	pb_match(b, FW_M_DADDR, 4, "0.0.0.0/8,255.255.255.255");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "1024,60000-65535");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_DADDR, 6, "2001:db8::/60");
	pb_match(b, FW_M_L4PROTO, 0, UDP);
	pb_match(b, FW_M_SPORT, 0, "1000-2000");
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_ICMP_TYPE, 0, "8");
	pb_rule(b, NULL, FW_V_NONE, NULL);
	pb_limit(b, false, 5, 5);
	pb_log(b, "fwd drop: ", 2);
	pb_rule(b, NULL, FW_V_NONE, NULL);
	pb_count(b, "default_input");
}

static void plan_a(struct pb *b)
{
	pb_init(b);
	pb_counter(b, "input_ssh");
	pb_counter(b, "invalid_input");
	pb_counter(b, "default_input");
	pb_counter(b, "lo_out");
	pb_set(b, "app_v4", 4, "10.0.1.0/24,10.0.9.5,192.168.1.1-192.168.1.9");
	pb_set(b, "app_v6", 6, "2001:db8:1::/64,ffff::/16");
	plan_a_input(b);
	plan_a_input2(b);
	pb_chain(b, "output", NF_INET_LOCAL_OUT, 0, false);
	pb_rule(b, NULL, FW_V_NONE, NULL);
	pb_str(b, FW_M_OIFNAME, "lo");
	pb_count(b, "lo_out");
	pb_chain(b, "rules", -1, 0, false);
	pb_rule(b, NULL, FW_V_RETURN, NULL);
	pb_limit(b, true, 10, 20);
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "3306");
	pb_log(b, "mysql ", -1);
}

/* A different policy: sets, chains, counters and a base chain replaced. */
static void plan_b(struct pb *b)
{
	pb_init(b);
	pb_counter(b, "input_ssh");
	pb_counter(b, "default_input");
	pb_counter(b, "lo_out");
	pb_counter(b, "input_web");
	pb_set(b, "app_v4", 4, "10.0.2.0/24");
	pb_set(b, "mon_v4", 4, "10.0.8.2");
	pb_chain(b, "input", NF_INET_LOCAL_IN, 0, false);
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_str(b, FW_M_IIFNAME, "lo");
	pb_rule(b, "mon", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 4, "@mon_v4");
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "9100");
	pb_count(b, "input_web");
	pb_rule(b, NULL, FW_V_JUMP, "web");
	pb_match(b, FW_M_SADDR, 4, "@app_v4");
	pb_rule(b, "ssh", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "22,80");
	pb_count(b, "input_ssh");
	pb_rule(b, NULL, FW_V_NONE, NULL);
	pb_count(b, "default_input");
	pb_chain(b, "output", NF_INET_LOCAL_OUT, 10, false);
	pb_rule(b, NULL, FW_V_NONE, NULL);
	pb_str(b, FW_M_OIFNAME, "lo");
	pb_count(b, "lo_out");
	pb_chain(b, "web", -1, 0, false);
	pb_rule(b, NULL, FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_L4PROTO, 0, TCP);
	pb_match(b, FW_M_DPORT, 0, "443");
}

/* --- nft as the independent reader --------------------------------------- */

static char *sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command; its stdout, or NULL when it failed. */
static char *sh(const char *fmt, ...)
{
	struct fw_buf b = { 0 };
	char chunk[4096], *cmd;
	va_list ap;
	size_t n;
	FILE *f;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	f = popen(cmd, "r");
	free(cmd);
	if (!f)
		return NULL;
	buf_add(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (pclose(f) != 0) {
		buf_free(&b);
		return NULL;
	}
	return b.s;
}

/* "packets N bytes M" -> "packets 0 bytes 0", in place. */
static char *zero_counters(char *s)
{
	struct fw_buf b = { 0 };
	char *p = s, *q;

	buf_add(&b, "", 0);
	while ((q = strstr(p, "packets "))) {
		char *r = q + 8;

		while (isdigit((unsigned char)*r))
			r++;
		if (strncmp(r, " bytes ", 7) != 0) {
			buf_add(&b, p, (size_t)(r - p));
			p = r;
			continue;
		}
		r += 7;
		while (isdigit((unsigned char)*r))
			r++;
		buf_add(&b, p, (size_t)(q - p));
		buf_add(&b, "packets 0 bytes 0", 17);
		p = r;
	}
	buf_add(&b, p, strlen(p));
	free(s);
	return b.s;
}

static char *list_table(const char *table)
{
	char *s = sh("nft list table inet %s 2>&1", table);

	return s ? zero_counters(s) : NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Element lines of one set come in kernel order: sort them. */
static void flush_elems(struct fw_buf *out, char **el, size_t *n)
{
	qsort(el, *n, sizeof(*el), cmp_str);
	for (size_t i = 0; i < *n; i++)
		buf_printf(out, "%s\n", el[i]);
	*n = 0;
}

/* Numbers anonymous sets in order of appearance. */
static void renumber(struct fw_buf *out, const char *line, char (*seen)[16],
		     size_t *nseen)
{
	const char *p = line, *q;

	while ((q = strstr(p, "__set"))) {
		size_t len = strspn(q + 5, "0123456789") + 5, i;

		buf_add(out, p, (size_t)(q - p));
		for (i = 0; i < *nseen; i++)
			if (strlen(seen[i]) == len && !strncmp(seen[i], q, len))
				break;
		if (i == *nseen && *nseen < 64)
			snprintf(seen[(*nseen)++], 16, "%.*s", (int)len, q);
		buf_printf(out, "__anon%zu", i);
		p = q + len;
	}
	buf_printf(out, "%s\n", p);
}

/*
 * The bytecode of table as `nft --debug=netlink list` shows it, without
 * table name, handles and anonymous set numbers, elements sorted.
 */
static char *bytecode(const char *table)
{
	char *s = sh("nft --debug=netlink list table inet %s 2>&1", table);
	char *save = NULL, *line, *el[256], seen[64][16];
	size_t nel = 0, nseen = 0, tl = strlen(table);
	struct fw_buf out = { 0 };

	if (!s)
		return NULL;
	buf_add(&out, "", 0);
	for (line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "table ", 6))
			break;
		if (line[0] == '\t' && nel < ARRAY_SIZE(el)) {
			el[nel++] = line;
			continue;
		}
		flush_elems(&out, el, &nel);
		if (!strncmp(line, "inet ", 5) &&
		    !strncmp(line + 5, table, tl)) {
			/* "inet TABLE chain handle pos": keep the chain */
			line += 6 + tl;
			line[strcspn(line, " ")] = '\0';
		}
		renumber(&out, line, seen, &nseen);
	}
	flush_elems(&out, el, &nel);
	free(s);
	return out.s;
}

/* Loads text (a listing of table fwtest) as table twin with nft -f. */
static int nft_load_as(const char *text, const char *twin)
{
	char path[] = "/tmp/test_nl.XXXXXX";
	const char *body = strchr(text, '{');
	int fd = mkstemp(path), r;
	char *out;
	FILE *f;

	if (fd < 0 || !body || !(f = fdopen(fd, "w")))
		return -1;
	fprintf(f, "table inet %s %s", twin, body);
	fclose(f);
	out = sh("nft -f %s", path);
	r = out ? 0 : -1;
	free(out);
	unlink(path);
	return r;
}

/* Same bytecode as nft makes of the expected text? */
static bool same_bytecode(const char *expect)
{
	char *mine, *theirs;
	bool same;

	if (nft_load_as(expect, "fwtwin") < 0)
		return false;
	mine = bytecode(TABLE);
	theirs = bytecode("fwtwin");
	same = mine && theirs && !strcmp(mine, theirs);
	if (!same)
		printf("# ours:\n%s# nft's:\n%s", mine, theirs);
	free(mine);
	free(theirs);
	return system("nft delete table inet fwtwin") == 0 && same;
}

/* Compares and frees got. */
static bool same_text(char *got, const char *want)
{
	bool same = got && !strcmp(got, want);

	if (!same)
		printf("# got:\n%s# want:\n%s", got ? got : "(null)\n", want);
	free(got);
	return same;
}

/* --- helpers around nl --------------------------------------------------- */

static int counter_get(struct fw_nl *nl, const char *name, uint64_t *pk)
{
	struct fw_counter_val *v;
	size_t n;
	int found = -1;

	if (nl_counters(nl, TABLE, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name)) {
			*pk = v[i].packets;
			found = 0;
		}
	nl_counters_free(v, n);
	return found;
}

static void udp_to_lo(int count)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < count; i++)
		sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	usleep(100 * 1000);
}

static bool diag_has(const struct fw_diags *d, const char *path,
		     const char *text)
{
	for (size_t i = 0; i < d->n; i++) {
		printf("# diag: %s: %s\n", d->v[i].path, d->v[i].msg);
		if (!d->v[i].file && !strcmp(d->v[i].path, path) &&
		    strstr(d->v[i].msg, text))
			return true;
	}
	return false;
}

/*
 * Not the namespace of PID 1, nor the kernel's initial one (whose inode is
 * the fixed PROC_NET_INIT_INO): a new namespace may not read PID 1's link.
 */
static bool in_own_netns(void)
{
	char self[PATH_MAX] = "", init[PATH_MAX] = "";

	if (readlink("/proc/self/ns/net", self, sizeof(self) - 1) < 0 ||
	    !strcmp(self, "net:[4026531833]"))
		return false;
	if (readlink("/proc/1/ns/net", init, sizeof(init) - 1) < 0)
		return errno == EACCES;
	return strcmp(self, init) != 0;
}

/* --- the tests ------------------------------------------------------------ */

static const char other_tables[] =
	"table inet other {\n"
	"\tcounter x { }\n"
	"\tset s { type ipv4_addr; elements = { 192.0.2.1 } }\n"
	"\tchain c { type filter hook input priority 10; policy accept; "
	"ip saddr @s counter accept; }\n"
	"}\n"
	"table ip " TABLE " {\n"
	"\tchain c { type filter hook input priority -5; policy accept; }\n"
	"}\n";

static void test_fresh(struct fw_nl *nl, struct pb *a)
{
	struct fw_diags d;
	uint32_t g0 = 0, g1 = 0;
	struct fw_counter_val *v = NULL;
	size_t n = 1;

	diags_init(&d);
	T_OK(nl_table_exists(nl, TABLE) == 0, "table absent at first");
	T_OK(nl_counters(nl, TABLE, &v, &n) == 0 && n == 0,
	     "no counters in a missing table");
	nl_counters_free(v, n);
	T_OK(nl_genid(nl, &g0) == 0, "nl_genid");
	T_OK(nl_apply(nl, &a->p, FW_NL_DRY_RUN, &d) == 0 && d.n == 0,
	     "dry run of plan A on an empty namespace");
	T_OK(nl_table_exists(nl, TABLE) == 0, "dry run created nothing");
	T_OK(nl_apply(nl, &a->p, 0, &d) == 0 && d.n == 0, "apply plan A");
	T_OK(nl_table_exists(nl, TABLE) == 1, "table exists after apply");
	T_OK(nl_genid(nl, &g1) == 0 && g1 != g0, "generation moved (%u -> %u)",
	     g0, g1);
	T_OK(same_text(list_table(TABLE), expect_a), "plan A lists as nft's");
	T_OK(same_bytecode(expect_a), "plan A bytecode equals nft -f's");
	diags_free(&d);
}

static void test_counters_kept(struct fw_nl *nl, struct pb *a)
{
	struct fw_diags d;
	uint64_t before = 0, after = 0;
	char *list, want[64];

	diags_init(&d);
	udp_to_lo(5);
	T_OK(counter_get(nl, "lo_out", &before) == 0 && before >= 5,
	     "lo_out counted %llu packets", (unsigned long long)before);
	list = sh("nft list counter inet " TABLE " lo_out");
	snprintf(want, sizeof(want), "packets %llu ",
		 (unsigned long long)before);
	T_OK(list && strstr(list, want), "nl_counters agrees with nft");
	free(list);
	T_OK(nl_apply(nl, &a->p, 0, &d) == 0, "re-apply plan A");
	T_OK(counter_get(nl, "lo_out", &after) == 0 && after >= before,
	     "counter kept across apply (%llu -> %llu)",
	     (unsigned long long)before, (unsigned long long)after);
	T_OK(same_text(list_table(TABLE), expect_a), "re-apply lists the same");
	diags_free(&d);
}

/* A plan the kernel refuses changes nothing and names the rule. */
static void test_refused(struct fw_nl *nl, const char *what,
			 void (*spoil)(struct pb *b), const char *want)
{
	char *before = sh("nft -s list ruleset"), *after;
	struct fw_diags d;
	struct pb b;

	diags_init(&d);
	plan_a(&b);
	spoil(&b);
	T_OK(nl_apply(nl, &b.p, 0, &d) == -1, "%s: refused", what);
	T_OK(diag_has(&d, b.r->path, want), "%s: diagnostic at %s", what,
	     b.r->path);
	after = sh("nft -s list ruleset");
	T_OK(before && after && !strcmp(before, after),
	     "%s: ruleset unchanged", what);
	diags_free(&d);
	T_OK(nl_apply(nl, &b.p, FW_NL_DRY_RUN, &d) == -1 && d.n > 0,
	     "%s: refused in a dry run", what);
	diags_free(&d);
	pb_free(&b);
	free(before);
	free(after);
}

static void spoil_jump(struct pb *b)
{
	b->c = &b->p.chains[0];
	pb_rule(b, "bad", FW_V_JUMP, "nowhere");
	pb_match(b, FW_M_L4PROTO, 0, TCP);
}

static void spoil_set(struct pb *b)
{
	b->c = &b->p.chains[0];
	pb_rule(b, "bad", FW_V_ACCEPT, NULL);
	pb_match(b, FW_M_SADDR, 4, "@missing_v4");
}

static void spoil_counter(struct pb *b)
{
	b->c = &b->p.chains[0];
	pb_rule(b, "bad", FW_V_ACCEPT, NULL);
	pb_count(b, "missing");
}

static void spoil_encode(struct pb *b)
{
	b->c = &b->p.chains[0];
	pb_rule(b, "bad", FW_V_ACCEPT, NULL);
	pb_m(b, FW_M_DPORT, 0); /* no elements */
}

static void test_replace(struct fw_nl *nl)
{
	char *before = sh("nft -s list ruleset"), *after;
	uint64_t ssh0 = 0, lo0 = 0, lo1 = 0, ssh1 = 0, x;
	uint32_t g0 = 0, g1 = 1;
	struct fw_diags d;
	struct pb b;

	diags_init(&d);
	plan_b(&b);
	nl_genid(nl, &g0);
	T_OK(nl_apply(nl, &b.p, FW_NL_DRY_RUN, &d) == 0 && d.n == 0,
	     "dry run of plan B");
	after = sh("nft -s list ruleset");
	T_OK(before && after && !strcmp(before, after) &&
		     nl_genid(nl, &g1) == 0 && g1 == g0,
	     "dry run changed nothing, generation %u stays", g0);
	counter_get(nl, "input_ssh", &ssh0);
	counter_get(nl, "lo_out", &lo0);
	T_OK(nl_apply(nl, &b.p, 0, &d) == 0 && d.n == 0, "apply plan B");
	T_OK(same_text(list_table(TABLE), expect_b), "plan B lists as nft's");
	T_OK(same_bytecode(expect_b), "plan B bytecode equals nft -f's");
	T_OK(counter_get(nl, "lo_out", &lo1) == 0 && lo1 >= lo0 && lo0 > 0,
	     "lo_out kept through a replaced base chain");
	T_OK(counter_get(nl, "input_ssh", &ssh1) == 0 && ssh1 == ssh0,
	     "input_ssh kept");
	T_OK(counter_get(nl, "invalid_input", &x) == -1,
	     "counter dropped from the plan is gone");
	T_OK(nl_apply(nl, &b.p, 0, &d) == 0 &&
		     same_text(list_table(TABLE), expect_b),
	     "plan B applies twice to the same");
	diags_free(&d);
	pb_free(&b);
	free(before);
	free(after);
}

int main(void)
{
	char *others;
	struct fw_nl *nl;
	struct pb a;

	if (!in_own_netns()) {
		printf("not ok - refusing to run in the initial network "
		       "namespace\n");
		return 1;
	}
	others = sh("printf '%%s' '%s' | nft -f -", other_tables);
	if (system("ip link set lo up") != 0 || !others) {
		printf("not ok - cannot set up the namespace\n");
		return 1;
	}
	free(others);
	others = sh("nft -s list table inet other; nft list table ip " TABLE);
	nl = nl_open();
	T_OK(nl != NULL, "nl_open");
	if (!nl)
		return t_done();
	plan_a(&a);
	test_fresh(nl, &a);
	test_counters_kept(nl, &a);
	test_refused(nl, "jump to a missing chain", spoil_jump,
		     "kernel refused rule \"bad\" of chain input: ");
	test_refused(nl, "missing set", spoil_set,
		     "kernel refused rule \"bad\" of chain input: ");
	test_refused(nl, "missing counter", spoil_counter,
		     "kernel refused rule \"bad\" of chain input: ");
	test_refused(nl, "unencodable match", spoil_encode,
		     "cannot encode rule \"bad\" of chain input");
	test_replace(nl);
	T_OK(others && same_text(sh("nft -s list table inet other; "
				    "nft list table ip " TABLE),
				 others),
	     "other tables untouched");
	nl_close(nl);
	pb_free(&a);
	free(others);
	return t_done();
}
