// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_state: commits rotate active into previous, bytes come back exactly,
 * files are replaced by rename (new inode, no temporary left behind), stale
 * metadata is noticed, and the pending record round-trips.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "t.h"
#include "util.h"

static char dir[256];

static ino_t inode_of(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) < 0 ? 0 : st.st_ino;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? 0 : st.st_mode & 07777;
}

/* Names in dir other than the ones state.c documents. */
static int stray_files(void)
{
	static const char *const known[] = {
		".", "..", "active.json", "previous.json", "active.meta.json",
		"previous.meta.json", "pending.json", "active.edit",
	};
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	size_t i;

	while (d && (e = readdir(d))) {
		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (!strcmp(e->d_name, known[i]))
				break;
		n += i == ARRAY_SIZE(known);
	}
	if (d)
		closedir(d);
	return n;
}

/* Loads which and compares with want (bytes and sha), by and at. */
static int load_is(const char *which, const char *want, size_t wlen,
		   const char *by)
{
	struct fw_state_meta m;
	char hex[FW_SHA256_HEX_LEN], *doc;
	size_t len;
	int ok;

	if (state_load(dir, which, &doc, &len, &m) < 0)
		return 0;
	ok = len == wlen && !memcmp(doc, want, len) && doc[len] == '\0' &&
	     !strcmp(m.sha256, sha256_hex_of(want, wlen, hex)) &&
	     !strcmp(m.applied_by, by) &&
	     (!*by || !strcmp(m.applied_at, "2024-05-01T12:00:00Z"));
	free(doc);
	return ok;
}

static void commit(const char *doc, size_t len, const char *by)
{
	struct fw_state_meta m;

	state_meta_make(&m, doc, len, by, 1714564800); /* 2024-05-01 12:00 */
	if (state_commit(dir, doc, len, &m) < 0)
		perror("state_commit");
}

static void test_init(void)
{
	char path[512], *doc;
	size_t len;

	snprintf(path, sizeof(path), "%s/state", dir);
	T_OK(state_init(path) == 0 && mode_of(path) == 0700,
	     "init: creates the directory 0700");
	T_OK(state_init(path) == 0, "init: an existing directory is fine");
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/state");
	T_OK(state_load(dir, "active", &doc, &len, NULL) == -1 &&
	     errno == ENOENT, "load: no active policy yet (ENOENT)");
	T_OK(state_load(dir, "other", &doc, &len, NULL) == -1 &&
	     errno == EINVAL, "load: unknown name (EINVAL)");
	snprintf(path, sizeof(path), "%s/active.json", dir);
	file_write_atomic(path, "x", 1, 0600);
	T_OK(state_init(path) == -1 && errno == ENOTDIR,
	     "init: a file in the way (ENOTDIR)");
	unlink(path);
}

static void test_commits(void)
{
	static const char a[] = "{\"version\": 1, \"host\": \"a\"}";
	static const char b[] = "{\"version\":1,\n\"host\":\"b\"}\n";
	static const char c[] = "bytes \0 with a NUL";
	char path[512];
	ino_t ino;

	commit(a, sizeof(a) - 1, "uid 0 (root) pid 1");
	T_OK(load_is("active", a, sizeof(a) - 1, "uid 0 (root) pid 1"),
	     "commit 1: active is A with its metadata");
	T_OK(inode_of("previous.json") == 0, "commit 1: no previous yet");
	ino = inode_of("active.json");

	commit(b, sizeof(b) - 1, "uid 1000 (alice) pid 42");
	T_OK(load_is("active", b, sizeof(b) - 1, "uid 1000 (alice) pid 42"),
	     "commit 2: active is B");
	T_OK(load_is("previous", a, sizeof(a) - 1, "uid 0 (root) pid 1"),
	     "commit 2: previous is A, metadata moved along");
	T_OK(inode_of("active.json") != ino,
	     "commit 2: active.json replaced by rename, not rewritten");

	commit(c, sizeof(c) - 1, "x");
	T_OK(load_is("active", c, sizeof(c) - 1, "x") &&
	     load_is("previous", b, sizeof(b) - 1, "uid 1000 (alice) pid 42"),
	     "commit 3: active C (binary, exact bytes), previous B");
	T_OK(stray_files() == 0, "no temporary files left behind");
	snprintf(path, sizeof(path), "%s/active.json", dir);
	T_OK(mode_of(path) == 0600, "files are mode 0600");
	snprintf(path, sizeof(path), "%s/previous.meta.json", dir);
	T_OK(mode_of(path) == 0600, "metadata is mode 0600");

	/* Someone (or a crash) replaced the document, not the metadata. */
	snprintf(path, sizeof(path), "%s/active.json", dir);
	file_write_atomic(path, a, sizeof(a) - 1, 0600);
	T_OK(load_is("active", a, sizeof(a) - 1, ""),
	     "stale metadata: hash of the real bytes, applied_at/by unknown");
}

/* The two steps of a commit, and what each failure leaves. */
static void test_staged(void)
{
	static const char a[] = "{\"a\": 1}", b[] = "{\"b\": 2}",
			  b2[] = "{\"b\":2}";
	struct fw_state_stage st;
	struct fw_state_meta m;
	char path[512], missing[300];

	commit(a, sizeof(a) - 1, "one");
	T_OK(state_stage(dir, b, sizeof(b) - 1, &st) == 0 &&
		     load_is("active", a, sizeof(a) - 1, "one"),
	     "staged: the active text stays until the commit");
	state_meta_make(&m, b, sizeof(b) - 1, "two", 1714564800);
	T_OK(state_commit_staged(dir, &st, &m, false) == 0 &&
		     load_is("active", b, sizeof(b) - 1, "two") &&
		     load_is("previous", a, sizeof(a) - 1, "one") &&
		     stray_files() == 0,
	     "staged: committed, the old one previous, nothing left over");
	/* The same policy written otherwise: in place, previous kept. */
	state_meta_make(&m, b2, sizeof(b2) - 1, "two'", 1714564800);
	T_OK(state_stage(dir, b2, sizeof(b2) - 1, &st) == 0 &&
		     state_commit_staged(dir, &st, &m, true) == 0 &&
		     load_is("active", b2, sizeof(b2) - 1, "two'") &&
		     load_is("previous", a, sizeof(a) - 1, "one") &&
		     stray_files() == 0,
	     "staged in place: the active text replaced, the previous one "
	     "kept");
	state_meta_make(&m, b, sizeof(b) - 1, "two", 1714564800);
	T_OK(state_stage(dir, b, sizeof(b) - 1, &st) == 0 &&
		     state_commit_staged(dir, &st, &m, true) == 0,
	     "staged in place: and back");

	T_OK(state_stage(dir, a, sizeof(a) - 1, &st) == 0 &&
		     (state_stage_drop(&st), stray_files() == 0) &&
		     load_is("active", b, sizeof(b) - 1, "two"),
	     "staged: a dropped stage leaves nothing, the active text as it "
	     "was");
	snprintf(missing, sizeof(missing), "%s/no/such/dir", dir);
	T_OK(state_stage(missing, a, sizeof(a) - 1, &st) == -1 &&
		     errno == ENOENT,
	     "staged: a directory that is not there fails the stage (ENOENT)");

	/* Something in the way of the rotation (a directory where the
	 * metadata was): the commit fails, the active text stays, and the
	 * staged files go. */
	snprintf(path, sizeof(path), "%s/active.meta.json", dir);
	unlink(path);
	mkdir(path, 0700);
	state_meta_make(&m, a, sizeof(a) - 1, "three", 1714564800);
	T_OK(state_stage(dir, a, sizeof(a) - 1, &st) == 0 &&
		     state_commit_staged(dir, &st, &m, false) == -1 &&
		     load_is("active", b, sizeof(b) - 1, ""),
	     "staged: a failed commit leaves the active text as it was");
	T_OK(load_is("previous", a, sizeof(a) - 1, "one"),
	     "staged: ... and the previous one");
	rmdir(path);
	T_OK(stray_files() == 0, "staged: no temporary files left behind");

	/* What a killed fwd left in the middle of a save goes at start. */
	snprintf(path, sizeof(path), "%s/active.json.tmp.99999", dir);
	file_write_atomic(path, a, sizeof(a) - 1, 0600);
	snprintf(path, sizeof(path), "%s/previous.json.link", dir);
	file_write_atomic(path, a, sizeof(a) - 1, 0600);
	T_OK(stray_files() == 2 && state_init(dir) == 0 && stray_files() == 0 &&
		     load_is("active", b, sizeof(b) - 1, ""),
	     "init: staged texts and second names a crash left are removed");
}

/* --- edits --- */

/* Saves new as an edit of old, the active text: the span that differs. */
static int edit(const char *old, const char *new, const char *by,
		const char *from)
{
	size_t olen = strlen(old), nlen = strlen(new), p = 0, q = 0;
	char hex[FW_SHA256_HEX_LEN];
	struct fw_state_meta m;

	while (p < olen && p < nlen && old[p] == new[p])
		p++;
	while (q < olen - p && q < nlen - p &&
	       old[olen - 1 - q] == new[nlen - 1 - q])
		q++;
	state_meta_make(&m, new, nlen, by, 1714564800);
	return state_edit(dir, from ? from : sha256_hex_of(old, olen, hex), p,
			  olen - p - q, new + p, nlen - p - q, &m);
}

static char *edit_path(void)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/active.edit", dir);
	return path;
}

static off_t edit_size(void)
{
	struct stat st;

	return stat(edit_path(), &st) < 0 ? -1 : st.st_size;
}

/* The record's bytes as they are now, put back later by edit_put. */
static char *edit_get(size_t *len)
{
	return file_read(edit_path(), len);
}

static void edit_put(const char *bytes, size_t len)
{
	FILE *f = fopen(edit_path(), "w");

	if (f) {
		fwrite(bytes, 1, len, f);
		fclose(f);
	}
}

/* active.json's bytes are s (whatever the record says). */
static int file_is(const char *name, const char *s)
{
	char path[512], *t;
	size_t n;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	t = file_read(path, &n);
	ok = t && n == strlen(s) && !memcmp(t, s, n);
	free(t);
	return ok;
}

#define IS(which, s, by) load_is(which, s, strlen(s), by)

/* A record written by hand: a header of version v at offset at (one byte
 * cut, put replacing it; "from" and "to" the texts' hashes), the put
 * byte, and the record's own hash. */
static void record_put(const char *v, const char *at, const char *from_text,
		       const char *to_text, const char *put)
{
	char from[FW_SHA256_HEX_LEN], to[FW_SHA256_HEX_LEN];
	char sum[FW_SHA256_HEX_LEN];
	struct fw_buf b = {0};

	buf_printf(&b,
		   "{\"v\": %s, \"from\": \"%s\", \"to\": \"%s\", \"at\": %s, "
		   "\"cut\": 1, \"put\": 1, \"applied_at\": \"2024-05-01T12:00:00Z\", "
		   "\"applied_by\": \"hand\"}\n%s",
		   v, sha256_hex_of(from_text, strlen(from_text), from),
		   sha256_hex_of(to_text, strlen(to_text), to), at, put);
	sha256_hex_of(b.s, b.len, sum);
	buf_printf(&b, "%s\n", sum);
	edit_put(b.s, b.len);
	buf_free(&b);
}

/* Headers by hand: a whole one counts, one number out of its range or
 * a version fwd does not know does not. */
static void test_edit_headers(void)
{
	static const char a[] = "{\"allow\": [\"10.0.0.1\"]}";
	static const char b[] = "{\"allow\": [\"10.0.0.2\"]}";

	commit(a, strlen(a), "one");
	record_put("1", "19", a, b, "2");
	T_OK(IS("active", b, "hand"), "a record written by hand counts");
	record_put("1", "-1", a, b, "2");
	T_OK(IS("active", a, "one"), "a record at a negative offset: ignored");
	record_put("1", "18.5", a, b, "2");
	T_OK(IS("active", a, "one"), "a record at a fractional offset: ignored");
	record_put("2", "19", a, b, "2");
	T_OK(IS("active", a, "one"), "a record of another version: ignored");
	T_OK(state_fold(dir) == 0 && edit_size() == 0,
	     "records that are not whole: folding removes them");
}

static void test_edits(void)
{
	static const char a[] = "{\"allow\": [\"10.0.0.1\", \"10.0.0.2\"]}";
	static const char b[] = "{\"allow\": [\"10.0.0.1\", \"10.0.0.9\"]}";
	static const char c[] = "{\"allow\": [\"10.0.0.9\"]}";
	static const char d[] = "{\"allow\": [\"10.0.0.9\", \"10.0.0.7\"]}";
	static const char e[] = "{\"allow\": []}";
	char *rec, *bad, hex[FW_SHA256_HEX_LEN], path[512], missing[300];
	struct fw_state_meta m;
	size_t n;
	int i, ok;

	commit(a, strlen(a), "one");
	T_OK(edit(a, b, "two", NULL) == 0 && edit_size() > 0,
	     "edit: saved as a record");
	T_OK(IS("active", b, "two") && IS("previous", a, "one"),
	     "edit: active is the edited text, previous the one before");
	T_OK(file_is("active.json", a),
	     "edit: active.json stays until the fold");
	T_OK(edit(b, c, "three", NULL) == 0 && IS("active", c, "three") &&
		     IS("previous", b, "two"),
	     "a second edit (a deletion) follows the first");
	T_OK(edit(a, d, "x", NULL) == -1 && errno == ESTALE,
	     "an edit of another text than the active one (ESTALE)");
	T_OK(state_fold(dir) == 1 && edit_size() == 0 &&
		     file_is("active.json", c) && file_is("previous.json", b),
	     "fold: whole files written, the records emptied");
	T_OK(IS("active", c, "three") && IS("previous", b, "two") &&
		     stray_files() == 0,
	     "fold: active and previous as before it, nothing left over");
	T_OK(state_fold(dir) == 0, "fold: nothing to fold");

	/* A record cut short (a crash while it was written) or changed. */
	edit(c, d, "four", NULL);
	rec = edit_get(&n);
	edit_put(rec, n - 5);
	T_OK(IS("active", c, "three") && IS("previous", b, "two"),
	     "edit cut short: ignored, the text before it active");
	T_OK(edit(c, d, "four", NULL) == 0 && IS("active", d, "four") &&
		     edit_size() == (off_t)n,
	     "edit after one cut short: in its place");
	T_OK(state_fold(dir) == 1 && IS("active", d, "four") &&
		     IS("previous", c, "three"),
	     "fold of one record: previous is the text before it");
	/* A changed byte, in the put bytes or in the header. */
	free(rec);
	edit(d, b, "x", NULL);
	rec = edit_get(&n);
	bad = xmalloc(n);
	memcpy(bad, rec, n);
	bad[strchr(rec, '\n') - rec + 1] ^= 1; /* the first put byte */
	edit_put(bad, n);
	T_OK(IS("active", d, "four"),
	     "edit with a changed byte in its put bytes: ignored");
	memcpy(bad, rec, n);
	bad[strstr(rec, "\"x\"") - rec + 1] ^= 1; /* applied_by */
	edit_put(bad, n);
	T_OK(IS("active", d, "four"),
	     "edit with a changed byte in its header: ignored");
	free(bad);
	free(rec);
	edit_put("", 0);
	edit(d, e, "five", NULL);
	rec = edit_get(&n);
	edit_put("not a record\n", 13);
	T_OK(IS("active", d, "four") && state_fold(dir) == 0 &&
		     edit_size() == 0,
	     "a record that is not one: ignored, and folding removes it");
	edit_put(rec, n);
	{
		FILE *f = fopen(edit_path(), "a");

		fputs("{\"v\": 1, \"fr", f);
		fclose(f);
	}
	T_OK(IS("active", e, "five"),
	     "a whole record, then one cut short: the whole one counts");
	T_OK(state_fold(dir) == 1 && IS("active", e, "five"),
	     "fold of the whole record");

	/* A fold stopped after the text but before its metadata, then the
	 * record again: stale, and it still names who applied the text. */
	edit_put(rec, n);
	snprintf(path, sizeof(path), "%s/active.meta.json", dir);
	unlink(path);
	T_OK(IS("active", e, "five"),
	     "record already folded, metadata lost: applied by the record's");
	T_OK(state_fold(dir) == 0 && edit_size() == 0,
	     "record already folded: folding again only empties it");
	free(rec);

	/* Records made for another text than active.json. */
	T_OK(edit(e, d, "six", sha256_hex_of("x", 1, hex)) == 0 &&
		     IS("active", e, ""),
	     "record for another text: ignored");
	T_OK(state_fold(dir) == -1 && errno == ESTALE && edit_size() == 0 &&
		     IS("active", e, ""),
	     "record for another text: fold says ESTALE, removes it");
	state_meta_make(&m, "x", 1, "x", 1714564800);
	T_OK(state_edit(dir, sha256_hex_of(e, strlen(e), hex), 1000, 1, "x", 1,
			&m) == 0 &&
		     IS("active", e, "") && state_fold(dir) == -1 &&
		     errno == ESTALE,
	     "record past the end of the text: ignored, ESTALE");

	/* A whole commit over edits not folded yet keeps the edited text
	 * as the previous one. */
	commit(c, strlen(c), "three");
	edit(c, d, "four", NULL);
	edit(d, e, "five", NULL);
	commit(a, strlen(a), "seven");
	T_OK(IS("active", a, "seven") && IS("previous", e, "five") &&
		     edit_size() == 0 && stray_files() == 0,
	     "commit over edits: previous is the edited text");

	/* active.json that cannot be read (a directory in its place): the
	 * records say nothing then, and stay. */
	{
		char json[512], aside[512];
		char *doc;
		size_t len;
		off_t sz;

		edit(a, b, "eight", NULL);
		sz = edit_size();
		snprintf(json, sizeof(json), "%s/active.json", dir);
		snprintf(aside, sizeof(aside), "%s/aside.json", dir);
		rename(json, aside);
		mkdir(json, 0700);
		T_OK(state_load(dir, "active", &doc, &len, NULL) == -1 &&
			     errno == EISDIR,
		     "edits over an unreadable active.json: load fails "
		     "(EISDIR)");
		T_OK(state_fold(dir) == -1 && errno == EISDIR &&
			     edit_size() == sz,
		     "... a fold fails and keeps the records");
		rmdir(json);
		rename(aside, json);
		T_OK(IS("active", b, "eight") && state_fold(dir) == 1,
		     "... which count once it can be read again");
		commit(a, strlen(a), "seven");
	}

	/* Records enough: the next edit is refused until a fold. */
	for (i = 0, ok = 1; i < 64; i++)
		ok &= edit(i % 2 ? b : a, i % 2 ? a : b, "many", NULL) == 0;
	T_OK(ok && edit(a, b, "many", NULL) == -1 && errno == EBUSY,
	     "64 records wait: the next edit is refused (EBUSY)");
	T_OK(state_fold(dir) == 1 && IS("active", a, "many") &&
		     IS("previous", b, "many"),
	     "fold of 64 records");

	snprintf(missing, sizeof(missing), "%s/no/such/dir", dir);
	T_OK(state_edit(missing, hex, 0, 0, "", 0, &m) == -1 &&
		     errno == ENOENT,
	     "edit: a directory that is not there (ENOENT)");
}

static void test_pending(void)
{
	struct fw_pending p = { .deadline = 1714564890 }, q;
	char path[512], *text;

	T_OK(state_pending_read(dir, &q) == -1 && errno == ENOENT,
	     "pending: none (ENOENT)");
	strcpy(p.sha256, "ab12");
	strcpy(p.previous_sha256, "cd34");
	strcpy(p.applied_by, "uid 0 (root) pid 7");
	T_OK(state_pending_write(dir, &p) == 0, "pending: written");
	T_OK(state_pending_read(dir, &q) == 0 && q.deadline == p.deadline &&
	     !strcmp(q.sha256, "ab12") && !strcmp(q.previous_sha256, "cd34") &&
	     !strcmp(q.applied_by, p.applied_by), "pending: read back");
	snprintf(path, sizeof(path), "%s/pending.json", dir);
	text = file_read(path, NULL);
	T_OK(text && strstr(text, "\"deadline\":\t\"2024-05-01T12:01:30Z\""),
	     "pending: deadline stored as RFC 3339 UTC");
	free(text);
	T_OK(state_pending_remove(dir) == 0 &&
	     state_pending_read(dir, &q) == -1 && errno == ENOENT,
	     "pending: removed");
	T_OK(state_pending_remove(dir) == 0, "pending: removing none is fine");
	file_write_atomic(path, "{\"deadline\": \"soon\"}", 20, 0600);
	T_OK(state_pending_read(dir, &q) == -1 && errno == EBADMSG,
	     "pending: unreadable record (EBADMSG)");
	file_write_atomic(path, "[", 1, 0600);
	T_OK(state_pending_read(dir, &q) == -1 && errno == EBADMSG,
	     "pending: not JSON (EBADMSG)");
	state_pending_remove(dir);
}

static void test_time(void)
{
	char s[FW_TIME_LEN];
	time_t t;

	T_OK(!strcmp(state_time_format(0, s), "1970-01-01T00:00:00Z"),
	     "time: epoch");
	T_OK(state_time_parse("2024-05-01T12:00:00Z", &t) == 0 &&
	     t == 1714564800, "time: parse");
	T_OK(state_time_parse("2024-05-01 12:00:00", &t) == -1 &&
	     errno == EINVAL, "time: parse rejects other forms");
}

static void cleanup(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

int main(void)
{
	char *base;

	snprintf(dir, sizeof(dir), "/tmp/fwd-test-state.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	base = xstrdup(dir);
	test_init();
	test_commits();
	test_staged();
	test_edits();
	test_edit_headers();
	test_pending();
	test_time();
	snprintf(dir, sizeof(dir), "%s", base);
	free(base);
	cleanup();
	return t_done();
}
