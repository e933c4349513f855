/* SPDX-License-Identifier: GPL-2.0-or-later */
/* addr: IPv4/IPv6 addresses, prefixes and ranges as inclusive intervals. */
#ifndef FW_ADDR_H
#define FW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/*
 * Parses "10.0.0.5", "10.0.0.0/24", "2001:db8::/64", "10.0.0.5-10.0.0.9".
 * Returns 0, or -1 with a message (malloc'ed) in *err; *err is NULL when the
 * string does not look like an address at all (it may be a group name).
 */
int addr_parse(const char *s, struct fw_addr_range *r, char **err);
/* Compares by family, then lo. */
int addr_cmp(const void *a, const void *b);
/* Sorts and merges overlapping or adjacent intervals in place. */
size_t addr_normalize(struct fw_addr_range *v, size_t n);
/* The prefix length if [lo, hi] is one CIDR prefix of keylen bytes, else
 * -1. */
int addr_prefix_len(const uint8_t *lo, const uint8_t *hi, size_t keylen);
/* Formats an interval as nft prints it: address, prefix or lo-hi. */
void addr_format(const struct fw_addr_range *r, char *out, size_t len);

#endif
