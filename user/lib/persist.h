/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	persist.h - the journal and snapshots that keep acknowledged state
 * DESCRIPTION
 *	Every ban, allowlist entry and class assignment the agent
 *	acknowledges is a record appended to the journal and synced to disk
 *	before the acknowledgement. Now and then the whole state is written
 *	to a compressed snapshot, which replaces the last one atomically,
 *	and the journal starts again. Start-up reads the snapshot, then the
 *	journal, each record checked by its CRC; a torn or corrupt journal
 *	tail is cut at the last good record and reported.
 */
#ifndef MX_PERSIST_H
#define MX_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxguard.h"

enum mx_record_type {
	MX_REC_BAN_ADD = 1,
	MX_REC_BAN_DEL,
	MX_REC_ALLOW_ADD,
	MX_REC_ALLOW_DEL,
	MX_REC_CLASS_SET,
	MX_REC_CLASS_DEL,
	MX_REC_END,		/* last record of a snapshot: class_id holds the count */
	/* The verdict engine's senders (verdict.h); times in added/expires_wall_ns. */
	MX_REC_TRAP_HIT,	/* class_id: kind; flags: how many; added: when */
	MX_REC_SENDER_BAN,	/* flags: offenses; added: began; expires: ends (0: never) */
	MX_REC_LISTED,		/* added: since; expires: until (0: a clean mail) */
	MX_REC_DELISTED,
	MX_REC_SENDER_FORGET,
	MX_REC_AUTO_CLASS,	/* class_id (0: taken back); expires: until */
	/* Blocklists, by name (reason: "NAME"); see bans.h. */
	MX_REC_LIST_COMMIT,	/* class_id: the load's tag: its pending bans become the list */
	MX_REC_LIST_DROP,	/* the list and its bans go */
	/* The verdict engine's again (verdict.h). */
	MX_REC_DELIST_AT,	/* expires: the wall-clock time a listing ends (a clean sample) */
	MX_REC_SESSION,		/* flags: messages in an SMTP session that ended at added */
	/* Bans to push to CrowdSec's LAPI (crowdsec.h), until it acknowledged them. */
	MX_REC_CS_PUSH,		/* class_id: id; flags: hits; added: made; expires: ends; reason: scenario */
	MX_REC_CS_PUSHED,	/* class_id: the id LAPI acknowledged */
	MX_REC__MAX,		/* one past the last: a newer agent's records are not ours */
};

#define MX_RECORD_MAGIC	0x314a584dU	/* "MXJ1" */

/*
 * Ban records (BAN_ADD, BAN_DEL): flags hold the owner's kind
 * (MX_BAN_F_*; a BAN_DEL of 0 is every owner, as older agents wrote it);
 * a blocklist's records name it in reason, "NAME: REASON" (BAN_DEL:
 * "NAME"). A BAN_ADD of a load not yet committed carries PENDING, and
 * the load's tag in class_id.
 */
#define MX_REC_F_PENDING	(1U << 8)

/*
 * One record, fixed size, host byte order (the files stay on this host).
 * Times are wall-clock times, the only clock that means something after
 * a reboot; wall_minus_boot_ns says how the writer's wall clock stood to
 * its boot clock, so that on the same boot (boot_tag) each is read back
 * as the exact boot-clock time it was, whatever the wall clock did
 * since. Records of older agents have both 0 (pad1 and pad2 then).
 */
struct mx_record {
	uint32_t magic;
	uint32_t crc;			/* crc32 of everything after this field */
	uint8_t type;			/* enum mx_record_type */
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t len;			/* prefix length */
	uint8_t pad0;
	uint32_t flags;			/* MX_BAN_F_* */
	uint32_t class_id;
	uint32_t boot_tag;		/* the writer's boot (mx_boot_tag()); 0: unknown */
	int64_t expires_wall_ns;	/* CLOCK_REALTIME; 0 = permanent */
	int64_t added_wall_ns;
	uint8_t addr[16];
	char reason[MX_REASON_LEN];
	int64_t wall_minus_boot_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME when written */
};

struct snap_ctx;

struct mx_persist {
	int dir_fd;
	int journal_fd;
	char dir[256];
	uint64_t journal_records;	/* since the last snapshot began */
	uint64_t snapshot_records;	/* in the last snapshot: the state's size */
	uint32_t segment;		/* the last journal.N set aside (0: none) */
	struct snap_ctx *snap;		/* a snapshot being written */
};

/* Called for each record restored, in order. */
typedef int (*mx_record_cb)(const struct mx_record *r, void *arg);

/* What start-up found: for the log and for tests. */
struct mx_restore_report {
	uint64_t snapshot_records, journal_records;
	uint64_t torn_bytes;		/* cut from the journal's tail */
	int snapshot_damaged;
};

/*
 * Open the state directory and restore it: apply(r, arg) for each record.
 * If scan is not NULL, it sees every record first (with the snapshot's
 * END record, whose added_wall_ns says when the snapshot was written),
 * then NULL once: what apply does may depend on all of it.
 */
int mx_persist_open(struct mx_persist *p, const char *dir, mx_record_cb scan, mx_record_cb apply,
		    void *arg, struct mx_restore_report *rep, char *err, size_t errlen);
int mx_persist_append(struct mx_persist *p, struct mx_record *r);
/* Many records in one write and one sync. */
int mx_persist_append_many(struct mx_persist *p, struct mx_record *r, size_t n);

/*
 * Records in chunks (a blocklist): write without syncing, then sync once;
 * or cut the journal back to where the batch began.
 */
int64_t mx_persist_size(struct mx_persist *p);
int mx_persist_write(struct mx_persist *p, struct mx_record *r, size_t n);
int mx_persist_sync(struct mx_persist *p);
/* Start writing back what was written, so that the sync at the end is short. */
void mx_persist_writeback(struct mx_persist *p);
int mx_persist_truncate(struct mx_persist *p, int64_t size);

/*
 * Snapshots, written a slice at a time while the journal goes on. begin
 * sets the journal aside as journal.N and starts a new one: every record
 * from then on goes to the new journal, and the snapshot (its END record
 * names N) stands for everything up to journal.N. emit writes records of
 * the state into it; end with ok replaces the old snapshot and removes
 * the journals it stands for. Replaying the later journals over it gives
 * the state, because what the snapshot took after begin is taken again
 * by records that put or remove by key. A crash at any point leaves the
 * old snapshot and every journal since: nothing is lost.
 */
typedef int (*mx_emit_fn)(void *ctx, struct mx_record *r);
int mx_persist_snapshot_begin(struct mx_persist *p, char *err, size_t errlen);
int mx_persist_snapshot_emit(void *p, struct mx_record *r);
int mx_persist_snapshot_end(struct mx_persist *p, bool ok, char *err, size_t errlen);
/*
 * The same without waiting: close writes the last record and hands the
 * syncs, the rename and the removal of old journals to a thread; poll
 * answers 1 until that is done, then 0 (or -errno, with err).
 */
void mx_persist_snapshot_close(struct mx_persist *p, bool ok);
int mx_persist_snapshot_poll(struct mx_persist *p, char *err, size_t errlen);
void mx_persist_close(struct mx_persist *p);

uint32_t mx_record_crc(const struct mx_record *r);

#endif /* MX_PERSIST_H */
