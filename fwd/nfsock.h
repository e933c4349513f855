/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfsock: a non-blocking NETLINK_NETFILTER socket read from the event loop,
 * the common part of fwd's listeners (nflog, tamper). It sends nothing.
 */
#ifndef FW_NFSOCK_H
#define FW_NFSOCK_H

#include <libmnl/libmnl.h>

#include "loop.h"

struct fw_nfsock {
	struct mnl_socket *nl;
	struct fw_watch *watch;
};

/* Opens and binds a non-blocking socket. -1/errno. */
int nfsock_open(struct fw_nfsock *s);
/* Starts calling cb when the socket is readable. -1/errno. */
int nfsock_watch(struct fw_nfsock *s, struct fw_loop *loop, fw_watch_cb cb,
		 void *arg);
/* Stops watching and closes; fine on a half-opened or zeroed socket. */
void nfsock_close(struct fw_nfsock *s);

#endif
