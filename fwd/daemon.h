/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon: fwd's state machine -- the active policy and its plan, applying
 * new ones through the netlink backend, persisting them, and answering the
 * control commands. Owns no sockets but the netlink one (through nl).
 */
#ifndef FW_DAEMON_H
#define FW_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "loop.h"
#include "server.h"

struct fw_daemon_config {
	const char *statedir;
	const char *table;
	const char *textfile; /* NULL: none */
	bool no_lock;	      /* leave the table open to other processes */
};

struct fw_daemon;

/* Opens the netlink socket. NULL/errno. */
struct fw_daemon *daemon_new(const struct fw_daemon_config *cfg);
void daemon_free(struct fw_daemon *d);
/*
 * Loads the saved active policy into the kernel before clients are served:
 * adopted as it is when the kernel still holds what fwd last committed,
 * otherwise applied in one transaction. 0 also when nothing is saved.
 */
int daemon_start(struct fw_daemon *d);
/*
 * Starts what runs on the loop: the drop-log receiver, the counter sampler
 * behind rates, and the --textfile writer.
 */
void daemon_attach(struct fw_daemon *d, struct fw_loop *loop);
/* Re-applies the active policy (SIGHUP). */
int daemon_reload(struct fw_daemon *d);
/* The handler table for the server, indexed by enum fw_cmd_id. */
const fw_handler *daemon_handlers(void);

#endif
