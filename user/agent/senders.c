// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	senders.c - the verdict service: the engine's decisions, made by the store
 * DESCRIPTION
 *	Trap hits and mail verdicts arrive from the policy service
 *	(policyd.c) and from the CLI (mxguard sender ...); SPF, DNSBL and
 *	PTR verdicts from policyd.c and spf.c. Each is keyed by the sender
 *	as the data plane counts it (source_prefix_v4/v6), given to the
 *	engine (verdict.c), and what the engine decides is made by the store
 *	(store.h): journalled, then in the map, then committed to the engine.
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
 *	time is only for what is stored (state.c) and shown. Times here
 *	carry their unit: now_s, until_s on that clock; *_ns on the boot
 *	clock in nanoseconds, as the maps hold them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"
#include "senders.h"
#include "store.h"

int senders_init(struct senders *sd, const struct mx_config_file *cfg,
		 const struct mx_settings *settings, struct mx_store *store,
		 char *err, size_t errlen)
{
	sd->cfg = cfg;
	sd->settings = settings;
	sd->store = store;
	if (mx_verdict_init(&sd->verdict, &cfg->verdict)) {
		snprintf(err, errlen, "out of memory for %u senders", cfg->verdict.max_senders);
		return -1;
	}
	if (cfg->trap_file[0] && mx_traps_load(&sd->traps, cfg->trap_file, err, errlen)) {
		mx_verdict_free(&sd->verdict);
		return -1;
	}
	store_set_engine(store, &sd->verdict);
	return 0;
}

int senders_configure(struct senders *sd, struct mx_traps *traps)
{
	mx_traps_free(&sd->traps);
	sd->traps = *traps;
	memset(traps, 0, sizeof(*traps));
	return mx_verdict_configure(&sd->verdict, &sd->cfg->verdict);
}

void senders_free(struct senders *sd)
{
	if (sd->store)
		store_set_engine(sd->store, NULL);
	mx_verdict_free(&sd->verdict);
	mx_traps_free(&sd->traps);
}

/* allowlisted - does the allowlist cover addr? */
static bool allowlisted(struct senders *sd, const struct mx_prefix *addr)
{
	struct mx_prefix hit, plain;
	struct mx_allow al;

	mx_prefix_unmap(addr, &plain);
	return mx_table_match(&sd->store->allows, &plain, &hit, &al) == 0;
}

bool senders_allowlisted(struct senders *sd, const struct mx_prefix *addr)
{
	return allowlisted(sd, addr);
}

/* key_of - the sender as the engine keys it; allowlisted or not */
static bool key_of(struct senders *sd, const struct mx_prefix *addr, struct sender_result *res)
{
	memset(res, 0, sizeof(*res));
	mx_verdict_key(addr, sd->settings->src_len4, sd->settings->src_len6, &res->key);
	res->allowlisted = allowlisted(sd, addr);
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
 * ban - have the store make what the engine decided. The engine's ban is
 * its own claim beside any other owner's: it never shortens an
 * operator's or a list's ban of the same sender, and lifting it leaves
 * theirs.
 */
static int ban(struct senders *sd, struct sender_result *res, int64_t now_s, char *err,
	       size_t errlen)
{
	struct mx_store *s = sd->store;
	const struct mx_decision *d = &res->d;
	uint64_t now_ns = mx_now_ns();
	struct mx_ban b = { .added_ns = now_ns, .flags = MX_BAN_F_AUTOMATIC }, top;
	const char *reason = reason_of(d);
	char pfx[64], ttl[40] = "permanently", d_text[32];
	unsigned int cut;
	bool longer_there;
	int r;

	if (d->until != MX_FOREVER)
		b.expires_ns = now_ns + (uint64_t)(d->until - now_s) * MX_NS_PER_S;
	b.reason = mx_bans_reason(&s->claims, reason);
	r = store_ban_auto(s, &res->key, &b, reason, d, now_s, &cut, err, errlen);
	if (r)
		return r;
	res->banned = true;
	longer_there = mx_bans_claims(&s->claims, &res->key, &top, 1) &&
		       !(top.flags & MX_BAN_F_AUTOMATIC);
	mx_format_prefix(&res->key, pfx, sizeof(pfx));
	if (d->until != MX_FOREVER) {
		mx_format_duration((uint64_t)(d->until - now_s) * MX_NS_PER_S, d_text,
				   sizeof(d_text));
		snprintf(ttl, sizeof(ttl), "for %s", d_text);
	}
	mx_log("banned %s %s: %u %s-trap hits in %llds (ban %u in a row)%s", pfx, ttl, d->hits,
	       mx_trap_kind_name(d->kind), (long long)sd->verdict.s.trap_window[d->kind],
	       d->offense, longer_there ? "; a longer ban was already there" : "");
	return 0;
}

int senders_trap(struct senders *sd, const struct mx_prefix *addr, enum mx_trap_kind kind,
		 uint32_t count, struct sender_result *res, char *err, size_t errlen)
{
	int64_t now_s = mx_now_s();
	int r;

	if (key_of(sd, addr, res)) {
		sd->trap_hits_ignored += count;
		return 0;
	}
	r = mx_verdict_trap(&sd->verdict, &res->key, kind, count, now_s, &res->d);
	if (r < 0) {
		snprintf(err, errlen, "cannot track the sender: %s", strerror(-r));
		return r;
	}
	/* A hit is the engine's record, not a change of the tables: journalled, synced each second. */
	if (state_sender_hits(sd->store, &res->key, kind, count,
			      mx_verdict_stamp(&sd->verdict, now_s))) {
		static struct mx_log_rate rate;

		mx_log_limited(&rate, "cannot journal a trap hit: %s", strerror(errno));
	}
	return r == 1 ? ban(sd, res, now_s, err, errlen) : 0;
}

/* clock - relate the engine's wall-clock delistings to its boot clock */
static int64_t clock_now(struct senders *sd)
{
	int64_t now_s = mx_now_s();

	sd->verdict.wall_minus_boot_s = mx_wall_s() - now_s;
	return now_s;
}

int64_t senders_now(struct senders *sd)
{
	return clock_now(sd);
}

int senders_mail(struct senders *sd, const struct mx_prefix *addr, bool spam,
		 struct sender_result *res, char *err, size_t errlen)
{
	int64_t now_s = clock_now(sd), since_s = now_s, until_s = 0;
	const struct mx_sender *e;
	int r;

	if (key_of(sd, addr, res))
		return 0;
	e = mx_verdict_find(&sd->verdict, &res->key);
	if (spam) {
		if (e && mx_verdict_listed(&sd->verdict, &res->key, now_s))
			since_s = e->listed_since;
		until_s = sd->verdict.s.listed_ttl ? now_s + sd->verdict.s.listed_ttl : MX_FOREVER;
	} else if (!mx_verdict_listed(&sd->verdict, &res->key, now_s)) {
		return 0;	/* clean and not listed: nothing to record */
	}
	r = state_sender_listed(sd->store, &res->key, spam ? since_s : 0, until_s, err, errlen);
	if (r)
		return r;
	r = mx_verdict_mail(&sd->verdict, &res->key, spam, now_s);
	if (r > 0)
		sd->listing_gen++;
	if (r < 0)
		snprintf(err, errlen, "cannot track the sender: %s", strerror(-r));
	return r < 0 ? r : 0;
}

/* due_add - watch a delisting time, so that the zone and counters learn it passed */
static void due_add(struct senders *sd, int64_t wall_s)
{
	for (unsigned int i = 0; i < sd->ndue; i++)
		if (sd->delist_due[i] == wall_s)
			return;
	if (sd->ndue == MX_DELIST_DUE) {
		sd->due_overflow = true;
		return;
	}
	sd->delist_due[sd->ndue++] = wall_s;
}

int senders_sample(struct senders *sd, const struct mx_prefix *addr, struct sender_result *res,
		   char *err, size_t errlen)
{
	int64_t now_s = clock_now(sd), wall_s = now_s + sd->verdict.wall_minus_boot_s;
	int64_t delist_s = mx_wall_next_time(wall_s, sd->cfg->delist_minute);
	struct mx_sender *e;
	int r;

	if (key_of(sd, addr, res))
		return 0;
	sd->samples++;
	e = mx_verdict_find(&sd->verdict, &res->key);
	if (!e || !mx_sender_listed(&sd->verdict, e, now_s))
		return 0;	/* not listed: a clean sample changes nothing */
	if (e->delist_wall_s) {
		e->samples++;
		return 0;	/* already scheduled by an earlier sample */
	}
	r = state_sender_delist(sd->store, &res->key, delist_s, err, errlen);
	if (r)
		return r;
	mx_verdict_sample(&sd->verdict, &res->key, delist_s, now_s);
	due_add(sd, delist_s);
	return 0;
}

bool senders_is_sample(const struct senders *sd, const char *rcpt)
{
	const char *p = sd->cfg->samples;
	size_t n = strlen(rcpt);

	while (*p) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);

		if (l == n && !strncasecmp(p, rcpt, n))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

int senders_content(struct senders *sd, const struct mx_prefix *addr, bool spam,
		    const char *const *rcpts, size_t nrcpts, struct sender_result *res,
		    char *err, size_t errlen)
{
	bool sample = false;

	if (spam)
		return senders_mail(sd, addr, true, res, err, errlen);
	for (size_t i = 0; i < nrcpts && !sample; i++)
		sample = senders_is_sample(sd, rcpts[i]);
	if (!sample) {
		key_of(sd, addr, res);
		return 0;	/* clean mail to anyone else: no news */
	}
	return senders_sample(sd, addr, res, err, errlen);
}

bool senders_entry_listed(const struct senders *sd, const struct mx_sender *e, int64_t now_s)
{
	return mx_sender_listed(&sd->verdict, e, now_s);
}

uint32_t senders_class_of(struct senders *sd, const struct mx_prefix *addr)
{
	struct mx_prefix key, hit, plain;
	struct mx_class_ref ref;
	const struct mx_sender *e;

	mx_prefix_unmap(addr, &plain);
	if (mx_table_match(&sd->store->classes, &plain, &hit, &ref) == 0 &&
	    ref.class_id < MX_MAX_CLASSES)
		return ref.class_id;
	mx_verdict_key(addr, sd->settings->src_len4, sd->settings->src_len6, &key);
	e = mx_verdict_find(&sd->verdict, &key);
	return e && e->auto_class < MX_MAX_CLASSES ? e->auto_class : 0;
}

/* now_ms - the boot clock in ms: messages' times, as the engine's seconds */
static int64_t now_ms(void)
{
	return (int64_t)(mx_now_ns() / 1000000);
}

/* A minute, for the per-minute message limit. */
#define MESSAGE_WINDOW_MS	60000

uint32_t senders_messages_in_minute(struct senders *sd, const struct mx_prefix *addr)
{
	struct mx_prefix key;
	const struct mx_sender *e;

	mx_verdict_key(addr, sd->settings->src_len4, sd->settings->src_len6, &key);
	e = mx_verdict_find(&sd->verdict, &key);
	return e ? mx_sender_messages(e, MESSAGE_WINDOW_MS, now_ms()) : 0;
}

int senders_message(struct senders *sd, const struct mx_prefix *addr, uint32_t limit)
{
	struct sender_result res;
	int r;

	if (key_of(sd, addr, &res))
		return 1;
	r = mx_verdict_message(&sd->verdict, &res.key, limit, MESSAGE_WINDOW_MS,
			       now_ms(), mx_now_s());
	if (r == 1)
		sd->messages++;
	else if (r == 0)
		sd->message_rate_refused++;
	return r < 0 ? -1 : r;
}

void senders_session_end(struct senders *sd, const struct mx_prefix *addr, uint32_t messages)
{
	struct sender_result res;
	const struct mx_sender *e;
	int64_t now_s = mx_now_s();
	int r;

	if (!messages || key_of(sd, addr, &res))
		return;
	e = mx_verdict_find(&sd->verdict, &res.key);
	/* Only what changes the evidence is journalled: a single, or the end of a run of them. */
	if (messages == 1 || (e && e->single.n)) {
		if (state_sender_session(sd->store, &res.key, messages,
					 mx_verdict_stamp(&sd->verdict, now_s))) {
			static struct mx_log_rate rate;

			mx_log_limited(&rate, "cannot journal an SMTP session: %s", strerror(errno));
		}
	}
	r = mx_verdict_session(&sd->verdict, &res.key, messages, now_s);
	if (r == 1)
		senders_auto(sd, addr, MX_AUTO_SINGLE, false);
}

bool senders_listed(struct senders *sd, const struct mx_prefix *addr)
{
	struct mx_prefix key;

	mx_verdict_key(addr, sd->settings->src_len4, sd->settings->src_len6, &key);
	return mx_verdict_listed(&sd->verdict, &key, clock_now(sd)) && !allowlisted(sd, addr);
}

int senders_forget(struct senders *sd, const struct mx_prefix *addr, char *err, size_t errlen)
{
	struct mx_prefix key;
	int r;

	mx_verdict_key(addr, sd->settings->src_len4, sd->settings->src_len6, &key);
	if (!mx_verdict_find(&sd->verdict, &key)) {
		snprintf(err, errlen, "nothing is known of that sender");
		return -ENOENT;
	}
	r = state_sender_forget(sd->store, &key, err, errlen);
	if (r)
		return r;
	mx_verdict_forget(&sd->verdict, &key);
	sd->listing_gen++;
	return 0;
}

/* take_class_back - the automatic class goes, through the store */
static int take_class_back(struct senders *sd, const struct mx_prefix *key)
{
	char err[256];
	int r = store_auto_class_back(sd->store, key, err, sizeof(err));

	if (r < 0)
		mx_log("cannot take back the class of a sender: %s", err);
	return r < 0 ? -1 : 0;
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
int senders_auto(struct senders *sd, const struct mx_prefix *addr, uint32_t reason, bool ok)
{
	const struct mx_config_file *cfg = sd->cfg;
	int which = reason == MX_AUTO_SPF ? 1 : reason == MX_AUTO_DNSBL ? 2 :
		    reason == MX_AUTO_SINGLE ? 3 : 0;
	uint32_t class_id = which == 1 ? cfg->spf_class :
			    which == 2 ? (cfg->dnsbl_zones[0] ? cfg->dnsbl_class : 0) :
			    which == 3 ? cfg->single_class : cfg->ptr_class;
	int64_t ttl_s = which == 1 ? cfg->spf_class_ttl :
			which == 2 ? cfg->dnsbl_class_ttl :
			which == 3 ? cfg->single_class_ttl : cfg->ptr_class_ttl;
	int64_t now_s = mx_now_s(), until_s = now_s + ttl_s;
	struct sender_result res;
	struct mx_class_ref ref;
	struct mx_prefix hit, plain;
	struct mx_sender *e;
	char err[256];

	if (!class_id)
		ok = true;	/* this verdict is turned off: it holds nothing against anyone */
	if (key_of(sd, addr, &res))
		return 0;
	e = mx_verdict_find(&sd->verdict, &res.key);
	if (e && e->auto_class) {
		uint32_t reasons = ok ? e->auto_reasons & ~reason : e->auto_reasons | reason;

		if (!reasons)
			return take_class_back(sd, &res.key);
		if (reasons != e->auto_reasons &&
		    store_auto_class(sd->store, &res.key, e->auto_class, reasons,
				     e->auto_class_until, now_s, err, sizeof(err)))
			return -1;
		if (!ok && until_s > e->auto_class_until)
			e->auto_class_until = until_s;
		return 0;
	}
	if (ok || !class_id)
		return 0;
	mx_prefix_unmap(addr, &plain);
	if (mx_table_match(&sd->store->classes, &plain, &hit, &ref) == 0)
		return 0;	/* the operator's class */
	if (store_auto_class(sd->store, &res.key, class_id, reason, until_s, now_s, err,
			     sizeof(err))) {
		static struct mx_log_rate rate;

		mx_log_limited(&rate, "cannot give a sender class %u: %s", class_id, err);
		return -1;
	}
	sd->auto_classed[which]++;
	return 1;
}

struct due_classes {
	struct mx_prefix key[256];
	unsigned int n;
	int64_t now_s;
};

/* class_due - collect a sender whose automatic class has run out */
static int class_due(const struct mx_sender *e, void *arg)
{
	struct due_classes *d = arg;

	if (e->auto_class && e->auto_class_until <= d->now_s) {
		d->key[d->n++] = e->src;
		if (d->n == 256)
			return 2;	/* enough for this turn: the next goes on from here */
	}
	return 0;
}

/*
 * expire_classes - automatic classes whose time ran out go back: a few
 * thousand buckets a second, so a full pass over sender_entries takes
 * about a minute and no turn walks them all.
 */
static void expire_classes(struct senders *sd, int64_t now_s)
{
	static struct due_classes d;

	d.n = 0;
	d.now_s = now_s;
	if (mx_verdict_walk(&sd->verdict, &sd->class_cursor, 4096, class_due, &d) == 1)
		sd->class_cursor = 0;
	for (unsigned int i = 0; i < d.n; i++)
		take_class_back(sd, &d.key[i]);
}

/* delistings_due - scheduled delistings whose time came: the listing changed */
static void delistings_due(struct senders *sd, int64_t wall_s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < sd->ndue; i++) {
		if (sd->delist_due[i] <= wall_s)
			sd->listing_gen++;
		else
			sd->delist_due[n++] = sd->delist_due[i];
	}
	sd->ndue = n;
	if (sd->due_overflow && sd->ticks % 60 == 0) {
		sd->listing_gen++;
		sd->due_overflow = n == MX_DELIST_DUE;
	}
}

void senders_tick(struct senders *sd)
{
	int64_t now_s = clock_now(sd);

	state_sync(sd->store);
	++sd->ticks;
	delistings_due(sd, now_s + sd->verdict.wall_minus_boot_s);
	expire_classes(sd, now_s);
	mx_verdict_expire(&sd->verdict, now_s, 1024);
}

/* watch_restored - the delistings a restore brought back */
static int watch_restored(const struct mx_sender *e, void *arg)
{
	struct senders *sd = arg;

	if (e->delist_wall_s)
		due_add(sd, e->delist_wall_s);
	return 0;
}

/* senders_timer - senders_tick from the event loop */
static void senders_timer(void *arg)
{
	senders_tick(arg);
}

/* senders_serve - senders_tick once a second in the event loop */
int senders_serve(struct senders *sd, struct mx_loop *loop)
{
	clock_now(sd);
	mx_verdict_foreach(&sd->verdict, watch_restored, sd);
	return mx_loop_timer_add(loop, &sd->timer, "senders", 1000, senders_timer, sd);
}
