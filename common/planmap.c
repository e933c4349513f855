// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * planmap: plans a chain's many tcp/udp rules as concatenated interval
 * verdict maps (saddr . l4proto . dport), one lookup per family and kind
 * however many rules there are. The kernel refuses overlapping elements,
 * so overlapping rules are cut into disjoint pieces, each given to the rule
 * the SPEC's semantics select. Pure data transformation, like plan.c.
 *
 * The chain becomes: baseline; deny maps; the deny rules a map cannot hold,
 * in file order; accept maps; the accept rules a map cannot hold; default.
 * A map answers with the first rule of its kind in file order that matches
 * (elements are labelled with the lowest rule index covering them). That is
 * the SPEC's answer only if no earlier rule of the same kind outside the
 * maps could match too, so a rule goes to a map only when no earlier
 * linear rule of its kind can overlap it (protocol and ports are compared;
 * addresses conservatively count as overlapping).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "arena.h"
#include "plan_int.h"
#include "util.h"

#define P_TCP 6
#define P_UDP 17

/* One rectangle of a rule: a source range times a port range. */
struct box {
	uint8_t lo[16], hi[16];
	uint16_t plo, phi;
	uint32_t idx; /* the rule's index in the chain: lower wins */
};

struct boxes {
	struct box *v;
	size_t n, cap;
};

/* A painted source segment: [lo, hi] belongs to rule idx. */
struct seg {
	uint8_t lo[16], hi[16];
	uint32_t idx;
};

struct segs {
	struct seg *v;
	size_t n, cap;
};

struct mapctx {
	struct fw_builder *b;
	const struct fw_chain *c;
	enum fw_chain_id cid;
	const char *cname;
	bool *in_map;
	enum fw_verdict *verdict; /* per rule: ACCEPT, DROP or JUMP */
	const char **target;
	struct boxes bx[2][2][2]; /* [deny][v6][udp] */
	size_t keylen;
	uint32_t *cnt; /* per rule: active boxes during a paint */
};

static bool eligible(const struct fw_rule *r)
{
	return r->proto && !(r->proto & ~(FW_P_TCP | FW_P_UDP)) &&
	       r->ndport && !r->nsport && !r->niif && !r->noif && !r->to.n &&
	       !r->has_limit;
}

static bool ports_meet(const struct fw_rule *a, const struct fw_rule *b)
{
	if (!a->ndport || !b->ndport)
		return true;
	for (size_t i = 0; i < a->ndport; i++)
		for (size_t j = 0; j < b->ndport; j++)
			if (a->dport[i].lo <= b->dport[j].hi &&
			    b->dport[j].lo <= a->dport[i].hi)
				return true;
	return false;
}

/* Whether linear rule y could match a packet that map rule x matches. */
static bool may_overlap(const struct fw_rule *y, const struct fw_rule *x)
{
	if (y->proto && !(y->proto & x->proto))
		return false;
	return ports_meet(y, x);
}

/*
 * Decides which rules go to maps, in file order: an eligible rule does
 * unless an earlier rule of its kind that stays linear may overlap it.
 * Returns how many do.
 */
static size_t choose(const struct fw_chain *c, bool *in_map)
{
	size_t *lin[2], nlin[2] = {0, 0}, n = 0;

	lin[0] = xmalloc(c->nrules * sizeof(size_t));
	lin[1] = xmalloc(c->nrules * sizeof(size_t));
	for (size_t i = 0; i < c->nrules; i++) {
		const struct fw_rule *x = &c->rules[i];
		int deny = x->action != FW_ACCEPT;

		in_map[i] = eligible(x);
		for (size_t j = 0; j < nlin[deny] && in_map[i]; j++)
			if (may_overlap(&c->rules[lin[deny][j]], x))
				in_map[i] = false;
		if (!in_map[i])
			lin[deny][nlin[deny]++] = i;
		n += in_map[i];
	}
	free(lin[0]);
	free(lin[1]);
	return n;
}

/* --- boxes ------------------------------------------------------------ */

static void box_push(struct boxes *bs, const uint8_t *lo, const uint8_t *hi,
		     const struct fw_port_range *p, uint32_t idx)
{
	struct box *x;

	xgrow((void **)&bs->v, &bs->cap, bs->n, sizeof(*bs->v));
	x = &bs->v[bs->n++];
	memcpy(x->lo, lo, 16);
	memcpy(x->hi, hi, 16);
	x->plo = p->lo;
	x->phi = p->hi;
	x->idx = idx;
}

/* The source ranges of a rule, both families, sorted and merged. */
static size_t rule_sources(const struct fw_builder *b, const struct fw_rule *r,
			   struct fw_addr_range **out)
{
	struct fw_addr_range *v = NULL;
	size_t n = 0, cap = 0;

	if (!r->from.n) {
		v = xcalloc(2, sizeof(*v));
		v[0].family = 4;
		memset(v[0].hi, 0xff, 4);
		v[1].family = 6;
		memset(v[1].hi, 0xff, 16);
		*out = v;
		return 2;
	}
	for (size_t i = 0; i < r->from.n; i++) {
		const struct fw_addr_item *it = &r->from.v[i];
		const struct fw_group *g;

		if (!it->group) {
			xgrow((void **)&v, &cap, n, sizeof(*v));
			v[n++] = it->r;
			continue;
		}
		g = plan_inline_group(b, it->group);
		for (size_t j = 0; g && j < g->nflat; j++) {
			xgrow((void **)&v, &cap, n, sizeof(*v));
			v[n++] = g->flat[j];
		}
	}
	*out = v;
	return n ? addr_normalize(v, n) : 0;
}

static int port_cmp(const void *a, const void *b)
{
	const struct fw_port_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* A rule's destination ports, sorted and merged; returns the count. */
static size_t rule_ports(const struct fw_rule *r, struct fw_port_range *v)
{
	size_t out = 0;

	memcpy(v, r->dport, r->ndport * sizeof(*v));
	qsort(v, r->ndport, sizeof(*v), port_cmp);
	for (size_t i = 1; i < r->ndport; i++) {
		if ((uint32_t)v[i].lo <= (uint32_t)v[out].hi + 1) {
			if (v[i].hi > v[out].hi)
				v[out].hi = v[i].hi;
			continue;
		}
		v[++out] = v[i];
	}
	return out + 1;
}

static void rule_boxes(struct mapctx *m, uint32_t idx)
{
	const struct fw_rule *r = &m->c->rules[idx];
	struct fw_port_range *pv = xmalloc(r->ndport * sizeof(*pv));
	size_t np = rule_ports(r, pv);
	struct fw_addr_range *src;
	size_t ns = rule_sources(m->b, r, &src);
	int deny = r->action != FW_ACCEPT;

	for (size_t s = 0; s < ns; s++)
		for (int u = 0; u < 2; u++) {
			struct boxes *bs = &m->bx[deny][src[s].family == 6][u];

			if (!(r->proto & (u ? FW_P_UDP : FW_P_TCP)))
				continue;
			for (size_t p = 0; p < np; p++)
				box_push(bs, src[s].lo, src[s].hi, &pv[p], idx);
		}
	free(src);
	free(pv);
}

/* --- painting --------------------------------------------------------- */

/* Increments a big-endian key; false when it wrapped (was all ones). */
static bool key_inc(uint8_t *k, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++k[i] != 0)
			return true;
	return false;
}

static void key_dec(uint8_t *k, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (k[i]-- != 0)
			return;
}

/* A point where a box starts or (the address after it) ends. */
struct ev {
	uint8_t a[16];
	uint32_t idx;
	bool end;
};

static int ev_cmp(const void *x, const void *y, void *keylen)
{
	const struct ev *a = x, *b = y;
	int c = memcmp(a->a, b->a, *(size_t *)keylen);

	if (c)
		return c;
	return (int)b->end - (int)a->end; /* ends first */
}

/* A binary min-heap of rule indices; stale entries are skipped on read. */
struct heap {
	uint32_t *v;
	size_t n, cap;
};

static void heap_push(struct heap *h, uint32_t x)
{
	size_t i;

	xgrow((void **)&h->v, &h->cap, h->n, sizeof(*h->v));
	for (i = h->n++; i && h->v[(i - 1) / 2] > x; i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i] = x;
}

static void heap_pop(struct heap *h)
{
	uint32_t x = h->v[--h->n];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= x)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = x;
}

static void seg_add(struct segs *ss, const uint8_t *lo, const uint8_t *hi,
		    uint32_t idx, size_t len)
{
	struct seg *s = ss->n ? &ss->v[ss->n - 1] : NULL;
	uint8_t next[16];

	if (s && s->idx == idx) {
		memcpy(next, s->hi, 16);
		if (key_inc(next, len) && !memcmp(next, lo, len)) {
			memcpy(s->hi, hi, len);
			return;
		}
	}
	xgrow((void **)&ss->v, &ss->cap, ss->n, sizeof(*ss->v));
	s = &ss->v[ss->n++];
	memset(s, 0, sizeof(*s));
	memcpy(s->lo, lo, len);
	memcpy(s->hi, hi, len);
	s->idx = idx;
}

/*
 * Paints the source ranges of the active boxes: every address gets the
 * lowest rule index whose box covers it. Output: disjoint segments in
 * address order, neighbours with the same rule merged.
 */
static void paint(struct mapctx *m, struct box *const *act, size_t n,
		  struct segs *out)
{
	size_t len = m->keylen, ne = 0, i = 0;
	struct ev *ev;
	struct heap h = {0};

	out->n = 0;
	if (n == 1) { /* one box: its own range (the usual case, a rule
		       * a port of its own) */
		uint8_t lo[16] = {0}, hi[16] = {0};

		memcpy(lo, act[0]->lo, len);
		memcpy(hi, act[0]->hi, len);
		seg_add(out, lo, hi, act[0]->idx, len);
		return;
	}
	ev = xmalloc(2 * n * sizeof(*ev));
	for (size_t k = 0; k < n; k++) {
		memset(&ev[ne], 0, sizeof(ev[ne]));
		memcpy(ev[ne].a, act[k]->lo, len);
		ev[ne++].idx = act[k]->idx;
		memset(&ev[ne], 0, sizeof(ev[ne]));
		memcpy(ev[ne].a, act[k]->hi, len);
		ev[ne].idx = act[k]->idx;
		ev[ne].end = true;
		if (key_inc(ev[ne].a, len))
			ne++;
	}
	qsort_r(ev, ne, sizeof(*ev), ev_cmp, &len);
	while (i < ne) {
		uint8_t lo[16] = {0}, hi[16];

		memcpy(lo, ev[i].a, len);
		for (; i < ne && !memcmp(ev[i].a, lo, len); i++) {
			if (ev[i].end) {
				m->cnt[ev[i].idx]--;
			} else if (m->cnt[ev[i].idx]++ == 0) {
				heap_push(&h, ev[i].idx);
			}
		}
		while (h.n && !m->cnt[h.v[0]])
			heap_pop(&h);
		if (!h.n)
			continue;
		if (i < ne) {
			memcpy(hi, ev[i].a, 16);
			key_dec(hi, len);
		} else {
			memset(hi, 0xff, 16);
		}
		seg_add(out, lo, hi, h.v[0], len);
	}
	for (; h.n; heap_pop(&h))
		m->cnt[h.v[0]] = 0;
	free(h.v);
	free(ev);
}

static bool segs_equal(const struct segs *a, const struct segs *b)
{
	return a->n == b->n &&
	       (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

/* --- maps ------------------------------------------------------------- */

struct melems {
	struct fw_pmelem *v;
	size_t n, cap;
};

static void emit_segs(struct mapctx *m, struct melems *me,
		      const struct segs *ss, uint8_t proto, uint16_t plo,
		      uint16_t phi)
{
	for (size_t i = 0; i < ss->n; i++) {
		const struct seg *s = &ss->v[i];
		struct fw_pmelem *e;

		xgrow((void **)&me->v, &me->cap, me->n, sizeof(*me->v));
		e = &me->v[me->n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->addr.lo, s->lo, 16);
		memcpy(e->addr.hi, s->hi, 16);
		e->proto = proto;
		e->plo = plo;
		e->phi = phi;
		e->verdict = m->verdict[s->idx];
		e->target = m->target[s->idx];
		e->rule = m->c->rules[s->idx].name;
	}
}

/* Sorts boxes by first port, keeping the order of those with the same
 * (two counting passes of a byte each: ports are 16 bits). */
static void box_sort(struct boxes *bs)
{
	struct box *t = xmalloc((bs->n + 1) * sizeof(*t)), *from = bs->v,
		   *to = t;

	for (int shift = 0; shift < 16; shift += 8) {
		size_t at[257] = {0};

		for (size_t i = 0; i < bs->n; i++)
			at[(from[i].plo >> shift & 0xff) + 1]++;
		for (size_t b = 1; b < 257; b++)
			at[b] += at[b - 1];
		for (size_t i = 0; i < bs->n; i++)
			to[at[from[i].plo >> shift & 0xff]++] = from[i];
		from = to;
		to = to == t ? bs->v : t;
	}
	free(t); /* two passes: the sorted boxes are back in bs->v */
}

/* The port breakpoints of a box list, in order, each once: every start
 * and every end + 1 (a bit each in a map of the 65,536 ports). */
static size_t breakpoints(const struct boxes *bs, uint32_t *bp)
{
	uint64_t seen[65536 / 64 + 1] = {0};
	size_t out = 0;

	for (size_t i = 0; i < bs->n; i++) {
		uint32_t lo = bs->v[i].plo, end = (uint32_t)bs->v[i].phi + 1;

		seen[lo / 64] |= 1ull << lo % 64;
		if (end <= 65535)
			seen[end / 64] |= 1ull << end % 64;
	}
	for (size_t w = 0; w < ARRAY_SIZE(seen); w++)
		for (uint64_t x = seen[w]; x; x &= x - 1)
			bp[out++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x));
	return out;
}

/*
 * Cuts the boxes of one protocol into disjoint elements: a sweep over the
 * ports paints the sources of each stretch of ports where the same boxes
 * are active; stretches that paint alike are merged.
 */
static void split(struct mapctx *m, struct boxes *bs, uint8_t proto,
		  struct melems *me)
{
	uint32_t *bp = xmalloc(2 * bs->n * sizeof(*bp) + 1);
	struct box **act = xmalloc(bs->n * sizeof(*act) + 1);
	struct segs cur = {0}, prev = {0}, tmp;
	size_t nbp, nact = 0, next = 0;
	uint32_t plo = 0, phi = 0;

	box_sort(bs);
	nbp = breakpoints(bs, bp);
	for (size_t k = 0; k < nbp; k++) {
		uint32_t lo = bp[k], hi = k + 1 < nbp ? bp[k + 1] - 1 : 65535;
		size_t keep = 0;

		for (size_t i = 0; i < nact; i++)
			if (act[i]->phi >= lo)
				act[keep++] = act[i];
		nact = keep;
		while (next < bs->n && bs->v[next].plo <= lo)
			act[nact++] = &bs->v[next++];
		if (!nact) {
			emit_segs(m, me, &prev, proto, (uint16_t)plo,
				  (uint16_t)phi);
			prev.n = 0;
			continue;
		}
		paint(m, act, nact, &cur);
		if (prev.n && phi + 1 == lo && segs_equal(&cur, &prev)) {
			phi = hi;
			continue;
		}
		emit_segs(m, me, &prev, proto, (uint16_t)plo, (uint16_t)phi);
		tmp = prev;
		prev = cur;
		cur = tmp;
		plo = lo;
		phi = hi;
	}
	emit_segs(m, me, &prev, proto, (uint16_t)plo, (uint16_t)phi);
	free(cur.v);
	free(prev.v);
	free(act);
	free(bp);
}

static struct fw_pmap *map_add(struct fw_builder *b, const char *name,
			       enum fw_chain_id cid, int fi, int deny)
{
	struct fw_plan *plan = b->plan;
	struct fw_pmap *mp;

	xgrow((void **)&plan->maps, &b->mcap, plan->nmaps, sizeof(*mp));
	mp = &plan->maps[plan->nmaps++];
	memset(mp, 0, sizeof(*mp));
	mp->name = arena_strdup(b->a, name);
	mp->chain = cid;
	mp->family = fi ? 6 : 4;
	mp->deny = deny;
	return mp;
}

/* --- hash maps, one per source prefix length ----------------------------- */

typedef unsigned __int128 u128;

static u128 be_get(const uint8_t *b, size_t len)
{
	u128 v = 0;

	for (size_t i = 0; i < len; i++)
		v = v << 8 | b[i];
	return v;
}

static void be_put(u128 v, uint8_t *b, size_t len)
{
	for (size_t i = len; i-- > 0; v >>= 8)
		b[i] = (uint8_t)v;
}

/*
 * Calls fn for each CIDR block of [lo, hi] (len bytes), largest first
 * from lo up; stops early and returns false if fn does. A block of the
 * whole space (plen 0) is refused too: no map is keyed on nothing.
 */
static bool cidr_each(const uint8_t *lo8, const uint8_t *hi8, size_t len,
		      bool (*fn)(void *arg, u128 net, unsigned plen), void *arg)
{
	unsigned bits = (unsigned)len * 8;
	u128 lo = be_get(lo8, len), hi = be_get(hi8, len);

	for (;;) {
		unsigned k = 0; /* block of 2^k addresses at lo */

		while (k + 1 < bits && !(lo & (((u128)1 << (k + 1)) - 1)) &&
		       lo + (((u128)1 << (k + 1)) - 1) <= hi)
			k++;
		if (!fn(arg, lo, bits - k))
			return false;
		if (lo + (((u128)1 << k) - 1) >= hi)
			return true;
		lo += (u128)1 << k;
	}
}

struct plens {
	unsigned v[FW_PLAN_HASH_PLENS + 1];
	size_t n;
};

static bool plen_note(void *arg, u128 net, unsigned plen)
{
	struct plens *p = arg;

	(void)net;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i] == plen)
			return true;
	if (plen < FW_PLAN_HASH_PLEN_MIN || p->n == FW_PLAN_HASH_PLENS)
		return false;
	p->v[p->n++] = plen;
	return true;
}

/* The prefix lengths of a hash plan of me, longest first; false when
 * the elements do not suit hash maps. */
static bool hash_plens(const struct melems *me, size_t len, struct plens *p)
{
	p->n = 0;
	for (size_t i = 0; i < me->n; i++)
		if (me->v[i].plo != me->v[i].phi ||
		    !cidr_each(me->v[i].addr.lo, me->v[i].addr.hi, len,
			       plen_note, p))
			return false;
	for (size_t i = 1; i < p->n; i++) /* insertion sort, descending */
		for (size_t j = i; j > 0 && p->v[j - 1] < p->v[j]; j--) {
			unsigned t = p->v[j];

			p->v[j] = p->v[j - 1];
			p->v[j - 1] = t;
		}
	return true;
}

struct hsplit {
	const struct fw_pmelem *src;
	size_t len;
	unsigned plen;
	struct melems *out;
};

static bool hash_emit(void *arg, u128 net, unsigned plen)
{
	struct hsplit *h = arg;
	struct fw_pmelem *e;

	if (plen != h->plen)
		return true;
	xgrow((void **)&h->out->v, &h->out->cap, h->out->n,
	      sizeof(*h->out->v));
	e = &h->out->v[h->out->n++];
	*e = *h->src;
	memset(&e->addr, 0, sizeof(e->addr));
	be_put(net, e->addr.lo, h->len);
	be_put(net, e->addr.hi, h->len);
	return true;
}

/*
 * The order nft lists a hash map's elements in: by the key read as one
 * little-endian number (address, protocol and port, each padded to 32-bit
 * words), that is, comparing its bytes from the last.
 */
static size_t hkey(const struct fw_pmelem *e, size_t len, uint8_t k[24])
{
	memset(k, 0, 24);
	memcpy(k, e->addr.lo, len);
	k[len] = e->proto;
	k[len + 4] = (uint8_t)(e->plo >> 8);
	k[len + 5] = (uint8_t)e->plo;
	return len + 8;
}

/* A hash map element's place in that order: its key's bytes from the
 * last, which memcmp compares, worked out once per element rather than
 * twice per comparison. */
struct hord {
	uint8_t k[24];
	uint32_t i;
};

/* Sorts o[0..n) by the first kl bytes of their keys, as memcmp orders
 * them, keeping the order of equal keys: a counting pass per byte from
 * the last, skipped when all have the same byte there. */
static void hord_sort(struct hord *o, size_t n, size_t kl)
{
	struct hord *t = xmalloc((n + 1) * sizeof(*t)), *from = o, *to = t;

	for (size_t b = kl; b-- > 0;) {
		size_t at[257] = {0};

		for (size_t i = 0; i < n; i++)
			at[from[i].k[b] + 1]++;
		if (at[from[0].k[b] + 1] == n)
			continue;
		for (size_t c = 1; c < 257; c++)
			at[c] += at[c - 1];
		for (size_t i = 0; i < n; i++)
			to[at[from[i].k[b]]++] = from[i];
		from = to;
		to = to == t ? o : t;
	}
	if (from != o)
		memcpy(o, from, n * sizeof(*o));
	free(t);
}

/* Sorts v[0..n) into the order nft lists a hash map in. */
static void hsort(struct fw_pmelem *v, size_t n, size_t len)
{
	struct hord *o = xmalloc((n + 1) * sizeof(*o));
	struct fw_pmelem *t = xmalloc((n + 1) * sizeof(*t));
	uint8_t k[24];
	size_t kl_max = 0;

	for (size_t i = 0; i < n; i++) {
		size_t kl = hkey(&v[i], len, k);

		if (kl > kl_max)
			kl_max = kl;

		memset(o[i].k, 0, sizeof(o[i].k));
		for (size_t j = 0; j < kl; j++)
			o[i].k[j] = k[kl - 1 - j];
		o[i].i = (uint32_t)i;
	}
	if (n)
		hord_sort(o, n, kl_max);
	for (size_t i = 0; i < n; i++)
		t[i] = v[o[i].i];
	memcpy(v, t, n * sizeof(*v));
	free(t);
	free(o);
}

/* Adds map name (plen 0: interval) with elements v[0..n). */
static void map_put(struct mapctx *m, int deny, int fi, unsigned plen,
		    const struct fw_pmelem *v, size_t n)
{
	struct fw_pmap *mp;
	char *name;

	if (plen)
		name = arena_printf(m->b->a, "%s_%s_ip%s_%u", m->cname,
				    deny ? "deny" : "accept", fi ? "6" : "",
				    plen);
	else
		name = arena_printf(m->b->a, "%s_%s_ip%s", m->cname,
				    deny ? "deny" : "accept", fi ? "6" : "");
	mp = map_add(m->b, name, m->cid, fi, deny);
	mp->plen = (uint8_t)plen;
	mp->size = plen ? plan_hash_size(n) : 0;
	mp->nelems = n;
	mp->elems = arena_memdup(m->b->a, v, n * sizeof(*v));
}

/* Builds the maps of one kind and family: one interval map, or hash maps
 * (see FW_PLAN_HASH_MIN). Returns how many, the first at plan index
 * *first. */
static size_t build_maps(struct mapctx *m, int deny, int fi, size_t *first)
{
	size_t min = m->b->o->hash_min ? m->b->o->hash_min : FW_PLAN_HASH_MIN;
	size_t len = fi ? 16 : 4, before = m->b->plan->nmaps;
	struct melems me = {0};
	struct plens pl;

	m->keylen = len;
	*first = before;
	for (int u = 0; u < 2; u++)
		split(m, &m->bx[deny][fi][u], u ? P_UDP : P_TCP, &me);
	if (!me.n)
		return 0;
	if (me.n < min || !hash_plens(&me, len, &pl)) {
		map_put(m, deny, fi, 0, me.v, me.n);
	} else {
		for (size_t i = 0; i < pl.n; i++) {
			struct melems out = {0};
			struct hsplit h = {NULL, len, pl.v[i], &out};

			for (size_t j = 0; j < me.n; j++) {
				h.src = &me.v[j];
				cidr_each(me.v[j].addr.lo, me.v[j].addr.hi,
					  len, hash_emit, &h);
			}
			hsort(out.v, out.n, len);
			map_put(m, deny, fi, pl.v[i], out.v, out.n);
			free(out.v);
		}
	}
	free(me.v);
	return m->b->plan->nmaps - before;
}

static void vmap_rule(struct fw_builder *b, size_t ch, size_t map, int fi)
{
	struct fw_prule *pr = plan_chain_push(b, ch);

	pr->verdict = FW_V_VMAP;
	pr->target = b->plan->maps[map].name;
	pr->plen = b->plan->maps[map].plen;
	pr->family = fi ? 6 : 4;
}

/* What a map rule's elements answer: the verdict, or its own chain. */
static void rule_verdicts(struct mapctx *m)
{
	for (size_t i = 0; i < m->c->nrules; i++) {
		const struct fw_rule *r = &m->c->rules[i];

		if (!m->in_map[i])
			continue;
		if (r->action == FW_REJECT || r->log) {
			m->verdict[i] = FW_V_JUMP;
			m->target[i] = plan_rule_chain(
				m->b, r, m->cname,
				arena_cat(m->b->a, m->cname, "_", r->name,
					  NULL));
		} else {
			m->verdict[i] =
				r->action == FW_ACCEPT ? FW_V_ACCEPT : FW_V_DROP;
		}
		rule_boxes(m, (uint32_t)i);
	}
}

static void mapctx_free(struct mapctx *m)
{
	for (int d = 0; d < 2; d++)
		for (int f = 0; f < 2; f++)
			for (int u = 0; u < 2; u++)
				free(m->bx[d][f][u].v);
	free(m->in_map);
	free(m->verdict);
	free(m->target);
	free(m->cnt);
}

bool planmap_chain(struct fw_builder *b, size_t ch, enum fw_chain_id cid)
{
	const struct fw_chain *c = &b->p->chains[cid];
	size_t min = b->o->map_min ? b->o->map_min : FW_PLAN_MAP_MIN;
	struct mapctx m = {.b = b, .c = c, .cid = cid};
	size_t nmaps[2][2], first[2][2];

	if (b->o->simple || c->nrules < min)
		return false;
	m.in_map = xcalloc(c->nrules, sizeof(*m.in_map));
	if (choose(c, m.in_map) < min) {
		free(m.in_map);
		return false;
	}
	m.cname = policy_chain_name(cid);
	m.verdict = xcalloc(c->nrules, sizeof(*m.verdict));
	m.target = xcalloc(c->nrules, sizeof(*m.target));
	m.cnt = xcalloc(c->nrules, sizeof(*m.cnt));
	rule_verdicts(&m);
	/* build_chain added the chain's rule counters last, in file order;
	 * a rule its elements answer for directly counts in them. */
	for (size_t i = 0; i < c->nrules; i++)
		b->plan->counters[b->plan->ncounters - c->nrules + i].in_elems =
			m.in_map[i] && m.verdict[i] != FW_V_JUMP;
	for (int deny = 1; deny >= 0; deny--)
		for (int fi = 0; fi < 2; fi++)
			nmaps[deny][fi] = build_maps(&m, deny, fi, &first[deny][fi]);
	for (int deny = 1; deny >= 0; deny--) {
		for (int fi = 0; fi < 2; fi++)
			for (size_t k = 0; k < nmaps[deny][fi]; k++)
				vmap_rule(b, ch, first[deny][fi] + k, fi);
		for (size_t i = 0; i < c->nrules; i++)
			if (!m.in_map[i] && (c->rules[i].action != FW_ACCEPT) ==
						    (deny == 1))
				plan_emit_rule(b, ch, cid, &c->rules[i]);
	}
	mapctx_free(&m);
	return true;
}
