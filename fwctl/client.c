// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * client: one request/reply exchange with fwd over its Unix socket, with a
 * deadline over the whole exchange. It moves frames; it does not print,
 * exit, or look inside the JSON it carries.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"
#include "util.h"

#define NO_DEADLINE UINT64_MAX

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? NO_DEADLINE : now_ms() + (uint64_t)timeout_ms;
}

/* Milliseconds left for poll(): -1 forever, 0 when past. */
static int left_ms(uint64_t deadline)
{
	uint64_t now = now_ms();

	if (deadline == NO_DEADLINE)
		return -1;
	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

/* Waits for events on fd until deadline; -1/ETIMEDOUT. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, left_ms(deadline));
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0 ? 0 : -1;
}

static int connect_by(const char *path, uint64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc, ms = left_ms(deadline), e;
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A Unix connect blocks while the backlog is full; SO_SNDTIMEO
	 * bounds it. */
	if (ms > 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	do {
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} while (rc < 0 && errno == EINTR);
	if (rc == 0 && fcntl(fd, F_SETFL, O_NONBLOCK) == 0)
		return fd;
	e = errno == EAGAIN || errno == EINPROGRESS ? ETIMEDOUT : errno;
	close(fd);
	errno = e;
	return -1;
}

int client_connect(const char *socket_path, int timeout_ms)
{
	return connect_by(socket_path, deadline_of(timeout_ms));
}

/* Sends the n pieces of v (which it uses up) whole, and with its first
 * bytes the open file pass unless it is -1. */
static int send_all(int fd, struct iovec *v, size_t n, int pass,
		    uint64_t deadline)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {0};
	ssize_t k;

	while (n) {
		m.msg_iov = v;
		m.msg_iovlen = n;
		if (pass >= 0) {
			memset(&u, 0, sizeof(u));
			m.msg_control = u.b;
			m.msg_controllen = sizeof(u.b);
			u.h.cmsg_level = SOL_SOCKET;
			u.h.cmsg_type = SCM_RIGHTS;
			u.h.cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(&u.h), &pass, sizeof(pass));
		}
		k = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			pass = -1; /* it went with those bytes */
			m.msg_control = NULL;
			m.msg_controllen = 0;
		}
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
			continue;
		}
		for (; n && (size_t)k >= v->iov_len; v++, n--)
			k -= (ssize_t)v->iov_len;
		if (n) {
			v->iov_base = (char *)v->iov_base + k;
			v->iov_len -= (size_t)k;
		}
	}
	return 0;
}

/* Reads exactly one frame; never reads past its end. */
static char *recv_frame(int fd, size_t *len, uint64_t deadline)
{
	struct fw_frame_reader r;
	char buf[65536], *body = NULL;
	size_t want, used;
	ssize_t n;
	int rc = 0;

	proto_reader_init(&r, UINT32_MAX);
	while (rc == 0) {
		want = proto_reader_want(&r);
		n = recv(fd, buf, want < sizeof(buf) ? want : sizeof(buf),
			 MSG_DONTWAIT);
		if (n > 0) {
			rc = proto_reader_feed(&r, buf, (size_t)n, &used);
		} else if (n == 0) {
			errno = ECONNRESET;
			rc = -1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			rc = wait_fd(fd, POLLIN, deadline);
		} else if (errno != EINTR) {
			rc = -1;
		}
	}
	if (rc == 1)
		body = proto_reader_take(&r, len);
	rc = errno;
	proto_reader_free(&r);
	errno = rc;
	return body;
}

int client_request(int fd, const char *request_json, char **reply_json,
		   size_t *reply_len, int timeout_ms)
{
	return client_request_with(fd, request_json, NULL, 0, -1, reply_json,
				   reply_len, timeout_ms);
}

int client_request_with(int fd, const char *request_json, const char *att,
			size_t att_len, int pass, char **reply_json,
			size_t *reply_len, int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	size_t jlen = strlen(request_json), body = jlen, len;
	uint8_t hdr[FW_PROTO_HDR_LEN];
	struct iovec v[4];
	size_t n = 0;
	int e;

	*reply_json = NULL;
	if (att)
		body += 1 + att_len;
	if (body == 0 || body > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	/* The frame in pieces: header, JSON, and the NUL and attachment
	 * as they are in memory, copied by no one but the kernel. */
	hdr[0] = (uint8_t)(body >> 24);
	hdr[1] = (uint8_t)(body >> 16);
	hdr[2] = (uint8_t)(body >> 8);
	hdr[3] = (uint8_t)body;
	v[n++] = (struct iovec){hdr, sizeof(hdr)};
	v[n++] = (struct iovec){(void *)request_json, jlen};
	if (att) {
		v[n++] = (struct iovec){"", 1};
		v[n++] = (struct iovec){(void *)att, att_len};
	}
	if (send_all(fd, v, n, pass, deadline) < 0) {
		e = errno;
		/* fwd may have said why it closed on us: read that. */
		if (e == EPIPE || e == ECONNRESET)
			*reply_json = recv_frame(fd, &len, deadline_of(0));
		if (!*reply_json) {
			errno = e;
			return -1;
		}
	} else {
		*reply_json = recv_frame(fd, &len, deadline);
		if (!*reply_json)
			return -1;
	}
	if (reply_len)
		*reply_len = len;
	return 0;
}

int client_call(const char *socket_path, const char *request_json,
		char **reply_json, int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	int fd, rc, e, left;

	*reply_json = NULL;
	fd = connect_by(socket_path, deadline);
	if (fd < 0)
		return -1;
	left = left_ms(deadline);
	if (timeout_ms >= 0 && left == 0) {
		close(fd);
		errno = ETIMEDOUT;
		return -1;
	}
	rc = client_request(fd, request_json, reply_json, NULL, left);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}
