// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * proto: framing, the command table, request validation and reply helpers
 * of the control protocol documented in proto.h. Pure data transformation:
 * no sockets, no logging, nothing daemon-only (fwctl links this too).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

const struct fw_cmd proto_cmds[FW_CMD_COUNT] = {
	[FW_CMD_APPLY] = { "apply", FW_CMD_APPLY, true },
	[FW_CMD_CONFIRM] = { "confirm", FW_CMD_CONFIRM, true },
	[FW_CMD_ROLLBACK] = { "rollback", FW_CMD_ROLLBACK, true },
	[FW_CMD_DIFF] = { "diff", FW_CMD_DIFF, false },
	[FW_CMD_STATUS] = { "status", FW_CMD_STATUS, false },
	[FW_CMD_SHOW] = { "show", FW_CMD_SHOW, false },
	[FW_CMD_METRICS] = { "metrics", FW_CMD_METRICS, false },
	[FW_CMD_VERSION] = { "version", FW_CMD_VERSION, false },
};

const struct fw_cmd *proto_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < FW_CMD_COUNT; i++)
		if (!strcmp(proto_cmds[i].name, name))
			return &proto_cmds[i];
	return NULL;
}

/* ---- frame reader ---- */

void proto_reader_init(struct fw_frame_reader *r, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max ? max : FW_PROTO_MAX_FRAME;
}

void proto_reader_free(struct fw_frame_reader *r)
{
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
}

static int reader_fail(struct fw_frame_reader *r, int e)
{
	r->error = e;
	if (e == EBADMSG)
		snprintf(r->err, sizeof(r->err), "frame of length 0");
	else
		snprintf(r->err, sizeof(r->err),
			 "frame of %u bytes exceeds the limit of %u bytes",
			 r->want, r->max);
	errno = e;
	return -1;
}

/* Called once the 4 header bytes are in: judge the length right away. */
static int reader_header_done(struct fw_frame_reader *r)
{
	r->want = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 |
		  (uint32_t)r->hdr[2] << 8 | (uint32_t)r->hdr[3];
	if (r->want == 0)
		return reader_fail(r, EBADMSG);
	if (r->want > r->max)
		return reader_fail(r, EMSGSIZE);
	return 0;
}

/* Room for k more body bytes and the NUL; doubles, never past want + 1. */
static void reader_grow(struct fw_frame_reader *r, size_t k)
{
	size_t need = r->len + k + 1, c = r->cap ? r->cap : 4096;

	if (need <= r->cap)
		return;
	while (c < need)
		c *= 2;
	if (c > (size_t)r->want + 1)
		c = (size_t)r->want + 1;
	r->body = xrealloc(r->body, c);
	r->cap = c;
}

int proto_reader_feed(struct fw_frame_reader *r, const void *p, size_t n,
		      size_t *used)
{
	const uint8_t *s = p;
	size_t i = 0, k;

	*used = 0;
	if (r->error) {
		errno = r->error;
		return -1;
	}
	if (r->hdr_len < FW_PROTO_HDR_LEN) {
		while (r->hdr_len < FW_PROTO_HDR_LEN && i < n)
			r->hdr[r->hdr_len++] = s[i++];
		*used = i;
		if (r->hdr_len < FW_PROTO_HDR_LEN)
			return 0;
		if (reader_header_done(r) < 0)
			return -1;
	}
	k = r->want - r->len;
	if (k > n - i)
		k = n - i;
	reader_grow(r, k);
	memcpy(r->body + r->len, s + i, k);
	r->len += k;
	r->body[r->len] = '\0';
	*used = i + k;
	return r->len == r->want;
}

char *proto_reader_room(struct fw_frame_reader *r, size_t *n)
{
	size_t left;

	if (r->error || r->hdr_len < FW_PROTO_HDR_LEN || r->len == r->want)
		return NULL;
	left = r->want - r->len;
	/* Twice what came so far (64 KiB at first), never past the frame:
	 * memory still follows the bytes that arrive. */
	reader_grow(r, left < r->len + 65536 ? left : r->len + 65536);
	*n = r->cap - 1 - r->len;
	if (*n > left)
		*n = left;
	return r->body + r->len;
}

int proto_reader_wrote(struct fw_frame_reader *r, size_t n)
{
	r->len += n;
	r->body[r->len] = '\0';
	return r->len == r->want;
}

char *proto_reader_take(struct fw_frame_reader *r, size_t *len)
{
	char *body = r->body;

	if (r->error || r->hdr_len < FW_PROTO_HDR_LEN || r->len != r->want)
		return NULL;
	if (len)
		*len = r->len;
	r->body = NULL;
	r->len = r->cap = 0;
	r->hdr_len = 0;
	r->want = 0;
	return body;
}

size_t proto_reader_want(const struct fw_frame_reader *r)
{
	if (r->hdr_len < FW_PROTO_HDR_LEN)
		return FW_PROTO_HDR_LEN - r->hdr_len;
	return r->want - r->len;
}

bool proto_reader_busy(const struct fw_frame_reader *r)
{
	return r->hdr_len > 0;
}

/* ---- encoder ---- */

int proto_frame_encode(struct fw_buf *out, const void *body, size_t len)
{
	uint8_t h[FW_PROTO_HDR_LEN];

	if (len == 0 || len > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	buf_add(out, h, sizeof(h));
	buf_add(out, body, len);
	return 0;
}

int proto_frame_encode_json(struct fw_buf *out, const cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj);
	int rc;

	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	rc = proto_frame_encode(out, s, strlen(s));
	cJSON_free(s);
	return rc;
}

/* ---- validation ---- */

/* RFC 3629 section 4: the well-formed byte sequences. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c >= 0x01 && c <= 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;	/* no UTF-16 surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;	/* nothing past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t proto_utf8_prefix(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		uint64_t w;

		/* ASCII without NUL, eight bytes at a time. */
		if (n - i >= 8 && (memcpy(&w, u + i, 8), true) &&
		    !(w & 0x8080808080808080ULL) &&
		    !((w - 0x0101010101010101ULL) & ~w &
		      0x8080808080808080ULL)) {
			i += 8;
			continue;
		}
		k = utf8_seq(u + i, n - i);
		if (!k)
			return i;
		i += k;
	}
	return n;
}

bool proto_utf8_valid(const char *s, size_t n)
{
	return proto_utf8_prefix(s, n) == n;
}

static void line_col(const char *s, size_t off, unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Parses exactly one JSON value filling body[0..len). */
static cJSON *json_parse(const char *what, const char *body, size_t len,
			 char **err)
{
	const char *end = NULL;
	unsigned line, col;
	cJSON *j;

	j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (j) {
		while (end < body + len && *end && strchr(" \t\r\n", *end))
			end++;
		if (end == body + len)
			return j;
		cJSON_Delete(j);
	}
	if (!end || end < body || end > body + len)
		end = body + len;
	line_col(body, (size_t)(end - body), &line, &col);
	*err = xasprintf("%s is not valid JSON: %s at line %u column %u",
			 what, j ? "trailing data" : "syntax error", line, col);
	return NULL;
}

/* A short printable rendering of an untrusted string for a message. */
static char *quote_untrusted(const char *s)
{
	struct fw_buf b = {0};
	size_t i;

	buf_add(&b, "", 0);
	for (i = 0; s[i] && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			buf_add(&b, &s[i], 1);
		else
			buf_printf(&b, "\\x%02x", c);
	}
	if (s[i])
		buf_add(&b, "...", 3);
	return b.s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Finds a member name used twice at the top level; NULL if none. */
static const char *dup_member(const cJSON *obj)
{
	const cJSON *it;
	const char **v, *dup = NULL;
	size_t n = 0, i;

	cJSON_ArrayForEach(it, obj)
		n++;
	if (n < 2)
		return NULL;
	v = xmalloc(n * sizeof(*v));
	n = 0;
	cJSON_ArrayForEach(it, obj)
		v[n++] = it->string;
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 1; i < n && !dup; i++)
		if (!strcmp(v[i - 1], v[i]))
			dup = v[i];
	free(v);
	return dup;
}

/* The envelope checks on a parsed object; NULL or an error message. */
static char *request_check(const cJSON *j, const struct fw_cmd **cmd)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "v");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cmd");
	const char *dup = dup_member(j);
	char *q, *msg;

	if (dup) {
		q = quote_untrusted(dup);
		msg = xasprintf("request has member '%s' more than once", q);
		free(q);
		return msg;
	}
	if (!v)
		return xasprintf("request has no \"v\" (protocol version)");
	if (!cJSON_IsNumber(v))
		return xasprintf("\"v\" must be a number");
	if (v->valuedouble != FW_PROTO_VERSION)
		return xasprintf("unsupported protocol version %g; "
				 "fwd speaks %d", v->valuedouble,
				 FW_PROTO_VERSION);
	if (!c)
		return xasprintf("request has no \"cmd\"");
	if (!cJSON_IsString(c) || !c->valuestring)
		return xasprintf("\"cmd\" must be a string");
	*cmd = proto_cmd_find(c->valuestring);
	if (*cmd)
		return NULL;
	q = quote_untrusted(c->valuestring);
	msg = xasprintf("unknown command '%s'", q);
	free(q);
	return msg;
}

/*
 * A policy sent after the request's JSON text and a NUL byte becomes its
 * "policy" member (the bytes as they came: the handler checks them);
 * "policy_bytes" must say how many.
 */
static char *attach_policy(cJSON *j, const char *p, size_t n)
{
	const cJSON *nb = cJSON_GetObjectItemCaseSensitive(j, "policy_bytes");
	char *text;

	if (!cJSON_IsNumber(nb) || nb->valuedouble != (double)n)
		return xasprintf("%zu bytes follow the request, but "
				 "\"policy_bytes\" does not say so", n);
	if (cJSON_GetObjectItemCaseSensitive(j, "policy"))
		return xasprintf("request has \"policy\" twice: as a member "
				 "and after the request");
	text = xmalloc(n + 1);
	memcpy(text, p, n);
	text[n] = '\0';
	proto_request_set_policy(j, text, n);
	return NULL;
}

/* A request whose policy comes as a file passed with it: a size, and no
 * other policy. */
static char *file_check(const cJSON *j, const struct fw_cmd *cmd,
			bool attached)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "policy_file");

	if (cmd->id != FW_CMD_APPLY && cmd->id != FW_CMD_DIFF)
		return xasprintf("\"policy_file\" is for apply and diff, not "
				 "%s", cmd->name);
	if (!cJSON_IsNumber(n) || n->valuedouble < 0 ||
	    n->valuedouble > (double)UINT32_MAX ||
	    n->valuedouble != (double)(uint32_t)n->valuedouble)
		return xasprintf("\"policy_file\" must be the size of the "
				 "policy file passed with the request");
	if (attached || cJSON_GetObjectItemCaseSensitive(j, "policy") ||
	    cJSON_GetObjectItemCaseSensitive(j, "policy_bytes"))
		return xasprintf("request has \"policy_file\" and another "
				 "policy");
	return NULL;
}

cJSON *proto_request_decode(const char *body, size_t len,
			    const struct fw_cmd **cmd, char **err)
{
	const char *nul = memchr(body, '\0', len);
	size_t jlen = nul ? (size_t)(nul - body) : len;
	cJSON *j;

	*cmd = NULL;
	*err = NULL;
	if (!proto_utf8_valid(body, jlen)) {
		*err = xasprintf("request is not valid UTF-8 text");
		return NULL;
	}
	j = json_parse("request", body, jlen, err);
	if (!j)
		return NULL;
	if (!cJSON_IsObject(j))
		*err = xasprintf("request is not a JSON object");
	else
		*err = request_check(j, cmd);
	if (!*err && cJSON_GetObjectItemCaseSensitive(j, "policy_file"))
		*err = file_check(j, *cmd, nul != NULL);
	if (!*err && nul)
		*err = attach_policy(j, nul + 1, len - jlen - 1);
	else if (!*err && cJSON_GetObjectItemCaseSensitive(j, "policy_bytes"))
		*err = xasprintf("\"policy_bytes\" says a policy follows the "
				 "request, but none does");
	if (*err) {
		*cmd = NULL;
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

void proto_request_set_policy(cJSON *req, char *text, size_t len)
{
	cJSON *s = cJSON_CreateString("");

	if (!s)
		abort();
	free(s->valuestring);
	s->valuestring = text;
	cJSON_AddItemToObject(req, "policy", s);
	cJSON_DeleteItemFromObjectCaseSensitive(req, "policy_bytes");
	cJSON_AddNumberToObject(req, "policy_bytes", (double)len);
}

cJSON *proto_request_new(const char *cmd)
{
	cJSON *j = cJSON_CreateObject();

	if (!j)
		abort();
	cJSON_AddNumberToObject(j, "v", FW_PROTO_VERSION);
	cJSON_AddStringToObject(j, "cmd", cmd);
	return j;
}

/* ---- replies ---- */

cJSON *proto_reply_decode(const char *body, size_t len, char **err)
{
	cJSON *j;

	*err = NULL;
	j = json_parse("reply", body, len, err);
	if (!j)
		return NULL;
	if (cJSON_IsObject(j) &&
	    cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "ok")))
		return j;
	cJSON_Delete(j);
	*err = xasprintf("reply is not an object with a boolean \"ok\"");
	return NULL;
}

/* Sets key to item on obj, replacing a previous value; aborts on OOM. */
static void obj_set(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		abort();
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, item);
}

void proto_reply_ok(cJSON *reply)
{
	obj_set(reply, "ok", cJSON_CreateTrue());
}

static void reply_verror(cJSON *reply, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void reply_verror(cJSON *reply, int code, const char *fmt, va_list ap)
{
	char *msg, *p;

	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	/* "error" is one line by contract. */
	for (p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	obj_set(reply, "ok", cJSON_CreateFalse());
	obj_set(reply, "error", cJSON_CreateString(msg));
	obj_set(reply, "code", cJSON_CreateNumber(code));
	free(msg);
}

void proto_reply_error(cJSON *reply, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verror(reply, code, fmt, ap);
	va_end(ap);
}

cJSON *proto_reply_new_error(int code, const char *fmt, ...)
{
	cJSON *reply = cJSON_CreateObject();
	va_list ap;

	if (!reply)
		abort();
	va_start(ap, fmt);
	reply_verror(reply, code, fmt, ap);
	va_end(ap);
	return reply;
}

void proto_reply_add_diag(cJSON *reply, const char *file, const char *path,
			  const char *msg)
{
	cJSON *errs = cJSON_GetObjectItemCaseSensitive(reply, "errors");
	cJSON *e = cJSON_CreateObject();

	if (!e)
		abort();
	if (!cJSON_IsArray(errs)) {
		errs = cJSON_CreateArray();
		obj_set(reply, "errors", errs);
	}
	if (file)
		cJSON_AddStringToObject(e, "file", file);
	cJSON_AddStringToObject(e, "path", path ? path : "");
	cJSON_AddStringToObject(e, "message", msg ? msg : "");
	cJSON_AddItemToArray(errs, e);
}

void proto_reply_add_diags(cJSON *reply, const struct fw_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		proto_reply_add_diag(reply, d->v[i].file, d->v[i].path,
				     d->v[i].msg);
	if (d->dropped)
		obj_set(reply, "errors_dropped",
			cJSON_CreateNumber((double)d->dropped));
}
