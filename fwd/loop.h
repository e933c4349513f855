/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loop: a single-threaded epoll event loop for fwd: fd watches, timers on
 * CLOCK_MONOTONIC (timerfd) and signals (signalfd). Callbacks run one at a
 * time and must not block; nothing here knows about fwd's protocol.
 */
#ifndef FW_LOOP_H
#define FW_LOOP_H

#include <stdint.h>

/* Interest and event bits; FW_EV_ERR (error or hangup) is always reported. */
#define FW_EV_READ 0x1u
#define FW_EV_WRITE 0x2u
#define FW_EV_ERR 0x4u

struct fw_loop;
struct fw_watch;
struct fw_timer;

typedef void (*fw_watch_cb)(void *arg, int fd, unsigned events);
typedef void (*fw_timer_cb)(void *arg);
typedef void (*fw_signal_cb)(void *arg, int signo);

struct fw_loop *loop_new(void);
/* Frees every watch, timer and signal; restores the signal mask. */
void loop_free(struct fw_loop *l);

/* Watches fd (not owned, never closed by the loop). NULL/errno. */
struct fw_watch *loop_watch_add(struct fw_loop *l, int fd, unsigned events,
				fw_watch_cb cb, void *arg);
/* Changes the interest set. -1/errno. */
int loop_watch_set(struct fw_watch *w, unsigned events);
/* Stops watching; safe from inside any callback, w included. */
void loop_watch_del(struct fw_watch *w);

/*
 * A timer that fires first after first_ms, then every interval_ms (0: once).
 * A fired one-shot timer stays allocated and can be re-armed.
 */
struct fw_timer *loop_timer_add(struct fw_loop *l, uint64_t first_ms,
				uint64_t interval_ms, fw_timer_cb cb,
				void *arg);
/* Re-arms (first_ms 0 disarms). -1/errno. */
int loop_timer_set(struct fw_timer *t, uint64_t first_ms,
		   uint64_t interval_ms);
/* Cancels and frees; safe from inside any callback, t included. */
void loop_timer_del(struct fw_timer *t);

/* Blocks signo and delivers it through the loop instead. -1/errno. */
int loop_signal_add(struct fw_loop *l, int signo, fw_signal_cb cb, void *arg);

/* Runs until loop_stop. 0, or -1/errno if epoll fails. */
int loop_run(struct fw_loop *l);
/* Waits at most timeout_ms (-1: forever) and runs one batch of callbacks. */
int loop_run_once(struct fw_loop *l, int timeout_ms);
void loop_stop(struct fw_loop *l);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t loop_now_ms(void);
/* The same clock to the microsecond, for measuring phases. */
double loop_clock_ms(void);

#endif
