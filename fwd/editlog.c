// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * editlog: quick edits of the active text as records (editlog.h). A
 * record holds its own hash, so a crash that cuts one short, or a changed
 * byte, ends the log there instead of making a text nobody applied.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "editlog.h"
#include "json.h"

#define EDIT_VERSION 1
#define SHA_HEX (FW_SHA256_HEX_LEN - 1)

static bool size_field(const cJSON *h, const char *key, size_t *v)
{
	long long n;

	if (!json_int(cJSON_GetObjectItemCaseSensitive(h, key), 0,
		      (double)(SIZE_MAX < (1ull << 53) ? SIZE_MAX : 1ull << 53),
		      &n))
		return false;
	*v = (size_t)n;
	return true;
}

static const char *str_field(const cJSON *h, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(h, key);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

static bool hex_field(const cJSON *h, const char *key,
		      char out[FW_SHA256_HEX_LEN])
{
	const char *s = str_field(h, key);

	if (!s || strlen(s) != SHA_HEX ||
	    strspn(s, "0123456789abcdef") != SHA_HEX)
		return false;
	memcpy(out, s, FW_SHA256_HEX_LEN);
	return true;
}

static bool text_field(const cJSON *h, const char *key, char *out,
		       size_t cap)
{
	const char *s = str_field(h, key);

	if (!s || strlen(s) >= cap)
		return false;
	strcpy(out, s);
	return true;
}

/* One record at p[0..len): its length, or 0 if there is no whole one. */
static size_t parse_one(const char *p, size_t len, struct fw_edit *e)
{
	const char *nl = memchr(p, '\n', len);
	char sum[FW_SHA256_HEX_LEN];
	size_t hlen, total = 0;
	cJSON *h;

	if (!nl)
		return 0;
	hlen = (size_t)(nl - p) + 1;
	h = cJSON_ParseWithLength(p, hlen);
	memset(e, 0, sizeof(*e));
	if (cJSON_IsObject(h) &&
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(h, "v")) ==
		    EDIT_VERSION &&
	    hex_field(h, "from", e->from) &&
	    hex_field(h, "to", e->meta.sha256) &&
	    size_field(h, "at", &e->at) && size_field(h, "cut", &e->cut) &&
	    size_field(h, "put", &e->put) &&
	    text_field(h, "applied_at", e->meta.applied_at,
		       sizeof(e->meta.applied_at)) &&
	    text_field(h, "applied_by", e->meta.applied_by,
		       sizeof(e->meta.applied_by)) &&
	    len - hlen >= SHA_HEX + 1 && e->put <= len - hlen - SHA_HEX - 1) {
		sha256_hex_of(p, hlen + e->put, sum);
		if (!memcmp(sum, p + hlen + e->put, SHA_HEX) &&
		    p[hlen + e->put + SHA_HEX] == '\n') {
			e->bytes = p + hlen;
			total = hlen + e->put + SHA_HEX + 1;
		}
	}
	cJSON_Delete(h);
	return total;
}

size_t editlog_parse(const char *buf, size_t len, struct fw_edit **v,
		     size_t *n)
{
	size_t off = 0, cap = 0, k;
	struct fw_edit e;

	*v = NULL;
	*n = 0;
	while (off < len && (k = parse_one(buf + off, len - off, &e)) > 0) {
		if (*n && strcmp(e.from, (*v)[*n - 1].meta.sha256))
			break;
		xgrow((void **)v, &cap, *n, sizeof(**v));
		(*v)[(*n)++] = e;
		off += k;
	}
	return off;
}

void editlog_encode(struct fw_buf *b, const char *from_sha256, size_t at,
		    size_t cut, const char *put, size_t n,
		    const struct fw_state_meta *meta)
{
	cJSON *h = cJSON_CreateObject();
	size_t start = b->len;
	char *head, sum[FW_SHA256_HEX_LEN];

	if (!h)
		abort();
	cJSON_AddNumberToObject(h, "v", EDIT_VERSION);
	cJSON_AddStringToObject(h, "from", from_sha256);
	cJSON_AddStringToObject(h, "to", meta->sha256);
	cJSON_AddNumberToObject(h, "at", (double)at);
	cJSON_AddNumberToObject(h, "cut", (double)cut);
	cJSON_AddNumberToObject(h, "put", (double)n);
	cJSON_AddStringToObject(h, "applied_at", meta->applied_at);
	cJSON_AddStringToObject(h, "applied_by", meta->applied_by);
	head = cJSON_PrintUnformatted(h);
	if (!head)
		abort();
	buf_printf(b, "%s\n", head);
	cJSON_free(head);
	cJSON_Delete(h);
	buf_add(b, put, n);
	sha256_hex_of(b->s + start, b->len - start, sum);
	buf_printf(b, "%s\n", sum);
}

char *editlog_apply(const char *text, size_t len, const struct fw_edit *v,
		    size_t n, size_t *out_len)
{
	char *cur = xmalloc(len + 1), *next;

	memcpy(cur, text, len);
	for (size_t i = 0; i < n; i++) {
		const struct fw_edit *e = &v[i];
		size_t nl;

		if (e->at > len || e->cut > len - e->at) {
			free(cur);
			return NULL;
		}
		nl = len - e->cut + e->put;
		next = xmalloc(nl + 1);
		memcpy(next, cur, e->at);
		memcpy(next + e->at, e->bytes, e->put);
		memcpy(next + e->at + e->put, cur + e->at + e->cut,
		       len - e->at - e->cut);
		free(cur);
		cur = next;
		len = nl;
	}
	cur[len] = '\0';
	*out_len = len;
	return cur;
}
