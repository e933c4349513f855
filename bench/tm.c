// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tm: the benchmark's stopwatch. Runs a command and prints its wall time
 * and CPU time (user + system, in seconds), adding the CPU time that other
 * processes (-p PID, e.g. the fwd that served the command) spent meanwhile.
 *   tm [-p PID]... [-i FILE] COMMAND...     (-i: stdin from FILE)
 * Prints "WALL CPU" on stderr-free stdout; the command's output is dropped.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXP 8

static double ts(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double tv(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

static double cpu_of(clockid_t c)
{
	struct timespec t;

	return clock_gettime(c, &t) < 0 ? 0 : ts(&t);
}

int main(int argc, char **argv)
{
	clockid_t clk[MAXP];
	double before[MAXP], extra = 0;
	const char *in = NULL;
	struct timespec t0, t1;
	struct rusage ru;
	int np = 0, i = 1, st;
	pid_t pid;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-i")) {
			in = argv[i + 1];
		} else if (!strcmp(argv[i], "-p") && np < MAXP &&
			   clock_getcpuclockid(atoi(argv[i + 1]), &clk[np]) ==
				   0) {
			before[np] = cpu_of(clk[np]);
			np++;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: tm [-p PID]... [-i FILE] CMD...\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		int fd = in ? open(in, O_RDONLY) : -1;

		if (fd >= 0)
			dup2(fd, 0);
		dup2(null, 1);
		execvp(argv[i], argv + i);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int k = 0; k < np; k++)
		extra += cpu_of(clk[k]) - before[k];
	printf("%.6f %.6f\n", ts(&t1) - ts(&t0),
	       tv(&ru.ru_utime) + tv(&ru.ru_stime) + extra);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
