// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	state.c - the agent's acknowledged state: journal it, restore it
 * DESCRIPTION
 *	The glue between the maps and persist.c. Every change the CLI
 *	asks for is journalled (and synced) first and applied to the maps
 *	second, so what the agent acknowledged is on disk even if the agent
 *	dies between the two. Start-up restores the snapshot and journal
 *	into the maps before the program is attached.
 *
 *	Times: the maps and the verdict engine run on the boot clock
 *	(CLOCK_BOOTTIME), which never jumps but restarts at each boot; the
 *	files hold wall-clock times (CLOCK_REALTIME), which mean the same
 *	moment after a reboot. Each record also names the boot it was
 *	written on and how the wall clock then stood to the boot clock
 *	(record_of), so a restart without a reboot reads every time back
 *	exactly, whatever the wall clock did meanwhile. After a reboot, a
 *	ban that expired while the agent was down is not restored; but a
 *	wall clock that went back, or far ahead, is reported and makes no
 *	ban look expired (plan_earlier).
 * DIAGNOSTICS
 *	A change that cannot be journalled is refused with the reason (a
 *	full disk: "No space left on device") and nothing changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "state.h"

/*
 * record_of - a record for a prefix, stamped with the writer's boot and
 * how its wall clock stands to its boot clock: every time in the record
 * is converted with that one offset, so on this boot it converts back
 * exactly (wall_boot), whatever the wall clock does in between.
 */
static void record_of(struct mx_record *r, enum mx_record_type type, const struct mx_prefix *p)
{
	int64_t boot = (int64_t)mx_now_ns();

	memset(r, 0, sizeof(*r));
	r->type = (uint8_t)type;
	r->family = (uint8_t)p->family;
	r->len = p->len;
	memcpy(r->addr, p->addr, 16);
	r->boot_tag = mx_boot_tag();
	r->wall_minus_boot_ns = mx_wall_ns() - boot;
	r->added_wall_ns = boot + r->wall_minus_boot_ns;
}

/* boot_to_wall - a boot-clock instant (ns) as the record's wall-clock time (0 stays 0) */
static int64_t boot_to_wall(const struct mx_record *r, uint64_t boot)
{
	return boot ? (int64_t)boot + r->wall_minus_boot_ns : 0;
}

/* secs_wall - an engine time (boot-clock seconds, verdict.h) for the record; MX_FOREVER: 0 */
static int64_t secs_wall(const struct mx_record *r, int64_t s)
{
	return s == MX_FOREVER ? 0 : s * MX_NS_PER_S + r->wall_minus_boot_ns;
}

/* same_boot - was the record written on this boot? Then its times are exact. */
static bool same_boot(const struct mx_record *r)
{
	return r->boot_tag && r->boot_tag == mx_boot_tag();
}

/*
 * Records of earlier boots. Their boot clocks are gone, so the wall clock
 * alone can say how long ago they were written; and at boot the wall
 * clock may be far wrong until NTP sets it (a dead or local-time RTC, a
 * bad time server). Before anything is applied, the restore scans every
 * record (scan_clock) and keeps, for each earlier boot, its latest
 * record's time on that boot's own clock: all its records are placed
 * relative to that one, exactly as that boot saw them, whatever its wall
 * clock did meanwhile. Only the gap from that record to now comes from
 * the wall clock, and only if it is plausible: not behind the record
 * (beyond CLOCK_BEHIND_SLACK), not more than CLOCK_AHEAD_MAX ahead of it.
 * Otherwise the wall clock is reported, and the gap is not counted:
 * bans, trap windows, listings and classes go on from where that record
 * left them. A ban then ends late by at most the real downtime, and none
 * is deleted because of the clock; a trusted wrong clock would instead
 * delete every ban it puts in the past. The agent writes a snapshot
 * when it stops, so after a planned reboot the gap is the reboot's own
 * few minutes; an hour catches an RTC kept in local time, or decades off.
 */
#define CLOCK_AHEAD_MAX		(3600 * MX_NS_PER_S)
#define CLOCK_BEHIND_SLACK	(300 * MX_NS_PER_S)
#define EARLIER_BOOTS		8

struct earlier_boot {
	uint32_t tag;			/* 0: unknown (older agents): wall-clock times */
	bool seen;			/* a record with a time */
	bool planned;			/* shift_ns is set */
	uint64_t records;
	int64_t last_ns;		/* its latest record, on its clock (earlier_ns) */
	int64_t last_wall_ns;		/* the same on its wall clock */
	int64_t shift_ns;		/* from its clock to this boot's */
};

static struct {
	struct earlier_boot b[EARLIER_BOOTS];	/* [0]: tag 0, and any beyond the others */
	unsigned int n;
} earlier;

/* earlier_of - the earlier boot of a record; made while scanning */
static struct earlier_boot *earlier_of(const struct mx_record *r, bool make)
{
	for (unsigned int i = 1; r->boot_tag && i < earlier.n; i++)
		if (earlier.b[i].tag == r->boot_tag)
			return &earlier.b[i];
	if (!earlier.n)
		earlier.n = 1;
	if (r->boot_tag && make && earlier.n < EARLIER_BOOTS) {
		earlier.b[earlier.n].tag = r->boot_tag;
		return &earlier.b[earlier.n++];
	}
	return &earlier.b[0];
}

/* earlier_ns - a record's time on its own boot's clock (tag 0: the wall clock) */
static int64_t earlier_ns(const struct earlier_boot *e, const struct mx_record *r, int64_t wall)
{
	return e->tag ? wall - r->wall_minus_boot_ns : wall;
}

/* when_text - a wall-clock time for the log, UTC */
static void when_text(int64_t wall, char *buf, size_t len)
{
	time_t t = (time_t)(wall / MX_NS_PER_S);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld s", (long long)t);
}

/* plan_earlier - how each earlier boot's clock maps to ours; report a wall clock not trusted */
static void plan_earlier(struct agent *a)
{
	int64_t wall = mx_wall_ns(), now = (int64_t)mx_now_ns();

	for (unsigned int i = 0; i < earlier.n; i++) {
		struct earlier_boot *e = &earlier.b[i];
		int64_t gap = wall - e->last_wall_ns;
		char last[32], cur[32], d[32];

		if (!e->records)
			continue;
		e->planned = true;
		if (!e->seen) {		/* nothing in it has a time */
			e->shift_ns = now - wall;
			continue;
		}
		when_text(e->last_wall_ns, last, sizeof(last));
		when_text(wall, cur, sizeof(cur));
		mx_format_duration((uint64_t)(gap < 0 ? -gap : gap), d, sizeof(d));
		if (gap >= -CLOCK_BEHIND_SLACK && gap <= CLOCK_AHEAD_MAX) {
			e->shift_ns = now - e->last_ns - (gap > 0 ? gap : 0);
			agent_log("restoring %llu records of an earlier boot, the latest written %s "
				  "before now (%s)", (unsigned long long)e->records,
				  gap > 0 ? d : "0s", last);
			continue;
		}
		e->shift_ns = now - e->last_ns;
		a->restore_clock_suspect++;
		agent_log("warning: the wall clock (%s) is %s %s the latest of %llu records of an "
			  "earlier boot (%s): not trusted. The time since that record is not counted: "
			  "bans, trap windows, listings and classes go on from where it left them, and "
			  "no ban is deleted for the clock ('mxguard ban del' lifts one early)",
			  cur, d, gap < 0 ? "behind" : "ahead of", (unsigned long long)e->records, last);
	}
}

/* scan_clock - before the restore: each earlier boot's latest record (NULL: all seen) */
static int scan_clock(const struct mx_record *r, void *arg)
{
	struct earlier_boot *e;
	int64_t t;

	if (!r) {
		plan_earlier(arg);
		return 0;
	}
	if (same_boot(r))
		return 0;
	e = earlier_of(r, true);
	e->records += r->type != MX_REC_END;
	if (!r->added_wall_ns)
		return 0;
	t = earlier_ns(e, r, r->added_wall_ns);
	if (!e->seen || t > e->last_ns) {
		e->seen = true;
		e->last_ns = t;
		e->last_wall_ns = r->added_wall_ns;
	}
	return 0;
}

/*
 * wall_boot - a record's wall-clock time on this boot's clock (ns; before
 * this boot: negative). Written on this boot: exactly the boot-clock time
 * it was written from. Of an earlier boot: as placed by plan_earlier.
 */
static int64_t wall_boot(const struct mx_record *r, int64_t wall)
{
	const struct earlier_boot *e;

	if (same_boot(r))
		return wall - r->wall_minus_boot_ns;
	e = earlier_of(r, false);
	if (!e->planned)	/* not scanned: cannot be, but then the wall clock as is */
		return (int64_t)mx_now_ns() + (wall - mx_wall_ns());
	return earlier_ns(e, r, wall) + e->shift_ns;
}

/* wall_secs - a record's time for the engine: boot-clock seconds, never 0 (its "none") */
static int64_t wall_secs(const struct mx_record *r, int64_t wall)
{
	int64_t ns = wall_boot(r, wall);
	int64_t s = ns / MX_NS_PER_S - (ns % MX_NS_PER_S < 0);

	return s ? s : -1;
}

/* wall_until - a record's end for the engine; 0 (never) as MX_FOREVER */
static int64_t wall_until(const struct mx_record *r, int64_t wall)
{
	return wall ? wall_secs(r, wall) : MX_FOREVER;
}

/*
 * restore_expiry - a restored ban's expiry on the boot clock (0:
 * permanent); false if it is over. Over means over by this boot's clock,
 * or, for a ban of an earlier boot, by the time that boot's last record
 * plus a gap the wall clock could be trusted for (see above): a wall
 * clock set far ahead never makes a ban look over.
 */
static bool restore_expiry(const struct mx_record *r, __u64 *expires_ns)
{
	int64_t e;

	*expires_ns = 0;
	if (!r->expires_wall_ns)
		return true;
	e = wall_boot(r, r->expires_wall_ns);
	if (e <= (int64_t)mx_now_ns())
		return false;
	*expires_ns = (__u64)e;
	return true;
}

/* prefix_of - the prefix of a record */
static int prefix_of(const struct mx_record *r, struct mx_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = r->family;
	p->len = r->len;
	memcpy(p->addr, r->addr, 16);
	return (r->family == AF_INET && r->len <= 32) || (r->family == AF_INET6 && r->len <= 128)
		? 0 : -EINVAL;
}

/* journal - append a record when persistence is on */
static int journal(struct agent *a, struct mx_record *r, char *err, size_t errlen)
{
	int e;

	if (!a->persist_on)
		return 0;
	e = mx_persist_append(&a->persist, r);
	if (e)
		snprintf(err, errlen, "cannot record it on disk in %s: %s; nothing changed",
			 a->persist.dir, strerror(-e));
	return e;
}

int state_ban_add(struct agent *a, const struct mx_prefix *p, const struct mx_ban *b,
		  const char *reason, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_BAN_ADD, p);
	r.flags = b->flags;
	r.expires_wall_ns = boot_to_wall(&r, b->expires_ns);
	snprintf(r.reason, sizeof(r.reason), "%s", reason ? reason : "");
	return journal(a, &r, err, errlen);
}

int state_allow_add(struct agent *a, const struct mx_prefix *p, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_ALLOW_ADD, p);
	return journal(a, &r, err, errlen);
}

int state_class_set(struct agent *a, const struct mx_prefix *p, uint32_t class_id,
		    char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_CLASS_SET, p);
	r.class_id = class_id;
	return journal(a, &r, err, errlen);
}

int state_del(struct agent *a, enum mx_record_type type, const struct mx_prefix *p,
	      char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, type, p);
	return journal(a, &r, err, errlen);
}

int state_sender_hits(struct agent *a, const struct mx_prefix *p, int kind, uint32_t count,
		      int64_t when)
{
	struct mx_record r;
	int64_t end;
	int e;

	if (!a->persist_on)
		return 0;
	record_of(&r, MX_REC_TRAP_HIT, p);
	r.class_id = (uint32_t)kind;
	r.flags = count;
	r.added_wall_ns = secs_wall(&r, when);
	end = mx_persist_size(&a->persist);
	if (end < 0)
		return (int)end;
	e = mx_persist_write(&a->persist, &r, 1);
	if (e && mx_persist_truncate(&a->persist, end))	/* never half a record */
		agent_log("cannot cut a half-written record from the journal: %s", strerror(errno));
	if (!e)
		a->journal_dirty = true;
	return e;
}

int state_sender_ban(struct agent *a, const struct mx_prefix *p, const struct mx_ban *b,
		     const char *reason, const struct mx_decision *d, int64_t now,
		     char *err, size_t errlen)
{
	struct mx_record r[2];
	size_t n = 0;
	int e;

	if (!a->persist_on)
		return 0;
	if (b) {
		record_of(&r[n], MX_REC_BAN_ADD, p);
		r[n].flags = b->flags;
		r[n].expires_wall_ns = boot_to_wall(&r[n], b->expires_ns);
		snprintf(r[n].reason, sizeof(r[n].reason), "%s", reason ? reason : "");
		n++;
	}
	record_of(&r[n], MX_REC_SENDER_BAN, p);
	r[n].flags = d->offense;
	r[n].added_wall_ns = secs_wall(&r[n], now);
	r[n].expires_wall_ns = secs_wall(&r[n], d->until);
	n++;
	e = mx_persist_append_many(&a->persist, r, n);
	if (e)
		snprintf(err, errlen, "cannot record it on disk in %s: %s; nothing changed",
			 a->persist.dir, strerror(-e));
	else
		a->journal_dirty = false;
	return e;
}

int state_sender_listed(struct agent *a, const struct mx_prefix *p, int64_t since,
			int64_t until, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, since ? MX_REC_LISTED : MX_REC_DELISTED, p);
	r.added_wall_ns = since ? secs_wall(&r, since) : 0;
	r.expires_wall_ns = secs_wall(&r, until);
	return journal(a, &r, err, errlen);
}

int state_sender_forget(struct agent *a, const struct mx_prefix *p, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_SENDER_FORGET, p);
	return journal(a, &r, err, errlen);
}

int state_sender_class(struct agent *a, const struct mx_prefix *p, uint32_t class_id,
		       uint32_t reasons, int64_t until, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_AUTO_CLASS, p);
	r.class_id = class_id;
	r.flags = reasons;
	r.expires_wall_ns = class_id ? secs_wall(&r, until) : 0;
	return journal(a, &r, err, errlen);
}

/* state_sync - hits written since the last sync go to disk */
void state_sync(struct agent *a)
{
	if (!a->persist_on || !a->journal_dirty)
		return;
	if (mx_persist_sync(&a->persist))
		agent_log("cannot sync the journal: %s", strerror(errno));
	else
		a->journal_dirty = false;
}

/* batch_flush - write the chunk (no sync) */
static void batch_flush(struct state_batch *b)
{
	int e;

	if (!b->n || b->err)
		return;
	if (b->start < 0) {
		b->start = mx_persist_size(&b->a->persist);
		if (b->start < 0) {
			b->err = (int)b->start;
			return;
		}
	}
	e = mx_persist_write(&b->a->persist, b->r, b->n);
	if (e)
		b->err = e;
	b->n = 0;
}

/* state_batch_ban - add a ban record to a batch */
int state_batch_ban(struct state_batch *b, enum mx_record_type type, const struct mx_prefix *p,
		    const struct mx_ban *ban, const char *reason)
{
	struct mx_record *r;

	if (!b->a->persist_on)
		return 0;
	if (!b->r) {
		b->r = malloc(STATE_BATCH_CHUNK * sizeof(*b->r));
		if (!b->r)
			return -ENOMEM;
	}
	if (b->n == STATE_BATCH_CHUNK)
		batch_flush(b);
	r = &b->r[b->n++];
	record_of(r, type, p);
	if (ban) {
		r->flags = ban->flags;
		r->expires_wall_ns = boot_to_wall(r, ban->expires_ns);
	}
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	return 0;
}

/* state_batch_commit - the whole batch on disk, or nothing of it */
int state_batch_commit(struct agent *a, struct state_batch *b, char *err, size_t errlen)
{
	if (!a->persist_on)
		return 0;
	batch_flush(b);
	if (!b->err && b->start >= 0)
		b->err = mx_persist_sync(&a->persist);
	if (b->err) {
		snprintf(err, errlen, "cannot record it on disk in %s: %s; nothing changed",
			 a->persist.dir, strerror(-b->err));
		return b->err;	/* state_batch_free cuts the journal back */
	}
	b->committed = true;
	return 0;
}

/* state_batch_free - free; an uncommitted batch is cut from the journal */
void state_batch_free(struct state_batch *b)
{
	if (b->a && b->a->persist_on && !b->committed && b->start >= 0 &&
	    mx_persist_truncate(&b->a->persist, b->start))
		agent_log("cannot cut an undone batch from the journal: %s", strerror(errno));
	free(b->r);
	b->r = NULL;
	b->n = 0;
	b->start = -1;
}

/* apply - put one restored record into the maps */
static int apply(const struct mx_record *r, void *arg)
{
	struct agent *a = arg;
	struct mx_prefix p;

	if (prefix_of(r, &p))
		return 0;
	switch (r->type) {
	case MX_REC_BAN_ADD: {
		struct mx_ban b = { .flags = r->flags, .added_ns = mx_now_ns() };
		char reason[MX_REASON_LEN];

		if (!restore_expiry(r, &b.expires_ns)) {
			mx_table_del(&a->bans, &p);	/* expired while we were away */
			return 0;
		}
		memcpy(reason, r->reason, sizeof(reason));
		reason[sizeof(reason) - 1] = '\0';
		mx_reason_intern(a->reasons_fd, reason, &b.reason);
		if (mx_table_put(&a->bans, &p, &b, BPF_ANY))
			a->restore_failed++;
		return 0;
	}
	case MX_REC_BAN_DEL:
		mx_table_del(&a->bans, &p);
		mx_verdict_unbanned(&a->verdict, &p, wall_secs(r, r->added_wall_ns));
		return 0;
	case MX_REC_ALLOW_ADD: {
		struct mx_allow al = { .added_ns = mx_now_ns() };

		if (mx_table_put(&a->allows, &p, &al, BPF_ANY))
			a->restore_failed++;
		return 0;
	}
	case MX_REC_ALLOW_DEL:
		mx_table_del(&a->allows, &p);
		return 0;
	case MX_REC_CLASS_SET: {
		struct mx_class_ref ref = { .class_id = r->class_id };

		if (r->class_id < MX_MAX_CLASSES && mx_table_put(&a->classes, &p, &ref, BPF_ANY))
			a->restore_failed++;
		return 0;
	}
	case MX_REC_CLASS_DEL:
		mx_table_del(&a->classes, &p);
		return 0;
	case MX_REC_TRAP_HIT:
		if (r->class_id < MX_TRAP_KINDS && r->flags)
			mx_verdict_restore_hits(&a->verdict, &p, (enum mx_trap_kind)r->class_id,
						wall_secs(r, r->added_wall_ns), r->flags);
		return 0;
	case MX_REC_SENDER_BAN:
		mx_verdict_restore_ban(&a->verdict, &p, r->flags, wall_secs(r, r->added_wall_ns),
				       wall_until(r, r->expires_wall_ns));
		return 0;
	case MX_REC_LISTED:
		mx_verdict_restore_listed(&a->verdict, &p, wall_secs(r, r->added_wall_ns),
					  wall_until(r, r->expires_wall_ns));
		return 0;
	case MX_REC_DELISTED:
		mx_verdict_restore_listed(&a->verdict, &p, 0, 0);
		return 0;
	case MX_REC_SENDER_FORGET:
		mx_verdict_forget(&a->verdict, &p);
		return 0;
	case MX_REC_AUTO_CLASS: {
		struct mx_class_ref ref = { .class_id = r->class_id };
		int64_t until = wall_until(r, r->expires_wall_ns);

		if (r->class_id >= MX_MAX_CLASSES)
			return 0;
		if (!r->class_id || until <= mx_now_s()) {
			struct mx_class_ref old;

			/* Taken back or expired: the map entry goes if it is still ours. */
			if (mx_table_get(&a->classes, &p, &old) == 0 &&
			    mx_verdict_find(&a->verdict, &p) &&
			    old.class_id == mx_verdict_find(&a->verdict, &p)->auto_class)
				mx_table_del(&a->classes, &p);
			mx_verdict_auto_class(&a->verdict, &p, 0, 0, 0, 0);
			return 0;
		}
		mx_verdict_auto_class(&a->verdict, &p, r->class_id, r->flags ? r->flags : 1, until,
				      wall_secs(r, r->added_wall_ns));
		if (mx_table_put(&a->classes, &p, &ref, BPF_ANY))
			a->restore_failed++;
		return 0;
	}
	default:
		return 0;
	}
}

struct walk_ctx {
	struct agent *a;
	mx_emit_fn emit;
	void *ctx;
	enum mx_record_type type;
	uint64_t now;
	/* Reason texts by id, read once per snapshot, not once per ban. */
	bool have[MX_MAX_REASONS];
	char reason[MX_MAX_REASONS][MX_REASON_LEN];
};

/* walk_one - one table entry as a snapshot record */
static int walk_one(const struct mx_prefix *p, const void *val, void *arg)
{
	struct walk_ctx *w = arg;
	struct mx_record r;

	record_of(&r, w->type, p);
	if (w->type == MX_REC_BAN_ADD) {
		const struct mx_ban *b = val;

		if (b->expires_ns && b->expires_ns <= w->now)
			return 0;	/* expired: nothing to keep */
		r.flags = b->flags;
		r.expires_wall_ns = boot_to_wall(&r, b->expires_ns);
		if (b->reason < MX_MAX_REASONS) {
			if (!w->have[b->reason]) {
				mx_reason_text(w->a->reasons_fd, b->reason, w->reason[b->reason],
					       MX_REASON_LEN);
				w->have[b->reason] = true;
			}
			memcpy(r.reason, w->reason[b->reason], sizeof(r.reason));
		} else {
			mx_reason_text(w->a->reasons_fd, b->reason, r.reason, sizeof(r.reason));
		}
	} else if (w->type == MX_REC_CLASS_SET) {
		r.class_id = ((const struct mx_class_ref *)val)->class_id;
	}
	return w->emit(w->ctx, &r);
}

/*
 * walk_sender - a sender as records: its ban history first (restoring
 * it starts the hits afresh), its listing, then its hits, those of one
 * second as one record.
 */
static int walk_sender(const struct mx_sender *e, void *arg)
{
	struct walk_ctx *w = arg;
	int64_t now = mx_now_s();	/* the engine's clock: a wall-clock jump drops nothing */
	struct mx_record r;

	if (e->last_ban) {
		record_of(&r, MX_REC_SENDER_BAN, &e->src);
		r.flags = e->offenses;
		r.added_wall_ns = secs_wall(&r, e->last_ban);
		r.expires_wall_ns = secs_wall(&r, e->ban_until);
		if (w->emit(w->ctx, &r))
			return -1;
	}
	if (e->auto_class) {
		record_of(&r, MX_REC_AUTO_CLASS, &e->src);
		r.class_id = e->auto_class;
		r.flags = e->auto_reasons;
		r.expires_wall_ns = secs_wall(&r, e->auto_class_until);
		if (w->emit(w->ctx, &r))
			return -1;
	}
	if (e->listed_since && e->listed_until > now) {
		record_of(&r, MX_REC_LISTED, &e->src);
		r.added_wall_ns = secs_wall(&r, e->listed_since);
		r.expires_wall_ns = secs_wall(&r, e->listed_until);
		if (w->emit(w->ctx, &r))
			return -1;
	}
	for (int k = 0; k < MX_TRAP_KINDS; k++) {
		for (uint32_t i = 0; i < e->n[k];) {
			int64_t t = e->ring[k][(e->head[k] + i) % e->cap[k]];
			uint32_t n = 1;

			while (i + n < e->n[k] && e->ring[k][(e->head[k] + i + n) % e->cap[k]] == t)
				n++;
			i += n;
			if (t <= now - w->a->verdict.s.trap_window[k])
				continue;	/* out of the window: nothing to keep */
			record_of(&r, MX_REC_TRAP_HIT, &e->src);
			r.class_id = (uint32_t)k;
			r.flags = n;
			r.added_wall_ns = secs_wall(&r, t);
			if (w->emit(w->ctx, &r))
				return -1;
		}
	}
	return 0;
}

/* walk_state - every ban, allowlist entry, class and sender as records */
static int walk_state(void *arg, mx_emit_fn emit, void *ctx)
{
	static struct walk_ctx w;

	memset(&w, 0, sizeof(w));
	w.a = arg;
	w.emit = emit;
	w.ctx = ctx;
	w.now = mx_now_ns();

	w.type = MX_REC_BAN_ADD;
	if (mx_table_foreach(&w.a->bans, walk_one, &w))
		return -1;
	w.type = MX_REC_ALLOW_ADD;
	if (mx_table_foreach(&w.a->allows, walk_one, &w))
		return -1;
	w.type = MX_REC_CLASS_SET;
	if (mx_table_foreach(&w.a->classes, walk_one, &w))
		return -1;
	return mx_verdict_foreach(&w.a->verdict, walk_sender, &w) ? -1 : 0;
}

/* state_open - restore the state directory into the maps */
int state_open(struct agent *a)
{
	struct mx_restore_report rep;
	char err[256];

	if (!a->state_dir || !*a->state_dir)
		return 0;
	memset(&earlier, 0, sizeof(earlier));
	if (mx_persist_open(&a->persist, a->state_dir, scan_clock, apply, a, &rep, err,
			    sizeof(err))) {
		agent_log("%s", err);
		return -1;
	}
	a->persist_on = true;
	/*
	 * Records of an earlier boot were placed on this boot's clock once, by
	 * the wall clock of now: a snapshot in the event loop's first turn
	 * (not here: the program is attached first) writes them again as this
	 * boot's, so a restart on this boot is exact and does not judge the
	 * same records by a later wall clock.
	 */
	for (unsigned int i = 0; i < earlier.n; i++)
		a->snapshot_soon |= earlier.b[i].records != 0;
	agent_log("restored %llu records from the snapshot and %llu from the journal in %s",
		  (unsigned long long)rep.snapshot_records,
		  (unsigned long long)rep.journal_records, a->state_dir);
	if (rep.snapshot_damaged)
		agent_log("warning: %s/snapshot.gz is damaged; restored what was readable",
			  a->state_dir);
	if (rep.torn_bytes)
		agent_log("warning: cut %llu bytes of torn or corrupt records from the journal's tail",
			  (unsigned long long)rep.torn_bytes);
	if (a->restore_failed)
		agent_log("warning: %llu restored entries did not fit in the maps",
			  (unsigned long long)a->restore_failed);
	a->restore_torn_bytes = rep.torn_bytes;
	return 0;
}

/* state_snapshot - write a snapshot now; the journal restarts */
int state_snapshot(struct agent *a)
{
	char err[256];

	if (!a->persist_on)
		return 0;
	if (mx_persist_snapshot(&a->persist, walk_state, a, err, sizeof(err))) {
		agent_log("%s", err);
		return -1;
	}
	return 0;
}

/* state_close - a last snapshot, then close */
void state_close(struct agent *a)
{
	if (!a->persist_on)
		return;
	state_snapshot(a);
	mx_persist_close(&a->persist);
	a->persist_on = false;
}
