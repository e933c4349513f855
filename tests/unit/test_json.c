// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_json: the JSON reader (jsonread.c) against cJSON on the documents
 * cJSON reads -- the same tree, node for node -- and its errors on the
 * others, each with its line, column and what was expected.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsame.h"
#include "t.h"
#include "util.h"

static void same_as_cjson(const char *doc)
{
	char *err = NULL;
	cJSON *mine = json_parse(doc, strlen(doc), &err);
	cJSON *theirs = cJSON_ParseWithLength(doc, strlen(doc));

	T_OK(mine && theirs && jsame(mine, theirs),
	     "reads as cJSON does: %.30s... %s", doc, err ? err : "");
	json_free(mine);
	cJSON_Delete(theirs);
	free(err);
}

static void test_valid(void)
{
	static const char *const docs[] = {
		"{}", "[]", " \t\r\n{ \"a\" : [ ] , \"b\" : { } }\n", "\"s\"",
		"{\"a\": 1, \"b\": [true, false, null, \"x\", -2.5e3]}",
		"[0, -0, 1.5, -1.5e3, 1E+2, 1e-2, 123456789012345]",
		"[1234567890123456789, 0.1, 3.141592653589793, 2e-308]",
		"[2147483647, 2147483648, -2147483648, -2147483649, 1e400]",
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\"]",
		"[\"\\ud83d\\ude00\", \"\xc3\xa9\", \"a\\u0001b\"]",
		"{\"a\": 1, \"a\": 2, \"\": 3}",
		"{\"version\": 1, \"input\": {\"rules\": [{\"name\": \"r\","
		" \"port\": 22}]}}",
		/* Beyond RFC 8259, as cJSON reads them (jsonread.c). */
		"\xef\xbb\xbf{\"a\": 1}", "{\f\"a\":\v1,\x01\"b\": 2}",
		"[\"a\tb\x01c\"]", "[022, 1., -.5, 1.e5, -0.0e-0, 007.5]",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		same_as_cjson(docs[i]);
}

static void test_values(void)
{
	char *err = NULL, *big = xasprintf("[1%070d]", 0);
	cJSON *j = json_parse("[\"\\ud83d\\ude00\", 1e400, 4294967296]", 35,
			      &err);

	T_OK(j && !strcmp(j->child->valuestring, "\xf0\x9f\x98\x80"),
	     "a surrogate pair is one UTF-8 character");
	T_OK(j && isinf(j->child->next->valuedouble),
	     "a number past a double's range is infinite, as with cJSON");
	T_OK(j && j->child->next->next->valueint == 2147483647,
	     "valueint saturates, as with cJSON");
	json_free(j);
	/* cJSON reads no number longer than 63 characters. */
	j = json_parse(big, strlen(big), &err);
	T_OK(j && j->child->valuedouble == 1e70, "a 71-digit number: %s",
	     err ? err : "read");
	json_free(j);
	free(big);
	json_free(NULL);
}

static void bad(const char *doc, size_t len, const char *want)
{
	char *err = NULL;
	cJSON *j = json_parse(doc, len, &err);

	T_OK(!j && err && !strcmp(err, want), "refused with: %s%s%s", want,
	     err ? " -- got: " : "", err ? err : "");
	json_free(j);
	free(err);
}

#define BAD(doc, want) bad(doc, strlen(doc), want)

static void test_errors(void)
{
	BAD("{\"a\": 1,}", "line 1, column 9: invalid JSON: expected a key "
			   "(a string in double quotes) near '}'");
	BAD("[1,]", "line 1, column 4: invalid JSON: expected a value (an "
		    "object, list, string, number, true, false or null) near "
		    "']'");
	BAD("{\"a\" 1}", "line 1, column 6: invalid JSON: expected ':' after "
			 "the key near '1}'");
	BAD("{\"a\": 1 \"b\": 2}", "line 1, column 9: invalid JSON: expected "
				 "',' or '}' near '\"b\": 2}'");
	BAD("[1 2]", "line 1, column 4: invalid JSON: expected ',' or ']' "
		     "near '2]'");
	BAD("[-x]", "line 1, column 2: invalid JSON: expected a number near "
		    "'-x]'");
	BAD("[1e+]", "line 1, column 3: invalid JSON: expected ',' or ']' "
		     "near 'e+]'");
	BAD("[1-2]", "line 1, column 3: invalid JSON: expected ',' or ']' "
		     "near '-2]'");
	BAD("[\"\\q\"]", "line 1, column 3: invalid JSON: expected a valid "
			 "escape (\\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or "
			 "\\u and four hex digits) near '\\q\"]'");
	BAD("[\"\\u00g0\"]", "line 1, column 3: invalid JSON: expected a "
			     "valid escape (\\\", \\\\, \\/, \\b, \\f, \\n, "
			     "\\r, \\t or \\u and four hex digits) near "
			     "'\\u00g0\"]'");
	BAD("[\"\\u0000\"]", "line 1, column 3: invalid JSON: expected no "
			     "\\u0000: a string cannot hold a NUL character "
			     "near '\\u0000\"]'");
	BAD("[\"\\udc00\"]", "line 1, column 3: invalid JSON: expected a \\u "
			     "escape that is not the second half of a "
			     "surrogate pair near '\\udc00\"]'");
	BAD("[\"\\ud800\\u0041\"]",
	    "line 1, column 3: invalid JSON: expected a surrogate pair "
	    "(\\uD800-\\uDBFF followed by \\uDC00-\\uDFFF) near "
	    "'\\ud800\\u0041\"]'");
	BAD("tru", "line 1, column 1: invalid JSON: expected a value (an "
		   "object, list, string, number, true, false or null) near "
		   "'tru'");
	BAD("{\n  \"a\": x\n}", "line 2, column 8: invalid JSON: expected a "
				"value (an object, list, string, number, "
				"true, false or null) near 'x'");
	BAD("{\"a\": 1} x", "line 1, column 10: unexpected text after the "
			    "JSON document near 'x'");
	BAD("", "file is empty (expected a JSON object)");
	BAD(" \n\t", "file is empty (expected a JSON object)");
	BAD("{\"a\":\n\n", "line 1, column 6: invalid JSON: unexpected end of "
			   "input (unclosed object, list or string?)");
	BAD("[\"abc", "line 1, column 6: invalid JSON: unexpected end of "
		      "input (unclosed object, list or string?)");
	BAD("[\"a\\", "line 1, column 5: invalid JSON: unexpected end of "
		      "input (unclosed object, list or string?)");
	bad("[1,\0 2]", 7, "line 1, column 1: file contains a NUL byte; "
			   "expected JSON text");
}

static void test_depth(void)
{
	char *doc = xmalloc(2 * 1001 + 1);
	char *err = NULL;
	cJSON *j;

	memset(doc, '[', 1000);
	memset(doc + 1000, ']', 1000);
	doc[2000] = '\0';
	j = json_parse(doc, 2000, &err);
	T_OK(j != NULL, "1000 nested lists are read, as cJSON reads them");
	json_free(j);
	memset(doc, '[', 1001);
	memset(doc + 1001, ']', 1001);
	doc[2002] = '\0';
	j = json_parse(doc, 2002, &err);
	T_OK(!j && err && strstr(err, "column 1001: invalid JSON: expected at "
				      "most 1000 nested objects and lists"),
	     "1001 are refused: %s", err ? err : "(read)");
	free(err);
	free(doc);
}

int main(void)
{
	test_valid();
	test_values();
	test_errors();
	test_depth();
	return t_done();
}
