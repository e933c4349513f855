// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * offline: the commands that need neither root nor the daemon -- check and
 * compile -- built from the same policy and plan code that fwd runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fwctl.h"
#include "nftext.h"
#include "plan.h"
#include "policy.h"

void fwctl_print_diags(const struct fw_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = diag_format(&d->v[i]);

		fprintf(stderr, "%s\n", s);
		free(s);
	}
	if (d->dropped)
		fprintf(stderr, "(%zu more errors not shown)\n", d->dropped);
}

void fwctl_diags_json(cJSON *arr, const struct fw_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "file",
					d->v[i].file ? d->v[i].file : "");
		cJSON_AddStringToObject(e, "path", d->v[i].path);
		cJSON_AddStringToObject(e, "message", d->v[i].msg);
		cJSON_AddItemToArray(arr, e);
	}
}

int cmd_check(const struct fwctl_opts *o, int argc, char **argv)
{
	cJSON *out = cJSON_CreateObject(), *errs;
	bool ok = true, usage = false, as_included = false, files_only = false;
	char **files = xcalloc((size_t)argc + 1, sizeof(*files));
	int n = 0;
	char *text;

	for (int i = 0; i < argc; i++) {
		if (files_only || argv[i][0] != '-' || !argv[i][1]) {
			files[n++] = argv[i];
		} else if (!strcmp(argv[i], "--")) {
			files_only = true;
		} else if (!strcmp(argv[i], "--included")) {
			as_included = true;
		} else {
			fprintf(stderr, "fwctl check: unknown option '%s'\n",
				argv[i]);
			usage = true;
		}
	}
	argc = n;
	argv = files;
	if (usage || argc < 1) {
		free(files);
		fputs("usage: fwctl check [--included] [--] FILE...\n", stderr);
		cJSON_Delete(out);
		return FWCTL_USAGE;
	}
	errs = cJSON_CreateArray();
	for (int i = 0; i < argc; i++) {
		struct fw_diags d;
		struct fw_policy *p;
		bool included;

		diags_init(&d);
		p = policy_check_file(argv[i], as_included, &d, &included);
		if (!p)
			ok = false;
		if (o->json)
			fwctl_diags_json(errs, &d);
		else if (p && included)
			printf("%s: ok (checked as an included file: no "
			       "\"version\")\n",
			       argv[i]);
		else if (p)
			printf("%s: ok\n", argv[i]);
		else
			fwctl_print_diags(&d);
		policy_free(p);
		diags_free(&d);
	}
	if (o->json) {
		cJSON_AddBoolToObject(out, "ok", ok);
		cJSON_AddItemToObject(out, "errors", errs);
		text = cJSON_Print(out);
		printf("%s\n", text);
		free(text);
	} else {
		cJSON_Delete(errs);
	}
	cJSON_Delete(out);
	free(files);
	return ok ? FWCTL_OK : FWCTL_FAIL;
}

int cmd_compile(const struct fwctl_opts *o, int argc, char **argv)
{
	const char *table = FW_TABLE_DEFAULT, *file = NULL, *why;
	struct fw_buf out = {0};
	struct fw_policy *p;
	struct fw_plan *plan;
	struct fw_diags d;

	(void)o;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--table") && i + 1 < argc)
			table = argv[++i];
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else
			file = NULL, i = argc;
	}
	if (!file) {
		fputs("usage: fwctl compile [--table NAME] FILE\n", stderr);
		return FWCTL_USAGE;
	}
	why = plan_table_name_problem(table);
	if (why) {
		fprintf(stderr, "fwctl: --table %s: %s\n", table, why);
		return FWCTL_USAGE;
	}
	diags_init(&d);
	p = policy_load_file(file, &d);
	plan = p ? plan_build(p, table, &d) : NULL;
	if (!plan) {
		fwctl_print_diags(&d);
		policy_free(p);
		diags_free(&d);
		return FWCTL_FAIL;
	}
	nftext_print(&out, plan, NULL, NULL);
	fputs(out.s, stdout);
	buf_free(&out);
	plan_free(plan);
	policy_free(p);
	diags_free(&d);
	return FWCTL_OK;
}
