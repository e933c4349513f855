// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_sha256: the FIPS 180-4 / NIST CAVS example vectors, plus incremental
 * updates split at every offset so block boundaries are crossed both ways.
 */
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "t.h"

static const char *hex_of(const void *p, size_t n)
{
	static char out[FW_SHA256_HEX_LEN];

	return sha256_hex_of(p, n, out);
}

static void test_vectors(void)
{
	static const char m448[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char m896[] =
		"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	T_OK(!strcmp(hex_of("abc", 3),
		     "ba7816bf8f01cfea414140de5dae2223"
		     "b00361a396177a9cb410ff61f20015ad"), "sha256 \"abc\"");
	T_OK(!strcmp(hex_of("", 0),
		     "e3b0c44298fc1c149afbf4c8996fb924"
		     "27ae41e4649b934ca495991b7852b855"), "sha256 empty");
	T_OK(!strcmp(hex_of(m448, strlen(m448)),
		     "248d6a61d20638b8e5c026930c3e6039"
		     "a33ce45964ff2167f6ecedd419db06c1"),
	     "sha256 448-bit message");
	T_OK(!strcmp(hex_of(m896, strlen(m896)),
		     "cf5b16a778af8380036ce59e7b049237"
		     "0b249b11e8f07a51afac45037afee9d1"),
	     "sha256 896-bit message");
}

static void test_million_a(void)
{
	struct fw_sha256 c;
	uint8_t d[FW_SHA256_LEN];
	char hex[FW_SHA256_HEX_LEN], *m = malloc(1000000);
	static const char want[] = "cdc76e5c9914fb9281a1c7e284d73e67"
				   "f1809a48a497200e046d39ccc7112cd0";
	int i;

	memset(m, 'a', 1000000);
	T_OK(!strcmp(sha256_hex_of(m, 1000000, hex), want),
	     "sha256 one million 'a' in one call");
	sha256_init(&c);
	for (i = 0; i < 1000000; i += 1000)
		sha256_update(&c, m, 1000);
	sha256_final(&c, d);
	T_OK(!strcmp(sha256_hex(d, hex), want),
	     "sha256 one million 'a' in 1000-byte updates");
	free(m);
}

/* Every split point of a 200-byte message gives the one-shot digest. */
static void test_splits(void)
{
	uint8_t m[200], one[FW_SHA256_LEN], inc[FW_SHA256_LEN];
	struct fw_sha256 c;
	size_t i, bad = 0;

	for (i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)(i * 7 + 3);
	sha256(m, sizeof(m), one);
	for (i = 0; i <= sizeof(m); i++) {
		sha256_init(&c);
		sha256_update(&c, m, i);
		sha256_update(&c, m + i, sizeof(m) - i);
		sha256_final(&c, inc);
		bad += memcmp(one, inc, sizeof(one)) != 0;
	}
	T_OK(bad == 0, "sha256 incremental equals one-shot at all %zu splits",
	     sizeof(m) + 1);
	/* Lengths around the padding boundary (55, 56, 63, 64 bytes). */
	T_OK(!strcmp(hex_of("aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56),
		     "b35439a4ac6f0948b6d6f9e3c6af0f5f"
		     "590ce20f1bde7090ef7970686ec6738a"), "sha256 56 bytes");
}

/* Both engines give the same digests of odd-sized random messages. */
static void test_engines(void)
{
	size_t n = 100003, bad = 0;
	uint8_t *m = malloc(n), a[FW_SHA256_LEN], b[FW_SHA256_LEN];
	uint32_t x = 12345;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		m[i] = (uint8_t)(x >> 16);
	}
	for (size_t len = 0; len < n; len = len * 3 + 1) {
		sha256_use_ni(false);
		sha256(m, len, a);
		sha256_use_ni(true);
		sha256(m, len, b);
		bad += memcmp(a, b, sizeof(a)) != 0;
	}
	T_OK(bad == 0, "sha256: the SHA instructions and the portable "
		       "rounds agree");
	free(m);
}

int main(void)
{
	/* Every test with each engine this CPU has. */
	for (int ni = 0; ni < 2; ni++) {
		if (!sha256_use_ni(ni)) {
			T_OK(1, "# SKIP no SHA instructions on this CPU");
			continue;
		}
		test_vectors();
		test_million_a();
		test_splits();
	}
	test_engines();
	return t_done();
}
