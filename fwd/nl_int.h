/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nl_int: what nl.c (socket, transaction) and nl_build.c (sets, rules)
 * share: a batch being built, with the plan object to blame for each
 * message. Private to the netlink backend.
 */
#ifndef FW_NL_INT_H
#define FW_NL_INT_H

#include <stdint.h>

#include <libmnl/libmnl.h>

#include "diag.h"
#include "nl.h"
#include "plan.h"

struct nftnl_batch;
struct nlmsghdr;

struct fw_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	int sndbuf, rcvbuf; /* what we last asked for */
	char *buf;	    /* NL_RECV_SIZE, requests and replies */
	uint32_t lock;	    /* table flags to hold: owner|persist or 0 */
};

/* A request header in nl->buf with the next sequence number. */
struct nlmsghdr *nl_req(struct fw_nl *nl, uint16_t type, uint16_t family,
			uint16_t flags);
/*
 * Sends a request and feeds each answer to cb until the kernel ends it.
 * -1/errno; EINTR when a dump was interrupted by a ruleset change.
 */
int nl_query(struct fw_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data);

/*
 * What the elements of fwd's verdict maps in table counted, summed per
 * named counter ("<chain>_<rule>", from the map's name and the element's
 * comment); elements that jump to a rule's chain are left out, as that
 * chain counts with the named counter itself. *v is malloc'ed, sorted by
 * name; free with nl_counters_free. 0, or -1/errno.
 */
int nl_map_counts(struct fw_nl *nl, const char *table,
		  struct fw_counter_val **v, size_t *n);
/* Sorts counter values by name, for nl_counter_find. */
void nl_counters_sort(struct fw_counter_val *v, size_t n);
/* The entry of name in a list sorted by name, or NULL. */
struct fw_counter_val *nl_counter_find(struct fw_counter_val *v, size_t n,
				       const char *name);
/* Whether a list sorted by name holds a name that begins with prefix. */
bool nl_counter_prefixed(const struct fw_counter_val *v, size_t n,
			 const char *prefix);

/* What the kernel's answer to one message is about. */
struct fw_nl_blame {
	const char *path; /* borrowed from the plan; NULL for none */
	char *what;	  /* malloc'ed: 'rule "ssh" of chain input' */
};

/* One transaction being built: consecutive sequence numbers from seq0. */
struct fw_nl_tx {
	struct nftnl_batch *batch;
	const struct fw_plan *plan;
	uint32_t seq0, seq;	   /* first and next sequence number */
	struct fw_nl_blame *blame; /* [seq - seq0] */
	size_t cap;
	uint32_t nacks;	 /* messages that carry NLM_F_ACK */
	uint32_t set_id; /* last NFTA_SET_ID handed out */
	uint32_t lock;	 /* nl->lock */
};

/*
 * Starts the next message of the batch (family inet, flags | NLM_F_ACK) and
 * records whom to blame for it: path (borrowed, NULL for none) and what
 * (taken). Finish it with nl_tx_end once the payload is in.
 */
struct nlmsghdr *nl_tx_msg(struct fw_nl_tx *tx, uint16_t type, uint16_t flags,
			   const char *path, char *what);
void nl_tx_end(struct fw_nl_tx *tx);

#define NL_RESTART 1 /* nl_tx_talk: the ruleset changed meanwhile */

/* A transaction for plan, from nl's next sequence number. */
void nl_tx_init(struct fw_nl_tx *tx, struct fw_nl *nl,
		const struct fw_plan *plan);
void nl_tx_free(struct fw_nl_tx *tx);
/* BATCH_BEGIN: the kernel refuses the batch if genid is not current. */
void nl_tx_begin(struct fw_nl_tx *tx, uint32_t genid);
void nl_tx_commit(struct fw_nl_tx *tx);
/* Sends the batch, reads every answer: 0, NL_RESTART or -1 (with d). */
int nl_tx_talk(struct fw_nl *nl, struct fw_nl_tx *tx, struct fw_diags *d);
/*
 * NEWOBJ (a counter starting at pb = {packets, bytes}, zero when NULL; an
 * existing one is left alone) or DELOBJ of counter name.
 */
void nl_tx_counter(struct fw_nl_tx *tx, uint16_t type, const char *name,
		   const char *path, const uint64_t *pb);

/* The set ID of the plan's named set name, or 0 when it has none. */
uint32_t nl_build_set_id(const struct fw_nl_tx *tx, const char *name);
/* Adds a named set of the plan and its elements; set id = index + 1. */
void nl_build_set(struct fw_nl_tx *tx, const struct fw_pset *s, uint32_t id);
/* Adds a verdict map of the plan with its elements; id as for sets;
 * carry as for nl_build_map_elems. */
void nl_build_map(struct fw_nl_tx *tx, const struct fw_pmap *m, uint32_t id,
		  const uint64_t (*carry)[2]);
/*
 * Adds (or with del, deletes) elements v[0..n) of an existing named
 * set (of an interval set, each as its start and end elements).
 */
void nl_build_set_elems(struct fw_nl_tx *tx, const struct fw_pset *s,
			const struct fw_elem *v, size_t n, bool del);
/* Deletes elements v[0..n) of existing map m (by key and key end). */
void nl_build_map_del(struct fw_nl_tx *tx, const struct fw_pmap *m,
		      const struct fw_pmelem *v, size_t n);
/* The concatenated key of an element: address, protocol, port. */
size_t nl_build_map_key(uint8_t *k, const struct fw_pmap *m, const uint8_t *a,
			uint8_t proto, uint16_t port);
/* Element x of map m as libnftnl's object holding only its key (and key
 * end, in an interval map): for deletions and lookups by key. */
struct nftnl_set_elem *nl_build_map_elem_key(const struct fw_pmap *m,
					     const struct fw_pmelem *x);
/*
 * Adds elements v[0..n) to map m (id 0 for a map that exists already);
 * carry, if not NULL, gives each element's initial packets and bytes.
 */
void nl_build_map_elems(struct fw_nl_tx *tx, const struct fw_pmap *m,
			uint32_t id, const struct fw_pmelem *v, size_t n,
			const uint64_t (*carry)[2]);
/*
 * Adds one rule of chain c, preceded by its anonymous sets. -1 with a
 * diagnostic in d when the plan holds something that cannot be encoded.
 */
int nl_build_rule(struct fw_nl_tx *tx, const struct fw_pchain *c,
		  const struct fw_prule *r, size_t idx, struct fw_diags *d);

/*
 * Calls fn for every element of a set-element dump message (an mnl_cb_t
 * body for the element dumps of nl_maps.c and nl_delta.c).
 */
void nl_each_elem(const struct nlmsghdr *nlh,
		  void (*fn)(void *arg, struct nftnl_set_elem *e), void *arg);

#endif
