// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nflog: binds fwd's nflog group over NETLINK_NETFILTER (libmnl), turns each
 * packet into one log line, and counts sources per minute for the last 10
 * minutes. Never sends anything but its own group's configuration.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "log.h"
#include "nfsock.h"
#include "nflog.h"
#include "util.h"

#define MAX_SOURCES 1024
#define BUCKETS (FW_TOP_WINDOW / 60)
#define COPY_RANGE 96 /* an IPv6 header and a TCP header */

struct source {
	char addr[48];
	int64_t minute[BUCKETS]; /* which minute each bucket counts */
	uint32_t count[BUCKETS];
};

struct fw_nflog {
	struct fw_nfsock sock;
	uint16_t group;
	struct source *src;
	size_t nsrc;
	unsigned long lost;
};

static uint64_t recent(const struct source *s, int64_t now_min)
{
	uint64_t sum = 0;

	for (int i = 0; i < BUCKETS; i++)
		if (s->minute[i] > now_min - BUCKETS &&
		    s->minute[i] <= now_min)
			sum += s->count[i];
	return sum;
}

static struct source *source_slot(struct fw_nflog *n, const char *addr,
				  int64_t now_min)
{
	size_t victim = 0;
	uint64_t least = UINT64_MAX;

	for (size_t i = 0; i < n->nsrc; i++)
		if (!strcmp(n->src[i].addr, addr))
			return &n->src[i];
	if (n->nsrc < MAX_SOURCES) {
		victim = n->nsrc++;
	} else {
		/* Full: the quietest source makes room. */
		for (size_t i = 0; i < n->nsrc; i++) {
			uint64_t r = recent(&n->src[i], now_min);

			if (r < least) {
				least = r;
				victim = i;
			}
		}
	}
	memset(&n->src[victim], 0, sizeof(n->src[victim]));
	snprintf(n->src[victim].addr, sizeof(n->src[victim].addr), "%s", addr);
	return &n->src[victim];
}

void nflog_count(struct fw_nflog *n, const char *source, time_t when)
{
	int64_t m = (int64_t)when / 60;
	struct source *s = source_slot(n, source, m);
	int b = (int)(m % BUCKETS);

	if (s->minute[b] != m) {
		s->minute[b] = m;
		s->count[b] = 0;
	}
	s->count[b]++;
}

static int top_cmp(const void *a, const void *b)
{
	const struct fw_top *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return strcmp(x->source, y->source);
}

size_t nflog_top(const struct fw_nflog *n, time_t now, struct fw_top *out,
		 size_t max)
{
	struct fw_top *all;
	size_t k = 0;

	if (!n || !n->nsrc)
		return 0;
	all = xcalloc(n->nsrc, sizeof(*all));
	for (size_t i = 0; i < n->nsrc; i++) {
		uint64_t r = recent(&n->src[i], (int64_t)now / 60);

		if (!r)
			continue;
		snprintf(all[k].source, sizeof(all[k].source), "%s",
			 n->src[i].addr);
		all[k++].packets = r;
	}
	qsort(all, k, sizeof(*all), top_cmp);
	if (k > max)
		k = max;
	memcpy(out, all, k * sizeof(*all));
	free(all);
	return k;
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

int nflog_describe(const uint8_t *pkt, size_t len, const char *indev,
		   char *out, size_t outlen, char *src, size_t srclen)
{
	char dst[INET6_ADDRSTRLEN], pbuf[8], ports[40] = "";
	size_t hl;
	uint8_t proto;

	if (len >= 20 && pkt[0] >> 4 == 4) {
		hl = (size_t)(pkt[0] & 0xf) * 4;
		proto = pkt[9];
		inet_ntop(AF_INET, pkt + 12, src, (socklen_t)srclen);
		inet_ntop(AF_INET, pkt + 16, dst, sizeof(dst));
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		hl = 40;
		proto = pkt[6];
		inet_ntop(AF_INET6, pkt + 8, src, (socklen_t)srclen);
		inet_ntop(AF_INET6, pkt + 24, dst, sizeof(dst));
	} else {
		return -1;
	}
	if ((proto == 6 || proto == 17) && len >= hl + 4)
		snprintf(ports, sizeof(ports), " sport=%u dport=%u",
			 (unsigned)pkt[hl] << 8 | pkt[hl + 1],
			 (unsigned)pkt[hl + 2] << 8 | pkt[hl + 3]);
	else if ((proto == 1 || proto == 58) && len >= hl + 2)
		snprintf(ports, sizeof(ports), " type=%u code=%u", pkt[hl],
			 pkt[hl + 1]);
	snprintf(out, outlen, "in=%s src=%s dst=%s proto=%s%s",
		 indev[0] ? indev : "-", src, dst,
		 proto_name(proto, pbuf, sizeof(pbuf)), ports);
	return 0;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFULA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_nflog *n = data;
	const struct nlattr *tb[NFULA_MAX + 1] = {0};
	char line[256], src[INET6_ADDRSTRLEN] = "", dev[IF_NAMESIZE] = "";
	const char *prefix = "fwd drop";

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb);
	if (!tb[NFULA_PAYLOAD])
		return MNL_CB_OK;
	if (tb[NFULA_PREFIX])
		prefix = mnl_attr_get_str(tb[NFULA_PREFIX]);
	if (tb[NFULA_IFINDEX_INDEV])
		if_indextoname(ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_INDEV])),
			       dev);
	if (nflog_describe(mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			   mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), dev,
			   line, sizeof(line), src, sizeof(src)) < 0)
		return MNL_CB_OK;
	/* The prefix ends in ": "; it names the chain. */
	log_info("%s%s", prefix, line);
	nflog_count(n, src, time(NULL));
	return MNL_CB_OK;
}

static void on_readable(void *arg, int fd, unsigned events)
{
	struct fw_nflog *n = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int rounds = 64; /* bounded: other clients must not wait on us */

	(void)fd;
	(void)events;
	while (rounds--) {
		ssize_t r = mnl_socket_recvfrom(n->sock.nl, buf, sizeof(buf));

		if (r < 0) {
			if (errno == ENOBUFS && !n->lost++)
				log_warn("drop log: the kernel dropped log "
					 "messages (ENOBUFS); counting goes on");
			return;
		}
		mnl_cb_run(buf, (size_t)r, 0, 0, packet_cb, n);
	}
}

static struct nlmsghdr *config_msg(char *buf, uint16_t group)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	return nlh;
}

/* Sends one configuration message and waits for its ACK. -1/errno. */
static int configure(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t r;

	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (r < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)r, nlh->nlmsg_seq,
			  mnl_socket_get_portid(nl), NULL, NULL) < 0
		       ? -1
		       : 0;
}

static int bind_group(struct mnl_socket *nl, uint16_t group)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd = {NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {htonl(COPY_RANGE),
					      NFULNL_COPY_PACKET, 0};
	struct nlmsghdr *nlh = config_msg(buf, group);

	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (configure(nl, nlh) < 0)
		return -1;
	nlh = config_msg(buf, group);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	/* Deliver each packet at once rather than batching for a second. */
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(0));
	return configure(nl, nlh);
}

struct fw_nflog *nflog_new_detached(void)
{
	struct fw_nflog *n = xcalloc(1, sizeof(*n));

	n->src = xcalloc(MAX_SOURCES, sizeof(*n->src));
	return n;
}

struct fw_nflog *nflog_open(struct fw_loop *loop, uint16_t group)
{
	struct fw_nflog *n = nflog_new_detached();
	int e;

	n->group = group;
	if (nfsock_open(&n->sock) < 0 || bind_group(n->sock.nl, group) < 0 ||
	    nfsock_watch(&n->sock, loop, on_readable, n) < 0)
		goto fail;
	return n;
fail:
	e = errno;
	nflog_free(n);
	errno = e;
	return NULL;
}

void nflog_free(struct fw_nflog *n)
{
	if (!n)
		return;
	nfsock_close(&n->sock);
	free(n->src);
	free(n);
}
