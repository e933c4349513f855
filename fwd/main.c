// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fwd: the daemon's entry point -- options, then the saved policy into the
 * kernel, then the control socket, then the event loop until SIGTERM.
 * Stopping never touches the ruleset: the host stays filtered.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "plan.h"
#include "server.h"
#include "state.h"

struct opts {
	const char *socket, *statedir, *group, *table, *textfile;
	bool foreground, no_lock;
	struct fw_server_limits limits;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fwd [-s SOCKET] [-d STATEDIR] [-g GROUP] [-t TABLE] [-f]\n"
		"           [--textfile PATH]\n"
		"  -s, --socket PATH     control socket (/run/fwd/fwd.sock)\n"
		"  -d, --statedir DIR    saved policies (" FW_STATE_DIR ")\n"
		"  -g, --group GROUP     may change the policy (fwadm)\n"
		"  -t, --table NAME      the inet table fwd owns (" FW_TABLE_DEFAULT
		")\n"
		"  -f, --foreground      log to stderr instead of syslog\n"
		"      --textfile PATH   metrics for node_exporter's textfile "
		"collector\n"
		"      --max-clients N   control connections at once (256)\n"
		"      --max-frame BYTES largest request (67108864)\n"
		"      --idle-timeout S  close connections idle this long (30)\n"
		"      --no-lock         let other processes change the table "
		"(fwd repairs it)\n");
}

static int limit(struct opts *o, int c, const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*end || !v || v > 0xffffffffUL) {
		fprintf(stderr, "fwd: %s is not a positive number\n", arg);
		return -1;
	}
	if (c == 'C')
		o->limits.max_clients = (unsigned)v;
	else if (c == 'M')
		o->limits.max_frame = (uint32_t)v;
	else if (v <= 86400)
		o->limits.idle_timeout_ms = (unsigned)v * 1000;
	else
		return -1;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"socket", required_argument, NULL, 's'},
		{"statedir", required_argument, NULL, 'd'},
		{"group", required_argument, NULL, 'g'},
		{"table", required_argument, NULL, 't'},
		{"foreground", no_argument, NULL, 'f'},
		{"textfile", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"max-clients", required_argument, NULL, 'C'},
		{"max-frame", required_argument, NULL, 'M'},
		{"idle-timeout", required_argument, NULL, 'I'},
		{"no-lock", no_argument, NULL, 'L'},
		{NULL, 0, NULL, 0}};
	const char *why;
	int c;

	while ((c = getopt_long(argc, argv, "s:d:g:t:fhV", longs, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'd': o->statedir = optarg; break;
		case 'g': o->group = optarg; break;
		case 't': o->table = optarg; break;
		case 'f': o->foreground = true; break;
		case 'T': o->textfile = optarg; break;
		case 'L': o->no_lock = true; break;
		case 'C':
		case 'M':
		case 'I':
			if (limit(o, c, optarg) < 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("fwd %s\n", FW_VERSION); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	why = plan_table_name_problem(o->table);
	if (why) {
		fprintf(stderr, "fwd: --table %s: %s\n", o->table, why);
		return -1;
	}
	return 0;
}

static void on_stop(void *arg, int signo)
{
	log_info("signal %d: exiting; the ruleset stays in place", signo);
	loop_stop(arg);
}

static void on_hup(void *arg, int signo)
{
	(void)signo;
	daemon_reload(arg);
}

static int run(const struct opts *o)
{
	struct fw_daemon_config dc = {o->statedir, o->table, o->textfile,
				      o->no_lock};
	struct fw_server_config sc = {.path = o->socket, .group = o->group,
				      .limits = o->limits};
	struct fw_daemon *d;
	struct fw_server *srv;
	struct fw_loop *loop;
	int rc = 1;

	if (state_init(o->statedir) < 0) {
		log_err_errno("cannot use state directory %s", o->statedir);
		return 1;
	}
	d = daemon_new(&dc);
	if (!d) {
		log_err_errno("cannot open a netfilter netlink socket");
		return 1;
	}
	/* The saved policy goes in before any client is served. */
	if (daemon_start(d) < 0)
		log_err("the saved policy was not loaded; serving clients so "
			"that a new one can be applied");
	loop = loop_new();
	if (loop)
		daemon_attach(d, loop); /* an expired confirmation rolls back here */
	sc.handlers = daemon_handlers();
	sc.ctx = d;
	srv = loop ? server_new(loop, &sc) : NULL;
	if (!srv) {
		log_err_errno("cannot listen on %s", o->socket);
		goto out;
	}
	loop_signal_add(loop, SIGTERM, on_stop, loop);
	loop_signal_add(loop, SIGINT, on_stop, loop);
	loop_signal_add(loop, SIGHUP, on_hup, d);
	log_info("fwd %s serving %s (table inet %s, state %s)", FW_VERSION,
		 o->socket, o->table, o->statedir);
	rc = loop_run(loop) < 0;
out:
	server_free(srv);
	daemon_free(d); /* before the loop: it holds timers and a watch */
	loop_free(loop);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {.socket = "/run/fwd/fwd.sock",
			 .statedir = FW_STATE_DIR,
			 .group = "fwadm",
			 .table = FW_TABLE_DEFAULT};

	if (parse(argc, argv, &o) < 0)
		return 2;
	log_init(o.foreground);
	return run(&o);
}
