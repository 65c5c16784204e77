// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	senders.c - the verdict engine in the agent: journal, then ban
 * DESCRIPTION
 *	Trap hits and mail verdicts arrive from the policy service
 *	(policyd.c) and from the CLI (mxguard sender ...). Each is keyed by
 *	the sender as the data plane counts it (source_prefix_v4/v6), given
 *	to the engine (verdict.c), and what the engine decides is journalled
 *	before it is applied: an automatic ban is in the journal, synced,
 *	before it is in the ban map, and only then committed to the engine.
 *
 *	An allowlisted sender is never banned and never listed: its trap
 *	hits and verdicts are counted as ignored and change nothing.
 *
 *	An automatic ban never shortens a ban already there: an operator's
 *	permanent ban on the same address stays as it is.
 *
 *	The engine's clock is the boot clock in seconds (mx_now_s()), the
 *	clock the data plane enforces bans on: trap windows, bans, the
 *	repeat window, listings and classes last the time that passed,
 *	whatever people or NTP do to the wall clock meanwhile. Wall-clock
 *	time is only for what is stored (state.c) and shown.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "state.h"

/*
 * evicted - a sender forgotten for room: a class we gave it must not
 * outlive our record of it (nothing would ever take it back), so it goes
 * too. Its trap hits and ban history go with it (counted in evicted).
 */
static void evicted(const struct mx_sender *e, void *arg)
{
	struct agent *a = arg;
	struct mx_class_ref old;
	char err[256];

	if (!e->auto_class)
		return;
	if (state_sender_class(a, &e->src, 0, 0, 0, err, sizeof(err)))
		mx_log("cannot take back the class of an evicted sender: %s", err);
	if (mx_table_get(&a->classes, &e->src, &old) == 0 && old.class_id == e->auto_class)
		mx_table_del(&a->classes, &e->src);
	a->auto_unclassed++;
}

int senders_init(struct agent *a, char *err, size_t errlen)
{
	if (mx_verdict_init(&a->verdict, &a->cfg.verdict)) {
		snprintf(err, errlen, "out of memory for %u senders", a->cfg.verdict.max_senders);
		return -1;
	}
	a->verdict.evicted_cb = evicted;
	a->verdict.evicted_arg = a;
	if (a->cfg.trap_file[0] && mx_traps_load(&a->traps, a->cfg.trap_file, err, errlen)) {
		mx_verdict_free(&a->verdict);
		return -1;
	}
	return 0;
}

/* senders_configure - new settings (a reload); takes over traps */
int senders_configure(struct agent *a, struct mx_traps *traps)
{
	mx_traps_free(&a->traps);
	a->traps = *traps;
	memset(traps, 0, sizeof(*traps));
	return mx_verdict_configure(&a->verdict, &a->cfg.verdict);
}

void senders_free(struct agent *a)
{
	mx_verdict_free(&a->verdict);
	mx_traps_free(&a->traps);
}

/* key_of - the sender as the engine keys it; allowlisted or not */
static bool key_of(struct agent *a, const struct mx_prefix *addr, struct sender_result *res)
{
	struct mx_prefix hit, plain;
	struct mx_allow al;

	memset(res, 0, sizeof(*res));
	mx_verdict_key(addr, a->settings.src_len4, a->settings.src_len6, &res->key);
	mx_verdict_unmap(addr, &plain);
	res->allowlisted = mx_table_match(&a->allows, &plain, &hit, &al) == 0;
	return res->allowlisted;
}

/* reason_of - the ban's reason text, one of a few so they intern once */
static const char *reason_of(const struct mx_decision *d)
{
	if (d->kind == MX_TRAP_SPAM)
		return d->offense > 1 ? "repeat offender: spam-trap hits" : "spam-trap hits";
	return d->offense > 1 ? "repeat offender: backscatter-trap hits" : "backscatter-trap hits";
}

/*
 * ban - journal, apply and commit what the engine decided. The engine's
 * ban is its own claim beside any other owner's: it never shortens an
 * operator's or a list's ban of the same sender, and lifting it leaves
 * theirs.
 */
static int ban(struct agent *a, struct sender_result *res, int64_t now, char *err, size_t errlen)
{
	const struct mx_decision *d = &res->d;
	uint64_t boot = mx_now_ns();
	struct mx_ban b = { .added_ns = boot, .flags = MX_BAN_F_AUTOMATIC }, top;
	const char *reason = reason_of(d);
	bool longer_there;
	char pfx[64], ttl[40] = "permanently", d_text[32];
	int r;

	if (d->until != MX_FOREVER)
		b.expires_ns = boot + (uint64_t)(d->until - now) * MX_NS_PER_S;
	b.reason = mx_bans_reason(&a->claims, reason);
	r = state_sender_ban(a, &res->key, &b, reason, d, now, err, errlen);
	if (r)
		return r;
	r = mx_bans_claim(&a->claims, &res->key, &b);
	if (r) {
		mx_table_strerror(&a->bans, &res->key, r, err, errlen);
		return r;
	}
	longer_there = mx_bans_claims(&a->claims, &res->key, &top, 1) &&
		       !(top.flags & MX_BAN_F_AUTOMATIC);
	mx_verdict_banned(&a->verdict, &res->key, d, now);
	res->banned = true;
	if (a->settings.ban_reply)
		mx_cut_connections(a, &res->key);
	mx_format_prefix(&res->key, pfx, sizeof(pfx));
	if (d->until != MX_FOREVER) {
		mx_format_duration((uint64_t)(d->until - now) * MX_NS_PER_S, d_text, sizeof(d_text));
		snprintf(ttl, sizeof(ttl), "for %s", d_text);
	}
	mx_log("banned %s %s: %u %s-trap hits in %llds (ban %u in a row)%s", pfx, ttl, d->hits,
		  mx_trap_kind_name(d->kind), (long long)a->verdict.s.trap_window[d->kind],
		  d->offense, longer_there ? "; a longer ban was already there" : "");
	return 0;
}

int senders_trap(struct agent *a, const struct mx_prefix *addr, enum mx_trap_kind kind,
		 uint32_t count, struct sender_result *res, char *err, size_t errlen)
{
	int64_t now = mx_now_s();
	int r;

	if (key_of(a, addr, res)) {
		a->trap_hits_ignored += count;
		return 0;
	}
	r = mx_verdict_trap(&a->verdict, &res->key, kind, count, now, &res->d);
	if (r < 0) {
		snprintf(err, errlen, "cannot track the sender: %s", strerror(-r));
		return r;
	}
	if (state_sender_hits(a, &res->key, kind, count, now)) {
		static struct mx_log_rate rate;

		mx_log_limited(&rate, "cannot journal a trap hit: %s", strerror(errno));
	}
	return r == 1 ? ban(a, res, now, err, errlen) : 0;
}

int senders_mail(struct agent *a, const struct mx_prefix *addr, bool spam,
		 struct sender_result *res, char *err, size_t errlen)
{
	int64_t now = mx_now_s(), since = now, until = 0;
	const struct mx_sender *e;
	int r;

	if (key_of(a, addr, res))
		return 0;
	e = mx_verdict_find(&a->verdict, &res->key);
	if (spam) {
		if (e && mx_verdict_listed(&a->verdict, &res->key, now))
			since = e->listed_since;
		until = a->verdict.s.listed_ttl ? now + a->verdict.s.listed_ttl : MX_FOREVER;
	} else if (!mx_verdict_listed(&a->verdict, &res->key, now)) {
		return 0;	/* clean and not listed: nothing to record */
	}
	r = state_sender_listed(a, &res->key, spam ? since : 0, until, err, errlen);
	if (r)
		return r;
	r = mx_verdict_mail(&a->verdict, &res->key, spam, now);
	if (r < 0)
		snprintf(err, errlen, "cannot track the sender: %s", strerror(-r));
	return r < 0 ? r : 0;
}

int senders_forget(struct agent *a, const struct mx_prefix *addr, char *err, size_t errlen)
{
	struct mx_prefix key;
	int r;

	mx_verdict_key(addr, a->settings.src_len4, a->settings.src_len6, &key);
	if (!mx_verdict_find(&a->verdict, &key)) {
		snprintf(err, errlen, "nothing is known of that sender");
		return -ENOENT;
	}
	r = state_sender_forget(a, &key, err, errlen);
	if (r)
		return r;
	mx_verdict_forget(&a->verdict, &key);
	return 0;
}

/* senders_unbanned - an operator deleted the ban on p: the engine's ban ends now */
void senders_unbanned(struct agent *a, const struct mx_prefix *p)
{
	mx_verdict_unbanned(&a->verdict, p, mx_now_s());
}

/* take_class_back - the automatic class goes: journalled, then out of the map if still ours */
static int take_class_back(struct agent *a, const struct mx_prefix *key, uint32_t class_id)
{
	struct mx_class_ref old;
	char err[256];

	if (state_sender_class(a, key, 0, 0, 0, err, sizeof(err))) {
		mx_log("cannot take back the class of a sender: %s", err);
		return -1;
	}
	if (mx_table_get(&a->classes, key, &old) == 0 && old.class_id == class_id)
		mx_table_del(&a->classes, key);
	mx_verdict_auto_class(&a->verdict, key, 0, 0, 0, 0);
	a->auto_unclassed++;
	return 0;
}

/*
 * senders_auto - a verdict that can put a sender into a stricter class:
 * MX_AUTO_PTR (the MTA could not forward-confirm its PTR: ptr_class for
 * ptr_class_ttl), MX_AUTO_SPF (SPF fail: spf_class for spf_class_ttl) or
 * MX_AUTO_DNSBL (listed in a dnsbl_zones zone: dnsbl_class for
 * dnsbl_class_ttl).
 * ok says the sender passed this time: that reason is dropped, and the
 * class is taken back once no reason is left. A class is refreshed while
 * the reason stands. An operator's class (any class entry covering the
 * sender that is not ours) always wins. Only changes are journalled; a
 * refreshed time lives in memory (after a restart the class may end
 * sooner, and is given again at the next mail).
 */
int senders_auto(struct agent *a, const struct mx_prefix *addr, uint32_t reason, bool ok)
{
	int which = reason == MX_AUTO_SPF ? 1 : reason == MX_AUTO_DNSBL ? 2 : 0;
	uint32_t class_id = which == 1 ? a->cfg.spf_class :
			    which == 2 ? (a->cfg.dnsbl_zones[0] ? a->cfg.dnsbl_class : 0) :
			    a->cfg.ptr_class;
	int64_t ttl = which == 1 ? a->cfg.spf_class_ttl :
		      which == 2 ? a->cfg.dnsbl_class_ttl : a->cfg.ptr_class_ttl;
	int64_t now = mx_now_s(), until = now + ttl;
	struct sender_result res;
	struct mx_class_ref ref;
	struct mx_prefix hit, plain;
	struct mx_sender *e;
	char err[256];

	if (!class_id)
		ok = true;	/* this verdict is turned off: it holds nothing against anyone */
	if (key_of(a, addr, &res))
		return 0;
	e = mx_verdict_find(&a->verdict, &res.key);
	if (e && e->auto_class) {
		uint32_t reasons = ok ? e->auto_reasons & ~reason : e->auto_reasons | reason;

		if (!reasons)
			return take_class_back(a, &res.key, e->auto_class);
		if (reasons != e->auto_reasons &&
		    state_sender_class(a, &res.key, e->auto_class, reasons, e->auto_class_until,
				       err, sizeof(err)))
			return -1;
		e->auto_reasons = reasons;
		if (!ok && until > e->auto_class_until)
			e->auto_class_until = until;
		return 0;
	}
	if (ok || !class_id)
		return 0;
	mx_verdict_unmap(addr, &plain);
	if (mx_table_match(&a->classes, &plain, &hit, &ref) == 0)
		return 0;	/* the operator's class */
	if (state_sender_class(a, &res.key, class_id, reason, until, err, sizeof(err))) {
		static struct mx_log_rate rate;

		mx_log_limited(&rate, "cannot give a sender class %u: %s", class_id, err);
		return -1;
	}
	ref.class_id = class_id;
	if (mx_verdict_auto_class(&a->verdict, &res.key, class_id, reason, until, now) ||
	    mx_table_put(&a->classes, &res.key, &ref, BPF_ANY))
		return -1;
	a->auto_classed[which]++;
	return 1;
}

/*
 * senders_class_by_hand - an operator sets or deletes the class of exactly
 * p: a class the agent gave there is taken back first (journalled before
 * the operator's record, so a restore replays them in that order).
 */
void senders_class_by_hand(struct agent *a, const struct mx_prefix *p)
{
	struct mx_sender *e = mx_verdict_find(&a->verdict, p);

	if (e && e->auto_class)
		take_class_back(a, p, e->auto_class);
}

/* expire_classes - automatic classes whose time ran out go back */
static void expire_classes(struct agent *a)
{
	struct mx_prefix due[256];
	uint32_t ids[256];
	unsigned int n = 0;
	int64_t now = mx_now_s();

	for (const struct mx_sender *e = a->verdict.newest; e && n < 256; e = e->older) {
		if (e->auto_class && e->auto_class_until <= now) {
			due[n] = e->src;
			ids[n++] = e->auto_class;
		}
	}
	for (unsigned int i = 0; i < n; i++)
		take_class_back(a, &due[i], ids[i]);
}

/* senders_tick - once a second: sync hits, drop what no longer matters */
void senders_tick(struct agent *a)
{
	static unsigned int ticks;

	state_sync(a);
	if (++ticks % 30 == 0)
		expire_classes(a);
	mx_verdict_expire(&a->verdict, mx_now_s(), 1024);
}

/* senders_timer - senders_tick from the event loop */
static void senders_timer(void *arg)
{
	senders_tick(arg);
}

/* senders_serve - senders_tick once a second in the event loop */
int senders_serve(struct agent *a)
{
	return mx_loop_timer_add(&a->loop, &a->senders_timer, "senders", 1000, senders_timer, a);
}
