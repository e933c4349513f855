/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwctl: shared declarations of the client's command modules. */
#ifndef FWCTL_H
#define FWCTL_H

#include <stdbool.h>

#include "diag.h"

#define FWCTL_SOCKET "/run/fwd/fwd.sock"

enum { FWCTL_OK = 0, FWCTL_FAIL = 1, FWCTL_USAGE = 2, FWCTL_NODAEMON = 3 };

struct fwctl_opts {
	const char *socket;
	bool json;
	bool compact; /* JSON on one line (status --json --watch) */
};

struct fwctl_cmd {
	const char *name;
	int (*run)(const struct fwctl_opts *o, int argc, char **argv);
};

extern const struct fwctl_cmd fwctl_cmds[];

/* Prints diagnostics, one "file: path: message" per line, to stderr. */
void fwctl_print_diags(const struct fw_diags *d);
/* Appends diagnostics to a JSON list as {"file", "path", "message"}. */
struct cJSON;
void fwctl_diags_json(struct cJSON *arr, const struct fw_diags *d);

int cmd_check(const struct fwctl_opts *o, int argc, char **argv);
int cmd_compile(const struct fwctl_opts *o, int argc, char **argv);
int cmd_apply(const struct fwctl_opts *o, int argc, char **argv);
int cmd_status(const struct fwctl_opts *o, int argc, char **argv);
int cmd_show(const struct fwctl_opts *o, int argc, char **argv);
int cmd_confirm(const struct fwctl_opts *o, int argc, char **argv);
int cmd_rollback(const struct fwctl_opts *o, int argc, char **argv);
int cmd_diff(const struct fwctl_opts *o, int argc, char **argv);
int cmd_metrics(const struct fwctl_opts *o, int argc, char **argv);
int cmd_version(const struct fwctl_opts *o, int argc, char **argv);

#endif
