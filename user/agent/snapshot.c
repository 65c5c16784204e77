// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	snapshot.c - when the agent writes a snapshot of its state
 * DESCRIPTION
 *	A timer looks every second whether a snapshot is due (snapshot_due)
 *	and, at the first turn, whether restored records of an earlier boot
 *	ask for one (snapshot_soon, state.c). A snapshot is begun by
 *	state_snapshot_start() and written by state_snapshot_work() as a
 *	task of the event loop, a slice at a time between requests; once
 *	written, a thread makes it durable (persist.c) and the task waits
 *	on it, looking again every few milliseconds, until it is done.
 *	What a snapshot holds and how it is written is state.c's.
 * CONFIGURATION PARAMETERS
 *	MX_SNAPSHOT_RECORDS, MX_SNAPSHOT_INTERVAL_S (below).
 */
#include <stdlib.h>

#include "agent.h"
#include "snapshot.h"
#include "store.h"

/* A snapshot replaces the journal after this many records, or this often. */
#define MX_SNAPSHOT_RECORDS	10000
#define MX_SNAPSHOT_INTERVAL_S	300

struct snapshot_schedule {
	struct agent *a;
	struct mx_timer check;
	struct mx_task task;
	uint64_t next_ms;		/* the interval's next end, mx_mono_ms() */
};

/*
 * snapshot_due - a snapshot costs time in proportion to the state (a few
 * seconds of work for 1,000,000 bans, done in slices between requests),
 * a journal costs start-up time in proportion to its records. So: when
 * the journal has grown as large as the state (at least
 * MX_SNAPSHOT_RECORDS), and, for a small state only, every
 * MX_SNAPSHOT_INTERVAL_S when anything changed. Each record then pays for
 * its share of one snapshot, whatever the state's size.
 */
static bool snapshot_due(const struct mx_persist *p, bool interval_passed)
{
	if (p->snap)
		return false;	/* one is being written */
	uint64_t big = p->snapshot_records > MX_SNAPSHOT_RECORDS ? p->snapshot_records
								   : MX_SNAPSHOT_RECORDS;

	if (p->journal_records >= big)
		return true;
	return interval_passed && p->journal_records &&
	       p->snapshot_records + p->journal_records < MX_SNAPSHOT_RECORDS;
}

/*
 * snapshot_step - write until deadline (the task): busy while records
 * remain, waiting while the thread makes it durable (a->store.state.persist.snap is
 * set until persist.c has finished with it), then done.
 */
static enum mx_task_state snapshot_step(void *arg, uint64_t deadline_us)
{
	struct agent *a = arg;

	if (state_snapshot_work(&a->store, deadline_us))
		return MX_TASK_BUSY;
	return a->store.state.persist.snap ? MX_TASK_WAITING : MX_TASK_DONE;
}

/* snapshot_check - begin a snapshot if one is due */
static void snapshot_check(void *arg)
{
	struct snapshot_schedule *s = arg;
	struct agent *a = s->a;
	uint64_t now_ms = mx_mono_ms();

	if (mx_task_running(&s->task))
		return;
	if (!a->store.state.snapshot_soon && !snapshot_due(&a->store.state.persist, now_ms >= s->next_ms))
		return;
	if (state_snapshot_start(&a->store)) {
		a->store.state.snapshot_soon = false;
		mx_loop_task_start(&a->loop, &s->task);
	}
	s->next_ms = now_ms + MX_SNAPSHOT_INTERVAL_S * 1000;
}

/* snapshot_open - the check every second, the first one now */
int snapshot_open(struct agent *a)
{
	struct snapshot_schedule *s;

	if (!a->store.state.on)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s || mx_loop_timer_add(&a->loop, &s->check, "snapshot", 1000, snapshot_check, s)) {
		free(s);
		mx_log("cannot schedule snapshots: out of memory");
		return -1;
	}
	s->a = a;
	s->next_ms = mx_mono_ms() + MX_SNAPSHOT_INTERVAL_S * 1000;
	mx_task_init(&s->task, "snapshot", snapshot_step, a);
	mx_loop_timer_at(&s->check, mx_mono_ms());
	a->snapshots = s;
	return 0;
}

/* snapshot_close - no more snapshots from the loop */
void snapshot_close(struct agent *a)
{
	struct snapshot_schedule *s = a->snapshots;

	if (!s)
		return;
	mx_loop_task_cancel(&a->loop, &s->task);
	mx_loop_timer_del(&a->loop, &s->check);
	free(s);
	a->snapshots = NULL;
}
