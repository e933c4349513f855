// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jsonread: JSON text into a tree of cJSON nodes that all live in one
 * arena (json.h). The walkers read the tree through cJSON's own
 * accessors; what differs from cJSON_Parse is the cost -- one bump of a
 * pointer per node and per string instead of a malloc each, and one free
 * for the whole tree -- and the errors, which say what was expected where.
 *
 * It reads what cJSON 1.7 reads, no less: policies that fwd read before,
 * those saved in its state directory among them, read the same. Beyond
 * RFC 8259 that is: a UTF-8 byte order mark first, any control character
 * as blank space, raw control characters in strings, numbers that strtod
 * takes from cJSON's characters (022, 1.), 1000 levels. Unlike cJSON, it
 * refuses "\u0000" (cJSON cut the string short there, silently) and
 * reads numbers of any length (cJSON stops at 63 characters).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "util.h"

/* cJSON's CJSON_NESTING_LIMIT; bounds the recursion below. */
#define MAX_DEPTH 1000

struct doc {
	struct fw_arena *a;
	cJSON root;
};

struct rd {
	const char *t;
	size_t len, i;
	struct fw_arena *a;
	int depth;
	const char *why; /* what was expected at i, when reading failed */
	json_take_fn take;
	void *arg;
};

static bool fail(struct rd *r, const char *why)
{
	r->why = why;
	return false;
}

/* Blank space as cJSON has it: any byte from 1 to 32 (the text holds no
 * NUL byte). */
static bool is_blank(char c)
{
	return (unsigned char)c <= ' ';
}

static void ws(struct rd *r)
{
	while (r->i < r->len && is_blank(r->t[r->i]))
		r->i++;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of the \uXXXX at t[i] (i at the backslash), or -1. */
static long unit(const char *t, size_t i, size_t len)
{
	long u = 0;

	if (len - i < 6 || t[i] != '\\' || t[i + 1] != 'u')
		return -1;
	for (size_t k = i + 2; k < i + 6; k++) {
		int h = hex(t[k]);

		if (h < 0)
			return -1;
		u = u * 16 + h;
	}
	return u;
}

static char *put_utf8(char *q, unsigned long cp)
{
	if (cp < 0x80) {
		*q++ = (char)cp;
	} else if (cp < 0x800) {
		*q++ = (char)(0xc0 | cp >> 6);
		*q++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*q++ = (char)(0xe0 | cp >> 12);
		*q++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*q++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*q++ = (char)(0xf0 | cp >> 18);
		*q++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*q++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*q++ = (char)(0x80 | (cp & 0x3f));
	}
	return q;
}

/* One escape at t[r->i] (the backslash) written at *q; r->i moves past
 * it. Escapes never write more bytes than they take. */
static bool escape(struct rd *r, char **q)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = strchr(from, r->t[r->i + 1]); /* string() found
						       * the closing quote */
	long u, lo;

	if (e && *e) {
		*(*q)++ = to[e - from];
		r->i += 2;
		return true;
	}
	u = unit(r->t, r->i, r->len);
	if (u < 0)
		return fail(r, "a valid escape (\\\", \\\\, \\/, \\b, \\f, "
			       "\\n, \\r, \\t or \\u and four hex digits)");
	if (u == 0)
		return fail(r, "no \\u0000: a string cannot hold a NUL "
			       "character");
	if (u >= 0xdc00 && u <= 0xdfff)
		return fail(r, "a \\u escape that is not the second half "
			       "of a surrogate pair");
	if (u >= 0xd800 && u <= 0xdbff) {
		lo = unit(r->t, r->i + 6, r->len);
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(r, "a surrogate pair (\\uD800-\\uDBFF "
				       "followed by \\uDC00-\\uDFFF)");
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		r->i += 6;
	}
	*q = put_utf8(*q, (unsigned long)u);
	r->i += 6;
	return true;
}

/* The string opening at t[r->i], into the arena. */
static bool string(struct rd *r, char **out)
{
	const char *t = r->t;
	size_t start = ++r->i, j = start;
	char *q;

	while (j < r->len && t[j] != '"' && t[j] != '\\')
		j++;
	if (j < r->len && t[j] == '"') {
		*out = arena_strndup(r->a, t + start, j - start);
		r->i = j + 1;
		return true;
	}
	/* Escapes: the raw string into the arena, decoded where it lies
	 * (an escape never writes more bytes than it takes). */
	while (j < r->len && t[j] != '"')
		j += t[j] == '\\' ? 2 : 1;
	if (j >= r->len) {
		r->i = r->len;
		return fail(r, "the string's closing '\"'");
	}
	*out = q = arena_strndup(r->a, t + start, j - start);
	while (r->i < j) {
		if (t[r->i] != '\\') {
			*q++ = t[r->i++];
		} else if (!escape(r, &q)) {
			return false;
		}
	}
	*q = '\0';
	r->i = j + 1;
	return true;
}

static bool digits(struct rd *r)
{
	size_t s = r->i;

	while (r->i < r->len && r->t[r->i] >= '0' && r->t[r->i] <= '9')
		r->i++;
	return r->i > s;
}

/* The end of the number at t[s] as strtod reads it from the longest run of
 * cJSON's number characters there, or s when it reads none. */
static size_t loose_number(const char *t, size_t s, size_t len, double *x)
{
	size_t e = s, n;
	char small[64], *c, *end;

	while (e < len && strchr("0123456789+-.eE", t[e]))
		e++;
	n = e - s;
	c = n < sizeof(small) ? small : xmalloc(n + 1);
	memcpy(c, t + s, n);
	c[n] = '\0';
	*x = strtod(c, &end);
	n = (size_t)(end - c);
	if (c != small)
		free(c);
	return s + n;
}

static bool number(struct rd *r, cJSON *v)
{
	const char *t = r->t;
	size_t s = r->i, n;
	bool plain = true, strict = true;
	double x = 0;

	/* RFC 8259's grammar first: the fast and usual case. */
	if (t[r->i] == '-')
		r->i++;
	if (r->i < r->len && t[r->i] == '0') {
		r->i++;
		strict = !(r->i < r->len && t[r->i] >= '0' && t[r->i] <= '9');
	} else {
		strict = digits(r);
	}
	if (strict && r->i < r->len && t[r->i] == '.') {
		r->i++;
		plain = false;
		strict = digits(r);
	}
	if (strict && r->i < r->len && (t[r->i] == 'e' || t[r->i] == 'E')) {
		r->i++;
		plain = false;
		if (r->i < r->len && (t[r->i] == '+' || t[r->i] == '-'))
			r->i++;
		strict = digits(r);
	}
	if (strict && r->i < r->len && strchr("0123456789+-.eE", t[r->i]))
		strict = false; /* "1-2": strtod decides, as with cJSON */
	n = r->i - s;
	if (!strict) {
		/* What cJSON takes: 022, 1., -.5 */
		r->i = loose_number(t, s, r->len, &x);
		if (r->i == s)
			return fail(r, "a number");
	} else if (plain && n <= 15) { /* exact in a double */
		for (size_t k = s + (t[s] == '-'); k < r->i; k++)
			x = x * 10 + (t[k] - '0');
		if (t[s] == '-')
			x = -x;
	} else {
		loose_number(t, s, r->i, &x);
	}
	v->type = cJSON_Number;
	v->valuedouble = x;
	/* As cJSON has it: saturated. */
	v->valueint = x >= INT_MAX ? INT_MAX : x <= INT_MIN ? INT_MIN : (int)x;
	return true;
}

static bool word(struct rd *r, const char *w, int type, cJSON *v)
{
	size_t n = strlen(w);

	if (r->len - r->i < n || memcmp(r->t + r->i, w, n))
		return fail(r, "a value (an object, list, string, number, "
			       "true, false or null)");
	r->i += n;
	v->type = type;
	return true;
}

static bool value(struct rd *r, cJSON *v, const char *okey);

/* The list at t[r->i], the value of key in the object that is okey's
 * value, if the hook takes it. */
static bool taken(struct rd *r, cJSON *v, const char *key, const char *okey)
{
	int id = 0;
	size_t end = r->take(r->arg, r->t, r->i, r->len, key, okey, &id);

	if (!end)
		return false;
	r->i = end;
	v->type = cJSON_String | JSON_TAKEN;
	v->valuestring = (char *)"";
	v->valueint = id;
	return true;
}

/* The members of the object or list opening at t[r->i]; key: the key
 * whose value it is. */
static bool members(struct rd *r, cJSON *v, bool obj, const char *key)
{
	char close = obj ? '}' : ']';
	cJSON *last = NULL;

	if (++r->depth > MAX_DEPTH)
		return fail(r, "at most 1000 nested objects and lists");
	v->type = obj ? cJSON_Object : cJSON_Array;
	r->i++;
	ws(r);
	if (r->i < r->len && r->t[r->i] == close) {
		r->i++;
		r->depth--;
		return true;
	}
	for (;;) {
		cJSON *m = arena_alloc(r->a, sizeof(*m));

		if (obj) {
			if (r->i >= r->len || r->t[r->i] != '"')
				return fail(r, "a key (a string in double "
					       "quotes)");
			if (!string(r, &m->string))
				return false;
			ws(r);
			if (r->i >= r->len || r->t[r->i] != ':')
				return fail(r, "':' after the key");
			r->i++;
			ws(r);
			if (r->take && r->i < r->len && r->t[r->i] == '[' &&
			    taken(r, m, m->string, key))
				goto linked;
		}
		if (!value(r, m, obj ? m->string : NULL))
			return false;
linked:
		/* cJSON's links: prev of the first member is the last. */
		if (last) {
			last->next = m;
			m->prev = last;
		} else {
			v->child = m;
		}
		last = v->child->prev = m;
		ws(r);
		if (r->i < r->len && r->t[r->i] == ',') {
			r->i++;
			ws(r);
			continue;
		}
		if (r->i < r->len && r->t[r->i] == close) {
			r->i++;
			r->depth--;
			return true;
		}
		return fail(r, obj ? "',' or '}'" : "',' or ']'");
	}
}

static bool value(struct rd *r, cJSON *v, const char *key)
{
	char c = r->i < r->len ? r->t[r->i] : '\0';

	switch (c) {
	case '{':
		return members(r, v, true, key);
	case '[':
		return members(r, v, false, key);
	case '"':
		v->type = cJSON_String;
		return string(r, &v->valuestring);
	case 't':
		return word(r, "true", cJSON_True, v);
	case 'f':
		return word(r, "false", cJSON_False, v);
	case 'n':
		return word(r, "null", cJSON_NULL, v);
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return number(r, v);
		return fail(r, "a value (an object, list, string, number, "
			       "true, false or null)");
	}
}

static void position(const char *text, size_t off, int *line, int *col)
{
	const char *p = text, *nl;

	*line = 1;
	while ((nl = memchr(p, '\n', (size_t)(text + off - p))) != NULL) {
		(*line)++;
		p = nl + 1;
	}
	*col = (int)(text + off - p) + 1;
}

static bool blank(const char *t, size_t off, size_t len)
{
	for (; off < len; off++)
		if (!is_blank(t[off]))
			return false;
	return true;
}

static char *syntax_error(const char *text, size_t len, size_t off,
			  const char *what, const char *why)
{
	int line, col;
	char near[24];
	size_t n = 0;

	if (off > len)
		off = len;
	if (blank(text, 0, len))
		return xstrdup("file is empty (expected a JSON object)");
	if (blank(text, off, len)) {
		/* Just past the last character written. */
		for (off = len; is_blank(text[off - 1]); off--)
			;
		position(text, off, &line, &col);
		return xasprintf("line %d, column %d: %s: unexpected end of "
				 "input (unclosed object, list or string?)",
				 line, col, what);
	}
	position(text, off, &line, &col);
	while (off + n < len && n < 16 && text[off + n] != '\n')
		n++;
	memcpy(near, text + off, n);
	near[n] = '\0';
	if (why)
		return xasprintf("line %d, column %d: %s: expected %s near "
				 "'%s'",
				 line, col, what, why, near);
	return xasprintf("line %d, column %d: %s near '%s'", line, col, what,
			 near);
}

cJSON *json_parse(const char *text, size_t len, char **err)
{
	return json_parse_taking(text, len, NULL, NULL, err);
}

cJSON *json_parse_taking(const char *text, size_t len, json_take_fn take,
			 void *arg, char **err)
{
	struct fw_arena *a;
	struct doc *d;
	struct rd r = {.t = text, .len = len, .take = take, .arg = arg};

	*err = NULL;
	if (memchr(text, '\0', len)) {
		*err = xstrdup("line 1, column 1: file contains a NUL byte; "
			       "expected JSON text");
		return NULL;
	}
	a = arena_new();
	d = arena_alloc(a, sizeof(*d));
	d->a = r.a = a;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		r.i = 3; /* a UTF-8 byte order mark */
	ws(&r);
	if (!value(&r, &d->root, NULL)) {
		*err = syntax_error(text, len, r.i, "invalid JSON", r.why);
		arena_free(a);
		return NULL;
	}
	ws(&r);
	if (r.i < len) {
		*err = syntax_error(text, len, r.i,
				    "unexpected text after the JSON document",
				    NULL);
		arena_free(a);
		return NULL;
	}
	return &d->root;
}

void json_free(cJSON *root)
{
	if (root)
		arena_free(((struct doc *)((char *)root -
					   offsetof(struct doc, root)))
				   ->a);
}
