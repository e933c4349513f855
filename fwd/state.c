// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * state: files in fwd's state directory, every write atomic (tmp file,
 * fsync, rename, fsync dir). It stores bytes and small JSON records; it
 * never parses a policy and never decides when to commit or roll back.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "editlog.h"
#include "state.h"
#include "util.h"

#define STATE_MODE 0600

int state_init(const char *dir)
{
	struct stat st;
	struct dirent *e;
	DIR *d;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (stat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	/* What an fwd killed in the middle of a save left: staged texts and
	 * second names, never read. */
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (strstr(e->d_name, ".tmp.") ||
		    (n > 5 && !strcmp(e->d_name + n - 5, ".link"))) {
			char *path = xasprintf("%s/%s", dir, e->d_name);

			unlink(path);
			free(path);
		}
	}
	if (d)
		closedir(d);
	return 0;
}

char *state_time_format(time_t t, char out[FW_TIME_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, FW_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

int state_time_parse(const char *s, time_t *t)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (!end || *end) {
		errno = EINVAL;
		return -1;
	}
	*t = timegm(&tm);
	return 0;
}

/* Copies s into a fixed field, cutting what does not fit. */
static void field_set(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "");
}

void state_meta_make(struct fw_state_meta *m, const char *doc, size_t len,
		     const char *by, time_t when)
{
	sha256_hex_of(doc, len, m->sha256);
	state_meta_stamp(m, by, when);
}

void state_meta_stamp(struct fw_state_meta *m, const char *by, time_t when)
{
	state_time_format(when, m->applied_at);
	field_set(m->applied_by, sizeof(m->applied_by), by);
}

static char *state_path(const char *dir, const char *name, const char *ext)
{
	return xasprintf("%s/%s%s", dir, name, ext);
}

/* Writes obj as formatted JSON plus a newline to dir/name. */
static int json_write(const char *dir, const char *name, const cJSON *obj)
{
	char *path = state_path(dir, name, ".json");
	char *text = cJSON_Print(obj);
	char *line;
	int rc, e;

	if (!text)
		abort();
	line = xasprintf("%s\n", text);
	rc = file_write_atomic(path, line, strlen(line), STATE_MODE);
	e = errno;
	cJSON_free(text);
	free(line);
	free(path);
	errno = e;
	return rc;
}

/* Reads dir/name.json as an object; NULL/errno (EBADMSG: not an object). */
static cJSON *json_read(const char *dir, const char *name)
{
	char *path = state_path(dir, name, ".json");
	size_t len;
	char *text = file_read(path, &len);
	cJSON *j = NULL;

	free(path);
	if (!text)
		return NULL;
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		errno = EBADMSG;
		return NULL;
	}
	return j;
}

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The text of a metadata file. */
static char *meta_text(const struct fw_state_meta *m)
{
	cJSON *j = cJSON_CreateObject();
	char *text, *line;

	cJSON_AddStringToObject(j, "sha256", m->sha256);
	cJSON_AddStringToObject(j, "applied_at", m->applied_at);
	cJSON_AddStringToObject(j, "applied_by", m->applied_by);
	text = cJSON_Print(j);
	if (!text)
		abort();
	line = xasprintf("%s\n", text);
	cJSON_free(text);
	cJSON_Delete(j);
	return line;
}

/* Metadata of which, if any and if it describes the document's hash. */
static void meta_read(const char *dir, const char *which,
		      struct fw_state_meta *m)
{
	char *name = xasprintf("%s.meta", which);
	cJSON *j = json_read(dir, name);

	free(name);
	m->applied_at[0] = m->applied_by[0] = '\0';
	if (j && !strcmp(json_str(j, "sha256"), m->sha256)) {
		field_set(m->applied_at, sizeof(m->applied_at),
			  json_str(j, "applied_at"));
		field_set(m->applied_by, sizeof(m->applied_by),
			  json_str(j, "applied_by"));
	}
	cJSON_Delete(j);
}

/*
 * dir/previous<ext>.link: a second name of active<ext> (a copy where the
 * file system has no hard links), renamed over previous<ext> next. The
 * new active file is written beside the old one and renamed over it, so
 * the active file exists at every moment, and nothing is copied. 1 made,
 * 0 there is no active<ext>, or -1/errno.
 */
static int prev_stage(const char *dir, const char *ext)
{
	char *src = state_path(dir, "active", ext);
	char *tmp = xasprintf("%s/previous%s.link", dir, ext);
	char *text;
	size_t len;
	int rc = 1, e = 0;

	unlink(tmp);
	if (link(src, tmp) < 0) {
		e = errno;
		rc = e == ENOENT ? 0 : -1;
		if (rc < 0 && (text = file_read(src, &len)) != NULL) {
			rc = file_write_atomic(tmp, text, len, STATE_MODE) == 0
				     ? 1
				     : -1;
			e = errno;
			free(text);
		} else if (rc < 0) {
			e = errno;
			rc = e == ENOENT ? 0 : -1;
		}
	}
	free(src);
	free(tmp);
	errno = e;
	return rc;
}

/*
 * previous := active, text and metadata; nothing if there is no active
 * one. Both second names are made before either replaces anything, so
 * that a failure leaves the previous pair as it was.
 */
static int state_rotate(const char *dir)
{
	static const char *const exts[] = {".json", ".meta.json"};
	int have[2] = {0, 0}, rc = 0, e = 0;
	char *link[2], *dst[2];

	for (size_t i = 0; i < 2; i++) {
		link[i] = xasprintf("%s/previous%s.link", dir, exts[i]);
		dst[i] = state_path(dir, "previous", exts[i]);
	}
	for (size_t i = 0; i < 2 && rc == 0; i++)
		if ((have[i] = prev_stage(dir, exts[i])) < 0) {
			rc = -1;
			e = errno;
		}
	for (size_t i = 0; i < 2 && rc == 0; i++)
		if (have[i] > 0 && rename(link[i], dst[i]) < 0) {
			rc = -1;
			e = errno;
		}
	for (size_t i = 0; i < 2; i++) {
		unlink(link[i]); /* if still there */
		free(link[i]);
		free(dst[i]);
	}
	errno = e;
	return rc;
}

/* The new active text, staged under a name of its own (tag): a fold
 * stages its text while a commit's is staged already. */
static int stage_as(const char *dir, const char *tag, const char *doc,
		    size_t len, struct fw_state_stage *st)
{
	char *name = state_path(dir, "active.json", tag);
	int rc = file_write_tmp(name, doc, len, STATE_MODE, FW_SYNC_START,
				&st->tmp);
	int e = errno;

	free(name);
	st->path = rc == 0 ? state_path(dir, "active", ".json") : NULL;
	errno = e;
	return rc;
}

int state_stage(const char *dir, const char *doc, size_t len,
		struct fw_state_stage *st)
{
	return stage_as(dir, "", doc, len, st);
}

/*
 * Both new files are on the disk before the old ones move: a crash
 * leaves the old pair or the new one (or, between the two renames, a text
 * whose metadata does not match, which is read as a text without
 * metadata). One sync of the directory makes the moves durable: two
 * disk flushes in all, where a file at a time took four.
 */
static int commit_staged(const char *dir, struct fw_state_stage *st,
			 const struct fw_state_meta *meta, bool rotate)
{
	char *mpath = state_path(dir, "active.meta", ".json");
	char *mtext = meta_text(meta), *mtmp = NULL;
	int rc = -1, e;

	/* The metadata is not worth a disk flush of its own: lost in a
	 * crash, the text is read as one without metadata. */
	if (file_sync(st->tmp) == 0 &&
	    file_write_tmp(mpath, mtext, strlen(mtext), STATE_MODE,
			   FW_SYNC_NONE, &mtmp) == 0 &&
	    (!rotate || state_rotate(dir) == 0) &&
	    rename(st->tmp, st->path) == 0) {
		/* The text is saved: without its metadata, should that
		 * rename fail, it reads as a text without metadata. */
		if (rename(mtmp, mpath) < 0)
			unlink(mpath);
		dir_sync(mpath);
		rc = 0;
	}
	e = errno;
	unlink(st->tmp); /* if still there */
	if (mtmp)
		unlink(mtmp);
	free(st->tmp);
	free(st->path);
	st->tmp = st->path = NULL;
	free(mtmp);
	free(mtext);
	free(mpath);
	errno = e;
	return rc;
}

int state_commit_staged(const char *dir, struct fw_state_stage *st,
			const struct fw_state_meta *meta, bool in_place)
{
	/* The text an edit made is what becomes the previous one. */
	if (state_fold(dir) < 0 && errno != ESTALE) {
		int e = errno;

		state_stage_drop(st);
		errno = e;
		return -1;
	}
	return commit_staged(dir, st, meta, !in_place);
}

void state_stage_drop(struct fw_state_stage *st)
{
	unlink(st->tmp);
	free(st->tmp);
	free(st->path);
	st->tmp = st->path = NULL;
}

int state_commit(const char *dir, const char *doc, size_t len,
		 const struct fw_state_meta *meta)
{
	struct fw_state_stage st;

	if (state_stage(dir, doc, len, &st) < 0)
		return -1;
	return state_commit_staged(dir, &st, meta, false);
}

/* --- edits -------------------------------------------------------------
 *
 * A quick apply changes a few bytes of a big text. It is saved as a
 * record (editlog.h) appended to dir/active.edit and synced: one small
 * write and one disk flush, where the whole text takes several. The
 * active text is then active.json with the records' edits made, and the
 * previous one the text before the last record. state_fold writes both
 * out whole, the usual way, and empties the file. Records count only for
 * the text they were made for: the first one's "from" is active.json's
 * hash, so records that a fold got past are stale, and ignored.
 */
#define EDITS_MAX 64		/* records before a fold is due */
#define EDITS_MAX_BYTES (4u << 20)

struct edits {
	char *buf;	  /* the file's bytes */
	size_t len, used; /* used: what its whole records take */
	struct fw_edit *v;
	size_t n;
};

static char *edits_path(const char *dir)
{
	return state_path(dir, "active", ".edit");
}

static void edits_read(const char *dir, struct edits *e)
{
	char *path = edits_path(dir);

	memset(e, 0, sizeof(*e));
	e->buf = file_read(path, &e->len);
	free(path);
	if (e->buf)
		e->used = editlog_parse(e->buf, e->len, &e->v, &e->n);
}

static void edits_free(struct edits *e)
{
	free(e->buf);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/*
 * Empties the edit log, synced: records a crash brought back would be
 * stale only until active.json is their text again (a rollback), and
 * would then be replayed. Failing that, removes the file: records left
 * whole would take the next edit as one of theirs. -1/errno.
 */
static int edits_clear(const char *dir)
{
	char *path = edits_path(dir);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), rc = -1;

	if (fd >= 0) {
		rc = fdatasync(fd);
		close(fd);
	}
	if (rc < 0 && errno != ENOENT && (rc = unlink(path)) == 0)
		dir_sync(path);
	if (rc < 0 && errno == ENOENT)
		rc = 0;
	free(path);
	return rc;
}

/*
 * active.json, read for e's records (*base, malloc'ed, and its hash in
 * sha, whenever it could be read): 1 when the records were made for it, 0
 * when they are stale (made for another text) or it is not there,
 * -1/errno when it cannot be read (the records may well be good: nothing
 * is to be concluded from them).
 */
static int edits_base(const char *dir, const struct edits *e, char **base,
		      size_t *blen, char sha[FW_SHA256_HEX_LEN])
{
	char *path = state_path(dir, "active", ".json");

	*base = file_read(path, blen);
	free(path);
	if (!*base)
		return errno == ENOENT ? 0 : -1;
	sha256_hex_of(*base, *blen, sha);
	return !strcmp(sha, e->v[0].from);
}

/*
 * The text the first k of e's records make of base (whose hash is bsha;
 * k 0: base itself), with its metadata: 1 with *doc (malloc'ed), *len
 * and *meta, or 0 when they do not make the text they say they make.
 */
static int edits_make(const char *dir, const char *base, size_t blen,
		      const char *bsha, const struct edits *e, size_t k,
		      char **doc, size_t *len, struct fw_state_meta *meta)
{
	char sha[FW_SHA256_HEX_LEN], *t;

	if (k == 0) {
		*doc = xmalloc(blen + 1);
		memcpy(*doc, base, blen + 1);
		*len = blen;
		memcpy(meta->sha256, bsha, FW_SHA256_HEX_LEN);
		meta_read(dir, "active", meta);
		return 1;
	}
	t = editlog_apply(base, blen, e->v, k, len);
	if (!t || strcmp(sha256_hex_of(t, *len, sha), e->v[k - 1].meta.sha256)) {
		free(t);
		return 0;
	}
	*doc = t;
	*meta = e->v[k - 1].meta;
	return 1;
}

/*
 * The text e's records make of active.json (with prev, all but the last
 * record): 1 with *doc, *len and *meta; 0 when there are no records or
 * they are stale (made for another text, or not making the text they
 * say they make); -1/errno when active.json cannot be read.
 */
static int edits_text(const char *dir, const struct edits *e, bool prev,
		      char **doc, size_t *len, struct fw_state_meta *meta)
{
	char sha[FW_SHA256_HEX_LEN], *base;
	size_t blen;
	int r;

	if (!e->n)
		return 0;
	r = edits_base(dir, e, &base, &blen, sha);
	if (r > 0)
		r = edits_make(dir, base, blen, sha, e, prev ? e->n - 1 : e->n,
			       doc, len, meta);
	free(base);
	return r;
}

int state_edit(const char *dir, const char *from_sha256, size_t at,
	       size_t cut, const char *put, size_t n,
	       const struct fw_state_meta *meta)
{
	char *path = edits_path(dir);
	struct fw_buf b = {0};
	struct edits ed;
	int fd, rc = -1, e;

	edits_read(dir, &ed);
	if (ed.n >= EDITS_MAX || ed.used > EDITS_MAX_BYTES) {
		errno = EBUSY; /* fold first */
		fd = -1;
		goto out;
	}
	if (ed.n && strcmp(from_sha256, ed.v[ed.n - 1].meta.sha256)) {
		errno = ESTALE; /* not an edit of the active text */
		fd = -1;
		goto out;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			  STATE_MODE);
		/* The file's name is durable once, when it is made, before
		 * anything depends on it. */
		if (fd >= 0)
			dir_sync(path);
	}
	if (fd < 0)
		goto out;
	editlog_encode(&b, from_sha256, at, cut, put, n, meta);
	/* After the whole records: a tail a crash cut short goes. */
	if ((ed.len > ed.used && ftruncate(fd, (off_t)ed.used) < 0) ||
	    lseek(fd, (off_t)ed.used, SEEK_SET) < 0 ||
	    write_all(fd, b.s, b.len) < 0 || fdatasync(fd) < 0) {
		e = errno;
		/* A record that did not make it must not count later. */
		if (ftruncate(fd, (off_t)ed.used) < 0 && unlink(path) == 0)
			dir_sync(path);
		errno = e;
		goto out;
	}
	rc = 0;
out:
	e = errno;
	if (fd >= 0)
		close(fd);
	edits_free(&ed);
	buf_free(&b);
	free(path);
	errno = e;
	return rc;
}

/* dir/previous.json and its metadata written whole (not a second name of
 * the active text: it is no longer the text before the edited one). */
static int previous_write(const char *dir, const char *doc, size_t len,
			  const struct fw_state_meta *meta)
{
	char *path = state_path(dir, "previous", ".json");
	char *mpath = state_path(dir, "previous.meta", ".json");
	char *mtext = meta_text(meta);
	int rc = file_write_atomic(path, doc, len, STATE_MODE);

	if (rc == 0 && file_replace(mpath, mtext, strlen(mtext), STATE_MODE) < 0)
		unlink(mpath);
	free(path);
	free(mpath);
	free(mtext);
	return rc;
}

int state_fold(const char *dir)
{
	struct fw_state_stage st;
	struct fw_state_meta am, pm;
	struct edits ed;
	char *base = NULL, *a = NULL, *p = NULL, sha[FW_SHA256_HEX_LEN];
	size_t blen, alen, plen;
	int rc;

	edits_read(dir, &ed);
	if (!ed.n) {
		rc = ed.len ? edits_clear(dir) : 0; /* a record cut short */
		edits_free(&ed);
		return rc;
	}
	/* active.json read once: for the edited text and, with more than
	 * one record, for the text before the last one. */
	rc = edits_base(dir, &ed, &base, &blen, sha);
	if (rc > 0)
		rc = edits_make(dir, base, blen, sha, &ed, ed.n, &a, &alen,
				&am) &&
		     (ed.n == 1 || edits_make(dir, base, blen, sha, &ed,
					      ed.n - 1, &p, &plen, &pm));
	if (rc <= 0) {
		/* Unreadable: the records stay. Stale: folded already if
		 * active.json is what they made, else they did not fit. */
		bool folded = base && !strcmp(sha, ed.v[ed.n - 1].meta.sha256);

		free(base);
		free(a);
		edits_free(&ed);
		if (rc < 0)
			return -1;
		if (edits_clear(dir) < 0)
			return -1;
		if (folded)
			return 0;
		errno = ESTALE;
		return -1;
	}
	free(base);
	/* One record: the text before it is active.json, which a rotation
	 * keeps. More: the text before the last one is written whole. */
	rc = (ed.n == 1 || previous_write(dir, p, plen, &pm) == 0) &&
			     stage_as(dir, ".fold", a, alen, &st) == 0 &&
			     commit_staged(dir, &st, &am, ed.n == 1) == 0
		     ? 1
		     : -1;
	free(a);
	free(p);
	edits_free(&ed);
	if (rc > 0 && edits_clear(dir) < 0)
		return -1;
	return rc;
}

int state_load(const char *dir, const char *which, char **doc, size_t *len,
	       struct fw_state_meta *meta)
{
	struct fw_state_meta m;
	struct edits ed;
	bool prev;
	char *path;
	int e, r;

	if (strcmp(which, "active") && strcmp(which, "previous")) {
		errno = EINVAL;
		return -1;
	}
	prev = !strcmp(which, "previous");
	edits_read(dir, &ed);
	r = edits_text(dir, &ed, prev, doc, len, &m);
	if (r != 0) {
		edits_free(&ed);
		if (r > 0 && meta)
			*meta = m;
		return r > 0 ? 0 : -1;
	}
	path = state_path(dir, which, ".json");
	*doc = file_read(path, len);
	e = errno;
	free(path);
	if (!*doc) {
		edits_free(&ed);
		errno = e;
		return -1;
	}
	if (meta) {
		sha256_hex_of(*doc, *len, meta->sha256);
		meta_read(dir, which, meta);
		/* A fold cut short after the text but before its metadata:
		 * the last record knows who applied it. */
		if (ed.n && !prev && !meta->applied_at[0] &&
		    !strcmp(meta->sha256, ed.v[ed.n - 1].meta.sha256))
			*meta = ed.v[ed.n - 1].meta;
	}
	edits_free(&ed);
	return 0;
}

int state_pending_write(const char *dir, const struct fw_pending *p)
{
	cJSON *j = cJSON_CreateObject();
	char when[FW_TIME_LEN];
	int rc, e;

	cJSON_AddStringToObject(j, "deadline",
				state_time_format(p->deadline, when));
	cJSON_AddStringToObject(j, "sha256", p->sha256);
	cJSON_AddStringToObject(j, "previous_sha256", p->previous_sha256);
	cJSON_AddStringToObject(j, "applied_by", p->applied_by);
	rc = json_write(dir, "pending", j);
	e = errno;
	cJSON_Delete(j);
	errno = e;
	return rc;
}

int state_pending_read(const char *dir, struct fw_pending *p)
{
	cJSON *j = json_read(dir, "pending");
	int rc;

	if (!j)
		return -1;
	memset(p, 0, sizeof(*p));
	rc = state_time_parse(json_str(j, "deadline"), &p->deadline);
	field_set(p->sha256, sizeof(p->sha256), json_str(j, "sha256"));
	field_set(p->previous_sha256, sizeof(p->previous_sha256),
		  json_str(j, "previous_sha256"));
	field_set(p->applied_by, sizeof(p->applied_by),
		  json_str(j, "applied_by"));
	cJSON_Delete(j);
	if (rc < 0)
		errno = EBADMSG;
	return rc;
}

int state_pending_remove(const char *dir)
{
	char *path = state_path(dir, "pending", ".json");
	int rc = unlink(path);
	int e = errno;

	/* A confirmed apply must not come back as pending after a crash. */
	if (rc == 0)
		dir_sync(path);
	free(path);
	if (rc < 0 && e == ENOENT)
		return 0;
	errno = e;
	return rc;
}
