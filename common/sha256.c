// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sha256: SHA-256 as specified in FIPS 180-4, sections 4.1.2, 4.2.2, 5.1.1,
 * 6.2. Byte-oriented and portable; no tables beyond K, no I/O.
 */
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define FW_SHA_NI 1
#endif

#include "sha256.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22))
#define BSIG1(x) (rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25))
#define SSIG0(x) (rotr(x, 7) ^ rotr(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (rotr(x, 17) ^ rotr(x, 19) ^ ((x) >> 10))

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* FIPS 180-4 6.2.2: one 512-bit block. */
static void compress(uint32_t h[8], const uint8_t blk[64])
{
	uint32_t w[64], t1, t2;
	/* The working variables a..h of FIPS 180-4 6.2.2, as locals so that
	 * they live in registers. */
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
	uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(blk + 4 * i);
	for (; i < 64; i++)
		w[i] = SSIG1(w[i - 2]) + w[i - 7] + SSIG0(w[i - 15]) +
		       w[i - 16];
	for (i = 0; i < 64; i++) {
		t1 = hh + BSIG1(e) + CH(e, f, g) + K[i] + w[i];
		t2 = BSIG0(a) + MAJ(a, b, c);
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

#ifdef FW_SHA_NI
/*
 * The same rounds with the SHA extensions of x86 (Intel since Ice Lake and
 * Goldmont, AMD since Zen): several times faster, which matters for the
 * megabytes of a big policy. The state lives as ABEF and CDGH, the layout
 * the sha256rnds2 instruction works on; each step is four rounds.
 */
__attribute__((target("sha,sse4.1,ssse3"))) static void
blocks_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
					     0x0405060700010203ULL);
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h),
				      0xb1);			   /* CDAB */
	__m128i s1 = _mm_shuffle_epi32(
		_mm_loadu_si128((const __m128i *)(h + 4)), 0x1b); /* EFGH */
	__m128i s0 = _mm_alignr_epi8(t, s1, 8);			   /* ABEF */

	s1 = _mm_blend_epi16(s1, t, 0xf0); /* CDGH */
	for (; n; n--, p += 64) {
		__m128i abef = s0, cdgh = s1, w[4], m;

		for (int i = 0; i < 16; i++) {
			__m128i *wi = &w[i & 3];

			if (i < 4)
				*wi = _mm_shuffle_epi8(
					_mm_loadu_si128(
						(const __m128i *)(p + 16 * i)),
					bswap);
			else
				*wi = _mm_sha256msg2_epu32(
					_mm_add_epi32(
						_mm_sha256msg1_epu32(
							*wi, w[(i + 1) & 3]),
						_mm_alignr_epi8(w[(i + 3) & 3],
								w[(i + 2) & 3],
								4)),
					w[(i + 3) & 3]);
			m = _mm_add_epi32(
				*wi, _mm_loadu_si128((const __m128i *)&K[4 * i]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, m);
			s0 = _mm_sha256rnds2_epu32(s0, s1,
						   _mm_shuffle_epi32(m, 0x0e));
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	t = _mm_shuffle_epi32(s0, 0x1b);	   /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xb1);	   /* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xf0);	   /* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);		   /* HGFE */
	_mm_storeu_si128((__m128i *)h, s0);
	_mm_storeu_si128((__m128i *)(h + 4), s1);
}

static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) ||
	    !(c & bit_SSSE3))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

/* -1: not probed yet. */
static int use_ni = -1;

bool sha256_use_ni(bool want)
{
#ifdef FW_SHA_NI
	use_ni = want && cpu_has_sha();
#else
	use_ni = 0;
#endif
	return use_ni == want;
}

static void blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
#ifdef FW_SHA_NI
	if (use_ni < 0)
		use_ni = cpu_has_sha();
	if (use_ni) {
		blocks_ni(h, p, n);
		return;
	}
#endif
	for (; n; n--, p += 64)
		compress(h, p);
}

void sha256_init(struct fw_sha256 *c)
{
	/* FIPS 180-4 5.3.3: square roots of the first 8 primes. */
	static const uint32_t h0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, h0, sizeof(h0));
	c->nbytes = 0;
	c->fill = 0;
}

void sha256_update(struct fw_sha256 *c, const void *p, size_t n)
{
	const uint8_t *s = p;

	c->nbytes += n;
	if (c->fill) {
		size_t k = 64 - c->fill < n ? 64 - c->fill : n;

		memcpy(c->block + c->fill, s, k);
		c->fill += k;
		s += k;
		n -= k;
		if (c->fill < 64)
			return;
		blocks(c->h, c->block, 1);
		c->fill = 0;
	}
	blocks(c->h, s, n / 64);
	s += n & ~(size_t)63;
	n &= 63;
	memcpy(c->block, s, n);
	c->fill = n;
}

/* FIPS 180-4 5.1.1: append 1 bit, zeros, and the 64-bit bit length. */
void sha256_final(struct fw_sha256 *c, uint8_t out[FW_SHA256_LEN])
{
	uint64_t bits = c->nbytes * 8;
	int i;

	c->block[c->fill++] = 0x80;
	if (c->fill > 56) {
		memset(c->block + c->fill, 0, 64 - c->fill);
		blocks(c->h, c->block, 1);
		c->fill = 0;
	}
	memset(c->block + c->fill, 0, 56 - c->fill);
	store_be32(c->block + 56, (uint32_t)(bits >> 32));
	store_be32(c->block + 60, (uint32_t)bits);
	blocks(c->h, c->block, 1);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	memset(c, 0, sizeof(*c));
}

void sha256(const void *p, size_t n, uint8_t out[FW_SHA256_LEN])
{
	struct fw_sha256 c;

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_final(&c, out);
}

char *sha256_hex(const uint8_t d[FW_SHA256_LEN], char out[FW_SHA256_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < FW_SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0xf];
	}
	out[2 * FW_SHA256_LEN] = '\0';
	return out;
}

char *sha256_hex_of(const void *p, size_t n, char out[FW_SHA256_HEX_LEN])
{
	uint8_t d[FW_SHA256_LEN];

	sha256(p, n, d);
	return sha256_hex(d, out);
}
