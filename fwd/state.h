/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state: what fwd keeps on disk in its state directory: the active and the
 * previous policy (the exact bytes received) with metadata, the edit log
 * of quick applies (records of changes to the active text), and a pending
 * confirmation. Storage only; deciding what to keep is the caller's.
 */
#ifndef FW_STATE_H
#define FW_STATE_H

#include <stddef.h>
#include <time.h>

#include "sha256.h"

#define FW_STATE_DIR "/var/lib/fwd"
#define FW_TIME_LEN 32	/* "2024-05-01T12:00:00Z" and the NUL, with room */
#define FW_BY_LEN 128

/*
 * Files in the directory (0700), each written to a temporary file and
 * renamed over the old one, mode 0600 (synced unless noted):
 *	active.json, previous.json		policy documents (the
 *						 active one as the edit
 *						 log makes it)
 *	active.meta.json, previous.meta.json	{"sha256", "applied_at",
 *						 "applied_by"} (not synced
 *						 on its own)
 *	pending.json				an unconfirmed apply
 *	active.edit				the edit log: records of
 *						 changes to active.json
 *						 (appended, synced)
 * and, written by the daemon itself: kernel.json (which kernel generation
 * holds which plan; not synced) and digest.key (the key of plan digests).
 */
struct fw_state_meta {
	char sha256[FW_SHA256_HEX_LEN];	/* of the document's bytes */
	char applied_at[FW_TIME_LEN];	/* RFC 3339 UTC; "" if unknown */
	char applied_by[FW_BY_LEN];	/* peer name; "" if unknown */
};

struct fw_pending {
	time_t deadline;		/* wall clock: survives reboots */
	char sha256[FW_SHA256_HEX_LEN];		/* the unconfirmed policy */
	char previous_sha256[FW_SHA256_HEX_LEN]; /* what rollback restores */
	char applied_by[FW_BY_LEN];
};

/* Creates dir 0700 if missing. -1/errno (ENOTDIR if not a directory). */
int state_init(const char *dir);

/* Fills m for doc applied by whom (may be NULL) at when. */
void state_meta_make(struct fw_state_meta *m, const char *doc, size_t len,
		     const char *by, time_t when);
/* The same for a text whose hash m->sha256 holds already. */
void state_meta_stamp(struct fw_state_meta *m, const char *by, time_t when);

/*
 * The current active policy becomes the previous one, then doc becomes
 * active. A crash in between leaves either the old or the new active
 * document; state_load notices metadata that does not match its document.
 * Committing the active document again makes previous equal active, so
 * callers skip the commit for an unchanged policy. -1/errno.
 */
int state_commit(const char *dir, const char *doc, size_t len,
		 const struct fw_state_meta *meta);
/*
 * state_commit in two steps, so that the disk writes the text while the
 * caller works out its metadata (its hash): state_stage writes the new
 * text beside the active one, state_commit_staged makes it the active
 * one (or, failing, removes it); in_place: without making the active one
 * the previous one (a text of the same policy, written otherwise).
 * -1/errno.
 */
struct fw_state_stage {
	char *path, *tmp;
};
int state_stage(const char *dir, const char *doc, size_t len,
		struct fw_state_stage *st);
int state_commit_staged(const char *dir, struct fw_state_stage *st,
			const struct fw_state_meta *meta, bool in_place);
/* Removes a staged text that is not to be committed after all. */
void state_stage_drop(struct fw_state_stage *st);

/*
 * The quick save of a text that differs from the active one in one span:
 * the active text (whose hash is from_sha256) with bytes [at, at + cut)
 * replaced by put[0..n) is the text meta describes. One small record
 * appended and synced (one disk flush); state_load reads the edited text
 * as the active one from then on, and the text before it as the previous
 * one. state_fold turns the records into whole files. -1/errno (EBUSY:
 * records enough wait to be folded; ESTALE: from_sha256 is not what the
 * last record made): then commit the whole text instead. With no records
 * yet, from_sha256 is trusted to be active.json's; a record it is wrong
 * for is ignored when loading, and a fold says ESTALE.
 */
int state_edit(const char *dir, const char *from_sha256, size_t at,
	       size_t cut, const char *put, size_t n,
	       const struct fw_state_meta *meta);
/*
 * Folds the edit log into whole files, as state_commit would have written
 * them: the text before the last record becomes the previous one, the
 * edited text the active one; then the log is emptied. 1 done, 0 nothing
 * to fold, -1/errno (ESTALE: the records did not fit active.json, which
 * stays the active text; they are gone. Anything else: the log stays, and
 * loads as before). state_commit folds first, so its rotation keeps the
 * edited text.
 */
int state_fold(const char *dir);

/*
 * Loads which ("active" or "previous"): *doc is malloc'ed and
 * NUL-terminated. meta->sha256 is always the hash of the bytes loaded;
 * applied_at and applied_by are "" when the metadata is missing or belongs
 * to other bytes. -1/errno (ENOENT: no such policy, EINVAL: bad which).
 */
int state_load(const char *dir, const char *which, char **doc, size_t *len,
	       struct fw_state_meta *meta);

int state_pending_write(const char *dir, const struct fw_pending *p);
/* -1/ENOENT when nothing is pending, -1/EBADMSG when unreadable. */
int state_pending_read(const char *dir, struct fw_pending *p);
/* Removes the record; 0 if there was none. */
int state_pending_remove(const char *dir);

/* RFC 3339 UTC ("2024-05-01T12:00:00Z"); returns out. */
char *state_time_format(time_t t, char out[FW_TIME_LEN]);
/* Parses what state_time_format writes. -1/EINVAL. */
int state_time_parse(const char *s, time_t *t);

#endif
