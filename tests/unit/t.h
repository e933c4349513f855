/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * t: the smallest test harness. Each check prints "ok - name" or
 * "not ok - name"; tests/run.sh counts those lines across every suite.
 */
#ifndef FW_T_H
#define FW_T_H

#include <stdio.h>

static int t_pass, t_fail;

#define T_OK(cond, ...)                                                       \
	do {                                                                  \
		if (cond) {                                                   \
			t_pass++;                                             \
			printf("ok - ");                                      \
		} else {                                                      \
			t_fail++;                                             \
			printf("not ok - %s:%d: ", __FILE__, __LINE__);       \
		}                                                             \
		printf(__VA_ARGS__);                                          \
		printf("\n");                                                 \
	} while (0)

static inline int t_done(void)
{
	printf("# %d passed, %d failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif
