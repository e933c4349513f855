// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * commands: fwd's answers to fwctl -- one handler per control command,
 * each validating its arguments and building the reply from the daemon's
 * state and the kernel's counters. No I/O besides the netlink reads.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_int.h"
#include "guard.h"
#include "log.h"
#include "nftext.h"
#include "plandiff.h"
#include "proto.h"

static void counter_lookup(void *ctx, const char *name, uint64_t *packets,
			   uint64_t *bytes)
{
	const struct fw_counter_val *v = counters_get(ctx, name);

	*packets = v ? v->packets : 0;
	*bytes = v ? v->bytes : 0;
}

static void read_now(struct fw_daemon *d, struct fw_counters *c)
{
	if (counters_read(d->nl, d->cfg.table, c) < 0)
		log_warn_errno("cannot read the counters of table %s",
			       d->cfg.table);
}

struct reading {
	const struct fw_counters *now, *base;
};

/* {"packets", "bytes", "rate"}: rate in packets per second, null until
 * fwd has two readings. name NULL gives zeros. */
static cJSON *pkts_bytes(const struct reading *rd, const char *name)
{
	const struct fw_counter_val *v = name ? counters_get(rd->now, name)
					      : NULL;
	double rate = name ? counters_rate(rd->now, rd->base, name) : 0;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "packets", v ? (double)v->packets : 0);
	cJSON_AddNumberToObject(o, "bytes", v ? (double)v->bytes : 0);
	if (rate >= 0)
		cJSON_AddNumberToObject(o, "rate", (double)(long)(rate * 10) / 10);
	else
		cJSON_AddNullToObject(o, "rate");
	return o;
}

static bool arg_bool(const cJSON *req, const char *key, bool *out,
		     cJSON *reply)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);

	*out = false;
	if (!v)
		return true;
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return true;
	}
	proto_reply_error(reply, FW_CODE_USAGE, "\"%s\" must be true or false",
			  key);
	return false;
}

static void add_summary(cJSON *reply, const struct fw_daemon *d)
{
	const struct fw_ready *a = d->active;

	cJSON_AddStringToObject(reply, "table", d->cfg.table);
	if (!a) {
		cJSON_AddNullToObject(reply, "host");
		cJSON_AddNullToObject(reply, "policy_sha256");
		cJSON_AddNullToObject(reply, "applied_at");
		return;
	}
	if (a->policy->host)
		cJSON_AddStringToObject(reply, "host", a->policy->host);
	else
		cJSON_AddNullToObject(reply, "host");
	cJSON_AddStringToObject(reply, "policy_sha256", a->meta.sha256);
	cJSON_AddStringToObject(reply, "applied_at", a->meta.applied_at);
	cJSON_AddStringToObject(reply, "applied_by", a->meta.applied_by);
}

/* An IPv4-mapped IPv6 address (::ffff:192.0.2.2, as some SSH servers
 * report IPv4 clients) as the IPv4 address the packets carry. */
static void unmap(char *s, size_t n)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) == 1 && IN6_IS_ADDR_V4MAPPED(&a))
		inet_ntop(AF_INET, &a.s6_addr[12], s, (socklen_t)n);
}

/* The request's SSH session: 1 (in *g), 0 none, -1 malformed. */
static int ssh_of(const cJSON *req, struct fw_guard_seen *g)
{
	const cJSON *ssh = cJSON_GetObjectItemCaseSensitive(req, "ssh");
	const cJSON *client = cJSON_GetObjectItemCaseSensitive(ssh, "client");
	const cJSON *server = cJSON_GetObjectItemCaseSensitive(ssh, "server");
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(ssh, "port");

	memset(g, 0, sizeof(*g));
	if (!ssh)
		return 0;
	if (!cJSON_IsString(client) || !cJSON_IsNumber(port) ||
	    (server && !cJSON_IsString(server)))
		return -1;
	snprintf(g->client, sizeof(g->client), "%s", client->valuestring);
	if (server)
		snprintf(g->server, sizeof(g->server), "%s",
			 server->valuestring);
	g->port = (unsigned)port->valueint;
	unmap(g->client, sizeof(g->client));
	unmap(g->server, sizeof(g->server));
	return 1;
}

static bool ssh_guard(const struct fw_ready *r, const cJSON *req,
		      cJSON *reply)
{
	struct fw_guard_seen g;
	char why[256];
	int ok = ssh_of(req, &g);

	if (ok == 0)
		return true;
	if (ok < 0) {
		proto_reply_error(reply, FW_CODE_USAGE,
				  "\"ssh\" must be {\"client\": address, "
				  "\"server\": address, \"port\": number}");
		return false;
	}
	ok = guard_admits(r->policy, g.client, g.server[0] ? g.server : NULL,
			  g.port, why, sizeof(why));
	if (ok == 1)
		return true;
	proto_reply_error(reply, FW_CODE_FAIL,
			  "refusing to apply: your SSH session from %s could "
			  "not reconnect to port %u: %s (--force applies it "
			  "anyway; established sessions survive)",
			  g.client, g.port, why);
	return false;
}

/*
 * The quick way (quick.c), if the request allows it. The lockout guard
 * needs the whole policy, but its verdict for a session it let through
 * under the active policy holds for a new text that changes neither end's
 * membership: the quick way is told to keep those two addresses as they
 * are. 1 done, 0 go the whole way.
 */
static int try_quick(struct fw_daemon *d, const struct fw_peer *peer,
		     const cJSON *req, char *doc, size_t len, bool force,
		     struct apply_result *res)
{
	struct fw_guard_seen *seen = &d->guard_seen, g;
	bool valid = d->active && seen->policy[0] &&
		     !strcmp(seen->policy, d->active->meta.sha256);
	const char *keep[2] = {seen->client,
			       seen->server[0] ? seen->server : NULL};
	int ssh = ssh_of(req, &g);

	if (ssh < 0 || (ssh && !force &&
			(!valid || strcmp(g.client, seen->client) ||
			 strcmp(g.server, seen->server) ||
			 g.port != seen->port)))
		return 0;
	if (!quick_apply(d, doc, len, peer->name, valid ? keep : NULL, res))
		return 0;
	if (valid)
		memcpy(seen->policy, d->active->meta.sha256,
		       sizeof(seen->policy));
	return 1;
}

/* Validates apply's arguments; confirm is 0 when absent. */
static bool apply_args(const cJSON *req, cJSON *reply, bool *dry_run,
		       bool *force, unsigned *confirm)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "confirm");

	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(req, "policy"))) {
		proto_reply_error(reply, FW_CODE_USAGE,
				  "%s", FW_PROTO_NO_POLICY);
		return false;
	}
	if (!arg_bool(req, "dry_run", dry_run, reply) ||
	    !arg_bool(req, "force", force, reply))
		return false;
	*confirm = 0;
	if (c && (!cJSON_IsNumber(c) || c->valuedouble < 1 ||
		  c->valuedouble > 86400)) {
		proto_reply_error(reply, FW_CODE_USAGE,
				  "\"confirm\" must be 1-86400 seconds");
		return false;
	}
	if (c)
		*confirm = (unsigned)c->valuedouble;
	return true;
}

static void add_deadline(cJSON *reply, const struct fw_daemon *d)
{
	char t[FW_TIME_LEN];

	if (d->has_pending)
		cJSON_AddStringToObject(
			reply, "confirm_deadline",
			state_time_format(d->pending.deadline, t));
	else
		cJSON_AddNullToObject(reply, "confirm_deadline");
}

static void apply_failed(struct fw_daemon *d, const struct fw_peer *peer,
			 cJSON *reply, struct fw_diags *diags, bool kernel)
{
	proto_reply_error(reply, FW_CODE_FAIL, "%s",
			  kernel ? "the kernel refused the ruleset; nothing "
				   "was changed"
				 : "invalid policy; nothing was changed");
	proto_reply_add_diags(reply, diags);
	log_warn("apply by %s failed: %s", peer->name,
		 diags->n ? diags->v[0].msg : "?");
	if (!kernel)
		d->apply_failed++;
}

/* The name fwctl gave the policy file, for messages: printable, short. */
static const char *policy_name(const cJSON *req)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(req, "file");
	size_t n;

	if (!cJSON_IsString(f))
		return NULL;
	n = strlen(f->valuestring);
	if (n == 0 || n > 255)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)f->valuestring[i] < 0x20 ||
		    f->valuestring[i] == 0x7f)
			return NULL;
	return f->valuestring;
}

/*
 * The request's policy text, taken out of the request (which is freed
 * after the reply, without it): a big policy is not held twice.
 */
static char *take_policy(const cJSON *req, size_t *len)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(req, "policy");
	const cJSON *nb = cJSON_GetObjectItemCaseSensitive(req, "policy_bytes");
	char *doc = p->valuestring;

	p->valuestring = NULL;
	*len = nb ? (size_t)nb->valuedouble : strlen(doc);
	return doc;
}

/* The reply (and log line) of a successful apply. */
static void applied(struct fw_daemon *d, const struct fw_peer *peer,
		    cJSON *reply, const struct apply_result *res, bool dry_run,
		    unsigned confirm)
{
	proto_reply_ok(reply);
	cJSON_AddBoolToObject(reply, "changed", res->changed);
	cJSON_AddBoolToObject(reply, "dry_run", dry_run);
	cJSON_AddStringToObject(reply, "policy_sha256",
				dry_run ? "" : d->active->meta.sha256);
	add_deadline(reply, d);
	if (!dry_run)
		log_info("policy %s applied by %s: %s%s%s (read %.2f ms, plan "
			 "%.2f ms, kernel %.2f ms, save %.2f ms)",
			 d->active->meta.sha256, peer->name,
			 res->changed ? "changed" : "unchanged",
			 res->kernel ? "" : " (kernel already current)",
			 confirm ? " (awaiting confirmation)" : "",
			 res->ms[FW_PH_READ], res->ms[FW_PH_PLAN],
			 res->ms[FW_PH_KERNEL], res->ms[FW_PH_SAVE]);
}

static void h_apply(void *ctx, const struct fw_peer *peer, const cJSON *req,
		    cJSON *reply)
{
	struct fw_daemon *d = ctx;
	char *doc;
	size_t len;
	struct apply_result res = {0};
	struct fw_diags diags;
	struct fw_ready *r;
	bool dry_run, force;
	unsigned confirm;

	if (!apply_args(req, reply, &dry_run, &force, &confirm))
		return;
	if (d->has_pending && !dry_run) {
		proto_reply_error(reply, FW_CODE_FAIL,
				  "policy %.12s awaits confirmation: run "
				  "fwctl confirm or fwctl rollback first",
				  d->pending.sha256);
		return;
	}
	doc = take_policy(req, &len);
	/* Without a guard, a countdown or a dry run to honour, a text that
	 * differs from the active one only in members goes the quick way
	 * (whose bytes it checks). */
	if (!dry_run && !confirm &&
	    try_quick(d, peer, req, doc, len, force, &res)) {
		applied(d, peer, reply, &res, false, 0);
		return;
	}
	diags_init(&diags);
	/* A policy that came after the request (proto.h) is bytes as they
	 * came: the reader takes UTF-8 text only (source_text_ok). */
	r = daemon_ready_new(d, policy_name(req), doc, len, peer->name,
			     &diags);
	if (!r) {
		apply_failed(d, peer, reply, &diags, false);
		diags_free(&diags);
		return;
	}
	if (!force && !ssh_guard(r, req, reply)) {
		log_warn("apply by %s refused by the lockout guard", peer->name);
		daemon_ready_free(r);
		diags_free(&diags);
		return;
	}
	/* The same ruleset again leaves nothing to roll back: its text
	 * takes the active one's place (or is it). Decided before the
	 * pending record is written, so that none is left to a crash. */
	if (d->active && !strcmp(d->active->plan_sha, r->plan_sha))
		confirm = 0;
	if (confirm && !dry_run && confirm_prepare(d, r, confirm) < 0) {
		proto_reply_error(reply, FW_CODE_FAIL,
				  "cannot record the pending confirmation: %s",
				  strerror(errno));
		daemon_ready_free(r);
		diags_free(&diags);
		return;
	}
	if (daemon_apply(d, r, dry_run ? FW_NL_DRY_RUN : FW_APPLY_IN_PLACE,
			 &diags, &res) < 0) {
		if (confirm && !dry_run)
			confirm_abandon(d);
		apply_failed(d, peer, reply, &diags, true);
		diags_free(&diags);
		return;
	}
	diags_free(&diags);
	/* The guard let this session through this policy: remembered, for
	 * quick applies that follow (try_quick). */
	if (!dry_run && !force && ssh_of(req, &d->guard_seen) == 1)
		memcpy(d->guard_seen.policy, d->active->meta.sha256,
		       sizeof(d->guard_seen.policy));
	if (confirm && !dry_run)
		confirm_start(d);
	applied(d, peer, reply, &res, dry_run, confirm);
}

static void h_confirm(void *ctx, const struct fw_peer *peer, const cJSON *req,
		      cJSON *reply)
{
	struct fw_daemon *d = ctx;

	(void)req;
	if (!d->has_pending) {
		proto_reply_error(reply, FW_CODE_FAIL,
				  "nothing awaits confirmation");
		return;
	}
	log_info("policy %s confirmed by %s", d->pending.sha256, peer->name);
	confirm_clear(d);
	proto_reply_ok(reply);
	cJSON_AddStringToObject(reply, "policy_sha256", d->active->meta.sha256);
}

static void h_rollback(void *ctx, const struct fw_peer *peer,
		       const cJSON *req, cJSON *reply)
{
	struct fw_daemon *d = ctx;
	struct fw_diags diags;

	(void)req;
	diags_init(&diags);
	if (daemon_rollback(d, peer->name, &diags) < 0) {
		proto_reply_error(reply, FW_CODE_FAIL,
				  "rollback failed; nothing was changed");
		proto_reply_add_diags(reply, &diags);
	} else {
		proto_reply_ok(reply);
		cJSON_AddStringToObject(reply, "policy_sha256",
					d->active->meta.sha256);
	}
	diags_free(&diags);
}

static void h_diff(void *ctx, const struct fw_peer *peer, const cJSON *req,
		   cJSON *reply)
{
	struct fw_daemon *d = ctx;
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(req, "policy");
	struct fw_buf old = {0}, new = {0}, out = {0};
	struct fw_diags diags;
	struct fw_ready *r;
	cJSON *changes;
	char *text;
	size_t n;

	if (!cJSON_IsString(doc)) {
		proto_reply_error(reply, FW_CODE_USAGE,
				  "%s", FW_PROTO_NO_POLICY);
		return;
	}
	diags_init(&diags);
	text = take_policy(req, &n);
	r = daemon_ready_new(d, policy_name(req), text, n, peer->name, &diags);
	if (!r) {
		proto_reply_error(reply, FW_CODE_FAIL, "invalid policy");
		proto_reply_add_diags(reply, &diags);
		diags_free(&diags);
		return;
	}
	if (d->active) {
		bool tmp;
		struct fw_ready *full = daemon_full(d, &tmp);

		if (!full) {
			proto_reply_error(reply, FW_CODE_FAIL,
					  "cannot read the active policy back");
			daemon_ready_free(r);
			diags_free(&diags);
			return;
		}
		nftext_print(&old, full->plan, NULL, NULL);
		daemon_full_put(full, tmp);
	}
	nftext_print(&new, r->plan, NULL, NULL);
	n = plandiff(old.s, new.s, &out);
	proto_reply_ok(reply);
	cJSON_AddBoolToObject(reply, "changed", n > 0);
	changes = cJSON_AddArrayToObject(reply, "changes");
	for (char *line = out.s, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		cJSON_AddItemToArray(changes, cJSON_CreateString(line));
	}
	buf_free(&old);
	buf_free(&new);
	buf_free(&out);
	daemon_ready_free(r);
	diags_free(&diags);
}

static cJSON *chain_status(const struct fw_daemon *d, enum fw_chain_id cid,
			   const struct reading *rd)
{
	const struct fw_plan *plan = d->active->plan;
	const struct fw_chain *ch = &d->active->policy->chains[cid];
	cJSON *o = cJSON_CreateObject(), *rules;

	cJSON_AddStringToObject(o, "name", policy_chain_name(cid));
	cJSON_AddStringToObject(o, "default", policy_action_name(ch->def));
	rules = cJSON_CreateArray();
	for (size_t i = 0; i < plan->ncounters; i++) {
		const struct fw_pcounter *pc = &plan->counters[i];
		cJSON *r;

		if (pc->chain != cid)
			continue;
		if (pc->kind == FW_C_DEFAULT) {
			cJSON_AddItemToObject(
				o, "dropped",
				pkts_bytes(rd, ch->def == FW_DROP ? pc->name
								  : NULL));
			continue;
		}
		if (pc->kind == FW_C_INVALID) {
			cJSON_AddItemToObject(o, "invalid",
					      pkts_bytes(rd, pc->name));
			continue;
		}
		r = pkts_bytes(rd, pc->name);
		cJSON_AddStringToObject(r, "name", pc->rule);
		cJSON_AddStringToObject(r, "action",
					policy_action_name(pc->action));
		cJSON_AddItemToArray(rules, r);
	}
	cJSON_AddItemToObject(o, "rules", rules);
	return o;
}

static void add_top_dropped(cJSON *reply, const struct fw_daemon *d)
{
	struct fw_top top[10];
	size_t n = nflog_top(d->nflog, time(NULL), top, 10);
	cJSON *arr = cJSON_AddArrayToObject(reply, "top_dropped");

	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "source", top[i].source);
		cJSON_AddNumberToObject(e, "packets", (double)top[i].packets);
		cJSON_AddItemToArray(arr, e);
	}
}

static void h_status(void *ctx, const struct fw_peer *peer, const cJSON *req,
		     cJSON *reply)
{
	struct fw_daemon *d = ctx;
	struct fw_counters now = {0};
	struct reading rd;
	cJSON *chains;

	(void)peer;
	(void)req;
	proto_reply_ok(reply);
	add_summary(reply, d);
	add_deadline(reply, d);
	chains = cJSON_AddArrayToObject(reply, "chains");
	if (!d->active)
		return;
	read_now(d, &now);
	rd.now = &now;
	rd.base = daemon_rate_base(d, &now);
	for (int cid = 0; cid < FW_NCHAINS; cid++)
		if (d->active->policy->chains[cid].declared)
			cJSON_AddItemToArray(
				chains, chain_status(d, (enum fw_chain_id)cid, &rd));
	if (d->active->policy->log_drops)
		add_top_dropped(reply, d);
	counters_free(&now);
}

static void h_metrics(void *ctx, const struct fw_peer *peer, const cJSON *req,
		      cJSON *reply)
{
	struct fw_daemon *d = ctx;
	struct fw_counters now = {0};
	struct fw_buf text = {0};

	(void)peer;
	(void)req;
	if (d->active)
		read_now(d, &now);
	metrics_render(&text, d, &now);
	counters_free(&now);
	proto_reply_ok(reply);
	cJSON_AddStringToObject(reply, "text", text.s);
	buf_free(&text);
}

static void h_show(void *ctx, const struct fw_peer *peer, const cJSON *req,
		   cJSON *reply)
{
	struct fw_daemon *d = ctx;
	struct fw_buf text = {0};
	struct fw_counters c = {0};
	struct fw_ready *full;
	size_t len;
	char *doc;
	bool tmp;

	(void)peer;
	(void)req;
	proto_reply_ok(reply);
	add_summary(reply, d);
	if (!d->active) {
		cJSON_AddNullToObject(reply, "policy");
		cJSON_AddNullToObject(reply, "ruleset");
		return;
	}
	full = daemon_full(d, &tmp);
	doc = daemon_active_doc(d, &len);
	read_now(d, &c);
	if (full)
		nftext_print(&text, full->plan, counter_lookup, &c);
	counters_free(&c);
	daemon_full_put(full, tmp);
	if (!full || !doc) {
		proto_reply_error(reply, FW_CODE_FAIL,
				  "cannot read the active policy back");
		free(doc);
		buf_free(&text);
		return;
	}
	cJSON_AddStringToObject(reply, "policy", doc);
	cJSON_AddStringToObject(reply, "ruleset", text.s);
	free(doc);
	buf_free(&text);
}

static void h_version(void *ctx, const struct fw_peer *peer, const cJSON *req,
		      cJSON *reply)
{
	(void)ctx;
	(void)peer;
	(void)req;
	proto_reply_ok(reply);
	cJSON_AddStringToObject(reply, "version", FW_VERSION);
}

static const fw_handler handlers[FW_CMD_COUNT] = {
	[FW_CMD_APPLY] = h_apply,
	[FW_CMD_STATUS] = h_status,
	[FW_CMD_SHOW] = h_show,
	[FW_CMD_VERSION] = h_version,
	[FW_CMD_METRICS] = h_metrics,
	[FW_CMD_CONFIRM] = h_confirm,
	[FW_CMD_ROLLBACK] = h_rollback,
	[FW_CMD_DIFF] = h_diff,
};

const fw_handler *daemon_handlers(void)
{
	return handlers;
}
