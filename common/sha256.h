/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sha256: SHA-256 (FIPS 180-4), written from the standard so that neither
 * fwd nor fwctl depends on a crypto library. Hashing only; no HMAC, no I/O.
 */
#ifndef FW_SHA256_H
#define FW_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FW_SHA256_LEN 32
#define FW_SHA256_HEX_LEN 65 /* 64 hex digits and the NUL */

struct fw_sha256 {
	uint32_t h[8];
	uint64_t nbytes;	/* message length so far */
	uint8_t block[64];	/* pending partial block */
	size_t fill;		/* bytes used in block */
};

void sha256_init(struct fw_sha256 *c);
void sha256_update(struct fw_sha256 *c, const void *p, size_t n);
void sha256_final(struct fw_sha256 *c, uint8_t out[FW_SHA256_LEN]);

/* Uses the x86 SHA instructions (want) or the portable rounds; the
 * default is the instructions where the CPU has them. False if want
 * cannot be had. For tests. */
bool sha256_use_ni(bool want);

/* One-shot digest of p[0..n). */
void sha256(const void *p, size_t n, uint8_t out[FW_SHA256_LEN]);
/* Lowercase hex of a digest; returns out. */
char *sha256_hex(const uint8_t d[FW_SHA256_LEN], char out[FW_SHA256_HEX_LEN]);
/* Hex digest of p[0..n) in one call; returns out. */
char *sha256_hex_of(const void *p, size_t n, char out[FW_SHA256_HEX_LEN]);

#endif
