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
 *	Times: the maps hold CLOCK_BOOTTIME, which restarts at boot; the
 *	files hold CLOCK_REALTIME, so an expiry means the same moment after
 *	a reboot. A ban that expired while the agent was down is not
 *	restored.
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
#include "mapwalk.h"
#include "state.h"

/* wall_ns - CLOCK_REALTIME */
static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* boot_to_wall - a CLOCK_BOOTTIME instant as CLOCK_REALTIME (0 stays 0) */
static int64_t boot_to_wall(uint64_t boot)
{
	return boot ? wall_ns() + ((int64_t)boot - (int64_t)mx_now_ns()) : 0;
}

/* record_of - a record for a prefix */
static void record_of(struct mx_record *r, enum mx_record_type type, const struct mx_prefix *p)
{
	memset(r, 0, sizeof(*r));
	r->type = (uint8_t)type;
	r->family = (uint8_t)p->family;
	r->len = p->len;
	memcpy(r->addr, p->addr, 16);
	r->added_wall_ns = wall_ns();
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
	r.flags = b->flags & MX_BAN_KINDS;
	r.expires_wall_ns = boot_to_wall(b->expires_ns);
	snprintf(r.reason, sizeof(r.reason), "%s", reason ? reason : "");
	return journal(a, &r, err, errlen);
}

int state_ban_del(struct agent *a, const struct mx_prefix *p, uint32_t kinds, const char *list,
		  char *err, size_t errlen)
{
	struct mx_record r;

	record_of(&r, MX_REC_BAN_DEL, p);
	r.flags = kinds & MX_BAN_KINDS;
	snprintf(r.reason, sizeof(r.reason), "%s", list ? list : "");
	return journal(a, &r, err, errlen);
}

/* list_record - a blocklist's commit or drop, by name */
static int list_record(struct agent *a, enum mx_record_type type, const char *name, uint32_t tag,
		       char *err, size_t errlen)
{
	struct mx_record r;

	memset(&r, 0, sizeof(r));
	r.type = (uint8_t)type;
	r.family = AF_INET;
	r.class_id = tag;
	r.added_wall_ns = wall_ns();
	snprintf(r.reason, sizeof(r.reason), "%s", name);
	return journal(a, &r, err, errlen);
}

int state_list_commit(struct agent *a, const char *name, uint32_t tag, char *err, size_t errlen)
{
	return list_record(a, MX_REC_LIST_COMMIT, name, tag, err, errlen);
}

int state_list_drop(struct agent *a, const char *name, char *err, size_t errlen)
{
	return list_record(a, MX_REC_LIST_DROP, name, 0, err, errlen);
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

/* secs_ns / ns_secs - the engine's seconds and MX_FOREVER as record times (0: never) */
static int64_t secs_ns(int64_t s)
{
	return s == MX_FOREVER ? 0 : s * 1000000000LL;
}

static int64_t ns_secs(int64_t ns)
{
	return ns ? ns / 1000000000LL : MX_FOREVER;
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
	r.added_wall_ns = when * 1000000000LL;
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
		r[n].flags = b->flags & MX_BAN_KINDS;
		r[n].expires_wall_ns = boot_to_wall(b->expires_ns);
		snprintf(r[n].reason, sizeof(r[n].reason), "%s", reason ? reason : "");
		n++;
	}
	record_of(&r[n], MX_REC_SENDER_BAN, p);
	r[n].flags = d->offense;
	r[n].added_wall_ns = now * 1000000000LL;
	r[n].expires_wall_ns = secs_ns(d->until);
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
	r.added_wall_ns = since * 1000000000LL;
	r.expires_wall_ns = secs_ns(until);
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
	r.expires_wall_ns = class_id ? secs_ns(until) : 0;
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
	else
		mx_persist_writeback(&b->a->persist);
	b->n = 0;
}

/* state_batch_ban - add a ban record to a batch; tag: a pending list's load */
int state_batch_ban(struct state_batch *b, enum mx_record_type type, const struct mx_prefix *p,
		    const struct mx_ban *ban, const char *reason, uint32_t tag)
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
		r->flags = ban->flags & MX_BAN_KINDS;
		r->expires_wall_ns = boot_to_wall(ban->expires_ns);
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
int state_batch_write(struct agent *a, struct state_batch *b, char *err, size_t errlen)
{
	if (!a->persist_on)
		return 0;
	batch_flush(b);
	if (b->err)
		snprintf(err, errlen, "cannot record it on disk in %s: %s; nothing changed",
			 a->persist.dir, strerror(-b->err));
	return b->err;
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
static uint32_t record_list(struct agent *a, const struct mx_record *r)
{
	char name[MX_LIST_NAME_MAX + 1];
	size_t n = strcspn(r->reason, ":");

	if (n == 0 || n > MX_LIST_NAME_MAX || n >= sizeof(r->reason))
		return 0;
	memcpy(name, r->reason, n);
	name[n] = '\0';
	if (r->type == MX_REC_BAN_ADD && (r->flags & MX_REC_F_PENDING))
		return mx_bans_list_pending(&a->claims, name, r->class_id);
	return mx_bans_list(&a->claims, name, r->type == MX_REC_BAN_ADD);
}

/* apply - put one restored record into the maps */
static int apply(const struct mx_record *r, void *arg)
{
	struct agent *a = arg;
	struct mx_prefix p;
	int64_t now_wall = wall_ns();

	switch (r->type) {
	case MX_REC_LIST_COMMIT: {
		char name[MX_LIST_NAME_MAX + 1];
		uint32_t pending;

		snprintf(name, sizeof(name), "%.*s", (int)strnlen(r->reason, sizeof(r->reason)),
			 r->reason);
		pending = mx_bans_list_pending(&a->claims, name, r->class_id);
		if (pending)
			mx_bans_list_commit(&a->claims, pending, NULL);
		return 0;
	}
	case MX_REC_LIST_DROP: {
		uint32_t list = record_list(a, r);

		if (list)
			mx_bans_list_drop(&a->claims, list, NULL);
		return 0;
	}
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
			uint32_t list = record_list(a, r);

			if (!list)
				return 0;	/* not a list we can name: nothing to own it */
			b.flags |= list << 16;
		}
		if (r->expires_wall_ns && r->expires_wall_ns <= now_wall) {
			/* Expired while we were away: that owner's earlier claim goes too. */
			mx_bans_unclaim(&a->claims, &p, b.flags & MX_BAN_KINDS, MX_BAN_LIST(b.flags));
			return 0;
		}
		if (r->expires_wall_ns)
			b.expires_ns = mx_now_ns() + (uint64_t)(r->expires_wall_ns - now_wall);
		memcpy(reason, r->reason, sizeof(reason));
		reason[sizeof(reason) - 1] = '\0';
		b.reason = mx_bans_reason(&a->claims, reason);
		if (mx_bans_claim(&a->claims, &p, &b))
			a->restore_failed++;
		return 0;
	}
	case MX_REC_BAN_DEL: {
		uint32_t kinds = r->flags & MX_BAN_KINDS, list = 0;

		if (!kinds)
			kinds = MX_BAN_KINDS;	/* an older agent's: every owner */
		if ((kinds & MX_BAN_F_BLOCKLIST) && r->reason[0]) {
			list = record_list(a, r);
			if (!list)
				return 0;
		}
		mx_bans_unclaim(&a->claims, &p, kinds, list);
		if (kinds & MX_BAN_F_AUTOMATIC)
			mx_verdict_unbanned(&a->verdict, &p, r->added_wall_ns / 1000000000LL);
		return 0;
	}
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
						r->added_wall_ns / 1000000000LL, r->flags);
		return 0;
	case MX_REC_SENDER_BAN:
		mx_verdict_restore_ban(&a->verdict, &p, r->flags, r->added_wall_ns / 1000000000LL,
				       ns_secs(r->expires_wall_ns));
		return 0;
	case MX_REC_LISTED:
		mx_verdict_restore_listed(&a->verdict, &p, r->added_wall_ns / 1000000000LL,
					  ns_secs(r->expires_wall_ns));
		return 0;
	case MX_REC_DELISTED:
		mx_verdict_restore_listed(&a->verdict, &p, 0, 0);
		return 0;
	case MX_REC_SENDER_FORGET:
		mx_verdict_forget(&a->verdict, &p);
		return 0;
	case MX_REC_AUTO_CLASS: {
		struct mx_class_ref ref = { .class_id = r->class_id };
		int64_t until = ns_secs(r->expires_wall_ns);

		if (r->class_id >= MX_MAX_CLASSES)
			return 0;
		if (!r->class_id || until <= now_wall / 1000000000LL) {
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
				      r->added_wall_ns / 1000000000LL);
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
};

/* walk_claim - one owner's ban as a snapshot record */
static int walk_claim(const struct mx_prefix *p, const struct mx_ban *b, void *arg)
{
	struct walk_ctx *w = arg;
	const struct mx_bans *bans = &w->a->claims;
	const char *text = mx_bans_reason_text(bans, b->reason);
	struct mx_record r;
	uint32_t tag;

	if (b->expires_ns && b->expires_ns <= w->now)
		return 0;	/* expired: nothing to keep */
	record_of(&r, MX_REC_BAN_ADD, p);
	r.flags = b->flags & MX_BAN_KINDS;
	r.expires_wall_ns = boot_to_wall(b->expires_ns);
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
	int64_t now = wall_ns() / 1000000000LL;
	struct mx_record r;

	if (e->last_ban) {
		record_of(&r, MX_REC_SENDER_BAN, &e->src);
		r.flags = e->offenses;
		r.added_wall_ns = e->last_ban * 1000000000LL;
		r.expires_wall_ns = secs_ns(e->ban_until);
		if (w->emit(w->ctx, &r))
			return -1;
	}
	if (e->auto_class) {
		record_of(&r, MX_REC_AUTO_CLASS, &e->src);
		r.class_id = e->auto_class;
		r.flags = e->auto_reasons;
		r.expires_wall_ns = secs_ns(e->auto_class_until);
		if (w->emit(w->ctx, &r))
			return -1;
	}
	if (e->listed_since && e->listed_until > now) {
		record_of(&r, MX_REC_LISTED, &e->src);
		r.added_wall_ns = e->listed_since * 1000000000LL;
		r.expires_wall_ns = secs_ns(e->listed_until);
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
			r.added_wall_ns = t * 1000000000LL;
			if (w->emit(w->ctx, &r))
				return -1;
		}
	}
	return 0;
}

/*
 * The snapshot being written: the verdict engine's senders at once
 * (memory only, and trap hits must be taken exactly at the cut), then
 * the maps a slice at a time: bans with every owner's claim, the
 * allowlist, classes.
 */
static struct snapshot_job {
	bool on;
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
		size_t n = mx_bans_expand(&w->a->claims, &p, val, c, 16);

		for (size_t i = 0; i < n; i++)
			if (walk_claim(&p, &c[i], w))
				return -EIO;
		return 0;
	}
	return walk_one(&p, val, w) ? -EIO : 0;
}

/* state_snapshot_start - set the journal aside, write the senders; false if none begun */
bool state_snapshot_start(struct agent *a)
{
	char err[256];

	if (!a->persist_on || sj.on || a->persist_batches)
		return false;
	if (mx_persist_snapshot_begin(&a->persist, err, sizeof(err))) {
		agent_log("%s", err);
		return false;
	}
	memset(&sj, 0, sizeof(sj));
	sj.on = true;
	sj.ctx.a = a;
	sj.ctx.emit = mx_persist_snapshot_emit;
	sj.ctx.ctx = &a->persist;
	sj.ctx.now = mx_now_ns();
	if (mx_verdict_foreach(&a->verdict, walk_sender, &sj.ctx)) {
		mx_persist_snapshot_end(&a->persist, false, err, sizeof(err));
		agent_log("%s", err);
		sj.on = false;
	}
	return sj.on;
}

/* state_snapshot_work - write the snapshot until deadline; true while it goes on */
bool state_snapshot_work(struct agent *a, uint64_t deadline_us)
{
	const struct mx_table *tables[] = { &a->bans, &a->allows, &a->classes };
	char err[256];

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
			mx_persist_snapshot_end(&a->persist, false, err, sizeof(err));
			agent_log("%s", err);
			sj.on = false;
			break;
		}
		if (++sj.map < MX_TABLE_MAPS)
			continue;
		sj.map = 0;
		if (++sj.table < 3)
			continue;
		sj.on = false;
		if (mx_persist_snapshot_end(&a->persist, true, err, sizeof(err)))
			agent_log("%s", err);
	}
	return sj.on;
}

/* state_open - restore the state directory into the maps */
int state_open(struct agent *a)
{
	struct mx_restore_report rep;
	char err[256];

	if (!a->state_dir || !*a->state_dir)
		return 0;
	/* What pinned maps hold from an earlier agent counts only if the journal says so. */
	a->claims.restoring = true;
	a->claims.restore_ns = mx_now_ns();
	if (mx_persist_open(&a->persist, a->state_dir, apply, a, &rep, err, sizeof(err))) {
		agent_log("%s", err);
		return -1;
	}
	mx_bans_restore_done(&a->claims);
	a->persist_on = true;
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

/* state_snapshot - write a whole snapshot now (at a stop, in tests) */
int state_snapshot(struct agent *a)
{
	if (!a->persist_on)
		return 0;
	if (!sj.on && !state_snapshot_start(a))
		return -1;
	while (state_snapshot_work(a, UINT64_MAX))
		;
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
