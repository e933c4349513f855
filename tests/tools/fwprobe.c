// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fwprobe: the test suite's traffic tool, used only inside network
 * namespaces that the tests create.
 *   fwprobe listen PORT...      TCP listeners and UDP echo on v4 and v6
 *   fwprobe probe TIMEOUT_MS    reads "SRC DST PORT tcp|udp" lines on stdin,
 *                               runs them all at once, prints each line
 *                               followed by open / refused / dropped
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAXP 4096

static int mkaddr(const char *s, int port, struct sockaddr_storage *ss,
		  socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	return -1;
}

static void echo_udp(int fd)
{
	char buf[2048], cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct sockaddr_in6 from;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from),
			   .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	ssize_t r = recvmsg(fd, &m, 0);

	if (r <= 0)
		return;
	iov.iov_len = (size_t)r;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
			((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_ifindex = 0;
	m.msg_flags = 0;
	sendmsg(fd, &m, 0);
}

static int do_listen(int argc, char **argv)
{
	struct pollfd pfd[2 * 64];
	int n = 0, one = 1;

	for (int i = 0; i < argc && n + 2 <= 128; i++) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6,
					 .sin6_port = htons(atoi(argv[i]))};
		int t = socket(AF_INET6, SOCK_STREAM, 0);
		int u = socket(AF_INET6, SOCK_DGRAM, 0);

		setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Answer from the address asked, whatever the route prefers. */
		setsockopt(u, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		if (bind(t, (void *)&a, sizeof(a)) < 0 || listen(t, 128) < 0 ||
		    bind(u, (void *)&a, sizeof(a)) < 0) {
			perror("fwprobe listen");
			return 1;
		}
		pfd[n++] = (struct pollfd){.fd = t, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = u, .events = POLLIN};
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (i % 2 == 0) {
				int c = accept(pfd[i].fd, NULL, NULL);

				if (c >= 0)
					close(c);
				continue;
			}
			echo_udp(pfd[i].fd);
		}
	}
}

struct probe {
	char line[256];
	int fd, udp;
	const char *result;
};

static void start(struct probe *p)
{
	char src[64], dst[64], proto[8];
	struct sockaddr_storage s, d;
	socklen_t sl, dl;
	int port, fam;

	p->fd = -1;
	if (sscanf(p->line, "%63s %63s %d %7s", src, dst, &port, proto) != 4 ||
	    (fam = mkaddr(src, 0, &s, &sl)) < 0 ||
	    mkaddr(dst, port, &d, &dl) != fam) {
		p->result = "bad-probe";
		return;
	}
	p->udp = !strcmp(proto, "udp");
	p->fd = socket(fam, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK,
		       0);
	if (p->fd < 0 || bind(p->fd, (void *)&s, sl) < 0) {
		p->result = "bind-failed";
		return;
	}
	if (connect(p->fd, (void *)&d, dl) < 0 && errno != EINPROGRESS) {
		p->result = errno == ECONNREFUSED ? "refused" : "error";
		return;
	}
	if (p->udp && send(p->fd, "probe", 5, 0) < 0)
		p->result = "error";
}

static void finish(struct probe *p, short rev)
{
	int err = 0;
	socklen_t el = sizeof(err);
	char buf[16];

	if (p->udp) {
		ssize_t r = recv(p->fd, buf, sizeof(buf), 0);

		p->result = r >= 0 ? "open" : errno == ECONNREFUSED ? "refused"
								     : NULL;
		return;
	}
	(void)rev;
	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
	p->result = !err ? "open" : err == ECONNREFUSED ? "refused" : "error";
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int do_probe(int timeout)
{
	static struct probe p[MAXP];
	static struct pollfd pfd[MAXP];
	int n = 0;
	long end;

	while (n < MAXP && fgets(p[n].line, sizeof(p[n].line), stdin)) {
		p[n].line[strcspn(p[n].line, "\n")] = '\0';
		if (p[n].line[0] && p[n].line[0] != '#')
			start(&p[n++]);
	}
	end = now_ms() + timeout;
	for (;;) {
		int k = 0, left = (int)(end - now_ms());

		for (int i = 0; i < n; i++) {
			if (p[i].result)
				continue;
			pfd[k].fd = p[i].fd;
			pfd[k].events = p[i].udp ? POLLIN : POLLOUT;
			k++;
		}
		if (!k || left <= 0)
			break;
		poll(pfd, (nfds_t)k, left);
		k = 0;
		for (int i = 0; i < n; i++) {
			if (p[i].result)
				continue;
			if (pfd[k].revents)
				finish(&p[i], pfd[k].revents);
			k++;
		}
	}
	for (int i = 0; i < n; i++) {
		printf("%s %s\n", p[i].line, p[i].result ? p[i].result : "dropped");
		if (p[i].fd >= 0)
			close(p[i].fd);
	}
	return 0;
}

static int readn(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p = (char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

static int do_request(const char *path)
{
	static char body[1 << 20];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = fread(body, 1, sizeof(body), stdin);
	uint8_t hdr[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16),
			  (uint8_t)(n >> 8), (uint8_t)n};
	uint32_t len;
	char *reply;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (void *)&a, sizeof(a)) < 0 ||
	    write(fd, hdr, 4) != 4 || write(fd, body, n) != (ssize_t)n ||
	    readn(fd, hdr, 4) < 0) {
		perror("fwprobe request");
		return 1;
	}
	len = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
	reply = malloc(len + 1);
	if (!reply || readn(fd, reply, len) < 0)
		return 1;
	reply[len] = '\0';
	printf("%s\n", reply);
	free(reply);
	return 0;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (void *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_frame(int fd, const char *body, size_t n, size_t send_n)
{
	uint8_t hdr[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16),
			  (uint8_t)(n >> 8), (uint8_t)n};

	if (write(fd, hdr, 4) != 4 || write(fd, body, send_n) < 0)
		perror("fwprobe hostile");
}

/* Opens every kind of bad client; returns how many connected. */
static int do_hostile(const char *path, int secs)
{
	static int fds[260];
	static char nest[200001];
	const char *status = "{\"v\":1,\"cmd\":\"show\"}";
	int n = 0, k;

	for (k = 0; k < 200; k++) /* idle */
		fds[n++] = unix_connect(path);
	for (k = 0; k < 10; k++) { /* half-sent frames */
		fds[n] = unix_connect(path);
		send_frame(fds[n++], status, strlen(status), 5);
	}
	for (k = 0; k < 5; k++) { /* garbage */
		fds[n] = unix_connect(path);
		if (write(fds[n++], "GET / HTTP/1.0\r\n\r\n", 18) < 0)
			perror("fwprobe hostile");
	}
	fds[n] = unix_connect(path); /* a header announcing 4 GiB */
	send_frame(fds[n++], "", 0xffffffffu, 0);
	memset(nest, '[', 100000); /* deeply nested JSON */
	memset(nest + 100000, ']', 100000);
	fds[n] = unix_connect(path);
	send_frame(fds[n++], nest, 200000, 200000);
	for (k = 0; k < 5; k++) { /* ask, never read the reply */
		fds[n] = unix_connect(path);
		for (int j = 0; j < 50; j++)
			send_frame(fds[n], status, strlen(status),
				   strlen(status));
		n++;
	}
	k = 0;
	for (int i = 0; i < n; i++)
		k += fds[i] >= 0;
	printf("%d connected\n", k);
	fflush(stdout);
	sleep((unsigned)secs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "hostile"))
		return do_hostile(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "request"))
		return do_request(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "listen"))
		return do_listen(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "probe"))
		return do_probe(atoi(argv[2]));
	fprintf(stderr, "usage: fwprobe listen PORT... | probe TIMEOUT_MS\n");
	return 2;
}
