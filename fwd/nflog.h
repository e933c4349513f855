/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nflog: fwd's receiver of the packets the kernel hands to its nflog group
 * (default-policy drops, rate-limited in the kernel, when the policy sets
 * log_drops). Logs one line per packet and keeps the top dropped sources of
 * the last 10 minutes. Reads its own netlink socket; touches no ruleset.
 */
#ifndef FW_NFLOG_H
#define FW_NFLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "loop.h"

#define FW_TOP_WINDOW 600 /* seconds of history for top sources */

struct fw_nflog;

struct fw_top {
	char source[48];
	uint64_t packets;
};

/* Binds group and watches the socket on loop. NULL/errno (EBUSY: another
 * listener owns the group in this network namespace). */
struct fw_nflog *nflog_open(struct fw_loop *loop, uint16_t group);
void nflog_free(struct fw_nflog *n);
/* Up to max sources, most drops first, over the FW_TOP_WINDOW before now. */
size_t nflog_top(const struct fw_nflog *n, time_t now, struct fw_top *out,
		 size_t max);
/* Counts one drop from source at when (exposed for unit tests). */
void nflog_count(struct fw_nflog *n, const char *source, time_t when);
/* A receiver with no socket, for unit tests of the accounting. */
struct fw_nflog *nflog_new_detached(void);
/*
 * Describes one logged packet ("in=eth0 src=... dst=... proto=tcp
 * sport=1 dport=2") from its network header; writes the source address
 * into src. -1 if the payload is not an IPv4/IPv6 packet.
 */
int nflog_describe(const uint8_t *pkt, size_t len, const char *indev,
		   char *out, size_t outlen, char *src, size_t srclen);

#endif
