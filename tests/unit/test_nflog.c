// SPDX-License-Identifier: GPL-2.0-or-later
/* test_nflog: drop-log lines from packet headers, and top-source accounting
 * over a sliding 10-minute window. No sockets. */
#include <stdio.h>
#include <string.h>

#include "nflog.h"
#include "t.h"

static void describe(void)
{
	uint8_t v4[40] = {0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0,
			  203, 0, 113, 7, 192, 0, 2, 1,
			  0x30, 0x39, 0x0c, 0xea};
	uint8_t v6[48] = {0x60, 0, 0, 0, 0, 8, 17, 64};
	char line[256], src[64];

	T_OK(nflog_describe(v4, sizeof(v4), "eth0", line, sizeof(line), src,
			    sizeof(src)) == 0 &&
		     !strcmp(line, "in=eth0 src=203.0.113.7 dst=192.0.2.1 "
				   "proto=tcp sport=12345 dport=3306") &&
		     !strcmp(src, "203.0.113.7"),
	     "an IPv4 TCP packet is described: %s", line);
	v6[8] = 0x20, v6[9] = 0x01, v6[10] = 0x0d, v6[11] = 0xb8, v6[23] = 1;
	v6[24] = 0x20, v6[25] = 0x01, v6[26] = 0x0d, v6[27] = 0xb8, v6[39] = 2;
	v6[40] = 0, v6[41] = 53, v6[42] = 0, v6[43] = 53;
	T_OK(nflog_describe(v6, sizeof(v6), "", line, sizeof(line), src,
			    sizeof(src)) == 0 &&
		     !strcmp(line, "in=- src=2001:db8::1 dst=2001:db8::2 "
				   "proto=udp sport=53 dport=53"),
	     "an IPv6 UDP packet is described: %s", line);
	T_OK(nflog_describe(v4, 10, "x", line, sizeof(line), src, sizeof(src)) < 0,
	     "a truncated packet is refused");
	v4[0] = 0x75;
	T_OK(nflog_describe(v4, sizeof(v4), "x", line, sizeof(line), src,
			    sizeof(src)) < 0,
	     "a packet of unknown version is refused");
}

static void top(void)
{
	struct fw_nflog *n = nflog_new_detached();
	struct fw_top t[3];
	time_t now = 1700000000;
	size_t k;

	for (int i = 0; i < 5; i++)
		nflog_count(n, "10.0.0.1", now - 30);
	for (int i = 0; i < 3; i++)
		nflog_count(n, "10.0.0.2", now - 120);
	nflog_count(n, "10.0.0.3", now - 700); /* outside the window */
	k = nflog_top(n, now, t, 3);
	T_OK(k == 2 && !strcmp(t[0].source, "10.0.0.1") && t[0].packets == 5 &&
		     !strcmp(t[1].source, "10.0.0.2") && t[1].packets == 3,
	     "top sources, most first, over the last 10 minutes (%zu)", k);
	k = nflog_top(n, now + 600, t, 3);
	T_OK(k == 0, "ten minutes later they are forgotten");
	for (int i = 0; i < 2000; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.1.%d.%d", i / 256, i % 256);
		nflog_count(n, a, now);
	}
	nflog_count(n, "10.9.9.9", now);
	nflog_count(n, "10.9.9.9", now);
	k = nflog_top(n, now, t, 3);
	T_OK(k == 3 && !strcmp(t[0].source, "10.0.0.1") &&
		     !strcmp(t[2].source, "10.9.9.9") && t[2].packets == 2,
	     "a full table evicts the quietest sources, never the loud ones");
	nflog_free(n);
}

int main(void)
{
	describe();
	top();
	return t_done();
}
