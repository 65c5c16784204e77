// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_bans.c - bans with owners, list loads, reason texts
 * DESCRIPTION
 *	On in-memory maps made from the XDP program's definitions
 *	(agent_maps.h; no root needed). Each owner's ban is its own: removing
 *	or replacing one owner's never removes or shortens another's, and
 *	the map holds the longest. These are the findings of issue 9: a
 *	1-hour list shortened a 7-day manual ban, and deleting either of two
 *	lists unbanned an address both held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "agent_maps.h"
#include "bans.h"

#define HOUR	(3600ULL * 1000000000ULL)

struct fx {
	struct mx_table t;
	int reasons_fd;
	struct mx_bans b;
};

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	if (table_new(&f.t, "ban", 1024))
		return -1;
	f.reasons_fd = map_new("reasons", 0);
	if (f.reasons_fd < 0 || mx_bans_init(&f.b, &f.t, f.reasons_fd))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mx_bans_free(&f->b);
	table_close(&f->t);
	mx_map_close(f->reasons_fd);
	return 0;
}

static struct mx_prefix pfx(const char *s)
{
	struct mx_prefix p;
	char err[64];

	assert_int_equal(mx_parse_prefix(s, &p, err, sizeof(err)), 0);
	return p;
}

/* claim - an owner's ban for ttl (0: permanent) with a reason */
static void claim(struct fx *f, const char *addr, uint32_t owner, uint64_t ttl, const char *why)
{
	struct mx_prefix p = pfx(addr);
	struct mx_ban c = { .flags = owner, .added_ns = mx_now_ns() };

	c.expires_ns = ttl ? mx_now_ns() + ttl : 0;
	c.reason = mx_bans_reason(&f->b, why);
	assert_int_equal(mx_bans_claim(&f->b, &p, &c), 0);
}

/* in_force - the map's ban of addr: its owner flags and hours left (-1: permanent) */
static bool in_force(struct fx *f, const char *addr, uint32_t *owner, long *hours)
{
	struct mx_prefix p = pfx(addr);
	struct mx_ban v;

	if (mx_table_get(&f->t, &p, &v))
		return false;
	*owner = MX_BAN_OWNER(v.flags);
	*hours = v.expires_ns ? (long)((v.expires_ns - mx_now_ns() + HOUR / 2) / HOUR) : -1;
	return true;
}

static void test_manual_outlives_a_shorter_list(void **state)
{
	struct fx *f = *state;
	uint32_t l1 = mx_bans_list(&f->b, "l1", true), owner;
	struct mx_prefix p = pfx("198.18.0.7");
	long h;

	claim(f, "198.18.0.7", MX_BAN_F_MANUAL, 168 * HOUR, "manual");
	claim(f, "198.18.0.7", MX_BAN_F_BLOCKLIST | l1 << 16, HOUR, "l1: listed");
	assert_true(in_force(f, "198.18.0.7", &owner, &h));
	assert_int_equal(owner, MX_BAN_F_MANUAL);
	assert_int_equal(h, 168);
	/* The list goes: the manual ban stays as it was. */
	assert_int_equal(mx_bans_list_drop(&f->b, l1, NULL), 0);
	assert_true(in_force(f, "198.18.0.7", &owner, &h));
	assert_int_equal(owner, MX_BAN_F_MANUAL);
	assert_int_equal(h, 168);
	/* The operator's goes: nothing is left. */
	assert_int_equal(mx_bans_unclaim(&f->b, &p, MX_BAN_F_MANUAL, 0), 1);
	assert_false(in_force(f, "198.18.0.7", &owner, &h));
	assert_int_equal(f->b.shared_n, 0);
}

/*
 * The generation moves at every change of the bans in force (the DNSBL
 * zone rewrites its files then), not when nothing in force changed.
 */
static void test_generation_moves_with_changes(void **state)
{
	struct fx *f = *state;
	uint32_t l1 = mx_bans_list(&f->b, "l1", true);
	struct mx_prefix p = pfx("198.18.0.8"), q = pfx("198.18.1.0/24");
	uint64_t g = f->b.gen;

	claim(f, "198.18.0.8", MX_BAN_F_MANUAL, HOUR, "manual");
	assert_true(f->b.gen > g);
	g = f->b.gen;
	claim(f, "198.18.0.8", MX_BAN_F_BLOCKLIST | l1 << 16, 2 * HOUR, "l1: x");
	assert_true(f->b.gen > g);
	g = f->b.gen;
	assert_int_equal(mx_bans_unclaim(&f->b, &p, MX_BAN_F_AUTOMATIC, 0), 0);
	assert_int_equal(f->b.gen, g);	/* nobody's claim went */
	assert_int_equal(mx_bans_unclaim(&f->b, &p, MX_BAN_F_MANUAL, 0), 1);
	assert_true(f->b.gen > g);
	g = f->b.gen;
	assert_int_equal(mx_bans_list_drop(&f->b, l1, NULL), 0);
	assert_true(f->b.gen > g);
	claim(f, "198.18.1.0/24", MX_BAN_F_MANUAL, HOUR, "manual");
	assert_int_equal(mx_bans_unclaim(&f->b, &q, MX_BAN_F_MANUAL, 0), 1);
	/* An expired ban removed by the sweep was no longer in force. */
	claim(f, "198.18.0.9", MX_BAN_F_MANUAL, 1, "manual");
	g = f->b.gen;
	p = pfx("198.18.0.9");
	mx_bans_expired(&f->b, &p);
	assert_int_equal(f->b.gen, g);
}

static void test_longest_wins_and_the_next_takes_over(void **state)
{
	struct fx *f = *state;
	uint32_t a = mx_bans_list(&f->b, "a", true), b = mx_bans_list(&f->b, "b", true), owner;
	struct mx_prefix p = pfx("2001:db8::/48");
	struct mx_ban all[8];
	long h;

	claim(f, "2001:db8::/48", MX_BAN_F_BLOCKLIST | a << 16, HOUR, "a: x");
	claim(f, "2001:db8::/48", MX_BAN_F_BLOCKLIST | b << 16, 2 * HOUR, "b: y");
	claim(f, "2001:db8::/48", MX_BAN_F_AUTOMATIC, 0, "spam-trap hits");
	assert_true(in_force(f, "2001:db8::/48", &owner, &h));
	assert_int_equal(owner, MX_BAN_F_AUTOMATIC);
	assert_int_equal(h, -1);
	assert_int_equal(mx_bans_claims(&f->b, &p, all, 8), 3);
	/* Lifted by hand: list b's 2 hours are in force. */
	assert_int_equal(mx_bans_unclaim(&f->b, &p, MX_BAN_F_MANUAL | MX_BAN_F_AUTOMATIC, 0), 1);
	assert_true(in_force(f, "2001:db8::/48", &owner, &h));
	assert_int_equal(owner, MX_BAN_F_BLOCKLIST | b << 16);
	assert_int_equal(h, 2);
	/* Either list goes, the other still holds it. */
	assert_int_equal(mx_bans_list_drop(&f->b, b, NULL), 0);
	assert_true(in_force(f, "2001:db8::/48", &owner, &h));
	assert_int_equal(owner, MX_BAN_F_BLOCKLIST | a << 16);
	assert_int_equal(h, 1);
	/* An owner's new claim replaces its own, whatever its length. */
	claim(f, "2001:db8::/48", MX_BAN_F_BLOCKLIST | a << 16, 3 * HOUR, "a: x");
	assert_true(in_force(f, "2001:db8::/48", &owner, &h));
	assert_int_equal(h, 3);
	claim(f, "2001:db8::/48", MX_BAN_F_BLOCKLIST | a << 16, HOUR, "a: x");
	assert_true(in_force(f, "2001:db8::/48", &owner, &h));
	assert_int_equal(h, 1);
	assert_int_equal(mx_bans_list_drop(&f->b, a, NULL), 0);
	assert_false(in_force(f, "2001:db8::/48", &owner, &h));
}

static void test_a_load_is_committed_or_nothing(void **state)
{
	struct fx *f = *state;
	uint32_t old = mx_bans_list_pending(&f->b, "drop", 7), neu, owner;
	uint64_t removed = 99;
	long h;

	/* The list as it is: x and y. */
	claim(f, "198.18.1.1", MX_BAN_F_BLOCKLIST | old << 16, 0, "drop: x");
	claim(f, "198.18.1.2", MX_BAN_F_BLOCKLIST | old << 16, 0, "drop: x");
	assert_int_equal(mx_bans_list_commit(&f->b, old, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(mx_bans_list(&f->b, "drop", false), old);

	/* A load of y and z that fails: the list is as it was. */
	neu = mx_bans_list_pending(&f->b, "drop", 8);
	assert_int_not_equal(neu, old);
	assert_int_equal(mx_bans_list(&f->b, "drop", false), old);
	claim(f, "198.18.1.2", MX_BAN_F_BLOCKLIST | neu << 16, HOUR, "drop: x");
	claim(f, "198.18.1.3", MX_BAN_F_BLOCKLIST | neu << 16, HOUR, "drop: x");
	assert_int_equal(mx_bans_list_drop(&f->b, neu, NULL), 0);
	assert_true(in_force(f, "198.18.1.1", &owner, &h));
	assert_true(in_force(f, "198.18.1.2", &owner, &h));
	assert_int_equal(h, -1);
	assert_false(in_force(f, "198.18.1.3", &owner, &h));

	/* The same load committed: x goes, y and z are the list. */
	neu = mx_bans_list_pending(&f->b, "drop", 9);
	claim(f, "198.18.1.2", MX_BAN_F_BLOCKLIST | neu << 16, HOUR, "drop: x");
	claim(f, "198.18.1.3", MX_BAN_F_BLOCKLIST | neu << 16, HOUR, "drop: x");
	assert_int_equal(mx_bans_list_commit(&f->b, neu, &removed), 0);
	assert_int_equal(removed, 1);
	assert_false(in_force(f, "198.18.1.1", &owner, &h));
	assert_true(in_force(f, "198.18.1.2", &owner, &h));
	assert_int_equal(owner, MX_BAN_F_BLOCKLIST | neu << 16);
	assert_int_equal(h, 1);
	assert_int_equal(mx_bans_list(&f->b, "drop", false), neu);
	assert_string_equal(mx_bans_list_name(&f->b, old), "");
}

static void test_reasons_go_with_their_last_ban(void **state)
{
	struct fx *f = *state;
	uint32_t l = mx_bans_list(&f->b, "l", true), hidden, shown;
	struct mx_prefix p = pfx("198.18.2.1");

	claim(f, "198.18.2.1", MX_BAN_F_MANUAL, 0, "shown");
	claim(f, "198.18.2.1", MX_BAN_F_BLOCKLIST | l << 16, HOUR, "l: hidden");
	shown = mx_bans_reason(&f->b, "shown");
	hidden = mx_bans_reason(&f->b, "l: hidden");
	/* A pass that sees the map's value only: the shorter claim's reason stays too. */
	mx_bans_gc_begin(&f->b);
	mx_bans_gc_mark(&f->b, shown);
	assert_int_equal(mx_bans_gc_end(&f->b), 0);
	assert_string_equal(mx_bans_reason_text(&f->b, hidden), "l: hidden");
	/* Once nothing names it, the next pass frees it. */
	assert_int_equal(mx_bans_unclaim(&f->b, &p, MX_BAN_F_BLOCKLIST, l), 1);
	mx_bans_gc_begin(&f->b);
	mx_bans_gc_mark(&f->b, shown);
	assert_int_equal(mx_bans_gc_end(&f->b), 1);
	assert_string_equal(mx_bans_reason_text(&f->b, hidden), "");
	/* A text taken during a pass is not freed by it, named or not. */
	mx_bans_gc_begin(&f->b);
	hidden = mx_bans_reason(&f->b, "new during the pass");
	mx_bans_gc_mark(&f->b, shown);
	assert_int_equal(mx_bans_gc_end(&f->b), 0);
	assert_string_equal(mx_bans_reason_text(&f->b, hidden), "new during the pass");
}

static void test_restore_replaces_what_pins_held(void **state)
{
	struct fx *f = *state;
	uint32_t owner, l;
	long h;

	/* An earlier agent's maps: a ban the journal no longer holds, one it does. */
	claim(f, "198.18.3.1", MX_BAN_F_MANUAL, 0, "gone");
	claim(f, "198.18.3.2", MX_BAN_F_BLOCKLIST | 5 << 16, 0, "x: old numbering");
	f->b.restoring = true;
	f->b.restore_ns = mx_now_ns();
	/* The journal: list x (a new id) holds 198.18.3.2 for an hour. */
	l = mx_bans_list(&f->b, "x", true);
	claim(f, "198.18.3.2", MX_BAN_F_BLOCKLIST | l << 16, HOUR, "x: listed");
	mx_bans_restore_done(&f->b);
	assert_false(in_force(f, "198.18.3.1", &owner, &h));
	assert_true(in_force(f, "198.18.3.2", &owner, &h));
	assert_int_equal(owner, MX_BAN_F_BLOCKLIST | l << 16);
	assert_int_equal(h, 1);
	assert_int_equal(f->b.shared_n, 0);	/* no phantom owner from the old map */
}

static void test_many_shared_prefixes(void **state)
{
	struct fx *f = *state;
	uint32_t a = mx_bans_list(&f->b, "a", true), b = mx_bans_list(&f->b, "b", true);
	uint64_t removed;
	char addr[32];

	for (int i = 0; i < 500; i++) {
		snprintf(addr, sizeof(addr), "198.18.%d.%d", 4 + i / 250, i % 250 + 1);
		claim(f, addr, MX_BAN_F_BLOCKLIST | a << 16, HOUR, "a: x");
		claim(f, addr, MX_BAN_F_BLOCKLIST | b << 16, 2 * HOUR, "b: y");
	}
	assert_int_equal(f->b.shared_n, 500);
	assert_int_equal(mx_bans_list_drop(&f->b, b, &removed), 0);
	assert_int_equal(removed, 500);
	assert_int_equal(f->b.shared_n, 0);
	for (int i = 0; i < 500; i++) {
		uint32_t owner;
		long h;

		snprintf(addr, sizeof(addr), "198.18.%d.%d", 4 + i / 250, i % 250 + 1);
		assert_true(in_force(f, addr, &owner, &h));
		assert_int_equal(owner, MX_BAN_F_BLOCKLIST | a << 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_manual_outlives_a_shorter_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_wins_and_the_next_takes_over, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_load_is_committed_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reasons_go_with_their_last_ban, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_replaces_what_pins_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_shared_prefixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_moves_with_changes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
