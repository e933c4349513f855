/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memdelta: what changed between two texts of a policy when the only
 * change is inside the member list of one group -- the usual edit of a
 * big allowlist, re-applied whole by config management. Found from the
 * bytes, without parsing the document again: the texts share a prefix
 * and a suffix, and the bytes in between lie inside one long list of
 * plain strings (bulk.h) of the old text whose position its policy
 * recorded. Only the members in that window are parsed.
 *
 * The answer is exact or absent: when any doubt remains (the change
 * touches anything but whole members of one list, a member is not a
 * single address, the list gets too short to be a bulk list), there is
 * no delta and the caller parses the new text as usual.
 */
#ifndef FW_MEMDELTA_H
#define FW_MEMDELTA_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "plan.h"
#include "policy.h"

struct fw_mdelta {
	const struct fw_group *group; /* of the old policy */
	/* Members that left and members that came, each sorted by
	 * addr_cmp; a member in both (moved within the list) is in
	 * neither. */
	struct fw_addr_range *del, *add;
	size_t ndel, nadd;
	/* Members in the changed window of each text: the new list has
	 * nwin_new - nwin_old members more than the old one. */
	size_t nwin_old, nwin_new;
	/* New text offset = old offset + shift, past the window. */
	long shift;
	/* The bytes that differ: old [at, at + cut) are new [at, at + put). */
	size_t at, cut, put;
};

/*
 * Compares the new text with the old one, whose parsed policy is old. 1
 * with the delta in *out (release with mdelta_free); 0 when the change is
 * not such a delta (or there is none: the texts are equal).
 */
int mdelta_find(const struct fw_policy *old, const char *otext, size_t olen,
		const char *ntext, size_t nlen, struct fw_mdelta *out);
void mdelta_free(struct fw_mdelta *m);

/*
 * The elements of the group's set of one family (4 or 6), *v[0..*n)
 * (malloc'ed): sorted single addresses, one per member. Whether they stay
 * that once the delta's members of that family left and came: false when
 * a member that came is there already or next to another (the planner
 * would merge them into a range), one that left is not there, or the set
 * would appear or vanish. With apply, makes the change in place (*v may
 * move), without checking again: only after a call without apply said
 * true. Each check costs a binary search, whatever the number of
 * members that change.
 */
bool mdelta_elems(const struct fw_mdelta *m, int family, struct fw_elem **v,
		  size_t *n, bool apply);

/* The set element changes that a delta makes to a plan. */
struct fw_set_patch {
	struct fw_elem_change ch[2]; /* one per set of the group */
	size_t nch;
};

/*
 * Whether delta m (of plan's policy) changes the elements of its group's
 * named sets and nothing else in plan (then *c lists those changes;
 * release with mdelta_patch_free either way): the group is held only as
 * sets of single addresses, which neither appear nor vanish nor change
 * their size, and its list stays a bulk list. The plan is not changed.
 */
bool mdelta_patch(struct fw_plan *plan, const struct fw_mdelta *m,
		  struct fw_set_patch *c);
/* The changes to send: those of *c that are not empty (at most 2). */
size_t mdelta_patch_sends(const struct fw_set_patch *c,
			  struct fw_elem_change *v);
/* Makes the changes to the plan's sets (elements and digest sums): the
 * plan is then the new text's, as plan_build would make it. */
void mdelta_patch_apply(const struct fw_mdelta *m, struct fw_set_patch *c);
void mdelta_patch_free(struct fw_set_patch *c);

/* The old policy's list positions, moved to where they are in the new
 * text. */
void mdelta_shift_spans(struct fw_policy *old, const struct fw_mdelta *m);

#endif
