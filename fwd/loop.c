// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loop: epoll around fd watches; timers are timerfds and signals one
 * signalfd, both plain watches underneath. Deleted watches are freed only
 * after the current batch of events, so callbacks may delete anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

struct fw_watch {
	struct fw_loop *loop;
	int fd;
	unsigned events;
	fw_watch_cb cb;
	void *arg;
	bool dead;
	struct fw_watch *prev, *next;
};

struct fw_timer {
	struct fw_loop *loop;
	struct fw_watch *w;
	int fd;
	fw_timer_cb cb;
	void *arg;
	struct fw_timer *prev, *next;
};

struct fw_sig {
	fw_signal_cb cb;
	void *arg;
};

struct fw_loop {
	int epfd;
	bool stop;
	struct fw_watch *watches;	/* live */
	struct fw_watch *graveyard;	/* deleted, freed after the batch */
	struct fw_timer *timers;
	int sigfd;
	struct fw_watch *sigw;
	sigset_t sigmask, oldmask;
	struct fw_sig sig[_NSIG];
};

/* Intrusive doubly-linked list helpers for both node types. */
#define LIST_INSERT(head, n)                                                 \
	do {                                                                 \
		(n)->prev = NULL;                                            \
		(n)->next = (head);                                          \
		if (head)                                                    \
			(head)->prev = (n);                                  \
		(head) = (n);                                                \
	} while (0)
#define LIST_REMOVE(head, n)                                                 \
	do {                                                                 \
		if ((n)->prev)                                               \
			(n)->prev->next = (n)->next;                         \
		else                                                         \
			(head) = (n)->next;                                  \
		if ((n)->next)                                               \
			(n)->next->prev = (n)->prev;                         \
	} while (0)

struct fw_loop *loop_new(void)
{
	struct fw_loop *l = xcalloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	sigprocmask(SIG_BLOCK, NULL, &l->oldmask);
	return l;
}

static void reap(struct fw_loop *l)
{
	struct fw_watch *w;

	while ((w = l->graveyard)) {
		l->graveyard = w->next;
		free(w);
	}
}

void loop_free(struct fw_loop *l)
{
	if (!l)
		return;
	while (l->timers)
		loop_timer_del(l->timers);
	if (l->sigw)
		loop_watch_del(l->sigw);
	while (l->watches)
		loop_watch_del(l->watches);
	reap(l);
	if (l->sigfd >= 0) {
		close(l->sigfd);
		sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	}
	close(l->epfd);
	free(l);
}

static uint32_t to_epoll(unsigned events)
{
	return (events & FW_EV_READ ? EPOLLIN : 0) |
	       (events & FW_EV_WRITE ? EPOLLOUT : 0);
}

static unsigned from_epoll(uint32_t ev)
{
	return (ev & (EPOLLIN | EPOLLPRI) ? FW_EV_READ : 0) |
	       (ev & EPOLLOUT ? FW_EV_WRITE : 0) |
	       (ev & (EPOLLERR | EPOLLHUP) ? FW_EV_ERR : 0);
}

struct fw_watch *loop_watch_add(struct fw_loop *l, int fd, unsigned events,
				fw_watch_cb cb, void *arg)
{
	struct fw_watch *w = xcalloc(1, sizeof(*w));
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = w };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		free(w);
		errno = e;
		return NULL;
	}
	w->loop = l;
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	LIST_INSERT(l->watches, w);
	return w;
}

int loop_watch_set(struct fw_watch *w, unsigned events)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = w };

	if (w->dead || w->events == events)
		return 0;
	if (epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -1;
	w->events = events;
	return 0;
}

void loop_watch_del(struct fw_watch *w)
{
	struct fw_loop *l;

	if (!w || w->dead)
		return;
	l = w->loop;
	/* Fails only if fd was closed already, which removed it anyway. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->dead = true;
	LIST_REMOVE(l->watches, w);
	w->prev = NULL;
	w->next = l->graveyard;
	l->graveyard = w;
}

/* ---- timers ---- */

static void timer_fire(void *arg, int fd, unsigned events)
{
	struct fw_timer *t = arg;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return; /* EAGAIN: re-armed since it fired */
	t->cb(t->arg); /* may delete t: touch nothing after this */
}

static struct timespec ms_to_ts(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	return ts;
}

int loop_timer_set(struct fw_timer *t, uint64_t first_ms,
		   uint64_t interval_ms)
{
	struct itimerspec its = {
		.it_value = ms_to_ts(first_ms),
		.it_interval = ms_to_ts(interval_ms),
	};

	return timerfd_settime(t->fd, 0, &its, NULL);
}

struct fw_timer *loop_timer_add(struct fw_loop *l, uint64_t first_ms,
				uint64_t interval_ms, fw_timer_cb cb,
				void *arg)
{
	struct fw_timer *t = xcalloc(1, sizeof(*t));
	int e;

	t->loop = l;
	t->cb = cb;
	t->arg = arg;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0)
		goto fail;
	t->w = loop_watch_add(l, t->fd, FW_EV_READ, timer_fire, t);
	if (!t->w || loop_timer_set(t, first_ms, interval_ms) < 0)
		goto fail;
	LIST_INSERT(l->timers, t);
	return t;
fail:
	e = errno;
	loop_watch_del(t->w);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	errno = e;
	return NULL;
}

void loop_timer_del(struct fw_timer *t)
{
	if (!t)
		return;
	loop_watch_del(t->w);
	close(t->fd);
	LIST_REMOVE(t->loop->timers, t);
	free(t);
}

/* ---- signals ---- */

static void signal_fire(void *arg, int fd, unsigned events)
{
	struct fw_loop *l = arg;
	struct signalfd_siginfo si;
	int signo;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		signo = (int)si.ssi_signo;
		if (signo > 0 && signo < _NSIG && l->sig[signo].cb)
			l->sig[signo].cb(l->sig[signo].arg, signo);
	}
}

int loop_signal_add(struct fw_loop *l, int signo, fw_signal_cb cb, void *arg)
{
	sigset_t one;
	int fd;

	if (signo <= 0 || signo >= _NSIG) {
		errno = EINVAL;
		return -1;
	}
	sigemptyset(&one);
	sigaddset(&one, signo);
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
		return -1;
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		l->sigw = loop_watch_add(l, fd, FW_EV_READ, signal_fire, l);
		if (!l->sigw)
			return -1;
	}
	l->sig[signo].cb = cb;
	l->sig[signo].arg = arg;
	return 0;
}

/* ---- running ---- */

int loop_run_once(struct fw_loop *l, int timeout_ms)
{
	struct epoll_event evs[64];
	struct fw_watch *w;
	unsigned ev;
	int i, n;

	n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		w = evs[i].data.ptr;
		if (w->dead)
			continue;
		ev = from_epoll(evs[i].events) & (w->events | FW_EV_ERR);
		if (ev)
			w->cb(w->arg, w->fd, ev);
	}
	reap(l);
	return 0;
}

int loop_run(struct fw_loop *l)
{
	l->stop = false;
	while (!l->stop)
		if (loop_run_once(l, -1) < 0)
			return -1;
	return 0;
}

void loop_stop(struct fw_loop *l)
{
	l->stop = true;
}

double loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
