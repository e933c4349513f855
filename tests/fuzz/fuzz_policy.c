// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_policy: libFuzzer target for the policy parser and planner -- any
 * bytes in, diagnostics or a plan (printed) out, no crash, no leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "nftext.h"
#include "plan.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_diags d;
	struct fw_policy *p;
	struct fw_plan *plan;
	struct fw_buf out = {0};

	diags_init(&d);
	p = policy_parse("fuzz.json", (const char *)data, size, &d);
	if (p) {
		plan = plan_build(p, FW_TABLE_DEFAULT, &d);
		nftext_print(&out, plan, NULL, NULL);
		buf_free(&out);
		plan_free(plan);
	}
	for (size_t i = 0; i < d.n; i++)
		free(diag_format(&d.v[i]));
	policy_free(p);
	diags_free(&d);
	return 0;
}
