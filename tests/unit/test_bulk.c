// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_bulk: which lists bulk_parse keeps out of the cJSON tree, that the
 * tree stays the same document once they are put back, and that syntax
 * errors keep the line and column of the text as written.
 */
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "json.h"
#include "t.h"
#include "util.h"

/* A list of n addresses "10.0.0.i", comma-separated, with line breaks. */
static char *strings(int n, const char *extra)
{
	struct fw_buf b = {0};

	buf_add(&b, "", 0);
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%s\"10.0.0.%d\"%s", i ? "," : "", i,
			   i % 7 == 6 ? "\n" : " ");
	if (extra)
		buf_printf(&b, "%s", extra);
	return b.s;
}

/* The number of lists bulk_parse takes from doc (-1: parse error). */
static int taken(const char *doc, struct bulk *b, cJSON **root)
{
	char *err = NULL;
	cJSON *r = bulk_parse(doc, strlen(doc), b, &err);

	free(err);
	if (root)
		*root = r;
	else
		json_free(r);
	return r ? (int)b->n : -1;
}

static void test_which(void)
{
	char *l40 = strings(40, NULL), *l31 = strings(BULK_MIN - 1, NULL);
	char *esc = strings(40, ",\"a\\u0041\"");
	char *doc;
	struct bulk b;
	cJSON *root;

	doc = xasprintf("{\"groups\": {\"big\": [%s]}}", l40);
	T_OK(taken(doc, &b, NULL) == 1 && b.v[0].n == 40 &&
		     !strcmp(bulk_str(&b.v[0], 0), "10.0.0.0") &&
		     !strcmp(bulk_str(&b.v[0], 39), "10.0.0.39"),
	     "a group of 40 strings is taken, in order");
	bulk_free(&b);
	free(doc);
	doc = xasprintf("{\"input\": {\"rules\": [{\"from\": [%s], "
			"\"to\": [%s]}]}}",
			l40, l40);
	T_OK(taken(doc, &b, NULL) == 2, "from and to lists are taken");
	bulk_free(&b);
	free(doc);
	doc = xasprintf("{\"groups\": {\"big\": [%s]}}", l31);
	T_OK(taken(doc, &b, NULL) == 0, "a list shorter than BULK_MIN stays");
	bulk_free(&b);
	free(doc);
	doc = xasprintf("{\"groups\": {\"big\": [%s]}}", esc);
	T_OK(taken(doc, &b, NULL) == 0, "a list with an escape stays");
	bulk_free(&b);
	free(doc);
	doc = xasprintf("{\"options\": {\"x\": [%s]}, \"iif\": [%s]}", l40,
			l40);
	T_OK(taken(doc, &b, NULL) == 0,
	     "lists under other keys stay (\"x\", \"iif\")");
	bulk_free(&b);
	free(doc);
	doc = xasprintf("{\"groups\": {\"big\": [%s, 1]}}", l40);
	T_OK(taken(doc, &b, NULL) == 0, "a list with a number stays");
	bulk_free(&b);
	free(doc);
	/* What stands for a list is a flag of the node, not text that a
	 * policy could spell: strings that the old in-text mark was made of
	 * are strings. */
	doc = xasprintf("{\"s\": \"\\u0001\", \"t\": \"\x01" "0\", "
			"\"groups\": {\"big\": [%s]}}",
			l40);
	T_OK(taken(doc, &b, &root) == 1 &&
		     !bulk_get(&b, cJSON_GetObjectItem(root, "s")) &&
		     !bulk_get(&b, cJSON_GetObjectItem(root, "t")) &&
		     bulk_get(&b, cJSON_GetObjectItem(
					  cJSON_GetObjectItem(root, "groups"),
					  "big")) == &b.v[0],
	     "strings like \"\\u0001\" and \"\\x01" "0\" are not lists");
	json_free(root);
	bulk_free(&b);
	free(doc);
	free(l40);
	free(l31);
	free(esc);
}

static void test_same_document(void)
{
	char *l40 = strings(40, NULL);
	char *doc = xasprintf(
		"{\"groups\": {\"a\": [%s], \"b\": [\"x\"]},\n"
		" \"input\": {\"rules\": [{\"name\": \"r\", \"from\": [%s]},"
		" {\"name\": \"s\", \"from\": \"a\"}]}}",
		l40, l40);
	char *err = NULL;
	cJSON *want = json_parse(doc, strlen(doc), &err), *got, *back;
	struct bulk b;

	T_OK(taken(doc, &b, &got) == 2, "two lists taken");
	T_OK(!cJSON_Compare(want, got, 1), "the tree holds marks instead");
	back = bulk_copy(got, &b);
	T_OK(cJSON_Compare(want, back, 1),
	     "put back, the tree is the document's");
	json_free(want);
	json_free(got);
	cJSON_Delete(back);
	bulk_free(&b);
	free(doc);
	free(l40);
}

static void test_errors(void)
{
	char *l40 = strings(40, NULL);
	char *bad[] = {
		xasprintf("{\"groups\": {\"a\": [%s,]}}", l40),
		xasprintf("{\"groups\": {\"a\": [%s]}, x}", l40),
		xasprintf("{\"groups\": {\"a\": [%s]}\n\n  \"b\": 1}", l40),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *e1 = NULL, *e2 = NULL;
		struct bulk b;
		cJSON *r1 = json_parse(bad[i], strlen(bad[i]), &e1);
		cJSON *r2 = bulk_parse(bad[i], strlen(bad[i]), &b, &e2);

		T_OK(!r1 && !r2 && e1 && e2 && !strcmp(e1, e2),
		     "error %zu reads as without bulk: %s", i, e2 ? e2 : "-");
		bulk_free(&b);
		free(e1);
		free(e2);
		free(bad[i]);
	}
	free(l40);
}

int main(void)
{
	test_which();
	test_same_document();
	test_errors();
	return t_done();
}
