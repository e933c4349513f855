// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * remote: the fwctl commands that ask fwd -- apply, status, show, version.
 * Each builds one request, sends it, and renders the reply as text or, with
 * --json, as the reply object itself. Exit 3 when fwd cannot be reached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "fwctl.h"
#include "policy.h"
#include "proto.h"
#include "util.h"

#define CALL_TIMEOUT_MS 120000

/*
 * The policy of a request, on a connection open already (fd; -1 when
 * there is none; proto.h): a mapped file goes as the file itself, passed
 * with the request; anything else (a pipe) as bytes after the request.
 */
struct attached {
	int fd;
	struct fw_view v;
	const char *file;
	const char *cut; /* CUT_SHORT: while fwctl "read" or "sent" it */
};

/* Whether reply is an error whose message begins with prefix. */
static bool error_starts(const char *reply, const char *prefix)
{
	char *err = NULL;
	cJSON *j = proto_reply_decode(reply, strlen(reply), &err);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	bool is = j && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")) &&
		  cJSON_IsString(e) &&
		  !strncmp(e->valuestring, prefix, strlen(prefix));

	cJSON_Delete(j);
	free(err);
	return is;
}

/* Whether reply is an older fwd's that does not take the policy the way
 * the request carried it: after the request ("not valid JSON"), or as a
 * file passed ("policy" must be a string). */
static bool sent_to_older(const char *reply)
{
	return error_starts(reply, "request is not valid JSON") ||
	       error_starts(reply, FW_PROTO_NO_POLICY);
}

/* The request text (freed) with "policy_bytes" instead of "policy_file". */
static char *as_bytes(char *text, size_t len)
{
	cJSON *j = cJSON_Parse(text);
	char *out;

	free(text);
	if (!j)
		abort(); /* fwctl's own text */
	cJSON_DeleteItemFromObjectCaseSensitive(j, "policy_file");
	cJSON_AddNumberToObject(j, "policy_bytes", (double)len);
	out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return out;
}

static int copy_out(const char *s, size_t n, void *arg)
{
	memcpy(arg, s, n);
	return 0;
}

/* The request text (freed) with the policy of v as its "policy" string
 * instead; NULL if the file was cut short meanwhile. */
static char *as_string(char *text, const struct fw_view *v)
{
	cJSON *j = cJSON_Parse(text);
	char *out = NULL, *s = xmalloc(v->len + 1);

	free(text);
	if (!j)
		abort(); /* fwctl's own text */
	if (file_view_run(v, copy_out, s) == 0) {
		s[v->len] = '\0';
		cJSON_DeleteItemFromObjectCaseSensitive(j, "policy_bytes");
		cJSON_DeleteItemFromObjectCaseSensitive(j, "policy_file");
		cJSON_AddStringToObject(j, "policy", s);
		out = cJSON_PrintUnformatted(j);
	}
	free(s);
	cJSON_Delete(j);
	return out;
}

#define CUT_SHORT (-2)

/* One request on a connection of its own: att after it, if not NULL. */
static int request_on_new(const struct fwctl_opts *o, const char *text,
			  const char *att, size_t len, char **body)
{
	int fd = client_connect(o->socket, 2000), r, e;

	if (fd < 0)
		return -1;
	r = client_request_with(fd, text, att, len, -1, body, NULL,
				CALL_TIMEOUT_MS);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/*
 * Sends request *text with a's policy, on a's connection (closed; a is
 * emptied), and again the way fwd asks: the bytes instead of a file fwd
 * would have to wait for, a JSON string to an fwd older than fwctl
 * (between a package's unpacking and the daemon's restart). *text may be
 * replaced. 0 with *body; -1/errno when fwd cannot be reached; CUT_SHORT,
 * said, when the file was cut short meanwhile.
 */
static int send_policy(const struct fwctl_opts *o, char **text,
		       struct attached *a, char **body)
{
	bool file = a->v.mapped;
	int r, e;

	r = client_request_with(a->fd, *text, file ? NULL : a->v.s,
				file ? 0 : a->v.len, a->v.fd, body, NULL,
				CALL_TIMEOUT_MS);
	e = errno;
	close(a->fd);
	a->fd = -1;
	if (r == 0 && file && error_starts(*body, FW_PROTO_FILE_WAITS)) {
		free(*body);
		*body = NULL;
		*text = as_bytes(*text, a->v.len);
		r = request_on_new(o, *text, a->v.s, a->v.len, body);
		e = errno;
	}
	if (r < 0 && e == EFAULT) {
		/* The kernel could not read the mapped file. */
		a->cut = "sent";
		r = CUT_SHORT;
	} else if (r == 0 && sent_to_older(*body)) {
		free(*body);
		*body = NULL;
		*text = as_string(*text, &a->v);
		if (!*text) {
			a->cut = "read";
			r = CUT_SHORT;
		} else {
			r = request_on_new(o, *text, NULL, 0, body);
			e = errno;
		}
	}
	file_view_free(&a->v);
	errno = e;
	return r;
}

static void print_json(const struct fwctl_opts *o, const cJSON *j)
{
	char *s = o->compact ? cJSON_PrintUnformatted(j) : cJSON_Print(j);

	printf("%s\n", s);
	free(s);
}

/*
 * A failure found on this side (no fwd, a bad reply, an invalid policy
 * file): "fwctl: why" and the diagnostics on stderr and, with --json, the
 * shape of fwd's own failed replies on stdout -- {"ok": false, "error",
 * "errors"} -- so that a script reads one JSON document whatever failed.
 */
static int client_fail(const struct fwctl_opts *o, int rc,
		       const struct fw_diags *d, const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	fprintf(stderr, "fwctl: %s\n", why ? why : "failed");
	if (d)
		fwctl_print_diags(d);
	if (o->json) {
		cJSON *r = cJSON_CreateObject();

		cJSON_AddBoolToObject(r, "ok", 0);
		cJSON_AddStringToObject(r, "error", why ? why : "failed");
		cJSON_AddNumberToObject(r, "code", rc);
		fwctl_diags_json(cJSON_AddArrayToObject(r, "errors"),
				 d ? d : &(struct fw_diags){0});
		print_json(o, r);
		cJSON_Delete(r);
	}
	free(why);
	return rc;
}

/*
 * Sends req (consumed) and, if a is not NULL, its policy (send_policy),
 * and returns the reply object, or NULL with the exit status in *rc after
 * printing why.
 */
static cJSON *call_with(const struct fwctl_opts *o, cJSON *req,
			struct attached *a, int *rc)
{
	char *text = cJSON_PrintUnformatted(req), *body = NULL, *err = NULL;
	cJSON *reply;
	int r;

	cJSON_Delete(req);
	if (a && a->fd >= 0)
		r = send_policy(o, &text, a, &body);
	else
		r = client_call(o->socket, text, &body, CALL_TIMEOUT_MS);
	free(text);
	if (r == CUT_SHORT) {
		*rc = client_fail(o, FWCTL_FAIL, NULL,
				  "%s: cut short while fwctl %s it; try again",
				  a->file, a->cut);
		return NULL;
	}
	if (r < 0) {
		*rc = client_fail(o, FWCTL_NODAEMON, NULL,
				  "cannot reach fwd at %s: %s", o->socket,
				  strerror(errno));
		return NULL;
	}
	reply = proto_reply_decode(body, strlen(body), &err);
	free(body);
	if (!reply) {
		*rc = client_fail(o, FWCTL_FAIL, NULL,
				  "bad reply from fwd: %s", err);
		free(err);
	}
	return reply;
}

static cJSON *call(const struct fwctl_opts *o, cJSON *req, int *rc)
{
	return call_with(o, req, NULL, rc);
}

/* Prints a failed reply; returns its exit status. */
static int failed(const struct fwctl_opts *o, const cJSON *reply)
{
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(reply, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(reply, "code");
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(reply, "errors");
	const cJSON *e;
	int rc = cJSON_IsNumber(code) && code->valueint == FWCTL_USAGE
			 ? FWCTL_USAGE
			 : FWCTL_FAIL;

	if (o->json) {
		print_json(o, reply);
		return rc;
	}
	fprintf(stderr, "fwctl: %s\n",
		cJSON_IsString(msg) ? msg->valuestring : "request failed");
	cJSON_ArrayForEach(e, errs)
	{
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "file");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "path");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
		bool hf = cJSON_IsString(f) && f->valuestring[0];
		bool hp = cJSON_IsString(p) && p->valuestring[0];

		fprintf(stderr, "  %s%s%s%s%s\n", hf ? f->valuestring : "",
			hf ? ": " : "", hp ? p->valuestring : "",
			hp ? ": " : "",
			cJSON_IsString(m) ? m->valuestring : "");
	}
	return rc;
}

/* Runs one request; on success hands the reply to show(). */
/* Shows a reply (or why it failed); returns the exit status. */
static int answer(const struct fwctl_opts *o, const cJSON *reply,
		  void (*show)(const cJSON *reply))
{
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
		return failed(o, reply);
	if (o->json)
		print_json(o, reply);
	else
		show(reply);
	return FWCTL_OK;
}

static int simple(const struct fwctl_opts *o, cJSON *req,
		  void (*show)(const cJSON *reply))
{
	int rc = FWCTL_OK;
	cJSON *reply = call(o, req, &rc);

	if (!reply)
		return rc;
	rc = answer(o, reply, show);
	cJSON_Delete(reply);
	return rc;
}

/* A command without arguments: one request, the reply shown. */
static int plain(const struct fwctl_opts *o, int argc, const char *cmd,
		 void (*show)(const cJSON *reply))
{
	if (argc) {
		fprintf(stderr, "usage: fwctl %s\n", cmd);
		return FWCTL_USAGE;
	}
	return simple(o, proto_request_new(cmd), show);
}

/* Whether s[0..n) holds word: memchr finds its first letter, which a
 * list of addresses does not hold, at memory speed (memmem does not). */
static bool has(const char *s, size_t n, const char *word)
{
	size_t k = strlen(word);
	const char *p = s, *end = s + n;

	while ((p = memchr(p, word[0], (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) >= k && !memcmp(p, word, k))
			return true;
		p++;
	}
	return false;
}

/* 1 if a text holds no NUL byte and cannot hold an "include" key: not
 * without that word, nor without \u escapes. */
static int sendable(const char *s, size_t n, void *arg)
{
	(void)arg;
	return !memchr(s, '\0', n) && !has(s, n, "include") &&
	       !has(s, n, "\\u");
}

/*
 * Adds the policy of file to req. A file without includes goes as it is
 * written (*a: on a connection open already): passed to fwd as the open
 * file, or, not a regular file, its bytes after the request. fwd
 * validates it, naming file in its messages: a big policy is neither
 * copied through the socket nor escaped. Otherwise -- includes, or
 * no fwd to ask -- fwctl validates file and its includes itself (so that
 * an invalid policy fails with its errors whether fwd runs or not) and
 * sends the one self-contained document, which fwd validates again.
 */
static int add_policy(const struct fwctl_opts *o, cJSON *req,
		      const char *file, struct attached *a)
{
	struct fw_diags d;
	char *doc;

	a->fd = -1;
	a->file = file;
	/* A file cut short while mapped is read again below, as it is. */
	if (file_view(file, &a->v) == 0 &&
	    file_view_run(&a->v, sendable, NULL) == 1 &&
	    (a->fd = client_connect(o->socket, 2000)) >= 0) {
		/* A mapped file goes as itself; what was read, after. */
		cJSON_AddNumberToObject(req,
					a->v.mapped ? "policy_file"
						    : "policy_bytes",
					(double)a->v.len);
		if (proto_utf8_valid(file, strlen(file)))
			cJSON_AddStringToObject(req, "file", file);
		return 0;
	}
	file_view_free(&a->v);
	diags_init(&d);
	doc = policy_bundle_file(file, &d);
	if (!doc)
		client_fail(o, FWCTL_FAIL, &d, "invalid policy");
	diags_free(&d);
	if (!doc)
		return -1;
	cJSON_AddStringToObject(req, "policy", doc);
	free(doc);
	return 0;
}

static int apply_usage(void)
{
	fputs("usage: fwctl apply FILE [--confirm SECS] [--dry-run] "
	      "[--force]\n",
	      stderr);
	return FWCTL_USAGE;
}

static void show_apply(const cJSON *reply)
{
	bool changed = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(reply, "changed"));
	bool dry = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(reply, "dry_run"));

	const cJSON *dl = cJSON_GetObjectItemCaseSensitive(reply,
							   "confirm_deadline");

	printf("%s%s\n", changed ? "changed" : "unchanged",
	       dry ? " (dry run: nothing was applied)" : "");
	if (cJSON_IsString(dl) && !dry)
		printf("run 'fwctl confirm' before %s, or fwd rolls back\n",
		       dl->valuestring);
}

static int parse_apply(int argc, char **argv, cJSON *req, const char **file)
{
	char *end;
	long secs;

	*file = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			cJSON_AddBoolToObject(req, "dry_run", 1);
		} else if (!strcmp(argv[i], "--force")) {
			cJSON_AddBoolToObject(req, "force", 1);
		} else if (!strcmp(argv[i], "--confirm") && i + 1 < argc) {
			secs = strtol(argv[++i], &end, 10);
			if (*end || secs < 1 || secs > 86400) {
				fprintf(stderr, "fwctl: --confirm takes 1-86400 "
						"seconds\n");
				return -1;
			}
			cJSON_AddNumberToObject(req, "confirm", (double)secs);
		} else if (argv[i][0] != '-' && !*file) {
			*file = argv[i];
		} else {
			return -1;
		}
	}
	return *file ? 0 : -1;
}

/*
 * Inside an SSH session, tells fwd who we are so that it can refuse a
 * policy that would lock us out. SSH_CONNECTION is "client cport server
 * sport".
 */
static void add_ssh(cJSON *req)
{
	const char *env = getenv("SSH_CONNECTION");
	char client[64], server[64];
	unsigned cport, sport;
	cJSON *ssh;

	if (!env || sscanf(env, "%63s %u %63s %u", client, &cport, server,
			   &sport) != 4)
		return;
	ssh = cJSON_AddObjectToObject(req, "ssh");
	cJSON_AddStringToObject(ssh, "client", client);
	cJSON_AddStringToObject(ssh, "server", server);
	cJSON_AddNumberToObject(ssh, "port", sport);
}

int cmd_apply(const struct fwctl_opts *o, int argc, char **argv)
{
	cJSON *req = proto_request_new("apply"), *reply;
	const char *file;
	struct attached a;
	int rc = FWCTL_OK;

	if (parse_apply(argc, argv, req, &file) < 0) {
		cJSON_Delete(req);
		return apply_usage();
	}
	if (add_policy(o, req, file, &a) < 0) {
		cJSON_Delete(req);
		return FWCTL_FAIL;
	}
	add_ssh(req);
	reply = call_with(o, req, &a, &rc);
	if (!reply)
		return rc;
	rc = answer(o, reply, show_apply);
	cJSON_Delete(reply);
	return rc;
}

static void show_version(const cJSON *reply)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "version");

	printf("fwctl %s\nfwd %s\n", FW_VERSION,
	       cJSON_IsString(v) ? v->valuestring : "?");
}

int cmd_version(const struct fwctl_opts *o, int argc, char **argv)
{
	int rc = FWCTL_OK;
	cJSON *reply;

	(void)argv;
	if (argc) {
		fputs("usage: fwctl version\n", stderr);
		return FWCTL_USAGE;
	}
	if (o->json)
		return simple(o, proto_request_new("version"), show_version);
	/* The client's version is worth printing even without a daemon. */
	reply = call(o, proto_request_new("version"), &rc);
	if (!reply) {
		printf("fwctl %s\nfwd unreachable\n", FW_VERSION);
		return rc;
	}
	show_version(reply);
	cJSON_Delete(reply);
	return rc;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void show_show(const cJSON *reply)
{
	const cJSON *pol = cJSON_GetObjectItemCaseSensitive(reply, "policy");
	cJSON *doc;
	char *pretty;

	if (!cJSON_IsString(pol)) {
		printf("no policy applied\n");
		return;
	}
	printf("# policy %s, applied %s by %s\n", str(reply, "policy_sha256"),
	       str(reply, "applied_at"), str(reply, "applied_by"));
	doc = cJSON_Parse(pol->valuestring);
	pretty = doc ? cJSON_Print(doc) : NULL;
	printf("%s\n\n# ruleset\n%s", pretty ? pretty : pol->valuestring,
	       str(reply, "ruleset"));
	free(pretty);
	cJSON_Delete(doc);
}

int cmd_show(const struct fwctl_opts *o, int argc, char **argv)
{
	(void)argv;
	return plain(o, argc, "show", show_show);
}

static void show_counts(const char *label, const char *action,
			const cJSON *c)
{
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(c, "rate");
	char r[32] = "-";

	if (cJSON_IsNumber(rate))
		snprintf(r, sizeof(r), "%.1f/s", rate->valuedouble);
	printf("  %-24s %-7s %14.0f %16.0f %11s\n", label, action,
	       num(c, "packets"), num(c, "bytes"), r);
}

static void show_top(const cJSON *top)
{
	const cJSON *t;

	if (!cJSON_IsArray(top))
		return;
	printf("\ntop dropped sources, last 10 minutes (logged drops)\n");
	if (!cJSON_GetArraySize(top))
		printf("  (none)\n");
	cJSON_ArrayForEach(t, top)
		printf("  %-40s %10.0f\n", str(t, "source"), num(t, "packets"));
}

static void show_status(const cJSON *reply)
{
	const cJSON *chains = cJSON_GetObjectItemCaseSensitive(reply, "chains");
	const cJSON *c, *r;

	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
		    reply, "policy_sha256"))) {
		printf("no policy applied\n");
		return;
	}
	printf("host:    %s\npolicy:  %s\napplied: %s by %s\ntable:   inet %s\n",
	       str(reply, "host"), str(reply, "policy_sha256"),
	       str(reply, "applied_at"), str(reply, "applied_by"),
	       str(reply, "table"));
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(reply,
							     "confirm_deadline")))
		printf("PENDING: rolls back at %s unless confirmed "
		       "(fwctl confirm)\n",
		       str(reply, "confirm_deadline"));
	cJSON_ArrayForEach(c, chains)
	{
		printf("\nchain %s (default %s)\n  %-24s %-7s %14s %16s %11s\n",
		       str(c, "name"), str(c, "default"), "RULE", "ACTION",
		       "PACKETS", "BYTES", "RATE");
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(c, "rules"))
			show_counts(str(r, "name"), str(r, "action"), r);
		if (cJSON_GetObjectItemCaseSensitive(c, "invalid"))
			show_counts("(ct invalid)", "drop",
				    cJSON_GetObjectItemCaseSensitive(c,
								     "invalid"));
		show_counts("(default)", str(c, "default"),
			    cJSON_GetObjectItemCaseSensitive(c, "dropped"));
	}
	show_top(cJSON_GetObjectItemCaseSensitive(reply, "top_dropped"));
}

int cmd_status(const struct fwctl_opts *o, int argc, char **argv)
{
	/* --json --watch: each reading one JSON document on one line. */
	struct fwctl_opts line = *o;
	bool tty = isatty(STDOUT_FILENO);
	long secs = 0;
	char *end;
	int rc;

	if (argc == 2 && !strcmp(argv[0], "--watch")) {
		secs = strtol(argv[1], &end, 10);
		if (*end || secs < 1 || secs > 3600)
			secs = -1;
	}
	if ((argc && !secs) || secs < 0) {
		fputs("usage: fwctl status [--watch SECS]\n", stderr);
		return FWCTL_USAGE;
	}
	line.compact = secs && o->json;
	for (;;) {
		if (secs && !o->json && tty)
			fputs("\033[H\033[2J", stdout); /* home, clear */
		rc = simple(&line, proto_request_new("status"), show_status);
		if (!secs || rc != FWCTL_OK)
			return rc;
		if (!o->json && tty)
			printf("\n(every %lds; Ctrl-C to stop)\n", secs);
		else if (!o->json)
			putchar('\n');
		fflush(stdout);
		sleep((unsigned)secs);
	}
}

static void show_metrics(const cJSON *reply)
{
	fputs(str(reply, "text"), stdout);
}

int cmd_metrics(const struct fwctl_opts *o, int argc, char **argv)
{
	(void)argv;
	return plain(o, argc, "metrics", show_metrics);
}

static void show_done(const cJSON *reply)
{
	printf("ok: policy %s\n", str(reply, "policy_sha256"));
}

int cmd_confirm(const struct fwctl_opts *o, int argc, char **argv)
{
	(void)argv;
	return plain(o, argc, "confirm", show_done);
}

int cmd_rollback(const struct fwctl_opts *o, int argc, char **argv)
{
	(void)argv;
	return plain(o, argc, "rollback", show_done);
}

static void show_diff(const cJSON *reply)
{
	const cJSON *c;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "changed")))
		printf("no changes\n");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(reply, "changes"))
		printf("%s\n", cJSON_IsString(c) ? c->valuestring : "?");
}

int cmd_diff(const struct fwctl_opts *o, int argc, char **argv)
{
	cJSON *req, *reply;
	struct attached a;
	const char *file = NULL;
	bool exit_code = false;
	int rc = FWCTL_OK;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--exit-code"))
			exit_code = true;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else
			file = NULL, i = argc;
	}
	if (!file) {
		fputs("usage: fwctl diff FILE [--exit-code]\n", stderr);
		return FWCTL_USAGE;
	}
	req = proto_request_new("diff");
	if (add_policy(o, req, file, &a) < 0) {
		cJSON_Delete(req);
		return FWCTL_FAIL;
	}
	reply = call_with(o, req, &a, &rc);
	if (!reply)
		return rc;
	rc = answer(o, reply, show_diff);
	/* --exit-code: 1 when applying FILE would change something. */
	if (rc == FWCTL_OK && exit_code &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "changed")))
		rc = FWCTL_FAIL;
	cJSON_Delete(reply);
	return rc;
}
