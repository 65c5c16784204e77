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
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "log.h"
#include "mapwalk.h"
#include "store.h"

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
static void plan_earlier(struct mx_store *s)
{
	int64_t wall = mx_wall_ns(), now_ns = (int64_t)mx_now_ns();

	for (unsigned int i = 0; i < earlier.n; i++) {
		struct earlier_boot *e = &earlier.b[i];
		int64_t gap = wall - e->last_wall_ns;
		char last[32], cur[32], d[32];

		if (!e->records)
			continue;
		e->planned = true;
		if (!e->seen) {		/* nothing in it has a time */
			e->shift_ns = now_ns - wall;
			continue;
		}
		when_text(e->last_wall_ns, last, sizeof(last));
		when_text(wall, cur, sizeof(cur));
		mx_format_duration((uint64_t)(gap < 0 ? -gap : gap), d, sizeof(d));
		if (gap >= -CLOCK_BEHIND_SLACK && gap <= CLOCK_AHEAD_MAX) {
			e->shift_ns = now_ns - e->last_ns - (gap > 0 ? gap : 0);
			mx_log("restoring %llu records of an earlier boot, the latest written %s "
				  "before now (%s)", (unsigned long long)e->records,
				  gap > 0 ? d : "0s", last);
			continue;
		}
		e->shift_ns = now_ns - e->last_ns;
		s->state.restore_clock_suspect++;
		mx_log("warning: the wall clock (%s) is %s %s the latest of %llu records of an "
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

/* state_refused - why a change was refused: the journal could not take it (e: -errno) */
int state_refused(const struct mx_store *s, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot record it on disk in %s: %s; nothing changed",
		 s->state.persist.dir, strerror(-e));
	return e;
}

/* journal - append a record when persistence is on */
static int journal(struct mx_store *s, struct mx_record *r, char *err, size_t errlen)
{
	int e;

	if (!s->state.on)
		return 0;
	e = mx_persist_append(&s->state.persist, r);
	return e ? state_refused(s, e, err, errlen) : 0;
}

int state_ban_add(struct mx_store *s, const struct mx_prefix *p, const struct mx_ban *b,
		  const char *reason, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_BAN_ADD, p);
	r.flags = b->flags & MX_BAN_KINDS;
	r.expires_wall_ns = boot_to_wall(&r, b->expires_ns);
	snprintf(r.reason, sizeof(r.reason), "%s", reason ? reason : "");
	return journal(s, &r, err, errlen);
}

int state_ban_del(struct mx_store *s, const struct mx_prefix *p, uint32_t kinds, const char *list,
		  char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_BAN_DEL, p);
	r.flags = kinds & MX_BAN_KINDS;
	snprintf(r.reason, sizeof(r.reason), "%s", list ? list : "");
	return journal(s, &r, err, errlen);
}

/* list_record - a blocklist's commit or drop, by name */
static int list_record(struct mx_store *s, enum mx_record_type type, const char *name, uint32_t tag,
		       char *err, size_t errlen)
{
	struct mx_prefix none = { .family = AF_INET };
	struct mx_record r;

	record_of(&r, type, &none);	/* stamped with this boot, as every record */
	r.class_id = tag;
	snprintf(r.reason, sizeof(r.reason), "%s", name);
	return journal(s, &r, err, errlen);
}

int state_list_commit(struct mx_store *s, const char *name, uint32_t tag, char *err, size_t errlen)
{
	return list_record(s, MX_REC_LIST_COMMIT, name, tag, err, errlen);
}

int state_list_drop(struct mx_store *s, const char *name, char *err, size_t errlen)
{
	return list_record(s, MX_REC_LIST_DROP, name, 0, err, errlen);
}

int state_allow_add(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_ALLOW_ADD, p);
	return journal(s, &r, err, errlen);
}

int state_class_set(struct mx_store *s, const struct mx_prefix *p, uint32_t class_id,
		    char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_CLASS_SET, p);
	r.class_id = class_id;
	return journal(s, &r, err, errlen);
}

int state_del(struct mx_store *s, enum mx_record_type type, const struct mx_prefix *p,
	      char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, type, p);
	return journal(s, &r, err, errlen);
}

/* unsynced - a record of evidence: written now, synced with the others each second */
static int unsynced(struct mx_store *s, struct mx_record *rec)
{
	struct mx_record r = *rec;
	int64_t end;
	int e;

	end = mx_persist_size(&s->state.persist);
	if (end < 0)
		return (int)end;
	e = mx_persist_write(&s->state.persist, &r, 1);
	if (e && mx_persist_truncate(&s->state.persist, end))	/* never half a record */
		mx_log("cannot cut a half-written record from the journal: %s", strerror(errno));
	if (!e)
		s->state.dirty = true;
	return e;
}

int state_sender_hits(struct mx_store *s, const struct mx_prefix *p, int kind, uint32_t count,
		      int64_t when)
{
	struct mx_record r;

	if (!s->state.on)
		return 0;
	record_of(&r, MX_REC_TRAP_HIT, p);
	r.class_id = (uint32_t)kind;
	r.flags = count;
	r.added_wall_ns = secs_wall(&r, when);
	return unsynced(s, &r);
}

int state_sender_session(struct mx_store *s, const struct mx_prefix *p, uint32_t messages,
			 int64_t when)
{
	struct mx_record r;

	if (!s->state.on)
		return 0;
	record_of(&r, MX_REC_SESSION, p);
	r.flags = messages;
	r.added_wall_ns = secs_wall(&r, when);
	return unsynced(s, &r);
}

int state_sender_delist(struct mx_store *s, const struct mx_prefix *p, int64_t delist_wall_s,
			char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_DELIST_AT, p);
	r.expires_wall_ns = delist_wall_s * MX_NS_PER_S;	/* wall clock, as it is */
	return journal(s, &r, err, errlen);
}

/* push_record - a ban to push to CrowdSec, as its journal record */
static void push_record(struct mx_record *r, const struct mx_cs_push *cp)
{
	record_of(r, MX_REC_CS_PUSH, &cp->p);
	r->class_id = cp->id;
	r->flags = cp->hits;
	r->added_wall_ns = cp->at_wall_s * MX_NS_PER_S;
	r->expires_wall_ns = cp->until_wall_s * MX_NS_PER_S;
	snprintf(r->reason, sizeof(r->reason), "%s", cp->scenario);
}

/* auto_push - the push of an automatic ban: its scenario, hits and end */
static void auto_push(struct mx_cs_push *cp, const struct mx_prefix *p, const struct mx_ban *b,
		      const struct mx_decision *d)
{
	int64_t wall = mx_wall_ns() / MX_NS_PER_S;

	memset(cp, 0, sizeof(*cp));
	cp->p = *p;
	cp->hits = d->hits;
	cp->at_wall_s = wall;
	cp->until_wall_s = b->expires_ns ? wall + (int64_t)((b->expires_ns - mx_now_ns()) /
							    MX_NS_PER_S) : 0;
	snprintf(cp->scenario, sizeof(cp->scenario), "%s", d->offense > 1 ?
		 "mxguard/repeat-offender" : d->kind == MX_TRAP_SPAM ? "mxguard/spam-trap" :
		 "mxguard/backscatter-trap");
}

/* queue_push - a journalled push into the queue (full: counted, logged) */
static void queue_push(struct mx_store *s, struct mx_cs_push *cp)
{
	if (mx_cs_pushes_add(&s->pushes, cp)) {
		s->cs_push_dropped++;
		mx_log("crowdsec: cannot queue the push of a ban: %d waiting already",
		       MX_CS_PUSHES_MAX);
	}
}

int state_cs_push(struct mx_store *s, struct mx_cs_push *cp, char *err, size_t errlen)
{
	struct mx_record r;
	int e;

	if (s->pushes.n >= MX_CS_PUSHES_MAX) {
		s->cs_push_dropped++;
		snprintf(err, errlen, "%d pushes to CrowdSec are waiting already", MX_CS_PUSHES_MAX);
		return -ENOSPC;
	}
	cp->id = s->pushes.next_id + 1 ? s->pushes.next_id + 1 : 1;
	push_record(&r, cp);
	e = journal(s, &r, err, errlen);
	if (!e)
		queue_push(s, cp);
	return e;
}

void state_cs_pushed(struct mx_store *s, const uint32_t *ids, size_t n)
{
	struct mx_prefix none = { .family = AF_INET };

	for (size_t i = 0; i < n; i++) {
		struct mx_record r;

		if (!mx_cs_pushes_done(&s->pushes, ids[i]) || !s->state.on)
			continue;
		record_of(&r, MX_REC_CS_PUSHED, &none);
		r.class_id = ids[i];
		if (unsynced(s, &r))
			mx_log("crowdsec: cannot journal a push as done (it is pushed again after a "
			       "restart): %s", strerror(errno));
	}
}

int state_sender_ban(struct mx_store *s, const struct mx_prefix *p, const struct mx_ban *b,
		     const char *reason, const struct mx_decision *d, int64_t now_s,
		     char *err, size_t errlen)
{
	struct mx_cs_push cp;
	struct mx_record r[3];
	size_t n = 0;
	int e;

	if (!s->state.on) {
		if (s->cs_push && b) {
			auto_push(&cp, p, b, d);
			queue_push(s, &cp);
		}
		return 0;
	}
	if (b) {
		record_of(&r[n], MX_REC_BAN_ADD, p);
		r[n].flags = b->flags & MX_BAN_KINDS;
		r[n].expires_wall_ns = boot_to_wall(&r[n], b->expires_ns);
		snprintf(r[n].reason, sizeof(r[n].reason), "%s", reason ? reason : "");
		n++;
	}
	record_of(&r[n], MX_REC_SENDER_BAN, p);
	r[n].flags = d->offense;
	r[n].added_wall_ns = secs_wall(&r[n], now_s);
	r[n].expires_wall_ns = secs_wall(&r[n], d->until);
	n++;
	/* Pushed to CrowdSec: the push is on disk with the ban, or neither is. */
	if (s->cs_push && b) {
		auto_push(&cp, p, b, d);
		cp.id = s->pushes.next_id + 1 ? s->pushes.next_id + 1 : 1;
		push_record(&r[n++], &cp);
	}
	e = mx_persist_append_many(&s->state.persist, r, n);
	if (e)
		return state_refused(s, e, err, errlen);
	s->state.dirty = false;
	if (s->cs_push && b)
		queue_push(s, &cp);
	return 0;
}

int state_sender_listed(struct mx_store *s, const struct mx_prefix *p, int64_t since,
			int64_t until, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, since ? MX_REC_LISTED : MX_REC_DELISTED, p);
	r.added_wall_ns = since ? secs_wall(&r, since) : 0;
	r.expires_wall_ns = secs_wall(&r, until);
	return journal(s, &r, err, errlen);
}

int state_sender_forget(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_SENDER_FORGET, p);
	return journal(s, &r, err, errlen);
}

int state_sender_class(struct mx_store *s, const struct mx_prefix *p, uint32_t class_id,
		       uint32_t reasons, int64_t until, char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_AUTO_CLASS, p);
	r.class_id = class_id;
	r.flags = reasons;
	r.expires_wall_ns = class_id ? secs_wall(&r, until) : 0;
	return journal(s, &r, err, errlen);
}

/* state_sync - hits written since the last sync go to disk */
void state_sync(struct mx_store *s)
{
	if (!s->state.on || !s->state.dirty)
		return;
	if (mx_persist_sync(&s->state.persist))
		mx_log("cannot sync the journal: %s", strerror(errno));
	else
		s->state.dirty = false;
}

/* batch_flush - write the chunk (no sync) */
static void batch_flush(struct state_batch *b)
{
	int e;

	if (!b->n || b->err)
		return;
	if (b->start < 0) {
		b->start = mx_persist_size(&b->s->state.persist);
		if (b->start < 0) {
			b->err = (int)b->start;
			return;
		}
	}
	e = mx_persist_write(&b->s->state.persist, b->r, b->n);
	if (e)
		b->err = e;
	else
		mx_persist_writeback(&b->s->state.persist);
	b->n = 0;
}

/* state_batch_ban - add a ban record to a batch; tag: a pending list's load */
int state_batch_ban(struct state_batch *b, enum mx_record_type type, const struct mx_prefix *p,
		    const struct mx_ban *ban, const char *reason, uint32_t tag)
{
	struct mx_record *r;

	if (!b->s->state.on)
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
		r->flags = ban->flags & MX_BAN_KINDS;
		r->expires_wall_ns = boot_to_wall(r, ban->expires_ns);
	}
	if (tag) {
		r->flags |= MX_REC_F_PENDING;
		r->class_id = tag;
	}
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	return 0;
}

/*
 * state_batch_write - what the batch holds is written (not synced): the
 * sync is the caller's, as long as it likes (a blocklist's job syncs in
 * a thread of its own).
 */
int state_batch_write(struct mx_store *s, struct state_batch *b, char *err, size_t errlen)
{
	if (!s->state.on)
		return 0;
	batch_flush(b);
	return b->err ? state_refused(s, b->err, err, errlen) : 0;
}

/*
 * state_batch_free - free. Records of a batch whose load was never
 * committed stay in the journal, harmless: a restore drops a pending
 * load without its commit (and other records may follow them, so
 * they are never cut).
 */
void state_batch_free(struct state_batch *b)
{
	free(b->r);
	b->r = NULL;
	b->n = 0;
	b->start = -1;
}

/*
 * record_list - the blocklist a record names ("NAME: REASON" or "NAME"):
 * a pending one when the record is of a load not yet committed
 */
static uint32_t record_list(struct mx_store *s, const struct mx_record *r)
{
	char name[MX_LIST_NAME_MAX + 1];
	size_t n = strcspn(r->reason, ":");

	if (n == 0 || n > MX_LIST_NAME_MAX || n >= sizeof(r->reason))
		return 0;
	memcpy(name, r->reason, n);
	name[n] = '\0';
	if (r->type == MX_REC_BAN_ADD && (r->flags & MX_REC_F_PENDING))
		return mx_bans_list_pending(&s->claims, name, r->class_id);
	return mx_bans_list(&s->claims, name, r->type == MX_REC_BAN_ADD);
}

/* apply - put one restored record into the maps */
static int apply(const struct mx_record *r, void *arg)
{
	struct mx_store *s = arg;
	struct mx_prefix p;

	switch (r->type) {
	case MX_REC_LIST_COMMIT: {
		char name[MX_LIST_NAME_MAX + 1];
		uint32_t pending;

		snprintf(name, sizeof(name), "%.*s", (int)strnlen(r->reason, sizeof(r->reason)),
			 r->reason);
		pending = mx_bans_list_pending(&s->claims, name, r->class_id);
		if (pending)
			mx_bans_list_commit(&s->claims, pending, NULL);
		return 0;
	}
	case MX_REC_LIST_DROP: {
		uint32_t list = record_list(s, r);

		if (list)
			mx_bans_list_drop(&s->claims, list, NULL);
		return 0;
	}
	case MX_REC_CS_PUSH: {
		struct mx_cs_push cp = { .id = r->class_id, .hits = r->flags,
					 .at_wall_s = r->added_wall_ns / MX_NS_PER_S,
					 .until_wall_s = r->expires_wall_ns / MX_NS_PER_S };

		if (!r->class_id || prefix_of(r, &cp.p))
			return 0;
		snprintf(cp.scenario, sizeof(cp.scenario), "%.*s",
			 (int)strnlen(r->reason, sizeof(r->reason)), r->reason);
		mx_cs_pushes_done(&s->pushes, cp.id);	/* twice in a snapshot and a journal */
		if (mx_cs_pushes_add(&s->pushes, &cp))
			s->state.restore_failed++;
		return 0;
	}
	case MX_REC_CS_PUSHED:
		mx_cs_pushes_done(&s->pushes, r->class_id);
		return 0;
	default:
		break;
	}
	if (prefix_of(r, &p))
		return 0;
	switch (r->type) {
	case MX_REC_BAN_ADD: {
		struct mx_ban b = { .flags = r->flags & MX_BAN_KINDS, .added_ns = mx_now_ns() };
		char reason[MX_REASON_LEN];

		if (!b.flags)
			b.flags = MX_BAN_F_MANUAL;	/* a record without an owner: the operator's */
		if (b.flags & MX_BAN_F_BLOCKLIST) {
			uint32_t list = record_list(s, r);

			if (!list)
				return 0;	/* not a list we can name: nothing to own it */
			b.flags |= list << 16;
		}
		if (!restore_expiry(r, &b.expires_ns)) {
			/* Expired while we were away: that owner's earlier claim goes too. */
			mx_bans_unclaim(&s->claims, &p, b.flags & MX_BAN_KINDS, MX_BAN_LIST(b.flags));
			return 0;
		}
		memcpy(reason, r->reason, sizeof(reason));
		reason[sizeof(reason) - 1] = '\0';
		b.reason = mx_bans_reason(&s->claims, reason);
		if (mx_bans_claim(&s->claims, &p, &b))
			s->state.restore_failed++;
		return 0;
	}
	case MX_REC_BAN_DEL: {
		uint32_t kinds = r->flags & MX_BAN_KINDS, list = 0;

		if (!kinds)
			kinds = MX_BAN_KINDS;	/* an older agent's: every owner */
		if ((kinds & MX_BAN_F_BLOCKLIST) && r->reason[0]) {
			list = record_list(s, r);
			if (!list)
				return 0;
		}
		mx_bans_unclaim(&s->claims, &p, kinds, list);
		if (kinds & MX_BAN_F_AUTOMATIC)
			mx_verdict_unbanned(s->engine, &p, wall_secs(r, r->added_wall_ns));
		return 0;
	}
	case MX_REC_ALLOW_ADD: {
		struct mx_allow al = { .added_ns = mx_now_ns() };

		if (mx_table_put(&s->allows, &p, &al, BPF_ANY))
			s->state.restore_failed++;
		return 0;
	}
	case MX_REC_ALLOW_DEL:
		mx_table_del(&s->allows, &p);
		return 0;
	case MX_REC_CLASS_SET: {
		struct mx_class_ref ref = { .class_id = r->class_id };

		if (r->class_id < MX_MAX_CLASSES && mx_table_put(&s->classes, &p, &ref, BPF_ANY))
			s->state.restore_failed++;
		return 0;
	}
	case MX_REC_CLASS_DEL:
		mx_table_del(&s->classes, &p);
		return 0;
	case MX_REC_TRAP_HIT:
		if (r->class_id < MX_TRAP_KINDS && r->flags)
			mx_verdict_restore_hits(s->engine, &p, (enum mx_trap_kind)r->class_id,
						wall_secs(r, r->added_wall_ns), r->flags);
		return 0;
	case MX_REC_SENDER_BAN:
		mx_verdict_restore_ban(s->engine, &p, r->flags, wall_secs(r, r->added_wall_ns),
				       wall_until(r, r->expires_wall_ns));
		return 0;
	case MX_REC_LISTED:
		mx_verdict_restore_listed(s->engine, &p, wall_secs(r, r->added_wall_ns),
					  wall_until(r, r->expires_wall_ns));
		return 0;
	case MX_REC_DELISTED:
		mx_verdict_restore_listed(s->engine, &p, 0, 0);
		return 0;
	case MX_REC_DELIST_AT:
		mx_verdict_restore_delist(s->engine, &p, r->expires_wall_ns / MX_NS_PER_S);
		return 0;
	case MX_REC_SESSION:
		if (r->flags)
			mx_verdict_restore_session(s->engine, &p, r->flags,
						   wall_secs(r, r->added_wall_ns));
		return 0;
	case MX_REC_SENDER_FORGET:
		mx_verdict_forget(s->engine, &p);
		return 0;
	case MX_REC_AUTO_CLASS: {
		struct mx_class_ref ref = { .class_id = r->class_id };
		int64_t until = wall_until(r, r->expires_wall_ns);

		if (r->class_id >= MX_MAX_CLASSES)
			return 0;
		if (!r->class_id || until <= mx_now_s()) {
			struct mx_class_ref old;

			/* Taken back or expired: the map entry goes if it is still ours. */
			if (mx_table_get(&s->classes, &p, &old) == 0 &&
			    mx_verdict_find(s->engine, &p) &&
			    old.class_id == mx_verdict_find(s->engine, &p)->auto_class)
				mx_table_del(&s->classes, &p);
			mx_verdict_auto_class(s->engine, &p, 0, 0, 0, 0);
			return 0;
		}
		mx_verdict_auto_class(s->engine, &p, r->class_id, r->flags ? r->flags : 1, until,
				      wall_secs(r, r->added_wall_ns));
		if (mx_table_put(&s->classes, &p, &ref, BPF_ANY))
			s->state.restore_failed++;
		return 0;
	}
	default:
		return 0;
	}
}

struct walk_ctx {
	struct mx_store *s;
	mx_emit_fn emit;
	void *ctx;
	enum mx_record_type type;
	uint64_t now_ns;
	int64_t cut_s;		/* the snapshot's cut: the engine's rings up to it */
};

/* walk_claim - one owner's ban as a snapshot record */
static int walk_claim(const struct mx_prefix *p, const struct mx_ban *b, void *arg)
{
	struct walk_ctx *w = arg;
	const struct mx_bans *bans = &w->s->claims;
	const char *text = mx_bans_reason_text(bans, b->reason);
	struct mx_record r;
	uint32_t tag;

	if (b->expires_ns && b->expires_ns <= w->now_ns)
		return 0;	/* expired: nothing to keep */
	record_of(&r, MX_REC_BAN_ADD, p);
	r.flags = b->flags & MX_BAN_KINDS;
	r.expires_wall_ns = boot_to_wall(&r, b->expires_ns);
	snprintf(r.reason, sizeof(r.reason), "%s", text);
	if (b->flags & MX_BAN_F_BLOCKLIST) {
		const char *name = mx_bans_list_name(bans, MX_BAN_LIST(b->flags));
		size_t n = strlen(name);

		if (!n)
			return 0;	/* its list is gone */
		/* The list is named by its reason text, even a generic one. */
		if (strncmp(text, name, n) || text[n] != ':')
			snprintf(r.reason, sizeof(r.reason), "%s: listed on blocklist", name);
		if (mx_bans_list_is_pending(bans, MX_BAN_LIST(b->flags), &tag)) {
			r.flags |= MX_REC_F_PENDING;
			r.class_id = tag;
		}
	}
	return w->emit(w->ctx, &r);
}

/* walk_one - one allowlist or class entry as a snapshot record */
static int walk_one(const struct mx_prefix *p, const void *val, void *arg)
{
	struct walk_ctx *w = arg;
	struct mx_record r;

	record_of(&r, w->type, p);
	if (w->type == MX_REC_CLASS_SET)
		r.class_id = ((const struct mx_class_ref *)val)->class_id;
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
	int64_t now_s = w->cut_s;	/* the engine's clock: a wall-clock jump drops nothing */
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
	if (mx_sender_listed(w->s->engine, e, now_s)) {
		record_of(&r, MX_REC_LISTED, &e->src);
		r.added_wall_ns = secs_wall(&r, e->listed_since);
		r.expires_wall_ns = secs_wall(&r, e->listed_until);
		if (w->emit(w->ctx, &r))
			return -1;
		if (e->delist_wall_s) {
			record_of(&r, MX_REC_DELIST_AT, &e->src);
			r.expires_wall_ns = e->delist_wall_s * MX_NS_PER_S;
			if (w->emit(w->ctx, &r))
				return -1;
		}
	}
	/* The habit of one message per connection: each such session still in its window. */
	for (uint32_t i = 0; i < e->single.n; i++) {
		int64_t t = e->single.t[(e->single.head + i) % e->single.size];

		if (t <= now_s - w->s->engine->s.one_message_window || t > w->cut_s)
			continue;	/* out of the window, or after the cut: in the new journal */
		record_of(&r, MX_REC_SESSION, &e->src);
		r.flags = 1;
		r.added_wall_ns = secs_wall(&r, t);
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
			if (t <= now_s - w->s->engine->s.trap_window[k] || t > w->cut_s)
				continue;	/* out of the window, or after the cut: in the new journal */
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

/*
 * The snapshot being written, a slice at a time: the verdict engine's
 * senders, a few buckets a slice (their rings up to the cut: the engine
 * stamps later hits after it, verdict.h), then the maps: bans with every
 * owner's claim, the allowlist, classes. What changes after the cut is
 * written again by the journal that follows, by records that set state
 * (bans, listings, classes, forgetting) or add only what is after the
 * cut (hits, sessions).
 */
static struct snapshot_job {
	bool on;
	bool closing;			/* written: a thread makes it durable */
	bool senders_done;
	uint32_t cursor, nbuckets;	/* the senders' walk (mx_verdict_walk) */
	int table;			/* 0 bans, 1 allowlist, 2 classes */
	int map;			/* enum mx_table_map */
	struct mx_walk w;
	struct walk_ctx ctx;
} sj;

/* snap_entry - a map entry as snapshot records (mx_walk callback) */
static int snap_entry(const void *key, const void *val, void *arg)
{
	struct walk_ctx *w = arg;
	struct mx_prefix p;

	mx_table_key_prefix((enum mx_table_map)sj.map, key, &p);
	if (sj.table == 0) {
		struct mx_ban c[16];
		size_t n = mx_bans_expand(&w->s->claims, &p, val, c, 16);

		for (size_t i = 0; i < n; i++)
			if (walk_claim(&p, &c[i], w))
				return -EIO;
		return 0;
	}
	return walk_one(&p, val, w) ? -EIO : 0;
}

/* state_snapshot_start - set the journal aside, write the senders; false if none begun */
bool state_snapshot_start(struct mx_store *s)
{
	char err[256];

	if (!s->state.on || sj.on || s->state.batches)
		return false;
	if (mx_persist_snapshot_begin(&s->state.persist, err, sizeof(err))) {
		mx_log("%s", err);
		return false;
	}
	memset(&sj, 0, sizeof(sj));
	sj.on = true;
	sj.ctx.s = s;
	sj.ctx.emit = mx_persist_snapshot_emit;
	sj.ctx.ctx = &s->state.persist;
	sj.ctx.now_ns = mx_now_ns();
	sj.ctx.cut_s = mx_now_s();
	/* The pushes waiting (a few, as a rule: LAPI takes them within seconds). */
	for (size_t i = 0; i < s->pushes.n; i++) {
		struct mx_record r;

		push_record(&r, &s->pushes.v[i]);
		if (mx_persist_snapshot_emit(&s->state.persist, &r)) {
			mx_persist_snapshot_end(&s->state.persist, false, err, sizeof(err));
			mx_log("snapshot: cannot write the pushes waiting: %s", err);
			sj.on = false;
			return false;
		}
	}
	if (s->engine) {
		/* Every time in the rings now is at or before the cut (some were stamped ahead). */
		if (sj.ctx.cut_s < s->engine->latest_s)
			sj.ctx.cut_s = s->engine->latest_s;
		s->engine->cut_s = sj.ctx.cut_s;
		sj.nbuckets = s->engine->nbuckets;
	} else {
		sj.senders_done = true;
	}
	return sj.on;
}

/* snapshot_senders - the engine's senders until deadline; 1 when all are written */
static int snapshot_senders(struct mx_store *s, uint64_t deadline_us)
{
	while (mx_mono_us() < deadline_us) {
		int r;

		if (s->engine->nbuckets != sj.nbuckets)
			return -EAGAIN;	/* rehashed by a reload: the walk lost its place */
		r = mx_verdict_walk(s->engine, &sj.cursor, 64, walk_sender, &sj.ctx);
		if (r)
			return r == 1 ? 1 : -EIO;
	}
	return 0;
}

/* state_snapshot_work - write the snapshot until deadline; true while it goes on */
bool state_snapshot_work(struct mx_store *s, uint64_t deadline_us)
{
	const struct mx_table *tables[] = { &s->bans, &s->allows, &s->classes };
	char err[256];

	if (sj.on && sj.closing) {
		int r = mx_persist_snapshot_poll(&s->state.persist, err, sizeof(err));

		if (r == 1)
			return false;	/* nothing for the loop to do: it looks again next turn */
		if (r)
			mx_log("%s", err);
		sj.on = sj.closing = false;
		return false;
	}
	if (sj.on && !sj.senders_done) {
		int r = snapshot_senders(s, deadline_us);

		if (r < 0) {
			mx_persist_snapshot_end(&s->state.persist, false, err, sizeof(err));
			mx_log("snapshot of the senders failed (%s); the next one starts over",
			       r == -EAGAIN ? "the table was resized" : err);
			sj.on = false;
			return false;
		}
		if (!r)
			return true;
		sj.senders_done = true;
	}
	while (sj.on && mx_mono_us() < deadline_us) {
		const struct mx_table *t = tables[sj.table];
		int r = 0;

		if (!sj.w.key_size)
			r = mx_walk_init(&sj.w, t->fd[sj.map], 0, t->value_size);
		sj.ctx.type = sj.table == 1 ? MX_REC_ALLOW_ADD : MX_REC_CLASS_SET;
		if (!r)
			r = mx_walk_step(&sj.w, 512, snap_entry, &sj.ctx);
		if (r == 0)
			continue;
		mx_walk_free(&sj.w);
		memset(&sj.w, 0, sizeof(sj.w));
		if (r < 0) {
			mx_persist_snapshot_end(&s->state.persist, false, err, sizeof(err));
			mx_log("%s", err);
			sj.on = false;
			break;
		}
		if (++sj.map < MX_TABLE_MAPS)
			continue;
		sj.map = 0;
		if (++sj.table < 3)
			continue;
		mx_persist_snapshot_close(&s->state.persist, true);
		sj.closing = true;
		return false;
	}
	return sj.on && !sj.closing;
}

/* state_open - restore the state directory into the maps */
int state_open(struct mx_store *s)
{
	struct mx_restore_report rep;
	char err[256];

	if (!s->state.dir || !*s->state.dir)
		return 0;
	/* What pinned maps hold from an earlier agent counts only if the journal says so. */
	s->claims.restoring = true;
	s->claims.restore_ns = mx_now_ns();
	memset(&earlier, 0, sizeof(earlier));
	if (mx_persist_open(&s->state.persist, s->state.dir, scan_clock, apply, s, &rep, err,
			    sizeof(err))) {
		mx_log("%s", err);
		return -1;
	}
	mx_bans_restore_done(&s->claims);
	s->state.on = true;
	/*
	 * Records of an earlier boot were placed on this boot's clock once, by
	 * the wall clock of now: a snapshot in the event loop's first turn
	 * (not here: the program is attached first) writes them again as this
	 * boot's, so a restart on this boot is exact and does not judge the
	 * same records by a later wall clock.
	 */
	for (unsigned int i = 0; i < earlier.n; i++)
		s->state.snapshot_soon |= earlier.b[i].records != 0;
	mx_log("restored %llu records from the snapshot and %llu from the journal in %s",
		  (unsigned long long)rep.snapshot_records,
		  (unsigned long long)rep.journal_records, s->state.dir);
	if (rep.snapshot_damaged)
		mx_log("warning: %s/snapshot.gz is damaged; restored what was readable",
			  s->state.dir);
	if (rep.torn_bytes)
		mx_log("warning: cut %llu bytes of torn or corrupt records from the journal's tail",
			  (unsigned long long)rep.torn_bytes);
	if (s->state.restore_failed)
		mx_log("warning: %llu restored entries did not fit in the maps",
			  (unsigned long long)s->state.restore_failed);
	s->state.restore_torn_bytes = rep.torn_bytes;
	return 0;
}

/* state_snapshot - write a whole snapshot now (at a stop, in tests) */
int state_snapshot(struct mx_store *s)
{
	if (!s->state.on)
		return 0;
	if (!sj.on && !state_snapshot_start(s))
		return -1;
	while (sj.on)
		if (!state_snapshot_work(s, UINT64_MAX) && sj.on)
			usleep(1000);	/* its thread makes it durable */
	return 0;
}

/* state_close - a last snapshot, then close */
void state_close(struct mx_store *s)
{
	if (!s->state.on)
		return;
	state_snapshot(s);
	mx_persist_close(&s->state.persist);
	s->state.on = false;
}
