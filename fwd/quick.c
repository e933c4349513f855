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

#include "bulk.h"
#include "daemon_int.h"
#include "log.h"
#include "memdelta.h"
#include "util.h"

/* The active plan's set of group for family (4 or 6), or NULL. */
static struct fw_pset *group_set(struct fw_plan *p, const char *group,
				 int family)
{
	enum fw_keytype key = family == 6 ? FW_KEY_IPV6 : FW_KEY_IPV4;

	for (size_t i = 0; i < p->nsets; i++)
		if (p->sets[i].group && !strcmp(p->sets[i].group, group) &&
		    p->sets[i].key == key)
			return &p->sets[i];
	return NULL;
}

/* The members of v[0..n) of one family as set elements. */
static struct fw_elem *elems_of(const struct fw_addr_range *v, size_t n,
				int family, size_t *k)
{
	struct fw_elem *e = xcalloc(n + 1, sizeof(*e));

	*k = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].family == family) {
			memcpy(e[*k].lo, v[i].lo, 16);
			memcpy(e[(*k)++].hi, v[i].lo, 16);
		}
	return e;
}

struct change {
	struct fw_pset *set[2]; /* IPv4, IPv6; NULL if the group has none */
	struct fw_elem_change ch[2];
	size_t nch;
};

static void change_free(struct change *c)
{
	for (size_t i = 0; i < c->nch; i++) {
		free((void *)c->ch[i].del);
		free((void *)c->ch[i].add);
	}
}

/* Checks that m changes the elements of the group's sets and nothing
 * else, and lists those changes. */
static bool change_make(struct fw_plan *plan, const struct fw_mdelta *m,
			struct change *c)
{
	size_t total = 0, had = 0;

	memset(c, 0, sizeof(*c));
	for (int f = 0; f < 2; f++) {
		int family = f ? 6 : 4;
		struct fw_pset *s = group_set(plan, m->group->name, family);
		struct fw_elem_change *x = &c->ch[c->nch];
		struct fw_elem *none = NULL;
		size_t zero = 0;

		c->set[f] = s;
		if (s && (!s->exclusive || s->interval))
			return false;
		if (!mdelta_elems(m, family, s ? &s->elems : &none,
				  s ? &s->nelems : &zero, false))
			return false;
		if (!s)
			continue;
		x->set = s;
		x->del = elems_of(m->del, m->ndel, family, &x->ndel);
		x->add = elems_of(m->add, m->nadd, family, &x->nadd);
		c->nch++;
		had += s->nelems;
		total += s->nelems - x->ndel + x->nadd;
		/* A hash set keeps its size: one that no longer fits (or
		 * would get a smaller one) is made again, the whole way. */
		if (plan_hash_size(s->nelems - x->ndel + x->nadd) != s->size)
			return false;
	}
	/* Some set of the group must be in the plan (an unused group is
	 * not worth the trouble), and the list must stay a bulk list so
	 * that its position is known next time. */
	return had > 0 && total >= BULK_MIN &&
	       had - m->nwin_old + m->nwin_new == total;
}

/* The kernel has the change: the plan gets it too. */
static void change_plan(const struct fw_mdelta *m, struct change *c)
{
	for (size_t i = 0; i < c->nch; i++) {
		struct fw_elem_change *x = &c->ch[i];
		struct fw_pset *s = (struct fw_pset *)x->set;

		mdelta_elems(m, s->key == FW_KEY_IPV6 ? 6 : 4, &s->elems,
			     &s->nelems, true);
		for (size_t j = 0; j < x->ndel; j++)
			plan_set_sum_elem(s, &x->del[j], false);
		for (size_t j = 0; j < x->nadd; j++)
			plan_set_sum_elem(s, &x->add[j], true);
	}
}

/* Element changes to send: the sets' whose lists are not empty. */
static size_t change_sends(struct change *c, struct fw_elem_change *v)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nch; i++)
		if (c->ch[i].ndel || c->ch[i].nadd)
			v[n++] = c->ch[i];
	return n;
}

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

/* Whether the kernel holds what fwd last committed, still. */
static bool kernel_holds(struct fw_daemon *d)
{
	uint32_t now;

	return nl_genid(d->nl, &now) == 0 && now == d->genid &&
	       nl_table_exists(d->nl, d->cfg.table) == 1;
}

/* The same text again: nothing to do if the kernel holds it still. */
static int same_text(struct fw_daemon *d, char *doc,
		     struct apply_result *res)
{
	if (!kernel_holds(d))
		return 0;
	free(doc);
	res->changed = res->kernel = false;
	d->apply_ok++;
	d->last_apply = time(NULL);
	daemon_activated(d, false, true);
	return 1;
}

int quick_apply(struct fw_daemon *d, char *doc, size_t len, const char *by,
		struct apply_result *res)
{
	struct fw_ready *a = d->active;
	struct fw_mdelta m;
	struct change c;
	struct fw_elem_change send[2];
	struct fw_state_stage st;
	struct hasher hash = {0};
	size_t nsend;
	int e;
	struct fw_diags diags;
	int r = 0;

	if (!a || !a->saved || !a->doc || a->plan->slim || !d->genid_known)
		return 0;
	if (len == a->len && !memcmp(doc, a->doc, len))
		return same_text(d, doc, res);
	if (mdelta_find(a->policy, a->doc, a->len, doc, len, &m) != 1)
		return 0;
	hash_start(&hash, doc, len);
	diags_init(&diags);
	if (!change_make(a->plan, &m, &c))
		goto out;
	/* Nothing to send (members moved within the list): the kernel
	 * must hold the plan still, as for the same text. */
	nsend = change_sends(&c, send);
	if (nsend ? daemon_kernel(d, a->plan, NULL, send, nsend, 0,
				  &diags) != 0
		  : !kernel_holds(d))
		goto out;
	change_plan(&m, &c);
	plan_digest(a->plan, a->plan_sha);
	mdelta_shift_spans(a->policy, &m);
	free(a->doc);
	a->doc = doc;
	a->len = len;
	a->saved = state_stage(d->cfg.statedir, doc, len, &st) == 0;
	e = errno;
	hash_done(&hash);
	memcpy(a->meta.sha256, hash.hex, sizeof(hash.hex));
	state_meta_stamp(&a->meta, by, time(NULL));
	if (a->saved) {
		a->saved = state_commit_staged(d->cfg.statedir, &st,
					       &a->meta) == 0;
		e = errno;
	}
	errno = e;
	if (!a->saved)
		log_warn_errno("cannot save the policy in %s", d->cfg.statedir);
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
	change_free(&c);
	mdelta_free(&m);
	return r;
}
