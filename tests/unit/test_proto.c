// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_proto: the frame reader under every split of its input, its limits
 * (checked on the header alone, before any allocation), the encoder, every
 * error path of the request decoder, and the reply helpers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "t.h"

/* A stream of frames built with the encoder. */
static struct fw_buf stream(const char *const *bodies, size_t n)
{
	struct fw_buf b = {0};
	size_t i;

	for (i = 0; i < n; i++)
		proto_frame_encode(&b, bodies[i], strlen(bodies[i]));
	return b;
}

/* Feeds p[0..n) in chunks of step bytes; collects the frames' bodies. */
static size_t feed_all(const char *p, size_t n, size_t step, char **out,
		       size_t max_out, int *rc_out)
{
	struct fw_frame_reader r;
	size_t off = 0, got = 0, used, k, len;
	int rc = 0;

	proto_reader_init(&r, 0);
	while (off < n && rc >= 0) {
		k = n - off < step ? n - off : step;
		while (k && rc >= 0) {
			rc = proto_reader_feed(&r, p + off, k, &used);
			off += used;
			k -= used;
			if (rc == 1 && got < max_out)
				out[got++] = proto_reader_take(&r, &len);
		}
	}
	*rc_out = rc;
	proto_reader_free(&r);
	return got;
}

static void test_reader_splits(void)
{
	static const char *const bodies[] = {
		"{\"v\":1,\"cmd\":\"status\"}", "{}", "{\"a\":\"xyz\"}",
	};
	struct fw_buf b = stream(bodies, ARRAY_SIZE(bodies));
	size_t steps[] = { 1, 2, 3, 5, 7, 4096 }, i, j, bad = 0;
	char *out[8];
	int rc;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		size_t got = feed_all(b.s, b.len, steps[i], out, 8, &rc);

		bad += got != 3 || rc < 0;
		for (j = 0; j < got; j++) {
			bad += j < 3 && strcmp(out[j], bodies[j]);
			free(out[j]);
		}
	}
	T_OK(bad == 0, "reader: 3 frames fed in chunks of 1, 2, 3, 5, 7, 4096");
	buf_free(&b);
}

static void test_reader_one_feed(void)
{
	static const char *const bodies[] = { "[1]", "{\"b\":2}" };
	struct fw_buf b = stream(bodies, 2);
	struct fw_frame_reader r;
	size_t used, len;
	char *body;
	int rc;

	proto_reader_init(&r, 0);
	rc = proto_reader_feed(&r, b.s, b.len, &used);
	T_OK(rc == 1 && used == 4 + 3, "reader: stops at the end of frame 1");
	T_OK(proto_reader_feed(&r, b.s + used, b.len - used, &len) == 1 &&
	     len == 0, "reader: a complete frame is not overwritten");
	body = proto_reader_take(&r, &len);
	T_OK(body && len == 3 && !strcmp(body, "[1]") && body[3] == '\0',
	     "reader: frame 1 body, NUL-terminated");
	free(body);
	T_OK(!proto_reader_busy(&r) && proto_reader_want(&r) == 4,
	     "reader: reset after take");
	rc = proto_reader_feed(&r, b.s + used, b.len - used, &len);
	body = proto_reader_take(&r, &len);
	T_OK(rc == 1 && body && !strcmp(body, "{\"b\":2}"),
	     "reader: frame 2 from the rest of the same buffer");
	free(body);
	T_OK(proto_reader_take(&r, &len) == NULL,
	     "reader: take without a complete frame gives NULL");
	proto_reader_free(&r);
	buf_free(&b);
}

static void test_reader_limits(void)
{
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'x' };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	struct fw_frame_reader r;
	size_t used;
	int rc;

	proto_reader_init(&r, 0);
	T_OK(proto_reader_feed(&r, huge, 3, &used) == 0 && used == 3,
	     "reader: 3 header bytes are not enough to judge");
	errno = 0;
	rc = proto_reader_feed(&r, huge + 3, 2, &used);
	T_OK(rc == -1 && errno == EMSGSIZE && used == 1,
	     "reader: 4 GiB header rejected on its 4th byte (EMSGSIZE)");
	T_OK(r.body == NULL && r.cap == 0,
	     "reader: nothing allocated for the announced size");
	T_OK(!strcmp(r.err, "frame of 4294967295 bytes exceeds the limit of "
			    "67108864 bytes"), "reader: message: %s", r.err);
	T_OK(proto_reader_feed(&r, "{}", 2, &used) == -1 && used == 0,
	     "reader: framing errors are sticky");
	proto_reader_free(&r);

	proto_reader_init(&r, 0);
	errno = 0;
	rc = proto_reader_feed(&r, zero, 4, &used);
	T_OK(rc == -1 && errno == EBADMSG &&
	     !strcmp(r.err, "frame of length 0"),
	     "reader: length 0 rejected (EBADMSG)");
	proto_reader_free(&r);
}

static void test_reader_max(void)
{
	static const uint8_t h100[] = { 0, 0, 0, 100 };
	static const uint8_t h101[] = { 0, 0, 0, 101 };
	static const uint8_t h60m[] = { 0x03, 0xc0, 0, 0 }; /* 60 MiB */
	struct fw_frame_reader r;
	char chunk[10000];
	size_t used, i;

	proto_reader_init(&r, 100);
	T_OK(proto_reader_feed(&r, h100, 4, &used) == 0 &&
	     proto_reader_want(&r) == 100, "reader: length == max accepted");
	proto_reader_free(&r);
	proto_reader_init(&r, 100);
	T_OK(proto_reader_feed(&r, h101, 4, &used) == -1 && errno == EMSGSIZE,
	     "reader: length max + 1 rejected");
	proto_reader_free(&r);

	/* Memory follows the bytes received, not the header's promise. */
	memset(chunk, 'x', sizeof(chunk));
	proto_reader_init(&r, 0);
	proto_reader_feed(&r, h60m, 4, &used);
	proto_reader_feed(&r, chunk, 10, &used);
	T_OK(r.cap <= 4096, "reader: 10 of 60 MiB received, %zu allocated",
	     r.cap);
	for (i = 0; i < 100; i++)
		proto_reader_feed(&r, chunk, sizeof(chunk), &used);
	T_OK(r.len == 1000010 && r.cap < 2 * r.len + 4096,
	     "reader: 1 MB of 60 MiB received, %zu allocated", r.cap);
	proto_reader_free(&r);
}

static void test_encode(void)
{
	struct fw_buf b = {0};
	cJSON *j = proto_request_new("status");

	T_OK(proto_frame_encode(&b, "", 0) == -1 && errno == EMSGSIZE,
	     "encode: empty body refused");
	T_OK(proto_frame_encode(&b, "{}", 2) == 0 && b.len == 6 &&
	     !memcmp(b.s, "\0\0\0\2{}", 6), "encode: big-endian length");
	b.len = 0;
	T_OK(proto_frame_encode_json(&b, j) == 0 && b.len == 4 + 22 &&
	     !memcmp(b.s + 4, "{\"v\":1,\"cmd\":\"status\"}", 22),
	     "encode: request_new + encode_json");
	cJSON_Delete(j);
	buf_free(&b);
}

/* Decodes s; returns the error message ("" if it decoded). */
static const char *decode_err(const char *s, size_t len)
{
	static char last[256];
	const struct fw_cmd *cmd = (void *)1;
	char *err = NULL;
	cJSON *j = proto_request_decode(s, len, &cmd, &err);

	snprintf(last, sizeof(last), "%s", err ? err : "");
	if (!j && (!err || cmd))
		snprintf(last, sizeof(last), "BAD CONTRACT");
	cJSON_Delete(j);
	free(err);
	return last;
}

#define ERR_IS(s, want)                                                      \
	do {                                                                 \
		const char *got_ = decode_err(s, sizeof(s) - 1);             \
		T_OK(!strcmp(got_, want), "decode %s -> %s", #s, got_);      \
	} while (0)

static void test_decode_errors(void)
{
	ERR_IS("\xff{}", "request is not valid UTF-8 text");
	ERR_IS("{\"a\":\"\xc0\x80\"}", "request is not valid UTF-8 text");
	ERR_IS("{\"a\":\"\xed\xa0\x80\"}", "request is not valid UTF-8 text");
	ERR_IS("{\"a\":\"\xf4\x90\x80\x80\"}", "request is not valid UTF-8 text");
	ERR_IS("{\"a\":\"\xe2\x82\"}", "request is not valid UTF-8 text");
	/* A NUL byte ends the JSON text; what follows is an attachment. */
	ERR_IS("{}\0", "request has no \"v\" (protocol version)");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\"}\0abc",
	       "3 bytes follow the request, but \"policy_bytes\" does not "
	       "say so");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_bytes\":4}\0abc",
	       "3 bytes follow the request, but \"policy_bytes\" does not "
	       "say so");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_bytes\":\"3\"}\0abc",
	       "3 bytes follow the request, but \"policy_bytes\" does not "
	       "say so");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_bytes\":3}",
	       "\"policy_bytes\" says a policy follows the request, but none "
	       "does");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_bytes\":3,"
	       "\"policy\":\"x\"}\0abc",
	       "request has \"policy\" twice: as a member and after the "
	       "request");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"a\":\"\xff\"}\0abc",
	       "request is not valid UTF-8 text");
	/* A policy passed as a file: its size, and no other policy. */
	ERR_IS("{\"v\":1,\"cmd\":\"status\",\"policy_file\":3}",
	       "\"policy_file\" is for apply and diff, not status");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_file\":\"3\"}",
	       "\"policy_file\" must be the size of the policy file passed "
	       "with the request");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_file\":-1}",
	       "\"policy_file\" must be the size of the policy file passed "
	       "with the request");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_file\":2.5}",
	       "\"policy_file\" must be the size of the policy file passed "
	       "with the request");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_file\":3,"
	       "\"policy\":\"x\"}",
	       "request has \"policy_file\" and another policy");
	ERR_IS("{\"v\":1,\"cmd\":\"apply\",\"policy_file\":3,"
	       "\"policy_bytes\":3}\0abc",
	       "request has \"policy_file\" and another policy");
	ERR_IS("{\"v\":1,", "request is not valid JSON: syntax error at line 1 column 7");
	ERR_IS("{\n \"v\": 1,\n \"cmd\": x\n}",
	       "request is not valid JSON: syntax error at line 3 column 9");
	ERR_IS("", "request is not valid JSON: syntax error at line 1 column 1");
	ERR_IS("{\"v\":1,\"cmd\":\"status\"} x",
	       "request is not valid JSON: trailing data at line 1 column 24");
	ERR_IS("{} {}", "request is not valid JSON: trailing data at line 1 column 4");
	ERR_IS("[1]", "request is not a JSON object");
	ERR_IS("\"status\"", "request is not a JSON object");
	ERR_IS("null", "request is not a JSON object");
	ERR_IS("{\"v\":1,\"cmd\":\"status\",\"cmd\":\"apply\"}",
	       "request has member 'cmd' more than once");
	ERR_IS("{\"cmd\":\"status\"}", "request has no \"v\" (protocol version)");
	ERR_IS("{\"v\":\"1\",\"cmd\":\"status\"}", "\"v\" must be a number");
	ERR_IS("{\"v\":2,\"cmd\":\"status\"}",
	       "unsupported protocol version 2; fwd speaks 1");
	ERR_IS("{\"v\":1.5,\"cmd\":\"status\"}",
	       "unsupported protocol version 1.5; fwd speaks 1");
	ERR_IS("{\"v\":1}", "request has no \"cmd\"");
	ERR_IS("{\"v\":1,\"cmd\":7}", "\"cmd\" must be a string");
	ERR_IS("{\"v\":1,\"cmd\":null}", "\"cmd\" must be a string");
	ERR_IS("{\"v\":1,\"cmd\":\"reboot\"}", "unknown command 'reboot'");
	ERR_IS("{\"v\":1,\"cmd\":\"Status\"}", "unknown command 'Status'");
	ERR_IS("{\"v\":1,\"cmd\":\"a\\nb'\"}", "unknown command 'a\\x0ab\\x27'");
	ERR_IS("{\"v\":1,\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	       "unknown command 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
}

static void test_decode_ok(void)
{
	const struct fw_cmd *cmd;
	char *err, body[128];
	size_t i, bad = 0;
	cJSON *j;

	for (i = 0; i < FW_CMD_COUNT; i++) {
		snprintf(body, sizeof(body), " {\"cmd\": \"%s\", \"v\": 1.0,"
			 " \"x\": [1]}\n", proto_cmds[i].name);
		j = proto_request_decode(body, strlen(body), &cmd, &err);
		bad += !j || cmd != &proto_cmds[i] || err ||
		       cmd->id != (enum fw_cmd_id)i;
		cJSON_Delete(j);
	}
	T_OK(bad == 0, "decode: every command in the table, with arguments");
	T_OK(proto_cmd_find("apply")->write &&
	     proto_cmd_find("confirm")->write &&
	     proto_cmd_find("rollback")->write &&
	     !proto_cmd_find("diff")->write &&
	     !proto_cmd_find("status")->write &&
	     !proto_cmd_find("show")->write &&
	     !proto_cmd_find("metrics")->write &&
	     !proto_cmd_find("version")->write && !proto_cmd_find("check"),
	     "command table: write flags");
	ERR_IS("{\"v\":1,\"cmd\":\"show\",\"s\":\"\xc3\xa9\xe2\x82\xac"
	       "\xf0\x9f\x94\xa5\xef\xbf\xbd\"}", "");
}

/* An attached policy becomes "policy", bytes as they came (NUL, invalid
 * UTF-8 and all: the command checks them). */
static void test_attach(void)
{
	static const char body[] = "{\"v\":1,\"cmd\":\"apply\","
				   "\"policy_bytes\":6}\0a\xff\0b\"\\";
	const struct fw_cmd *cmd;
	char *err = NULL;
	cJSON *j = proto_request_decode(body, sizeof(body) - 1, &cmd, &err);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "policy");

	T_OK(j && !err && cmd && cmd->id == FW_CMD_APPLY && cJSON_IsString(p) &&
		     !memcmp(p->valuestring, "a\xff\0b\"\\", 7),
	     "decode: an attached policy becomes \"policy\", as it came");
	cJSON_Delete(j);
	free(err);
}

/* The ASCII stride of the UTF-8 check misses no bad byte, wherever it
 * sits. */
static void test_utf8_strides(void)
{
	char s[40];
	size_t bad = 0;

	for (size_t at = 0; at < sizeof(s); at++) {
		memset(s, 'a', sizeof(s));
		s[at] = (char)0xc0;
		bad += proto_utf8_valid(s, sizeof(s));
		s[at] = (char)0xc3;
		if (at + 1 < sizeof(s)) {
			s[at + 1] = (char)0xa9;
			bad += !proto_utf8_valid(s, sizeof(s));
		}
	}
	T_OK(bad == 0, "utf8: a bad or good sequence at each of 40 offsets");
	/* A NUL byte too, which the stride once took for ASCII; and the
	 * prefix stops at the first bad byte. */
	for (size_t at = 0; at < sizeof(s); at++) {
		memset(s, 'a', sizeof(s));
		s[at] = '\0';
		bad += proto_utf8_valid(s, sizeof(s)) ||
		       proto_utf8_prefix(s, sizeof(s)) != at;
	}
	T_OK(bad == 0, "utf8: a NUL byte at each of 40 offsets is refused "
		       "and found where it is");
}

static void test_replies(void)
{
	cJSON *r = cJSON_CreateObject(), *e;
	struct fw_diags d;
	char *err, *s;

	proto_reply_error(r, 2, "bad %s", "thing");
	proto_reply_error(r, 1, "line one\nline two");
	s = cJSON_PrintUnformatted(r);
	T_OK(!strcmp(s, "{\"ok\":false,\"error\":\"line one line two\",\"code\":1}"),
	     "reply: error replaces, stays one line: %s", s);
	cJSON_free(s);
	cJSON_Delete(r);

	r = cJSON_CreateObject();
	diags_init(&d);
	diags_add(&d, "db.json", "input.rules[3].port",
		  "70000 is out of range 1-65535");
	diags_add(&d, NULL, "", "no chains");
	d.dropped = 5;
	proto_reply_error(r, 1, "policy is invalid");
	proto_reply_add_diags(r, &d);
	s = cJSON_PrintUnformatted(r);
	T_OK(!strcmp(s, "{\"ok\":false,\"error\":\"policy is invalid\",\"code\":1,"
		     "\"errors\":[{\"file\":\"db.json\",\"path\":\"input.rules[3].port\","
		     "\"message\":\"70000 is out of range 1-65535\"},"
		     "{\"path\":\"\",\"message\":\"no chains\"}],\"errors_dropped\":5}"),
	     "reply: diagnostics: %s", s);
	cJSON_free(s);
	diags_free(&d);
	cJSON_Delete(r);

	e = proto_reply_decode("{\"ok\":true,\"x\":1}", 17, &err);
	T_OK(e && !err, "reply decode: ok");
	cJSON_Delete(e);
	e = proto_reply_decode("{\"x\":1}", 7, &err);
	T_OK(!e && err && !strcmp(err, "reply is not an object with a boolean \"ok\""),
	     "reply decode: no ok");
	free(err);
	e = proto_reply_decode("{\"ok\":tru", 9, &err);
	T_OK(!e && err && !strncmp(err, "reply is not valid JSON", 23),
	     "reply decode: truncated");
	free(err);
}

int main(void)
{
	test_reader_splits();
	test_reader_one_feed();
	test_reader_limits();
	test_reader_max();
	test_encode();
	test_decode_errors();
	test_decode_ok();
	test_attach();
	test_utf8_strides();
	test_replies();
	return t_done();
}
