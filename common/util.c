// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * util: allocation that aborts on failure, growable buffers, whole-file
 * reads and atomic writes. No policy or protocol knowledge here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void oom(void)
{
	fputs("out of memory\n", stderr);
	abort();
}

bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

void xgrow(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t c = *cap;

	if (n < c)
		return;
	c = c ? c * 2 : 8;
	while (c <= n)
		c *= 2;
	*v = xrealloc(*v, c * sz);
	*cap = c;
}

void buf_add(struct fw_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 256;

		while (c < b->len + n + 1)
			c *= 2;
		b->s = xrealloc(b->s, c);
		b->cap = c;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void buf_printf(struct fw_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	buf_add(b, s, (size_t)n);
	free(s);
}

void buf_free(struct fw_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

char *file_read(const char *path, size_t *len)
{
	struct fw_buf b = {0};
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	/* A file's size is a good guess (reads go straight into the
	 * buffer); what else comes, or whatever a pipe gives, grows it. */
	b.cap = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0
			? (size_t)st.st_size + 2 /* room to see the end */
			: 65536;
	b.s = xmalloc(b.cap);
	for (;;) {
		if (b.cap - b.len < 2) {
			b.cap *= 2;
			b.s = xrealloc(b.s, b.cap);
		}
		n = read(fd, b.s + b.len, b.cap - b.len - 1);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;

			close(fd);
			buf_free(&b);
			errno = e;
			return NULL;
		}
		b.len += (size_t)n;
	}
	close(fd);
	b.s[b.len] = '\0';
	if (len)
		*len = b.len;
	return b.s;
}

int file_view(const char *path, struct fw_view *v)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	v->s = NULL;
	v->len = 0;
	v->mapped = false;
	v->fd = -1;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
			 0);
		if (p == MAP_FAILED) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		v->s = p;
		v->len = (size_t)st.st_size;
		v->mapped = true;
		v->fd = fd;
		return 0;
	}
	close(fd);
	v->s = file_read(path, &v->len);
	return v->s ? 0 : -1;
}

void file_view_free(struct fw_view *v)
{
	if (v->mapped)
		munmap((void *)v->s, v->len);
	else
		free((void *)v->s);
	if (v->fd >= 0)
		close(v->fd);
	v->s = NULL;
	v->len = 0;
	v->mapped = false;
	v->fd = -1;
}

static sigjmp_buf view_cut;

static void on_view_cut(int sig)
{
	(void)sig;
	siglongjmp(view_cut, 1);
}

int file_view_run(const struct fw_view *v,
		  int (*fn)(const char *s, size_t len, void *arg), void *arg)
{
	struct sigaction sa = {.sa_handler = on_view_cut}, old;
	volatile int r = -1;

	if (!v->mapped)
		return fn(v->s, v->len, arg);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(view_cut, 1) == 0)
		r = fn(v->s, v->len, arg);
	else
		errno = EIO;
	sigaction(SIGBUS, &old, NULL);
	return r;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_tmp(const char *path, const void *data, size_t len, int mode,
		   enum fw_sync sync, char **tmp)
{
	int fd, e;

	*tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	fd = open(*tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		goto fail;
	/* The mode asked for, whatever the umask (fwd.service's is 0077; the
	 * metrics file is for node_exporter to read). FW_SYNC_START: the
	 * disk starts on it while the caller goes on. */
	if (fchmod(fd, (mode_t)mode) < 0 || write_all(fd, data, len) < 0 ||
	    (sync == FW_SYNC_NOW && fsync(fd) < 0) ||
	    (sync == FW_SYNC_START &&
	     sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0 &&
	     errno != ENOSYS)) {
		e = errno;
		close(fd);
		unlink(*tmp);
		errno = e;
		goto fail;
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(*tmp);
		errno = e;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	free(*tmp);
	*tmp = NULL;
	errno = e;
	return -1;
}

int file_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc, e;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

void dir_sync(const char *path)
{
	char *dcopy = xstrdup(path);
	int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dcopy);
}

/* The temporary file, renamed over path (or removed). */
static int put_in_place(char *tmp, const char *path)
{
	int e, rc = rename(tmp, path);

	if (rc < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return rc;
}

int file_write_atomic(const char *path, const void *data, size_t len,
		      int mode)
{
	char *tmp;

	if (file_write_tmp(path, data, len, mode, FW_SYNC_NOW, &tmp) < 0 ||
	    put_in_place(tmp, path) < 0)
		return -1;
	/* The rename is durable only once the directory is synced. */
	dir_sync(path);
	return 0;
}

int file_replace(const char *path, const void *data, size_t len, int mode)
{
	char *tmp;

	if (file_write_tmp(path, data, len, mode, FW_SYNC_NONE, &tmp) < 0)
		return -1;
	return put_in_place(tmp, path);
}
