/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	state.h - the store's acknowledged state: journal it, restore it, snapshot it
 */
#ifndef MX_STATE_H
#define MX_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "persist.h"
#include "tables.h"

struct mx_store;

/* The store's persistence (store.h owns one). */
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
int state_sender_class(struct mx_store *s, const struct mx_prefix *p, uint32_t class_id,
		       uint32_t reasons, int64_t until, char *err, size_t errlen);
void state_sync(struct mx_store *s);

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

#endif /* MX_STATE_H */
