// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	sweep.c - expired bans out of the maps, a slice at a time
 * DESCRIPTION
 *	A pass over the four ban maps every ban_sweep_interval (30 s), a
 *	task of the event loop that works a slice at a time between the
 *	loop's other work. The data plane already ignores expired bans;
 *	removing them keeps an expired prefix ban from hiding a shorter
 *	active one from the LPM lookup, and frees room. An expired ban goes
 *	with every owner's claim on it (bans.c).
 *
 *	The same pass marks the reason texts the bans that stay still
 *	name; at its end the texts no ban names are freed, unless a map
 *	could not be read whole (a text might still be in use).
 * DIAGNOSTICS
 *	"removed N expired bans", "freed N reason texts no ban names any
 *	more"; a map that cannot be read is logged and the pass goes on.
 * CONFIGURATION PARAMETERS
 *	ban_sweep_interval (30 s), read at each pass: a reload changes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "mapwalk.h"
#include "sweep.h"

/* Entries per step of a sweep: small enough to check the deadline often. */
#define MX_SWEEP_SLICE		256

struct ban_sweep {
	struct agent *a;
	struct mx_timer timer;		/* begins a pass */
	struct mx_task task;		/* works on it */
	struct mx_walk w[MX_TABLE_MAPS];
	int map;			/* the map the pass is on */
	uint64_t now_ns;			/* CLOCK_BOOTTIME when the pass began */
	unsigned long removed;
	bool failed;			/* a map was not read whole: collect no reasons */
};

/*
 * sweep_one - delete an expired ban with its claims; note the reason of
 * one that stays, for the collection of unused reason texts (mx_walk
 * callback)
 */
static int sweep_one(const void *key, const void *val, void *arg)
{
	struct ban_sweep *s = arg;
	const struct mx_ban *b = val;
	struct mx_prefix p;

	if (b->expires_ns && b->expires_ns <= s->now_ns) {
		mx_table_key_prefix((enum mx_table_map)s->map, key, &p);
		mx_bans_expired(&s->a->store.claims, &p);
		s->removed++;
	} else {
		mx_bans_gc_mark(&s->a->store.claims, b->reason);
	}
	return 0;
}

/* sweep_end - the pass is over: say what went */
static void sweep_end(struct ban_sweep *s)
{
	if (s->removed)
		mx_log("removed %lu expired ban%s", s->removed, s->removed == 1 ? "" : "s");
	if (!s->failed) {
		unsigned int freed = mx_bans_gc_end(&s->a->store.claims);

		if (freed)
			mx_log("freed %u reason text%s no ban names any more", freed,
				  freed == 1 ? "" : "s");
	}
}

/* sweep_step - sweep until deadline (the task); done at the pass's end */
static enum mx_task_state sweep_step(void *arg, uint64_t deadline_us)
{
	struct ban_sweep *s = arg;

	while (mx_mono_us() < deadline_us) {
		struct mx_walk *w = &s->w[s->map];
		int r;

		if (!w->key_size &&
		    mx_walk_init(w, s->a->store.bans.fd[s->map], 0, sizeof(struct mx_ban))) {
			mx_log("ban sweep: cannot read the ban maps: %s", strerror(errno));
			return MX_TASK_DONE;
		}
		r = mx_walk_step(w, MX_SWEEP_SLICE, sweep_one, s);
		if (r < 0) {
			mx_log("ban sweep: reading the bans failed: %s", strerror(-r));
			mx_walk_reset(w);
			s->failed = true;
		} else if (r == 0) {
			continue;
		}
		if (++s->map < MX_TABLE_MAPS)
			continue;
		sweep_end(s);
		return MX_TASK_DONE;
	}
	return MX_TASK_BUSY;
}

/* sweep_begin - a pass, unless one is going; the next one after ban_sweep_interval */
static void sweep_begin(void *arg)
{
	struct ban_sweep *s = arg;

	mx_loop_timer_at(&s->timer, mx_mono_ms() + (uint64_t)s->a->cfg.ban_sweep_s * 1000);
	if (mx_task_running(&s->task))
		return;
	s->map = 0;
	s->now_ns = mx_now_ns();
	s->removed = 0;
	s->failed = false;
	mx_bans_gc_begin(&s->a->store.claims);
	mx_loop_task_start(&s->a->loop, &s->task);
}

/* ban_sweep_open - the first pass after ban_sweep_interval */
int ban_sweep_open(struct agent *a)
{
	struct ban_sweep *s = calloc(1, sizeof(*s));

	if (!s || mx_loop_timer_add(&a->loop, &s->timer, "ban sweep",
				    (uint64_t)a->cfg.ban_sweep_s * 1000, sweep_begin, s)) {
		free(s);
		mx_log("cannot start the ban sweep: out of memory");
		return -1;
	}
	s->a = a;
	mx_task_init(&s->task, "ban sweep", sweep_step, s);
	a->ban_sweep = s;
	return 0;
}

/* ban_sweep_close - stop and free */
void ban_sweep_close(struct agent *a)
{
	struct ban_sweep *s = a->ban_sweep;

	if (!s)
		return;
	mx_loop_task_cancel(&a->loop, &s->task);
	mx_loop_timer_del(&a->loop, &s->timer);
	for (int i = 0; i < MX_TABLE_MAPS; i++)
		mx_walk_free(&s->w[i]);
	free(s);
	a->ban_sweep = NULL;
}
