// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_memdelta: the member changes found from the bytes of two policy
 * texts. Every delta found is checked against a full parse of the new
 * text: the old members less the ones that left plus the ones that came
 * are the new members, and the recorded list positions move to where the
 * new parse puts them. Random edits of the text probe the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "memdelta.h"
#include "plan.h"
#include "policy.h"
#include "t.h"
#include "util.h"

#define N 40

static char *addr_of(int i)
{
	return xasprintf("10.%d.%d.%d", i / 4096 % 256, i / 16 % 256,
			 (i % 16) * 4 + 1);
}

/* A policy with two big groups (allow, then other) and a rule. */
static char *doc_with(const char *allow)
{
	struct fw_buf b = {0};

	buf_printf(&b, "{\"version\": 1, \"groups\": {\"allow\": [%s],\n"
		       " \"other\": [",
		   allow);
	for (int i = 0; i < N; i++) {
		char *a = addr_of(1000 + i);

		buf_printf(&b, "%s\"%s\"", i ? ", " : "", a);
		free(a);
	}
	buf_printf(&b, "]},\n \"input\": {\"default\": \"drop\", \"rules\": "
		       "[{\"name\": \"web\", \"proto\": \"tcp\", \"port\": 443, "
		       "\"from\": \"allow\"}, {\"name\": \"x\", \"proto\": "
		       "\"tcp\", \"port\": 22, \"from\": \"other\"}]}}\n");
	return b.s;
}

static char *members(int n)
{
	struct fw_buf b = {0};

	buf_add(&b, "", 0);
	for (int i = 0; i < n; i++) {
		char *a = addr_of(i);

		buf_printf(&b, "%s\"%s\"%s", i ? "," : "", a,
			   i % 5 == 4 ? "\n  " : " ");
		free(a);
	}
	return b.s;
}

static struct fw_policy *parse(const char *doc)
{
	struct fw_diags d;
	struct fw_policy *p;

	diags_init(&d);
	p = policy_parse("t.json", doc, strlen(doc), &d);
	diags_free(&d);
	return p;
}

static const struct fw_group *group(const struct fw_policy *p,
				    const char *name)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (!strcmp(p->groups[i].name, name))
			return &p->groups[i];
	return NULL;
}

/* The group's members of one family as set elements. */
static struct fw_elem *elems_of(const struct fw_group *g, int family,
				size_t *n)
{
	struct fw_elem *v = xmalloc((g->nflat + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < g->nflat; i++)
		if (g->flat[i].family == family) {
			memcpy(v[*n].lo, g->flat[i].lo, 16);
			memcpy(v[(*n)++].hi, g->flat[i].hi, 16);
		}
	return v;
}

/*
 * mdelta_find on old -> new; when it finds a delta, mdelta_elems on each
 * family's elements, checked against a full parse of new. Returns 0 (no
 * delta), 1 (found, elements right), 2 (found, elements refused), -1
 * (wrong).
 */
static int delta_ok(const char *old, const char *new)
{
	struct fw_policy *po = parse(old), *pn;
	const struct fw_group *gn;
	struct fw_mdelta m;
	int r = 1;

	if (!po)
		return -1;
	if (mdelta_find(po, old, strlen(old), new, strlen(new), &m) != 1) {
		policy_free(po);
		return 0;
	}
	pn = parse(new);
	gn = pn ? group(pn, m.group->name) : NULL;
	if (!gn)
		r = -1;
	/* The changed span makes new of old (what state saves). */
	if (m.at + m.cut > strlen(old) || m.at + m.put > strlen(new) ||
	    strlen(old) - m.cut + m.put != strlen(new) ||
	    memcmp(old, new, m.at) ||
	    strcmp(old + m.at + m.cut, new + m.at + m.put))
		r = -1;
	for (int f = 4; r == 1 && f <= 6; f += 2) {
		size_t n, ng;
		struct fw_elem *v = elems_of(m.group, f, &n);
		struct fw_elem *want = elems_of(gn, f, &ng);
		size_t len = f == 6 ? 16 : 4;
		bool ok = mdelta_elems(&m, f, &v, &n, false);

		if (ok)
			mdelta_elems(&m, f, &v, &n, true);
		if (!ok)
			r = 2; /* refusing is always safe */
		else if (!gn->singles || n != ng)
			r = -1;
		for (size_t i = 0; r == 1 && i < n; i++)
			if (memcmp(v[i].lo, want[i].lo, len) ||
			    memcmp(v[i].hi, want[i].hi, len))
				r = -1;
		free(v);
		free(want);
	}
	if (r == 1) {
		mdelta_shift_spans(po, &m);
		for (size_t i = 0; i < po->ngroups; i++) {
			const struct fw_group *x = group(pn, po->groups[i].name);

			if (!x || x->span_open != po->groups[i].span_open ||
			    x->span_close != po->groups[i].span_close)
				r = -1;
		}
	}
	mdelta_free(&m);
	policy_free(po);
	policy_free(pn);
	return r;
}

/* doc with the first occurrence of from replaced by to. */
static char *edit(const char *doc, const char *from, const char *to)
{
	const char *at = strstr(doc, from);

	if (!at)
		return xstrdup(doc);
	return xasprintf("%.*s%s%s", (int)(at - doc), doc, to,
			 at + strlen(from));
}

static void test_edits(void)
{
	char *m = members(N), *old = doc_with(m), *new;
	static const struct {
		const char *from, *to, *what;
		int want;
	} cases[] = {
		{"\"10.0.0.5\"", "\"10.9.9.9\"", "one member replaced", 1},
		{"\"10.0.0.5\"", "\"10.0.0.7\"", "a member's tail edited", 1},
		{"\"10.0.0.1\" ,", "", "the first member removed", 1},
		{"\"10.0.0.1\"", "\"10.7.7.7\", \"10.0.0.1\"",
		 "a member inserted first", 1},
		{"\"10.0.2.29\"\n  ]", "\"10.0.2.29\", \"10.8.8.8\"\n  ]",
		 "a member appended", 1},
		{" ,\"10.0.2.29\"", "", "the last member removed", 1},
		{"\"10.0.0.5\" ,\"10.0.0.9\"", "\"10.0.0.9\" ,\"10.0.0.5\"",
		 "two members swapped: no delta, but found", 1},
		{"\"10.0.0.5\" ,\"10.0.0.9\"", "\"10.0.0.5\",\"10.0.0.9\"",
		 "white space changed", 1},
		{"\"10.0.0.5\"", "\"10.0.0.6\"", "a member between two", 1},
		{"\"10.0.0.5\"", "\"2001:db8::5\"", "the first IPv6 member", 2},
		{"\"10.0.0.5\"", "\"10.0.0.8\"", "a member next to another", 2},
		{"\"10.0.0.5\"", "\"10.0.0.9\"", "a member twice", 2},
		{"\"10.0.0.5\"", "\"10.0.0.0/24\"", "a prefix member", 0},
		{"\"10.0.0.5\"", "\"other\"", "a group reference", 0},
		{"\"10.0.0.5\"", "\"10.0.0.5\\u0020\"", "an escape", 0},
		{"\"10.0.0.5\"", "\"10.0.0.5", "a quote removed", 0},
		{"\"10.0.0.5\" ,", "\"10.0.0.5\" ,,", "a comma doubled", 0},
		{"\"10.0.0.1\" ,", ",", "a leading comma", 0},
		{"443", "444", "a rule's port", 0},
		{"\"10.0.2.29\"\n  ],\n \"other\": [\"10.0.62.33\"",
		 "\"10.0.2.33\"\n  ],\n \"other\": [\"10.0.62.34\"",
		 "two lists edited", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		new = edit(old, cases[i].from, cases[i].to);
		T_OK(strcmp(new, old) && delta_ok(old, new) == cases[i].want,
		     "memdelta: %s: %s", cases[i].what,
		     cases[i].want == 1	  ? "found and right"
		     : cases[i].want == 2 ? "found, elements refused"
					  : "not a delta");
		free(new);
	}
	T_OK(delta_ok(old, old) == 0, "memdelta: the same text: no delta");
	free(old);
	free(m);
}

/* Counts a delta_ok result: found if up to max, wrong if -1. */
static void tally(int r, int max, size_t *found, size_t *wrong)
{
	*found += r >= 1 && r <= max;
	*wrong += r < 0;
}

/* Random edits near and inside the first list: whatever is found agrees
 * with a full parse. */
static void test_random(void)
{
	static const char *bits[] = {"\"", ",", " ", "\"10.3.3.3\"",
				     ", \"10.4.4.4\"", "]", "[", "\\",
				     "\"10.0.0.9\",", "x", "\n"};
	char *m = members(N + 20), *old = doc_with(m);
	size_t len = strlen(old), found = 0, wrong = 0;
	unsigned x = 7;

	for (int it = 0; it < 3000; it++) {
		size_t at, cut;
		const char *ins;
		char *new;

		x = x * 1103515245 + 12345;
		at = 30 + (x >> 8) % (len / 2);
		x = x * 1103515245 + 12345;
		cut = (x >> 8) % 12;
		if (at + cut > len)
			cut = 0;
		x = x * 1103515245 + 12345;
		ins = bits[(x >> 8) % (sizeof(bits) / sizeof(bits[0]))];
		new = xasprintf("%.*s%s%s", (int)at, old, ins, old + at + cut);
		tally(delta_ok(old, new), 2, &found, &wrong);
		free(new);
	}
	T_OK(wrong == 0, "memdelta: 3000 random edits, none wrong (%zu)",
	     wrong);
	T_OK(found > 20, "memdelta: deltas found for some of them (%zu)",
	     found);
	found = wrong = 0;
	/* Whole members replaced, removed or added, anywhere. */
	for (int it = 0; it < 1000; it++) {
		char *from, *to, *new, *a, *b;

		x = x * 1103515245 + 12345;
		a = addr_of((int)((x >> 8) % (N + 20)));
		x = x * 1103515245 + 12345;
		b = addr_of((int)((x >> 8) % 5000));
		from = xasprintf("\"%s\"", a);
		switch ((x >> 20) % 3) {
		case 0:
			to = xasprintf("\"%s\"", b);
			break;
		case 1:
			to = xasprintf("\"%s\",\"%s\"", a, b);
			break;
		default:
			to = xasprintf("\"%s\"\n,\t\"%s\"", b, a);
		}
		new = edit(old, from, to);
		tally(delta_ok(old, new), 1, &found, &wrong);
		free(new);
		free(from);
		free(to);
		free(a);
		free(b);
	}
	T_OK(wrong == 0 && found > 900,
	     "memdelta: 1000 members changed: %zu found right, %zu wrong",
	     found, wrong);
	free(old);
	free(m);
}

/* Half of 5,000 members replaced at once: found, and right (checking each
 * member that comes costs a binary search, not a walk of the others). */
static void test_large(void)
{
	struct fw_buf o = {0}, n = {0};
	char *old, *new;

	for (int i = 0; i < 5000; i++) {
		char *a = addr_of(i), *b = addr_of(i % 2 ? i + 100000 : i);

		buf_printf(&o, "%s\"%s\"", i ? ", " : "", a);
		buf_printf(&n, "%s\"%s\"", i ? ", " : "", b);
		free(a);
		free(b);
	}
	old = doc_with(o.s);
	new = doc_with(n.s);
	T_OK(delta_ok(old, new) == 1,
	     "memdelta: 2,500 of 5,000 members replaced: found and right");
	free(old);
	free(new);
	buf_free(&o);
	buf_free(&n);
}

/*
 * The plan of old, patched by the delta to new, against the plan of new
 * made whole: 0 no delta, 1 patched and the same (digest and elements), 2
 * the patch refused, -1 wrong.
 */
static int plan_ok(const char *old, const char *new)
{
	struct fw_policy *po = parse(old), *pn = parse(new);
	struct fw_plan *a = po ? plan_build(po, "t", NULL) : NULL;
	struct fw_plan *b = pn ? plan_build(pn, "t", NULL) : NULL;
	struct fw_mdelta m;
	struct fw_set_patch c;
	char da[65], db[65];
	int r = 0;

	if (!a)
		r = -1;
	else if (mdelta_find(po, old, strlen(old), new, strlen(new), &m) == 1) {
		if (!mdelta_patch(a, &m, &c)) {
			r = 2;
		} else {
			mdelta_patch_apply(&m, &c);
			plan_digest(a, da);
			r = b ? 1 : -1;
			if (b) {
				plan_digest(b, db);
				r = strcmp(da, db) ? -1 : 1;
			}
			for (size_t i = 0; r == 1 && i < a->nsets; i++)
				r = a->sets[i].nelems == b->sets[i].nelems &&
						    !memcmp(a->sets[i].elems,
							    b->sets[i].elems,
							    a->sets[i].nelems *
								    sizeof(struct fw_elem))
					    ? 1
					    : -1;
		}
		mdelta_patch_free(&c);
		mdelta_free(&m);
	}
	plan_free(a);
	plan_free(b);
	policy_free(po);
	policy_free(pn);
	return r;
}

/* One policy text, its rules given, the group allow of n members. */
static char *doc_rules(int n, const char *extra, const char *groups,
		       const char *rules)
{
	struct fw_buf b = {0};

	buf_printf(&b, "{\"version\": 1, \"groups\": {\"allow\": [");
	for (int i = 0; i < n; i++) {
		char *a = addr_of(i);

		buf_printf(&b, "\"%s\", ", a);
		free(a);
	}
	buf_printf(&b, "%s\"2001:db8::1\"]%s},\n \"input\": {\"rules\": [%s]}}",
		   extra, groups, rules);
	return b.s;
}

/* Member changes patched into the plan give the plan of the new text --
 * or are refused where the group is held another way. */
static void test_plans(void)
{
	static const struct {
		const char *what, *groups, *rules;
		bool patched;
	} docs[] = {
		{"a group held as sets", "",
		 "{\"name\": \"w\", \"proto\": \"tcp\", \"port\": 80, "
		 "\"from\": \"allow\"}, {\"name\": \"v\", \"proto\": \"udp\", "
		 "\"port\": 53, \"to\": \"allow\"}",
		 true},
		{"a group a rule holds inline", "",
		 "{\"name\": \"w\", \"proto\": \"tcp\", \"port\": 80, "
		 "\"from\": [\"allow\", \"192.0.2.1\"]}",
		 false},
		{"a group in another group", ", \"big\": [\"allow\", \"192.0.2.1\"]",
		 "{\"name\": \"w\", \"proto\": \"tcp\", \"port\": 80, "
		 "\"from\": \"big\"}",
		 false},
	};
	unsigned x = 99;

	for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		char *old = doc_rules(1000, "", docs[d].groups, docs[d].rules);
		size_t patched = 0, refused = 0, wrong = 0;

		for (int it = 0; it < 200; it++) {
			char *a, *b, *from, *to, *new;

			x = x * 1103515245 + 12345;
			a = addr_of((int)((x >> 8) % 1000));
			x = x * 1103515245 + 12345;
			b = (x >> 20) % 4 ? addr_of((int)((x >> 8) % 5000))
					  : xasprintf("2001:db8::%x",
						      (x >> 8) % 5000);
			from = xasprintf("\"%s\"", a);
			to = (x >> 24) % 3 ? xasprintf("\"%s\"", b)
					   : xasprintf("\"%s\", \"%s\"", a, b);
			new = edit(old, from, to);
			switch (plan_ok(old, new)) {
			case 1:
				patched++;
				break;
			case 2:
				refused++;
				break;
			case -1:
				wrong++;
			}
			free(new);
			free(from);
			free(to);
			free(a);
			free(b);
		}
		T_OK(wrong == 0 && (docs[d].patched ? patched > 120
						     : patched == 0),
		     "memdelta: %s: %zu patched, %zu refused, %zu wrong",
		     docs[d].what, patched, refused, wrong);
		free(old);
	}
	/* 1,024 members and more get a size: 1,023 -> 1,024 changes it. */
	{
		char *old = doc_rules(1023, "", "", docs[0].rules);
		char *new = doc_rules(1023, "\"10.99.0.1\", ", "", docs[0].rules);

		T_OK(plan_ok(old, new) == 2,
		     "memdelta: a set that would get a size is made whole");
		free(old);
		free(new);
	}
}

int main(void)
{
	test_plans();
	test_large();
	test_edits();
	test_random();
	return t_done();
}
