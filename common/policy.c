// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * policy: validates the JSON of a policy (all its files) into the IR, every
 * error with its file and JSON path, in document order. Never prints; never
 * keeps pointers into the cJSON tree.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "arena.h"
#include "json.h"
#include "policy.h"
#include "source.h"
#include "util.h"

#define NAME_MAX_LEN 32
#define COMMENT_MAX_LEN 256
#define HOST_MAX_LEN 253

struct walk {
	struct fw_policy *p;
	struct fw_arena *a;
	struct fw_diags *d;
	const char *file;
	char *file_copy; /* file, in the policy's arena */
	bool top;
	bool included; /* checking an included file alone: any group name */
	const struct bulk *bulk; /* the long lists of the file being walked */
	const char **group_names; /* every group of every file, NULL-ended */
	size_t gcap, rcap[FW_NCHAINS];
	/* Rule names seen so far: open addressing, "chain << 28 | index + 1"
	 * and the name's hash in each slot, so lookups stay O(1) for large
	 * policies. */
	struct name_slot {
		uint32_t slot, hash;
	} *names;
	size_t names_cap, names_n;
	size_t ncap;
	/* per rule being walked */
	enum fw_chain_id chain;
	unsigned proto_hint; /* proto of the current rule, if valid */
	bool has_limit;
};

static const char *const chain_names[FW_NCHAINS] = {"input", "output",
						    "forward"};
static const char *const action_names[] = {"accept", "drop", "reject"};

const char *policy_chain_name(enum fw_chain_id c)
{
	return chain_names[c];
}

const char *policy_action_name(enum fw_action a)
{
	return action_names[a];
}

/* Reports "PATH: expected WHAT, got DESCRIPTION". */
static void expected(struct walk *w, const char *path, const char *what,
		     const cJSON *v)
{
	char *got = json_describe(v);

	diags_add(w->d, w->file, path, "expected %s, got %s", what, got);
	free(got);
}

static bool valid_name(const char *s, bool upper)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	if (!(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]) ||
	      (upper && isupper((unsigned char)s[0]))))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(islower(c) || isdigit(c) || c == '_' || c == '-' ||
		      (upper && isupper(c))))
			return false;
	}
	return true;
}

static bool group_known(const struct walk *w, const char *name)
{
	if (w->included)
		return true;
	for (const char **g = w->group_names; g && *g; g++)
		if (!strcmp(*g, name))
			return true;
	return false;
}

/* ---- addresses: group members and from/to ---- */

/* The path of item idx of the list at path (idx < 0: the value itself);
 * made only for messages. */
static char *item_path(const char *path, long idx)
{
	return idx < 0 ? xstrdup(path) : json_path_idx(path, (size_t)idx);
}

#define item_diag(w, path, idx, ...)                                          \
	do {                                                                  \
		char *p_ = item_path(path, idx);                              \
		diags_add((w)->d, (w)->file, p_, __VA_ARGS__);                \
		free(p_);                                                     \
	} while (0)

static bool addr_str(struct walk *w, const char *s, const char *path,
		     long idx, struct fw_addr_item *it)
{
	const char *name;
	char *err;

	if (addr_parse(s, &it->r, &err) == 0)
		return true;
	if (err) {
		item_diag(w, path, idx, "%s", err);
		free(err);
		return false;
	}
	name = s[0] == '@' ? s + 1 : s;
	if (!valid_name(name, true)) {
		item_diag(w, path, idx,
			  "\"%s\" is neither an address, a prefix, a range nor "
			  "a group name (DNS names are not supported)",
			  s);
		return false;
	}
	if (!group_known(w, name)) {
		const char *near = json_suggest(name, w->group_names);

		if (near)
			item_diag(w, path, idx,
				  "unknown group \"%s\" (did you mean \"%s\"?)",
				  name, near);
		else
			item_diag(w, path, idx, "unknown group \"%s\"", name);
		return false;
	}
	it->group = arena_strdup(w->a, name);
	return true;
}

static bool addr_item(struct walk *w, const cJSON *v, const char *path,
		      long idx, struct fw_addr_item *it)
{
	if (!cJSON_IsString(v)) {
		char *p = item_path(path, idx);

		expected(w, p, "an address, prefix, range or group name", v);
		free(p);
		return false;
	}
	return addr_str(w, v->valuestring, path, idx, it);
}

static void addr_list(struct walk *w, const cJSON *v, const char *path,
		      struct fw_addr_list *l, bool allow_empty)
{
	const struct bulk_list *bl = bulk_get(w->bulk, v);
	const cJSON *e;
	size_t i = 0;

	if (bl) {
		/* A long list of strings, kept out of the tree (bulk.h). */
		l->v = xcalloc(bl->n, sizeof(*l->v));
		for (i = 0; i < bl->n; i++)
			if (addr_str(w, bulk_str(bl, i), path, (long)i,
				     &l->v[l->n]))
				l->n++;
		return;
	}
	if (cJSON_IsString(v)) {
		l->v = xcalloc(1, sizeof(*l->v));
		if (addr_item(w, v, path, -1, &l->v[0]))
			l->n = 1;
		return;
	}
	if (!cJSON_IsArray(v)) {
		expected(w, path, "an address, prefix, range, group name or a "
				  "list of these", v);
		return;
	}
	if (!allow_empty && cJSON_GetArraySize(v) == 0) {
		diags_add(w->d, w->file, path,
			  "empty list (leave the key out to match any address)");
		return;
	}
	l->v = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*l->v));
	cJSON_ArrayForEach(e, v)
	{
		memset(&l->v[l->n], 0, sizeof(l->v[0]));
		if (addr_item(w, e, path, (long)i++, &l->v[l->n]))
			l->n++;
	}
}

/* ---- ports ---- */

static bool port_num(const char *s, uint16_t *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)s[0]))
		return false;
	n = strtoul(s, &end, 10);
	if (*end || n < 1 || n > 65535)
		return false;
	*out = (uint16_t)n;
	return true;
}

static bool port_item(struct walk *w, const cJSON *v, const char *path,
		      struct fw_port_range *r)
{
	long long n;

	if (cJSON_IsNumber(v)) {
		bool ok = json_int(v, 1, 65535, &n);
		char *got = ok ? NULL : json_describe(v);

		if (!ok && json_int(v, -1e18, 1e18, &n))
			diags_add(w->d, w->file, path,
				  "%s is out of range 1-65535", got);
		else if (!ok)
			diags_add(w->d, w->file, path,
				  "%s is not a port number (expected an "
				  "integer 1-65535)",
				  got);
		free(got);
		r->lo = r->hi = (uint16_t)n;
		return ok;
	}
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring, *dash = strchr(s, '-');
		char lo[8];

		if (!dash && port_num(s, &r->lo)) {
			r->hi = r->lo;
			return true;
		}
		if (dash && (size_t)(dash - s) < sizeof(lo)) {
			memcpy(lo, s, (size_t)(dash - s));
			lo[dash - s] = '\0';
			if (port_num(lo, &r->lo) && port_num(dash + 1, &r->hi)) {
				if (r->lo <= r->hi)
					return true;
				diags_add(w->d, w->file, path,
					  "\"%s\": range start is above its end",
					  s);
				return false;
			}
		}
		diags_add(w->d, w->file, path,
			  "\"%s\" is not a port or port range (expected a "
			  "number 1-65535 or \"LOW-HIGH\"; service names are "
			  "not supported)",
			  s);
		return false;
	}
	expected(w, path, "a port number, a \"LOW-HIGH\" range or a list of "
			  "these", v);
	return false;
}

static void port_list(struct walk *w, const cJSON *v, const char *path,
		      struct fw_port_range **out, size_t *n)
{
	const cJSON *e;
	size_t i = 0, cap = 0;
	struct fw_port_range r;

	if (w->proto_hint == 0) {
		diags_add(w->d, w->file, path,
			  "a port needs \"proto\": \"tcp\", \"udp\" or both");
	} else if (w->proto_hint & ~(FW_P_TCP | FW_P_UDP)) {
		diags_add(w->d, w->file, path,
			  "ports apply only to tcp and udp, but \"proto\" "
			  "includes %s",
			  w->proto_hint & FW_P_ICMP ? "icmp" : "icmpv6");
	}
	if (!cJSON_IsArray(v)) {
		if (port_item(w, v, path, &r)) {
			*out = xmalloc(sizeof(r));
			(*out)[0] = r;
			*n = 1;
		}
		return;
	}
	if (cJSON_GetArraySize(v) == 0) {
		diags_add(w->d, w->file, path,
			  "empty list (leave the key out to match any port)");
		return;
	}
	cJSON_ArrayForEach(e, v)
	{
		char *p = json_path_idx(path, i++);

		if (port_item(w, e, p, &r)) {
			xgrow((void **)out, &cap, *n, sizeof(r));
			(*out)[(*n)++] = r;
		}
		free(p);
	}
}

/* ---- rule keys ---- */

static bool get_string(struct walk *w, const cJSON *v, const char *path,
		       const char *what)
{
	if (cJSON_IsString(v))
		return true;
	expected(w, path, what, v);
	return false;
}

static bool enum_value(struct walk *w, const cJSON *v, const char *path,
		       const char *const *names, size_t n, int *out)
{
	char *all;

	if (!get_string(w, v, path, "a string"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v->valuestring, names[i])) {
			*out = (int)i;
			return true;
		}
	all = xstrdup(names[0]);
	for (size_t i = 1; i < n; i++) {
		char *t = xasprintf("%s, %s", all, names[i]);

		free(all);
		all = t;
	}
	diags_add(w->d, w->file, path, "\"%s\" is not one of: %s",
		  v->valuestring, all);
	free(all);
	return false;
}

static void rule_name(struct walk *w, const cJSON *v, const char *path,
		      struct fw_rule *r)
{
	if (!get_string(w, v, path, "a rule name"))
		return;
	if (!valid_name(v->valuestring, false)) {
		diags_add(w->d, w->file, path,
			  "\"%s\" is not a valid rule name (expected "
			  "[a-z0-9][a-z0-9_-]{0,31})",
			  v->valuestring);
		return;
	}
	r->name = arena_strdup(w->a, v->valuestring);
}

static void rule_action(struct walk *w, const cJSON *v, const char *path,
			struct fw_rule *r)
{
	int a;

	if (enum_value(w, v, path, action_names, ARRAY_SIZE(action_names), &a))
		r->action = (enum fw_action)a;
}

static const char *const proto_names[] = {"tcp", "udp", "icmp", "icmpv6"};

static unsigned proto_bits(struct walk *w, const cJSON *v, const char *path)
{
	const cJSON *e;
	unsigned bits = 0;
	size_t i = 0;
	int p;

	if (cJSON_IsString(v))
		return enum_value(w, v, path, proto_names, 4, &p) ? 1u << p : 0;
	if (!cJSON_IsArray(v)) {
		expected(w, path, "a protocol or a list of protocols", v);
		return 0;
	}
	if (cJSON_GetArraySize(v) == 0) {
		diags_add(w->d, w->file, path, "empty list (leave the key out "
					       "to match any protocol)");
		return 0;
	}
	cJSON_ArrayForEach(e, v)
	{
		char *pp = json_path_idx(path, i++);

		if (enum_value(w, e, pp, proto_names, 4, &p)) {
			if (bits & (1u << p))
				diags_add(w->d, w->file, pp,
					  "\"%s\" is listed twice",
					  proto_names[p]);
			bits |= 1u << p;
		}
		free(pp);
	}
	return bits;
}

static void rule_proto(struct walk *w, const cJSON *v, const char *path,
		       struct fw_rule *r)
{
	r->proto = proto_bits(w, v, path);
}

static void rule_dport(struct walk *w, const cJSON *v, const char *path,
		       struct fw_rule *r)
{
	port_list(w, v, path, &r->dport, &r->ndport);
}

static void rule_sport(struct walk *w, const cJSON *v, const char *path,
		       struct fw_rule *r)
{
	port_list(w, v, path, &r->sport, &r->nsport);
}

static void rule_from(struct walk *w, const cJSON *v, const char *path,
		      struct fw_rule *r)
{
	addr_list(w, v, path, &r->from, false);
}

static void rule_to(struct walk *w, const cJSON *v, const char *path,
		    struct fw_rule *r)
{
	addr_list(w, v, path, &r->to, false);
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || strchr("/:\"\\", c))
			return false;
		if (c == '*' && i != n - 1)
			return false;
	}
	return true;
}

static void iface_list(struct walk *w, const cJSON *v, const char *path,
		       char ***out, size_t *n)
{
	const cJSON *e;
	size_t i = 0, count;
	const bool list = cJSON_IsArray(v);

	if (!list && !cJSON_IsString(v)) {
		expected(w, path, "an interface name or a list of them", v);
		return;
	}
	count = list ? (size_t)cJSON_GetArraySize(v) : 1;
	if (list && count == 0) {
		diags_add(w->d, w->file, path, "empty list (leave the key out "
					       "to match any interface)");
		return;
	}
	*out = xcalloc(count, sizeof(char *));
	for (e = list ? v->child : v; e; e = list ? e->next : NULL) {
		char *p = list ? json_path_idx(path, i++) : xstrdup(path);

		if (!cJSON_IsString(e))
			expected(w, p, "an interface name", e);
		else if (!strcmp(e->valuestring, "*"))
			diags_add(w->d, w->file, p,
				  "\"*\" would match every interface (leave "
				  "the key out to match any)");
		else if (!valid_ifname(e->valuestring))
			diags_add(w->d, w->file, p,
				  "\"%s\" is not a valid interface name "
				  "(1-15 characters, no '/', ':', quotes or "
				  "spaces; '*' only at the end)",
				  e->valuestring);
		else
			(*out)[(*n)++] = arena_strdup(w->a, e->valuestring);
		free(p);
	}
}

static void rule_iif(struct walk *w, const cJSON *v, const char *path,
		     struct fw_rule *r)
{
	if (w->chain == FW_OUTPUT)
		diags_add(w->d, w->file, path,
			  "\"iif\" never matches in the output chain (locally "
			  "generated packets have no input interface)");
	iface_list(w, v, path, &r->iif, &r->niif);
}

static void rule_oif(struct walk *w, const cJSON *v, const char *path,
		     struct fw_rule *r)
{
	if (w->chain == FW_INPUT)
		diags_add(w->d, w->file, path,
			  "\"oif\" never matches in the input chain");
	iface_list(w, v, path, &r->oif, &r->noif);
}

static bool parse_rate(struct walk *w, const cJSON *v, const char *path,
		       struct fw_rate *rate)
{
	static const char *const units[] = {"second", "minute", "hour"};
	static const int secs[] = {1, 60, 3600};
	const char *s, *slash;
	char *end;
	unsigned long n;

	if (!get_string(w, v, path, "a rate \"N/second|minute|hour\""))
		return false;
	s = v->valuestring;
	slash = strchr(s, '/');
	n = isdigit((unsigned char)s[0]) ? strtoul(s, &end, 10) : 0;
	if (slash && n >= 1 && n <= 1000000000 && end == slash)
		for (size_t i = 0; i < ARRAY_SIZE(units); i++)
			if (!strcmp(slash + 1, units[i])) {
				rate->n = (uint32_t)n;
				rate->unit = secs[i];
				return true;
			}
	diags_add(w->d, w->file, path,
		  "\"%s\" is not a rate (expected \"N/second\", \"N/minute\" "
		  "or \"N/hour\" with N 1-1000000000)",
		  s);
	return false;
}

static void rule_limit(struct walk *w, const cJSON *v, const char *path,
		       struct fw_rule *r)
{
	r->has_limit = parse_rate(w, v, path, &r->limit);
}

static void rule_burst(struct walk *w, const cJSON *v, const char *path,
		       struct fw_rule *r)
{
	long long n;

	if (!w->has_limit)
		diags_add(w->d, w->file, path, "\"burst\" needs \"limit\"");
	if (json_int(v, 1, 1000000, &n)) {
		r->burst = (uint32_t)n;
		return;
	}
	expected(w, path, "an integer 1-1000000 (packets)", v);
}

static void rule_log(struct walk *w, const cJSON *v, const char *path,
		     struct fw_rule *r)
{
	if (cJSON_IsBool(v))
		r->log = cJSON_IsTrue(v);
	else
		expected(w, path, "true or false", v);
}

/* Characters (code points) of UTF-8 text, as the JSON schema's maxLength
 * counts them: the bytes that do not continue a character. (The loader
 * takes only well-formed UTF-8, and \u escapes decode to it.) */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void rule_comment(struct walk *w, const cJSON *v, const char *path,
			 struct fw_rule *r)
{
	if (!get_string(w, v, path, "a string"))
		return;
	if (chars(v->valuestring) > COMMENT_MAX_LEN) {
		diags_add(w->d, w->file, path,
			  "comment is longer than %d characters (%zu)",
			  COMMENT_MAX_LEN, chars(v->valuestring));
		return;
	}
	r->comment = arena_strdup(w->a, v->valuestring);
}

typedef void (*rule_fn)(struct walk *, const cJSON *, const char *,
			struct fw_rule *);

/* The keys of a rule, listed once: their indices (RK_NAME, ...: walk_rule
 * looks at name, proto and limit first), their walkers, their names. */
#define RULE_KEYS(X)                                                          \
	X(NAME, "name", rule_name)                                            \
	X(ACTION, "action", rule_action)                                      \
	X(PROTO, "proto", rule_proto)                                         \
	X(PORT, "port", rule_dport)                                           \
	X(SPORT, "sport", rule_sport)                                         \
	X(FROM, "from", rule_from)                                            \
	X(TO, "to", rule_to)                                                  \
	X(IIF, "iif", rule_iif)                                               \
	X(OIF, "oif", rule_oif)                                               \
	X(LIMIT, "limit", rule_limit)                                         \
	X(BURST, "burst", rule_burst)                                         \
	X(LOG, "log", rule_log)                                               \
	X(COMMENT, "comment", rule_comment)

#define RK_INDEX(id, key, fn) RK_##id,
#define RK_ENTRY(id, key, fn) {key, fn},
#define RK_NAME_OF(id, key, fn) key,
enum { RULE_KEYS(RK_INDEX) RK_N };

static const struct {
	const char *key;
	rule_fn fn;
} rule_keys[RK_N] = {RULE_KEYS(RK_ENTRY)};

static const char *const rule_key_names[] = {RULE_KEYS(RK_NAME_OF) NULL};

/* FNV-1a, for the rule-name slots. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static const struct fw_rule *slot_rule(const struct fw_policy *p,
				       uint32_t slot)
{
	return &p->chains[slot >> 28].rules[(slot & 0x0fffffff) - 1];
}

/* The earlier rule (any chain, any file) with this name, or NULL. */
static const struct fw_rule *rule_by_name(const struct walk *w,
					  const char *name)
{
	size_t mask = w->names_cap - 1;
	uint32_t h = name_hash(name);

	if (!w->names_cap)
		return NULL;
	/* The hash first: most slots a probe passes are other names. */
	for (size_t i = h & mask; w->names[i].slot; i = (i + 1) & mask)
		if (w->names[i].hash == h &&
		    !strcmp(slot_rule(w->p, w->names[i].slot)->name, name))
			return slot_rule(w->p, w->names[i].slot);
	return NULL;
}

static void name_put(struct walk *w, struct name_slot e)
{
	size_t mask = w->names_cap - 1;

	for (size_t i = e.hash & mask;; i = (i + 1) & mask)
		if (!w->names[i].slot) {
			w->names[i] = e;
			w->names_n++;
			return;
		}
}

static void name_insert(struct walk *w, uint32_t slot)
{
	if (2 * (w->names_n + 1) > w->names_cap) {
		struct name_slot *old = w->names;
		size_t oldcap = w->names_cap;

		w->names_cap = oldcap ? oldcap * 2 : 64;
		w->names = xcalloc(w->names_cap, sizeof(*w->names));
		w->names_n = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].slot)
				name_put(w, old[i]);
		free(old);
	}
	name_put(w, (struct name_slot){slot,
				       name_hash(slot_rule(w->p, slot)->name)});
}

/* The index of key k in rule_keys, or -1. */
static int rule_key(const char *k)
{
	for (size_t i = 0; i < RK_N; i++)
		if (k[0] == rule_keys[i].key[0] && !strcmp(k, rule_keys[i].key))
			return (int)i;
	return -1;
}

static void walk_rule(struct walk *w, const cJSON *v, const char *path,
		      struct fw_rule *r)
{
	/* Each key's first member, found in one pass: rules are walked by
	 * the ten thousand. */
	const cJSON *by[RK_N] = {0};
	const struct fw_rule *dup;
	const cJSON *c;
	bool odd = false;
	size_t pl = strlen(path);

	for (c = v->child; c; c = c->next) {
		int k = rule_key(c->string);

		if (k < 0 || by[k])
			odd = true;
		else
			by[k] = c;
	}
	r->path = arena_strndup(w->a, path, pl);
	r->file = w->file_copy;
	if (!by[RK_NAME])
		diags_add(w->d, w->file, path, "missing \"name\"");
	/* Fields checked against proto and limit need them first. */
	w->proto_hint = 0;
	if (by[RK_PROTO]) {
		struct fw_diags quiet = {0};
		struct walk q = *w;

		q.d = &quiet;
		w->proto_hint = proto_bits(&q, by[RK_PROTO], path);
		diags_free(&quiet);
	}
	w->has_limit = by[RK_LIMIT] != NULL;
	if (odd) /* unknown or repeated keys */
		json_check_keys(w->d, w->file, path, v, rule_key_names);
	for (c = v->child; c; c = c->next) {
		/* "<rule path>.<key>", on the stack unless it is long. */
		size_t kl = strlen(c->string), k = 0;
		char kbuf[160], *heap = NULL, *p = kbuf;

		while (k < RK_N && by[k] != c)
			k++;
		if (k == RK_N)
			continue; /* unknown, or given again */
		if (pl + kl + 2 > sizeof(kbuf)) {
			p = heap = json_path_key(path, c->string);
		} else {
			memcpy(kbuf, path, pl);
			kbuf[pl] = '.';
			memcpy(kbuf + pl + 1, c->string, kl + 1);
		}
		rule_keys[k].fn(w, c, p, r);
		free(heap);
	}
	if (r->name && (dup = rule_by_name(w, r->name))) {
		char *p = json_path_key(path, "name");

		if (strcmp(dup->file, w->file))
			diags_add(w->d, w->file, p,
				  "duplicate rule name \"%s\" (first defined "
				  "in %s at %s)",
				  r->name, dup->file, dup->path);
		else
			diags_add(w->d, w->file, p,
				  "duplicate rule name \"%s\" (first defined "
				  "at %s)",
				  r->name, dup->path);
		free(p);
	}
}

/* ---- chains ---- */

static void walk_chain(struct walk *w, const cJSON *v, const char *path,
		       enum fw_chain_id id)
{
	static const char *const top_keys[] = {"default", "rules", NULL};
	static const char *const inc_keys[] = {"default", "rules", NULL};
	static const char *const defaults[] = {"accept", "drop"};
	struct fw_chain *ch = &w->p->chains[id];
	const cJSON *def, *rules, *e;
	char *rules_path;
	size_t i = 0, rl, n;
	int dv;

	if (!cJSON_IsObject(v)) {
		expected(w, path, "an object {\"default\": ..., \"rules\": [...]}",
			 v);
		return;
	}
	ch->declared = true;
	def = cJSON_GetObjectItemCaseSensitive(v, "default");
	if (def && !w->top) {
		char *p = json_path_key(path, "default");

		diags_add(w->d, w->file, p,
			  "only the main policy may set a chain's default");
		free(p);
	}
	json_check_keys(w->d, w->file, path, v, w->top ? top_keys : inc_keys);
	if (def && w->top) {
		char *p = json_path_key(path, "default");

		if (enum_value(w, def, p, defaults, 2, &dv))
			ch->def = dv ? FW_DROP : FW_ACCEPT;
		free(p);
	}
	rules = cJSON_GetObjectItemCaseSensitive(v, "rules");
	if (!rules)
		return;
	if (!cJSON_IsArray(rules)) {
		char *p = json_path_key(path, "rules");

		expected(w, p, "a list of rules", rules);
		free(p);
		return;
	}
	rules_path = json_path_key(path, "rules");
	rl = strlen(rules_path);
	/* Room for all of them at once: no copies of a growing array. */
	n = (size_t)cJSON_GetArraySize(rules);
	if (n > 0)
		xgrow((void **)&ch->rules, &w->rcap[id], ch->nrules + n - 1,
		      sizeof(*ch->rules));
	cJSON_ArrayForEach(e, rules)
	{
		/* "<rules path>[i]", on the stack unless it is long. */
		char pbuf[128], *heap = NULL, *p = pbuf;
		struct fw_rule r = {0};

		if (rl + 24 > sizeof(pbuf))
			p = heap = json_path_idx(rules_path, i);
		else
			json_path_idx_in(pbuf, rules_path, rl, i);
		i++;
		if (!cJSON_IsObject(e)) {
			expected(w, p, "a rule object", e);
			free(heap);
			continue;
		}
		w->chain = id;
		walk_rule(w, e, p, &r);
		xgrow((void **)&ch->rules, &w->rcap[id], ch->nrules,
		      sizeof(r));
		ch->rules[ch->nrules++] = r;
		if (r.name && !rule_by_name(w, r.name))
			name_insert(w, (uint32_t)id << 28 |
					       (uint32_t)ch->nrules);
		free(heap);
	}
	free(rules_path);
}

/* ---- groups ---- */

static const struct fw_group *group_by_name(const struct fw_policy *p,
					    const char *name)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (!strcmp(p->groups[i].name, name))
			return &p->groups[i];
	return NULL;
}

static void walk_group(struct walk *w, const cJSON *g, const char *path)
{
	struct fw_policy *p = w->p;
	const struct fw_group *dup = group_by_name(p, g->string);
	struct fw_group *grp;

	if (!valid_name(g->string, true) || !isalpha((unsigned char)g->string[0])) {
		diags_add(w->d, w->file, path,
			  "\"%s\" is not a valid group name (expected "
			  "[A-Za-z][A-Za-z0-9_-]{0,31})",
			  g->string);
		return;
	}
	if (dup) {
		if (strcmp(dup->file, w->file))
			diags_add(w->d, w->file, path,
				  "group \"%s\" is already defined in %s",
				  g->string, dup->file);
		else
			diags_add(w->d, w->file, path, "duplicate key \"%s\"",
				  g->string);
		return;
	}
	xgrow((void **)&p->groups, &w->ncap, p->ngroups, sizeof(*grp));
	grp = &p->groups[p->ngroups++];
	memset(grp, 0, sizeof(*grp));
	grp->name = arena_strdup(w->a, g->string);
	grp->path = arena_strdup(w->a, path);
	grp->file = arena_strdup(w->a, w->file);
	addr_list(w, g, path, &grp->items, true);
	if (bulk_get(w->bulk, g)) {
		grp->span_open = bulk_get(w->bulk, g)->open;
		grp->span_close = bulk_get(w->bulk, g)->close;
	}
}

static void walk_groups(struct walk *w, const cJSON *v)
{
	const cJSON *g;

	if (!cJSON_IsObject(v)) {
		expected(w, "groups", "an object of group name -> list", v);
		return;
	}
	for (g = v->child; g; g = g->next) {
		char *path = json_path_key("groups", g->string);

		walk_group(w, g, path);
		free(path);
	}
}

static void flat_add(struct fw_group *g, size_t *cap,
		     const struct fw_addr_range *r)
{
	xgrow((void **)&g->flat, cap, g->nflat, sizeof(*g->flat));
	g->flat[g->nflat++] = *r;
}

static bool literals_only(const struct fw_group *g)
{
	for (size_t i = 0; i < g->items.n; i++)
		if (g->items.v[i].group)
			return false;
	return true;
}

/*
 * A group of addresses only (the big ones): its members become its flat
 * list in place, each range moved down over the item array (a range is
 * smaller than an item, so no item is overwritten before it is read).
 */
static void items_to_flat(struct fw_group *g)
{
	struct fw_addr_range *flat = (struct fw_addr_range *)g->items.v;
	size_t n = g->items.n;

	for (size_t i = 0; i < n; i++)
		memmove(&flat[i], &g->items.v[i].r, sizeof(*flat));
	g->flat = n ? xrealloc(flat, n * sizeof(*flat)) : (free(flat), NULL);
	g->nflat = n;
	g->items.v = NULL;
	g->items.n = 0;
}

/* Flattens group references depth-first; state 1 = on the stack. */
static int resolve_group(struct walk *w, struct fw_group *g, char *state,
			 struct fw_buf *trail)
{
	struct fw_policy *p = w->p;
	size_t idx = (size_t)(g - p->groups), cap = 0, mark = trail->len;

	if (state[idx] == 2)
		return 0;
	if (state[idx] == 1) {
		buf_printf(trail, "%s", g->name);
		diags_add(w->d, g->file, g->path, "group cycle: %s", trail->s);
		return -1;
	}
	state[idx] = 1;
	buf_printf(trail, "%s -> ", g->name);
	if (literals_only(g)) {
		size_t n = g->items.n;

		items_to_flat(g);
		trail->len = mark;
		trail->s[mark] = '\0';
		g->nflat = addr_normalize(g->flat, g->nflat);
		g->singles = g->nflat == n;
		for (size_t i = 0; g->singles && i < n; i++)
			g->singles = !memcmp(g->flat[i].lo, g->flat[i].hi, 16);
		state[idx] = 2;
		return 0;
	}
	for (size_t i = 0; i < g->items.n; i++) {
		const struct fw_addr_item *it = &g->items.v[i];
		struct fw_group *ref;

		if (!it->group) {
			flat_add(g, &cap, &it->r);
			continue;
		}
		ref = (struct fw_group *)group_by_name(p, it->group);
		if (ref)
			ref->referenced = true;
		if (!ref || resolve_group(w, ref, state, trail) < 0) {
			state[idx] = 2;
			return -1;
		}
		for (size_t j = 0; j < ref->nflat; j++)
			flat_add(g, &cap, &ref->flat[j]);
	}
	trail->len = mark;
	trail->s[mark] = '\0';
	g->nflat = addr_normalize(g->flat, g->nflat);
	state[idx] = 2;
	return 0;
}

static void resolve_groups(struct walk *w)
{
	char *state = xcalloc(w->p->ngroups + 1, 1);
	struct fw_buf trail = {0};

	buf_add(&trail, "", 0);
	for (size_t i = 0; i < w->p->ngroups; i++) {
		trail.len = 0;
		trail.s[0] = '\0';
		resolve_group(w, &w->p->groups[i], state, &trail);
	}
	buf_free(&trail);
	free(state);
}

/* ---- options ---- */

static void walk_bool(struct walk *w, const cJSON *v, const char *path,
		      bool *out)
{
	if (cJSON_IsBool(v))
		*out = cJSON_IsTrue(v);
	else
		expected(w, path, "true or false", v);
}

static void walk_baseline(struct walk *w, const cJSON *v, const char *path)
{
	static const char *const keys[] = {"loopback", "established",
					   "invalid", "icmp", NULL};
	struct fw_baseline *b = &w->p->baseline;
	bool *fields[] = {&b->loopback, &b->established, &b->invalid,
			  &b->icmp};

	if (cJSON_IsBool(v)) {
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			*fields[i] = cJSON_IsTrue(v);
		return;
	}
	if (!cJSON_IsObject(v)) {
		expected(w, path,
			 "true, false or an object of baseline switches", v);
		return;
	}
	json_check_keys(w->d, w->file, path, v, keys);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, keys[i]);
		char *p = json_path_key(path, keys[i]);

		if (e)
			walk_bool(w, e, p, fields[i]);
		free(p);
	}
}

static void walk_log_drops(struct walk *w, const cJSON *v, const char *path)
{
	static const char *const keys[] = {"rate", NULL};
	const cJSON *rate;

	if (cJSON_IsBool(v)) {
		w->p->log_drops = cJSON_IsTrue(v);
		return;
	}
	if (!cJSON_IsObject(v)) {
		expected(w, path,
			 "an object {\"rate\": \"N/second\"} or true/false", v);
		return;
	}
	w->p->log_drops = true;
	json_check_keys(w->d, w->file, path, v, keys);
	rate = cJSON_GetObjectItemCaseSensitive(v, "rate");
	if (rate) {
		char *p = json_path_key(path, "rate");

		parse_rate(w, rate, p, &w->p->log_rate);
		free(p);
	}
}

static void walk_options(struct walk *w, const cJSON *v)
{
	static const char *const keys[] = {"log_drops", "baseline", NULL};
	const cJSON *e;

	if (!cJSON_IsObject(v)) {
		expected(w, "options", "an object", v);
		return;
	}
	json_check_keys(w->d, w->file, "options", v, keys);
	e = cJSON_GetObjectItemCaseSensitive(v, "log_drops");
	if (e)
		walk_log_drops(w, e, "options.log_drops");
	e = cJSON_GetObjectItemCaseSensitive(v, "baseline");
	if (e)
		walk_baseline(w, e, "options.baseline");
}

/* ---- top level ---- */

static void walk_version(struct walk *w, const cJSON *v)
{
	long long n;

	if (json_int(v, 1, 1, &n)) {
		w->p->version = 1;
		return;
	}
	if (cJSON_IsNumber(v)) {
		char *got = json_describe(v);

		diags_add(w->d, w->file, "version",
			  "version %s is not supported (expected 1)", got);
		free(got);
		return;
	}
	expected(w, "version", "the number 1", v);
}

static void walk_host(struct walk *w, const cJSON *v)
{
	const char *s;

	if (!get_string(w, v, "host", "a host name"))
		return;
	s = v->valuestring;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < ' ' || *c == '"' || *c == '\\') {
			diags_add(w->d, w->file, "host",
				  "host contains a quote, a backslash or a "
				  "control character");
			return;
		}
	if (!*s || chars(s) > HOST_MAX_LEN) {
		diags_add(w->d, w->file, "host",
			  "%s host name (%zu characters; expected 1-%d)",
			  *s ? "too long a" : "an empty", chars(s),
			  HOST_MAX_LEN);
		return;
	}
	w->p->host = arena_strdup(w->a, s);
}

static void walk_include(struct walk *w, const cJSON *v, bool allowed)
{
	const cJSON *e;
	size_t i = 0;

	if (!allowed) {
		diags_add(w->d, w->file, "include",
			  "not allowed here: the document must be "
			  "self-contained (fwctl resolves includes)");
		return;
	}
	if (cJSON_IsString(v))
		return;
	if (!cJSON_IsArray(v)) {
		expected(w, "include", "a file name or a list of file names",
			 v);
		return;
	}
	cJSON_ArrayForEach(e, v)
	{
		char *p = json_path_idx("include", i++);

		if (!cJSON_IsString(e))
			expected(w, p, "a file name", e);
		free(p);
	}
}

static void walk_key(struct walk *w, const struct fw_src *src,
		     const cJSON *v, bool includes_ok)
{
	const char *k = v->string;

	if (!strcmp(k, "version"))
		walk_version(w, v);
	else if (!src->top && (!strcmp(k, "host") || !strcmp(k, "options")))
		diags_add(w->d, w->file, k,
			  "only the main policy may set \"%s\"", k);
	else if (!strcmp(k, "host"))
		walk_host(w, v);
	else if (!strcmp(k, "include"))
		walk_include(w, v, includes_ok);
	else if (!strcmp(k, "groups"))
		walk_groups(w, v);
	else if (!strcmp(k, "options"))
		walk_options(w, v);
	for (int c = 0; c < FW_NCHAINS; c++)
		if (!strcmp(k, chain_names[c]))
			walk_chain(w, v, k, (enum fw_chain_id)c);
}

static void walk_file(struct walk *w, const struct fw_src *src,
		      bool includes_ok)
{
	static const char *const top_keys[] = {
		"version", "host",   "include", "groups",
		"input",   "output", "forward", "options", NULL};
	static const char *const inc_keys[] = {
		"version", "include", "groups", "input",
		"output",  "forward", "host",	"options", NULL};
	const cJSON *root = src->root, *v;

	w->file = src->name;
	w->file_copy = arena_strdup(w->a, src->name);
	w->top = src->top;
	w->bulk = &src->bulk;
	if (!cJSON_IsObject(root)) {
		expected(w, NULL, "a JSON object", root);
		return;
	}
	if (src->top && !cJSON_GetObjectItemCaseSensitive(root, "version"))
		diags_add(w->d, w->file, "version", "missing (expected 1)");
	json_check_keys(w->d, w->file, "", root,
			src->top ? top_keys : inc_keys);
	for (v = root->child; v; v = v->next)
		if (cJSON_GetObjectItemCaseSensitive(root, v->string) == v)
			walk_key(w, src, v, includes_ok);
}

/* Every group name of every file, so references resolve in one pass. */
static void collect_group_names(struct walk *w, const struct fw_srcs *s)
{
	size_t n = 0, cap = 0;

	xgrow((void **)&w->group_names, &cap, 0, sizeof(char *));
	for (size_t i = 0; i < s->n; i++) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(s->v[i].root,
								  "groups");

		if (!cJSON_IsObject(g))
			continue;
		for (g = g->child; g; g = g->next) {
			xgrow((void **)&w->group_names, &cap, n + 1,
			      sizeof(char *));
			w->group_names[n++] = g->string;
		}
	}
	w->group_names[n] = NULL;
}

static struct fw_policy *policy_new(void)
{
	struct fw_policy *p = xcalloc(1, sizeof(*p));

	p->arena = arena_new();
	p->chains[FW_INPUT].def = FW_DROP;
	p->chains[FW_OUTPUT].def = FW_ACCEPT;
	p->chains[FW_FORWARD].def = FW_ACCEPT;
	p->baseline = (struct fw_baseline){true, true, true, true};
	p->log_rate = (struct fw_rate){5, 1};
	return p;
}

/* Walks the files; keep_lists: leave their long lists (bulk.h) for
 * bundling, else let them go before the groups are resolved; included:
 * group names need not be defined (the main file checked as an included
 * one, or a file missing). */
static struct fw_policy *from_sources(struct fw_srcs *s, bool includes_ok,
				      bool keep_lists, bool included,
				      struct fw_diags *d)
{
	size_t before = d->n + d->dropped;
	struct walk w = {.d = d, .included = included};

	w.p = policy_new();
	w.a = w.p->arena;
	collect_group_names(&w, s);
	for (size_t i = 0; i < s->n; i++) {
		walk_file(&w, &s->v[i], includes_ok);
		if (!keep_lists)
			bulk_free(&s->v[i].bulk);
	}
	resolve_groups(&w);
	free(w.group_names);
	free(w.names);
	if (d->n + d->dropped != before) {
		policy_free(w.p);
		return NULL;
	}
	return w.p;
}

/* True if root can only be an included file: groups and nothing else. */
static bool reads_included(const cJSON *root)
{
	const cJSON *k;

	if (!cJSON_IsObject(root) || !root->child)
		return false;
	for (k = root->child; k; k = k->next)
		if (strcmp(k->string, "groups"))
			return false;
	return true;
}

/*
 * Loads and validates path; on success *s holds the files (for bundling).
 * included (NULL: no): check path as an included file if *included is
 * true or it reads as one; *included then says whether it was.
 */
static struct fw_policy *load_validated(const char *path, struct fw_srcs *s,
					bool keep_lists, bool *included,
					struct fw_diags *d)
{
	bool loaded = source_load_file(path, s, d) == 0, inc = false;
	struct fw_policy *p;

	/* The main file is the one the loader added last, after its
	 * includes. */
	for (size_t i = 0; included && i < s->n; i++)
		if (s->v[i].top && (*included || reads_included(s->v[i].root))) {
			s->v[i].top = false;
			inc = true;
		}
	if (included)
		*included = inc;
	/* A file that did not load may define the groups the others name:
	 * their names are not errors then. */
	p = from_sources(s, true, keep_lists, inc || !loaded, d);
	/* Even when a file did not load, what is wrong in the others that
	 * did is reported. */
	if (!loaded) {
		policy_free(p);
		p = NULL;
	}
	return p;
}

struct fw_policy *policy_load_file(const char *path, struct fw_diags *d)
{
	struct fw_srcs s;
	struct fw_policy *p = load_validated(path, &s, false, NULL, d);

	source_free(&s);
	return p;
}

struct fw_policy *policy_check_file(const char *path, bool as_included,
				    struct fw_diags *d, bool *included)
{
	struct fw_srcs s;
	struct fw_policy *p;

	*included = as_included;
	p = load_validated(path, &s, false, included, d);
	source_free(&s);
	return p;
}

struct fw_policy *policy_parse(const char *name, const char *text, size_t len,
			       struct fw_diags *d)
{
	struct fw_srcs s;
	struct fw_policy *p = NULL;

	if (source_load_text(name, text, len, &s, d) == 0)
		p = from_sources(&s, false, false, false, d);
	source_free(&s);
	return p;
}

char *policy_bundle_file(const char *path, struct fw_diags *d)
{
	struct fw_srcs s;
	struct fw_policy *p = load_validated(path, &s, true, NULL, d);
	char *out = p ? source_bundle(&s) : NULL;

	policy_free(p);
	source_free(&s);
	return out;
}

static void rule_free(struct fw_rule *r)
{
	free(r->dport);
	free(r->sport);
	free(r->from.v);
	free(r->to.v);
	free(r->iif);
	free(r->oif);
}

void policy_drop_members(struct fw_policy *p)
{
	for (size_t i = 0; p && i < p->ngroups; i++) {
		free(p->groups[i].items.v);
		free(p->groups[i].flat);
		p->groups[i].items.v = NULL;
		p->groups[i].flat = NULL;
		p->groups[i].items.n = p->groups[i].nflat = 0;
	}
}

void policy_free(struct fw_policy *p)
{
	if (!p)
		return;
	for (int c = 0; c < FW_NCHAINS; c++) {
		for (size_t i = 0; i < p->chains[c].nrules; i++)
			rule_free(&p->chains[c].rules[i]);
		free(p->chains[c].rules);
	}
	for (size_t i = 0; i < p->ngroups; i++) {
		free(p->groups[i].items.v);
		free(p->groups[i].flat);
	}
	free(p->groups);
	arena_free(p->arena);
	free(p);
}
