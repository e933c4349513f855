/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * editlog: the records of quick edits to the active policy's text, as
 * state keeps them in active.edit: encoding, decoding, applying. Bytes
 * only; state.c reads and writes the file. A record is
 *	{"v": 1, "from": SHA, "to": SHA, "at": N, "cut": N, "put": N,
 *	 "applied_at": "...", "applied_by": "..."} and a newline,
 *	the put bytes,
 *	the SHA-256 of the record so far, in hex, and a newline:
 * the text whose hash is "from", with bytes [at, at + cut) replaced by
 * the put bytes, is the text whose hash is "to". Records follow each
 * other, each one's "from" the "to" of the one before.
 */
#ifndef FW_EDITLOG_H
#define FW_EDITLOG_H

#include <stddef.h>

#include "state.h"
#include "util.h"

struct fw_edit {
	char from[FW_SHA256_HEX_LEN];
	size_t at, cut, put;
	const char *bytes;	   /* the put bytes, in the parsed buffer */
	struct fw_state_meta meta; /* of the edited text (sha256: "to") */
};

/*
 * The whole records that begin buf[0..len) and follow each other: *n of
 * them in *v (malloc'ed, pointing into buf). Returns the bytes they take;
 * what comes after (a record cut short by a crash, a changed byte, one
 * that does not follow) counts for nothing.
 */
size_t editlog_parse(const char *buf, size_t len, struct fw_edit **v,
		     size_t *n);

/* Adds the record of an edit to b. */
void editlog_encode(struct fw_buf *b, const char *from_sha256, size_t at,
		    size_t cut, const char *put, size_t n,
		    const struct fw_state_meta *meta);

/*
 * text[0..len) with the edits v[0..n) made in turn: malloc'ed and
 * NUL-terminated, its length in *out_len; NULL when one does not fit the
 * text (its bytes lie past the end). Hashes are the caller's to check.
 */
char *editlog_apply(const char *text, size_t len, const struct fw_edit *v,
		    size_t n, size_t *out_len);

#endif
