// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_verdict.c - trap thresholds, windows, escalation, listing, bounds
 * DESCRIPTION
 *	The engine takes its clock from the caller, so every boundary is
 *	tested at its exact second.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "verdict.h"

#define DAY	86400
#define T0	1700000000LL	/* an arbitrary second (the agent gives boot-clock seconds) */

static struct mx_prefix addr(const char *s)
{
	struct mx_prefix p, k;
	char err[128];

	assert_int_equal(mx_parse_addr(s, &p, err, sizeof(err)), 0);
	mx_verdict_key(&p, 32, 64, &k);
	return k;
}

static int setup(void **state)
{
	static struct mx_verdict v;
	struct mx_verdict_settings s;

	mx_verdict_settings_default(&s);
	assert_int_equal(mx_verdict_init(&v, &s), 0);
	*state = &v;
	return 0;
}

static int teardown(void **state)
{
	mx_verdict_free(*state);
	return 0;
}

/* hit - one hit; the decision's return value */
static int hit(struct mx_verdict *v, const struct mx_prefix *p, enum mx_trap_kind k, int64_t t,
	       struct mx_decision *d)
{
	return mx_verdict_trap(v, p, k, 1, t, d);
}

/* The 51st spam-trap hit in 24 h bans for 24 h; the 50th does not. */
static void test_spam_threshold(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.5");
	struct mx_decision d;

	for (int i = 0; i < 50; i++)
		assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + i, &d), 0);
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + 60, &d), 1);
	assert_int_equal(d.kind, MX_TRAP_SPAM);
	assert_int_equal(d.hits, 51);
	assert_int_equal(d.offense, 1);
	assert_int_equal(d.until, T0 + 60 + DAY);
}

/* Backscatter: more than 20; the kinds count apart. */
static void test_backscatter_threshold(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.6");
	struct mx_decision d;

	for (int i = 0; i < 40; i++)
		assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0, &d), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(hit(v, &a, MX_TRAP_BACKSCATTER, T0 + i, &d), 0);
	assert_int_equal(hit(v, &a, MX_TRAP_BACKSCATTER, T0 + 30, &d), 1);
	assert_int_equal(d.kind, MX_TRAP_BACKSCATTER);
	assert_int_equal(d.hits, 21);
}

/* The window slides: a hit exactly 24 h old no longer counts. */
static void test_window_slides(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.7");
	struct mx_decision d;

	for (int i = 0; i < 50; i++)
		hit(v, &a, MX_TRAP_SPAM, T0 + i, &d);
	/* At T0 + DAY the hit of T0 is out: 49 + 1 = 50, no ban. */
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + DAY, &d), 0);
	assert_int_equal(mx_sender_hits(v, mx_verdict_find(v, &a), MX_TRAP_SPAM, T0 + DAY), 50);
	/* One second earlier it would have been 51. */
	struct mx_prefix b = addr("198.18.0.8");

	for (int i = 0; i < 50; i++)
		hit(v, &b, MX_TRAP_SPAM, T0 + i, &d);
	assert_int_equal(hit(v, &b, MX_TRAP_SPAM, T0 + DAY - 1, &d), 1);
}

/* Under a ban, more hits ask for nothing; uncommitted, the next hit asks again. */
static void test_banned_and_uncommitted(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.9");
	struct mx_decision d;

	assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_SPAM, 51, T0, &d), 1);
	/* Not committed (the journal refused it): the next hit asks again. */
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + 1, &d), 1);
	mx_verdict_banned(v, &a, &d, T0 + 1);
	for (int i = 0; i < 100; i++)
		assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + 2 + i, &d), 0);
	assert_int_equal(v->bans, 1);
}

/* 24 h, then 7 days, then permanent; a ban long after starts over. */
static void test_escalation(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.10");
	struct mx_decision d;
	int64_t t = T0;

	assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_SPAM, 51, t, &d), 1);
	assert_int_equal(d.offense, 1);
	assert_int_equal(d.until, t + DAY);
	mx_verdict_banned(v, &a, &d, t);

	t += DAY + 3600;		/* an hour after it ended: a repeat */
	assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_BACKSCATTER, 21, t, &d), 1);
	assert_int_equal(d.offense, 2);
	assert_int_equal(d.until, t + 7 * DAY);
	mx_verdict_banned(v, &a, &d, t);

	t += 7 * DAY + 30 * DAY;	/* exactly repeat_window after it ended */
	assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_SPAM, 51, t, &d), 1);
	assert_int_equal(d.offense, 3);
	assert_int_equal(d.until, MX_FOREVER);
	mx_verdict_banned(v, &a, &d, t);

	/* Permanent: nothing more, ever, until an operator lifts it. */
	assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_SPAM, 51, t + 365 * DAY, &d), 0);
	mx_verdict_unbanned(v, &a, t + 365 * DAY);
	/* Lifted, then trapped again the next day: still the same row. */
	assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_SPAM, 51, t + 366 * DAY, &d), 1);
	assert_int_equal(d.offense, 4);
	assert_int_equal(d.until, MX_FOREVER);

	/* A sender whose last ban ended more than 30 days ago starts over. */
	struct mx_prefix b = addr("198.18.0.11");

	assert_int_equal(mx_verdict_trap(v, &b, MX_TRAP_SPAM, 51, T0, &d), 1);
	mx_verdict_banned(v, &b, &d, T0);
	assert_int_equal(mx_verdict_trap(v, &b, MX_TRAP_SPAM, 51, T0 + DAY + 30 * DAY + 1, &d), 1);
	assert_int_equal(d.offense, 1);
	assert_int_equal(d.until, T0 + 31 * DAY + 1 + DAY);
}

/* Settings change the figures; permanent_after 0 never goes permanent. */
static void test_settings(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_verdict_settings s;
	struct mx_prefix a = addr("198.18.0.12");
	struct mx_decision d;
	int64_t t = T0;

	mx_verdict_settings_default(&s);
	s.trap_hits[MX_TRAP_SPAM] = 2;
	s.trap_window[MX_TRAP_SPAM] = 60;
	s.trap_ban[MX_TRAP_SPAM] = 600;
	s.repeat_window = 3600;
	s.repeat_ban = 1200;
	s.permanent_after = 0;
	assert_int_equal(mx_verdict_configure(v, &s), 0);
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, t, &d), 0);
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, t, &d), 0);
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, t + 59, &d), 1);
	assert_int_equal(d.until, t + 59 + 600);
	mx_verdict_banned(v, &a, &d, t + 59);
	for (int round = 2; round < 10; round++) {
		t = d.until + 10;
		assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_SPAM, 3, t, &d), 1);
		assert_int_equal(d.offense, round);
		assert_int_equal(d.until, t + 1200);
		mx_verdict_banned(v, &a, &d, t);
	}
}

/* A smaller threshold on reload keeps the newest hits. */
static void test_resize(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_verdict_settings s;
	struct mx_prefix a = addr("198.18.0.13");
	struct mx_decision d;

	for (int i = 0; i < 40; i++)
		hit(v, &a, MX_TRAP_SPAM, T0 + i, &d);
	mx_verdict_settings_default(&s);
	s.trap_hits[MX_TRAP_SPAM] = 9;
	assert_int_equal(mx_verdict_configure(v, &s), 0);
	assert_int_equal(mx_sender_hits(v, mx_verdict_find(v, &a), MX_TRAP_SPAM, T0 + 40), 10);
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + 41, &d), 1);
	s.trap_hits[MX_TRAP_SPAM] = 100;
	assert_int_equal(mx_verdict_configure(v, &s), 0);
	assert_int_equal(mx_sender_hits(v, mx_verdict_find(v, &a), MX_TRAP_SPAM, T0 + 41), 10);
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + 42, &d), 0);
}

/* Addresses in one /64 are one sender; IPv4 is per address. */
static void test_keys(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("2001:db8:1:2::1"), b = addr("2001:db8:1:2:ffff::9");
	struct mx_prefix c = addr("2001:db8:1:3::1"), d4 = addr("198.18.0.20");
	struct mx_prefix e4 = addr("198.18.0.21");
	struct mx_decision d;

	assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_SPAM, 30, T0, &d), 0);
	assert_int_equal(mx_verdict_trap(v, &c, MX_TRAP_SPAM, 30, T0, &d), 0);
	assert_int_equal(mx_verdict_trap(v, &b, MX_TRAP_SPAM, 21, T0, &d), 1);
	assert_int_equal(a.len, 64);
	assert_int_equal(mx_verdict_trap(v, &d4, MX_TRAP_SPAM, 50, T0, &d), 0);
	assert_int_equal(mx_verdict_trap(v, &e4, MX_TRAP_SPAM, 1, T0, &d), 0);
	assert_int_equal(v->count, 4);
	/* ::ffff:198.18.0.20 is 198.18.0.20, not one /64 for every IPv4 client. */
	struct mx_prefix m = addr("::ffff:198.18.0.20");

	assert_int_equal(m.family, AF_INET);
	assert_int_equal(m.len, 32);
	assert_int_equal(mx_verdict_trap(v, &m, MX_TRAP_SPAM, 1, T0, &d), 1);
	assert_int_equal(v->count, 4);
}

/* Spam lists a sender; one clean mail delists it; so does listed_ttl. */
static void test_listing(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.30"), b = addr("198.18.0.31");

	assert_false(mx_verdict_listed(v, &a, T0));
	assert_int_equal(mx_verdict_mail(v, &a, false, T0), 0);
	assert_int_equal(mx_verdict_mail(v, &a, true, T0), 1);
	assert_int_equal(mx_verdict_mail(v, &a, true, T0 + 5), 0);
	assert_true(mx_verdict_listed(v, &a, T0 + 6 * DAY));
	assert_int_equal(mx_verdict_mail(v, &a, false, T0 + 6 * DAY), 1);
	assert_false(mx_verdict_listed(v, &a, T0 + 6 * DAY));

	assert_int_equal(mx_verdict_mail(v, &b, true, T0), 1);
	assert_true(mx_verdict_listed(v, &b, T0 + 7 * DAY - 1));
	assert_false(mx_verdict_listed(v, &b, T0 + 7 * DAY));
	assert_int_equal(v->listed, 2);
	assert_int_equal(v->delisted, 1);
}

static int evictions_with_class;

static void count_evicted(const struct mx_sender *e, void *arg)
{
	evictions_with_class += e->auto_class != 0;
	(*(int *)arg)++;
}

/* The table is bounded: the sender idle longest goes first, and its owner is told. */
static void test_bounded(void **state)
{
	int told = 0;
	struct mx_verdict v;
	struct mx_verdict_settings s;
	struct mx_decision d;
	char text[32];

	mx_verdict_settings_default(&s);
	s.max_senders = 100;
	assert_int_equal(mx_verdict_init(&v, &s), 0);
	v.evicted_cb = count_evicted;
	v.evicted_arg = &told;
	{
		struct mx_prefix c = addr("198.18.9.9");

		assert_int_equal(mx_verdict_auto_class(&v, &c, 1, 1, T0 + DAY, T0 - 1), 0);
	}
	for (int i = 0; i < 1000; i++) {
		struct mx_prefix p;

		snprintf(text, sizeof(text), "198.18.%d.%d", i / 250, i % 250);
		p = addr(text);
		assert_int_equal(mx_verdict_trap(&v, &p, MX_TRAP_SPAM, 1, T0 + i, &d), 0);
	}
	assert_int_equal(v.count, 100);
	assert_int_equal(v.evicted, 901);
	assert_int_equal(told, 901);
	assert_int_equal(evictions_with_class, 1);
	struct mx_prefix newest = addr("198.18.3.249"), oldest = addr("198.18.0.0");

	assert_non_null(mx_verdict_find(&v, &newest));
	assert_null(mx_verdict_find(&v, &oldest));
	/* A huge count is bounded by the ring, and still decides. */
	assert_int_equal(mx_verdict_trap(&v, &newest, MX_TRAP_SPAM, 4000000000U, T0 + 1000, &d), 1);
	assert_int_equal(d.hits, 51);
	/* Fewer allowed on reload: evicts down to the new bound. */
	s.max_senders = 10;
	assert_int_equal(mx_verdict_configure(&v, &s), 0);
	assert_int_equal(v.count, 10);
	assert_non_null(mx_verdict_find(&v, &newest));
	/* More allowed: the table grows its buckets and keeps every entry. */
	s.max_senders = 100000;
	assert_int_equal(mx_verdict_configure(&v, &s), 0);
	assert_int_equal(v.count, 10);
	assert_non_null(mx_verdict_find(&v, &newest));
	mx_verdict_free(&v);
}

/* walk_count - count the senders walked, and the listed ones (mx_verdict_walk) */
static int walk_count(const struct mx_sender *e, void *arg)
{
	int *n = arg;

	n[0]++;
	n[1] += e->listed_since != 0;
	return 0;
}

/*
 * A walk a few buckets at a time sees every sender once, however small its
 * steps; listed senders evicted for room are counted (the DNSBL zone).
 */
static void test_walk_and_listed_evicted(void **state)
{
	struct mx_verdict v;
	struct mx_verdict_settings s;
	char text[32];
	int n[2] = { 0, 0 }, r, steps = 0;
	uint32_t cursor = 0;

	mx_verdict_settings_default(&s);
	s.max_senders = 2048;
	assert_int_equal(mx_verdict_init(&v, &s), 0);
	for (int i = 0; i < 3000; i++) {
		struct mx_prefix p;

		snprintf(text, sizeof(text), "198.18.%d.%d", i / 250, i % 250);
		p = addr(text);
		assert_int_equal(mx_verdict_mail(&v, &p, i % 3 == 0, T0 + i), i % 3 == 0);
		if (i % 3)
			assert_int_equal(mx_verdict_auto_class(&v, &p, 1, 1, T0 + DAY, T0 + i), 0);
	}
	assert_int_equal(v.count, 2048);
	assert_int_equal(v.evicted, 952);
	/* The oldest 952 went, every third of them listed. */
	assert_int_equal(v.listed_evicted, 318);
	while ((r = mx_verdict_walk(&v, &cursor, 7, walk_count, n)) == 0)
		steps++;
	assert_int_equal(r, 1);
	assert_true(steps >= (int)(v.nbuckets / 7));
	assert_int_equal(n[0], 2048);
	assert_int_equal(n[1], 1000 - 318);
	/* Walked to the end, it stays there. */
	assert_int_equal(mx_verdict_walk(&v, &cursor, 7, walk_count, n), 1);
	assert_int_equal(n[0], 2048);
	mx_verdict_free(&v);
}

/* Expiry drops what no longer matters and keeps what does. */
static void test_expire(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix idle = addr("198.18.0.40"), banned = addr("198.18.0.41");
	struct mx_prefix perm = addr("198.18.0.42"), listed = addr("198.18.0.43");
	struct mx_decision d;

	hit(v, &idle, MX_TRAP_SPAM, T0, &d);
	assert_int_equal(mx_verdict_trap(v, &banned, MX_TRAP_SPAM, 51, T0, &d), 1);
	mx_verdict_banned(v, &banned, &d, T0);
	mx_verdict_restore_ban(v, &perm, 3, T0, MX_FOREVER);
	mx_verdict_mail(v, &listed, true, T0);
	/* Two days on: the idle one's hit is out of its window. */
	assert_int_equal(mx_verdict_expire(v, T0 + 2 * DAY, 1U << 20), 1);
	assert_null(mx_verdict_find(v, &idle));
	assert_non_null(mx_verdict_find(v, &banned));
	/* 31 days after the ban ended, its history no longer escalates anything. */
	assert_int_equal(mx_verdict_expire(v, T0 + DAY + 30 * DAY + 1, 1U << 20), 2);
	assert_null(mx_verdict_find(v, &banned));
	assert_null(mx_verdict_find(v, &listed));
	assert_non_null(mx_verdict_find(v, &perm));
	assert_int_equal(mx_verdict_forget(v, &perm), 1);
	assert_int_equal(mx_verdict_forget(v, &perm), 0);
	assert_int_equal(v->count, 0);
}

/* Restored hits decide as the live ones did. */
static void test_restore(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.50");
	struct mx_decision d;

	assert_int_equal(mx_verdict_restore_hits(v, &a, MX_TRAP_SPAM, T0, 30), 0);
	assert_int_equal(mx_verdict_restore_hits(v, &a, MX_TRAP_SPAM, T0 + 10, 20), 0);
	assert_int_equal(mx_verdict_restore_hits(v, &a, 7, T0, 1), -EINVAL);
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + 20, &d), 1);
	assert_int_equal(mx_verdict_restore_ban(v, &a, 1, T0, T0 + DAY), 0);
	assert_int_equal(hit(v, &a, MX_TRAP_SPAM, T0 + DAY + 5, &d), 0);
	assert_int_equal(mx_verdict_trap(v, &a, MX_TRAP_SPAM, 50, T0 + DAY + 6, &d), 1);
	assert_int_equal(d.offense, 2);
	assert_int_equal(mx_verdict_restore_listed(v, &a, T0, MX_FOREVER), 0);
	assert_true(mx_verdict_listed(v, &a, T0 + 1000 * DAY));
	assert_int_equal(mx_verdict_restore_listed(v, &a, 0, 0), 0);
	assert_false(mx_verdict_listed(v, &a, T0));
}

/* An automatic class is kept, refreshed and taken back; it keeps its sender. */
static void test_auto_class(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.60");

	assert_int_equal(mx_verdict_auto_class(v, &a, 0, 0, 0, T0), 0);	/* nothing to take back */
	assert_null(mx_verdict_find(v, &a));
	assert_int_equal(mx_verdict_auto_class(v, &a, 1, 2, T0 + DAY, T0), 0);
	assert_int_equal(mx_verdict_find(v, &a)->auto_class, 1);
	assert_int_equal(mx_verdict_find(v, &a)->auto_reasons, 2);
	/* Nothing else known of it, yet it is not expired while the class stands. */
	assert_int_equal(mx_verdict_expire(v, T0 + 400 * DAY, 1U << 20), 0);
	assert_int_equal(mx_verdict_auto_class(v, &a, 0, 2, 0, T0), 0);
	assert_int_equal(mx_verdict_find(v, &a)->auto_class, 0);
	assert_int_equal(mx_verdict_find(v, &a)->auto_reasons, 0);
	assert_int_equal(mx_verdict_expire(v, T0 + 1, 1U << 20), 1);
}

static void test_kind_names(void **state)
{
	enum mx_trap_kind k;

	assert_int_equal(mx_trap_kind_parse("spam", &k), 0);
	assert_int_equal(k, MX_TRAP_SPAM);
	assert_int_equal(mx_trap_kind_parse("backscatter", &k), 0);
	assert_int_equal(k, MX_TRAP_BACKSCATTER);
	assert_int_equal(mx_trap_kind_parse("Spam", &k), -1);
	assert_int_equal(mx_trap_kind_parse("", &k), -1);
	assert_string_equal(mx_trap_kind_name(MX_TRAP_BACKSCATTER), "backscatter");
}

/* 300 messages in any 60 s are accepted, the 301st is not; the first ages out at exactly 60 s. */
static void test_messages_per_minute(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.1"), b = addr("198.18.0.2");
	const int64_t t0 = T0 * 1000;
	struct mx_sender *e;

	for (int i = 0; i < 300; i++)
		assert_int_equal(mx_verdict_message(v, &a, 300, 60000, t0 + i * 10, T0), 1);
	assert_int_equal(mx_verdict_message(v, &a, 300, 60000, t0 + 3000, T0 + 3), 0);
	/* Another sender has its own minute. */
	assert_int_equal(mx_verdict_message(v, &b, 300, 60000, t0 + 3000, T0 + 3), 1);
	/* A ms before the first message's minute ends: still 300 in it. */
	assert_int_equal(mx_verdict_message(v, &a, 300, 60000, t0 + 59999, T0 + 59), 0);
	/* At 60 s the first is out: one more; the second is out 10 ms later. */
	assert_int_equal(mx_verdict_message(v, &a, 300, 60000, t0 + 60000, T0 + 60), 1);
	assert_int_equal(mx_verdict_message(v, &a, 300, 60000, t0 + 60005, T0 + 60), 0);
	assert_int_equal(mx_verdict_message(v, &a, 300, 60000, t0 + 60010, T0 + 60), 1);
	e = mx_verdict_find(v, &a);
	assert_int_equal(mx_sender_messages(e, 60000, t0 + 60010), 300);
	assert_int_equal(e->messages, 302);
	/* A smaller limit (another class) keeps the newest; no limit counts only. */
	assert_int_equal(mx_verdict_message(v, &a, 10, 60000, t0 + 60020, T0 + 60), 0);
	assert_int_equal(mx_verdict_message(v, &a, 0, 60000, t0 + 60030, T0 + 60), 1);
	assert_int_equal(mx_sender_messages(e, 60000, t0 + 200000), 0);
	assert_int_equal(mx_verdict_message(v, &a, 10, 60000, t0 + 300000, T0 + 300), 1);
	assert_int_equal(e->msgs.size, 10);
	assert_int_equal(mx_sender_messages(e, 60000, t0 + 300000), 1);
}

/* The 10th one-message session in 10 minutes is the habit; a bulk session clears it. */
static void test_one_message_sessions(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.1");

	for (int i = 0; i < 9; i++)
		assert_int_equal(mx_verdict_session(v, &a, 1, T0 + i * 60), 0);
	assert_int_equal(mx_verdict_session(v, &a, 0, T0 + 540), 0);	/* no message: nothing */
	assert_int_equal(mx_verdict_session(v, &a, 1, T0 + 599), 1);
	/* Ten again, but the first is out of the window at T0 + 600. */
	assert_int_equal(mx_verdict_session(v, &a, 3, T0 + 599), 0);
	assert_int_equal(mx_sender_single(v, mx_verdict_find(v, &a), T0 + 599), 0);
	for (int i = 0; i < 9; i++)
		assert_int_equal(mx_verdict_session(v, &a, 1, T0 + 1000 + i * 70), 0);
	assert_int_equal(mx_verdict_session(v, &a, 1, T0 + 1000 + 600), 0);	/* 9 in the window */
	assert_int_equal(mx_verdict_session(v, &a, 1, T0 + 1000 + 601), 1);
	/* Restored the same way, from the journal's sessions. */
	assert_int_equal(mx_verdict_restore_session(v, &a, 2, T0 + 1700), 0);
	assert_int_equal(mx_sender_single(v, mx_verdict_find(v, &a), T0 + 1700), 0);
}

/* A clean sample schedules the delisting at a wall-clock time; spam cancels it. */
static void test_delisting(void **state)
{
	struct mx_verdict *v = *state;
	struct mx_prefix a = addr("198.18.0.1"), b = addr("198.18.0.2");
	const int64_t wall0 = 1800000000LL, midnight = wall0 + 5000;
	struct mx_sender *e;

	v->wall_minus_boot_s = wall0 - T0;
	assert_int_equal(mx_verdict_sample(v, &a, midnight, T0), 0);	/* not listed */
	assert_int_equal(mx_verdict_mail(v, &a, true, T0), 1);
	assert_int_equal(mx_verdict_sample(v, &a, midnight, T0 + 10), 1);
	e = mx_verdict_find(v, &a);
	assert_int_equal(e->delist_wall_s, midnight);
	assert_true(mx_sender_delisting(v, e, T0 + 10));
	/* A later sample does not move the day. */
	assert_int_equal(mx_verdict_sample(v, &a, midnight + 86400, T0 + 20), 1);
	assert_int_equal(e->delist_wall_s, midnight);
	/* Midnight minus a second: listed; midnight: not. */
	assert_true(mx_verdict_listed(v, &a, T0 + 4999));
	assert_false(mx_verdict_listed(v, &a, T0 + 5000));
	/* The wall clock set forward past midnight: the day has begun. */
	v->wall_minus_boot_s += 5000;
	assert_false(mx_verdict_listed(v, &a, T0 + 30));
	v->wall_minus_boot_s -= 5000;
	assert_true(mx_verdict_listed(v, &a, T0 + 30));
	/* Spam before midnight cancels it; the sender stays listed past it. */
	assert_int_equal(mx_verdict_mail(v, &a, true, T0 + 40), 0);
	assert_int_equal(e->delist_wall_s, 0);
	assert_true(mx_verdict_listed(v, &a, T0 + 6000));
	assert_int_equal(e->spam_mails, 2);
	assert_int_equal(e->samples, 2);
	/* Restored: LISTED clears a schedule, DELIST_AT after it sets one. */
	assert_int_equal(mx_verdict_restore_listed(v, &b, T0, MX_FOREVER), 0);
	assert_int_equal(mx_verdict_restore_delist(v, &b, midnight), 0);
	assert_false(mx_verdict_listed(v, &b, T0 + 5000));
	assert_int_equal(mx_verdict_restore_listed(v, &b, T0, MX_FOREVER), 0);
	assert_true(mx_verdict_listed(v, &b, T0 + 5000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spam_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backscatter_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_slides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banned_and_uncommitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escalation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing, setup, teardown),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_walk_and_listed_evicted),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_class, setup, teardown),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test_setup_teardown(test_messages_per_minute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_message_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delisting, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
