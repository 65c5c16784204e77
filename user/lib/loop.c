// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	loop.c - the agent's event loop: file descriptors, timers and tasks
 * DESCRIPTION
 *	poll() over an array that grows with what registers. A service
 *	knows nothing of another's descriptors or limits: it adds its own
 *	and removes them. A removal in the middle of a turn only marks the
 *	entry (its callback is not called again); the array is compacted
 *	before the next poll, so that callbacks may add and remove freely
 *	while the loop walks the array. An fd's place is found through a
 *	table indexed by fd.
 *
 *	Timers and tasks are the services' own structs; the loop holds
 *	pointers to them. Tasks share MX_SLICE_US per turn: each is given
 *	an equal part of what is left when its turn comes (so time one
 *	leaves unused goes to the next), and the first place goes round,
 *	so that no task always comes last to a spent slice.
 *
 *	Time in a turn is charged to the name of whatever ran, so that a
 *	slow turn's log line names what made it slow, whichever services
 *	register; the names are whatever the services chose.
 * DIAGNOSTICS
 *	"a loop turn took N ms (M ms on the CPU; the rest, waiting for it):
 *	NAME ms, ...": a turn over MX_SLOW_TURN_US, at most once every 10 s.
 *	A turn with little CPU time was waiting for a CPU, not working.
 *	An fd closed while still registered is logged and dropped (poll
 *	would report it at once, for ever).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "loop.h"

const uint64_t mx_loop_bucket_us[MX_LOOP_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

struct mx_watch {
	mx_fd_fn fn;			/* NULL: removed, awaiting compaction */
	void *arg;
	int part;
};

/*
 * room - the array arr (cap elements of size bytes, n in use) with room
 * for one more: arr itself, or a larger copy; NULL if out of memory
 * (arr is left as it was)
 */
static void *room(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return arr;
	p = realloc(arr, want * size);
	if (p)
		*cap = want;
	return p;
}

/* part_of - the index of a name in the turn's accounts, added if new; -1 if out of memory */
static int part_of(struct mx_loop *l, const char *name)
{
	struct mx_loop_part *parts;

	for (size_t i = 0; i < l->nparts; i++)
		if (!strcmp(l->parts[i].name, name))
			return (int)i;
	parts = room(l->parts, &l->parts_cap, l->nparts, sizeof(*parts));
	if (!parts)
		return -1;
	l->parts = parts;
	l->parts[l->nparts] = (struct mx_loop_part){ .name = name };
	return (int)l->nparts++;
}

/* charge - time since t0 (mx_mono_us()) to a part */
static void charge(struct mx_loop *l, int part, uint64_t t0)
{
	l->parts[part].us += mx_mono_us() - t0;
}

/* mx_loop_init - an empty loop */
void mx_loop_init(struct mx_loop *l)
{
	memset(l, 0, sizeof(*l));
}

/* mx_loop_free - forget everything registered; the services close their own */
void mx_loop_free(struct mx_loop *l)
{
	for (size_t i = 0; i < l->ntasks; i++)
		if (l->tasks[i])
			l->tasks[i]->running = false;
	free(l->pfd);
	free(l->w);
	free(l->index);
	free(l->timers);
	free(l->tasks);
	free(l->parts);
	memset(l, 0, sizeof(*l));
}

/* mx_loop_add - watch fd for events, calling fn when poll says something of it */
int mx_loop_add(struct mx_loop *l, int fd, short events, const char *name, mx_fd_fn fn,
		void *arg)
{
	int part;

	if (fd < 0 || !fn)
		return -EINVAL;
	if ((size_t)fd >= l->index_cap) {
		size_t cap = l->index_cap ? l->index_cap : 64;
		int *p;

		while (cap <= (size_t)fd)
			cap *= 2;
		p = realloc(l->index, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + l->index_cap, 0, (cap - l->index_cap) * sizeof(*p));
		l->index = p;
		l->index_cap = cap;
	}
	if (l->index[fd])
		return -EEXIST;
	part = part_of(l, name);
	if (part < 0)
		return -ENOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct pollfd *p = realloc(l->pfd, cap * sizeof(*p));
		struct mx_watch *w;

		if (!p)
			return -ENOMEM;
		l->pfd = p;	/* larger than cap says: harmless if w cannot follow */
		w = realloc(l->w, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		l->w = w;
		l->cap = cap;
	}
	l->pfd[l->n] = (struct pollfd){ .fd = fd, .events = events };
	l->w[l->n] = (struct mx_watch){ .fn = fn, .arg = arg, .part = part };
	l->index[fd] = (int)++l->n;
	return 0;
}

/* mx_loop_mod - wait for other events on a registered fd */
int mx_loop_mod(struct mx_loop *l, int fd, short events)
{
	if (fd < 0 || (size_t)fd >= l->index_cap || !l->index[fd])
		return -ENOENT;
	l->pfd[l->index[fd] - 1].events = events;
	return 0;
}

/* mx_loop_del - stop watching fd; its callback is not called again */
void mx_loop_del(struct mx_loop *l, int fd)
{
	size_t i;

	if (fd < 0 || (size_t)fd >= l->index_cap || !l->index[fd])
		return;
	i = (size_t)l->index[fd] - 1;
	l->index[fd] = 0;
	l->w[i].fn = NULL;
	l->pfd[i].fd = -1;	/* poll() skips it until compaction */
	l->pfd[i].events = 0;
	l->dead++;
}

/* compact - drop what was removed since the last poll */
static void compact(struct mx_loop *l)
{
	size_t j = 0;

	if (l->dead) {
		for (size_t i = 0; i < l->n; i++) {
			if (!l->w[i].fn)
				continue;
			if (i != j) {
				l->pfd[j] = l->pfd[i];
				l->w[j] = l->w[i];
				l->index[l->pfd[j].fd] = (int)j + 1;
			}
			j++;
		}
		l->n = j;
		l->dead = 0;
	}
	j = 0;
	for (size_t i = 0; i < l->ntimers; i++)
		if (l->timers[i])
			l->timers[j++] = l->timers[i];
	l->ntimers = j;
	j = 0;
	for (size_t i = 0; i < l->ntasks; i++)
		if (l->tasks[i])
			l->tasks[j++] = l->tasks[i];
	l->ntasks = j;
}

/* mx_loop_timer_add - register a timer; periodic if every_ms */
int mx_loop_timer_add(struct mx_loop *l, struct mx_timer *t, const char *name,
		      uint64_t every_ms, void (*fn)(void *arg), void *arg)
{
	int part = part_of(l, name);
	struct mx_timer **timers;

	if (part < 0)
		return -ENOMEM;
	timers = room(l->timers, &l->timers_cap, l->ntimers, sizeof(*timers));
	if (!timers)
		return -ENOMEM;
	l->timers = timers;
	*t = (struct mx_timer){ .name = name, .fn = fn, .arg = arg, .every_ms = every_ms,
				.part = part };
	if (every_ms)
		mx_loop_timer_at(t, mx_mono_ms() + every_ms);
	l->timers[l->ntimers++] = t;
	return 0;
}

/* mx_loop_timer_at - run t at due_ms */
void mx_loop_timer_at(struct mx_timer *t, uint64_t due_ms)
{
	t->due_ms = due_ms;
	t->armed = true;
}

/* mx_loop_timer_del - forget t */
void mx_loop_timer_del(struct mx_loop *l, struct mx_timer *t)
{
	for (size_t i = 0; i < l->ntimers; i++)
		if (l->timers[i] == t)
			l->timers[i] = NULL;	/* compacted before the next poll */
	t->armed = false;
}

/* mx_task_init - a task not yet running */
void mx_task_init(struct mx_task *t, const char *name,
		  enum mx_task_state (*step)(void *arg, uint64_t deadline_us), void *arg)
{
	*t = (struct mx_task){ .name = name, .step = step, .arg = arg };
}

/* mx_loop_task_start - step t from this turn on, until it is done */
int mx_loop_task_start(struct mx_loop *l, struct mx_task *t)
{
	struct mx_task **tasks;
	int part;

	if (t->running)
		return -EALREADY;
	part = part_of(l, t->name);
	if (part < 0)
		return -ENOMEM;
	tasks = room(l->tasks, &l->tasks_cap, l->ntasks, sizeof(*tasks));
	if (!tasks)
		return -ENOMEM;
	l->tasks = tasks;
	t->part = part;
	t->running = true;
	t->last = MX_TASK_BUSY;	/* not stepped yet: the loop must not sleep */
	l->tasks[l->ntasks++] = t;
	return 0;
}

/* mx_loop_task_cancel - stop stepping t */
void mx_loop_task_cancel(struct mx_loop *l, struct mx_task *t)
{
	for (size_t i = 0; i < l->ntasks; i++)
		if (l->tasks[i] == t)
			l->tasks[i] = NULL;
	t->running = false;
}

/* next_wait - how long poll() may wait: until the next timer, less if a task needs the loop */
static int next_wait(const struct mx_loop *l)
{
	uint64_t now_ms = mx_mono_ms(), next = UINT64_MAX;

	for (size_t i = 0; i < l->ntasks; i++) {
		if (l->tasks[i]->last == MX_TASK_BUSY)
			return 0;
		if (now_ms + MX_LOOP_WAIT_MS < next)
			next = now_ms + MX_LOOP_WAIT_MS;	/* waiting: look again soon */
	}
	for (size_t i = 0; i < l->ntimers; i++)
		if (l->timers[i]->armed && l->timers[i]->due_ms < next)
			next = l->timers[i]->due_ms;
	if (next == UINT64_MAX)
		return -1;
	if (next <= now_ms)
		return 0;
	return next - now_ms > INT_MAX ? INT_MAX : (int)(next - now_ms);
}

/* dispatch - the callbacks of what poll() found ready */
static void dispatch(struct mx_loop *l, size_t polled, int ready)
{
	for (size_t i = 0; i < polled && ready > 0; i++) {
		short revents = l->pfd[i].revents;
		struct mx_watch w;
		uint64_t t0;
		int fd;

		if (!revents)
			continue;
		ready--;
		w = l->w[i];	/* a copy: the callback may grow the arrays */
		fd = l->pfd[i].fd;
		if (!w.fn)
			continue;	/* removed earlier in this turn */
		if (revents & POLLNVAL) {
			mx_log("event loop: fd %d (%s) was closed while registered; dropped", fd,
			       l->parts[w.part].name);
			mx_loop_del(l, fd);
			continue;
		}
		t0 = mx_mono_us();
		w.fn(w.arg, fd, revents);
		charge(l, w.part, t0);
	}
}

/* run_timers - every timer that is due, once */
static void run_timers(struct mx_loop *l)
{
	uint64_t now_ms = mx_mono_ms();
	size_t n = l->ntimers;	/* timers added now wait for the next turn */

	for (size_t i = 0; i < n; i++) {
		struct mx_timer *t = l->timers[i];
		uint64_t t0;

		if (!t || !t->armed || t->due_ms > now_ms)
			continue;
		/* Re-armed first: the callback may arm it otherwise. */
		if (t->every_ms)
			t->due_ms = now_ms + t->every_ms;
		else
			t->armed = false;
		t0 = mx_mono_us();
		t->fn(t->arg);
		charge(l, t->part, t0);
	}
}

/*
 * run_tasks - one slice of the running tasks. Each gets an equal part
 * of what is left of MX_SLICE_US when its turn comes; a task past its
 * deadline is still stepped (a waiting one looks at its thread), and
 * must return at once.
 */
static void run_tasks(struct mx_loop *l)
{
	size_t n = l->ntasks, left = 0, first;
	uint64_t end;

	for (size_t k = 0; k < n; k++)
		left += l->tasks[k] != NULL;	/* not those cancelled earlier in this turn */
	if (!left)
		return;
	end = mx_mono_us() + MX_SLICE_US;
	first = l->next_first % n;
	l->next_first = first + 1;
	for (size_t k = 0; k < n; k++) {
		size_t at = (first + k) % n;
		struct mx_task *t = l->tasks[at];
		enum mx_task_state st;
		uint64_t now_us;
		int part;

		if (!t)
			continue;	/* cancelled in this turn */
		now_us = mx_mono_us();
		part = t->part;
		st = t->step(t->arg, now_us + (end > now_us ? (end - now_us) / left : 0));
		left--;
		charge(l, part, now_us);
		if (l->tasks[at] != t)
			continue;	/* its step cancelled it */
		t->last = st;
		if (st == MX_TASK_DONE) {
			t->running = false;
			l->tasks[at] = NULL;
		}
	}
}

/* thread_cpu_us - CPU time this thread has run: a slow turn with little is a busy machine */
static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* account - a turn's length into the stats; a slow one says where it went */
static void account(struct mx_loop *l, uint64_t turn_us, uint64_t cpu_us)
{
	struct mx_loop_stats *s = &l->stats;
	char parts[512];
	size_t off = 0;
	uint64_t named = 0;
	int b = 0;

	while (b < MX_LOOP_BUCKETS && turn_us > mx_loop_bucket_us[b])
		b++;
	s->bucket[b]++;
	s->turns++;
	s->sum_us += turn_us;
	if (turn_us > s->busy_max_us)
		s->busy_max_us = turn_us;
	if (turn_us < MX_SLOW_TURN_US)
		return;
	s->slow_turns++;
	parts[0] = '\0';
	for (size_t i = 0; i < l->nparts; i++) {
		const struct mx_loop_part *p = &l->parts[i];
		int w;

		named += p->us;
		if (p->us < 1000 || off >= sizeof(parts))
			continue;
		w = snprintf(parts + off, sizeof(parts) - off, "%s%s %llu", off ? ", " : "", p->name,
			     (unsigned long long)p->us / 1000);
		off += w > 0 ? (size_t)w : 0;
	}
	if (turn_us > named && turn_us - named >= 1000 && off < sizeof(parts))
		snprintf(parts + off, sizeof(parts) - off, "%sthe loop itself %llu", off ? ", " : "",
			 (unsigned long long)(turn_us - named) / 1000);
	{
		static struct mx_log_rate rate;

		mx_log_limited(&rate, "a loop turn took %llu ms (%llu ms on the CPU; the rest, "
			       "waiting for it): %s", (unsigned long long)turn_us / 1000,
			       (unsigned long long)cpu_us / 1000, parts);
	}
}

/* mx_loop_turn - wait for something to do, then do it */
int mx_loop_turn(struct mx_loop *l)
{
	uint64_t begin, cpu;
	size_t polled;
	int ready;

	compact(l);
	polled = l->n;
	ready = poll(l->pfd, (nfds_t)polled, next_wait(l));
	if (ready < 0 && errno != EINTR)
		return -errno;
	begin = mx_mono_us();
	cpu = thread_cpu_us();
	for (size_t i = 0; i < l->nparts; i++)
		l->parts[i].us = 0;
	if (ready > 0)
		dispatch(l, polled, ready);
	run_timers(l);
	run_tasks(l);
	account(l, mx_mono_us() - begin, thread_cpu_us() - cpu);
	return 0;
}

/* mx_loop_run - turns until stopped */
int mx_loop_run(struct mx_loop *l)
{
	while (!l->stop) {
		int r = mx_loop_turn(l);

		if (r)
			return r;
	}
	return 0;
}

/* mx_loop_stop - the current turn is the last */
void mx_loop_stop(struct mx_loop *l)
{
	l->stop = true;
}
