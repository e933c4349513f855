/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server: fwd's control socket on the event loop. It accepts clients,
 * frames and validates requests, decides write permission from SO_PEERCRED
 * and calls one handler per command; it knows nothing about nftables.
 */
#ifndef FW_SERVER_H
#define FW_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "loop.h"
#include "proto.h"

/*
 * What one client may cost. A zero field in fw_server_config means the
 * default given here.
 */
struct fw_server_limits {
	/* Connected clients (default 256). One more is accepted, answered
	 * with an error and closed; but when the newcomer may write, the
	 * longest-idle read-only client makes room for it instead. */
	unsigned max_clients;
	/* Largest request frame body (default FW_PROTO_MAX_FRAME, 64 MiB). */
	uint32_t max_frame;
	/* A client that makes no progress (no byte read or written) for this
	 * long is closed: silent, stuck mid-frame, or not reading its
	 * replies (default 30000 ms). */
	unsigned idle_timeout_ms;
	/* Reply bytes queued for a client above which the server stops
	 * reading its further requests until it reads (default 1 MiB). A
	 * single reply is always queued whole. */
	size_t max_pending;
};

#define FW_SERVER_MAX_CLIENTS 256
#define FW_SERVER_IDLE_TIMEOUT_MS 30000
#define FW_SERVER_MAX_PENDING (1u << 20)

struct fw_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool can_write;	/* uid 0 or member of the admin group */
	char name[96];	/* "uid 1000 (alice) pid 4242" */
};

/*
 * Fills reply (an empty object on entry) with "ok" and the results, or
 * uses proto_reply_error. A reply left without "ok" becomes an internal
 * error. req is the validated request; the handler checks its arguments.
 */
typedef void (*fw_handler)(void *ctx, const struct fw_peer *peer,
			   const cJSON *req, cJSON *reply);

struct fw_server_config {
	const char *path;	/* socket path */
	const char *group;	/* admin group; NULL or missing: root only */
	/* FW_CMD_COUNT entries indexed by enum fw_cmd_id; a NULL entry
	 * answers "not implemented". Copied at creation. */
	const fw_handler *handlers;
	void *ctx;		/* first argument of every handler */
	struct fw_server_limits limits;
};

struct fw_server;

/*
 * Creates the socket (parent directory 0755 if missing; a stale socket
 * replaced; mode 0660 root:group, or 0600 without the group) and starts
 * accepting on loop. NULL/errno (EADDRINUSE: another server listens).
 */
struct fw_server *server_new(struct fw_loop *loop,
			     const struct fw_server_config *cfg);
/* Closes every client and the socket, and unlinks it if still ours. */
void server_free(struct fw_server *s);
/* Clients connected now. */
unsigned server_clients(const struct fw_server *s);

#endif
