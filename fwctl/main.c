// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fwctl: the command-line client. Offline commands (check, compile) run the
 * shared policy and plan code; the others talk to fwd over its socket.
 * Exit status: 0 success, 1 failure/invalid policy, 2 usage, 3 no daemon.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwctl.h"

static void usage(FILE *f)
{
	fputs("usage: fwctl [-s SOCKET] [--json] COMMAND ...\n"
	      "       fwctl --version | --help\n"
	      "\n"
	      "  check [--included] FILE...  validate policies (offline)\n"
	      "  compile [--table NAME] FILE\n"
	      "                           print the nftables ruleset (offline)\n"
	      "  apply FILE [--confirm SECS] [--dry-run] [--force]\n"
	      "  confirm                  keep a pending --confirm apply\n"
	      "  rollback                 go back to the previous policy\n"
	      "  diff FILE [--exit-code]  what applying FILE would change\n"
	      "  status [--watch SECS]    counters per rule, with rates\n"
	      "  show                     the running policy and ruleset\n"
	      "  metrics                  Prometheus text exposition\n"
	      "  version                  versions of fwctl and fwd\n"
	      "\n"
	      "FWD_SOCKET overrides the default socket " FWCTL_SOCKET ".\n",
	      f);
}

static const struct fwctl_cmd *find_cmd(const char *name)
{
	for (const struct fwctl_cmd *c = fwctl_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int main(int argc, char **argv)
{
	struct fwctl_opts o = {.socket = getenv("FWD_SOCKET")};
	const struct fwctl_cmd *cmd;
	int i = 1;

	if (!o.socket || !*o.socket)
		o.socket = FWCTL_SOCKET;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			o.json = true;
		} else if ((!strcmp(argv[i], "-s") ||
			    !strcmp(argv[i], "--socket")) &&
			   i + 1 < argc) {
			o.socket = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") ||
			   !strcmp(argv[i], "--version")) {
			/* fwctl's own (the version command asks fwd too). */
			printf("fwctl %s\n", FW_VERSION);
			return FWCTL_OK;
		} else if (!strcmp(argv[i], "-s") ||
			   !strcmp(argv[i], "--socket")) {
			fprintf(stderr, "fwctl: %s needs an argument (the "
					"socket's path)\n",
				argv[i]);
			usage(stderr);
			return FWCTL_USAGE;
		} else {
			fprintf(stderr, "fwctl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return FWCTL_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return FWCTL_USAGE;
	}
	cmd = find_cmd(argv[i]);
	if (!cmd) {
		fprintf(stderr, "fwctl: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return FWCTL_USAGE;
	}
	/* "--json" is also accepted after the command, as scripts write it. */
	for (int j = i + 1; j < argc; j++)
		if (!strcmp(argv[j], "--json")) {
			o.json = true;
			memmove(&argv[j], &argv[j + 1],
				(size_t)(argc - j) * sizeof(*argv));
			argc--;
			j--;
		}
	return cmd->run(&o, argc - i - 1, argv + i + 1);
}
