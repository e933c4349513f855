/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client: fwctl's side of the control socket: connect, send one request
 * frame, read one reply frame (see common/proto.h). Transport only; it
 * neither builds requests nor interprets replies.
 */
#ifndef FW_CLIENT_H
#define FW_CLIENT_H

#include <stddef.h>

/*
 * Connects to fwd within timeout_ms (negative: no limit). Returns a
 * socket, or -1 with connect's errno unchanged: ENOENT (no socket),
 * ECONNREFUSED (nobody listening), EACCES (socket mode), ENOTSOCK,
 * ENAMETOOLONG, or ETIMEDOUT (backlog full for too long). Any of these
 * means "cannot reach fwd" (fwctl exit status 3).
 */
int client_connect(const char *socket_path, int timeout_ms);

/*
 * Sends request_json (one JSON object) as a frame on fd and reads one
 * reply frame within timeout_ms. *reply_json is malloc'ed and
 * NUL-terminated; reply_len may be NULL. The reply is not parsed. -1/errno:
 * ETIMEDOUT, ECONNRESET (fwd closed the connection before a whole reply),
 * EBADMSG or EMSGSIZE (bad reply framing), or a socket error. When fwd
 * refuses a connection with an error reply and closes it before the
 * request is sent, that reply is returned, not EPIPE.
 */
int client_request(int fd, const char *request_json, char **reply_json,
		   size_t *reply_len, int timeout_ms);

/* The same with an attachment: att[0..att_len) after the JSON text and
 * a NUL byte (proto.h); none when att is NULL. And the open file pass
 * passed with the request (SCM_RIGHTS; proto.h), unless it is -1. */
int client_request_with(int fd, const char *request_json, const char *att,
			size_t att_len, int pass, char **reply_json,
			size_t *reply_len, int timeout_ms);

/*
 * client_connect + client_request + close, all within timeout_ms. 0, or -1
 * with errno as above; connect failures keep connect's errno.
 */
int client_call(const char *socket_path, const char *request_json,
		char **reply_json, int timeout_ms);

#endif
