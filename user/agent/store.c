// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	store.c - the one place that changes bans, allowlist entries and classes
 * DESCRIPTION
 *	See store.h: journal, map, engine, connections, in that order, for
 *	every change whoever asks. The journal's records are state.c's; the
 *	claims of a ban's owners are bans.c's; ending connections is
 *	sockdiag.c's. This file only puts them in order, once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "clock.h"
#include "log.h"
#include "sockdiag.h"
#include "store.h"

/*
 * class_back - the engine's class of key goes: journalled, then out of
 * the map if it is still the engine's (an operator's entry stays)
 */
static int class_back(struct mx_store *s, const struct mx_prefix *key, uint32_t class_id,
		      char *err, size_t errlen)
{
	struct mx_class_ref old;
	int r = state_sender_class(s, key, 0, 0, 0, err, errlen);

	if (r)
		return r;
	if (mx_table_get(&s->classes, key, &old) == 0 && old.class_id == class_id)
		mx_table_del(&s->classes, key);
	s->auto_unclassed++;
	return 0;
}

/* evicted - the engine forgot a sender for room: a class it gave must not outlive it */
static void evicted(const struct mx_sender *e, void *arg)
{
	char err[256];

	if (e->auto_class && class_back(arg, &e->src, e->auto_class, err, sizeof(err)))
		mx_log("cannot take back the class of an evicted sender: %s", err);
}

int store_init(struct mx_store *s)
{
	return mx_bans_init(&s->claims, &s->bans, s->reasons_fd) ? -ENOMEM : 0;
}

/* store_set_engine - the verdict engine to tell; it tells us of the senders it evicts */
void store_set_engine(struct mx_store *s, struct mx_verdict *engine)
{
	s->engine = engine;
	if (engine) {
		engine->evicted_cb = evicted;
		engine->evicted_arg = s;
	}
}

void store_free(struct mx_store *s)
{
	mx_bans_free(&s->claims);
	mx_cs_pushes_free(&s->pushes);
}

/* cut - in reply mode, end the open connections of the sources a ban covers */
static unsigned int cut(struct mx_store *s, const struct mx_prefix *p)
{
	if (!s->settings || !s->settings->ban_reply)
		return 0;
	return mx_sockdiag_cut(p, s->settings->ports, s->settings->nports);
}

/* claim - an owner's claim into the map; the map's reason in err */
static int claim(struct mx_store *s, const struct mx_prefix *p, const struct mx_ban *b,
		 char *err, size_t errlen)
{
	int r = mx_bans_claim(&s->claims, p, b);

	if (r)
		mx_table_strerror(&s->bans, p, r, err, errlen);
	return r;
}

int store_ban_add(struct mx_store *s, const struct mx_prefix *p, const struct mx_ban *b,
		  const char *reason, unsigned int *cutn, char *err, size_t errlen)
{
	int r = state_ban_add(s, p, b, reason, err, errlen);

	if (!r)
		r = claim(s, p, b, err, errlen);
	if (r)
		return r;
	*cutn = cut(s, p);
	return 0;
}

int store_ban_auto(struct mx_store *s, const struct mx_prefix *key, const struct mx_ban *b,
		   const char *reason, const struct mx_decision *d, int64_t now_s,
		   unsigned int *cutn, char *err, size_t errlen)
{
	int r = state_sender_ban(s, key, b, reason, d, now_s, err, errlen);

	if (!r)
		r = claim(s, key, b, err, errlen);
	if (r)
		return r;
	if (s->engine)
		mx_verdict_banned(s->engine, key, d, now_s);
	*cutn = cut(s, key);
	return 0;
}

int store_ban_del(struct mx_store *s, const struct mx_prefix *p, uint32_t kinds,
		  char *err, size_t errlen)
{
	struct mx_ban claims[8];
	size_t n = mx_bans_claims(&s->claims, p, claims, 8);
	bool held = false;
	int r;

	for (size_t i = 0; i < n; i++)
		held |= (claims[i].flags & kinds) != 0;
	if (!held) {
		snprintf(err, errlen, "no such entry");
		return -ENOENT;
	}
	r = state_ban_del(s, p, kinds, NULL, err, errlen);
	if (r)
		return r;
	mx_bans_unclaim(&s->claims, p, kinds, 0);
	/* An automatic ban lifted by hand: the sender's record says it ended now. */
	if ((kinds & MX_BAN_F_AUTOMATIC) && s->engine)
		mx_verdict_unbanned(s->engine, p, mx_now_s());
	return 0;
}

int store_allow_add(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen)
{
	struct mx_allow al = { .added_ns = mx_now_ns() };
	int r = state_allow_add(s, p, err, errlen);

	if (r)
		return r;
	r = mx_table_put(&s->allows, p, &al, BPF_ANY);
	if (r)
		mx_table_strerror(&s->allows, p, r, err, errlen);
	return r;
}

/* del_entry - exactly p's entry of an address table goes, journalled first */
static int del_entry(struct mx_store *s, const struct mx_table *t, enum mx_record_type type,
		     const struct mx_prefix *p, char *err, size_t errlen)
{
	uint8_t val[64];
	int r;

	if (t->value_size > sizeof(val) || mx_table_get(t, p, val)) {
		snprintf(err, errlen, "no such entry");
		return -ENOENT;
	}
	r = state_del(s, type, p, err, errlen);
	if (r)
		return r;
	mx_table_del(t, p);
	return 0;
}

int store_allow_del(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen)
{
	return del_entry(s, &s->allows, MX_REC_ALLOW_DEL, p, err, errlen);
}

int store_auto_class_back(struct mx_store *s, const struct mx_prefix *key, char *err,
			  size_t errlen)
{
	struct mx_sender *e = s->engine ? mx_verdict_find(s->engine, key) : NULL;
	int r;

	if (!e || !e->auto_class)
		return 0;
	r = class_back(s, key, e->auto_class, err, errlen);
	if (r)
		return r;
	mx_verdict_auto_class(s->engine, key, 0, 0, 0, 0);
	return 1;
}

int store_auto_class(struct mx_store *s, const struct mx_prefix *key, uint32_t class_id,
		     uint32_t reasons, int64_t until_s, int64_t now_s, char *err, size_t errlen)
{
	struct mx_class_ref ref = { .class_id = class_id };
	int r = state_sender_class(s, key, class_id, reasons, until_s, err, errlen);

	if (r)
		return r;
	r = mx_table_put(&s->classes, key, &ref, BPF_ANY);
	if (r) {
		mx_table_strerror(&s->classes, key, r, err, errlen);
		return r;
	}
	r = mx_verdict_auto_class(s->engine, key, class_id, reasons, until_s, now_s);
	if (r)
		snprintf(err, errlen, "cannot track the sender: %s", strerror(-r));
	return r;
}

int store_class_set(struct mx_store *s, const struct mx_prefix *p, uint32_t class_id,
		    char *err, size_t errlen)
{
	struct mx_class_ref ref = { .class_id = class_id };
	int r = store_auto_class_back(s, p, err, errlen);

	if (r < 0)
		return r;
	r = state_class_set(s, p, class_id, err, errlen);
	if (r)
		return r;
	r = mx_table_put(&s->classes, p, &ref, BPF_ANY);
	if (r)
		mx_table_strerror(&s->classes, p, r, err, errlen);
	return r;
}

/*
 * store_class_del - the class of exactly p goes, the engine's or the
 * operator's: an automatic class taken back is the entry deleted.
 */
int store_class_del(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen)
{
	int took = store_auto_class_back(s, p, err, errlen);
	int r;

	if (took < 0)
		return took;
	r = del_entry(s, &s->classes, MX_REC_CLASS_DEL, p, err, errlen);
	return r == -ENOENT && took ? 0 : r;
}

int store_list_drop(struct mx_store *s, const char *name, uint64_t *removed,
		    char *err, size_t errlen)
{
	uint32_t list = mx_list_name_valid(name) ? mx_bans_list(&s->claims, name, false) : 0;
	int r;

	*removed = 0;
	if (!list) {
		snprintf(err, errlen, "no blocklist named '%.40s'", name);
		return -ENOENT;
	}
	r = state_list_drop(s, name, err, errlen);
	if (r)
		return r;
	return mx_bans_list_drop(&s->claims, list, removed);
}

/* load_tag - names one load in the journal, so its commit finds it */
static uint32_t load_tag(void)
{
	static uint32_t seq;
	uint32_t t = (uint32_t)(mx_now_ns() >> 10) ^ (++seq << 20);

	return t ? t : 1;
}

void store_load_begin(struct mx_store *s, struct store_load *l, const char *name,
		      const char *text, const struct mx_ban *ban, const struct mx_prefix *p,
		      size_t n)
{
	memset(l, 0, sizeof(*l));
	l->s = s;
	l->phase = SL_READY;
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->text, sizeof(l->text), "%s", text);
	l->ban = *ban;
	l->p = p;
	l->n = n;
	l->tag = load_tag();
	l->batch = (struct state_batch)STATE_BATCH_INIT(s);
}

int store_load_entries(struct store_load *l, const uint64_t *expires, const uint16_t *text_of,
		       const char (*texts)[MX_REASON_LEN], size_t ntexts)
{
	l->rid = calloc(ntexts ? ntexts : 1, sizeof(*l->rid));
	if (!l->rid)
		return -ENOMEM;
	l->expires = expires;
	l->text_of = text_of;
	l->texts = texts;
	l->ntexts = ntexts;
	return 0;
}

/* reasons - the reason ids of the texts (again after a collection may have freed them) */
static void reasons(struct mx_store *s, uint32_t *rid, const char (*texts)[MX_REASON_LEN],
		    size_t n)
{
	for (size_t i = 0; i < n; i++)
		rid[i] = mx_bans_reason(&s->claims, texts[i]);
}

/* entry - the load's i-th ban and its text */
static const char *entry(struct store_load *l, size_t i, struct mx_ban *b)
{
	*b = l->ban;
	if (l->expires)
		b->expires_ns = l->expires[i];
	if (!l->texts)
		return l->text;
	b->reason = l->rid[l->text_of[i]];
	return l->texts[l->text_of[i]];
}

/* sync_thread - the journalled load on disk, away from the event loop */
static void *sync_thread(void *arg)
{
	struct store_load *l = arg;

	l->sync_r = mx_persist_sync(&l->s->state.persist);
	__atomic_store_n(&l->synced, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* load_open - the load's records are being written: no snapshot may begin */
static void load_open(struct store_load *l, bool open)
{
	if (open != l->journalling) {
		l->journalling = open;
		if (open)
			l->s->state.batches++;
		else
			l->s->state.batches--;
	}
}

/* load_fail - say why, and undo what the load put */
static int load_fail(struct store_load *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int load_fail(struct store_load *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	l->ret = -1;
	/* The journal's pending records without a commit are dropped at restore too. */
	if (l->pending && mx_bans_drop_begin(&l->s->claims, &l->drop, l->pending, 0) == 0) {
		l->phase = SL_UNDO;
		return 1;
	}
	load_open(l, false);
	l->phase = SL_DONE;
	return 0;
}

#define LOAD_SLICE	256	/* entries between looks at the clock */

int store_load_step(struct store_load *l, uint64_t deadline_us)
{
	struct mx_store *s = l->s;
	char why[400];
	int r;

	switch (l->phase) {
	case SL_READY:
		/*
		 * A snapshot stands for the journal up to its cut: one must not be
		 * written across a load (from its first record to its commit's end),
		 * or it would hold half of one without the other.
		 */
		if (s->state.persist.snap)
			return 2;
		l->ban.reason = mx_bans_reason(&s->claims, l->text);
		reasons(s, l->rid, l->texts, l->ntexts);
		l->pending = mx_bans_list_pending(&s->claims, l->name, l->tag);
		if (!l->pending) {
			snprintf(l->err, sizeof(l->err), "cannot load %s: %d blocklists at most",
				 l->name, MX_MAX_LISTS - 1);
			l->ret = -1;
			l->phase = SL_DONE;
			return 0;
		}
		l->ban.flags |= l->pending << 16;
		l->phase = SL_JOURNAL;
		load_open(l, true);	/* no snapshot begins until the commit is done */
		return 1;
	case SL_JOURNAL:
		for (; l->i < l->n; l->i++) {
			if (l->i % LOAD_SLICE == 0 && mx_mono_us() >= deadline_us)
				return 1;
			struct mx_ban b;
			const char *text = entry(l, l->i, &b);

			if (state_batch_ban(&l->batch, MX_REC_BAN_ADD, &l->p[l->i], &b, text, l->tag))
				return load_fail(l, "out of memory");
		}
		if (state_batch_write(s, &l->batch, why, sizeof(why)))
			return load_fail(l, "cannot load %s: %s", l->name, why);
		/* One sync for the whole list, in a thread: it may take a while. */
		l->synced = 0;
		if (!s->state.on || pthread_create(&l->thread, NULL, sync_thread, l)) {
			l->thread = 0;
			l->sync_r = s->state.on ? mx_persist_sync(&s->state.persist) : 0;
			l->synced = 1;
		}
		l->phase = SL_SYNC;
		return 1;
	case SL_SYNC:
		if (!__atomic_load_n(&l->synced, __ATOMIC_ACQUIRE))
			return 2;
		if (l->thread)
			pthread_join(l->thread, NULL);
		l->thread = 0;
		if (l->sync_r) {
			state_refused(s, l->sync_r, why, sizeof(why));
			return load_fail(l, "cannot load %s: %s", l->name, why);
		}
		l->i = 0;
		l->phase = SL_CLAIM;
		/*
		 * A list replaced by a new one over the same prefixes shares each
		 * of them until the commit: room for that now, not by a doubling
		 * in the middle of the claims. Not for a first load: room never
		 * used would be pages the sweep's collection walks in one turn.
		 */
		if (mx_bans_list(&s->claims, l->name, false) && mx_bans_reserve(&s->claims, l->n))
			return load_fail(l, "cannot load %s: out of memory", l->name);
		/* Taken again now: a collection while the list was journalled may have freed it. */
		l->ban.reason = mx_bans_reason(&s->claims, l->text);
		reasons(s, l->rid, l->texts, l->ntexts);
		return 1;
	case SL_CLAIM:
		for (; l->i < l->n; l->i++) {
			struct mx_ban b;

			if (l->i % LOAD_SLICE == 0 && mx_mono_us() >= deadline_us)
				return 1;
			entry(l, l->i, &b);
			r = mx_bans_claim(&s->claims, &l->p[l->i], &b);
			if (r)
				return load_fail(l, "cannot load %s: %s after %zu of %zu entries; the "
						 "load was undone, the list is as it was", l->name,
						 mx_table_strerror(&s->bans, &l->p[l->i], r, why,
								   sizeof(why)), l->i, l->n);
		}
		/*
		 * The commit: from this record on, the new list is the list. (Tests
		 * kill the agent here to show that a load is all or nothing.)
		 */
		if (getenv("MXGUARD_TEST_DIE_BEFORE_COMMIT"))
			abort();
		if (state_list_commit(s, l->name, l->tag, why, sizeof(why)))
			return load_fail(l, "cannot load %s: %s; the list is as it was", l->name, why);
		l->phase = SL_COMMIT;
		{
			uint32_t old = mx_bans_commit_target(&s->claims, l->pending);

			l->dropping = old && mx_bans_drop_begin(&s->claims, &l->drop, old,
								l->pending) == 0;
		}
		return 1;
	case SL_COMMIT:
		if (l->dropping) {
			r = mx_bans_drop_step(&s->claims, &l->drop, deadline_us);
			if (r > 0)
				return 1;
			l->removed = l->drop.removed;
		}
		mx_bans_commit_end(&s->claims, l->pending);
		load_open(l, false);
		l->ret = 0;
		l->phase = SL_DONE;
		return 0;
	case SL_UNDO:
		r = mx_bans_drop_step(&s->claims, &l->drop, deadline_us);
		if (r > 0)
			return 1;
		load_open(l, false);
		l->phase = SL_DONE;
		return 0;
	case SL_DONE:
		return 0;
	}
	return 0;
}

void store_load_free(struct store_load *l)
{
	if (l->thread)
		pthread_join(l->thread, NULL);
	l->thread = 0;
	/* Stopped after its commit record (the agent stops): the commit is done now. */
	if (l->phase == SL_COMMIT) {
		while (l->dropping && mx_bans_drop_step(&l->s->claims, &l->drop, UINT64_MAX) > 0)
			;
		mx_bans_commit_end(&l->s->claims, l->pending);
	}
	load_open(l, false);
	mx_bans_drop_free(&l->drop);
	state_batch_free(&l->batch);
	free(l->rid);
	l->rid = NULL;
}

void store_changes_begin(struct mx_store *s, struct store_changes *j, const char *name,
			 const struct store_change *c, size_t n, const char (*texts)[MX_REASON_LEN],
			 size_t ntexts)
{
	memset(j, 0, sizeof(*j));
	j->s = s;
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->c = c;
	j->n = n;
	j->texts = texts;
	j->ntexts = ntexts;
	j->batch = (struct state_batch)STATE_BATCH_INIT(s);
	j->phase = SC_JOURNAL;
}

/* changes_sync - the changes' records on disk, away from the event loop */
static void *changes_sync(void *arg)
{
	struct store_changes *j = arg;

	j->sync_r = mx_persist_sync(&j->s->state.persist);
	__atomic_store_n(&j->synced, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* changes_open - records written and not yet applied: no snapshot may begin */
static void changes_open(struct store_changes *j, bool open)
{
	if (open != j->journalling) {
		j->journalling = open;
		if (open)
			j->s->state.batches++;
		else
			j->s->state.batches--;
	}
}

/* changes_fail - nothing more is done; the records written are harmless (a restore applies them) */
static int changes_fail(struct store_changes *j, const char *why)
{
	snprintf(j->err, sizeof(j->err), "%s", why);
	j->ret = -1;
	changes_open(j, false);
	j->phase = SC_DONE;
	return 0;
}

int store_changes_step(struct store_changes *j, uint64_t deadline_us)
{
	struct mx_store *s = j->s;
	char why[400];

	switch (j->phase) {
	case SC_JOURNAL:
		if (!j->rid) {
			j->list = mx_bans_list(&s->claims, j->name, true);
			j->rid = calloc(j->ntexts ? j->ntexts : 1, sizeof(*j->rid));
			if (!j->rid || !j->list)
				return changes_fail(j, j->rid ? "no list id left" : "out of memory");
			reasons(s, j->rid, j->texts, j->ntexts);
			changes_open(j, true);
		}
		for (; j->i < j->n; j->i++) {
			const struct store_change *c = &j->c[j->i];
			struct mx_ban b = { .flags = MX_BAN_F_BLOCKLIST, .expires_ns = c->expires_ns };

			if (j->i % LOAD_SLICE == 0 && mx_mono_us() >= deadline_us)
				return 1;
			if (state_batch_ban(&j->batch, c->del ? MX_REC_BAN_DEL : MX_REC_BAN_ADD, &c->p,
					    &b, c->del ? j->name : j->texts[c->text], 0))
				return changes_fail(j, "out of memory");
		}
		if (state_batch_write(s, &j->batch, why, sizeof(why)))
			return changes_fail(j, why);
		j->synced = 0;
		if (!s->state.on || pthread_create(&j->thread, NULL, changes_sync, j)) {
			j->thread = 0;
			j->sync_r = s->state.on ? mx_persist_sync(&s->state.persist) : 0;
			j->synced = 1;
		}
		j->phase = SC_SYNC;
		return 1;
	case SC_SYNC:
		if (!__atomic_load_n(&j->synced, __ATOMIC_ACQUIRE))
			return 2;
		if (j->thread)
			pthread_join(j->thread, NULL);
		j->thread = 0;
		if (j->sync_r) {
			state_refused(s, j->sync_r, why, sizeof(why));
			return changes_fail(j, why);
		}
		reasons(s, j->rid, j->texts, j->ntexts);
		j->i = 0;
		j->phase = SC_APPLY;
		return 1;
	case SC_APPLY:
		for (; j->i < j->n; j->i++) {
			const struct store_change *c = &j->c[j->i];
			struct mx_ban b = { .flags = MX_BAN_F_BLOCKLIST | j->list << 16,
					    .expires_ns = c->expires_ns, .added_ns = mx_now_ns() };

			if (j->i % LOAD_SLICE == 0 && mx_mono_us() >= deadline_us)
				return 1;
			if (c->del) {
				j->removed += mx_bans_unclaim(&s->claims, &c->p, MX_BAN_F_BLOCKLIST,
							      j->list) > 0;
				continue;
			}
			b.reason = j->rid[c->text];
			if (mx_bans_claim(&s->claims, &c->p, &b))
				j->failed++;	/* a full table: the next full sync tries again */
			else
				j->claimed++;
		}
		changes_open(j, false);
		j->ret = 0;
		j->phase = SC_DONE;
		return 0;
	case SC_DONE:
		return 0;
	}
	return 0;
}

void store_changes_free(struct store_changes *j)
{
	if (j->thread)
		pthread_join(j->thread, NULL);
	j->thread = 0;
	changes_open(j, false);
	state_batch_free(&j->batch);
	free(j->rid);
	j->rid = NULL;
}
