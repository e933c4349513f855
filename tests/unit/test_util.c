// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_util: file views (fwctl's way of reading a policy): a regular file
 * is mapped, anything else read; a mapped file cut short while a function
 * reads it makes file_view_run fail with EIO instead of killing the
 * process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "util.h"

/* Reads every byte; returns their sum's low bit plus 1 (1 or 2). */
static int touch_all(const char *s, size_t n, void *arg)
{
	unsigned sum = 0;

	(void)arg;
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)s[i];
	return 1 + (int)(sum & 1);
}

/* Cuts the file (arg) to nothing, then reads what was mapped. */
static int cut_then_read(const char *s, size_t n, void *arg)
{
	if (truncate(arg, 0) < 0)
		return -2;
	return touch_all(s, n, NULL);
}

/* fwd.service's umask is 0077: the metrics file must still be 0644. */
static void test_mode(const char *dir)
{
	char path[80];
	struct stat st;
	mode_t old = umask(077);

	snprintf(path, sizeof(path), "%s/m.prom", dir);
	T_OK(file_replace(path, "x\n", 2, 0644) == 0 && stat(path, &st) == 0 &&
		     (st.st_mode & 0777) == 0644,
	     "file_replace gives the mode asked for under umask 077");
	umask(old);
	unlink(path);
}

int main(void)
{
	char dir[] = "/tmp/fwd-test-util.XXXXXX", path[64], empty[64];
	struct fw_view v;
	size_t n = 3 * 4096 + 17;
	char *data = malloc(n);
	FILE *f;

	if (!data || !mkdtemp(dir))
		return 2;
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	snprintf(path, sizeof(path), "%s/p.json", dir);
	snprintf(empty, sizeof(empty), "%s/empty.json", dir);
	f = fopen(path, "w");
	fwrite(data, 1, n, f);
	fclose(f);
	fclose(fopen(empty, "w"));

	T_OK(file_view(path, &v) == 0 && v.mapped && v.len == n &&
		     !memcmp(v.s, data, n),
	     "a regular file is mapped, its bytes as written");
	T_OK(file_view_run(&v, touch_all, NULL) >= 1,
	     "file_view_run returns the function's value");
	file_view_free(&v);
	T_OK(v.s == NULL && v.len == 0, "file_view_free empties the view");

	T_OK(file_view(empty, &v) == 0 && !v.mapped && v.len == 0 &&
		     v.s && v.s[0] == '\0',
	     "an empty file is read (nothing to map), NUL-terminated");
	file_view_free(&v);
	T_OK(file_view("/dev/null", &v) == 0 && !v.mapped && v.len == 0,
	     "a file that is not regular is read");
	T_OK(file_view_run(&v, touch_all, NULL) == 1,
	     "file_view_run on a read view calls the function");
	file_view_free(&v);
	errno = 0;
	T_OK(file_view("/nonexistent/p.json", &v) == -1 && errno == ENOENT &&
		     v.s == NULL,
	     "a missing file: -1/ENOENT");

	T_OK(file_view(path, &v) == 0 && v.mapped, "mapped again");
	errno = 0;
	T_OK(file_view_run(&v, cut_then_read, path) == -1 && errno == EIO,
	     "a mapped file cut short while read: -1/EIO, no SIGBUS death");
	T_OK(file_view_run(&v, touch_all, NULL) == -1 && errno == EIO,
	     "and again (the handler is set each time)");
	file_view_free(&v);

	test_mode(dir);
	unlink(path);
	unlink(empty);
	rmdir(dir);
	free(data);
	return t_done();
}
