// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * server: the control socket. All I/O is non-blocking with per-client read
 * state and write queue, so a slow or hostile client stalls nobody; it
 * frames, validates and authorises requests, but never interprets them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "util.h"

#define ACCEPT_BATCH 64		/* accepts per wakeup */
#define READ_BATCH 16		/* reads per client per wakeup */
#define READ_CHUNK 65536
#define SLOW_REQUEST_MS 1000	/* see slow() */
#define REQUEST_TIMEOUTS 4	/* see server_sweep() */

struct fw_client {
	struct fw_server *srv;
	int fd;
	struct fw_watch *w;
	struct fw_peer peer;
	struct fw_frame_reader rd;
	struct fw_buf out;	/* queued reply frames */
	size_t out_off;		/* bytes of out already sent */
	uint64_t last_progress;	/* loop_now_ms() of the last byte moved */
	uint64_t req_since;	/* since when a request is due, or 0 */
	bool closing;		/* framing error: flush, then close */
	bool eof;		/* peer shut down its sending side */
	bool dead;		/* I/O error: close now */
	int passed;		/* a file passed with the request, or -1 */
	struct fw_client *prev, *next;
};

struct fw_server {
	struct fw_loop *loop;
	int fd;
	struct fw_watch *w;
	struct fw_timer *sweep;
	char *path;
	dev_t dev;		/* of the socket inode we bound */
	ino_t ino;
	char *group;		/* NULL: root only */
	gid_t gid;
	struct fw_server_limits lim;
	fw_handler handlers[FW_CMD_COUNT];
	void *ctx;
	struct fw_client *clients;
	unsigned nclients;
	int reserve_fd;		/* spare fd to shed clients at EMFILE */
};

/* ---- peers ---- */

static bool peer_in_group(const struct passwd *pw, gid_t gid)
{
	int n = 32, i;
	gid_t *v = NULL;
	bool in = false;

	for (;;) {
		int got = n;

		v = xrealloc(v, (size_t)n * sizeof(*v));
		if (getgrouplist(pw->pw_name, pw->pw_gid, v, &got) >= 0) {
			n = got;
			break;
		}
		n = got > n ? got : n * 2;
		if (n > 65536) {
			n = 0;
			break;
		}
	}
	for (i = 0; i < n && !in; i++)
		in = v[i] == gid;
	free(v);
	return in;
}

/* Fills p from the socket's credentials; -1/errno. */
static int peer_get(struct fw_server *s, int fd, struct fw_peer *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct passwd pwbuf, *pw = NULL;
	char strs[4096];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -1;
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	getpwuid_r(uc.uid, &pwbuf, strs, sizeof(strs), &pw);
	p->can_write = uc.uid == 0;
	if (!p->can_write && s->group)
		p->can_write = uc.gid == s->gid ||
			       (pw && peer_in_group(pw, s->gid));
	if (pw)
		snprintf(p->name, sizeof(p->name), "uid %u (%.32s) pid %d",
			 (unsigned)uc.uid, pw->pw_name, (int)uc.pid);
	else
		snprintf(p->name, sizeof(p->name), "uid %u pid %d",
			 (unsigned)uc.uid, (int)uc.pid);
	return 0;
}

/* ---- clients: output ---- */

static size_t client_pending(const struct fw_client *c)
{
	return c->out.len - c->out_off;
}

static void client_flush(struct fw_client *c)
{
	ssize_t n;

	while (client_pending(c) && !c->dead) {
		n = send(c->fd, c->out.s + c->out_off, client_pending(c),
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		c->out_off += (size_t)n;
		c->last_progress = loop_now_ms();
	}
	/* Drained: give large reply buffers back. */
	if (c->out.cap > READ_CHUNK)
		buf_free(&c->out);
	c->out.len = 0;
	c->out_off = 0;
}

/* Queues reply as one frame and tries to send it right away. */
static void client_reply(struct fw_client *c, const cJSON *reply)
{
	if (proto_frame_encode_json(&c->out, reply) < 0) {
		cJSON *e = proto_reply_new_error(FW_CODE_FAIL,
						 "reply too large to send");

		log_warn("reply to %s too large to send", c->peer.name);
		proto_frame_encode_json(&c->out, e);
		cJSON_Delete(e);
	}
	client_flush(c);
}

static void client_reply_error(struct fw_client *c, const char *msg)
{
	cJSON *e = proto_reply_new_error(FW_CODE_FAIL, "%s", msg);

	client_reply(c, e);
	cJSON_Delete(e);
}

/* ---- clients: lifecycle ---- */

static void client_close(struct fw_client *c)
{
	struct fw_server *s = c->srv;

	loop_watch_del(c->w);
	close(c->fd);
	if (c->passed >= 0)
		close(c->passed);
	proto_reader_free(&c->rd);
	buf_free(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	free(c);
}

static bool client_can_read(const struct fw_client *c)
{
	return !c->closing && !c->eof && !c->dead &&
	       client_pending(c) < c->srv->lim.max_pending;
}

/* Closes c when it is finished, else sets the interest it needs now. */
static void client_update(struct fw_client *c)
{
	unsigned ev;

	if (c->dead || ((c->closing || c->eof) && !client_pending(c))) {
		client_close(c);
		return;
	}
	ev = (client_can_read(c) ? FW_EV_READ : 0) |
	     (client_pending(c) ? FW_EV_WRITE : 0);
	if (loop_watch_set(c->w, ev) < 0) {
		log_warn_errno("epoll for %s", c->peer.name);
		client_close(c);
	}
}

/* ---- clients: requests ---- */

static void deny(struct fw_client *c, const struct fw_cmd *cmd,
		 cJSON *reply)
{
	const char *group = c->srv->group;

	log_warn("permission denied: %s from %s", cmd->name, c->peer.name);
	proto_reply_error(reply, FW_CODE_FAIL,
			  "permission denied: '%s' needs root%s%s", cmd->name,
			  group ? " or group " : "", group ? group : "");
}

/* Whether the client may run cmd (SO_PEERCRED: root and the group). */
static bool may_run(const struct fw_client *c, const struct fw_cmd *cmd)
{
	return !cmd->write || c->peer.can_write;
}

static void dispatch_call(struct fw_client *c, const struct fw_cmd *cmd,
			  const cJSON *req, cJSON *reply)
{
	struct fw_server *s = c->srv;

	if (!may_run(c, cmd)) {
		deny(c, cmd, reply);
		return;
	}
	if (!s->handlers[cmd->id]) {
		proto_reply_error(reply, FW_CODE_FAIL,
				  "command '%s' is not implemented", cmd->name);
		return;
	}
	if (cmd->write)
		log_info("%s from %s", cmd->name, c->peer.name);
	s->handlers[cmd->id](s->ctx, &c->peer, req, reply);
	if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		log_err("handler for '%s' gave no result", cmd->name);
		proto_reply_error(reply, FW_CODE_FAIL,
				  "internal error: '%s' gave no result",
				  cmd->name);
	}
}

/* Whether fd's file lives in memory only (tmpfs, ramfs). */
static bool in_memory(int fd)
{
	struct statfs f;

	return fstatfs(fd, &f) == 0 &&
	       (f.f_type == TMPFS_MAGIC || f.f_type == RAMFS_MAGIC);
}

/*
 * The policy of a request that says "policy_file": N (proto.h): the N
 * bytes of the regular file passed with it, which become its "policy"
 * (and "policy_bytes"). Read without waiting on the disk or a network
 * file system (the client has just read the file, so its pages are in
 * memory): the loop serves every client. NULL, or an error message
 * (malloc'ed).
 */
static char *take_file(struct fw_client *c, cJSON *req)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "policy_file");
	size_t want = n ? (size_t)n->valuedouble : 0, got = 0;
	int fd = c->passed;
	struct statx st;
	char *text, *err = NULL;
	bool nowait = true;
	ssize_t k;

	if (!n)
		return NULL;
	c->passed = -1;
	if (fd < 0)
		return xasprintf("\"policy_file\" says a file comes with the "
				 "request, but none did");
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
		  STATX_TYPE | STATX_SIZE, &st) < 0)
		err = xasprintf("cannot look at the policy file passed: %s",
				strerror(errno));
	else if (!S_ISREG(st.stx_mode))
		err = xasprintf("the policy passed is not a regular file");
	else if (st.stx_size != want)
		err = xasprintf("the policy file passed is %llu bytes; the "
				"request says %zu",
				(unsigned long long)st.stx_size, want);
	else if (want > c->srv->lim.max_frame)
		err = xasprintf("the policy file is %zu bytes, over the "
				"limit of %zu",
				want, (size_t)c->srv->lim.max_frame);
	if (err) {
		close(fd);
		return err;
	}
	text = xmalloc(want + 1);
	while (got < want) {
		struct iovec v = {text + got, want - got};

		k = preadv2(fd, &v, 1, (off_t)got, nowait ? RWF_NOWAIT : 0);
		if (k < 0 && errno == EINTR)
			continue;
		/* A file system of memory (tmpfs: /tmp on many hosts) reads
		 * without waiting, but does not take the flag. */
		if (k < 0 && errno == EOPNOTSUPP && nowait && in_memory(fd)) {
			nowait = false;
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EOPNOTSUPP))
			err = xasprintf("%s", FW_PROTO_FILE_WAITS);
		else if (k <= 0)
			err = xasprintf("cannot read the policy file passed: "
					"%s",
					k < 0 ? strerror(errno)
					      : "it got shorter");
		if (err)
			break;
		got += (size_t)k;
	}
	close(fd);
	if (err) {
		free(text);
		return err;
	}
	text[want] = '\0';
	proto_request_set_policy(req, text, want);
	return NULL;
}

/* Answers one request frame; takes body (freed once decoded, before the
 * command runs: a big policy is then held once, in the request). */
static void dispatch(struct fw_client *c, char *body, size_t len)
{
	const struct fw_cmd *cmd;
	char *err = NULL;
	cJSON *req, *reply;

	reply = cJSON_CreateObject();
	if (!reply)
		abort();
	req = proto_request_decode(body, len, &cmd, &err);
	free(body);
	/* A file is read only for a client that may run the command. */
	if (req && may_run(c, cmd) && (err = take_file(c, req)) != NULL) {
		cJSON_Delete(req);
		req = NULL;
	}
	if (req)
		dispatch_call(c, cmd, req, reply);
	else
		proto_reply_error(reply, FW_CODE_FAIL, "%s", err);
	/* A file passed with a request that does not take one. */
	if (c->passed >= 0) {
		close(c->passed);
		c->passed = -1;
	}
	client_reply(c, reply);
	cJSON_Delete(reply);
	cJSON_Delete(req);
	free(err);
}

/* Feeds n freshly read bytes; they never extend past the current frame. */
static void client_feed(struct fw_client *c, const char *p, size_t n)
{
	size_t used, len;
	char *body;
	int rc;

	rc = proto_reader_feed(&c->rd, p, n, &used);
	if (rc < 0) {
		log_info("closing %s: %s", c->peer.name, c->rd.err);
		client_reply_error(c, c->rd.err);
		c->closing = true;
	} else if (rc == 1) {
		body = proto_reader_take(&c->rd, &len);
		dispatch(c, body, len);
	}
}

/* n bytes came straight into the frame's body. */
static void client_body(struct fw_client *c, size_t n)
{
	size_t len;
	char *body;

	if (proto_reader_wrote(&c->rd, n) == 1) {
		body = proto_reader_take(&c->rd, &len);
		dispatch(c, body, len);
	}
}

/*
 * recv(2) that also takes files passed with the bytes (SCM_RIGHTS): the
 * first one passed with a frame's first bytes is kept for its request
 * (proto.h, "policy_file"), any other closed at once.
 */
static ssize_t recv_fds(struct fw_client *c, char *p, size_t want)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct iovec v = {p, want};
	struct msghdr m = {.msg_iov = &v,
			   .msg_iovlen = 1,
			   .msg_control = u.b,
			   .msg_controllen = sizeof(u.b)};
	struct cmsghdr *h;
	/* Files count only with a frame's first bytes: one passed later is
	 * nobody's. */
	bool start = c->rd.hdr_len == 0;
	ssize_t n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		size_t k;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(fd));
			if (start && c->passed < 0)
				c->passed = fd;
			else
				close(fd);
		}
	}
	return n;
}

static void client_read(struct fw_client *c)
{
	char buf[READ_CHUNK];
	size_t want;
	ssize_t n;
	int i;

	for (i = 0; i < READ_BATCH && client_can_read(c); i++) {
		/* A body goes straight into its frame; a header through
		 * buf. */
		char *room = proto_reader_room(&c->rd, &want);

		if (!room) {
			want = proto_reader_want(&c->rd);
			if (want > sizeof(buf))
				want = sizeof(buf);
		}
		n = recv_fds(c, room ? room : buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		if (n == 0) {
			c->eof = true;
			return;
		}
		c->last_progress = loop_now_ms();
		if (room)
			client_body(c, (size_t)n);
		else
			client_feed(c, buf, (size_t)n);
		if (!proto_reader_busy(&c->rd))
			c->req_since = 0;
		else if (!c->req_since)
			c->req_since = c->last_progress;
	}
}

static void client_event(void *arg, int fd, unsigned events)
{
	struct fw_client *c = arg;

	(void)fd;
	if (events & (FW_EV_WRITE | FW_EV_ERR))
		client_flush(c);
	if ((events & (FW_EV_READ | FW_EV_ERR)) && client_can_read(c))
		client_read(c);
	else if ((events & FW_EV_ERR) && !client_pending(c))
		c->dead = true; /* hung up and nothing to do: don't spin */
	client_update(c);
}

/* ---- accepting ---- */

/* Best effort: one error frame, then close. */
static void refuse(int fd, const char *msg)
{
	cJSON *e = proto_reply_new_error(FW_CODE_FAIL, "%s", msg);
	struct fw_buf b = {0};

	if (proto_frame_encode_json(&b, e) == 0)
		(void)!send(fd, b.s, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&b);
	cJSON_Delete(e);
	close(fd);
}

/* Of the clients that ok() accepts, the one whose key is least. */
static struct fw_client *least(struct fw_server *s,
			       bool (*ok)(const struct fw_client *),
			       uint64_t (*key)(const struct fw_client *))
{
	struct fw_client *c, *best = NULL;

	for (c = s->clients; c; c = c->next)
		if (ok(c) && (!best || key(c) < key(best)))
			best = c;
	return best;
}

static uint64_t idle_since(const struct fw_client *c)
{
	return c->last_progress;
}

static uint64_t sending_since(const struct fw_client *c)
{
	return c->req_since;
}

static bool read_only(const struct fw_client *c)
{
	return !c->peer.can_write;
}

/* Over a local socket a request comes whole at once: one still coming
 * after SLOW_REQUEST_MS is slow, or stuck (or a client silent since it
 * connected). */
static bool slow(const struct fw_client *c)
{
	return c->req_since &&
	       loop_now_ms() - c->req_since >= SLOW_REQUEST_MS;
}

/* Not root's, and not waiting for a reply of fwd's. */
static bool not_root_idle(const struct fw_client *c)
{
	return c->peer.uid != 0 && !client_pending(c);
}

/*
 * The client to close for newcomer p when every place is taken: for a
 * writer, the read-only client idle longest; for anyone, the client whose
 * request has been slow the longest; for root, the other user's client
 * idle longest -- so that neither readers nor slow writers can keep root
 * out. NULL: p is refused.
 */
static struct fw_client *evict_candidate(struct fw_server *s,
					 const struct fw_peer *p)
{
	struct fw_client *c = NULL;

	if (p->can_write)
		c = least(s, read_only, idle_since);
	if (!c)
		c = least(s, slow, sending_since);
	if (!c && p->uid == 0)
		c = least(s, not_root_idle, idle_since);
	return c;
}

/* Makes room for a newcomer; false if it has to be refused. */
static bool admit(struct fw_server *s, const struct fw_peer *p)
{
	struct fw_client *victim;

	if (s->nclients < s->lim.max_clients)
		return true;
	victim = evict_candidate(s, p);
	if (!victim) {
		log_warn("refusing %s: too many clients (%u)", p->name,
			 s->lim.max_clients);
		return false;
	}
	log_warn("too many clients: dropping %s for %s", victim->peer.name,
		 p->name);
	client_reply_error(victim, "too many clients; closed to make room");
	client_close(victim);
	return true;
}

static void client_new(struct fw_server *s, int fd)
{
	struct fw_client *c;
	struct fw_peer p = {0};

	if (peer_get(s, fd, &p) < 0) {
		log_warn_errno("SO_PEERCRED");
		close(fd);
		return;
	}
	if (!admit(s, &p)) {
		refuse(fd, "too many clients; try again later");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = s;
	c->fd = fd;
	c->passed = -1;
	c->peer = p;
	/* Its first request is due from now: silence counts as slow. */
	c->last_progress = c->req_since = loop_now_ms();
	proto_reader_init(&c->rd, s->lim.max_frame);
	c->w = loop_watch_add(s->loop, fd, FW_EV_READ, client_event, c);
	if (!c->w) {
		log_warn_errno("epoll for %s", p.name);
		close(fd);
		free(c);
		return;
	}
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
}

/* Out of fds: accept with the spare one and drop the connection, so
 * the listening socket does not stay readable forever. */
static void shed(struct fw_server *s)
{
	int fd;

	log_warn_errno("accept");
	if (s->reserve_fd < 0)
		return;
	close(s->reserve_fd);
	fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void server_accept(void *arg, int lfd, unsigned events)
{
	struct fw_server *s = arg;
	int i, fd;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			client_new(s, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE)
			shed(s);
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn_errno("accept");
		return;
	}
}

/* ---- idle sweep ---- */

static void server_sweep(void *arg)
{
	struct fw_server *s = arg;
	struct fw_client *c, *next;
	uint64_t now = loop_now_ms();
	/* A request trickling in a byte at a time makes progress, but must
	 * still come whole within this. */
	uint64_t whole = REQUEST_TIMEOUTS * (uint64_t)s->lim.idle_timeout_ms;

	for (c = s->clients; c; c = next) {
		bool idle = now - c->last_progress >= s->lim.idle_timeout_ms;
		bool late = c->req_since && now - c->req_since >= whole;

		next = c->next;
		if (!idle && !late)
			continue;
		log_info("closing %s: %s", c->peer.name,
			 idle ? "no progress" : "its request still incomplete");
		/* Tell a client stuck mid-request why; one not reading
		 * its replies would not read this either. */
		if (proto_reader_busy(&c->rd) && !client_pending(c))
			client_reply_error(c, "timeout: request incomplete");
		client_close(c);
	}
}

/* ---- the listening socket ---- */

/* Replaces a stale socket at path; refuses to steal a live one. */
static int socket_clear(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int parent_mkdir(const char *path)
{
	char *copy = xstrdup(path);
	int rc = mkdir(dirname(copy), 0755);

	free(copy);
	return rc < 0 && errno != EEXIST ? -1 : 0;
}

/* Mode and owner of the socket file; created 0600 so never too open. */
static int socket_bind(struct fw_server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int rc;

	strcpy(sa.sun_path, s->path);
	old = umask(0177);
	rc = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || lstat(s->path, &st) < 0)
		return -1;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (!s->group)
		return 0;
	if (chown(s->path, (uid_t)-1, s->gid) < 0) {
		log_warn_errno("chown %s to group %s; serving root only",
			       s->path, s->group);
		free(s->group);
		s->group = NULL;
		return 0;
	}
	return chmod(s->path, 0660);
}

static int server_listen(struct fw_server *s)
{
	if (strlen(s->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (parent_mkdir(s->path) < 0 || socket_clear(s->path) < 0)
		return -1;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || socket_bind(s) < 0 || listen(s->fd, SOMAXCONN) < 0)
		return -1;
	s->w = loop_watch_add(s->loop, s->fd, FW_EV_READ, server_accept, s);
	return s->w ? 0 : -1;
}

static void group_resolve(struct fw_server *s, const char *name)
{
	struct group gbuf, *g = NULL;
	char strs[16384];

	if (!name)
		return;
	getgrnam_r(name, &gbuf, strs, sizeof(strs), &g);
	if (!g) {
		log_warn("group %s does not exist; serving root only", name);
		return;
	}
	s->group = xstrdup(name);
	s->gid = g->gr_gid;
}

static void limits_fill(struct fw_server_limits *l)
{
	if (!l->max_clients)
		l->max_clients = FW_SERVER_MAX_CLIENTS;
	if (!l->max_frame)
		l->max_frame = FW_PROTO_MAX_FRAME;
	if (!l->idle_timeout_ms)
		l->idle_timeout_ms = FW_SERVER_IDLE_TIMEOUT_MS;
	if (!l->max_pending)
		l->max_pending = FW_SERVER_MAX_PENDING;
}

struct fw_server *server_new(struct fw_loop *loop,
			     const struct fw_server_config *cfg)
{
	struct fw_server *s = xcalloc(1, sizeof(*s));
	unsigned tick;
	int e;

	s->loop = loop;
	s->fd = -1;
	s->path = xstrdup(cfg->path);
	s->lim = cfg->limits;
	limits_fill(&s->lim);
	if (cfg->handlers)
		memcpy(s->handlers, cfg->handlers, sizeof(s->handlers));
	s->ctx = cfg->ctx;
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	group_resolve(s, cfg->group);
	if (server_listen(s) < 0)
		goto fail;
	tick = s->lim.idle_timeout_ms / 4;
	tick = tick < 50 ? 50 : tick > 1000 ? 1000 : tick;
	s->sweep = loop_timer_add(loop, tick, tick, server_sweep, s);
	if (!s->sweep)
		goto fail;
	return s;
fail:
	e = errno;
	server_free(s);
	errno = e;
	return NULL;
}

void server_free(struct fw_server *s)
{
	struct stat st;

	if (!s)
		return;
	while (s->clients)
		client_close(s->clients);
	loop_timer_del(s->sweep);
	loop_watch_del(s->w);
	if (s->fd >= 0) {
		close(s->fd);
		/* Unlink only our own socket, not a successor's. */
		if (s->ino && lstat(s->path, &st) == 0 &&
		    st.st_dev == s->dev && st.st_ino == s->ino)
			unlink(s->path);
	}
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	free(s->group);
	free(s->path);
	free(s);
}

unsigned server_clients(const struct fw_server *s)
{
	return s->nclients;
}
