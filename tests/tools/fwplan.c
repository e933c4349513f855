// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fwplan: compiles a policy file with chosen planner options and prints the
 * nft text, for the differential test and the benchmark.
 *   fwplan [-s] [-m MIN] [-H MIN] FILE
 *     -s: the simple per-rule plan; -m: maps from MIN eligible rules;
 *     -H: hash maps from MIN map elements
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nftext.h"
#include "plan.h"
#include "policy.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct fw_plan_opts o = {false, 0, 0};
	struct fw_diags d;
	struct fw_policy *p;
	struct fw_plan *plan = NULL;
	struct fw_buf out = {0};
	int c;

	while ((c = getopt(argc, argv, "sm:H:")) != -1) {
		if (c == 's')
			o.simple = true;
		else if (c == 'm')
			o.map_min = (size_t)atoi(optarg);
		else if (c == 'H')
			o.hash_min = (size_t)atoi(optarg);
		else
			return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: fwplan [-s] [-m MIN] [-H MIN] FILE\n");
		return 2;
	}
	diags_init(&d);
	p = policy_load_file(argv[optind], &d);
	if (p)
		plan = plan_build_opts(p, FW_TABLE_DEFAULT, &o, &d);
	for (size_t i = 0; i < d.n; i++) {
		char *s = diag_format(&d.v[i]);

		fprintf(stderr, "%s\n", s);
		free(s);
	}
	if (plan) {
		nftext_print(&out, plan, NULL, NULL);
		fwrite(out.s, 1, out.len, stdout);
	}
	buf_free(&out);
	plan_free(plan);
	policy_free(p);
	diags_free(&d);
	return plan ? 0 : 1;
}
