// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_proto: libFuzzer target for the control socket's untrusted input:
 * bytes fed to the frame reader in chunks (size from the first input byte),
 * each frame through proto_request_decode, and the raw rest as one body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A request that decoded must re-encode and come back through a reader. */
static void check_roundtrip(const cJSON *req, const struct fw_cmd *cmd)
{
	struct fw_frame_reader r;
	struct fw_buf b = {0};
	size_t used, len;
	char *body;

	if (!cmd || proto_cmd_find(cmd->name) != cmd)
		__builtin_trap();
	if (proto_frame_encode_json(&b, req) < 0)
		__builtin_trap();
	proto_reader_init(&r, UINT32_MAX);
	if (proto_reader_feed(&r, b.s, b.len, &used) != 1 || used != b.len)
		__builtin_trap();
	body = proto_reader_take(&r, &len);
	if (len != b.len - 4 || memcmp(body, b.s + 4, len))
		__builtin_trap();
	free(body);
	proto_reader_free(&r);
	buf_free(&b);
}

static void decode(const char *body, size_t len)
{
	const struct fw_cmd *cmd;
	char *err = NULL;
	cJSON *j = proto_request_decode(body, len, &cmd, &err);

	if (!j == !err)
		__builtin_trap(); /* exactly one of the two */
	if (j)
		check_roundtrip(j, cmd);
	cJSON_Delete(j);
	free(err);
	j = proto_reply_decode(body, len, &err);
	cJSON_Delete(j);
	free(err);
}

static void frames(const uint8_t *p, size_t n, size_t step)
{
	struct fw_frame_reader r;
	size_t off = 0, used, k, len;
	char *body;
	int rc = 0;

	proto_reader_init(&r, 1u << 20);
	while (off < n && rc >= 0) {
		k = n - off < step ? n - off : step;
		rc = proto_reader_feed(&r, p + off, k, &used);
		if (used > k || (rc == 0 && used != k))
			__builtin_trap();
		off += used;
		if (rc == 1) {
			body = proto_reader_take(&r, &len);
			if (!body || body[len] != '\0')
				__builtin_trap();
			decode(body, len);
			free(body);
		}
	}
	proto_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (size < 1)
		return 0;
	frames(data + 1, size - 1, (size_t)data[0] + 1);
	/* The decoder's contract wants body[len] == '\0'. */
	copy = malloc(size);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	decode(copy, size - 1);
	free(copy);
	return 0;
}
