/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan: what the kernel must hold for one policy -- one inet table with its
 * named counters, named sets, chains and rules. The single input of both the
 * nft-text printer (nftext) and the netlink batch builder (fwd/nl).
 *
 * Every match and statement is spelled so that the text printer can print
 * exactly what `nft list` prints for the bytecode the netlink builder emits
 * (nftables 1.0.6), so that `fwctl compile` equals `nft list table` of an
 * applied policy, counter values aside.
 */
#ifndef FW_PLAN_H
#define FW_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "policy.h"

struct fw_arena;

#define FW_TABLE_DEFAULT "fwd_filter"
/* NULL if nft takes name as a table's name ("nft list table inet NAME"):
 * a letter or '_', then letters, digits and '_', at most 64, and not a
 * word of nft's grammar; else why not, as a constant string. */
const char *plan_table_name_problem(const char *name);
/* The nflog group that default-policy drops are sent to (log_drops). */
#define FW_NFLOG_GROUP 27
/* nft's default limit burst, which `nft list` leaves out. */
#define FW_LIMIT_BURST_DEFAULT 5

/* An inclusive interval of keys, big-endian, keylen bytes of lo/hi used. */
struct fw_elem {
	uint8_t lo[16], hi[16];
};

enum fw_mkind {
	FW_M_IIFNAME,	 /* str; a trailing '*' makes it a prefix match */
	FW_M_OIFNAME,	 /* str */
	FW_M_CT_STATE,	 /* mask: any of FW_CT_* bits set */
	FW_M_NFPROTO,	 /* family only: "meta nfproto ipv4|ipv6" */
	FW_M_SADDR,	 /* family; set or elems (keylen 4 or 16) */
	FW_M_DADDR,	 /* family; set or elems */
	FW_M_L4PROTO,	 /* elems, keylen 1 (IPPROTO_*) */
	FW_M_SPORT,	 /* elems, keylen 2; after an L4PROTO match */
	FW_M_DPORT,	 /* elems, keylen 2; after an L4PROTO match */
	FW_M_ICMP_TYPE,	 /* elems, keylen 1 */
	FW_M_ICMPV6_TYPE /* elems, keylen 1 */
};

/* Conntrack state bits, as the kernel's NF_CT_STATE_BIT values. */
#define FW_CT_INVALID 0x1u
#define FW_CT_ESTABLISHED 0x2u
#define FW_CT_RELATED 0x4u
#define FW_CT_NEW 0x8u

struct fw_match {
	enum fw_mkind kind;
	uint8_t family;	 /* SADDR/DADDR/NFPROTO: 4 or 6 */
	const char *str; /* IIFNAME/OIFNAME */
	uint32_t mask;	 /* CT_STATE */
	const char *set; /* named set of the plan, or NULL */
	/*
	 * Literal elements, sorted, disjoint and not adjacent. One element
	 * is matched directly (cmp; a prefix or a range); more than one
	 * become an anonymous constant set (with the interval flag when any
	 * element has lo != hi).
	 */
	struct fw_elem *elems;
	size_t nelems;
};

enum fw_skind {
	FW_S_LIMIT,  /* limit rate [over] N/unit burst B packets */
	FW_S_LOG,    /* log prefix "..." [group G] */
	FW_S_COUNTER /* counter name "..." (a named counter of the plan) */
};

struct fw_stmt {
	enum fw_skind kind;
	/* LIMIT */
	bool over;
	uint32_t rate;
	uint32_t unit;	/* seconds: 1, 60, 3600 */
	uint32_t burst; /* packets; nft's default is 5 */
	/* LOG */
	const char *prefix;
	int group; /* nflog group, or -1 for the kernel log */
	/* COUNTER */
	const char *counter;
};

enum fw_verdict {
	FW_V_NONE,	    /* no verdict: continue with the next rule */
	FW_V_ACCEPT,
	FW_V_DROP,
	FW_V_REJECT,	    /* port-unreachable: icmpx, or icmp/icmpv6 when
			     * the rule matches one family (reject_family) */
	FW_V_REJECT_TCP_RST, /* "reject with tcp reset"; rule matches tcp */
	FW_V_JUMP,	    /* to target */
	FW_V_RETURN,
	FW_V_VMAP	    /* "ip saddr . meta l4proto . th dport vmap @target"
			     * (ip6 when family is 6); the rule has no
			     * matches and no statements */
};

struct fw_prule {
	struct fw_match *m;
	size_t nm;
	struct fw_stmt *s;
	size_t ns;
	enum fw_verdict verdict;
	const char *target;  /* JUMP */
	uint8_t reject_family; /* REJECT: 0 icmpx ("reject"), 4 "reject with
				* icmp port-unreachable", 6 "... icmpv6 ..." */
	const char *comment; /* rule name, or NULL */
	const char *path;    /* JSON path of the policy rule, or NULL */
	uint8_t family;	     /* VMAP: 4 or 6 */
	uint8_t plen;	     /* VMAP: the map's plen (its source mask) */
};

struct fw_pchain {
	const char *name;
	bool base;
	int hook;	  /* NF_INET_LOCAL_IN, ... (base chains) */
	int priority;	  /* 0 = "filter" */
	bool policy_drop; /* base chains */
	struct fw_prule *rules;
	size_t nrules;
};

enum fw_keytype { FW_KEY_IPV4, FW_KEY_IPV6 };

struct fw_pset {
	const char *name; /* "<group>_v4" / "<group>_v6" */
	enum fw_keytype key;
	bool interval;	  /* some element is a prefix or a range */
	uint32_t size;	  /* a hash set's capacity ("size"), or 0 */
	const char *path; /* "groups.app" */
	const char *group; /* "app" */
	/*
	 * The group's members reach the ruleset through its sets only (no
	 * rule or map holds them inline, no other group includes it), and
	 * each member is one element: a change of members is a change of
	 * elements, nothing else (fwd's quick apply).
	 */
	bool exclusive;
	struct fw_elem *elems;
	size_t nelems;
	/* The sum of its elements' hashes (plan_set_sum), which the plan
	 * digest takes instead of the elements: changing a few elements
	 * changes it at the cost of those few. */
	uint64_t sum[4];
};

/* What a named counter counts, for status and metrics. */
enum fw_ckind { FW_C_RULE, FW_C_DEFAULT, FW_C_INVALID };

struct fw_pcounter {
	const char *name; /* "input_ssh", "default_input", "invalid_input" */
	enum fw_ckind kind;
	enum fw_chain_id chain;
	const char *rule; /* FW_C_RULE: the policy rule's name */
	enum fw_action action;
	const char *path;
	/*
	 * No counter object: the rule lives in verdict maps and what it
	 * counted is the sum of the counters of its elements (the elements
	 * whose comment is the rule's name).
	 */
	bool in_elems;
};

/*
 * One element of a verdict map: saddr range . l4proto . dport range, with a
 * counter of its own and the policy rule's name as its comment.
 */
struct fw_pmelem {
	struct fw_elem addr;	 /* keylen 4 or 16, by the map's family */
	uint8_t proto;		 /* 6 (tcp) or 17 (udp) */
	uint16_t plo, phi;	 /* destination ports, inclusive */
	enum fw_verdict verdict; /* ACCEPT, DROP, or JUMP to target */
	const char *target;	 /* JUMP: the rule's own chain */
	const char *rule;	 /* the policy rule's name */
};

/*
 * A concatenated interval verdict map "type ipv4_addr . inet_proto .
 * inet_service : verdict" (ipv6_addr for family 6) with a counter on every
 * element. Elements are disjoint; the planner lists them in the order the
 * kernel is to receive them, which is the order nft lists them in.
 */
struct fw_pmap {
	const char *name; /* "input_accept_ip", "input_deny_ip6_24", ... */
	enum fw_chain_id chain;
	uint8_t family; /* 4 or 6 */
	bool deny;	/* holds the drop/reject rules of the chain */
	/*
	 * 0: an interval map (pipapo), elements are ranges. Else a hash map
	 * keyed on the source address masked to plen bits, exact ports:
	 * "ip saddr & 255.255.255.0 . meta l4proto . th dport vmap" -- one
	 * hash lookup whatever its size.
	 */
	uint8_t plen;
	uint32_t size; /* a hash map's capacity ("size"), or 0 */
	struct fw_pmelem *elems;
	size_t nelems;
};

struct fw_plan {
	const char *table;
	struct fw_pcounter *counters; /* in policy order */
	size_t ncounters;
	struct fw_pset *sets; /* their elems are malloc'ed (plan_slim) */
	size_t nsets;
	struct fw_pmap *maps; /* after the sets, in creation order */
	size_t nmaps;
	struct fw_pchain *chains; /* base chains first, then rule chains */
	size_t nchains;
	struct fw_arena *arena; /* owns every string and array above */
	bool slim; /* the sets' elements were let go (plan_slim) */
};

/* Elements to take out of and put into one named set of a plan. */
struct fw_elem_change {
	const struct fw_pset *set;
	const struct fw_elem *del, *add;
	size_t ndel, nadd;
};

/*
 * How to plan. A chain with at least map_min rules that a map can hold
 * (tcp and/or udp with destination ports, sources given as addresses or
 * groups or absent, nothing else but log) gets them as verdict maps, one
 * lookup per family and kind whatever their number; fewer keep the simple
 * one-nft-rule-per-rule form, which is easier to read. simple forces that
 * form everywhere: it is the reference the map plan is tested against.
 */
struct fw_plan_opts {
	bool simple;
	size_t map_min;	 /* 0: FW_PLAN_MAP_MIN */
	size_t hash_min; /* 0: FW_PLAN_HASH_MIN */
};

#define FW_PLAN_MAP_MIN 17
/*
 * A map of at least this many elements whose ports are all single ports
 * and whose sources fall into at most FW_PLAN_HASH_PLENS prefix lengths,
 * none shorter than FW_PLAN_HASH_PLEN_MIN (wider sources, "any" above
 * all, stay in an interval map), becomes hash maps, one per prefix length: a packet then costs one hash
 * lookup per prefix length, where an interval map's lookup grows with
 * its elements (measured: a 100-element interval map already costs more
 * than two hash lookups).
 */
#define FW_PLAN_HASH_MIN 16
#define FW_PLAN_HASH_PLENS 8
#define FW_PLAN_HASH_PLEN_MIN 8
/*
 * A hash set of at least this many addresses is declared with a size
 * (twice its elements, rounded up to a power of two), so that the kernel
 * sizes its table once instead of growing it while the elements come in.
 * A delta that would overflow it is refused and the table replaced.
 */
#define FW_SET_SIZE_MIN 1024

/* The "size" of a hash set or map of n elements: 0 below
 * FW_SET_SIZE_MIN, else twice n rounded up to a power of two. */
uint32_t plan_hash_size(size_t n);

/* Builds the plan of a validated policy. NULL with diagnostics. */
struct fw_plan *plan_build(const struct fw_policy *p, const char *table,
			   struct fw_diags *d);
/* The same with options; o may be NULL (defaults). */
struct fw_plan *plan_build_opts(const struct fw_policy *p, const char *table,
				const struct fw_plan_opts *o,
				struct fw_diags *d);
void plan_free(struct fw_plan *plan);
/* The number of elements of the plan's named sets. */
size_t plan_set_elems(const struct fw_plan *plan);
/*
 * Lets the sets' elements go: what stays describes the ruleset's shape
 * and counters (status, metrics) but can no longer be sent or printed.
 */
void plan_slim(struct fw_plan *plan);

/*
 * A digest of everything the plan puts in the kernel (counter values
 * aside): equal digests, equal rulesets. Cheaper than hashing its text.
 */
void plan_digest(const struct fw_plan *plan, char hex[65]);

/* Sets the secret key of the element hashes that set digests sum; plan
 * digests made under different keys differ. */
void plan_digest_key(const uint8_t key[32]);
/* Adds (or takes away) element e's hash to (from) s->sum. */
void plan_set_sum_elem(struct fw_pset *s, const struct fw_elem *e, bool add);

/* Key length in bytes of a match's elements. */
size_t plan_keylen(const struct fw_match *m);
/* The prefix length if [lo, hi] is exactly one CIDR prefix, else -1. */
int plan_elem_prefix(const struct fw_elem *e, size_t keylen);

#endif
