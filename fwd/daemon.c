// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon: keeps the active policy, applies new ones (parse -> plan -> one
 * netlink transaction -> persist), and answers fwctl's commands. It never
 * opens files or sockets other than through state, nl and util.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "daemon.h"
#include "daemon_int.h"
#include "log.h"
#include "nftext.h"
#include "nl.h"
#include "plan.h"
#include "policy.h"
#include "proto.h"
#include "sha256.h"
#include "state.h"
#include "util.h"

/* Counter readings for rates, and the metrics textfile, this often. */
#define SAMPLE_MS 5000
#define SAMPLE_AFTER_APPLY_MS 250
#define TEXTFILE_MS 15000

static void log_diags(const char *what, const struct fw_diags *diags)
{
	for (size_t i = 0; i < diags->n; i++) {
		char *s = diag_format(&diags->v[i]);

		log_warn("%s: %s", what, s);
		free(s);
	}
}

char *daemon_active_doc(const struct fw_daemon *d, size_t *len)
{
	struct fw_state_meta meta;
	char *doc;

	if (!d->active)
		return NULL;
	if (d->active->doc) {
		*len = d->active->len;
		return xstrdup(d->active->doc);
	}
	if (state_load(d->cfg.statedir, "active", &doc, len, &meta) < 0) {
		log_warn_errno("cannot read the active policy in %s",
			       d->cfg.statedir);
		return NULL;
	}
	if (strcmp(meta.sha256, d->active->meta.sha256)) {
		log_warn("the policy saved in %s is not the active one",
			 d->cfg.statedir);
		free(doc);
		return NULL;
	}
	return doc;
}

struct fw_ready *daemon_full(struct fw_daemon *d, bool *tmp)
{
	struct fw_diags diags;
	struct fw_ready *r;
	size_t len;
	char *doc;

	*tmp = false;
	if (!d->active || !d->active->plan->slim)
		return d->active;
	doc = daemon_active_doc(d, &len);
	if (!doc)
		return NULL;
	diags_init(&diags);
	r = daemon_ready_new(d, NULL, doc, len, d->active->meta.applied_by,
			     &diags);
	if (r && strcmp(r->plan_sha, d->active->plan_sha)) {
		log_warn("the policy saved in %s is not the active one",
			 d->cfg.statedir);
		daemon_ready_free(r);
		r = NULL;
	}
	log_diags("the saved policy", &diags);
	diags_free(&diags);
	*tmp = r != NULL;
	return r;
}

/*
 * Gives the heap's free memory back to the system when there is much of
 * it (after a big policy): a few megabytes stay, for the next apply to
 * reuse without faulting its pages in again (a third of a 10,000-rule
 * parse went to that).
 */
static void trim(void)
{
	if (mallinfo2().fordblks >= FW_TRIM_MIN)
		malloc_trim(0);
}

void daemon_full_put(struct fw_ready *r, bool tmp)
{
	if (tmp) {
		daemon_ready_free(r);
		trim();
	}
}

void daemon_ready_free(struct fw_ready *r)
{
	if (!r)
		return;
	free(r->doc);
	plan_free(r->plan);
	policy_free(r->policy);
	free(r);
}

/* Parses and plans a self-contained document; NULL with diagnostics. */
struct fw_ready *daemon_ready_new(const struct fw_daemon *d, const char *name,
				  char *doc, size_t len, const char *by,
				  struct fw_diags *diags)
{
	struct fw_ready *r = xcalloc(1, sizeof(*r));
	double t0 = loop_clock_ms(), t1;

	r->doc = doc;
	r->len = len;
	r->policy = policy_parse(name ? name : "policy", r->doc, len, diags);
	t1 = loop_clock_ms();
	if (r->policy)
		r->plan = plan_build(r->policy, d->cfg.table, diags);
	if (!r->plan) {
		daemon_ready_free(r);
		return NULL;
	}
	plan_digest(r->plan, r->plan_sha);
	state_meta_make(&r->meta, r->doc, len, by, time(NULL));
	r->ms_read = t1 - t0;
	r->ms_plan = loop_clock_ms() - t1;
	return r;
}

static char *kernel_path(const struct fw_daemon *d)
{
	return xasprintf("%s/kernel.json", d->cfg.statedir);
}

/* Remembers which kernel generation holds which plan, so that a restarted
 * fwd can adopt its table without touching it. Not synced: after a power
 * cut the kernel holds no table to adopt. */
static void remember_genid(struct fw_daemon *d)
{
	char *path, *text;

	if (nl_genid(d->nl, &d->genid) < 0) {
		d->genid_known = false;
		return;
	}
	d->genid_known = true;
	path = kernel_path(d);
	text = xasprintf("{\"genid\": %u, \"table\": \"%s\", "
			 "\"plan_sha256\": \"%s\"}\n",
			 d->genid, d->cfg.table, d->active->plan_sha);
	if (file_replace(path, text, strlen(text), 0600) < 0)
		log_warn_errno("cannot write %s", path);
	free(path);
	free(text);
}

/* True if the kernel holds exactly what we last committed for r. */
static bool kernel_current(struct fw_daemon *d, const struct fw_ready *r)
{
	return d->active && !strcmp(d->active->plan_sha, r->plan_sha) &&
	       daemon_kernel_holds(d);
}

bool daemon_kernel_holds(struct fw_daemon *d)
{
	uint32_t now;

	return d->genid_known && nl_genid(d->nl, &now) == 0 &&
	       now == d->genid && nl_table_exists(d->nl, d->cfg.table) == 1;
}

static void on_tamper(void *arg, uint32_t pid, const char *comm);

/*
 * Sends one transaction for plan (a delta against old when given) while
 * fwd's event listener is out of the group. If the generation moved by
 * more than our own commit, someone else committed meanwhile: fwd forgets
 * what it knew of the kernel and checks its table again.
 */
static int kernel_apply(struct fw_daemon *d, const struct fw_plan *plan,
			const struct fw_plan *old, unsigned flags,
			struct fw_diags *diags)
{
	return daemon_kernel(d, plan, old, NULL, 0, flags, diags);
}

int daemon_kernel(struct fw_daemon *d, const struct fw_plan *plan,
		  const struct fw_plan *old, const struct fw_elem_change *ch,
		  size_t nch, unsigned flags, struct fw_diags *diags)
{
	uint32_t g0 = 0, g1 = 0;
	bool known = nl_genid(d->nl, &g0) == 0;
	int r;

	tamper_pause(d->tamper_watch);
	if (ch)
		r = nl_apply_elems(d->nl, plan, ch, nch, d->genid, diags);
	else
		r = nl_apply_delta(d->nl, plan, old, d->genid, flags, diags);
	tamper_resume(d->tamper_watch);
	if (r != 0 || (flags & FW_NL_DRY_RUN) || !d->loop)
		return r;
	if (!known || nl_genid(d->nl, &g1) < 0 || g1 != g0 + 1) {
		d->genid_known = false;
		d->interleaved = true;
		on_tamper(d, 0, "");
	}
	return r;
}

/* A big text that STATEDIR holds is read back from there when asked for. */
static void drop_saved_doc(struct fw_ready *r)
{
	if (r->saved && (r->len > FW_DOC_KEEP_MAX ||
			 plan_set_elems(r->plan) >= FW_SLIM_MIN)) {
		free(r->doc);
		r->doc = NULL;
	}
}

static void on_trim(void *arg)
{
	(void)arg;
	trim();
}

/* Once the active policy is in the kernel: a big plan lets its set
 * elements go (only if STATEDIR holds its text, to plan it again), and
 * what parsing and planning used goes back to the system once fwd has
 * been idle for TRIM_IDLE_MS, so that fwd's idle memory does not depend
 * on the policy while an apply that follows at once (a burst, config
 * management's next step) reuses the pages without faulting them in. */
static void settle(struct fw_daemon *d)
{
	if (d->active) {
		policy_drop_members(d->active->policy);
		if (d->active->saved &&
		    plan_set_elems(d->active->plan) >= FW_SLIM_MIN)
			plan_slim(d->active->plan);
	}
	if (d->trim_timer) {
		if (loop_timer_set(d->trim_timer, TRIM_IDLE_MS, 0) < 0)
			trim();
	} else if (!d->loop || !(d->trim_timer = loop_timer_add(
				       d->loop, TRIM_IDLE_MS, 0, on_trim, d)))
		trim();
}

int daemon_apply(struct fw_daemon *d, struct fw_ready *r, unsigned flags,
		struct fw_diags *diags, struct apply_result *res)
{
	bool same_doc = d->active && d->active->len == r->len &&
			!strcmp(d->active->meta.sha256, r->meta.sha256);
	/* The policy fwd starts with is saved already: saving it again
	 * would make it the previous one too, and a rollback a no-op. The
	 * same text again is saved only if saving it failed before. */
	bool save = !(flags & (FW_NL_DRY_RUN | FW_APPLY_SAVED)) &&
		    !(same_doc && d->active->saved);
	struct fw_state_stage st;
	bool staged = false;
	int e = 0;
	double t;

	/* Group members are planned and checked (guard): let them go before
	 * the batch is built. */
	policy_drop_members(r->policy);
	res->changed = !d->active || strcmp(d->active->plan_sha, r->plan_sha);
	res->kernel = !kernel_current(d, r);
	d->interleaved = false;
	res->ms[FW_PH_READ] = r->ms_read;
	res->ms[FW_PH_PLAN] = r->ms_plan;
	t = loop_clock_ms();
	/* The disk writes the text while the kernel works on the batch. */
	if (save) {
		staged = state_stage(d->cfg.statedir, r->doc, r->len, &st) == 0;
		e = errno;
	}
	if (res->kernel &&
	    kernel_apply(d, r->plan,
			 d->genid_known && d->active && !d->active->plan->slim
				 ? d->active->plan
				 : NULL,
			 flags & FW_NL_DRY_RUN, diags) < 0) {
		if (staged)
			state_stage_drop(&st);
		daemon_ready_free(r);
		d->apply_failed++;
		return -1;
	}
	if (flags & FW_NL_DRY_RUN) {
		daemon_ready_free(r);
		return 0;
	}
	d->apply_ok++;
	d->last_apply = time(NULL);
	res->ms[FW_PH_KERNEL] = loop_clock_ms() - t;
	t = loop_clock_ms();
	if (same_doc)
		r->meta = d->active->meta; /* applied_at stays the first one */
	r->saved = !save;
	if (staged) {
		/* The same ruleset and host from a text written otherwise
		 * (reformatted, say, by config management): it takes the
		 * active text's place, and rollback still goes to the
		 * policy before. */
		bool in_place = (flags & FW_APPLY_IN_PLACE) && !res->changed &&
				str_eq(d->active->policy->host,
				       r->policy->host);

		r->saved = state_commit_staged(d->cfg.statedir, &st, &r->meta,
					       in_place) == 0;
		e = errno;
	}
	res->ms[FW_PH_SAVE] = loop_clock_ms() - t;
	if (!r->saved) {
		errno = e;
		log_warn_errno("cannot save the policy in %s",
			       d->cfg.statedir);
	}
	daemon_ready_free(d->active);
	d->active = r;
	daemon_activated(d, res->kernel, false);
	return 0;
}

void daemon_activated(struct fw_daemon *d, bool kernel, bool settled)
{
	if (kernel && !d->interleaved)
		remember_genid(d);
	if (!settled) {
		drop_saved_doc(d->active);
		settle(d);
	}
	/* A reading soon after the reply: rates restart from the new
	 * counters. Not at once: the client does not wait for a dump of
	 * them, nor does a request that follows (config management's
	 * next step, or the next apply of a burst). */
	if (!d->sampler ||
	    loop_timer_set(d->sampler, SAMPLE_AFTER_APPLY_MS, SAMPLE_MS) < 0)
		daemon_sample(d);
	daemon_write_textfile(d);
}

/* Probes once whether the kernel can lock the table (Linux 6.9+). */
static void choose_lock(struct fw_daemon *d)
{
	if (d->cfg.no_lock) {
		log_info("--no-lock: other processes may change table inet %s; "
			 "fwd repairs what it sees",
			 d->cfg.table);
		return;
	}
	if (nl_lock_supported(d->nl) == 1) {
		nl_set_lock(d->nl, FW_NL_LOCK);
		log_info("table inet %s is locked against other processes "
			 "(owner, persist)",
			 d->cfg.table);
		return;
	}
	log_warn("this kernel cannot lock a table (owner+persist needs Linux "
		 "6.9): other processes can change table inet %s; fwd repairs "
		 "their changes from nftables events",
		 d->cfg.table);
}

struct fw_daemon *daemon_new(const struct fw_daemon_config *cfg)
{
	struct fw_daemon *d = xcalloc(1, sizeof(*d));

	d->cfg = *cfg;
	d->nl = nl_open();
	if (!d->nl) {
		free(d);
		return NULL;
	}
	choose_lock(d);
	return d;
}

/* Idle this long after a quick apply, fwd writes its text out whole: a
 * burst of applies (config management's runs) pays for that once. */
#define FOLD_IDLE_MS 100
/* And after a failure to, this long again. */
#define FOLD_RETRY_MS 5000

/*
 * Writes the edit log out as whole files (state_fold). False when it is
 * still to do: the log stays, and the saved policy with it.
 */
static bool fold(struct fw_daemon *d)
{
	struct fw_ready *a = d->active;

	if (state_fold(d->cfg.statedir) >= 0)
		return true;
	if (errno != ESTALE) {
		log_warn_errno("cannot write out the edit log in %s",
			       d->cfg.statedir);
		return false;
	}
	/* The records did not fit the saved text, and are gone: save
	 * fwd's own text, or, let go of already, have the next apply save
	 * its text whole. */
	log_warn("the edit log in %s did not fit the saved policy",
		 d->cfg.statedir);
	if (!a)
		return true;
	a->saved = a->doc && state_commit(d->cfg.statedir, a->doc, a->len,
					  &a->meta) == 0;
	if (!a->saved)
		log_err("the policy saved in %s is not the active one until "
			"the next apply",
			d->cfg.statedir);
	return true;
}

static void on_fold(void *arg)
{
	struct fw_daemon *d = arg;

	if (!fold(d))
		loop_timer_set(d->fold_timer, FOLD_RETRY_MS, 0);
}

void daemon_fold_later(struct fw_daemon *d)
{
	bool armed;

	if (d->fold_timer)
		armed = loop_timer_set(d->fold_timer, FOLD_IDLE_MS, 0) == 0;
	else
		armed = d->loop && (d->fold_timer = loop_timer_add(
					d->loop, FOLD_IDLE_MS, 0, on_fold, d));
	if (!armed)
		fold(d); /* no loop, or no timer: now */
}

void daemon_free(struct fw_daemon *d)
{
	if (!d)
		return;
	if (d->fold_timer) {
		fold(d); /* whole files for whoever reads them next */
		loop_timer_del(d->fold_timer);
	}
	daemon_ready_free(d->active);
	counters_free(&d->older);
	counters_free(&d->newer);
	nflog_free(d->nflog);
	if (d->sampler)
		loop_timer_del(d->sampler);
	if (d->textfile_timer)
		loop_timer_del(d->textfile_timer);
	if (d->confirm_timer)
		loop_timer_del(d->confirm_timer);
	if (d->restore_timer)
		loop_timer_del(d->restore_timer);
	if (d->trim_timer)
		loop_timer_del(d->trim_timer);
	tamper_free(d->tamper_watch);
	nl_close(d->nl);
	free(d);
}

/* The generation fwd recorded last time, if it was for this plan. */
static bool saved_genid(const struct fw_daemon *d, const char *plan_sha,
			uint32_t *genid)
{
	char *path = kernel_path(d), *text = file_read(path, NULL);
	char sha[FW_SHA256_HEX_LEN], table[256];
	unsigned g;
	bool ok;

	free(path);
	if (!text)
		return false;
	ok = sscanf(text,
		    "{\"genid\": %u, \"table\": \"%255[^\"]\", "
		    "\"plan_sha256\": \"%64[0-9a-f]\"}",
		    &g, table, sha) == 3 &&
	     !strcmp(sha, plan_sha) && !strcmp(table, d->cfg.table);
	free(text);
	*genid = g;
	return ok;
}

static int start_with(struct fw_daemon *d, struct fw_ready *r)
{
	struct fw_diags diags;
	struct apply_result res = {0};
	uint32_t saved, now;

	if (saved_genid(d, r->plan_sha, &saved) &&
	    nl_genid(d->nl, &now) == 0 && now == saved &&
	    nl_table_exists(d->nl, d->cfg.table) == 1) {
		d->active = r;
		diags_init(&diags);
		if (nl_claim(d->nl, d->cfg.table, &diags) < 0)
			log_diags("cannot take ownership of the table", &diags);
		diags_free(&diags);
		remember_genid(d);
		r->saved = true;
		drop_saved_doc(r);
		settle(d);
		log_info("adopted table inet %s as it is (policy %s, "
			 "generation %u)",
			 d->cfg.table, r->meta.sha256, now);
		return 0;
	}
	diags_init(&diags);
	if (daemon_apply(d, r, FW_APPLY_SAVED, &diags, &res) < 0) {
		log_diags("cannot load the saved policy", &diags);
		diags_free(&diags);
		return -1;
	}
	diags_free(&diags);
	log_info("loaded the saved policy %s into table inet %s",
		 d->active->meta.sha256, d->cfg.table);
	return 0;
}

/*
 * The key of plan digests (plan_digest_key), kept in STATEDIR so that a
 * restarted fwd recognises its table: read, or made and saved once.
 */
static void digest_key(const struct fw_daemon *d)
{
	char *path = xasprintf("%s/digest.key", d->cfg.statedir);
	uint8_t key[32] = {0};
	size_t len = 0;
	char *text = file_read(path, &len);

	if (text && len == sizeof(key)) {
		memcpy(key, text, sizeof(key));
	} else if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key) ||
		   file_write_atomic(path, key, sizeof(key), 0600) < 0) {
		log_warn_errno("cannot keep a digest key in %s: a restarted "
			       "fwd will load its table again instead of "
			       "adopting it", path);
	}
	plan_digest_key(key);
	free(text);
	free(path);
}

int daemon_start(struct fw_daemon *d)
{
	struct fw_state_meta meta;
	struct fw_diags diags;
	struct fw_ready *r;
	size_t len;
	char *doc;

	digest_key(d);
	/* An edit saved before fwd stopped: written out first. */
	fold(d);

	if (state_load(d->cfg.statedir, "active", &doc, &len, &meta) < 0) {
		if (errno != ENOENT) {
			log_err_errno("cannot read the saved policy in %s",
				      d->cfg.statedir);
			return -1;
		}
		log_info("no saved policy in %s: waiting for fwctl apply",
			 d->cfg.statedir);
		return 0;
	}
	diags_init(&diags);
	r = daemon_ready_new(d, NULL, doc, len, meta.applied_by, &diags);
	if (!r) {
		log_diags("the saved policy is invalid", &diags);
		diags_free(&diags);
		return -1;
	}
	diags_free(&diags);
	r->meta = meta;
	return start_with(d, r);
}

int daemon_reload(struct fw_daemon *d)
{
	struct fw_diags diags;
	struct fw_ready *full;
	bool tmp;
	int rc;

	if (!d->active)
		return daemon_start(d);
	full = daemon_full(d, &tmp);
	if (!full)
		return -1;
	d->genid_known = false; /* force a transaction */
	d->interleaved = false;
	diags_init(&diags);
	rc = kernel_apply(d, full->plan, NULL, 0, &diags);
	if (rc < 0)
		log_diags("reload failed", &diags);
	else if (!d->interleaved)
		remember_genid(d);
	diags_free(&diags);
	daemon_full_put(full, tmp);
	log_info("reloaded policy %s", d->active->meta.sha256);
	return rc;
}

/* Every few seconds: the newer reading becomes the older one. Rates are
 * per second over the last few seconds, whatever the client's pace. */

void daemon_sample(struct fw_daemon *d)
{
	struct fw_counters now = {0};

	if (!d->active || counters_read(d->nl, d->cfg.table, &now) < 0)
		return;
	counters_move(&d->older, &d->newer);
	counters_move(&d->newer, &now);
}

static void on_sample(void *arg)
{
	daemon_sample(arg);
}

const struct fw_counters *daemon_rate_base(const struct fw_daemon *d,
					   const struct fw_counters *now)
{
	if (d->newer.t_ms && now->t_ms >= d->newer.t_ms + 1000)
		return &d->newer;
	return &d->older;
}

void daemon_write_textfile(struct fw_daemon *d)
{
	struct fw_counters now = {0};
	struct fw_buf out = {0};

	if (!d->cfg.textfile)
		return;
	if (d->active)
		counters_read(d->nl, d->cfg.table, &now);
	metrics_render(&out, d, &now);
	if (file_replace(d->cfg.textfile, out.s, out.len, 0644) < 0)
		log_warn_errno("cannot write metrics to %s", d->cfg.textfile);
	counters_free(&now);
	buf_free(&out);
}

static void on_textfile(void *arg)
{
	daemon_write_textfile(arg);
}

/* Puts the active policy back after someone else changed our table. */
static void on_restore(void *arg)
{
	struct fw_daemon *d = arg;
	struct fw_diags diags;
	struct fw_ready *full;
	bool tmp;

	uint32_t now;

	if (!d->active)
		return;
	/* Lost events or a commit next to ours: nothing to do if the
	 * kernel is still at the generation fwd made. */
	if (!d->tamper_pid && d->genid_known &&
	    nl_genid(d->nl, &now) == 0 && now == d->genid)
		return;
	full = daemon_full(d, &tmp);
	if (!full) {
		/* The saved policy cannot be planned again: say so, and try
		 * again rather than leave the table as someone left it. */
		log_err("cannot restore table inet %s: the active policy "
			"cannot be read back from %s; retrying in 5 s",
			d->cfg.table, d->cfg.statedir);
		if (d->restore_timer)
			loop_timer_set(d->restore_timer, 5000, 0);
		return;
	}
	d->interleaved = false;
	diags_init(&diags);
	if (kernel_apply(d, full->plan,
			 d->genid_known && !tmp ? full->plan : NULL, 0,
			 &diags) < 0) {
		log_diags("cannot restore the table", &diags);
	} else {
		d->tamper++;
		if (!d->interleaved)
			remember_genid(d);
		if (d->tamper_pid)
			log_warn("table inet %s was changed by pid %u (%s): "
				 "restored policy %s",
				 d->cfg.table, d->tamper_pid, d->tamper_comm,
				 d->active->meta.sha256);
		else
			log_warn("the ruleset changed while fwd could not "
				 "watch it: re-applied policy %s to be sure",
				 d->active->meta.sha256);
		daemon_write_textfile(d);
	}
	diags_free(&diags);
	daemon_full_put(full, tmp);
}

static void on_tamper(void *arg, uint32_t pid, const char *comm)
{
	struct fw_daemon *d = arg;

	d->tamper_pid = pid;
	snprintf(d->tamper_comm, sizeof(d->tamper_comm), "%s", comm);
	/* A short delay folds a burst of transactions into one repair. */
	if (d->restore_timer)
		loop_timer_set(d->restore_timer, 50, 0);
	else
		d->restore_timer = loop_timer_add(d->loop, 50, 0, on_restore, d);
}

void daemon_attach(struct fw_daemon *d, struct fw_loop *loop)
{
	d->loop = loop;
	d->tamper_watch = tamper_open(loop, d->cfg.table, on_tamper, d);
	if (!d->tamper_watch)
		log_warn_errno("cannot watch nftables events: changes to table "
			       "inet %s by others will not be repaired",
			       d->cfg.table);
	confirm_resume(d);
	d->nflog = nflog_open(loop, FW_NFLOG_GROUP);
	if (!d->nflog)
		log_warn_errno("cannot bind nflog group %d: drops will be "
			       "counted but not logged",
			       FW_NFLOG_GROUP);
	daemon_sample(d);
	d->sampler = loop_timer_add(loop, SAMPLE_MS, SAMPLE_MS, on_sample, d);
	if (d->cfg.textfile) {
		daemon_write_textfile(d);
		d->textfile_timer = loop_timer_add(loop, TEXTFILE_MS,
						   TEXTFILE_MS, on_textfile, d);
	}
}
