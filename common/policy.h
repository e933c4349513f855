/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy: the parsed, validated policy (IR). Every node keeps the JSON path
 * it came from; nothing points into the cJSON tree.
 */
#ifndef FW_POLICY_H
#define FW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum fw_chain_id { FW_INPUT, FW_OUTPUT, FW_FORWARD, FW_NCHAINS };
enum fw_action { FW_ACCEPT, FW_DROP, FW_REJECT };

/* Protocol bits of a rule's "proto". */
#define FW_P_TCP (1u << 0)
#define FW_P_UDP (1u << 1)
#define FW_P_ICMP (1u << 2)
#define FW_P_ICMPV6 (1u << 3)

/* An inclusive address interval, 16 bytes big-endian; v4 uses the first 4. */
struct fw_addr_range {
	uint8_t family; /* 4 or 6 */
	uint8_t lo[16], hi[16];
};

struct fw_port_range {
	uint16_t lo, hi;
};

/* One entry of a from/to list or of a group: a literal or a group ref. */
struct fw_addr_item {
	char *group; /* referenced group name, or NULL for a literal */
	struct fw_addr_range r;
};

struct fw_addr_list {
	struct fw_addr_item *v;
	size_t n;
};

struct fw_group {
	char *name;
	char *path; /* "groups.app" */
	char *file;
	struct fw_addr_list items;
	/* Resolved members (group references flattened), sorted, merged. */
	struct fw_addr_range *flat;
	size_t nflat;
	/* Where its member list is in the text ('[' and ']'), when the list
	 * was long enough to be kept out of the cJSON tree (bulk.h); else
	 * both 0. */
	size_t span_open, span_close;
	/* Every member is a single address, none twice, none next to
	 * another: its flat list is its members, one for one. */
	bool singles;
	bool referenced; /* another group has it as a member */
};

struct fw_rate {
	uint32_t n;
	int unit; /* 1 second, 60 minute, 3600 hour */
};

struct fw_rule {
	char *name;
	char *path; /* "input.rules[3]" */
	char *file;
	enum fw_action action;
	unsigned proto; /* FW_P_* bits, 0 = any */
	struct fw_port_range *dport, *sport;
	size_t ndport, nsport;
	struct fw_addr_list from, to; /* n == 0: any */
	char **iif, **oif;
	size_t niif, noif;
	bool has_limit;
	struct fw_rate limit;
	uint32_t burst; /* 0: kernel default */
	bool log;
	char *comment;
};

struct fw_chain {
	bool declared;
	enum fw_action def; /* FW_ACCEPT or FW_DROP */
	struct fw_rule *rules;
	size_t nrules;
};

struct fw_baseline {
	bool loopback, established, invalid, icmp;
};

struct fw_arena;

struct fw_policy {
	struct fw_arena *arena; /* owns the strings; arrays are malloc'ed */
	int version;
	char *host; /* NULL when absent */
	struct fw_group *groups;
	size_t ngroups;
	struct fw_chain chains[FW_NCHAINS];
	bool log_drops;
	struct fw_rate log_rate;
	struct fw_baseline baseline;
};

/*
 * A loader reads an included file. The policy module never opens files
 * itself unless given the default loader (policy_load_file).
 */
struct fw_source {
	const char *name; /* for diagnostics: as the user named it */
	const char *text;
	size_t len;
};

/*
 * Parses and validates a whole policy file and its includes (resolved
 * relative to the including file). Returns NULL with diagnostics in d.
 */
struct fw_policy *policy_load_file(const char *path, struct fw_diags *d);
/*
 * As policy_load_file, for fwctl check. The file is checked as an included
 * one (*included set) when as_included, or when it can be nothing else: it
 * holds "groups" and nothing more (no "version"). Then "version" is not
 * asked for, what only a main policy may set is an error, and the group
 * names it uses but does not define are left to the policy that includes
 * it.
 */
struct fw_policy *policy_check_file(const char *path, bool as_included,
				    struct fw_diags *d, bool *included);
/*
 * Parses a self-contained document (no "include" allowed), as the daemon
 * receives it. name is used in diagnostics.
 */
struct fw_policy *policy_parse(const char *name, const char *text, size_t len,
			       struct fw_diags *d);
/*
 * The self-contained document of a policy file and its includes, as fwctl
 * sends it: compact JSON, includes merged. NULL with diagnostics.
 */
char *policy_bundle_file(const char *path, struct fw_diags *d);
void policy_free(struct fw_policy *p);
/* Lets the groups' members go once the policy is planned (the names,
 * rules and options stay). */
void policy_drop_members(struct fw_policy *p);

const char *policy_chain_name(enum fw_chain_id c);
const char *policy_action_name(enum fw_action a);

#endif
