/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	state.h - the agent's acknowledged state: journal it, restore it
 */
#ifndef MX_STATE_H
#define MX_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "persist.h"
#include "tables.h"

struct agent;

int state_open(struct agent *a);
void state_close(struct agent *a);
int state_snapshot(struct agent *a);
/* A snapshot in slices: start it, then work on it until it says it is done. */
bool state_snapshot_start(struct agent *a);
bool state_snapshot_work(struct agent *a, uint64_t deadline_us);

/* Journal one change before it is applied; 0, or -errno with a message in err. */
int state_ban_add(struct agent *a, const struct mx_prefix *p, const struct mx_ban *b,
		  const char *reason, char *err, size_t errlen);
int state_del(struct agent *a, enum mx_record_type type, const struct mx_prefix *p,
	      char *err, size_t errlen);
/* The claims on p of the owners in kinds (MX_BAN_F_*); list: a blocklist's name. */
int state_ban_del(struct agent *a, const struct mx_prefix *p, uint32_t kinds, const char *list,
		  char *err, size_t errlen);
/* A blocklist load's pending bans become the list; a list goes. */
int state_list_commit(struct agent *a, const char *name, uint32_t tag, char *err, size_t errlen);
int state_list_drop(struct agent *a, const char *name, char *err, size_t errlen);
int state_allow_add(struct agent *a, const struct mx_prefix *p, char *err, size_t errlen);
int state_class_set(struct agent *a, const struct mx_prefix *p, uint32_t class_id,
		    char *err, size_t errlen);

/*
 * The verdict engine's changes. Trap hits are written without a sync of
 * their own (the agent syncs dirty journals every second: a crash loses
 * at most the last second of hits, never a ban); a ban, a listing and a
 * forget are synced before they take effect.
 */
struct mx_decision;
int state_sender_hits(struct agent *a, const struct mx_prefix *p, int kind, uint32_t count,
		      int64_t when);
int state_sender_ban(struct agent *a, const struct mx_prefix *p, const struct mx_ban *b,
		     const char *reason, const struct mx_decision *d, int64_t now,
		     char *err, size_t errlen);
int state_sender_listed(struct agent *a, const struct mx_prefix *p, int64_t since,
			int64_t until, char *err, size_t errlen);
int state_sender_forget(struct agent *a, const struct mx_prefix *p, char *err, size_t errlen);
int state_sender_class(struct agent *a, const struct mx_prefix *p, uint32_t class_id,
		       uint32_t reasons, int64_t until, char *err, size_t errlen);
void state_sync(struct agent *a);

/*
 * A batch of ban records (a blocklist load), streamed to the journal in
 * chunks; the caller syncs once when all are written (mx_persist_sync).
 * Its records are a pending load's: without the load's commit record a
 * restore drops them. Memory stays one chunk, whatever the list's size.
 */
#define STATE_BATCH_CHUNK 4096
struct state_batch {
	struct agent *a;
	struct mx_record *r;		/* one chunk, allocated on first use */
	size_t n;			/* records in r, not yet written */
	int64_t start;			/* journal size before the batch; -1: nothing written */
	int err;
};
#define STATE_BATCH_INIT(agent) { .a = (agent), .start = -1 }
int state_batch_ban(struct state_batch *b, enum mx_record_type type, const struct mx_prefix *p,
		    const struct mx_ban *ban, const char *reason, uint32_t tag);
int state_batch_write(struct agent *a, struct state_batch *b, char *err, size_t errlen);
void state_batch_free(struct state_batch *b);

#endif /* MX_STATE_H */
