/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	loop.h - the agent's event loop: file descriptors, timers and tasks
 * DESCRIPTION
 *	One thread serves everything (the SMTP responder, the Postfix
 *	policy service, the control socket, metrics), and Postfix waits on
 *	its answers: nothing may hold a turn long. Services register what
 *	they need, under a name:
 *
 *	  - a file descriptor, with the events to wait for and a callback;
 *	    the poll array grows with what registers;
 *	  - a timer, run every every_ms or once at a given time (periodic
 *	    work, deadlines);
 *	  - a task: long work as a step function that works until the
 *	    deadline it is given and says whether it is done, has more to
 *	    do now (busy), or waits on something else (a thread, a slow
 *	    reader). The tasks running share MX_SLICE_US per turn, each
 *	    turn starting with the next one in turn.
 *
 *	A turn: poll, then the callbacks of the ready descriptors, the
 *	timers that are due, a slice of the tasks. A turn over
 *	MX_SLOW_TURN_US is logged with the time each name took in it and
 *	the CPU time of the turn; every turn's length goes into the
 *	loop's histogram (stats).
 *
 *	A registered descriptor, timer or task belongs to its service,
 *	which removes it before closing or freeing it. Callbacks may add,
 *	change and remove registrations, their own and others'.
 */
#ifndef MX_LOOP_H
#define MX_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Task work per turn, shared by the tasks running: whatever runs, a
 * request waits at most about this long behind it.
 */
#define MX_SLICE_US		5000
/* A task that waits on something else is looked at again this soon. */
#define MX_LOOP_WAIT_MS		5
/* A turn this long is logged, with where it went. */
#define MX_SLOW_TURN_US		50000

struct mx_loop;

/* Called with what poll() said of fd. */
typedef void (*mx_fd_fn)(void *arg, int fd, short revents);

struct mx_timer {
	const char *name;
	void (*fn)(void *arg);
	void *arg;
	uint64_t every_ms;		/* 0: once, when armed */
	uint64_t due_ms;		/* mx_mono_ms() when it runs next */
	bool armed;
	int part;			/* the loop's: its name's index */
};

enum mx_task_state {
	MX_TASK_DONE,			/* finished: the loop forgets it */
	MX_TASK_BUSY,			/* more to do now: the loop does not sleep */
	MX_TASK_WAITING,		/* waits on something else: look again soon */
};

/*
 * A task's memory must outlive its run: its owner frees it only when
 * it is not running (mx_task_running(), or after mx_loop_task_cancel()).
 */
struct mx_task {
	const char *name;
	enum mx_task_state (*step)(void *arg, uint64_t deadline_us);
	void *arg;
	bool running;
	enum mx_task_state last;	/* what its last step said */
	int part;
};

/* Turn lengths: histogram bucket bounds, in microseconds (0.5 ms to 10 s). */
#define MX_LOOP_BUCKETS		14
extern const uint64_t mx_loop_bucket_us[MX_LOOP_BUCKETS];

struct mx_loop_stats {
	uint64_t busy_max_us;		/* the longest turn since start */
	uint64_t turns;
	uint64_t sum_us;		/* of all turns */
	uint64_t bucket[MX_LOOP_BUCKETS + 1];	/* turns by length, not cumulative; last: longer */
	uint64_t slow_turns;		/* over MX_SLOW_TURN_US */
};

/* What a name took in the current turn. */
struct mx_loop_part {
	const char *name;
	uint64_t us;
};

struct mx_watch;

struct mx_loop {
	struct pollfd *pfd;		/* what poll() waits on... */
	struct mx_watch *w;		/* ...and whose it is, index for index */
	size_t n, cap, dead;		/* dead: removed, compacted before the next poll */
	int *index;			/* by fd: its place in pfd plus one; 0: none */
	size_t index_cap;
	struct mx_timer **timers;
	size_t ntimers, timers_cap;
	struct mx_task **tasks;
	size_t ntasks, tasks_cap;
	size_t next_first;		/* the task that goes first in the next turn */
	struct mx_loop_part *parts;
	size_t nparts, parts_cap;
	bool stop;
	struct mx_loop_stats stats;
};

void mx_loop_init(struct mx_loop *l);
/* Forget every registration (closes nothing) and free the loop's memory. */
void mx_loop_free(struct mx_loop *l);

/* Watch fd for events (POLLIN, POLLOUT); 0, -EEXIST, -EINVAL or -ENOMEM. */
int mx_loop_add(struct mx_loop *l, int fd, short events, const char *name, mx_fd_fn fn,
		void *arg);
int mx_loop_mod(struct mx_loop *l, int fd, short events);
void mx_loop_del(struct mx_loop *l, int fd);

/*
 * Register a timer; with every_ms it first runs every_ms from now and
 * then every every_ms after each run (its callback may change
 * every_ms, or arm it for another time). 0 or -ENOMEM.
 */
int mx_loop_timer_add(struct mx_loop *l, struct mx_timer *t, const char *name,
		      uint64_t every_ms, void (*fn)(void *arg), void *arg);
/* Run t at due_ms (mx_mono_ms()), once; a periodic timer goes on from there. */
void mx_loop_timer_at(struct mx_timer *t, uint64_t due_ms);
void mx_loop_timer_del(struct mx_loop *l, struct mx_timer *t);

void mx_task_init(struct mx_task *t, const char *name,
		  enum mx_task_state (*step)(void *arg, uint64_t deadline_us), void *arg);
/* Start t: from this turn on, the loop steps it until it says it is done. 0, -EALREADY, -ENOMEM. */
int mx_loop_task_start(struct mx_loop *l, struct mx_task *t);
/* Stop stepping t (it says nothing more); nothing if it is not running. */
void mx_loop_task_cancel(struct mx_loop *l, struct mx_task *t);
static inline bool mx_task_running(const struct mx_task *t)
{
	return t->running;
}

/* One turn: wait, then serve what is ready. 0, or -errno if poll failed. */
int mx_loop_turn(struct mx_loop *l);
/* Turns until mx_loop_stop(); 0, or -errno. */
int mx_loop_run(struct mx_loop *l);
void mx_loop_stop(struct mx_loop *l);

#endif /* MX_LOOP_H */
