/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plandiff: what changes between two rulesets in nft text (as nftext
 * prints them) -- rule by rule, set element by set element, counter by
 * counter -- independent of the order the objects are listed in.
 */
#ifndef FW_PLANDIFF_H
#define FW_PLANDIFF_H

#include <stddef.h>

#include "util.h"

/*
 * Appends one line per change to out, "- chain input: ..." for what goes
 * away and "+ set app_v4: element 10.0.1.0/24" for what comes, removals
 * first, each in document order. Returns the number of changes.
 */
size_t plandiff(const char *old_text, const char *new_text,
		struct fw_buf *out);

#endif
