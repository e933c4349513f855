// SPDX-License-Identifier: GPL-2.0-or-later
/* nfsock: opens, watches and closes fwd's listening netfilter sockets. */
#include <fcntl.h>
#include <stddef.h>

#include "nfsock.h"

int nfsock_open(struct fw_nfsock *s)
{
	int fd;

	s->watch = NULL;
	s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!s->nl || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	fd = mnl_socket_get_fd(s->nl);
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ? -1 : 0;
}

int nfsock_watch(struct fw_nfsock *s, struct fw_loop *loop, fw_watch_cb cb,
		 void *arg)
{
	s->watch = loop_watch_add(loop, mnl_socket_get_fd(s->nl), FW_EV_READ,
				  cb, arg);
	return s->watch ? 0 : -1;
}

void nfsock_close(struct fw_nfsock *s)
{
	if (s->watch)
		loop_watch_del(s->watch);
	if (s->nl)
		mnl_socket_close(s->nl);
	s->watch = NULL;
	s->nl = NULL;
}
