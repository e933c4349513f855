// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nl: the netlink backend. One NETLINK_NETFILTER socket; reads what fwd's
 * table holds and replaces it in one batch, mapping kernel errors back to
 * plan paths. Never touches another table; never prints.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nl.h"
#include "nl_int.h"
#include "util.h"

#define NL_RECV_SIZE 65536		   /* > the kernel's 32 KiB dump skbs */
#define NL_PAGE_SIZE (128 * 1024)	   /* batch page */
#define NL_PAGE_OVERRUN (64 * 1024 + 4096) /* one maximal message */
#define NL_ACK_TRUESIZE 1024		   /* receive buffer per expected ACK */
#define NL_ACK_WAIT_MS 1000
#define NL_TRIES 5

/* What fwd's table holds now. */
struct have_chain {
	char *name, *type;
	bool base;
	uint32_t hook;
	int32_t prio;
};

struct have {
	struct have_chain *chains;
	size_t nchains, capc;
	char **sets, **ctrs;
	uint64_t (*ctrv)[2]; /* packets and bytes of ctrs[i] */
	/* What map elements counted per named counter; sorted by name. */
	struct fw_counter_val *carry;
	size_t ncarry;
	size_t nsets, caps, nctrs, capo;
	bool exists;
	uint32_t flags; /* the table's, when it exists */
};

static void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

/* --- socket ----------------------------------------------------------- */

void nl_close(struct fw_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl);
}

struct fw_nl *nl_open(void)
{
	struct fw_nl *nl = xcalloc(1, sizeof(*nl));
	int one = 1, e;

	nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* Error text from the kernel; errors without our message echoed. */
	if (mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one,
				  sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one,
				  sizeof(one)) < 0)
		goto fail;
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	nl->buf = xmalloc(NL_RECV_SIZE);
	return nl;
fail:
	e = errno;
	nl_close(nl);
	errno = e;
	return NULL;
}

/* Raises a socket buffer to at least want bytes (root may exceed rmem_max). */
static void nl_bufsize(struct fw_nl *nl, int force, int opt, int *cur,
		       size_t want)
{
	int fd = mnl_socket_get_fd(nl->sock);
	int v = want > (1u << 30) ? 1 << 30 : (int)want;

	if (v <= *cur)
		return;
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) < 0)
		return;
	*cur = v;
}

/* One datagram from the kernel into nl->buf; anyone else's is dropped. */
static ssize_t nl_recv(struct fw_nl *nl, int flags)
{
	struct sockaddr_nl sa;
	struct iovec iov = {nl->buf, NL_RECV_SIZE};
	struct msghdr msg = {.msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	for (;;) {
		msg.msg_namelen = sizeof(sa);
		n = recvmsg(mnl_socket_get_fd(nl->sock), &msg, flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (msg.msg_flags & MSG_TRUNC) {
			errno = EMSGSIZE;
			return -1;
		}
		if (msg.msg_namelen == sizeof(sa) && sa.nl_pid == 0)
			return n;
	}
}

/*
 * Runs the messages of one datagram that answer sequence numbers [lo, hi)
 * through mnl_cb_run2; stale answers to earlier requests are skipped. An
 * interrupted dump is noted in *intr and read to its end.
 */
static int nl_run(struct fw_nl *nl, size_t len, uint32_t lo, uint32_t hi,
		  mnl_cb_t cb, void *data, mnl_cb_t *ctl, bool *intr)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)nl->buf;
	int left = (int)len, ret = MNL_CB_OK;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_seq - lo >= hi - lo)
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			*intr = true;
			nlh->nlmsg_flags &= ~NLM_F_DUMP_INTR;
		}
		ret = mnl_cb_run2(nlh, nlh->nlmsg_len, 0, nl->portid, cb, data,
				  ctl, ctl ? NLMSG_MIN_TYPE : 0);
		if (ret <= MNL_CB_STOP)
			break;
	}
	return ret;
}

/* A request header in nl->buf with the next sequence number. */
struct nlmsghdr *nl_req(struct fw_nl *nl, uint16_t type, uint16_t family,
			uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(nl->buf, type, family, flags, ++nl->seq);
}

/*
 * Sends a request and feeds each answer to cb until the kernel ends it:
 * NLMSG_DONE for a dump, the ACK or error of anything else. -1/errno; EINTR
 * when a dump was interrupted by a ruleset change.
 */
int nl_query(struct fw_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	uint32_t seq = req->nlmsg_seq;
	bool intr = false;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -1;
	do {
		n = nl_recv(nl, 0);
		if (n < 0)
			return -1;
		ret =
		    nl_run(nl, (size_t)n, seq, seq + 1, cb, data, NULL, &intr);
		if (ret < 0)
			return -1;
	} while (ret > MNL_CB_STOP);
	if (intr) {
		errno = EINTR;
		return -1;
	}
	return 0;
}

/* --- small queries ---------------------------------------------------- */

static int genid_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = must(nftnl_gen_alloc());

	if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
		*(uint32_t *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int nl_genid(struct fw_nl *nl, uint32_t *genid)
{
	struct nlmsghdr *nlh = nl_req(nl, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK);

	*genid = 0;
	return nl_query(nl, nlh, genid_cb, genid);
}

struct found {
	int found;
	uint32_t flags;
};

static int found_cb(const struct nlmsghdr *nlh, void *data)
{
	struct found *f = data;
	struct nftnl_table *t = must(nftnl_table_alloc());

	f->found = 1;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    nftnl_table_is_set(t, NFTNL_TABLE_FLAGS))
		f->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

int nl_table_info(struct fw_nl *nl, const char *table, uint32_t *flags)
{
	struct nlmsghdr *nlh =
	    nl_req(nl, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK);
	struct nftnl_table *t = must(nftnl_table_alloc());
	struct found f = {0, 0};
	int r;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r = nl_query(nl, nlh, found_cb, &f);
	if (r < 0)
		return errno == ENOENT ? 0 : -1;
	if (flags)
		*flags = f.flags;
	return f.found;
}

int nl_table_exists(struct fw_nl *nl, const char *table)
{
	return nl_table_info(nl, table, NULL);
}

void nl_set_lock(struct fw_nl *nl, uint32_t flags)
{
	nl->lock = flags;
}

/* A dump of one kind of object of table, filtered by the kernel. */
static struct nlmsghdr *obj_dump_req(struct fw_nl *nl, const char *table)
{
	struct nlmsghdr *nlh =
	    nl_req(nl, NFT_MSG_GETOBJ, NFPROTO_INET, NLM_F_DUMP);
	struct nftnl_obj *o = must(nftnl_obj_alloc());

	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, table);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	return nlh;
}

struct counters {
	const char *table;
	struct fw_counter_val *v;
	size_t n, cap;
};

static int counter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct counters *c = data;
	struct nftnl_obj *o = must(nftnl_obj_alloc());
	struct fw_counter_val *cv;

	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER &&
	    !strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), c->table)) {
		xgrow((void **)&c->v, &c->cap, c->n, sizeof(*c->v));
		cv = &c->v[c->n++];
		cv->name = xstrdup(nftnl_obj_get_str(o, NFTNL_OBJ_NAME));
		cv->packets = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		cv->bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

/*
 * A rule planned into a map counts in its elements: added to its named
 * counter when it has one (a jump to its own chain), else a reading of its
 * own under the same name. Takes the names of m.
 */
static void add_map_counts(struct counters *c, struct fw_counter_val *m,
			   size_t nm)
{
	size_t named = c->n;

	nl_counters_sort(c->v, named);
	for (size_t i = 0; i < nm; i++) {
		struct fw_counter_val *x =
		    nl_counter_find(c->v, named, m[i].name);

		if (x) {
			x->packets += m[i].packets;
			x->bytes += m[i].bytes;
			continue;
		}
		xgrow((void **)&c->v, &c->cap, c->n, sizeof(*c->v));
		c->v[c->n++] = m[i];
		m[i].name = NULL;
	}
}

int nl_counters(struct fw_nl *nl, const char *table, struct fw_counter_val **v,
		size_t *n)
{
	struct counters c = {table, NULL, 0, 0};
	struct fw_counter_val *m = NULL;
	size_t nm = 0;
	int e;

	if (nl_query(nl, obj_dump_req(nl, table), counter_cb, &c) < 0 ||
	    nl_map_counts(nl, table, &m, &nm) < 0) {
		e = errno;
		nl_counters_free(c.v, c.n);
		errno = e;
		return -1;
	}
	add_map_counts(&c, m, nm);
	nl_counters_free(m, nm);
	*v = c.v;
	*n = c.n;
	return 0;
}

void nl_counters_free(struct fw_counter_val *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* --- what the table holds now ----------------------------------------- */

struct have_ctx {
	struct have *h;
	const char *table;
};

static bool in_table(const char *t, const char *table)
{
	return t && !strcmp(t, table);
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct have_ctx *hc = data;
	struct have *h = hc->h;
	struct nftnl_chain *c = must(nftnl_chain_alloc());
	struct have_chain *hv;

	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    in_table(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), hc->table)) {
		xgrow((void **)&h->chains, &h->capc, h->nchains,
		      sizeof(*h->chains));
		hv = &h->chains[h->nchains++];
		hv->name = xstrdup(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
		hv->base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
		hv->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
		hv->prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
		hv->type =
		    nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE)
			? xstrdup(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE))
			: NULL;
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

/* Named sets only: anonymous ones go with the rules that own them. */
static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct have_ctx *hc = data;
	struct have *h = hc->h;
	struct nftnl_set *s = must(nftnl_set_alloc());

	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    in_table(nftnl_set_get_str(s, NFTNL_SET_TABLE), hc->table) &&
	    !(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)) {
		xgrow((void **)&h->sets, &h->caps, h->nsets, sizeof(char *));
		h->sets[h->nsets++] =
		    xstrdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct have_ctx *hc = data;
	struct have *h = hc->h;
	struct nftnl_obj *o = must(nftnl_obj_alloc());

	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    in_table(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), hc->table) &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER) {
		size_t cap = h->capo;

		xgrow((void **)&h->ctrs, &h->capo, h->nctrs, sizeof(char *));
		if (h->capo != cap)
			h->ctrv = xrealloc(h->ctrv, h->capo * sizeof(*h->ctrv));
		h->ctrv[h->nctrs][0] = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		h->ctrv[h->nctrs][1] = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
		h->ctrs[h->nctrs++] =
		    xstrdup(nftnl_obj_get_str(o, NFTNL_OBJ_NAME));
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

static void have_free(struct have *h)
{
	for (size_t i = 0; i < h->nchains; i++) {
		free(h->chains[i].name);
		free(h->chains[i].type);
	}
	for (size_t i = 0; i < h->nsets; i++)
		free(h->sets[i]);
	for (size_t i = 0; i < h->nctrs; i++)
		free(h->ctrs[i]);
	free(h->chains);
	free(h->sets);
	free(h->ctrs);
	free(h->ctrv);
	nl_counters_free(h->carry, h->ncarry);
	memset(h, 0, sizeof(*h));
}

/* Chains, named sets and counters of table: one dump each. -1/errno. */
static int have_read(struct fw_nl *nl, const char *table, struct have *h)
{
	struct have_ctx hc = {h, table};
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	int r = nl_table_info(nl, table, &h->flags);

	if (r <= 0)
		return r;
	h->exists = true;
	/* The kernel filters chain dumps by family only. */
	nlh = nl_req(nl, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP);
	if (nl_query(nl, nlh, chain_cb, &hc) < 0)
		return -1;
	nlh = nl_req(nl, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP);
	s = must(nftnl_set_alloc());
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	if (nl_query(nl, nlh, set_cb, &hc) < 0)
		return -1;
	if (nl_query(nl, obj_dump_req(nl, table), obj_cb, &hc) < 0)
		return -1;
	/* Map elements are replaced with the maps: keep what they counted. */
	return nl_map_counts(nl, table, &h->carry, &h->ncarry);
}

/* --- the transaction -------------------------------------------------- */

static void tx_blame(struct fw_nl_tx *tx, const char *path, char *what)
{
	size_t i = tx->seq - tx->seq0;

	xgrow((void **)&tx->blame, &tx->cap, i, sizeof(*tx->blame));
	tx->blame[i].path = path;
	tx->blame[i].what = what;
}

struct nlmsghdr *nl_tx_msg(struct fw_nl_tx *tx, uint16_t type, uint16_t flags,
			   const char *path, char *what)
{
	tx_blame(tx, path, what);
	tx->nacks++;
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(tx->batch), type,
				     NFPROTO_INET, flags | NLM_F_ACK,
				     tx->seq++);
}

void nl_tx_end(struct fw_nl_tx *tx)
{
	if (nftnl_batch_update(tx->batch) < 0)
		abort(); /* out of memory for a new page */
}

void nl_tx_init(struct fw_nl_tx *tx, struct fw_nl *nl,
		    const struct fw_plan *plan)
{
	memset(tx, 0, sizeof(*tx));
	tx->batch = must(nftnl_batch_alloc(NL_PAGE_SIZE, NL_PAGE_OVERRUN));
	tx->plan = plan;
	tx->lock = nl->lock;
	tx->seq0 = tx->seq = nl->seq + 1;
	/* named sets take 1..nsets, maps the ids after them */
	tx->set_id = (uint32_t)(plan->nsets + plan->nmaps);
}

void nl_tx_free(struct fw_nl_tx *tx)
{
	for (uint32_t i = 0; i < tx->seq - tx->seq0; i++)
		free(tx->blame[i].what);
	free(tx->blame);
	nftnl_batch_free(tx->batch);
}

/*
 * BATCH_BEGIN carrying the generation the dumps were taken at: the kernel
 * refuses the batch with ERESTART if anything changed since.
 */
void nl_tx_begin(struct fw_nl_tx *tx, uint32_t genid)
{
	struct nlmsghdr *nlh;

	tx_blame(tx, NULL, xstrdup("the batch"));
	nlh = nftnl_batch_begin(nftnl_batch_buffer(tx->batch), tx->seq++);
	mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	nl_tx_end(tx);
}

void nl_tx_commit(struct fw_nl_tx *tx)
{
	tx_blame(tx, NULL, xstrdup("the batch"));
	nftnl_batch_end(nftnl_batch_buffer(tx->batch), tx->seq++);
	nl_tx_end(tx);
}

/*
 * The flags to send for the table: the lock when creating it; for an
 * existing table, its own flags (the kernel cannot add persist to a table
 * later), with ownership taken back when it is persistent.
 */
static uint32_t table_flags(const struct fw_nl_tx *tx, bool exists,
			    uint32_t now)
{
	if (!exists)
		return tx->lock;
	if (tx->lock && (now & NFT_TABLE_F_PERSIST))
		return now | NFT_TABLE_F_OWNER;
	return now;
}

static void tx_table(struct fw_nl_tx *tx, bool exists, uint32_t now)
{
	const char *name = tx->plan->table;
	struct nftnl_table *t = must(nftnl_table_alloc());
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, table_flags(tx, exists, now));
	nlh = nl_tx_msg(tx, NFT_MSG_NEWTABLE, NLM_F_CREATE, name,
			xasprintf("table %s", name));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nl_tx_end(tx);
	nftnl_table_free(t);
}

/* NEWCHAIN (creates, or updates a base chain's policy) or DELCHAIN. */
static void tx_chain(struct fw_nl_tx *tx, uint16_t type, const char *name,
		     const struct fw_pchain *pc, char *what)
{
	struct nftnl_chain *c = must(nftnl_chain_alloc());
	struct nlmsghdr *nlh;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, tx->plan->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (pc && pc->base) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)pc->hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, pc->priority);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY,
				    pc->policy_drop ? NF_DROP : NF_ACCEPT);
	}
	nlh = nl_tx_msg(tx, type, pc ? NLM_F_CREATE : 0, name, what);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nl_tx_end(tx);
	nftnl_chain_free(c);
}

/* DELRULE naming only the chain: all of its rules. */
static void tx_flush(struct fw_nl_tx *tx, const char *chain)
{
	struct nftnl_rule *r = must(nftnl_rule_alloc());
	struct nlmsghdr *nlh;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, tx->plan->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nlh = nl_tx_msg(tx, NFT_MSG_DELRULE, 0, chain,
			xasprintf("flush of chain %s", chain));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nl_tx_end(tx);
	nftnl_rule_free(r);
}

static void tx_del_set(struct fw_nl_tx *tx, const char *name)
{
	struct nftnl_set *s = must(nftnl_set_alloc());
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, tx->plan->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nl_tx_msg(tx, NFT_MSG_DELSET, 0, name,
			xasprintf("deletion of set \"%s\"", name));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nl_tx_end(tx);
	nftnl_set_free(s);
}

/*
 * NEWOBJ without NLM_F_EXCL leaves an existing counter's values alone; a
 * new one starts at pb (packets, bytes), or zero when pb is NULL.
 */
void nl_tx_counter(struct fw_nl_tx *tx, uint16_t type, const char *name,
			 const char *path, const uint64_t *pb)
{
	struct nftnl_obj *o = must(nftnl_obj_alloc());
	struct nlmsghdr *nlh;
	bool add = type == NFT_MSG_NEWOBJ;

	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, tx->plan->table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	if (add) {
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, pb ? pb[0] : 0);
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, pb ? pb[1] : 0);
	}
	nlh = nl_tx_msg(tx, type, add ? NLM_F_CREATE : 0, path ? path : name,
			add ? xasprintf("counter \"%s\"", name)
			    : xasprintf("deletion of counter \"%s\"", name));
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nl_tx_end(tx);
	nftnl_obj_free(o);
}

static void tx_counter(struct fw_nl_tx *tx, uint16_t type, const char *name,
		       const char *path)
{
	nl_tx_counter(tx, type, name, path, NULL);
}

/* Names of a plan's chains or counters, sorted, for lookups in O(log n). */
struct name_idx {
	const char **v;
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_chain(const void *a, const void *b)
{
	return strcmp((*(const struct fw_pchain *const *)a)->name,
		      (*(const struct fw_pchain *const *)b)->name);
}

/* The plan's chains sorted by name (x->v holds chain pointers). */
static void idx_chains(struct name_idx *x, const struct fw_plan *p)
{
	const struct fw_pchain **v = xmalloc((p->nchains + 1) * sizeof(*v));

	for (size_t i = 0; i < p->nchains; i++)
		v[i] = &p->chains[i];
	qsort(v, p->nchains, sizeof(*v), cmp_chain);
	x->n = p->nchains;
	x->v = (const char **)v;
}

static void idx_counters(struct name_idx *x, const struct fw_plan *p)
{
	x->n = p->ncounters;
	x->v = xmalloc((x->n + 1) * sizeof(*x->v));
	x->n = 0;
	for (size_t i = 0; i < p->ncounters; i++)
		if (!p->counters[i].in_elems)
			x->v[x->n++] = p->counters[i].name;
	qsort(x->v, x->n, sizeof(*x->v), cmp_str);
}

static bool idx_has(const struct name_idx *x, const char *name)
{
	return x->n && bsearch(&name, x->v, x->n, sizeof(*x->v), cmp_str);
}

static const struct fw_pchain *plan_chain(const struct name_idx *x,
					  const char *name)
{
	struct fw_pchain key = {.name = name};
	const struct fw_pchain *kp = &key, *const *hit;

	hit = x->n ? bsearch(&kp, x->v, x->n, sizeof(kp), cmp_chain) : NULL;
	return hit ? *hit : NULL;
}

/* Whether NEWCHAIN can update chain h in place into pc. */
static bool chain_compatible(const struct have_chain *h,
			     const struct fw_pchain *pc)
{
	if (h->base != pc->base)
		return false;
	if (!h->base)
		return true;
	return h->hook == (uint32_t)pc->hook && h->prio == pc->priority &&
	       h->type && !strcmp(h->type, "filter");
}

/*
 * Empties the table but for counters the plan keeps: every chain flushed
 * first, so that nothing references the sets, chains and counters that
 * are deleted after.
 */
static void tx_clear(struct fw_nl_tx *tx, const struct have *h)
{
	const struct fw_plan *p = tx->plan;
	struct name_idx chains, ctrs;

	idx_chains(&chains, p);
	idx_counters(&ctrs, p);
	for (size_t i = 0; i < h->nchains; i++)
		tx_flush(tx, h->chains[i].name);
	for (size_t i = 0; i < h->nsets; i++)
		tx_del_set(tx, h->sets[i]);
	for (size_t i = 0; i < h->nchains; i++) {
		const struct have_chain *hc = &h->chains[i];
		const struct fw_pchain *pc = plan_chain(&chains, hc->name);

		if (!pc || !chain_compatible(hc, pc))
			tx_chain(tx, NFT_MSG_DELCHAIN, hc->name, NULL,
				 xasprintf("deletion of chain %s", hc->name));
	}
	for (size_t i = 0; i < h->nctrs; i++)
		if (!idx_has(&ctrs, h->ctrs[i]))
			tx_counter(tx, NFT_MSG_DELOBJ, h->ctrs[i], NULL);
	free(chains.v);
	free(ctrs.v);
}

static int cmp_cv(const void *a, const void *b)
{
	return strcmp(((const struct fw_counter_val *)a)->name,
		      ((const struct fw_counter_val *)b)->name);
}

/* The kernel's counters sorted by name (names borrowed from h). */
static struct fw_counter_val *have_sorted(const struct have *h)
{
	struct fw_counter_val *v = xcalloc(h->nctrs + 1, sizeof(*v));

	for (size_t i = 0; i < h->nctrs; i++) {
		v[i].name = h->ctrs[i];
		v[i].packets = h->ctrv[i][0];
		v[i].bytes = h->ctrv[i][1];
	}
	qsort(v, h->nctrs, sizeof(*v), cmp_cv);
	return v;
}

/*
 * What the rule of counter name counted before this transaction (its old
 * named counter and its old map elements), taken out of h and have so
 * that it is carried once.
 */
static bool take_old(struct have *h, struct fw_counter_val *have,
		     const char *name, uint64_t pb[2])
{
	struct fw_counter_val *cv = nl_counter_find(h->carry, h->ncarry, name);
	struct fw_counter_val *old = nl_counter_find(have, h->nctrs, name);

	pb[0] = pb[1] = 0;
	if (cv) {
		pb[0] += cv->packets;
		pb[1] += cv->bytes;
		cv->packets = cv->bytes = 0;
	}
	if (old) {
		pb[0] += old->packets;
		pb[1] += old->bytes;
		old->packets = old->bytes = 0;
	}
	return pb[0] || pb[1];
}

/*
 * The plan's counter objects. What the old maps' elements counted for a
 * rule is added to its named counter (replaced with the sum: counters
 * cannot be added to), so that replacing the maps loses no counts.
 */
static void tx_counters(struct fw_nl_tx *tx, struct have *h,
			struct fw_counter_val *have)
{
	const struct fw_plan *p = tx->plan;

	for (size_t i = 0; i < p->ncounters; i++) {
		const struct fw_pcounter *c = &p->counters[i];
		bool existed = nl_counter_find(have, h->nctrs, c->name);
		const struct fw_counter_val *cv =
		    nl_counter_find(h->carry, h->ncarry, c->name);
		uint64_t pb[2];

		if (c->in_elems)
			continue;
		if (!cv || (!cv->packets && !cv->bytes) ||
		    !take_old(h, have, c->name, pb)) {
			/* Without NLM_F_EXCL an existing counter stays. */
			tx_counter(tx, NFT_MSG_NEWOBJ, c->name, c->path);
			continue;
		}
		if (existed)
			tx_counter(tx, NFT_MSG_DELOBJ, c->name, c->path);
		nl_tx_counter(tx, NFT_MSG_NEWOBJ, c->name, c->path, pb);
	}
}

/*
 * The initial counts of map m's elements, or NULL for none: a rule that
 * counts in its elements starts its first element at what it counted
 * before (in its old elements, or in its old named counter).
 */
static uint64_t (*map_carry(struct have *h, struct fw_counter_val *have,
			    const struct fw_pmap *m))[2]
{
	uint64_t(*v)[2] = NULL;
	const char *cname = policy_chain_name(m->chain);
	char *prefix = xasprintf("%s_", cname);
	/* Nothing of this chain's rules to carry (a first apply): no
	 * name to make and look up for each element. */
	bool any = nl_counter_prefixed(h->carry, h->ncarry, prefix) ||
		   nl_counter_prefixed(have, h->nctrs, prefix);

	free(prefix);
	if (!any)
		return NULL;
	for (size_t i = 0; i < m->nelems; i++) {
		char *name;
		uint64_t pb[2];

		if (m->elems[i].verdict == FW_V_JUMP)
			continue;
		name = xasprintf("%s_%s", cname, m->elems[i].rule);
		if (take_old(h, have, name, pb)) {
			if (!v)
				v = xcalloc(m->nelems, sizeof(*v));
			v[i][0] = pb[0];
			v[i][1] = pb[1];
		}
		free(name);
	}
	return v;
}

static int tx_fill(struct fw_nl_tx *tx, struct have *h, struct fw_diags *d)
{
	const struct fw_plan *p = tx->plan;
	struct fw_counter_val *have = have_sorted(h);
	int r = 0;

	tx_table(tx, h->exists, h->flags);
	tx_clear(tx, h);
	tx_counters(tx, h, have);
	for (size_t i = 0; i < p->nsets; i++)
		nl_build_set(tx, &p->sets[i], (uint32_t)i + 1);
	for (size_t i = 0; i < p->nchains; i++)
		tx_chain(tx, NFT_MSG_NEWCHAIN, p->chains[i].name, &p->chains[i],
			 xasprintf("chain %s", p->chains[i].name));
	/* After the chains that their elements jump to. */
	for (size_t i = 0; i < p->nmaps; i++) {
		uint64_t(*carry)[2] = map_carry(h, have, &p->maps[i]);

		nl_build_map(tx, &p->maps[i], (uint32_t)(p->nsets + i) + 1,
			     carry);
		free(carry);
	}
	free(have);
	for (size_t i = 0; i < p->nchains; i++) {
		const struct fw_pchain *pc = &p->chains[i];

		/* On to the end: every rule that cannot be encoded is named. */
		for (size_t j = 0; j < pc->nrules; j++)
			if (nl_build_rule(tx, pc, &pc->rules[j], j, d) < 0)
				r = -1;
	}
	return r;
}

/* --- sending and reading the answers ---------------------------------- */

/* Errors of one kind past this many are counted, not listed: a batch
 * the kernel refuses as a whole (EPERM on a locked table) would otherwise
 * name every message in it. */
#define NL_SAME_ERRORS 3

struct acks {
	struct fw_nl_tx *tx;
	struct fw_diags *d;
	uint32_t acked, failed;
	bool restart;
	int last_error;		 /* errno of the errors listed so far */
	uint32_t same, repeats; /* listed with it, and left out */
};

/* The kernel's own words (NLMSGERR_ATTR_MSG), or NULL. */
static const char *ext_ack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (mnl_nlmsg_size(off) > nlh->nlmsg_len)
		return NULL;
	mnl_attr_for_each(a, nlh, MNL_ALIGN(off)) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(a);
	}
	return NULL;
}

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct acks *st = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct fw_nl_blame *b;
	const char *msg;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return MNL_CB_OK;
	if (e->error == 0) {
		st->acked++;
		return MNL_CB_OK;
	}
	st->failed++;
	b = &st->tx->blame[nlh->nlmsg_seq - st->tx->seq0];
	if (nlh->nlmsg_seq == st->tx->seq0 && e->error == -ERESTART) {
		st->restart = true;
		return MNL_CB_OK;
	}
	if (e->error == st->last_error && st->same >= NL_SAME_ERRORS) {
		st->repeats++;
		return MNL_CB_OK;
	}
	st->same = e->error == st->last_error ? st->same + 1 : 1;
	st->last_error = e->error;
	msg = ext_ack_msg(nlh);
	/* What nf_tables answers for a table that another process owns,
	 * and to a process without CAP_NET_ADMIN. */
	diags_add(st->d, NULL, b->path, "kernel refused %s: %s%s%s%s%s%s%s",
		  b->what, strerror(-e->error), msg ? " (" : "",
		  msg ? msg : "", msg ? ")" : "",
		  e->error == -EPERM ? "; table inet " : "",
		  e->error == -EPERM ? st->tx->plan->table : "",
		  e->error == -EPERM ? " may be another process's (a second "
				       "fwd?), or fwd lacks CAP_NET_ADMIN"
				     : "");
	return MNL_CB_OK;
}

static int nl_send_batch(struct fw_nl *nl, struct fw_nl_tx *tx)
{
	int n = nftnl_batch_iovec_len(tx->batch);
	struct iovec *iov = xcalloc((size_t)n, sizeof(*iov));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct msghdr msg = {.msg_name = &sa,
			     .msg_namelen = sizeof(sa),
			     .msg_iov = iov,
			     .msg_iovlen = (size_t)n};
	size_t len = 0;
	ssize_t r;

	nftnl_batch_iovec(tx->batch, iov, (uint32_t)n);
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	nl_bufsize(nl, SO_SNDBUFFORCE, SO_SNDBUF, &nl->sndbuf, len);
	nl_bufsize(nl, SO_RCVBUFFORCE, SO_RCVBUF, &nl->rcvbuf,
		   (size_t)tx->nacks * NL_ACK_TRUESIZE);
	r = sendmsg(mnl_socket_get_fd(nl->sock), &msg, 0);
	free(iov);
	return r < 0 ? -1 : 0;
}

/*
 * The kernel handles the whole batch inside sendmsg, so every answer is
 * queued when it returns; wait briefly only if some are still missing.
 */
static int nl_drain(struct fw_nl *nl, struct acks *st)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = ack_cb};
	struct pollfd pfd = {mnl_socket_get_fd(nl->sock), POLLIN, 0};
	bool intr = false;
	ssize_t n;

	for (;;) {
		n = nl_recv(nl, MSG_DONTWAIT);
		if (n >= 0) {
			nl_run(nl, (size_t)n, st->tx->seq0, st->tx->seq, NULL,
			       st, ctl, &intr);
			continue;
		}
		if (errno == ENOBUFS)
			continue; /* answers lost; counted below */
		if (errno != EAGAIN)
			return -1;
		if (st->failed || st->acked >= st->tx->nacks)
			return 0;
		if (poll(&pfd, 1, NL_ACK_WAIT_MS) <= 0)
			return 0;
	}
}

int nl_tx_talk(struct fw_nl *nl, struct fw_nl_tx *tx, struct fw_diags *d)
{
	struct acks st = {tx, d, 0, 0, false, 0, 0, 0};

	nl->seq = tx->seq - 1;
	if (nl_send_batch(nl, tx) < 0) {
		diags_add(d, NULL, "", "nl_apply: sendmsg: %s",
			  strerror(errno));
		return -1;
	}
	if (nl_drain(nl, &st) < 0) {
		diags_add(d, NULL, "", "nl_apply: recvmsg: %s",
			  strerror(errno));
		return -1;
	}
	if (st.restart)
		return NL_RESTART;
	if (st.repeats)
		diags_add(d, NULL, "",
			  "and %u more parts of the batch were refused for "
			  "the same reason",
			  st.repeats);
	if (st.failed)
		return -1;
	if (st.acked < tx->nacks) {
		diags_add(d, NULL, "",
			  "the kernel acknowledged %u of %u messages; the "
			  "table may or may not have been replaced",
			  st.acked, tx->nacks);
		return -1;
	}
	return 0;
}

static int nl_apply_once(struct fw_nl *nl, const struct fw_plan *plan,
			 unsigned flags, struct fw_diags *d)
{
	struct have h = {0};
	struct fw_nl_tx tx;
	uint32_t genid;
	int r;

	if (nl_genid(nl, &genid) < 0) {
		diags_add(d, NULL, "", "nl_apply: reading the generation: %s",
			  strerror(errno));
		return -1;
	}
	if (have_read(nl, plan->table, &h) < 0) {
		r = errno == EINTR ? NL_RESTART : -1;
		if (r < 0)
			diags_add(d, NULL, "", "nl_apply: reading table %s: %s",
				  plan->table, strerror(errno));
		have_free(&h);
		return r;
	}
	nl_tx_init(&tx, nl, plan);
	nl_tx_begin(&tx, genid);
	r = tx_fill(&tx, &h, d);
	if (r == 0 && !(flags & FW_NL_DRY_RUN))
		nl_tx_commit(&tx);
	if (r == 0)
		r = nl_tx_talk(nl, &tx, d);
	nl_tx_free(&tx);
	have_free(&h);
	return r;
}

int nl_apply(struct fw_nl *nl, const struct fw_plan *plan, unsigned flags,
	     struct fw_diags *d)
{
	for (int i = 0; i < NL_TRIES; i++) {
		int r = nl_apply_once(nl, plan, flags, d);

		if (r != NL_RESTART)
			return r;
	}
	diags_add(d, NULL, "",
		  "the ruleset kept changing while fwd replaced table %s; "
		  "gave up after %d tries",
		  plan->table, NL_TRIES);
	return -1;
}

/* A transaction holding only NEWTABLE for table, with the given lock. */
static int table_only(struct fw_nl *nl, const char *table, uint32_t lock,
		      bool commit, struct fw_diags *d)
{
	struct fw_plan p = {.table = table};
	struct fw_nl_tx tx;
	uint32_t flags = 0, genid;
	int exists = nl_table_info(nl, table, &flags), r;

	if (exists < 0 || nl_genid(nl, &genid) < 0)
		return -1;
	nl_tx_init(&tx, nl, &p);
	tx.lock = lock;
	nl_tx_begin(&tx, genid);
	tx_table(&tx, exists, flags);
	if (commit)
		nl_tx_commit(&tx);
	r = nl_tx_talk(nl, &tx, d);
	nl_tx_free(&tx);
	return r == 0 ? 0 : -1;
}

int nl_claim(struct fw_nl *nl, const char *table, struct fw_diags *d)
{
	if (!nl->lock)
		return 0;
	return table_only(nl, table, nl->lock, true, d);
}

int nl_lock_supported(struct fw_nl *nl)
{
	struct fw_diags d;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "fwd_probe_%d", (int)getpid());
	diags_init(&d);
	r = table_only(nl, name, FW_NL_LOCK, false, &d);
	diags_free(&d);
	return r == 0;
}
