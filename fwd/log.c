// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log: formats one line and sends it to stderr (foreground) or syslog.
 * It never exits and never allocates; lines longer than 1 KiB are cut.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static bool log_foreground = true;

void log_init(bool foreground)
{
	log_foreground = foreground;
	if (!foreground)
		openlog("fwd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void log_emit(int prio, bool with_errno, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_emit(int prio, bool with_errno, const char *fmt, va_list ap)
{
	int e = errno;
	char line[1024];
	const char *tag = prio == LOG_ERR ? "error: " :
			  prio == LOG_WARNING ? "warning: " : "";

	vsnprintf(line, sizeof(line), fmt, ap);
	if (with_errno) {
		size_t n = strlen(line);

		snprintf(line + n, sizeof(line) - n, ": %s", strerror(e));
	}
	if (log_foreground)
		fprintf(stderr, "fwd: %s%s\n", tag, line);
	else
		syslog(prio, "%s", line);
	errno = e;
}

#define LOG_FN(name, prio, with_errno)                                       \
	void name(const char *fmt, ...)                                      \
	{                                                                    \
		va_list ap;                                                  \
									     \
		va_start(ap, fmt);                                           \
		log_emit(prio, with_errno, fmt, ap);                         \
		va_end(ap);                                                  \
	}

LOG_FN(log_info, LOG_INFO, false)
LOG_FN(log_warn, LOG_WARNING, false)
LOG_FN(log_warn_errno, LOG_WARNING, true)
LOG_FN(log_err, LOG_ERR, false)
LOG_FN(log_err_errno, LOG_ERR, true)
