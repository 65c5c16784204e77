// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_persist.c - snapshots written while the journal goes on
 * DESCRIPTION
 *	A snapshot is written a slice at a time between other work, so the
 *	journal must go on meanwhile and a restore must replay exactly what
 *	the snapshot does not hold: every record once, none twice (a trap
 *	hit replayed twice would count twice), whatever moment a crash
 *	picks.
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
#include <unistd.h>

#include "persist.h"

#define MAXSEEN 64

struct seen {
	uint32_t v[MAXSEEN];	/* class_id of each record restored, in order */
	int n;
};

static int record(const struct mx_record *r, void *arg)
{
	struct seen *s = arg;

	if (s->n < MAXSEEN)
		s->v[s->n] = r->class_id;
	s->n++;
	return 0;
}

static struct mx_record rec(uint32_t id)
{
	struct mx_record r = { .type = MX_REC_TRAP_HIT, .family = 2, .len = 32, .class_id = id };

	return r;
}

static void append(struct mx_persist *p, uint32_t id)
{
	struct mx_record r = rec(id);

	assert_int_equal(mx_persist_append(p, &r), 0);
}

static void emit(struct mx_persist *p, uint32_t id)
{
	struct mx_record r = rec(id);

	assert_int_equal(mx_persist_snapshot_emit(p, &r), 0);
}

/* restore - open dir afresh; the class_ids restored, as "1,2,3" */
static void restore(const char *dir, char *out, size_t len)
{
	struct mx_persist p;
	struct mx_restore_report rep;
	struct seen s = { 0 };
	char err[128];
	size_t o = 0;

	assert_int_equal(mx_persist_open(&p, dir, NULL, record, &s, &rep, err, sizeof(err)), 0);
	mx_persist_close(&p);
	out[0] = '\0';
	for (int i = 0; i < s.n && i < MAXSEEN; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%u", i ? "," : "", s.v[i]);
}

static void fresh(char *dir)
{
	strcpy(dir, "/tmp/mxguard-persist.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void cleanup(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_snapshot_while_the_journal_goes_on(void **state)
{
	struct mx_persist p;
	struct mx_restore_report rep;
	struct seen s = { 0 };
	char dir[64], got[256], err[128];

	fresh(dir);
	assert_int_equal(mx_persist_open(&p, dir, NULL, record, &s, &rep, err, sizeof(err)), 0);
	append(&p, 1);
	append(&p, 2);
	assert_int_equal(mx_persist_snapshot_begin(&p, err, sizeof(err)), 0);
	/* The state at the cut is 1,2; records after it go to the new journal. */
	emit(&p, 1);
	append(&p, 3);
	emit(&p, 2);
	append(&p, 4);
	assert_int_equal(p.journal_records, 2);
	assert_int_equal(mx_persist_snapshot_end(&p, true, err, sizeof(err)), 0);
	assert_int_equal(p.snapshot_records, 2);
	assert_int_equal(faccessat(p.dir_fd, "journal.1", F_OK, 0), -1);	/* set aside, then gone */
	mx_persist_close(&p);
	restore(dir, got, sizeof(got));
	assert_string_equal(got, "1,2,3,4");
	cleanup(dir);
}

static void test_crash_while_writing_keeps_everything(void **state)
{
	struct mx_persist p;
	struct mx_restore_report rep;
	struct seen s = { 0 };
	char dir[64], got[256], err[128];

	fresh(dir);
	assert_int_equal(mx_persist_open(&p, dir, NULL, record, &s, &rep, err, sizeof(err)), 0);
	append(&p, 1);
	assert_int_equal(mx_persist_snapshot_begin(&p, err, sizeof(err)), 0);
	emit(&p, 1);
	assert_int_equal(mx_persist_snapshot_end(&p, true, err, sizeof(err)), 0);
	append(&p, 2);
	/* A second snapshot the agent does not live to finish. */
	assert_int_equal(mx_persist_snapshot_begin(&p, err, sizeof(err)), 0);
	emit(&p, 1);
	append(&p, 3);
	restore(dir, got, sizeof(got));	/* as a new agent would, now */
	assert_string_equal(got, "1,2,3");
	/* And the one that failed is abandoned cleanly: nothing lost either. */
	assert_int_equal(mx_persist_snapshot_end(&p, false, err, sizeof(err)), -ECANCELED);
	append(&p, 4);
	mx_persist_close(&p);
	restore(dir, got, sizeof(got));
	assert_string_equal(got, "1,2,3,4");
	cleanup(dir);
}

static void test_journals_a_snapshot_holds_are_not_replayed(void **state)
{
	struct mx_persist p;
	struct mx_restore_report rep;
	struct seen s = { 0 };
	char dir[64], got[256], err[128];
	struct mx_record r = rec(9);
	int fd;

	fresh(dir);
	assert_int_equal(mx_persist_open(&p, dir, NULL, record, &s, &rep, err, sizeof(err)), 0);
	append(&p, 1);
	assert_int_equal(mx_persist_snapshot_begin(&p, err, sizeof(err)), 0);
	emit(&p, 1);
	assert_int_equal(mx_persist_snapshot_end(&p, true, err, sizeof(err)), 0);
	append(&p, 2);
	/* A crash after the snapshot's rename, before journal.1 was removed. */
	r.magic = MX_RECORD_MAGIC;
	r.crc = mx_record_crc(&r);
	fd = openat(p.dir_fd, "journal.1", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &r, sizeof(r)), sizeof(r));
	close(fd);
	mx_persist_close(&p);
	restore(dir, got, sizeof(got));
	assert_string_equal(got, "1,2");	/* 9 is in the snapshot already */
	assert_int_equal(access(strcat(dir, "/journal.1"), F_OK), -1);
	dir[strlen(dir) - strlen("/journal.1")] = '\0';
	cleanup(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_while_the_journal_goes_on),
		cmocka_unit_test(test_crash_while_writing_keeps_everything),
		cmocka_unit_test(test_journals_a_snapshot_holds_are_not_replayed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
