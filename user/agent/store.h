/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	store.h - the one place that changes bans, allowlist entries and classes
 * DESCRIPTION
 *	Every change of the data plane's address tables, whoever asks for it
 *	(a CLI command, a blocklist load, the verdict engine, a restore),
 *	goes through here and in one order:
 *
 *	  1. journal: the change is on disk (state.h) before anything else,
 *	     so what was acknowledged survives a crash right after;
 *	  2. map: the data plane enforces it (for bans, through the claims
 *	     of their owners: bans.h);
 *	  3. engine: the verdict engine hears what concerns it (an
 *	     automatic ban made or lifted, an automatic class taken back);
 *	  4. connections: in reply mode, a banned source's open connections
 *	     to the MTA are ended, as a drop would end them.
 *
 *	A change that cannot be journalled is refused with the reason and
 *	changes nothing. A change the map cannot take (full) is refused with
 *	the map's reason; its journal record is harmless (a restore meets
 *	the same full map, or a larger one).
 *
 *	Nothing here knows the agent: the store works on the maps it is
 *	given, so commands run against it in tests on in-memory maps.
 */
#ifndef MX_STORE_H
#define MX_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bans.h"
#include "crowdsec.h"
#include "persist.h"
#include "tables.h"
#include "verdict.h"

/*
 * The store's persistence (state.c): every change journalled (and
 * synced) before it is applied, restored into the maps at start-up,
 * and a snapshot now and then. The table changes' records are written
 * by the store's functions below only; the verdict service writes its
 * engine's own records (trap hits, listings, forgets) with
 * state_sender_*, and the event loop runs the snapshot task.
 */
struct mx_store;
struct mx_state {
	const char *dir;		/* the state directory; NULL or "": persistence off */
	struct mx_persist persist;
	bool on;			/* restored and journalling */
	bool dirty;			/* records written, not yet synced */
	unsigned int batches;		/* journal batches open: no snapshot may begin */
	bool snapshot_soon;		/* restored records of an earlier boot: rewrite them */
	uint64_t restore_failed;	/* restored entries that did not fit in the maps */
	uint64_t restore_torn_bytes;
	uint64_t restore_clock_suspect;	/* earlier boots restored with the wall clock not trusted */
};

int state_open(struct mx_store *s);
/* Say why a change was refused: the journal could not take it (e: -errno). Returns e. */
int state_refused(const struct mx_store *s, int e, char *err, size_t errlen);
void state_close(struct mx_store *s);
int state_snapshot(struct mx_store *s);
/* A snapshot in slices: start it, then work on it until it says it is done. */
bool state_snapshot_start(struct mx_store *s);
bool state_snapshot_work(struct mx_store *s, uint64_t deadline_us);

/* Journal one change before it is applied; 0, or -errno with a message in err. */
int state_ban_add(struct mx_store *s, const struct mx_prefix *p, const struct mx_ban *b,
		  const char *reason, char *err, size_t errlen);
int state_del(struct mx_store *s, enum mx_record_type type, const struct mx_prefix *p,
	      char *err, size_t errlen);
/* The claims on p of the owners in kinds (MX_BAN_F_*); list: a blocklist's name. */
int state_ban_del(struct mx_store *s, const struct mx_prefix *p, uint32_t kinds, const char *list,
		  char *err, size_t errlen);
/* A blocklist load's pending bans become the list; a list goes. */
int state_list_commit(struct mx_store *s, const char *name, uint32_t tag, char *err, size_t errlen);
int state_list_drop(struct mx_store *s, const char *name, char *err, size_t errlen);
int state_allow_add(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen);
int state_class_set(struct mx_store *s, const struct mx_prefix *p, uint32_t class_id,
		    char *err, size_t errlen);

/*
 * The verdict engine's changes. Trap hits are written without a sync of
 * their own (the agent syncs dirty journals every second: a crash loses
 * at most the last second of hits, never a ban); a ban, a listing and a
 * forget are synced before they take effect.
 */
struct mx_decision;
int state_sender_hits(struct mx_store *s, const struct mx_prefix *p, int kind, uint32_t count,
		      int64_t when);
int state_sender_ban(struct mx_store *s, const struct mx_prefix *p, const struct mx_ban *b,
		     const char *reason, const struct mx_decision *d, int64_t now_s,
		     char *err, size_t errlen);
int state_sender_listed(struct mx_store *s, const struct mx_prefix *p, int64_t since,
			int64_t until, char *err, size_t errlen);
int state_sender_forget(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen);
/* A clean sample: the listing ends at this wall-clock time. */
int state_sender_delist(struct mx_store *s, const struct mx_prefix *p, int64_t delist_wall_s,
			char *err, size_t errlen);
/* An SMTP session ended with messages messages (evidence, synced each second). */
int state_sender_session(struct mx_store *s, const struct mx_prefix *p, uint32_t messages,
			 int64_t when);
int state_sender_class(struct mx_store *s, const struct mx_prefix *p, uint32_t class_id,
		       uint32_t reasons, int64_t until, char *err, size_t errlen);
void state_sync(struct mx_store *s);

/*
 * Bans to push to CrowdSec (crowdsecd.c): one is journalled (synced) and
 * queued in s->pushes; those LAPI acknowledged are journalled as pushed
 * (synced within a second: a crash before that pushes them again) and
 * leave the queue. An automatic ban's push is written with the ban
 * (state_sender_ban) when s->cs_push is set.
 */
int state_cs_push(struct mx_store *s, struct mx_cs_push *p, char *err, size_t errlen);
void state_cs_pushed(struct mx_store *s, const uint32_t *ids, size_t n);

/*
 * A batch of ban records (a blocklist load), streamed to the journal in
 * chunks; the caller syncs once when all are written (mx_persist_sync).
 * Its records are a pending load's: without the load's commit record a
 * restore drops them. Memory stays one chunk, whatever the list's size.
 */
#define STATE_BATCH_CHUNK 4096
struct state_batch {
	struct mx_store *s;
	struct mx_record *r;		/* one chunk, allocated on first use */
	size_t n;			/* records in r, not yet written */
	int64_t start;			/* journal size before the batch; -1: nothing written */
	int err;
};
#define STATE_BATCH_INIT(store) { .s = (store), .start = -1 }
int state_batch_ban(struct state_batch *b, enum mx_record_type type, const struct mx_prefix *p,
		    const struct mx_ban *ban, const char *reason, uint32_t tag);
int state_batch_write(struct mx_store *s, struct state_batch *b, char *err, size_t errlen);
void state_batch_free(struct state_batch *b);

struct mx_store {
	struct mx_table bans, allows, classes;	/* the data plane's address tables */
	struct mx_presence presence;		/* which of their tries hold entries (tables.h) */
	struct mx_bans claims;			/* who holds each ban */
	int reasons_fd;				/* the reasons map (bans.h keeps it) */
	struct mx_state state;			/* the journal and snapshots */
	struct mx_verdict *engine;		/* told of automatic bans and classes; may be NULL */
	const struct mx_settings *settings;	/* ban_reply and ports: who to cut */
	uint64_t auto_unclassed;		/* automatic classes taken back */
	/* CrowdSec: the bans waiting to be pushed, and whether automatic ones are. */
	struct mx_cs_pushes pushes;
	bool cs_push;
	uint64_t cs_push_dropped;		/* not queued: the queue was full */
};

/*
 * Open: the maps' fds are set by the caller (bans, allows, classes,
 * reasons_fd); claims start empty. 0, or -ENOMEM.
 */
int store_init(struct mx_store *s);
/* The verdict engine to tell (its owner keeps it); it tells us of senders it evicts. */
void store_set_engine(struct mx_store *s, struct mx_verdict *engine);
void store_free(struct mx_store *s);

/*
 * A ban by an owner other than the verdict engine (the operator; one
 * blocklist entry): journal, claim. *cut: open connections ended (reply
 * mode). 0, or -errno with why in err.
 */
int store_ban_add(struct mx_store *s, const struct mx_prefix *p, const struct mx_ban *b,
		  const char *reason, unsigned int *cut, char *err, size_t errlen);

/*
 * The verdict engine's ban of a sender (d says why, at now_s on the
 * engine's clock): journalled with the sender's record in one write,
 * claimed, the engine committed, connections cut.
 */
int store_ban_auto(struct mx_store *s, const struct mx_prefix *key, const struct mx_ban *b,
		   const char *reason, const struct mx_decision *d, int64_t now_s,
		   unsigned int *cut, char *err, size_t errlen);

/*
 * The claims on p of the owners in kinds (MX_BAN_F_MANUAL, _AUTOMATIC;
 * blocklists go with their list). Lifting the engine's ban tells it
 * the ban ended now. -ENOENT when none of them holds p.
 */
int store_ban_del(struct mx_store *s, const struct mx_prefix *p, uint32_t kinds,
		  char *err, size_t errlen);

int store_allow_add(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen);
int store_allow_del(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen);

/*
 * The operator's class of exactly p. An automatic class the engine gave
 * there is taken back first (journalled before the operator's record,
 * so a restore replays them in that order): the operator's wins.
 * store_class_del: -ENOENT when p had neither.
 */
int store_class_set(struct mx_store *s, const struct mx_prefix *p, uint32_t class_id,
		    char *err, size_t errlen);
int store_class_del(struct mx_store *s, const struct mx_prefix *p, char *err, size_t errlen);

/*
 * The engine's automatic classes: give (or change the reasons of) one,
 * until until_s on the engine's clock; take one back (the map entry goes
 * only if it is still the engine's).
 */
int store_auto_class(struct mx_store *s, const struct mx_prefix *key, uint32_t class_id,
		     uint32_t reasons, int64_t until_s, int64_t now_s, char *err, size_t errlen);
int store_auto_class_back(struct mx_store *s, const struct mx_prefix *key, char *err,
			  size_t errlen);

/*
 * A blocklist replaced as a whole, a slice at a time (a job of the event
 * loop): begin with every prefix (kept by the caller until done), then
 * step until it says done. Journal (one write, one sync in a thread),
 * claims under a pending owner, the commit record, then the old list's
 * bans go. Until the commit the old list holds; a failure undoes what
 * the load put and leaves it as it was.
 */
enum store_load_phase { SL_READY, SL_JOURNAL, SL_SYNC, SL_CLAIM, SL_COMMIT, SL_UNDO, SL_DONE };

struct store_load {
	struct mx_store *s;
	/* Per entry (store_load_entries), else ban and text for all. */
	const uint64_t *expires;
	const uint16_t *text_of;
	const char (*texts)[MX_REASON_LEN];
	size_t ntexts;
	uint32_t *rid;			/* the texts' reason ids */
	enum store_load_phase phase;
	char name[MX_LIST_NAME_MAX + 1];
	char text[MX_REASON_LEN];	/* "NAME: REASON" */
	const struct mx_prefix *p;
	size_t n, i;
	struct mx_ban ban;
	uint32_t tag, pending;
	struct state_batch batch;
	struct mx_bans_drop drop;
	bool dropping;
	bool journalling;		/* from the first record to the commit's end */
	pthread_t thread;		/* the sync */
	int synced;			/* __atomic: 1 when the sync is done */
	int sync_r;
	uint64_t removed;		/* the old list's bans no longer listed */
	int ret;			/* when done: 0, or -1 with err */
	char err[512];
};

void store_load_begin(struct mx_store *s, struct store_load *l, const char *name,
		      const char *text, const struct mx_ban *ban, const struct mx_prefix *p,
		      size_t n);
/*
 * Each entry its own expiry (boot clock, 0: permanent) and reason text
 * ("NAME: ..."; texts[text_of[i]]), all kept by the caller until done.
 * Right after store_load_begin; 0 or -ENOMEM.
 */
int store_load_entries(struct store_load *l, const uint64_t *expires, const uint16_t *text_of,
		       const char (*texts)[MX_REASON_LEN], size_t ntexts);
/* 1: more to do, 2: waiting on something else (a thread, a snapshot), 0: done (l->ret). */
int store_load_step(struct store_load *l, uint64_t deadline_us);
/* Free; a load stopped after its commit record finishes its commit first. */
void store_load_free(struct store_load *l);

/*
 * Changes of one list's claims after it was loaded (CrowdSec's decisions
 * as they come): claims (each with its expiry and text) and removals of
 * that list's claim alone, a slice at a time: journalled (one write, one
 * sync in a thread), then applied. No snapshot begins in between. The
 * changes, texts and the name are the caller's until done.
 */
struct store_change {
	struct mx_prefix p;
	uint64_t expires_ns;		/* boot clock; 0: permanent */
	uint16_t text;			/* in texts: "NAME: ..." */
	bool del;			/* the list's claim on p goes */
};
enum store_changes_phase { SC_JOURNAL, SC_SYNC, SC_APPLY, SC_DONE };
struct store_changes {
	struct mx_store *s;
	enum store_changes_phase phase;
	char name[MX_LIST_NAME_MAX + 1];
	uint32_t list;
	const struct store_change *c;
	size_t n, i;
	const char (*texts)[MX_REASON_LEN];
	size_t ntexts;
	uint32_t *rid;
	struct state_batch batch;
	bool journalling;
	pthread_t thread;
	int synced, sync_r;
	uint64_t claimed, removed, failed;
	int ret;
	char err[512];
};
void store_changes_begin(struct mx_store *s, struct store_changes *j, const char *name,
			 const struct store_change *c, size_t n, const char (*texts)[MX_REASON_LEN],
			 size_t ntexts);
/* As store_load_step: 1 more, 2 waiting, 0 done (j->ret: 0, or -1 with err). */
int store_changes_step(struct store_changes *j, uint64_t deadline_us);
void store_changes_free(struct store_changes *j);

/* A blocklist goes with its bans (nobody else's). -ENOENT: no such list. */
int store_list_drop(struct mx_store *s, const char *name, uint64_t *removed,
		    char *err, size_t errlen);

#endif /* MX_STORE_H */
