/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util: allocation that aborts on failure, small string helpers. */
#ifndef FW_UTIL_H
#define FW_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Equal strings, or both NULL. */
bool str_eq(const char *a, const char *b);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grows *v (of *cap elements of size sz) so that index n fits. */
void xgrow(void **v, size_t *cap, size_t n, size_t sz);

/* A growable string buffer. */
struct fw_buf {
	char *s;
	size_t len, cap;
};
void buf_printf(struct fw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_add(struct fw_buf *b, const void *p, size_t n);
void buf_free(struct fw_buf *b);

/* Reads a whole file (NUL-terminated). NULL with errno on failure. */
char *file_read(const char *path, size_t *len);
/*
 * A file's bytes, read-only and not copied: a regular file is mapped (the
 * page cache's own pages) and stays open (fd), anything else (a pipe) is
 * read (fd -1). Only a read view is NUL-terminated. A mapped file cut
 * short meanwhile raises SIGBUS where its lost pages are read. -1/errno.
 */
struct fw_view {
	const char *s;
	size_t len;
	bool mapped;
	int fd;
};
int file_view(const char *path, struct fw_view *v);
void file_view_free(struct fw_view *v);
/* fn(v->s, v->len, arg) with SIGBUS caught (a single-threaded caller's):
 * fn's value, or -1/EIO if the mapped file was cut short meanwhile. */
int file_view_run(const struct fw_view *v,
		  int (*fn)(const char *s, size_t len, void *arg), void *arg);
/* write(2) until all of data is written. -1/errno. */
int write_all(int fd, const void *data, size_t len);
/* Writes path atomically: tmp file, fsync, rename, fsync dir. -1/errno.
 * Here and below, the file gets mode exactly, whatever the umask. */
int file_write_atomic(const char *path, const void *data, size_t len,
		      int mode);
/* The same, atomic for readers but not synced: for files that only matter
 * while the machine runs (a cache of kernel state, metrics). */
int file_replace(const char *path, const void *data, size_t len, int mode);
enum fw_sync {
	FW_SYNC_NONE,
	FW_SYNC_NOW,  /* fsync */
	FW_SYNC_START /* the disk writes start; fsync later, by path */
};
/* Writes data to a new file beside path (*tmp, malloc'ed; NULL on
 * failure), synced as sync says: the first half of file_write_atomic,
 * for writing several files before renaming any. */
int file_write_tmp(const char *path, const void *data, size_t len, int mode,
		   enum fw_sync sync, char **tmp);
/* fsync of the file at path. -1/errno. */
int file_sync(const char *path);
/* Syncs the directory holding path: a rename in it is then durable. */
void dir_sync(const char *path);

#endif
