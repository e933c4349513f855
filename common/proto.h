/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto: the control protocol between fwctl (or any client) and fwd, shared
 * by both sides: framing, the command table, request validation and reply
 * helpers. No sockets and no daemon code here; this is linked into fwctl.
 */
#ifndef FW_PROTO_H
#define FW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "diag.h"
#include "util.h"

/**
 * DOC: fwd control protocol, version 1
 *
 * fwd listens on a Unix stream socket (default /run/fwd/fwd.sock, mode 0660,
 * owned by root and the admin group, default "fwadm"). Anything that can
 * connect may talk to it; nothing else about the transport is assumed.
 *
 * Framing. Each message in either direction is one frame:
 *
 *	+--------+--------+--------+--------+----------------------------+
 *	| length N, 32-bit unsigned, big-endian |  N bytes: one JSON object |
 *	+--------+--------+--------+--------+----------------------------+
 *
 * N is 1..max; the default max is FW_PROTO_MAX_FRAME (64 MiB) and a server
 * may be configured lower or higher. The body is UTF-8 JSON text (RFC 8259)
 * holding exactly one object, optionally surrounded by whitespace; no NUL
 * bytes, no trailing data (but for a request's attached policy, below).
 * A length of 0 or above the server's max is a
 * framing error: the server answers with an error reply and closes the
 * connection, since the stream cannot be resynchronised. It decides this
 * from the 4 header bytes alone, before any body arrives.
 *
 * Conversation. The client sends a request frame; the server answers it
 * with exactly one reply frame. A connection may carry several requests in
 * sequence; replies come back in request order. A client may pipeline
 * (send the next request before reading the previous reply), but the
 * server stops reading from a client whose unread replies exceed its
 * pending-bytes limit until the client reads them. A connection that makes
 * no progress (no bytes received or sent) for the idle timeout (default
 * 30 s) is closed, whether it is silent, stuck mid-frame or not reading
 * its replies; one stuck mid-frame first gets an error reply saying so.
 * Clients should open a connection per operation or keep it busy. When
 * the server already has its maximum of clients (default 256), it answers
 * a newcomer with an error reply ("too many clients; try again later")
 * and closes it; unless the newcomer may write, in which case the
 * longest-idle read-only client is closed to make room.
 *
 * Requests:
 *
 *	{"v": 1, "cmd": "<command>", ...arguments}
 *
 * A request may carry its "policy" argument after the JSON text instead:
 * the body is then the JSON object, one NUL byte, and the policy's bytes
 * as they are (no JSON string escapes), and the object says how many with
 * "policy_bytes": N. The server makes them the "policy" member before the
 * command sees the request; the command checks them (UTF-8, no NUL) as it
 * would a policy string. A megabyte policy is then neither escaped by the
 * client nor unescaped and scanned twice by the server.
 *
 * Or the policy stays in its file (apply and diff): the client passes the
 * open file with the request (SCM_RIGHTS, with the frame's first bytes),
 * and the object says "policy_file": N, the file's size. The server reads
 * the N bytes of that regular file as they are then and makes them the
 * "policy" member, as above; a file of another kind or size, or no file
 * passed, fails the request. Nothing of the policy crosses the socket.
 * The server never waits for the file (the client has just read it):
 * when a read would wait (its pages are not in memory) or its file system
 * cannot say (but for tmpfs, which is memory), the request fails with
 * FW_PROTO_FILE_WAITS, and the client sends the bytes after the request
 * instead. (An fwd older than files answers that
 * "policy" must be a string; the client then sends it as one.) Files
 * passed with any other request, later in a frame, or by a client that
 * may not run the command are closed unread.
 *
 * "v" is the protocol version, the number 1. "cmd" is a command name from
 * the table below. Other members are the command's arguments. The server
 * validates the envelope completely before dispatching: the body must be
 * valid UTF-8 and parse as a JSON object, top-level member names must be
 * unique, "v" must be 1 and "cmd" a known command. A request that fails
 * these checks gets an error reply and the connection stays open. Each
 * command then checks its own arguments.
 *
 * Replies:
 *
 *	{"ok": true, ...results}
 *	{"ok": false, "error": "one-line message", "code": 1 | 2,
 *	 "errors": [{"file": "db.json", "path": "input.rules[3].port",
 *		     "message": "70000 is out of range 1-65535"}]}
 *
 * "ok" is always present. On failure "error" is a single line meant for a
 * human, and "code" the exit status fwctl should use: 1 the operation
 * failed or the policy is invalid, 2 the request was unusable (bad
 * arguments). "errors" is optional and lists every diagnostic of an invalid
 * policy, each with "file" (may be absent), "path" (a JSON path, "" for the
 * whole document) and "message"; "errors_dropped": N counts the ones left
 * out past the cap (FW_DIAG_MAX).
 *
 * Commands. A "write" command changes state and needs a privileged peer:
 * uid 0, or a peer whose gid, or one of the supplementary groups of its
 * uid's passwd entry, is the admin group. Anyone who can connect may use
 * the read commands. A write command from another peer is refused with
 *
 *	{"ok": false, "error": "permission denied: 'apply' needs root or
 *	 group fwadm", "code": 1}
 *
 * Arguments and results (handlers own them; amend this table with them):
 *
 *	command   kind   arguments            reply members when ok
 *	apply     write  "policy": document   "changed": bool, "policy_sha256",
 *	                 (string, the exact   "confirm_deadline": null or
 *	                 bytes), "confirm":   RFC 3339
 *	                 seconds, "dry_run",
 *	                 "force": bool, "ssh":
 *	                 {"client": address,
 *	                  "port": number}
 *	confirm   write  -                    -
 *	rollback  write  -                    "policy_sha256"
 *	diff      read   "policy": document   "changes": [...]
 *	status    read   -                    the fwctl status --json object
 *	show      read   -                    "policy", "ruleset" (nft syntax)
 *	metrics   read   -                    "text": Prometheus exposition
 *	version   read   -                    "version": fwd's version
 *
 * Compatibility. The protocol is append-only, as chrony's: new commands,
 * new optional arguments and new reply members may be added within
 * version 1; clients ignore reply members they do not know. Anything
 * incompatible gets a new "v", and a server refuses versions it does not
 * speak with an error reply naming the version it does speak.
 */

#define FW_PROTO_VERSION 1
/* The error of a command given no "policy" string. Older fwds answer it
 * to a "policy_file" request (clients fall back on it): never reword. */
#define FW_PROTO_NO_POLICY "\"policy\" must be the policy document as a string"
/* The error of a "policy_file" request whose file cannot be read without
 * waiting (proto.h's DOC): the client sends the bytes instead. */
#define FW_PROTO_FILE_WAITS                                                   \
	"the policy file passed cannot be read without waiting; send its "   \
	"bytes"
#define FW_PROTO_MAX_FRAME (64u << 20)
#define FW_PROTO_HDR_LEN 4

/* Reply "code" values; they are fwctl's exit statuses. */
#define FW_CODE_FAIL 1
#define FW_CODE_USAGE 2

enum fw_cmd_id {
	FW_CMD_APPLY,
	FW_CMD_CONFIRM,
	FW_CMD_ROLLBACK,
	FW_CMD_DIFF,
	FW_CMD_STATUS,
	FW_CMD_SHOW,
	FW_CMD_METRICS,
	FW_CMD_VERSION,
	FW_CMD_COUNT
};

struct fw_cmd {
	const char *name;
	enum fw_cmd_id id;
	bool write; /* changes state: root or the admin group only */
};

/* The command table, indexed by enum fw_cmd_id. */
extern const struct fw_cmd proto_cmds[FW_CMD_COUNT];
/* Looks a command up by name; NULL if unknown. */
const struct fw_cmd *proto_cmd_find(const char *name);

/*
 * Incremental frame reader. Feed it bytes as they arrive; it reports each
 * complete frame. Memory grows with the bytes actually received, never with
 * the announced length alone, so a hostile header costs nothing.
 */
struct fw_frame_reader {
	uint32_t max;		/* largest body accepted */
	uint8_t hdr[FW_PROTO_HDR_LEN];
	size_t hdr_len;		/* header bytes seen so far */
	uint32_t want;		/* announced body length, once hdr_len == 4 */
	char *body;		/* body bytes so far, NUL-terminated */
	size_t len, cap;
	int error;		/* sticky framing error (an errno), or 0 */
	char err[96];		/* its message, for the error reply */
};

/* max 0 means FW_PROTO_MAX_FRAME. */
void proto_reader_init(struct fw_frame_reader *r, uint32_t max);
void proto_reader_free(struct fw_frame_reader *r);
/*
 * Consumes bytes from p[0..n) up to the end of the next frame and stores
 * the count in *used. Returns 1 when a frame is complete (take it with
 * proto_reader_take, then feed the rest), 0 when all n bytes were consumed
 * and more are needed, -1 on a framing error (errno EMSGSIZE for a length
 * above max, EBADMSG for length 0; r->err says which). Errors are sticky.
 */
int proto_reader_feed(struct fw_frame_reader *r, const void *p, size_t n,
		      size_t *used);
/*
 * Hands over the complete frame's body (malloc'ed, NUL-terminated at
 * body[len]) and resets the reader for the next frame.
 */
char *proto_reader_take(struct fw_frame_reader *r, size_t *len);
/*
 * Where the next bytes of the current frame's body can go directly (a
 * recv into it saves a copy), and how many (*n, at least 1): NULL before
 * the header is whole, after an error or once the body is. Then
 * proto_reader_wrote says how many came: 1 when the frame is complete.
 */
char *proto_reader_room(struct fw_frame_reader *r, size_t *n);
int proto_reader_wrote(struct fw_frame_reader *r, size_t n);
/*
 * Bytes that would finish the header or the current frame: reading no more
 * than this from a socket never consumes a byte of the next frame.
 */
size_t proto_reader_want(const struct fw_frame_reader *r);
/* True when the reader holds part of a frame. */
bool proto_reader_busy(const struct fw_frame_reader *r);

/* Appends one frame carrying body[0..len). -1/EMSGSIZE if len is 0 or
 * does not fit 32 bits. */
int proto_frame_encode(struct fw_buf *out, const void *body, size_t len);
/* Appends one frame carrying the unformatted JSON of obj. -1/errno. */
int proto_frame_encode_json(struct fw_buf *out, const cJSON *obj);

/*
 * Validates and parses a request body. body[len] must be readable and
 * '\0' (proto_reader_take guarantees it). Returns the parsed object, to be
 * freed with cJSON_Delete, with *cmd set; or NULL with *err set to a
 * malloc'ed one-line message.
 */
cJSON *proto_request_decode(const char *body, size_t len,
			    const struct fw_cmd **cmd, char **err);
/* Makes text[0..len) (malloc'ed, NUL-terminated; taken) req's "policy",
 * with "policy_bytes": len, as an attached policy would be. */
void proto_request_set_policy(cJSON *req, char *text, size_t len);
/* Builds {"v": 1, "cmd": name}; the caller adds arguments. */
cJSON *proto_request_new(const char *cmd);

/*
 * Parses a reply body (same NUL rule as above): an object with a boolean
 * "ok". NULL with *err set otherwise.
 */
cJSON *proto_reply_decode(const char *body, size_t len, char **err);
/* Sets "ok": true on reply. */
void proto_reply_ok(cJSON *reply);
/* Sets "ok": false, "error" and "code" on reply, replacing earlier ones. */
void proto_reply_error(cJSON *reply, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A new error reply object. */
cJSON *proto_reply_new_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends one entry to reply's "errors" array (file may be NULL). */
void proto_reply_add_diag(cJSON *reply, const char *file, const char *path,
			  const char *msg);
/* Appends every diagnostic in d (and a count of dropped ones, if any). */
void proto_reply_add_diags(cJSON *reply, const struct fw_diags *d);

/* True if s[0..n) is well-formed UTF-8 without NUL bytes. */
bool proto_utf8_valid(const char *s, size_t n);
/* The length of its longest prefix that is: n when all of it is. */
size_t proto_utf8_prefix(const char *s, size_t n);

#endif
