// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * addr: parses address literals into inclusive intervals and keeps interval
 * lists sorted and disjoint. Knows nothing of groups or JSON.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"

static size_t alen(int family)
{
	return family == 6 ? 16 : 4;
}

static int parse_one(const char *s, uint8_t out[16], int *family)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = 6;
		return 0;
	}
	return -1;
}

/* True if s could only have been meant as an address (digits, dots,
 * colons, slashes, dashes): then a parse failure is an address error. */
static bool looks_like_addr(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdefABCDEF.:/-", *s))
			return false;
	return true;
}

static bool looks_numeric(const char *s)
{
	bool colon = strchr(s, ':') != NULL, digit = false;

	for (; *s; s++)
		if (*s >= '0' && *s <= '9')
			digit = true;
	return colon || digit;
}

static int parse_prefix(const char *s, struct fw_addr_range *r, char **err)
{
	const char *slash = strchr(s, '/');
	char host[64];
	size_t hl = (size_t)(slash - s), bits;
	int fam;
	char *end;
	unsigned long plen;

	if (hl < sizeof(host)) {
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (hl >= sizeof(host) || parse_one(host, r->lo, &fam) < 0) {
		*err = xasprintf("\"%s\" is not a valid address prefix", s);
		return -1;
	}
	bits = alen(fam) * 8;
	if (!slash[1] || slash[1] == '+' || slash[1] == '-' ||
	    (plen = strtoul(slash + 1, &end, 10), *end) || plen > bits) {
		*err = xasprintf("\"%s\": prefix length must be 0-%zu", s,
				 bits);
		return -1;
	}
	r->family = (uint8_t)fam;
	memcpy(r->hi, r->lo, 16);
	for (size_t b = plen; b < bits; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));

		if (r->lo[b / 8] & m) {
			uint8_t net[16];
			char buf[INET6_ADDRSTRLEN];

			memcpy(net, r->lo, 16);
			for (size_t c = plen; c < bits; c++)
				net[c / 8] &= (uint8_t)~(0x80 >> (c % 8));
			inet_ntop(fam == 4 ? AF_INET : AF_INET6, net, buf,
				  sizeof(buf));
			*err = xasprintf("\"%s\" has host bits set (did you "
					 "mean \"%s/%lu\"?)",
					 s, buf, plen);
			return -1;
		}
		r->hi[b / 8] |= m;
	}
	return 0;
}

static int parse_range(const char *s, struct fw_addr_range *r, char **err)
{
	const char *dash = strchr(s, '-');
	char lo[64];
	size_t ll = (size_t)(dash - s);
	int f1, f2;

	if (ll >= sizeof(lo))
		goto bad;
	memcpy(lo, s, ll);
	lo[ll] = '\0';
	if (parse_one(lo, r->lo, &f1) < 0 || parse_one(dash + 1, r->hi, &f2))
		goto bad;
	if (f1 != f2) {
		*err = xasprintf("\"%s\": both ends of a range must be of the "
				 "same address family",
				 s);
		return -1;
	}
	r->family = (uint8_t)f1;
	if (memcmp(r->lo, r->hi, 16) > 0) {
		*err = xasprintf("\"%s\": range start is above its end", s);
		return -1;
	}
	return 0;
bad:
	*err = xasprintf("\"%s\" is not a valid address range (expected "
			 "\"FIRST-LAST\")",
			 s);
	return -1;
}

int addr_parse(const char *s, struct fw_addr_range *r, char **err)
{
	int fam;

	*err = NULL;
	memset(r, 0, sizeof(*r));
	if (strchr(s, '/'))
		return parse_prefix(s, r, err);
	if (strchr(s, '-') && looks_like_addr(s) && looks_numeric(s))
		return parse_range(s, r, err);
	if (parse_one(s, r->lo, &fam) == 0) {
		r->family = (uint8_t)fam;
		memcpy(r->hi, r->lo, 16);
		return 0;
	}
	if (looks_like_addr(s) && looks_numeric(s))
		*err = xasprintf("\"%s\" is not a valid IPv4 or IPv6 address",
				 s);
	return -1;
}

int addr_cmp(const void *a, const void *b)
{
	const struct fw_addr_range *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->lo, y->lo, 16);
}

/* a + 1 == b within the family's width (no carry out of the top). */
static bool adjacent(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t n[16];
	int i;

	memcpy(n, a, len);
	for (i = (int)len - 1; i >= 0; i--)
		if (++n[i] != 0)
			break;
	if (i < 0)
		return false;
	return memcmp(n, b, len) == 0;
}

size_t addr_normalize(struct fw_addr_range *v, size_t n)
{
	size_t out = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), addr_cmp);
	for (size_t i = 1; i < n; i++) {
		struct fw_addr_range *c = &v[out];
		size_t len = alen(c->family);

		if (v[i].family == c->family &&
		    (memcmp(v[i].lo, c->hi, 16) <= 0 ||
		     adjacent(c->hi, v[i].lo, len))) {
			if (memcmp(v[i].hi, c->hi, 16) > 0)
				memcpy(c->hi, v[i].hi, 16);
			continue;
		}
		v[++out] = v[i];
	}
	return out + 1;
}

int addr_prefix_len(const uint8_t *lo, const uint8_t *hi, size_t keylen)
{
	size_t bits = keylen * 8, plen = bits;

	/* Strip trailing bits where lo is 0 and hi is 1; the rest must match. */
	while (plen > 0) {
		size_t b = plen - 1;
		uint8_t m = (uint8_t)(0x80 >> (b % 8));

		if ((lo[b / 8] & m) || !(hi[b / 8] & m))
			break;
		plen--;
	}
	for (size_t b = 0; b < plen; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));

		if ((lo[b / 8] & m) != (hi[b / 8] & m))
			return -1;
	}
	return (int)plen;
}

void addr_format(const struct fw_addr_range *r, char *out, size_t len)
{
	int af = r->family == 6 ? AF_INET6 : AF_INET;
	int plen = addr_prefix_len(r->lo, r->hi, alen(r->family));
	char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];

	inet_ntop(af, r->lo, lo, sizeof(lo));
	if (plen == (int)alen(r->family) * 8) {
		snprintf(out, len, "%s", lo);
	} else if (plen >= 0) {
		snprintf(out, len, "%s/%d", lo, plen);
	} else {
		inet_ntop(af, r->hi, hi, sizeof(hi));
		snprintf(out, len, "%s-%s", lo, hi);
	}
}
