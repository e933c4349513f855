// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_cases: the table-driven policy tests.
 *  - tests/cases/good/NAME.json compiles to exactly NAME.nft (golden text);
 *    files named _*.json are only included by other cases.
 *  - tests/cases/bad.txt holds documents with their exact diagnostics:
 *      === case name
 *      --- main.json        (first file is the one checked; more may follow)
 *      {...}
 *      --- expect
 *      main.json: input.rules[0].port: 70000 is out of range 1-65535
 * UPDATE_GOLDEN=1 rewrites the .nft files from the current output.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nftext.h"
#include "plan.h"
#include "policy.h"
#include "t.h"
#include "util.h"

static char *diags_text(const struct fw_diags *d)
{
	struct fw_buf b = {0};

	buf_add(&b, "", 0);
	for (size_t i = 0; i < d->n; i++) {
		char *s = diag_format(&d->v[i]);

		buf_printf(&b, "%s\n", s);
		free(s);
	}
	return b.s;
}

static char *compile(const char *path, char **errs)
{
	struct fw_diags d;
	struct fw_policy *p;
	struct fw_plan *plan = NULL;
	struct fw_buf out = {0};

	diags_init(&d);
	p = policy_load_file(path, &d);
	if (p)
		plan = plan_build(p, FW_TABLE_DEFAULT, &d);
	if (plan)
		nftext_print(&out, plan, NULL, NULL);
	*errs = diags_text(&d);
	plan_free(plan);
	policy_free(p);
	diags_free(&d);
	return out.s;
}

static void good_case(const char *dir, const char *name)
{
	char *json = xasprintf("%s/%s", dir, name), *errs;
	char *nft = xasprintf("%.*s.nft", (int)(strlen(json) - 5), json);
	char *got = compile(json, &errs), *want = file_read(nft, NULL);

	if (getenv("UPDATE_GOLDEN") && got) {
		file_write_atomic(nft, got, strlen(got), 0644);
		free(want);
		want = xstrdup(got);
	}
	T_OK(got && want && !strcmp(got, want), "good %s compiles to %s", name,
	     nft);
	if (!got)
		printf("# unexpected errors:\n%s", errs);
	else if (want && strcmp(got, want))
		printf("# got:\n%s", got);
	free(got);
	free(want);
	free(errs);
	free(json);
	free(nft);
}

static void good_cases(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	T_OK(n > 0, "good cases found in %s", dir);
	for (int i = 0; i < n; i++) {
		const char *f = ents[i]->d_name;
		size_t l = strlen(f);

		if (l > 5 && !strcmp(f + l - 5, ".json") && f[0] != '_')
			good_case(dir, f);
		free(ents[i]);
	}
	free(ents);
}

struct bad {
	char name[128];
	char main[128];
	struct fw_buf expect;
	FILE *cur;
};

static void bad_run(struct bad *b, const char *tmp)
{
	char *errs, *got, *cwd;

	if (!b->name[0])
		return;
	cwd = getcwd(NULL, 0);
	if (b->cur)
		fclose(b->cur);
	b->cur = NULL;
	if (chdir(tmp) == 0) {
		got = compile(b->main, &errs);
		T_OK(!got && b->expect.s && !strcmp(errs, b->expect.s),
		     "bad %s", b->name);
		if (got || !b->expect.s || strcmp(errs, b->expect.s))
			printf("# got:\n%s# want:\n%s", errs,
			       b->expect.s ? b->expect.s : "");
		free(got);
		free(errs);
	}
	if (chdir(cwd) < 0)
		abort();
	free(cwd);
	buf_free(&b->expect);
	b->name[0] = b->main[0] = '\0';
}

static void bad_line(struct bad *b, const char *tmp, char *line)
{
	if (!strncmp(line, "=== ", 4)) {
		bad_run(b, tmp);
		snprintf(b->name, sizeof(b->name), "%.120s", line + 4);
		b->name[strcspn(b->name, "\n")] = '\0';
	} else if (!strncmp(line, "--- expect", 10)) {
		if (b->cur)
			fclose(b->cur);
		b->cur = NULL;
		buf_add(&b->expect, "", 0);
	} else if (!strncmp(line, "--- ", 4)) {
		char *f;

		line[strcspn(line, "\n")] = '\0';
		if (b->cur)
			fclose(b->cur);
		if (!b->main[0])
			snprintf(b->main, sizeof(b->main), "%.120s", line + 4);
		f = xasprintf("%s/%s", tmp, line + 4);
		b->cur = fopen(f, "w");
		free(f);
	} else if (b->cur) {
		fputs(line, b->cur);
	} else if (b->expect.s) {
		buf_printf(&b->expect, "%s", line);
	}
}

static void bad_cases(const char *path)
{
	char tmp[] = "/tmp/fwd-cases-XXXXXX", line[4096];
	struct bad b = {0};
	FILE *f = fopen(path, "r");
	char *cmd;

	T_OK(f != NULL, "bad cases in %s", path);
	if (!f || !mkdtemp(tmp))
		return;
	while (fgets(line, sizeof(line), f))
		bad_line(&b, tmp, line);
	bad_run(&b, tmp);
	fclose(f);
	cmd = xasprintf("rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp);
	free(cmd);
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : "tests/cases";
	char *good = xasprintf("%s/good", root);
	char *bad = xasprintf("%s/bad.txt", root);

	good_cases(good);
	bad_cases(bad);
	free(good);
	free(bad);
	return t_done();
}
