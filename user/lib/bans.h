/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	bans.h - bans with owners, and the reason texts they name
 * DESCRIPTION
 *	A prefix may be banned by several owners at once: the operator
 *	(manual), the verdict engine (automatic) and each blocklist, by
 *	name. Each owner's claim has its own expiry and reason. The ban maps
 *	hold one value per prefix, the claim that lasts longest (a permanent
 *	one first), with its owner in its flags (MX_BAN_OWNER()). A prefix
 *	with one owner lives in the map alone; one with several also keeps
 *	all its claims here, so that removing or replacing one owner's claim
 *	never removes or shortens another's: the longest remaining wins.
 *
 *	A blocklist is loaded into a pending owner of its own and committed
 *	in one step (mx_bans_list_commit): the old list's claims go, the
 *	pending one becomes the list. Until then the old list holds, and a
 *	load that fails (or an agent that dies during it) leaves it as it
 *	was.
 *
 *	Reason texts live in the reasons map, MX_MAX_REASONS of them. An
 *	id is freed when no claim names it any more (mx_bans_gc_*, driven by
 *	the sweep of expired bans); when all are in use a ban is still made,
 *	with the generic reason (id 0), and counted.
 */
#ifndef MX_BANS_H
#define MX_BANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxguard.h"
#include "parse.h"
#include "tables.h"

#define MX_LIST_NAME_MAX	24
#define MX_MAX_LISTS		4096

/* The owner of a claim, as its flags hold it: a kind and, for lists, an id. */
#define MX_BAN_KINDS		(MX_BAN_F_MANUAL | MX_BAN_F_BLOCKLIST | MX_BAN_F_AUTOMATIC)
#define MX_BAN_LIST(flags)	((flags) >> 16)
#define MX_BAN_OWNER(flags)	((flags) & (MX_BAN_KINDS | 0xffff0000U))

struct mx_shared;

struct mx_bans {
	const struct mx_table *map;
	int reasons_fd;
	/* Prefixes with more than one claim, by prefix (open addressing). */
	struct mx_shared *shared;
	size_t shared_n, shared_cap;
	/* Blocklists by id (1..MX_MAX_LISTS-1); "" is free. pending: being loaded. */
	char (*lists)[MX_LIST_NAME_MAX + 1];
	bool *pending;
	uint32_t *tags;			/* a pending list's load, as the journal names it */
	/* The reasons map's texts, mirrored; and when each was last named. */
	char (*texts)[MX_REASON_LEN];
	uint32_t used_pass[MX_MAX_REASONS];
	bool referenced[MX_MAX_REASONS];
	uint32_t pass;			/* reason collection passes begun */
	uint64_t reason_fallbacks;	/* bans made with the generic reason: table full */
	uint64_t reasons_freed;
	bool restoring;			/* map values older than restore_ns are stale */
	uint64_t restore_ns;
	/*
	 * Moves at every change of the bans in force (a claim, an unclaim, a
	 * stale entry removed); not when an expired ban is removed, since it
	 * was no longer in force (the DNSBL zone: zone.c).
	 */
	uint64_t gen;
};

int mx_bans_init(struct mx_bans *b, const struct mx_table *map, int reasons_fd);
void mx_bans_free(struct mx_bans *b);

/*
 * The id of a reason text, added if new. Never fails: with every id in
 * use it answers 0, the generic reason, counts it and says so once.
 */
uint32_t mx_bans_reason(struct mx_bans *b, const char *text);
const char *mx_bans_reason_text(const struct mx_bans *b, uint32_t id);

/*
 * Blocklists: the committed list of a name (0: none), added if new when
 * add is set; the pending list of a load (tag names the load in the
 * journal), added if new. 0 when the name is invalid or all ids are used.
 */
uint32_t mx_bans_list(struct mx_bans *b, const char *name, bool add);
uint32_t mx_bans_list_pending(struct mx_bans *b, const char *name, uint32_t tag);
bool mx_bans_list_is_pending(const struct mx_bans *b, uint32_t id, uint32_t *tag);
const char *mx_bans_list_name(const struct mx_bans *b, uint32_t id);
bool mx_list_name_valid(const char *name);

/*
 * Room for more prefixes with several claims, made now: a load of n
 * prefixes over another owner's asks for n before it claims, so that
 * the table of shared prefixes is not rehashed (every entry moved, every
 * page of a new table touched) in the middle of it, in one turn. The
 * pages of the room are touched only as it is used.
 */
int mx_bans_reserve(struct mx_bans *b, size_t more);
/*
 * An owner's claim on p (its flags name the owner), replacing that
 * owner's earlier claim. The map then holds the longest claim. 0, or
 * -E2BIG (the map is full: nothing changed) or -ENOMEM.
 */
int mx_bans_claim(struct mx_bans *b, const struct mx_prefix *p, const struct mx_ban *claim);

/*
 * Remove the claims on p of the owners in kinds (MX_BAN_F_*); for
 * MX_BAN_F_BLOCKLIST only list's when list is not 0. Returns how many
 * claims went (0: none of theirs); the map holds what remains.
 */
int mx_bans_unclaim(struct mx_bans *b, const struct mx_prefix *p, uint32_t kinds, uint32_t list);

/* Every claim on p, the one in force first; returns how many (at most max). */
size_t mx_bans_claims(struct mx_bans *b, const struct mx_prefix *p, struct mx_ban *out,
		      size_t max);

/* The claims behind a map value just read: the value itself unless shared. */
size_t mx_bans_expand(struct mx_bans *b, const struct mx_prefix *p, const struct mx_ban *val,
		      struct mx_ban *out, size_t max);

/* p's ban in the map expired (the sweep): its claims go with it. */
void mx_bans_expired(struct mx_bans *b, const struct mx_prefix *p);

/*
 * Commit a pending list: the claims of the committed list of that name
 * go (removed: those on prefixes the new list does not hold), and the
 * pending one takes its name. Or drop a pending or committed list
 * altogether. Each walks the bans once.
 */
int mx_bans_list_commit(struct mx_bans *b, uint32_t pending, uint64_t *removed);
int mx_bans_list_drop(struct mx_bans *b, uint32_t list, uint64_t *removed);

/*
 * The same a slice at a time, between other work: begin, then step until
 * it returns 0 (done: the list's name is free) or a negative errno. A
 * commit is mx_bans_commit_begin, steps, then mx_bans_commit_end.
 */
struct mx_bans_drop {
	uint32_t list, keep;
	int map;
	struct mx_walk_state *w;
	uint64_t removed;
};
int mx_bans_drop_begin(struct mx_bans *b, struct mx_bans_drop *d, uint32_t list, uint32_t keep);
int mx_bans_drop_step(struct mx_bans *b, struct mx_bans_drop *d, uint64_t deadline_us);
void mx_bans_drop_free(struct mx_bans_drop *d);
/* The committed list a pending one replaces (0: none) */
uint32_t mx_bans_commit_target(struct mx_bans *b, uint32_t pending);
void mx_bans_commit_end(struct mx_bans *b, uint32_t pending);
/* At the end of a restore: pending lists whose commit never came are dropped. */
void mx_bans_restore_done(struct mx_bans *b);

/*
 * Reason collection, a pass at a time: begin, mark the reason of every
 * map value seen (the sweep's walk), end: the ids no claim named and
 * none took since the pass began are freed.
 */
void mx_bans_gc_begin(struct mx_bans *b);
void mx_bans_gc_mark(struct mx_bans *b, uint32_t reason);
unsigned int mx_bans_gc_end(struct mx_bans *b);

/* The owner of a claim in words: "manual", "automatic", "blocklist NAME". */
const char *mx_bans_owner_text(const struct mx_bans *b, uint32_t flags, char *buf, size_t len);

#endif /* MX_BANS_H */
