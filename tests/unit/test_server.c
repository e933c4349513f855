// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_server: the control socket end to end. Servers (loop + server with a
 * dummy handler table) run in forked children on sockets in a temp dir; the
 * test is their client, through fwctl's client.c and through raw sockets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "loop.h"
#include "proto.h"
#include "server.h"
#include "t.h"

#define GROUP "adm"	/* exists on Debian; uid 65534 is not in it */
#define GROUP_GID 4
#define NOBODY 65534

static char tmpdir[128];

struct srv {
	char path[256];
	pid_t pid;
};

static struct srv srv_a, srv_b, srv_c, srv_d, srv_e;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- the dummy handlers ---- */

static const char *req_cmd(const cJSON *req)
{
	return cJSON_GetObjectItemCaseSensitive(req, "cmd")->valuestring;
}

static void h_echo(void *ctx, const struct fw_peer *peer, const cJSON *req,
		   cJSON *reply)
{
	(void)ctx;
	proto_reply_ok(reply);
	cJSON_AddStringToObject(reply, "cmd", req_cmd(req));
	cJSON_AddStringToObject(reply, "peer", peer->name);
	cJSON_AddBoolToObject(reply, "can_write", peer->can_write);
	cJSON_AddNumberToObject(reply, "pid", peer->pid);
}

/* "show": a reply of req.size bytes, to clog a client that never reads. */
static void h_big(void *ctx, const struct fw_peer *peer, const cJSON *req,
		  cJSON *reply)
{
	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(req, "size");
	size_t n = cJSON_IsNumber(sz) ? (size_t)sz->valuedouble : 10;
	char *s = malloc(n + 1);

	(void)ctx;
	(void)peer;
	memset(s, 'x', n);
	s[n] = '\0';
	proto_reply_ok(reply);
	cJSON_AddStringToObject(reply, "ruleset", s);
	free(s);
}

static void h_nothing(void *ctx, const struct fw_peer *peer,
		      const cJSON *req, cJSON *reply)
{
	(void)ctx;
	(void)peer;
	(void)req;
	(void)reply;
}

static const fw_handler handlers[FW_CMD_COUNT] = {
	[FW_CMD_APPLY] = h_echo,
	[FW_CMD_CONFIRM] = h_echo,
	[FW_CMD_ROLLBACK] = h_echo,
	[FW_CMD_DIFF] = h_echo,
	[FW_CMD_STATUS] = h_echo,
	[FW_CMD_SHOW] = h_big,
	[FW_CMD_METRICS] = h_nothing,
	/* FW_CMD_VERSION: not implemented */
};

/* ---- servers in children ---- */

static void on_term(void *arg, int signo)
{
	(void)signo;
	loop_stop(arg);
}

static int server_child(const char *path, const char *group,
			struct fw_server_limits lim, int ready)
{
	struct fw_server_config cfg = {
		.path = path, .group = group, .handlers = handlers,
		.limits = lim,
	};
	struct fw_loop *l = loop_new();
	struct fw_server *s;
	int rc;

	loop_signal_add(l, SIGTERM, on_term, l);
	s = server_new(l, &cfg);
	if (write(ready, s ? "1" : "0", 1) != 1 || !s)
		return 1;
	close(ready);
	rc = loop_run(l);
	server_free(s);
	loop_free(l);
	return rc ? 1 : 0;
}

static void srv_start(struct srv *v, const char *name, const char *group,
		      struct fw_server_limits lim)
{
	int p[2];
	char c = '0';

	snprintf(v->path, sizeof(v->path), "%s/%s/fwd.sock", tmpdir, name);
	if (pipe(p) < 0)
		abort();
	fflush(stdout);
	v->pid = fork();
	if (v->pid == 0) {
		close(p[0]);
		exit(server_child(v->path, group, lim, p[1]));
	}
	close(p[1]);
	T_OK(read(p[0], &c, 1) == 1 && c == '1', "server %s started", name);
	close(p[0]);
}

static void srv_stop(struct srv *v, const char *name)
{
	int st = -1;
	struct stat sb;

	kill(v->pid, SIGTERM);
	waitpid(v->pid, &st, 0);
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	     "server %s: SIGTERM ends the loop; clean exit (no leaks)", name);
	T_OK(lstat(v->path, &sb) < 0 && errno == ENOENT,
	     "server %s: socket removed on exit", name);
}

/* ---- client helpers ---- */

static cJSON *call(const char *path, const char *req)
{
	char *text = NULL, *err = NULL;
	cJSON *r;

	if (client_call(path, req, &text, 5000) < 0)
		return NULL;
	r = proto_reply_decode(text, strlen(text), &err);
	free(text);
	free(err);
	return r;
}

static const char *str_of(const cJSON *r, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int is_ok(const cJSON *r)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
}

/* An error reply with exactly this message and code 1. */
static int is_err(const cJSON *r, const char *msg)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(r, "code");

	return r && !is_ok(r) && !strcmp(str_of(r, "error"), msg) &&
	       cJSON_IsNumber(code) && code->valueint == 1;
}

static int send_raw(int fd, const void *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static int send_frame(int fd, const char *json)
{
	struct fw_buf b = {0};
	int rc;

	proto_frame_encode(&b, json, strlen(json));
	rc = send_raw(fd, b.s, b.len);
	buf_free(&b);
	return rc;
}

/* Reads one reply frame within timeout_ms; NULL on timeout/EOF/garbage. */
static cJSON *read_reply(int fd, int timeout_ms)
{
	struct fw_frame_reader r;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	char buf[4096], *body = NULL, *err = NULL;
	size_t used, len;
	cJSON *j = NULL;
	ssize_t n;
	int rc = 0;

	proto_reader_init(&r, UINT32_MAX);
	while (rc == 0 && now_ms() < end) {
		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = recv(fd, buf, proto_reader_want(&r) < sizeof(buf) ?
			 proto_reader_want(&r) : sizeof(buf), 0);
		if (n <= 0)
			break;
		rc = proto_reader_feed(&r, buf, (size_t)n, &used);
	}
	if (rc == 1) {
		body = proto_reader_take(&r, &len);
		j = proto_reply_decode(body, len, &err);
	}
	free(body);
	free(err);
	proto_reader_free(&r);
	return j;
}

/* Drains fd; true if it reaches EOF within timeout_ms. */
static int wait_eof(int fd, int timeout_ms, size_t *drained)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	char buf[65536];
	ssize_t n;

	if (drained)
		*drained = 0;
	while (now_ms() < end) {
		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 1;
		if (n < 0)
			return 0;
		if (drained)
			*drained += (size_t)n;
	}
	return 0;
}

/* Runs fn in a child with these credentials; its exit status (0 = pass). */
static int run_as(uid_t uid, gid_t gid, int (*fn)(const char *),
		  const char *path)
{
	int st = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(100);
		_exit(fn(path));
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 101;
}

/* ---- tests ---- */

static void test_socket_files(void)
{
	char dir[300];
	struct stat st;

	T_OK(stat(srv_a.path, &st) == 0 && (st.st_mode & 07777) == 0660 &&
	     st.st_gid == GROUP_GID && S_ISSOCK(st.st_mode),
	     "socket mode 0660, group " GROUP);
	T_OK(stat(srv_d.path, &st) == 0 && (st.st_mode & 07777) == 0600,
	     "group missing: socket mode 0600");
	snprintf(dir, sizeof(dir), "%s/a", tmpdir);
	T_OK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	     (st.st_mode & 07777) == 0755,
	     "missing parent directory made 0755");
}

static void test_root(void)
{
	char name[64];
	cJSON *r;

	r = call(srv_a.path, "{\"v\":1,\"cmd\":\"status\"}");
	snprintf(name, sizeof(name), "uid 0 (root) pid %d", (int)getpid());
	T_OK(is_ok(r) && !strcmp(str_of(r, "cmd"), "status") &&
	     !strcmp(str_of(r, "peer"), name),
	     "root: status answered; peer \"%s\"", str_of(r, "peer"));
	cJSON_Delete(r);
	r = call(srv_a.path, "{\"v\":1,\"cmd\":\"apply\",\"policy\":\"{}\"}");
	T_OK(is_ok(r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "can_write")),
	     "root: apply allowed");
	cJSON_Delete(r);
	r = call(srv_d.path, "{\"v\":1,\"cmd\":\"rollback\"}");
	T_OK(is_ok(r), "group missing: root may still write");
	cJSON_Delete(r);
	r = call(srv_a.path, "{\"v\":1,\"cmd\":\"version\"}");
	T_OK(is_err(r, "command 'version' is not implemented"),
	     "NULL handler: not implemented");
	cJSON_Delete(r);
	r = call(srv_a.path, "{\"v\":1,\"cmd\":\"metrics\"}");
	T_OK(is_err(r, "internal error: 'metrics' gave no result"),
	     "handler without \"ok\": internal error");
	cJSON_Delete(r);
}

/* Three 2 MiB replies queued past max_pending (1 MiB): the server waits
 * for the client to read, then answers the rest, in order. */
static void test_backpressure(void)
{
	static const char req[] = "{\"v\":1,\"cmd\":\"show\",\"size\":2097152}";
	int fd = client_connect(srv_a.path, 1000), i, good = 0;
	cJSON *r;

	for (i = 0; i < 3; i++)
		send_frame(fd, req);
	sleep_ms(200);
	for (i = 0; i < 3; i++) {
		r = read_reply(fd, 3000);
		good += is_ok(r) && strlen(str_of(r, "ruleset")) == 2097152;
		cJSON_Delete(r);
	}
	T_OK(good == 3, "pipelined replies past max_pending all arrive");
	close(fd);
}

/* Several requests in one write; a bad body keeps the connection. */
static void test_pipeline(void)
{
	int fd = client_connect(srv_a.path, 1000);
	cJSON *r1, *r2, *r3, *r4;
	struct fw_buf b = {0};

	proto_frame_encode(&b, "{\"v\":1,\"cmd\":\"status\"}", 22);
	proto_frame_encode(&b, "{\"v\":1,", 7);
	proto_frame_encode(&b, "{\"v\":1,\"cmd\":\"diff\"}", 20);
	proto_frame_encode(&b, "{\"v\":1,\"cmd\":\"nope\"}", 20);
	send_raw(fd, b.s, b.len);
	buf_free(&b);
	r1 = read_reply(fd, 2000);
	r2 = read_reply(fd, 2000);
	r3 = read_reply(fd, 2000);
	r4 = read_reply(fd, 2000);
	T_OK(is_ok(r1) && !strcmp(str_of(r1, "cmd"), "status"),
	     "pipelined: reply 1 (status)");
	T_OK(is_err(r2, "request is not valid JSON: syntax error at line 1 column 7"),
	     "pipelined: reply 2 (bad JSON): %s", str_of(r2, "error"));
	T_OK(is_ok(r3) && !strcmp(str_of(r3, "cmd"), "diff"),
	     "pipelined: reply 3 (diff) on the same connection");
	T_OK(is_err(r4, "unknown command 'nope'"),
	     "pipelined: reply 4 (unknown)");
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	cJSON_Delete(r3);
	cJSON_Delete(r4);
	/* Request, then shut down the sending side: the reply still comes. */
	send_frame(fd, "{\"v\":1,\"cmd\":\"status\"}");
	shutdown(fd, SHUT_WR);
	r1 = read_reply(fd, 2000);
	T_OK(is_ok(r1) && wait_eof(fd, 2000, NULL),
	     "half-closed client gets its reply, then EOF");
	cJSON_Delete(r1);
	close(fd);
}

static int ro_checks(const char *path)
{
	int fail = 0;
	cJSON *r = call(path, "{\"v\":1,\"cmd\":\"status\"}");

	if (!is_ok(r) || !cJSON_IsFalse(cJSON_GetObjectItem(r, "can_write")))
		fail |= 1;
	cJSON_Delete(r);
	r = call(path, "{\"v\":1,\"cmd\":\"apply\"}");
	if (!is_err(r, "permission denied: 'apply' needs root or group " GROUP))
		fail |= 2;
	cJSON_Delete(r);
	r = call(path, "{\"v\":1,\"cmd\":\"confirm\"}");
	if (!is_err(r, "permission denied: 'confirm' needs root or group " GROUP))
		fail |= 4;
	cJSON_Delete(r);
	return fail;
}

static int writer_checks(const char *path)
{
	cJSON *r = call(path, "{\"v\":1,\"cmd\":\"apply\"}");
	int ok = is_ok(r) &&
		 cJSON_IsTrue(cJSON_GetObjectItem(r, "can_write"));

	cJSON_Delete(r);
	return ok ? 0 : 1;
}

static int eacces_check(const char *path)
{
	char *reply = NULL;

	return client_call(path, "{\"v\":1,\"cmd\":\"status\"}", &reply,
			   1000) == -1 && errno == EACCES ? 0 : 1;
}

static void test_permissions(void)
{
	int rc;

	T_OK(run_as(NOBODY, NOBODY, eacces_check, srv_a.path) == 0,
	     "uid 65534 cannot connect to a 0660 socket (EACCES)");
	chmod(srv_a.path, 0666);
	rc = run_as(NOBODY, NOBODY, ro_checks, srv_a.path);
	T_OK(rc == 0, "uid 65534: status allowed, apply and confirm denied "
	     "(fail bits %d)", rc);
	T_OK(run_as(NOBODY, GROUP_GID, writer_checks, srv_a.path) == 0,
	     "uid 65534 with gid " GROUP ": apply allowed");
	chmod(srv_a.path, 0660);
}

/* Server E's group is nogroup, the primary group of nobody's passwd entry:
 * membership comes from getgrouplist, whatever the process's own gid. */
static int passwd_writer_checks(const char *path)
{
	cJSON *r = call(path, "{\"v\":1,\"cmd\":\"apply\"}");
	int ok = is_ok(r) &&
		 !strncmp(str_of(r, "peer"), "uid 65534 (nobody) pid ", 23);

	cJSON_Delete(r);
	return ok ? 0 : 1;
}

static int unknown_uid_checks(const char *path)
{
	cJSON *r = call(path, "{\"v\":1,\"cmd\":\"status\"}");
	int fail = !is_ok(r) || strncmp(str_of(r, "peer"), "uid 4242 pid ", 13);

	cJSON_Delete(r);
	r = call(path, "{\"v\":1,\"cmd\":\"rollback\"}");
	fail |= !is_err(r, "permission denied: 'rollback' needs root or "
			"group nogroup") << 1;
	cJSON_Delete(r);
	return fail;
}

static void test_passwd_groups(void)
{
	chmod(srv_e.path, 0666);
	T_OK(run_as(NOBODY, 1234, passwd_writer_checks, srv_e.path) == 0,
	     "uid 65534 gid 1234: group from its passwd entry lets it write");
	T_OK(run_as(4242, 1234, unknown_uid_checks, srv_e.path) == 0,
	     "uid 4242 (no passwd entry): named by number, read-only");
}

static void test_framing(void)
{
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd;
	cJSON *r;

	fd = client_connect(srv_a.path, 1000);
	send_raw(fd, huge, 4);
	r = read_reply(fd, 2000);
	T_OK(is_err(r, "frame of 4294967295 bytes exceeds the limit of "
		       "67108864 bytes") && wait_eof(fd, 2000, NULL),
	     "4 GiB header: error reply, then closed");
	cJSON_Delete(r);
	close(fd);

	fd = client_connect(srv_a.path, 1000);
	send_raw(fd, zero, 4);
	r = read_reply(fd, 2000);
	T_OK(is_err(r, "frame of length 0") && wait_eof(fd, 2000, NULL),
	     "zero-length frame: error reply, then closed");
	cJSON_Delete(r);
	close(fd);

	fd = client_connect(srv_a.path, 1000);
	send_raw(fd, http, sizeof(http) - 1);
	r = read_reply(fd, 2000);
	T_OK(r && !is_ok(r) && wait_eof(fd, 2000, NULL),
	     "HTTP garbage: error reply (%s), then closed", str_of(r, "error"));
	cJSON_Delete(r);
	close(fd);

	fd = client_connect(srv_a.path, 1000);
	send_frame(fd, "\x01\x02garbage\xff");
	r = read_reply(fd, 2000);
	cJSON_Delete(r);
	send_frame(fd, "{\"v\":1,\"cmd\":\"status\"}");
	r = read_reply(fd, 2000);
	T_OK(is_ok(r), "garbage body: error reply, connection kept");
	cJSON_Delete(r);
	close(fd);
}

/* 200 idle clients (half stuck mid-header) do not slow anybody down. */
static void test_many(void)
{
	int fds[300], i, n = 0, fd;
	uint64_t t0;
	cJSON *r;

	for (i = 0; i < 200; i++) {
		fds[n] = client_connect(srv_a.path, 1000);
		if (fds[n] >= 0 && i % 2)
			send_raw(fds[n], "\0\0", 2);
		n += fds[n] >= 0;
	}
	t0 = now_ms();
	r = call(srv_a.path, "{\"v\":1,\"cmd\":\"status\"}");
	T_OK(n == 200 && is_ok(r) && now_ms() - t0 < 500,
	     "200 idle connections: another client answered in %llu ms",
	     (unsigned long long)(now_ms() - t0));
	cJSON_Delete(r);
	/* From here clients that had their answer and stay: a request
	 * (or silence) still coming after a second would make room for a
	 * newcomer (test_evict_slow). */
	while (n)
		close(fds[--n]);
	sleep_ms(100); /* let the server see those closes and the call's */
	while (n < 256) {
		fds[n] = client_connect(srv_a.path, 1000);
		send_frame(fds[n], "{\"v\":1,\"cmd\":\"status\"}");
		cJSON_Delete(read_reply(fds[n++], 2000));
	}
	fd = client_connect(srv_a.path, 1000);
	send_frame(fd, "{\"v\":1,\"cmd\":\"status\"}");
	r = read_reply(fd, 2000);
	T_OK(is_err(r, "too many clients; try again later") &&
	     wait_eof(fd, 2000, NULL),
	     "client 257: error reply, then closed");
	cJSON_Delete(r);
	close(fd);
	r = call(srv_a.path, "{\"v\":1,\"cmd\":\"status\"}");
	T_OK(is_err(r, "too many clients; try again later"),
	     "client_call reads the refusal even if its send failed");
	cJSON_Delete(r);
	while (n)
		close(fds[--n]);
	sleep_ms(200);
	r = call(srv_a.path, "{\"v\":1,\"cmd\":\"status\"}");
	T_OK(is_ok(r), "room again once they leave");
	cJSON_Delete(r);
}

static void test_idle(void)
{
	static const uint8_t part[] = { 0, 0, 0, 100, '{', '"', 'v', '"' };
	uint64_t t0;
	int fd, fd2;
	cJSON *r;

	fd = client_connect(srv_b.path, 1000);
	fd2 = client_connect(srv_b.path, 1000);
	send_raw(fd, part, sizeof(part));
	t0 = now_ms();
	r = read_reply(fd, 4000);
	T_OK(is_err(r, "timeout: request incomplete") &&
	     wait_eof(fd, 1000, NULL),
	     "half-sent frame: timeout reply and close after %llu ms "
	     "(timeout 1000)", (unsigned long long)(now_ms() - t0));
	T_OK(now_ms() - t0 >= 900 && now_ms() - t0 < 3000,
	     "idle timeout fired on time");
	cJSON_Delete(r);
	close(fd);
	T_OK(wait_eof(fd2, 3000, NULL), "silent client closed too");
	close(fd2);
}

/* Progress resets the clock: 1.5 s to send one request is fine. */
static void test_slow_progress(void)
{
	static const char req[] = "{\"v\":1,\"cmd\":\"status\"}";
	struct fw_buf b = {0};
	size_t i, step;
	int fd;
	cJSON *r;

	proto_frame_encode(&b, req, sizeof(req) - 1);
	fd = client_connect(srv_b.path, 1000);
	step = (b.len + 4) / 5;
	for (i = 0; i < b.len; i += step) {
		send_raw(fd, b.s + i, b.len - i < step ? b.len - i : step);
		sleep_ms(350);
	}
	r = read_reply(fd, 2000);
	T_OK(is_ok(r), "slow sender making progress is served");
	cJSON_Delete(r);
	close(fd);
	buf_free(&b);
}

/* A client that never reads an 8 MiB reply is dropped; others go on. */
static void test_no_reader(void)
{
	size_t drained;
	uint64_t t0;
	int fd;
	cJSON *r;

	fd = client_connect(srv_b.path, 1000);
	send_frame(fd, "{\"v\":1,\"cmd\":\"show\",\"size\":8388608}");
	sleep_ms(300);
	t0 = now_ms();
	r = call(srv_b.path, "{\"v\":1,\"cmd\":\"status\"}");
	T_OK(is_ok(r) && now_ms() - t0 < 500,
	     "others served while a client does not read its reply");
	cJSON_Delete(r);
	sleep_ms(2000);
	T_OK(wait_eof(fd, 2000, &drained) && drained < 8388608,
	     "non-reading client closed after the timeout (%zu bytes got "
	     "through)", drained);
	close(fd);
}

/* Server C takes 2 clients: a writer displaces an idle read-only one. */
static int hold_two(const char *path)
{
	int a = client_connect(path, 1000), b = client_connect(path, 1000);
	int closed;

	if (a < 0 || b < 0)
		return 1;
	sleep_ms(800); /* the parent connects as root meanwhile */
	closed = wait_eof(a, 200, NULL) + wait_eof(b, 200, NULL);
	return closed == 1 ? 0 : 2;
}

/* Server C, full of requests that do not come whole: a newcomer (any)
 * takes the place of the one that has been coming longest. */
static void test_evict_slow(void)
{
	static const uint8_t part[] = { 0, 0, 0, 100, '{', '"', 'v', '"' };
	int a = client_connect(srv_c.path, 1000), b, fd;
	cJSON *r;

	send_raw(a, part, sizeof(part));
	sleep_ms(50);
	b = client_connect(srv_c.path, 1000);
	send_raw(b, part, sizeof(part));
	sleep_ms(1200);
	fd = client_connect(srv_c.path, 1000);
	send_frame(fd, "{\"v\":1,\"cmd\":\"status\"}");
	r = read_reply(fd, 2000);
	T_OK(is_ok(r), "full of slow requests: a newcomer gets in");
	cJSON_Delete(r);
	r = read_reply(a, 1000);
	T_OK(is_err(r, "too many clients; closed to make room") &&
		     wait_eof(a, 1000, NULL) && !wait_eof(b, 200, NULL),
	     "the slowest request's client made room, the other stays");
	cJSON_Delete(r);
	close(a);
	close(b);
	close(fd);
	sleep_ms(100);

	/* Silence since it connected counts as a request that does not
	 * come; a client that had its answer and stays does not. */
	a = client_connect(srv_c.path, 1000);
	b = client_connect(srv_c.path, 1000);
	send_frame(b, "{\"v\":1,\"cmd\":\"status\"}");
	cJSON_Delete(read_reply(b, 2000));
	sleep_ms(1200);
	fd = client_connect(srv_c.path, 1000);
	send_frame(fd, "{\"v\":1,\"cmd\":\"status\"}");
	r = read_reply(fd, 2000);
	T_OK(is_ok(r) && wait_eof(a, 1000, NULL) && !wait_eof(b, 200, NULL),
	     "a client silent for a second made room, not one that had its "
	     "answer");
	cJSON_Delete(r);
	close(a);
	close(b);
	close(fd);
	sleep_ms(100);
}

/* Root applies while a child with gid holds both places of server C idle:
 * exactly one of the child's connections makes room. */
static void root_gets_in(gid_t gid, const char *who)
{
	int st = -1, fd;
	pid_t pid;
	cJSON *r;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(gid) || setuid(NOBODY))
			_exit(100);
		_exit(hold_two(srv_c.path));
	}
	sleep_ms(300);
	fd = client_connect(srv_c.path, 1000);
	send_frame(fd, "{\"v\":1,\"cmd\":\"apply\"}");
	r = read_reply(fd, 2000);
	T_OK(is_ok(r), "server full of %s: root gets in", who);
	cJSON_Delete(r);
	waitpid(pid, &st, 0);
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	     "server full of %s: exactly one, idle, made room", who);
	close(fd);
	sleep_ms(100);
}

/* A request that trickles in, a byte at a time, still has to come whole:
 * server B (idle timeout 1 s) gives it four times that. */
static void test_trickle(void)
{
	static const uint8_t part[] = { 0, 0, 0, 100, '{', '"', 'v', '"' };
	uint64_t t0 = now_ms();
	int fd = client_connect(srv_b.path, 1000), i;
	cJSON *r;

	send_raw(fd, part, sizeof(part));
	for (i = 0; i < 14 && !wait_eof(fd, 0, NULL); i++) {
		sleep_ms(400);
		send_raw(fd, " ", 1);
	}
	r = read_reply(fd, 2000);
	T_OK(is_err(r, "timeout: request incomplete") &&
		     now_ms() - t0 >= 3800 && now_ms() - t0 < 6500,
	     "a trickling request is closed after %llu ms (limit 4000)",
	     (unsigned long long)(now_ms() - t0));
	cJSON_Delete(r);
	close(fd);
}

static void test_evict(void)
{
	chmod(srv_c.path, 0666);
	root_gets_in(NOBODY, "read-only clients");
	/* Writers of another user (the admin group's) do not keep root out
	 * either. */
	root_gets_in(GROUP_GID, "another user's writers");
}

static void test_inprocess(void)
{
	struct fw_server_config cfg = { .group = GROUP };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fw_loop *l = loop_new();
	struct fw_server *s;
	char path[256], *reply;
	struct stat st;
	int fd;

	cfg.path = srv_a.path;
	errno = 0;
	T_OK(!server_new(l, &cfg) && errno == EADDRINUSE,
	     "a live socket is not stolen (EADDRINUSE)");
	/* A stale socket: bound, then its owner went away. */
	snprintf(path, sizeof(path), "%s/stale.sock", tmpdir);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	T_OK(client_call(path, "{}", &reply, 1000) == -1 &&
	     errno == ECONNREFUSED, "client: stale socket -> ECONNREFUSED");
	cfg.path = path;
	s = server_new(l, &cfg);
	T_OK(s != NULL, "a stale socket is replaced");
	server_free(s);
	T_OK(lstat(path, &st) < 0 && errno == ENOENT,
	     "server_free removes its socket");
	T_OK(client_call(path, "{}", &reply, 1000) == -1 && errno == ENOENT,
	     "client: no socket -> ENOENT");
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fd = creat(path, 0600);
	close(fd);
	cfg.path = path;
	T_OK(!server_new(l, &cfg) && errno == EEXIST,
	     "a regular file at the path is left alone (EEXIST)");
	loop_free(l);
}

static void cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

int main(void)
{
	struct fw_server_limits def = {0};
	struct fw_server_limits quick = { .idle_timeout_ms = 1000 };
	struct fw_server_limits two = { .max_clients = 2 };

	if (geteuid() != 0) {
		printf("ok - # SKIP test_server needs root\n");
		return 0;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fwd-test-server.XXXXXX");
	/* 0755: uid 65534 must reach the sockets inside. */
	if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) < 0)
		return 1;
	/* Servers first, so that none inherits a client's socket. */
	srv_start(&srv_a, "a", GROUP, def);
	srv_start(&srv_b, "b", GROUP, quick);
	srv_start(&srv_c, "c", GROUP, two);
	srv_start(&srv_d, "d", "fwd-no-such-group", def);
	srv_start(&srv_e, "e", "nogroup", def);
	test_socket_files();
	test_root();
	test_pipeline();
	test_backpressure();
	test_permissions();
	test_passwd_groups();
	test_framing();
	test_many();
	test_idle();
	test_slow_progress();
	test_no_reader();
	test_evict();
	test_evict_slow();
	test_trickle();
	test_inprocess();
	srv_stop(&srv_a, "a");
	srv_stop(&srv_b, "b");
	srv_stop(&srv_c, "c");
	srv_stop(&srv_d, "d");
	srv_stop(&srv_e, "e");
	cleanup();
	return t_done();
}
