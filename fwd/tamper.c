// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tamper: a NETLINK_NETFILTER socket subscribed to nftables events. A
 * transaction's events end with NEWGEN, which names the process that made
 * it; if any event of it touched fwd's table and the process is not fwd,
 * the callback runs. Lost events (ENOBUFS) are reported as a tamper of
 * unknown origin, so that the caller resynchronises.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "log.h"
#include "nfsock.h"
#include "tamper.h"
#include "util.h"

struct fw_tamper {
	struct fw_nfsock sock;
	char *table;
	fw_tamper_cb cb;
	void *arg;
	bool touched; /* an event of the current transaction hit our table */
};

/* Every nftables object message carries its table's name as attribute 1
 * (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, ...). */
#define ATTR_TABLE 1

static int gen_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= NFTA_GEN_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static void on_newgen(struct fw_tamper *t, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_GEN_MAX + 1] = {0};
	uint32_t pid = 0;
	const char *comm = "";

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, tb);
	if (tb[NFTA_GEN_PROC_PID])
		pid = ntohl(mnl_attr_get_u32(tb[NFTA_GEN_PROC_PID]));
	if (tb[NFTA_GEN_PROC_NAME])
		comm = mnl_attr_get_str(tb[NFTA_GEN_PROC_NAME]);
	if (t->touched && pid != (uint32_t)getpid())
		t->cb(t->arg, pid, comm);
	t->touched = false;
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_tamper *t = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	int type = NFNL_MSG_TYPE(nlh->nlmsg_type);

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return MNL_CB_OK;
	if (type == NFT_MSG_NEWGEN) {
		on_newgen(t, nlh);
		return MNL_CB_OK;
	}
	if (g->nfgen_family != NFPROTO_INET)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) == ATTR_TABLE &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
		    !strcmp(mnl_attr_get_str(a), t->table))
			t->touched = true;
	}
	return MNL_CB_OK;
}

static void on_readable(void *arg, int fd, unsigned events)
{
	struct fw_tamper *t = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int rounds = 64;

	(void)fd;
	(void)events;
	while (rounds--) {
		ssize_t r = recv(mnl_socket_get_fd(t->sock.nl), buf, sizeof(buf), 0);

		if (r < 0 && errno == ENOBUFS) {
			/* Events were lost: whatever happened, resync. */
			t->touched = false;
			t->cb(t->arg, 0, "");
			continue;
		}
		if (r <= 0)
			return;
		mnl_cb_run(buf, (size_t)r, 0, 0, event_cb, t);
	}
}

struct fw_tamper *tamper_open(struct fw_loop *loop, const char *table,
			      fw_tamper_cb cb, void *arg)
{
	struct fw_tamper *t = xcalloc(1, sizeof(*t));
	int group = NFNLGRP_NFTABLES, e;

	t->table = xstrdup(table);
	t->cb = cb;
	t->arg = arg;
	if (nfsock_open(&t->sock) < 0 ||
	    mnl_socket_setsockopt(t->sock.nl, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0 ||
	    nfsock_watch(&t->sock, loop, on_readable, t) < 0)
		goto fail;
	return t;
fail:
	e = errno;
	tamper_free(t);
	errno = e;
	return NULL;
}

void tamper_free(struct fw_tamper *t)
{
	if (!t)
		return;
	nfsock_close(&t->sock);
	free(t->table);
	free(t);
}

static void membership(struct fw_tamper *t, int opt)
{
	int group = NFNLGRP_NFTABLES;

	if (t && mnl_socket_setsockopt(t->sock.nl, opt, &group, sizeof(group)) < 0)
		log_warn_errno("nftables events: group membership");
}

void tamper_pause(struct fw_tamper *t)
{
	membership(t, NETLINK_DROP_MEMBERSHIP);
}

void tamper_resume(struct fw_tamper *t)
{
	membership(t, NETLINK_ADD_MEMBERSHIP);
}
