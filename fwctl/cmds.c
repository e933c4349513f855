// SPDX-License-Identifier: GPL-2.0-or-later
/* cmds: the table of fwctl's commands, a flat dispatch. */
#include <stddef.h>

#include "fwctl.h"

const struct fwctl_cmd fwctl_cmds[] = {
	{"check", cmd_check},
	{"compile", cmd_compile},
	{"apply", cmd_apply},
	{"status", cmd_status},
	{"show", cmd_show},
	{"confirm", cmd_confirm},
	{"rollback", cmd_rollback},
	{"diff", cmd_diff},
	{"metrics", cmd_metrics},
	{"version", cmd_version},
	{NULL, NULL},
};
