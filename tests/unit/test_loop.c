// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_loop.c - the event loop: descriptors, timers, tasks, slow turns
 * DESCRIPTION
 *	The poll array grows with what registers (a thousand descriptors,
 *	no size fixed anywhere); a callback may remove another's descriptor
 *	in the same turn and that one is not called; timers run on time;
 *	busy tasks take turns going first and are given no more than an
 *	equal part of the slice; a waiting task keeps the loop looking; a slow
 *	turn is logged with the names of what took the time, and every
 *	turn is counted in the histogram.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "loop.h"

#define NPIPES	600

struct pipes {
	struct mx_loop *l;
	int fd[NPIPES][2];
	int calls[NPIPES];
	int victim;		/* pipe whose read end the first callback removes; -1: none */
};

static struct pipes P;

/* on_read - count, drain; the first callback removes the victim */
static void on_read(void *arg, int fd, short revents)
{
	int i = (int)(intptr_t)arg;
	char c;

	assert_true(revents & POLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	P.calls[i]++;
	if (P.victim >= 0) {
		mx_loop_del(P.l, P.fd[P.victim][0]);
		P.victim = -1;
	}
}

static void test_fds_grow(void **state)
{
	struct rlimit rl = { 4096, 4096 };
	struct mx_loop l;

	setrlimit(RLIMIT_NOFILE, &rl);
	mx_loop_init(&l);
	P.l = &l;
	P.victim = -1;
	for (int i = 0; i < NPIPES; i++) {
		assert_int_equal(pipe2(P.fd[i], O_NONBLOCK), 0);
		assert_int_equal(mx_loop_add(&l, P.fd[i][0], POLLIN, "pipes", on_read,
					     (void *)(intptr_t)i), 0);
	}
	assert_int_equal(mx_loop_add(&l, P.fd[0][0], POLLIN, "pipes", on_read, NULL), -EEXIST);
	for (int i = 0; i < NPIPES; i++)
		assert_int_equal(write(P.fd[i][1], "x", 1), 1);
	assert_int_equal(mx_loop_turn(&l), 0);
	for (int i = 0; i < NPIPES; i++)
		assert_int_equal(P.calls[i], 1);

	/* The first callback to run removes the last pipe: it is not called. */
	memset(P.calls, 0, sizeof(P.calls));
	P.victim = NPIPES - 1;
	for (int i = 0; i < NPIPES; i++)
		assert_int_equal(write(P.fd[i][1], "x", 1), 1);
	assert_int_equal(mx_loop_turn(&l), 0);
	assert_int_equal(P.calls[0], 1);
	assert_int_equal(P.calls[NPIPES - 1], 0);
	/* It stays out; the others go on; its fd may come back. */
	memset(P.calls, 0, sizeof(P.calls));
	assert_int_equal(write(P.fd[1][1], "x", 1), 1);
	assert_int_equal(mx_loop_turn(&l), 0);
	assert_int_equal(P.calls[1], 1);
	assert_int_equal(P.calls[NPIPES - 1], 0);
	assert_int_equal(mx_loop_add(&l, P.fd[NPIPES - 1][0], POLLIN, "pipes", on_read,
				     (void *)(intptr_t)(NPIPES - 1)), 0);
	assert_int_equal(mx_loop_turn(&l), 0);
	assert_int_equal(P.calls[NPIPES - 1], 1);	/* its byte was still there */

	for (int i = 0; i < NPIPES; i++) {
		mx_loop_del(&l, P.fd[i][0]);
		close(P.fd[i][0]);
		close(P.fd[i][1]);
	}
	mx_loop_free(&l);
}

static int ticks, onces;

static void tick(void *arg)
{
	ticks++;
}

static void once(void *arg)
{
	onces++;
}

static void test_timers(void **state)
{
	struct mx_timer every, later;
	struct mx_loop l;
	uint64_t t0;

	mx_loop_init(&l);
	assert_int_equal(mx_loop_timer_add(&l, &every, "tick", 10, tick, NULL), 0);
	assert_int_equal(mx_loop_timer_add(&l, &later, "once", 0, once, NULL), 0);
	mx_loop_timer_at(&later, mx_mono_ms() + 30);
	t0 = mx_mono_ms();
	while (mx_mono_ms() - t0 < 105)
		assert_int_equal(mx_loop_turn(&l), 0);	/* poll sleeps until the next timer */
	assert_in_range(ticks, 4, 11);	/* fewer if the machine is busy */
	assert_int_equal(onces, 1);
	assert_in_range(l.stats.turns, 8, 40);	/* no busy waiting */
	mx_loop_timer_del(&l, &every);
	ticks = 0;
	mx_loop_timer_at(&later, mx_mono_ms());
	assert_int_equal(mx_loop_turn(&l), 0);
	assert_int_equal(ticks, 0);
	assert_int_equal(onces, 2);
	mx_loop_free(&l);
}

struct worker {
	uint64_t given_us;	/* the shares it was given */
	uint64_t first_max_us;	/* the largest share when it went first */
	int steps, firsts, stop_after;	/* stop_after: done at that step; 0: never */
	bool wait;
};

static bool turn_begun;		/* nobody was stepped yet in this turn */

/* work - busy until the deadline; notes the share it was given */
static enum mx_task_state work(void *arg, uint64_t deadline_us)
{
	struct worker *w = arg;
	uint64_t now = mx_mono_us(), share = deadline_us > now ? deadline_us - now : 0;

	w->steps++;
	if (w->stop_after && w->steps >= w->stop_after)
		return MX_TASK_DONE;
	if (w->wait)
		return MX_TASK_WAITING;
	if (turn_begun) {
		turn_begun = false;
		w->firsts++;
		if (share > w->first_max_us)
			w->first_max_us = share;
	}
	w->given_us += share;
	while (mx_mono_us() < deadline_us)
		;
	return MX_TASK_BUSY;
}

/*
 * Timing on a shared machine: other processes may take the CPU at any
 * moment, so the checks are on what the loop decides (who goes first,
 * how much is given), not on how long the work took.
 */
static void test_tasks_share_the_slice(void **state)
{
	struct worker a = { 0 }, b = { 0 }, c = { .stop_after = 3 };
	struct mx_task ta, tb, tc;
	struct mx_loop l;

	mx_loop_init(&l);
	mx_task_init(&ta, "a", work, &a);
	mx_task_init(&tb, "b", work, &b);
	mx_task_init(&tc, "c", work, &c);
	assert_int_equal(mx_loop_task_start(&l, &ta), 0);
	assert_int_equal(mx_loop_task_start(&l, &ta), -EALREADY);
	assert_int_equal(mx_loop_task_start(&l, &tb), 0);
	assert_int_equal(mx_loop_task_start(&l, &tc), 0);
	for (int i = 0; i < 40; i++) {
		turn_begun = true;
		assert_int_equal(mx_loop_turn(&l), 0);
	}
	/* c was done at its third step and never stepped again. */
	assert_int_equal(c.steps, 3);
	assert_false(mx_task_running(&tc));
	assert_true(mx_task_running(&ta) && mx_task_running(&tb));
	/* a and b went first in turn, whoever registered first... */
	assert_int_equal(a.steps, 40);
	assert_int_equal(b.steps, 40);
	assert_in_range(a.firsts, 17, 23);
	assert_in_range(b.firsts, 17, 23);
	/* ...going first, never more than an equal part of the slice... */
	assert_in_range(a.first_max_us, 1, MX_SLICE_US / 2);
	assert_in_range(b.first_max_us, 1, MX_SLICE_US / 2);
	/* ...and never more than the slice between them. */
	assert_in_range(a.given_us + b.given_us, 1, 40 * MX_SLICE_US);

	/* Cancelled: not stepped again. */
	mx_loop_task_cancel(&l, &ta);
	a.steps = 0;
	assert_int_equal(mx_loop_turn(&l), 0);
	assert_int_equal(a.steps, 0);
	mx_loop_task_cancel(&l, &tb);

	/* A waiting task keeps the loop looking, every few ms, not spinning. */
	{
		struct worker w = { .wait = true };
		struct mx_task tw;
		uint64_t t0 = mx_mono_ms();

		mx_task_init(&tw, "w", work, &w);
		assert_int_equal(mx_loop_task_start(&l, &tw), 0);
		while (mx_mono_ms() - t0 < 50)
			assert_int_equal(mx_loop_turn(&l), 0);
		assert_in_range(w.steps, 2, 50 / MX_LOOP_WAIT_MS + 2);
		mx_loop_task_cancel(&l, &tw);
	}
	mx_loop_free(&l);
}

static void slowpoke(void *arg)
{
	usleep(60 * 1000);
}

static void test_slow_turn_names_its_parts(void **state)
{
	char path[] = "/tmp/test_loop.XXXXXX", buf[1024] = "";
	int fd = mkstemp(path), saved = dup(2);
	struct mx_timer t;
	struct mx_loop l;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	mx_loop_init(&l);
	assert_int_equal(mx_loop_timer_add(&l, &t, "slowpoke", 0, slowpoke, NULL), 0);
	mx_loop_timer_at(&t, mx_mono_ms());
	fflush(stderr);
	dup2(fd, 2);
	assert_int_equal(mx_loop_turn(&l), 0);
	fflush(stderr);
	dup2(saved, 2);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "a loop turn took "));
	assert_non_null(strstr(buf, "): slowpoke "));
	/* Counted: one slow turn, in the bucket its length falls into. */
	assert_int_equal(l.stats.turns, 1);
	assert_int_equal(l.stats.slow_turns, 1);
	assert_int_equal(l.stats.sum_us, l.stats.busy_max_us);
	assert_true(l.stats.busy_max_us >= 60000);
	for (int b = 0; b <= MX_LOOP_BUCKETS; b++)
		assert_int_equal(l.stats.bucket[b],
				 (b == MX_LOOP_BUCKETS || l.stats.busy_max_us <= mx_loop_bucket_us[b]) &&
				 (b == 0 || l.stats.busy_max_us > mx_loop_bucket_us[b - 1]));
	mx_loop_free(&l);
	close(fd);
	close(saved);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fds_grow),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_tasks_share_the_slice),
		cmocka_unit_test(test_slow_turn_names_its_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
