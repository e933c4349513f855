// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_loop: the event loop's contract: fd interest changes, deletion from
 * inside callbacks (including of a watch with an event pending in the same
 * batch), one-shot and periodic timers, signals, loop_stop.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "loop.h"
#include "t.h"

struct pipe_ctx {
	struct fw_loop *l;
	struct fw_watch *self, *other;
	int reads, writes;
};

static void on_pipe(void *arg, int fd, unsigned events)
{
	struct pipe_ctx *c = arg;
	char b[16];

	if (events & FW_EV_READ) {
		c->reads++;
		(void)!read(fd, b, sizeof(b));
		loop_watch_del(c->other); /* its event may be in this batch */
	}
	if (events & FW_EV_WRITE) {
		c->writes++;
		loop_watch_set(c->self, 0);
	}
}

static void test_watches(void)
{
	struct fw_loop *l = loop_new();
	int p1[2], p2[2];
	struct pipe_ctx a = { .l = l }, b = { .l = l }, w = { .l = l };

	(void)!pipe(p1);
	(void)!pipe(p2);
	a.self = loop_watch_add(l, p1[0], FW_EV_READ, on_pipe, &a);
	b.self = loop_watch_add(l, p2[0], FW_EV_READ, on_pipe, &b);
	a.other = b.self;
	b.other = a.self;
	(void)!write(p1[1], "x", 1);
	(void)!write(p2[1], "y", 1);
	loop_run_once(l, 100);
	T_OK(a.reads + b.reads == 1,
	     "a watch deleted by an earlier callback in the batch stays quiet");

	w.self = loop_watch_add(l, p1[1], 0, on_pipe, &w);
	loop_run_once(l, 50);
	T_OK(w.writes == 0, "no interest, no callback");
	loop_watch_set(w.self, FW_EV_WRITE);
	loop_run_once(l, 50);
	loop_run_once(l, 50);
	T_OK(w.writes == 1, "write interest: one callback, then switched off");
	loop_free(l);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

struct timer_ctx {
	struct fw_loop *l;
	struct fw_timer *t;
	int fired, stop_at, del_at;
};

static void on_timer(void *arg)
{
	struct timer_ctx *c = arg;

	c->fired++;
	if (c->fired == c->del_at)
		loop_timer_del(c->t);
	if (c->fired == c->stop_at)
		loop_stop(c->l);
}

static void test_timers(void)
{
	struct fw_loop *l = loop_new();
	struct timer_ctx once = { .l = l }, tick = { .l = l, .stop_at = 5 };
	struct timer_ctx gone = { .l = l, .del_at = 2 };
	uint64_t t0 = loop_now_ms();

	once.t = loop_timer_add(l, 30, 0, on_timer, &once);
	tick.t = loop_timer_add(l, 10, 10, on_timer, &tick);
	gone.t = loop_timer_add(l, 5, 5, on_timer, &gone);
	loop_run(l);
	T_OK(tick.fired == 5 && loop_now_ms() - t0 >= 50,
	     "periodic timer: 5 ticks of 10 ms, then loop_stop (%llu ms)",
	     (unsigned long long)(loop_now_ms() - t0));
	T_OK(once.fired == 1, "one-shot timer fired once");
	T_OK(gone.fired == 2, "timer deleted from its own callback stops");
	loop_timer_set(once.t, 10, 0);
	tick.stop_at = 0;
	loop_timer_set(tick.t, 0, 0);
	once.stop_at = 2;
	loop_run(l);
	T_OK(once.fired == 2 && tick.fired == 5,
	     "re-armed one-shot fires again; disarmed timer does not");
	loop_free(l); /* frees the timers still registered */
}

static int got[3];

static void on_signal(void *arg, int signo)
{
	struct fw_loop *l = arg;

	got[signo == SIGHUP ? 0 : signo == SIGINT ? 1 : 2]++;
	if (signo == SIGTERM)
		loop_stop(l);
}

static void test_signals(void)
{
	struct fw_loop *l = loop_new();
	sigset_t now;

	loop_signal_add(l, SIGHUP, on_signal, l);
	loop_signal_add(l, SIGINT, on_signal, l);
	loop_signal_add(l, SIGTERM, on_signal, l);
	raise(SIGHUP);
	raise(SIGINT);
	raise(SIGTERM);
	loop_run(l);
	T_OK(got[0] == 1 && got[1] == 1 && got[2] == 1,
	     "SIGHUP, SIGINT, SIGTERM delivered as callbacks");
	loop_free(l);
	sigprocmask(SIG_BLOCK, NULL, &now);
	T_OK(!sigismember(&now, SIGTERM) && !sigismember(&now, SIGHUP),
	     "loop_free restores the signal mask");
}

int main(void)
{
	test_watches();
	test_timers();
	test_signals();
	return t_done();
}
