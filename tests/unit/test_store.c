// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_store.c - the store: one order for every change, whoever asks
 * DESCRIPTION
 *	The store (user/agent/store.h) is the only code that changes bans,
 *	allowlist entries and classes: journal, map, engine, connections.
 *	These tests drive it directly on the test maps (agent_maps.h), with
 *	a real journal in a temporary directory: a change the journal
 *	refuses changes nothing; the journal holds each change in the order
 *	it was made; the engine hears of its bans and classes; what was
 *	acknowledged comes back after a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "agent_maps.h"
#include "store.h"

#define SMALL 64

struct fixture {
	struct agent a;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int err = agent_maps_create(&f->a, SMALL);

	if (err)
		fail_msg("creating the test maps: %s", strerror(-err));
	snprintf(f->dir, sizeof(f->dir), "/tmp/mxguard-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->a.store.state.dir = f->dir;
	assert_int_equal(state_open(&f->a.store), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->a.store.state.on)
		state_close(&f->a.store);
	agent_maps_close(&f->a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct mx_prefix pfx(const char *s)
{
	struct mx_prefix p;
	char err[128];

	assert_int_equal(mx_parse_prefix(s, &p, err, sizeof(err)), 0);
	return p;
}

/* The journal's records, in order, read from a copy of the state directory. */
struct seen {
	uint8_t type[64];
	uint32_t class_id[64];
	size_t n;
};

static int collect(const struct mx_record *r, void *arg)
{
	struct seen *s = arg;

	if (r->type != MX_REC_END && s->n < 64) {
		s->class_id[s->n] = r->class_id;
		s->type[s->n++] = r->type;
	}
	return 0;
}

static void journal_of(struct fixture *f, struct seen *s)
{
	struct mx_restore_report rep;
	struct mx_persist p = { 0 };
	char copy[80], cmd[300], err[256];

	memset(s, 0, sizeof(*s));
	snprintf(copy, sizeof(copy), "%s.copy", f->dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -r %s %s", copy, f->dir, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mx_persist_open(&p, copy, NULL, collect, s, &rep, err, sizeof(err)), 0);
	mx_persist_close(&p);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", copy);
	assert_int_equal(system(cmd), 0);
}

/* A ban: journalled, then claimed; a journal that refuses leaves the map as it was. */
static void test_ban_journal_first(void **state)
{
	struct fixture *f = *state;
	struct mx_store *s = &f->a.store;
	struct mx_prefix p = pfx("198.18.0.7"), q = pfx("198.18.0.8");
	struct mx_ban b = { .flags = MX_BAN_F_MANUAL, .added_ns = mx_now_ns() }, got;
	struct seen seen;
	unsigned int cut = 99;
	char err[256];
	int fd;

	assert_int_equal(store_ban_add(s, &p, &b, "manual", &cut, err, sizeof(err)), 0);
	assert_int_equal(cut, 0);	/* drop mode: nothing to cut */
	assert_int_equal(mx_table_get(&s->bans, &p, &got), 0);
	journal_of(f, &seen);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.type[0], MX_REC_BAN_ADD);

	/* The journal cannot be written: refused, and nothing changes. */
	fd = s->state.persist.journal_fd;
	s->state.persist.journal_fd = -1;
	assert_int_not_equal(store_ban_add(s, &q, &b, "manual", &cut, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "cannot record it on disk"));
	s->state.persist.journal_fd = fd;
	assert_int_not_equal(mx_table_get(&s->bans, &q, &got), 0);
	assert_int_equal(store_ban_del(s, &q, MX_BAN_F_MANUAL, err, sizeof(err)), -ENOENT);

	assert_int_equal(store_ban_del(s, &p, MX_BAN_F_MANUAL, err, sizeof(err)), 0);
	assert_int_not_equal(mx_table_get(&s->bans, &p, &got), 0);
	journal_of(f, &seen);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.type[1], MX_REC_BAN_DEL);
}

/* The engine's ban: one write with its record, claimed, and the engine committed. */
static void test_auto_ban_tells_the_engine(void **state)
{
	struct fixture *f = *state;
	struct mx_store *s = &f->a.store;
	struct mx_prefix p = pfx("198.18.1.1");
	int64_t now_s = mx_now_s();
	struct mx_decision d = { .kind = MX_TRAP_SPAM, .hits = 51, .offense = 1,
				 .until = now_s + 3600 };
	struct mx_ban b = { .flags = MX_BAN_F_AUTOMATIC, .added_ns = mx_now_ns(),
			    .expires_ns = mx_now_ns() + 3600 * MX_NS_PER_S }, got;
	const struct mx_sender *e;
	struct seen seen;
	unsigned int cut;
	char err[256];

	assert_int_equal(store_ban_auto(s, &p, &b, "spam-trap hits", &d, now_s, &cut, err,
					sizeof(err)), 0);
	assert_int_equal(mx_table_get(&s->bans, &p, &got), 0);
	assert_int_equal(got.flags & MX_BAN_KINDS, MX_BAN_F_AUTOMATIC);
	e = mx_verdict_find(&f->a.senders.verdict, &p);
	assert_non_null(e);
	assert_int_equal(e->ban_until, now_s + 3600);
	journal_of(f, &seen);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.type[0], MX_REC_BAN_ADD);
	assert_int_equal(seen.type[1], MX_REC_SENDER_BAN);

	/* Lifted by hand: the map entry goes, and the engine's ban ends now. */
	assert_int_equal(store_ban_del(s, &p, MX_BAN_F_MANUAL | MX_BAN_F_AUTOMATIC, err,
				       sizeof(err)), 0);
	assert_int_not_equal(mx_table_get(&s->bans, &p, &got), 0);
	e = mx_verdict_find(&f->a.senders.verdict, &p);
	assert_non_null(e);
	assert_true(e->ban_until <= mx_now_s());
}

/*
 * The operator's class over the engine's: the automatic class is taken
 * back first, and journalled first, so a restore replays the same order.
 */
static void test_class_over_auto_class(void **state)
{
	struct fixture *f = *state;
	struct mx_store *s = &f->a.store;
	struct mx_prefix p = pfx("198.18.2.2");
	struct mx_class_ref ref;
	struct seen seen;
	char err[256];

	assert_int_equal(store_auto_class(s, &p, 1, 1, mx_now_s() + 600, mx_now_s(), err,
					  sizeof(err)), 0);
	assert_int_equal(mx_table_get(&s->classes, &p, &ref), 0);
	assert_int_equal(ref.class_id, 1);
	assert_int_equal(mx_verdict_find(&f->a.senders.verdict, &p)->auto_class, 1);

	assert_int_equal(store_class_set(s, &p, 3, err, sizeof(err)), 0);
	assert_int_equal(mx_table_get(&s->classes, &p, &ref), 0);
	assert_int_equal(ref.class_id, 3);
	assert_int_equal(mx_verdict_find(&f->a.senders.verdict, &p)->auto_class, 0);
	assert_int_equal(s->auto_unclassed, 1);
	journal_of(f, &seen);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.type[0], MX_REC_AUTO_CLASS);
	assert_int_equal(seen.class_id[0], 1);
	assert_int_equal(seen.type[1], MX_REC_AUTO_CLASS);	/* taken back */
	assert_int_equal(seen.class_id[1], 0);
	assert_int_equal(seen.type[2], MX_REC_CLASS_SET);

	assert_int_equal(store_class_del(s, &p, err, sizeof(err)), 0);
	assert_int_not_equal(mx_table_get(&s->classes, &p, &ref), 0);
	assert_int_equal(store_class_del(s, &p, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no such entry");
}

/* An automatic class deleted by hand is the entry deleted: no error. */
static void test_class_del_of_auto_class(void **state)
{
	struct fixture *f = *state;
	struct mx_store *s = &f->a.store;
	struct mx_prefix p = pfx("198.18.3.3");
	struct mx_class_ref ref;
	char err[256];

	assert_int_equal(store_auto_class(s, &p, 1, 1, mx_now_s() + 600, mx_now_s(), err,
					  sizeof(err)), 0);
	assert_int_equal(store_class_del(s, &p, err, sizeof(err)), 0);
	assert_int_not_equal(mx_table_get(&s->classes, &p, &ref), 0);
	assert_int_equal(mx_verdict_find(&f->a.senders.verdict, &p)->auto_class, 0);
}

/* What the store acknowledged comes back after a restart, from the journal alone. */
static void test_restart_restores(void **state)
{
	struct fixture *f = *state;
	struct mx_store *s = &f->a.store;
	struct mx_prefix ban = pfx("198.18.4.0/24"), allow = pfx("198.18.5.5"),
			 cls = pfx("2001:db8::/48");
	struct mx_ban b = { .flags = MX_BAN_F_MANUAL, .added_ns = mx_now_ns() }, got;
	struct mx_allow al;
	struct mx_class_ref ref;
	unsigned int cut;
	char err[256];

	assert_int_equal(store_ban_add(s, &ban, &b, "manual", &cut, err, sizeof(err)), 0);
	assert_int_equal(store_allow_add(s, &allow, err, sizeof(err)), 0);
	assert_int_equal(store_class_set(s, &cls, 2, err, sizeof(err)), 0);
	/* A crash: no snapshot, the maps gone; a new agent restores. */
	mx_persist_close(&s->state.persist);
	s->state.on = false;
	agent_maps_close(&f->a);
	memset(&f->a, 0, sizeof(f->a));
	assert_int_equal(agent_maps_create(&f->a, SMALL), 0);
	s->state.dir = f->dir;
	assert_int_equal(state_open(s), 0);
	assert_int_equal(mx_table_get(&s->bans, &ban, &got), 0);
	assert_int_equal(got.expires_ns, 0);
	assert_int_equal(mx_table_get(&s->allows, &allow, &al), 0);
	assert_int_equal(mx_table_get(&s->classes, &cls, &ref), 0);
	assert_int_equal(ref.class_id, 2);
	assert_int_equal(store_allow_del(s, &allow, err, sizeof(err)), 0);
	assert_int_equal(store_allow_del(s, &allow, err, sizeof(err)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ban_journal_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_ban_tells_the_engine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_class_over_auto_class, setup, teardown),
		cmocka_unit_test_setup_teardown(test_class_del_of_auto_class, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_restores, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
