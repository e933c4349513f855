// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * quick: re-applying the active policy's text with a few members of a big
 * group changed -- the common edit of an allowlist that config management
 * ships whole -- at the cost of the change. memdelta finds the changed
 * members from the bytes; when the plan holds that group only as its
 * named sets, the new plan is the active one with those sets' elements
 * changed, and the kernel gets only those elements. Anything else goes
 * the whole way (parse, plan, delta), which gives the same result.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_int.h"
#include "log.h"
#include "memdelta.h"
#include "util.h"

/* The new text's hash, worked out on the other CPU while this one checks
 * and sends the change (it takes as long as all of that). */
struct hasher {
	pthread_t t;
	bool started;
	const char *doc;
	size_t len;
	char hex[FW_SHA256_HEX_LEN];
};

static void *hash_run(void *arg)
{
	struct hasher *h = arg;

	sha256_hex_of(h->doc, h->len, h->hex);
	return NULL;
}

static void hash_start(struct hasher *h, const char *doc, size_t len)
{
	h->doc = doc;
	h->len = len;
	h->started = pthread_create(&h->t, NULL, hash_run, h) == 0;
}

static void hash_done(struct hasher *h)
{
	if (h->started)
		pthread_join(h->t, NULL);
	else
		hash_run(h);
	h->started = false;
}

/* The same text again: nothing to do if the kernel holds it still. */
static int same_text(struct fw_daemon *d, char *doc,
		     struct apply_result *res)
{
	if (!daemon_kernel_holds(d))
		return 0;
	free(doc);
	res->changed = res->kernel = false;
	d->apply_ok++;
	d->last_apply = time(NULL);
	daemon_activated(d, false, true);
	return 1;
}

/* Whether the delta adds or removes any of the addresses in keep. */
static bool touches(const struct fw_mdelta *m, const char *const keep[2])
{
	for (int i = 0; keep && i < 2; i++) {
		struct fw_addr_range r;
		char *err = NULL;

		if (!keep[i])
			continue;
		if (addr_parse(keep[i], &r, &err) < 0) {
			free(err);
			return true; /* unknown: assume it does */
		}
		for (size_t j = 0; j < m->ndel; j++)
			if (!addr_cmp(&m->del[j], &r))
				return true;
		for (size_t j = 0; j < m->nadd; j++)
			if (!addr_cmp(&m->add[j], &r))
				return true;
	}
	return false;
}

/*
 * Saves the new text as an edit of the saved one: one small record, one
 * disk flush, where the whole text takes several. The whole files follow
 * when fwd is idle. Else (records enough wait for that already) the
 * whole text now.
 */
static bool save(struct fw_daemon *d, const char *from,
		 const struct fw_mdelta *m, const char *doc, size_t len,
		 const struct fw_state_meta *meta)
{
	const char *dir = d->cfg.statedir;

	if (state_edit(dir, from, m->at, m->cut, doc + m->at, m->put,
		       meta) == 0) {
		daemon_fold_later(d);
		return true;
	}
	if (errno != EBUSY)
		log_warn_errno("cannot save the policy edit in %s; saving it "
			       "whole", dir);
	if (state_commit(dir, doc, len, meta) == 0)
		return true;
	log_warn_errno("cannot save the policy in %s", dir);
	return false;
}

int quick_apply(struct fw_daemon *d, char *doc, size_t len, const char *by,
		const char *const keep[2], struct apply_result *res)
{
	struct fw_ready *a = d->active;
	struct fw_mdelta m;
	struct fw_set_patch c;
	struct fw_elem_change send[2];
	struct hasher hash = {0};
	char from[FW_SHA256_HEX_LEN];
	size_t nsend;
	struct fw_diags diags;
	double t;
	int r = 0;

	if (!a || !a->saved || !a->doc || a->plan->slim || !d->genid_known)
		return 0;
	if (len == a->len && !memcmp(doc, a->doc, len))
		return same_text(d, doc, res);
	t = loop_clock_ms();
	if (mdelta_find(a->policy, a->doc, a->len, doc, len, &m) != 1)
		return 0;
	if (touches(&m, keep)) {
		mdelta_free(&m);
		return 0;
	}
	hash_start(&hash, doc, len);
	diags_init(&diags);
	if (!mdelta_patch(a->plan, &m, &c))
		goto out;
	res->ms[FW_PH_READ] = loop_clock_ms() - t;
	t = loop_clock_ms();
	/* Nothing to send (members moved within the list): the kernel
	 * must hold the plan still, as for the same text. */
	nsend = mdelta_patch_sends(&c, send);
	if (nsend ? daemon_kernel(d, a->plan, NULL, send, nsend, 0,
				  &diags) != 0
		  : !daemon_kernel_holds(d))
		goto out;
	res->ms[FW_PH_KERNEL] = loop_clock_ms() - t;
	t = loop_clock_ms();
	mdelta_patch_apply(&m, &c);
	plan_digest(a->plan, a->plan_sha);
	mdelta_shift_spans(a->policy, &m);
	hash_done(&hash);
	memcpy(from, a->meta.sha256, sizeof(from));
	memcpy(a->meta.sha256, hash.hex, sizeof(hash.hex));
	state_meta_stamp(&a->meta, by, time(NULL));
	free(a->doc);
	a->doc = doc;
	a->len = len;
	a->saved = save(d, from, &m, doc, len, &a->meta);
	res->ms[FW_PH_SAVE] = loop_clock_ms() - t;
	res->changed = res->kernel = nsend > 0;
	d->apply_ok++;
	d->last_apply = time(NULL);
	log_info("quick apply: group %s, %zu members out, %zu in",
		 m.group->name, m.ndel, m.nadd);
	/* Grown past what fwd keeps whole: let go as after any apply. */
	daemon_activated(d, res->kernel,
			 plan_set_elems(a->plan) < FW_SLIM_MIN &&
				 len <= FW_DOC_KEEP_MAX);
	r = 1;
out:
	if (hash.started)
		hash_done(&hash); /* before doc goes elsewhere */
	if (diags.n)
		log_warn("the kernel refused the changed elements (%s); "
			 "applying the whole policy", diags.v[0].msg);
	diags_free(&diags);
	mdelta_patch_free(&c);
	mdelta_free(&m);
	return r;
}
