// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_clock.c - the wall clock jumps; the verdicts and the state do not
 * DESCRIPTION
 *	An agent on in-memory maps made from the XDP program's definitions
 *	(agent_maps.h; no root needed), its verdict engine fed by
 *	senders.c and read through the CLI, with the clocks moved by
 *	mx_clock_test_set(): the wall clock jumps as people and NTP make it
 *	jump, the boot clock moves as time passes. While running, only the
 *	passing of time may change windows, bans, listings and classes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent_maps.h"
#include "clock.h"
#include "commands.h"

#define HOUR	(3600 * MX_NS_PER_S)
#define DAY	(24 * HOUR)
#define YEAR	(365 * DAY)

struct fixture {
	struct agent a;
	char dir[64];
	char *out;
	size_t out_len;
	int64_t boot, wall;	/* the clocks' offsets now */
	char boot_id[32];	/* "": the real boot */
};

/* move - the wall clock jumps by dwall; time passes by dboot (both move) */
static void move(struct fixture *f, int64_t dwall, int64_t dboot)
{
	f->boot += dboot;
	f->wall += dwall + dboot;
	mx_clock_test_set(f->boot, f->wall, f->boot_id[0] ? f->boot_id : NULL);
}

/*
 * reboot - a new boot: its clock starts again (30 s in), down after the
 * last one ended by the wall clock, which is off by dwall
 */
static void reboot(struct fixture *f, int64_t down, int64_t dwall)
{
	static int n;
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	f->boot = 30 * MX_NS_PER_S - ((int64_t)ts.tv_sec * MX_NS_PER_S + ts.tv_nsec);
	f->wall += down + dwall;
	snprintf(f->boot_id, sizeof(f->boot_id), "test-boot-%d", ++n);
	mx_clock_test_set(f->boot, f->wall, f->boot_id);
}

static void agent_new(struct fixture *f)
{
	int err;

	memset(&f->a, 0, sizeof(f->a));
	err = agent_maps_create(&f->a, 64);
	if (err)
		fail_msg("creating the maps: %s", strerror(-err));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	mx_clock_test_set(0, 0, NULL);
	agent_new(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mxguard-clock.XXXXXX");
	if (!mkdtemp(f->dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->a.store.state.on)
		mx_persist_close(&f->a.store.state.persist);
	agent_maps_close(&f->a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd))
		(void)0;
	free(f->out);
	free(f);
	mx_clock_test_set(0, 0, NULL);
	return 0;
}

/* run - a command line through the CLI's commands; JSON output in f->out */
static int run(struct fixture *f, const char *line)
{
	struct mx_cmd_ctx c = { .agent = &f->a, .json = true };
	char buf[256], *argv[16], *tok, *save = NULL;
	int argc = 0, r;
	FILE *err = fopen("/dev/null", "w");

	free(f->out);
	c.out = open_memstream(&f->out, &f->out_len);
	c.err = err;
	c.jw = jsonw_new(c.out);
	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 15; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	r = mx_run_command(&c, argc, argv);
	jsonw_destroy(&c.jw);
	fclose(c.out);
	fclose(err);
	return r;
}

/* field - a number field of the last JSON output; -1 if absent or null */
static long long field(struct fixture *f, const char *name)
{
	char key[64], *p;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = f->out ? strstr(f->out, key) : NULL;
	if (!p || !strncmp(p + strlen(key), "null", 4))
		return -1;
	return strtoll(p + strlen(key), NULL, 10);
}

/* flag - a boolean field of the last JSON output */
static bool flag(struct fixture *f, const char *name)
{
	char key[64];

	snprintf(key, sizeof(key), "\"%s\":true", name);
	return f->out && strstr(f->out, key);
}

static struct mx_prefix pfx(const char *s)
{
	struct mx_prefix p;

	assert_int_equal(mx_parse_prefix(s, &p, NULL, 0), 0);
	return p;
}

/* trap - count spam-trap hits from s; true if that banned it */
static bool trap(struct fixture *f, const char *s, uint32_t count)
{
	struct mx_prefix p = pfx(s);
	struct sender_result res;
	char err[256];

	assert_int_equal(senders_trap(&f->a.senders, &p, MX_TRAP_SPAM, count, &res, err, sizeof(err)), 0);
	return res.banned;
}

/* ban_left_s - seconds left of the ban on s in the map; -1: none, 0: permanent */
static long long ban_left_s(struct fixture *f, const char *s)
{
	struct mx_prefix p = pfx(s);
	struct mx_ban b;

	if (mx_table_get(&f->a.store.bans, &p, &b))
		return -1;
	if (!b.expires_ns)
		return 0;
	return ((long long)b.expires_ns - (long long)mx_now_ns()) / MX_NS_PER_S;
}

/* show - sender show s, JSON in f->out */
static void show(struct fixture *f, const char *s)
{
	char line[96];

	snprintf(line, sizeof(line), "sender show %s", s);
	assert_int_equal(run(f, line), 0);
}

/* tick - senders_tick often enough for the class sweep to have looked at every sender */
static void tick(struct fixture *f)
{
	for (int i = 0; i < 30; i++)
		senders_tick(&f->a.senders);
}

/* Trap windows count the time that passed, whatever the wall clock did. */
static void test_trap_window_while_running(void **state)
{
	struct fixture *f = *state;

	assert_false(trap(f, "198.18.0.1", 30));
	move(f, 2 * DAY, 0);		/* the wall clock two days ahead */
	show(f, "198.18.0.1");
	assert_int_equal(field(f, "spamtrap_hits"), 30);
	assert_true(trap(f, "198.18.0.1", 21));
	assert_true(ban_left_s(f, "198.18.0.1") > DAY / MX_NS_PER_S - 5);

	assert_false(trap(f, "198.18.0.2", 30));
	move(f, -30 * DAY, 0);		/* back a month */
	move(f, 0, DAY);		/* and a day passes: the 30 hits are out */
	show(f, "198.18.0.2");
	assert_int_equal(field(f, "spamtrap_hits"), 0);
	assert_false(trap(f, "198.18.0.2", 21));
}

/* A ban's time and the repeat window are the time that passed. */
static void test_ban_and_repeat_while_running(void **state)
{
	struct fixture *f = *state;

	assert_true(trap(f, "198.18.0.3", 51));
	move(f, 2 * DAY, 0);	/* still banned: more hits ask for nothing */
	assert_false(trap(f, "198.18.0.3", 51));
	show(f, "198.18.0.3");
	assert_true(flag(f, "banned"));
	assert_int_equal(field(f, "bans_in_a_row"), 1);
	assert_true(field(f, "ban_ends_in_s") > DAY / MX_NS_PER_S - 5);

	assert_int_equal(run(f, "ban del 198.18.0.3"), 0);
	move(f, 60 * DAY, 0);	/* lifted a minute ago, whatever the wall clock says */
	assert_true(trap(f, "198.18.0.3", 51));
	show(f, "198.18.0.3");
	assert_int_equal(field(f, "bans_in_a_row"), 2);
	assert_true(ban_left_s(f, "198.18.0.3") > 7 * DAY / MX_NS_PER_S - 5);

	/* Set back, the wall clock does not make a lifted ban recent. */
	assert_true(trap(f, "198.18.0.4", 51));
	assert_int_equal(run(f, "ban del 198.18.0.4"), 0);
	move(f, -60 * DAY, 31 * DAY);	/* a month passes, the clock set back two */
	assert_true(trap(f, "198.18.0.4", 51));
	show(f, "198.18.0.4");
	assert_int_equal(field(f, "bans_in_a_row"), 1);
}

/* A listing ends after listed_ttl of time that passed. */
static void test_listing_while_running(void **state)
{
	struct fixture *f = *state;
	struct mx_prefix a = pfx("198.18.0.5"), b = pfx("198.18.0.6");
	struct sender_result res;
	char err[256];

	assert_int_equal(senders_mail(&f->a.senders, &a, true, &res, err, sizeof(err)), 0);
	move(f, 30 * DAY, 0);
	show(f, "198.18.0.5");
	assert_true(flag(f, "listed"));

	assert_int_equal(senders_mail(&f->a.senders, &b, true, &res, err, sizeof(err)), 0);
	move(f, -30 * DAY, 7 * DAY);
	show(f, "198.18.0.6");
	assert_false(flag(f, "listed"));
}

/* The next delisting time: local midnight (or delist_time), whatever DST does. */
static void test_next_day(void **state)
{
	char *tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	/* 2026-11-30 00:00:00 UTC is 1795996800. */
	assert_int_equal(mx_wall_next_time(1795996800 - 1, 0), 1795996800);
	assert_int_equal(mx_wall_next_time(1795996800, 0), 1795996800 + 86400);
	assert_int_equal(mx_wall_next_time(1795996800 + 43200, 0), 1795996800 + 86400);
	assert_int_equal(mx_wall_next_time(1795996800, 6 * 60 + 30), 1795996800 + 6 * 3600 + 1800);
	assert_int_equal(mx_wall_next_time(1795996800 + 7 * 3600, 6 * 60 + 30),
			 1795996800 + 86400 + 6 * 3600 + 1800);
	/* Berlin, the night DST ends (2026-10-25): that day lasts 25 hours. */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	/* 2026-10-24 22:00 UTC is Berlin's midnight of the 25th (CEST, +2). */
	assert_int_equal(mx_wall_next_time(1792879200 - 1, 0), 1792879200);
	assert_int_equal(mx_wall_next_time(1792879200, 0), 1792879200 + 25 * 3600);
	if (tz)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(tz);
}

/* An automatic class lasts ptr_class_ttl of time that passed. */
static void test_auto_class_while_running(void **state)
{
	struct fixture *f = *state;
	struct mx_prefix a = pfx("198.18.0.7"), b = pfx("198.18.0.8");
	struct mx_class_ref ref;

	assert_int_equal(senders_auto(&f->a.senders, &a, MX_AUTO_PTR, false), 1);
	move(f, 2 * DAY, 0);
	tick(f);
	assert_int_equal(mx_table_get(&f->a.store.classes, &a, &ref), 0);
	show(f, "198.18.0.7");
	assert_true(field(f, "auto_class_ends_in_s") > DAY / MX_NS_PER_S - 5);

	assert_int_equal(senders_auto(&f->a.senders, &b, MX_AUTO_PTR, false), 1);
	move(f, -2 * DAY, DAY + HOUR);
	tick(f);
	assert_int_not_equal(mx_table_get(&f->a.store.classes, &b, &ref), 0);
	assert_int_not_equal(mx_table_get(&f->a.store.classes, &a, &ref), 0);
}

/* open_state - the agent restores its state directory */
static void open_state(struct fixture *f)
{
	f->a.store.state.dir = f->dir;
	assert_int_equal(state_open(&f->a.store), 0);
}

/* stop - the agent stops: a clean stop writes a snapshot, a crash does not */
static void stop(struct fixture *f, bool clean)
{
	if (clean) {
		state_close(&f->a.store);
	} else {
		state_sync(&f->a.store);
		mx_persist_close(&f->a.store.state.persist);
		f->a.store.state.on = false;
	}
	agent_maps_close(&f->a);
}

/* start - a new agent on new maps restores the state directory */
static void start(struct fixture *f)
{
	agent_new(f);
	open_state(f);
}

/* ban_ns - the boot-clock expiry of the ban on s; -1: none */
static long long ban_ns(struct fixture *f, const char *s)
{
	struct mx_prefix p = pfx(s);
	struct mx_ban b;

	return mx_table_get(&f->a.store.bans, &p, &b) ? -1 : (long long)b.expires_ns;
}

/*
 * A snapshot is written in slices while hits go on: those before its
 * cut are in it, those after are in the journal that follows, none in
 * both and none lost, even within the cut's own second.
 */
static void test_snapshot_cut_counts_each_hit_once(void **state)
{
	struct fixture *f = *state;
	struct mx_prefix s1 = pfx("198.18.2.3");

	open_state(f);
	assert_false(trap(f, "198.18.2.1", 10));
	senders_session_end(&f->a.senders, &s1, 1);
	assert_true(state_snapshot_start(&f->a.store));
	/* The same second, after the cut: stamped a second later. */
	assert_false(trap(f, "198.18.2.1", 5));
	assert_false(trap(f, "198.18.2.2", 7));
	senders_session_end(&f->a.senders, &s1, 1);
	assert_int_equal(state_snapshot(&f->a.store), 0);
	assert_false(trap(f, "198.18.2.1", 1));
	show(f, "198.18.2.1");
	assert_int_equal(field(f, "spamtrap_hits"), 16);
	stop(f, false);
	start(f);
	show(f, "198.18.2.1");
	assert_int_equal(field(f, "spamtrap_hits"), 16);
	show(f, "198.18.2.2");
	assert_int_equal(field(f, "spamtrap_hits"), 7);
	show(f, "198.18.2.3");
	assert_int_equal(field(f, "one_message_sessions"), 2);
	/* And through a clean stop in the same second (a whole snapshot, an empty journal). */
	stop(f, true);
	start(f);
	show(f, "198.18.2.1");
	assert_int_equal(field(f, "spamtrap_hits"), 16);
	show(f, "198.18.2.3");
	assert_int_equal(field(f, "one_message_sessions"), 2);
}

/* state_of_many - bans, hits, a listing, a class; their ban expiries in e[2] */
static void state_of_many(struct fixture *f, long long e[2])
{
	struct mx_prefix l = pfx("198.18.1.3"), c = pfx("198.18.1.4");
	struct sender_result res;
	char err[256];

	assert_int_equal(run(f, "ban add 198.18.1.1 ttl 1h reason by-hand"), 0);
	assert_false(trap(f, "198.18.1.2", 30));
	assert_int_equal(senders_mail(&f->a.senders, &l, true, &res, err, sizeof(err)), 0);
	assert_int_equal(senders_auto(&f->a.senders, &c, MX_AUTO_PTR, false), 1);
	assert_true(trap(f, "198.18.1.5", 51));
	e[0] = ban_ns(f, "198.18.1.1");
	e[1] = ban_ns(f, "198.18.1.5");
	assert_true(e[0] > 0 && e[1] > 0);
}

/* all_there - everything state_of_many made, exactly */
static void all_there(struct fixture *f, const long long e[2])
{
	struct mx_prefix c = pfx("198.18.1.4");
	struct mx_class_ref ref;

	assert_int_equal(ban_ns(f, "198.18.1.1"), e[0]);
	assert_int_equal(ban_ns(f, "198.18.1.5"), e[1]);
	show(f, "198.18.1.2");
	assert_int_equal(field(f, "spamtrap_hits"), 30);
	show(f, "198.18.1.3");
	assert_true(flag(f, "listed"));
	assert_int_equal(mx_table_get(&f->a.store.classes, &c, &ref), 0);
	show(f, "198.18.1.4");
	assert_true(field(f, "auto_class_ends_in_s") > DAY / MX_NS_PER_S - 120);
	show(f, "198.18.1.5");
	assert_true(flag(f, "banned"));
	assert_int_equal(field(f, "bans_in_a_row"), 1);
	/* The repeat still counts from the ban's real end. */
	assert_int_equal(run(f, "ban del 198.18.1.5"), 0);
	assert_true(trap(f, "198.18.1.5", 51));
	show(f, "198.18.1.5");
	assert_int_equal(field(f, "bans_in_a_row"), 2);
}

/* A restart without a reboot is exact, the wall clock ten years ahead (journal). */
static void test_same_boot_wall_ahead(void **state)
{
	struct fixture *f = *state;
	long long e[2];

	open_state(f);
	state_of_many(f, e);
	stop(f, false);
	move(f, 10 * YEAR, 60 * MX_NS_PER_S);
	start(f);
	all_there(f, e);
}

/* The same, the wall clock ten years behind, through a snapshot. */
static void test_same_boot_wall_behind(void **state)
{
	struct fixture *f = *state;
	long long e[2];

	open_state(f);
	state_of_many(f, e);
	stop(f, true);
	move(f, -10 * YEAR, 60 * MX_NS_PER_S);
	start(f);
	all_there(f, e);
}

/*
 * The wall clock jumped while the agent ran: records written before and
 * after the jump, a snapshot written during it, then the clock set right.
 */
static void test_same_boot_jump_between_records(void **state)
{
	struct fixture *f = *state;
	long long a, b;

	open_state(f);
	assert_int_equal(run(f, "ban add 198.18.2.1 ttl 2h"), 0);
	a = ban_ns(f, "198.18.2.1");
	move(f, 5 * YEAR, 0);
	assert_int_equal(run(f, "ban add 198.18.2.2 ttl 2h"), 0);
	b = ban_ns(f, "198.18.2.2");
	assert_int_equal(state_snapshot(&f->a.store), 0);
	assert_int_equal(run(f, "ban add 198.18.2.3 ttl 2h"), 0);
	stop(f, false);
	move(f, -5 * YEAR, 0);
	start(f);
	assert_int_equal(ban_ns(f, "198.18.2.1"), a);
	assert_int_equal(ban_ns(f, "198.18.2.2"), b);
	assert_true(ban_ns(f, "198.18.2.3") > b);
}

/* near - seconds left of a ban: want, give or take a few seconds of test */
static void near(long long left, long long want)
{
	if (left < want - 5 || left > want)
		fail_msg("%lld s left, %lld wanted", left, want);
}

/*
 * as_of_stop - what state_of_many made, as it was when the agent stopped
 * (bans with the time they had left then)
 */
static void as_of_stop(struct fixture *f)
{
	struct mx_prefix c = pfx("198.18.1.4");
	struct mx_class_ref ref;

	near(ban_left_s(f, "198.18.1.1"), 3600);
	near(ban_left_s(f, "198.18.1.5"), 86400);
	show(f, "198.18.1.2");
	assert_int_equal(field(f, "spamtrap_hits"), 30);
	show(f, "198.18.1.3");
	assert_true(flag(f, "listed"));
	assert_int_equal(mx_table_get(&f->a.store.classes, &c, &ref), 0);
	show(f, "198.18.1.5");
	assert_true(flag(f, "banned"));
	assert_int_equal(field(f, "bans_in_a_row"), 1);
	near(field(f, "ban_ends_in_s"), 86400);
}

/*
 * After a reboot, the wall clock ten years ahead (before NTP sets it):
 * reported, and nothing is lost; nor when a snapshot was written with it
 * and the next boot has the clock right again.
 */
static void test_reboot_wall_far_ahead(void **state)
{
	struct fixture *f = *state;
	long long e[2];

	open_state(f);
	state_of_many(f, e);
	stop(f, false);				/* a power cut */
	reboot(f, 120 * MX_NS_PER_S, 10 * YEAR);
	start(f);
	as_of_stop(f);
	assert_int_equal(f->a.store.state.restore_clock_suspect, 1);
	assert_int_equal(run(f, "stats"), 0);
	assert_int_equal(field(f, "restore_clock_suspect"), 1);

	stop(f, true);				/* a snapshot, the clock still ahead */
	reboot(f, 60 * MX_NS_PER_S, -10 * YEAR);
	start(f);
	as_of_stop(f);
	assert_int_equal(f->a.store.state.restore_clock_suspect, 1);	/* now behind that snapshot */
}

/*
 * After a reboot that restored records of the earlier boot with the wall
 * clock not trusted, time passes and the agent crashes: the restart on
 * this boot is exact, it does not doubt the clock again and give the
 * bans their time once more. The event loop writes a snapshot at once.
 */
static void test_reboot_then_restart(void **state)
{
	struct fixture *f = *state;
	long long e[2];

	open_state(f);
	state_of_many(f, e);
	stop(f, false);
	reboot(f, 120 * MX_NS_PER_S, 10 * YEAR);
	start(f);
	assert_int_equal(f->a.store.state.restore_clock_suspect, 1);
	if (f->a.store.state.snapshot_soon)			/* as agent_serve does */
		assert_int_equal(state_snapshot(&f->a.store), 0);
	move(f, 0, 30 * 60 * MX_NS_PER_S);
	stop(f, false);
	start(f);
	near(ban_left_s(f, "198.18.1.1"), 1800);
	assert_int_equal(f->a.store.state.restore_clock_suspect, 0);
}

/* After a reboot, the wall clock twenty years behind (a dead RTC): no ban lasts decades. */
static void test_reboot_wall_behind(void **state)
{
	struct fixture *f = *state;
	long long e[2];

	open_state(f);
	state_of_many(f, e);
	stop(f, true);
	reboot(f, 120 * MX_NS_PER_S, -20 * YEAR);
	start(f);
	as_of_stop(f);
	assert_int_equal(f->a.store.state.restore_clock_suspect, 1);
}

/*
 * After a reboot with the wall clock right, the time the agent was down
 * counts, and a ban that ended meanwhile is gone; even when the wall
 * clock jumped during the last boot, between the snapshot and the
 * journal.
 */
static void test_reboot_clock_right(void **state)
{
	struct fixture *f = *state;

	open_state(f);
	move(f, 5 * YEAR, 0);			/* wrong at boot, until NTP */
	assert_int_equal(run(f, "ban add 198.18.3.1 ttl 1h"), 0);
	assert_int_equal(run(f, "ban add 198.18.3.2 ttl 5m"), 0);
	assert_false(trap(f, "198.18.3.3", 30));
	assert_int_equal(state_snapshot(&f->a.store), 0);
	move(f, -5 * YEAR, 0);			/* NTP sets it right */
	assert_int_equal(run(f, "ban add 198.18.3.4 ttl 2h"), 0);
	stop(f, false);
	reboot(f, 10 * 60 * MX_NS_PER_S, 0);
	start(f);
	near(ban_left_s(f, "198.18.3.1"), 3600 - 600);
	assert_int_equal(ban_left_s(f, "198.18.3.2"), -1);
	near(ban_left_s(f, "198.18.3.4"), 7200 - 600);
	show(f, "198.18.3.3");
	assert_int_equal(field(f, "spamtrap_hits"), 30);
	assert_int_equal(f->a.store.state.restore_clock_suspect, 0);
}

/* oldrec - a ban record as agents before boot tags wrote them */
static void oldrec(struct mx_record *r, const char *s, int64_t added, int64_t expires)
{
	struct mx_prefix p = pfx(s);

	memset(r, 0, sizeof(*r));
	r->type = MX_REC_BAN_ADD;
	r->family = (uint8_t)p.family;
	r->len = p.len;
	memcpy(r->addr, p.addr, 16);
	r->added_wall_ns = added;
	r->expires_wall_ns = expires;
	snprintf(r->reason, sizeof(r->reason), "old");
}

/* A journal of an older agent (no boot tags) is read as before; a far-ahead clock spares it. */
static void test_old_journal(void **state)
{
	struct fixture *f = *state;
	struct mx_persist p;
	struct mx_restore_report rep;
	struct mx_record r[3];
	int64_t w = mx_wall_ns();
	char err[256];

	assert_int_equal(mx_persist_open(&p, f->dir, NULL, NULL, NULL, &rep, err, sizeof(err)), 0);
	oldrec(&r[0], "198.18.4.1", w - 600 * MX_NS_PER_S, w + HOUR);
	oldrec(&r[1], "198.18.4.2", w - 600 * MX_NS_PER_S, w - 60 * MX_NS_PER_S);
	oldrec(&r[2], "198.18.4.3", w - 600 * MX_NS_PER_S, 0);
	assert_int_equal(mx_persist_append_many(&p, r, 3), 0);
	mx_persist_close(&p);

	open_state(f);				/* the clock right: as before */
	near(ban_left_s(f, "198.18.4.1"), 3600);
	assert_int_equal(ban_left_s(f, "198.18.4.2"), -1);
	assert_int_equal(ban_left_s(f, "198.18.4.3"), 0);
	assert_int_equal(f->a.store.state.restore_clock_suspect, 0);
	stop(f, false);

	move(f, 3 * YEAR, 0);			/* three years ahead: reported, kept */
	start(f);
	near(ban_left_s(f, "198.18.4.1"), 3600 + 600);	/* as of the latest record */
	assert_int_equal(ban_left_s(f, "198.18.4.3"), 0);
	assert_int_equal(f->a.store.state.restore_clock_suspect, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_trap_window_while_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban_and_repeat_while_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_while_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_class_while_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_boot_wall_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_boot_wall_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_boot_jump_between_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_wall_far_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_then_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_wall_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_clock_right, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_journal, setup, teardown),
		cmocka_unit_test(test_next_day),
		cmocka_unit_test_setup_teardown(test_snapshot_cut_counts_each_hit_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
