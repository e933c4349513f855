// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memdelta: a change of one group's members, found from the bytes of two
 * policy texts (memdelta.h).
 *
 * Inside a bulk list every string is plain (no quote, no backslash, no
 * control character), so a byte is inside a string exactly when an odd
 * number of quotes precede it in the list. The window of whole members
 * around the differing bytes is cut at closing quotes (or at the list's
 * ends); the text on either side of it is the same in both documents, so
 * the new list is the old one with the window's members swapped.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "memdelta.h"
#include "util.h"

/* The longest member worth parsing: an IPv6 address with a zone or a
 * prefix fits well within it. */
#define MEMBER_MAX 128

/* Bytes of a and b that agree from the start. */
static size_t common_prefix(const char *a, const char *b, size_t n)
{
	size_t i = 0;

	/* memcmp in strides finds the block, bytes find the place. */
	while (n - i >= 4096 && !memcmp(a + i, b + i, 4096))
		i += 4096;
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* Bytes of a[..alen) and b[..blen) that agree from the end, at most n. */
static size_t common_suffix(const char *a, size_t alen, const char *b,
			    size_t blen, size_t n)
{
	size_t i = 0;

	while (n - i >= 4096 &&
	       !memcmp(a + alen - i - 4096, b + blen - i - 4096, 4096))
		i += 4096;
	while (i < n && a[alen - i - 1] == b[blen - i - 1])
		i++;
	return i;
}

/* The number of '"' in t[a..b), eight bytes at a time. */
static size_t count_quotes(const char *t, size_t a, size_t b)
{
	const uint64_t ones7 = 0x7f7f7f7f7f7f7f7fULL;
	const uint64_t quotes = 0x2222222222222222ULL;
	size_t n = 0;

	for (; a < b && (a & 7); a++)
		n += t[a] == '"';
	for (; b - a >= 8; a += 8) {
		uint64_t w, x, y;

		memcpy(&w, t + a, 8);
		x = w ^ quotes; /* a zero byte where t has a quote */
		y = ~(((x & ones7) + ones7) | x | ones7);
		n += (size_t)__builtin_popcountll(y);
	}
	for (; a < b; a++)
		n += t[a] == '"';
	return n;
}

/* The last '"' in t[a..b), or -1. */
static long last_quote(const char *t, size_t a, size_t b)
{
	const char *q = b > a ? memrchr(t + a, '"', b - a) : NULL;

	return q ? q - t : -1;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct members {
	struct fw_addr_range *v;
	size_t n, cap;
};

/*
 * Parses the members in t[a..b), a window of a bulk list: each is a
 * plain string preceded by a comma, except the list's first (first set),
 * with whitespace anywhere between. False unless every one is a single
 * address.
 */
static bool window_members(const char *t, size_t a, size_t b, bool first,
			   struct members *m)
{
	char s[MEMBER_MAX + 1];
	size_t i = a;

	for (;;) {
		size_t j;
		char *err = NULL;
		struct fw_addr_range r;

		while (i < b && is_ws(t[i]))
			i++;
		if (i == b)
			return true;
		if (!first) {
			if (t[i] != ',')
				return false;
			for (i++; i < b && is_ws(t[i]); i++)
				;
		}
		first = false;
		if (i == b || t[i] != '"')
			return false;
		for (j = i + 1; j < b && t[j] != '"'; j++)
			if (t[j] == '\\' || (unsigned char)t[j] < 0x20)
				return false;
		if (j == b || j - i - 1 > MEMBER_MAX)
			return false;
		memcpy(s, t + i + 1, j - i - 1);
		s[j - i - 1] = '\0';
		if (addr_parse(s, &r, &err) < 0 || memcmp(r.lo, r.hi, 16)) {
			free(err);
			return false;
		}
		xgrow((void **)&m->v, &m->cap, m->n, sizeof(*m->v));
		m->v[m->n++] = r;
		i = j + 1;
	}
}

/* Drops the members both lists have (sorted first), once per pair. */
static void cancel(struct members *x, struct members *y)
{
	size_t i = 0, j = 0, nx = 0, ny = 0;

	if (x->n)
		qsort(x->v, x->n, sizeof(*x->v), addr_cmp);
	if (y->n)
		qsort(y->v, y->n, sizeof(*y->v), addr_cmp);
	while (i < x->n || j < y->n) {
		int c = i == x->n   ? 1
			: j == y->n ? -1
				    : addr_cmp(&x->v[i], &y->v[j]);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			x->v[nx++] = x->v[i++];
		} else {
			y->v[ny++] = y->v[j++];
		}
	}
	x->n = nx;
	y->n = ny;
}

/* The group whose bulk list holds the bytes [p, e) of the old text, with
 * its brackets outside them. */
static const struct fw_group *group_around(const struct fw_policy *p,
					   size_t lo, size_t hi)
{
	for (size_t i = 0; i < p->ngroups; i++) {
		const struct fw_group *g = &p->groups[i];

		if (g->span_close && g->span_open < lo && g->span_close >= hi)
			return g;
	}
	return NULL;
}

int mdelta_find(const struct fw_policy *old, const char *otext, size_t olen,
		const char *ntext, size_t nlen, struct fw_mdelta *out)
{
	size_t min = olen < nlen ? olen : nlen, p, s, e, open, l, r;
	const struct fw_group *g;
	struct members del = {0}, add = {0};
	size_t q;
	long k;

	memset(out, 0, sizeof(*out));
	p = common_prefix(otext, ntext, min);
	if (p == olen && p == nlen)
		return 0;
	s = common_suffix(otext, olen, ntext, nlen, min - p);
	e = olen - s; /* old differs in [p, e), new in [p, nlen - s) */
	g = group_around(old, p, e);
	if (!g)
		return 0;
	open = g->span_open;
	/* Left: just past the closing quote of the last member before the
	 * one that p is in (or comes before), or just inside '['. */
	q = count_quotes(otext, open + 1, p);
	k = last_quote(otext, open + 1, p);
	if (q % 2 == 1)
		k = last_quote(otext, open + 1, (size_t)k);
	l = k < 0 ? open + 1 : (size_t)k + 1;
	/* Right: just past the closing quote of the member that e is in, or
	 * of the one after e, or at ']' when none comes. */
	q += count_quotes(otext, p, e);
	if (q % 2 == 1 || otext[e - 1] != '"') {
		const char *c = memchr(otext + e, '"', g->span_close - e);

		if (c && q % 2 == 0) /* the next member's opening quote */
			c = memchr(c + 1, '"', (size_t)(otext + g->span_close - c - 1));
		r = c ? (size_t)(c - otext) + 1 : g->span_close;
		/* A window that ends inside the list ends after a string. */
		if (!c && q % 2 == 1)
			return 0;
	} else {
		r = e;
	}
	out->shift = (long)nlen - (long)olen;
	out->at = p;
	out->cut = e - p;
	out->put = nlen - s - p;
	/* The new window must be a run of members as well, joining the
	 * unchanged text: a list emptied at its start leaves "[ ]". */
	if (!window_members(otext, l, r, l == open + 1, &del) ||
	    !window_members(ntext, l, (size_t)((long)r + out->shift),
			    l == open + 1, &add))
		goto none;
	if (l == open + 1 && add.n == 0) {
		size_t i = (size_t)((long)r + out->shift);

		while (i < nlen && is_ws(ntext[i]))
			i++;
		if (i >= nlen || ntext[i] != ']')
			goto none;
	}
	out->nwin_old = del.n;
	out->nwin_new = add.n;
	cancel(&del, &add);
	out->group = g;
	out->del = del.v;
	out->ndel = del.n;
	out->add = add.v;
	out->nadd = add.n;
	return 1;
none:
	free(del.v);
	free(add.v);
	memset(out, 0, sizeof(*out));
	return 0;
}

void mdelta_free(struct fw_mdelta *m)
{
	free(m->del);
	free(m->add);
	memset(m, 0, sizeof(*m));
}

/* k +/- 1, big-endian, len bytes; false when it would wrap. */
static bool step(uint8_t *k, size_t len, int dir)
{
	for (size_t i = len; i-- > 0;) {
		uint8_t was = k[i];

		k[i] = (uint8_t)(k[i] + dir);
		if ((dir > 0 && was != 0xff) || (dir < 0 && was != 0))
			return true;
	}
	return false;
}

/* The first of v[0..n) whose key is not below k. */
static size_t lower(const struct fw_elem *v, size_t n, const uint8_t *k,
		    size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(v[mid].lo, k, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The members of a family in v[0..n) (sorted by addr_cmp), as a slice. */
static const struct fw_addr_range *family_slice(const struct fw_addr_range *v,
					       size_t n, int family,
					       size_t *k)
{
	size_t i = 0;

	while (i < n && v[i].family != family)
		i++;
	*k = 0;
	while (i + *k < n && v[i + *k].family == family)
		(*k)++;
	return v + i;
}

/* Where key k is in v[0..n), or -1. */
static long find(const struct fw_elem *v, size_t n, const uint8_t *k,
		 size_t len)
{
	size_t i = lower(v, n, k, len);

	return i < n && !memcmp(v[i].lo, k, len) ? (long)i : -1;
}

/* Whether key k is among v[0..n), members of one family sorted by
 * addr_cmp (by key). */
static bool in_members(const struct fw_addr_range *v, size_t n,
		       const uint8_t *k, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(v[mid].lo, k, len);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Whether key k is in the set once the delta is made: in v and not
 * leaving, or coming. */
static bool after(const struct fw_elem *v, size_t n,
		  const struct fw_addr_range *del, size_t nd,
		  const struct fw_addr_range *add, size_t na, const uint8_t *k,
		  size_t len)
{
	return (find(v, n, k, len) >= 0 && !in_members(del, nd, k, len)) ||
	       in_members(add, na, k, len);
}

bool mdelta_elems(const struct fw_mdelta *m, int family, struct fw_elem **vp,
		  size_t *np, bool apply)
{
	size_t len = family == 6 ? 16 : 4, nd, na, n = *np, w;
	const struct fw_addr_range *del = family_slice(m->del, m->ndel, family,
						       &nd);
	const struct fw_addr_range *add = family_slice(m->add, m->nadd, family,
						       &na);
	struct fw_elem *v = *vp;
	size_t *at;

	if (apply)
		goto make; /* checked by the caller, just before */
	if (nd > n || (n > 0) != (n - nd + na > 0))
		return false; /* the set would appear or vanish */
	for (size_t j = 0; j < nd; j++)
		if (find(v, n, del[j].lo, len) < 0)
			return false; /* left, but was not there */
	for (size_t i = 0; i < na; i++) {
		uint8_t k[16];

		if (find(v, n, add[i].lo, len) >= 0 ||
		    (i && !memcmp(add[i - 1].lo, add[i].lo, len)))
			return false; /* came, but there already */
		/* Next to another, the planner would make them one range. */
		for (int dir = -1; dir <= 1; dir += 2) {
			memcpy(k, add[i].lo, len);
			if (step(k, len, dir) &&
			    after(v, n, del, nd, add, na, k, len))
				return false;
		}
	}
	return true;
make:
	if (!nd && !na)
		return true;
	/* Out with the ones that left, in one pass of moves... */
	at = xmalloc((nd + 1) * sizeof(*at));
	for (size_t j = 0; j < nd; j++)
		at[j] = (size_t)find(v, n, del[j].lo, len);
	w = nd ? at[0] : n;
	for (size_t j = 0; j < nd; j++) {
		size_t from = at[j] + 1, to = j + 1 < nd ? at[j + 1] : n;

		memmove(&v[w], &v[from], (to - from) * sizeof(*v));
		w += to - from;
	}
	free(at);
	n -= nd;
	/* ...and in with the ones that came, from the last one back. */
	v = xrealloc(v, (n + na + 1) * sizeof(*v));
	for (size_t i = na, j = n; i-- > 0;) {
		size_t p = lower(v, j, add[i].lo, len);

		memmove(&v[p + i + 1], &v[p], (j - p) * sizeof(*v));
		memset(&v[p + i], 0, sizeof(*v));
		memcpy(v[p + i].lo, add[i].lo, len);
		memcpy(v[p + i].hi, add[i].lo, len);
		j = p;
	}
	*vp = v;
	*np = n + na;
	return true;
}

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

void mdelta_patch_free(struct fw_set_patch *c)
{
	for (size_t i = 0; i < c->nch; i++) {
		free((void *)c->ch[i].del);
		free((void *)c->ch[i].add);
	}
}

bool mdelta_patch(struct fw_plan *plan, const struct fw_mdelta *m,
		  struct fw_set_patch *c)
{
	size_t total = 0, had = 0;

	memset(c, 0, sizeof(*c));
	for (int f = 0; f < 2; f++) {
		int family = f ? 6 : 4;
		struct fw_pset *s = group_set(plan, m->group->name, family);
		struct fw_elem_change *x = &c->ch[c->nch];
		struct fw_elem *none = NULL;
		size_t zero = 0;

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

void mdelta_patch_apply(const struct fw_mdelta *m, struct fw_set_patch *c)
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

size_t mdelta_patch_sends(const struct fw_set_patch *c,
			  struct fw_elem_change *v)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nch; i++)
		if (c->ch[i].ndel || c->ch[i].nadd)
			v[n++] = c->ch[i];
	return n;
}

void mdelta_shift_spans(struct fw_policy *old, const struct fw_mdelta *m)
{
	size_t at = m->group->span_open;

	for (size_t i = 0; i < old->ngroups; i++) {
		struct fw_group *g = &old->groups[i];

		if (!g->span_close)
			continue;
		if (g->span_open > at)
			g->span_open = (size_t)((long)g->span_open + m->shift);
		if (g->span_close >= at)
			g->span_close = (size_t)((long)g->span_close + m->shift);
	}
}
