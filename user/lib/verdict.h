/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	verdict.h - the verdict engine: trap hits, repeat offenders, listing
 * DESCRIPTION
 *	What the mail stack learns about a sender becomes state here, one
 *	entry per sender (an address reduced to source_prefix_v4/v6, as
 *	the data plane's buckets see it):
 *
 *	  - trap hits of each kind, exactly, in a sliding window: more than
 *	    N in the window asks for an automatic ban;
 *	  - the sender's automatic bans: one soon after the last one ended
 *	    (within repeat_window) is a repeat, banned longer, and the
 *	    permanent_after-th in such a row is permanent;
 *	  - "listed" after mail classified as spam, until one clean mail
 *	    (or listed_ttl).
 *
 *	The engine decides; it neither touches maps nor disk, and takes the
 *	time from its caller, so it is tested on its own. The agent gives
 *	it the boot clock (CLOCK_BOOTTIME seconds, mx_now_s()), never the
 *	wall clock, which people and NTP move: a window, a ban, a listing
 *	lasts the time that passed. Times before this boot (restored) are
 *	negative; 0 means "none", so a restored time is never 0. The agent journals a decision, applies it to the maps, and
 *	only then commits it here (mx_verdict_banned): a ban that cannot be
 *	recorded leaves the hits in place, and the next hit asks again.
 * SECURITY
 *	At most max_senders entries; a new sender over that evicts the one
 *	idle longest (counted in evicted). Buckets are keyed with a random
 *	seed so that chosen addresses cannot pile into one chain.
 */
#ifndef MX_VERDICT_H
#define MX_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

enum mx_trap_kind {
	MX_TRAP_SPAM,
	MX_TRAP_BACKSCATTER,
	MX_TRAP_KINDS,
};

/* Largest hit threshold: the engine keeps threshold + 1 times per kind. */
#define MX_TRAP_HITS_MAX	10000
#define MX_FOREVER		INT64_MAX

struct mx_verdict_settings {
	uint32_t trap_hits[MX_TRAP_KINDS];	/* ban when more than this... */
	int64_t trap_window[MX_TRAP_KINDS];	/* ...in this many seconds */
	int64_t trap_ban[MX_TRAP_KINDS];	/* first ban, seconds */
	int64_t repeat_window;			/* a ban this soon after the last is a repeat */
	int64_t repeat_ban;			/* a repeat's ban, seconds */
	uint32_t permanent_after;		/* the Nth ban in a row is permanent; 0: never */
	int64_t listed_ttl;			/* 0: listed until a clean mail */
	uint32_t max_senders;
	uint32_t one_message_sessions;		/* this many sessions of one message each... */
	int64_t one_message_window;		/* ...within this many seconds: a habit; 0: off */
};

void mx_verdict_settings_default(struct mx_verdict_settings *s);
const char *mx_trap_kind_name(enum mx_trap_kind k);
int mx_trap_kind_parse(const char *s, enum mx_trap_kind *k);

/* Times in a ring: the newest cap of them, oldest at head; grows up to cap. */
struct mx_ring {
	int64_t *t;
	uint32_t size, n, head;		/* size: allocated; never more than the ring's limit */
};

struct mx_sender {
	struct mx_prefix src;
	struct mx_sender *hnext;		/* hash chain */
	struct mx_sender *newer, *older;	/* idle order */
	int64_t *ring[MX_TRAP_KINDS];		/* hit times, oldest at head */
	uint32_t cap[MX_TRAP_KINDS], n[MX_TRAP_KINDS], head[MX_TRAP_KINDS];
	uint64_t total_hits[MX_TRAP_KINDS];	/* ever, for people */
	uint32_t offenses;			/* automatic bans in the current row */
	int64_t last_ban;			/* when the last automatic ban began; 0: none */
	int64_t ban_until;			/* when it ends; MX_FOREVER: permanent */
	int64_t listed_since;			/* 0: not listed */
	int64_t listed_until;			/* MX_FOREVER: until a clean mail */
	int64_t delist_wall_s;			/* wall clock: a clean sample ends it then; 0: not */
	struct mx_ring msgs;			/* messages' times, ms: the per-minute limit */
	struct mx_ring single;			/* when sessions of one message each ended */
	uint64_t messages, spam_mails, samples;	/* since the agent started */
	uint32_t auto_class;			/* a class the agent gave it (no FCrDNS); 0: none */
	uint32_t auto_reasons;			/* why: MX_AUTO_* bits (agent.h) */
	int64_t auto_class_until;
	int64_t touched;
};

struct mx_verdict {
	struct mx_verdict_settings s;
	struct mx_sender **buckets;
	uint32_t nbuckets;			/* a power of two */
	uint32_t count;
	struct mx_sender *newest, *oldest;
	uint64_t seed;
	uint32_t sweep_at;			/* mx_verdict_expire goes on from here */
	/*
	 * The one wall-clock time the engine keeps is a delisting (the start
	 * of a day is the wall clock's notion: set forward past midnight, the
	 * day has begun). Its owner keeps this current to relate it to now_s.
	 */
	int64_t wall_minus_boot_s;
	/*
	 * Times the engine keeps in rings (trap hits, one-message sessions)
	 * are after this: a snapshot's cut (state.c). The snapshot takes
	 * those at or before it, the journal after it has the later ones,
	 * so no hit is in both. Hits in the cut's own second are stamped a
	 * second later.
	 */
	int64_t cut_s;
	int64_t latest_s;			/* the latest time in any ring: the next cut's least */
	/* Told of each sender evicted for room, before it goes (may be NULL). */
	void (*evicted_cb)(const struct mx_sender *e, void *arg);
	void *evicted_arg;
	uint64_t evicted, bans, hits[MX_TRAP_KINDS], listed, delisted, delist_scheduled;
	uint64_t listed_evicted;		/* of the evicted, those with a listing */
};

/* An automatic ban the engine asks for. */
struct mx_decision {
	enum mx_trap_kind kind;
	uint32_t hits;				/* in the window */
	uint32_t offense;			/* 1: first; 2 and on: repeats */
	int64_t until;				/* MX_FOREVER: permanent */
};

int mx_verdict_init(struct mx_verdict *v, const struct mx_verdict_settings *s);
void mx_verdict_free(struct mx_verdict *v);
/* New settings (a reload): rings resize keeping the newest hits. */
int mx_verdict_configure(struct mx_verdict *v, const struct mx_verdict_settings *s);

/* The engine's key for an address: unmapped, source_prefix_v4/v6 applied. */
void mx_verdict_key(const struct mx_prefix *addr, uint8_t len4, uint8_t len6,
		    struct mx_prefix *key);

/*
 * Record count trap hits at now. Returns 1 and fills d when the sender
 * is over the threshold and not already under an automatic ban, 0 when
 * nothing is to be done, -ENOMEM when the sender cannot be tracked.
 */
int mx_verdict_trap(struct mx_verdict *v, const struct mx_prefix *src, enum mx_trap_kind kind,
		    uint32_t count, int64_t now_s, struct mx_decision *d);
/* The ban d was recorded and applied: count the offense, start afresh. */
void mx_verdict_banned(struct mx_verdict *v, const struct mx_prefix *src,
		       const struct mx_decision *d, int64_t now_s);
/* An operator lifted the sender's ban: it ends now (history stays). */
void mx_verdict_unbanned(struct mx_verdict *v, const struct mx_prefix *src, int64_t now_s);

/*
 * Mail classified as spam lists the sender (and cancels a scheduled
 * delisting); spam false delists it now (an operator). 1 if that changed.
 */
int mx_verdict_mail(struct mx_verdict *v, const struct mx_prefix *src, bool spam, int64_t now_s);
/*
 * A clean sample from a listed sender: its listing ends at delist_wall_s
 * (wall clock), unless spam comes first. 1 when scheduled, 0 when the
 * sender is not listed (nothing to do).
 */
int mx_verdict_sample(struct mx_verdict *v, const struct mx_prefix *src, int64_t delist_wall_s,
		      int64_t now_s);
bool mx_verdict_listed(struct mx_verdict *v, const struct mx_prefix *src, int64_t now_s);
bool mx_sender_listed(const struct mx_verdict *v, const struct mx_sender *e, int64_t now_s);
/* A listed sender's delisting is scheduled (and not yet due)? */
bool mx_sender_delisting(const struct mx_verdict *v, const struct mx_sender *e, int64_t now_s);

/*
 * One message at now_ms: 1 when it is within limit messages in the last
 * window_ms (and is counted), 0 when it is over (not counted); limit 0
 * is no limit. -ENOMEM when the sender cannot be tracked.
 */
int mx_verdict_message(struct mx_verdict *v, const struct mx_prefix *src, uint32_t limit,
		       int64_t window_ms, int64_t now_ms, int64_t now_s);
/* Messages counted in the last window_ms. */
uint32_t mx_sender_messages(const struct mx_sender *e, int64_t window_ms, int64_t now_ms);
/*
 * A session of the sender ended with messages messages at now_s: one
 * message adds to the habit, more clears it. 1 when the habit is there
 * (one_message_sessions such sessions in one_message_window).
 */
int mx_verdict_session(struct mx_verdict *v, const struct mx_prefix *src, uint32_t messages,
		       int64_t now_s);
/* Sessions of one message each in the window ending at now_s. */
uint32_t mx_sender_single(const struct mx_verdict *v, const struct mx_sender *e, int64_t now_s);

/*
 * A limit class the agent gave the sender (no forward-confirmed PTR),
 * until then; class 0 takes it back. -ENOMEM if it cannot be tracked.
 */
int mx_verdict_auto_class(struct mx_verdict *v, const struct mx_prefix *src, uint32_t class_id,
			  uint32_t reasons, int64_t until, int64_t now_s);

/* now_s as the engine records a hit or session: after cut_s. */
int64_t mx_verdict_stamp(const struct mx_verdict *v, int64_t now_s);

/* Forget a sender entirely. 1 if it was known. */
int mx_verdict_forget(struct mx_verdict *v, const struct mx_prefix *src);

struct mx_sender *mx_verdict_find(struct mx_verdict *v, const struct mx_prefix *src);
/* Hits of a kind within the window ending at now. */
uint32_t mx_sender_hits(const struct mx_verdict *v, const struct mx_sender *e,
			enum mx_trap_kind kind, int64_t now_s);

/* Restore (journal and snapshot): state as it was, no decisions. */
int mx_verdict_restore_hits(struct mx_verdict *v, const struct mx_prefix *src,
			    enum mx_trap_kind kind, int64_t when, uint32_t count);
int mx_verdict_restore_ban(struct mx_verdict *v, const struct mx_prefix *src,
			   uint32_t offenses, int64_t last_ban, int64_t until);
int mx_verdict_restore_listed(struct mx_verdict *v, const struct mx_prefix *src,
			      int64_t since, int64_t until);
int mx_verdict_restore_delist(struct mx_verdict *v, const struct mx_prefix *src,
			      int64_t delist_wall_s);
int mx_verdict_restore_session(struct mx_verdict *v, const struct mx_prefix *src,
			       uint32_t messages, int64_t when);

/* Drop what no longer matters: at most budget entries looked at. Returns dropped. */
unsigned int mx_verdict_expire(struct mx_verdict *v, int64_t now_s, unsigned int budget);

/* Every sender, idle order newest first; cb returns non-zero to stop. */
typedef int (*mx_sender_cb)(const struct mx_sender *e, void *arg);
int mx_verdict_foreach(const struct mx_verdict *v, mx_sender_cb cb, void *arg);

/*
 * Every sender, a few hash buckets at a time (at most budget per call),
 * from *cursor (0 to begin): a walk that resumes in a later turn, since
 * an entry never moves to another bucket. A rehash (a reload that raises
 * sender_entries) changes nbuckets: the caller begins again. Returns 1
 * when the last bucket was walked, 0 when more remain, or cb's non-zero
 * value.
 */
int mx_verdict_walk(const struct mx_verdict *v, uint32_t *cursor, uint32_t budget,
		    mx_sender_cb cb, void *arg);

#endif /* MX_VERDICT_H */
