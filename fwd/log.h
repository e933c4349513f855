/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log: the daemon's log lines, to stderr in the foreground, else syslog
 * (ident "fwd", facility LOG_DAEMON). One line per call, no trailing '\n'.
 */
#ifndef FW_LOG_H
#define FW_LOG_H

#include <stdbool.h>

/* Before log_init, lines go to stderr. */
void log_init(bool foreground);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn with ": strerror(errno)" appended; errno is preserved. */
void log_warn_errno(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_err with ": strerror(errno)" appended; errno is preserved. */
void log_err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
