// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * confirm: commit-confirmed applies and rollback. The pending record is on
 * disk before the kernel sees the new policy, so an unconfirmed apply is
 * rolled back whenever fwd notices its deadline -- even after a crash.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_int.h"
#include "log.h"

/* With no previous policy, rolling back means holding no rules at all. */
static const char empty_policy[] = "{\"version\":1}";

static void on_deadline(void *arg)
{
	struct fw_daemon *d = arg;
	struct fw_diags diags;

	log_warn("no confirmation of policy %s before its deadline: rolling "
		 "back",
		 d->pending.sha256);
	diags_init(&diags);
	if (daemon_rollback(d, "fwd (confirmation timeout)", &diags) < 0)
		log_err("rollback failed; the unconfirmed policy stays");
	diags_free(&diags);
}

static void arm(struct fw_daemon *d)
{
	time_t now = time(NULL);
	uint64_t ms = d->pending.deadline > now
			      ? (uint64_t)(d->pending.deadline - now) * 1000
			      : 1;

	if (!d->loop)
		return;
	if (!d->confirm_timer)
		d->confirm_timer = loop_timer_add(d->loop, ms, 0, on_deadline, d);
	else
		loop_timer_set(d->confirm_timer, ms, 0);
}

int confirm_prepare(struct fw_daemon *d, const struct fw_ready *r,
		    unsigned secs)
{
	struct fw_pending p = {0};

	p.deadline = time(NULL) + secs;
	snprintf(p.sha256, sizeof(p.sha256), "%s", r->meta.sha256);
	snprintf(p.previous_sha256, sizeof(p.previous_sha256), "%s",
		 d->active ? d->active->meta.sha256 : "");
	snprintf(p.applied_by, sizeof(p.applied_by), "%s",
		 r->meta.applied_by);
	if (state_pending_write(d->cfg.statedir, &p) < 0)
		return -1;
	d->pending = p;
	return 0;
}

void confirm_start(struct fw_daemon *d)
{
	d->has_pending = true;
	arm(d);
}

void confirm_abandon(struct fw_daemon *d)
{
	state_pending_remove(d->cfg.statedir);
	memset(&d->pending, 0, sizeof(d->pending));
}

void confirm_clear(struct fw_daemon *d)
{
	d->has_pending = false;
	if (d->confirm_timer)
		loop_timer_set(d->confirm_timer, 0, 0);
	if (state_pending_remove(d->cfg.statedir) < 0)
		log_warn_errno("cannot remove the pending confirmation");
	memset(&d->pending, 0, sizeof(d->pending));
}

int daemon_rollback(struct fw_daemon *d, const char *by,
		    struct fw_diags *diags)
{
	struct fw_state_meta meta;
	struct apply_result res = {0};
	struct fw_ready *r;
	size_t len;
	char *doc;

	if (state_load(d->cfg.statedir, "previous", &doc, &len, &meta) < 0) {
		if (errno != ENOENT)
			return -1;
		/* Before the first policy there was none: an unconfirmed
		 * first apply goes back to the empty policy (a table
		 * without chains: nothing filtered, as before it), but
		 * asked for by hand, that would take the firewall away. */
		if (!d->has_pending) {
			diags_add(diags, NULL, "",
				  "there is no previous policy to roll back "
				  "to");
			return -1;
		}
		doc = xstrdup(empty_policy);
		len = strlen(doc);
	}
	r = daemon_ready_new(d, NULL, doc, len, by, diags);
	if (!r || daemon_apply(d, r, 0, diags, &res) < 0)
		return -1;
	if (d->has_pending)
		confirm_clear(d);
	log_info("rolled back to policy %s (asked by %s)",
		 d->active->meta.sha256, by);
	return 0;
}

void confirm_resume(struct fw_daemon *d)
{
	if (state_pending_read(d->cfg.statedir, &d->pending) < 0)
		return;
	if (!d->active || strcmp(d->active->meta.sha256, d->pending.sha256)) {
		/* fwd stopped before the unconfirmed policy became active */
		log_info("dropping a stale pending confirmation for %s",
			 d->pending.sha256);
		confirm_abandon(d);
		return;
	}
	d->has_pending = true;
	if (d->pending.deadline <= time(NULL)) {
		on_deadline(d);
		return;
	}
	log_info("policy %s awaits confirmation until its deadline",
		 d->pending.sha256);
	arm(d);
}
