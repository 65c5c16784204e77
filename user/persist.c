// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	persist.c - journal and snapshots of acknowledged state
 * DESCRIPTION
 *	Files in the state directory (default /var/lib/mxguard):
 *
 *	  journal	fixed-size records appended and fdatasync'd one by one
 *	  snapshot.gz	the whole state as records, zlib (gzip) compressed,
 *			ending with an END record that holds the count
 *
 *	A snapshot is written to snapshot.tmp, synced, renamed over
 *	snapshot.gz and the directory synced; only then is the journal
 *	emptied. A crash anywhere in between leaves a journal that, replayed
 *	over either snapshot, gives the same state: records are puts and
 *	deletes, idempotent in order.
 * SECURITY
 *	The files are the agent's own (0600 in a 0700 directory), but a
 *	disk can still tear a write: every record carries a CRC and a magic
 *	number, and reading stops at the first bad one.
 * DIAGNOSTICS
 *	Functions return 0 or -errno and write a one-line reason to err.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "persist.h"

_Static_assert(sizeof(struct mx_record) == 128, "record layout is on disk: keep it");
_Static_assert(offsetof(struct mx_record, boot_tag) == 20 &&
	       offsetof(struct mx_record, wall_minus_boot_ns) == 120,
	       "the clock fields are where pad1 and pad2 were");

/* fail - write a reason, return -err */
static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -e;
}

/* mx_record_crc - the CRC a record must carry */
uint32_t mx_record_crc(const struct mx_record *r)
{
	const uint8_t *p = (const uint8_t *)r + offsetof(struct mx_record, type);

	return (uint32_t)crc32(0L, p, (uInt)(sizeof(*r) - offsetof(struct mx_record, type)));
}

/* valid - a record we wrote, whole and unchanged */
static int valid(const struct mx_record *r)
{
	return r->magic == MX_RECORD_MAGIC && r->crc == mx_record_crc(r) &&
	       r->type >= MX_REC_BAN_ADD && r->type < MX_REC__MAX;
}

/*
 * restore_snapshot - apply snapshot.gz; a damaged one is applied up to the
 * damage. To scan, the END record is given to apply too.
 */
static int restore_snapshot(struct mx_persist *p, mx_record_cb apply, void *arg,
			    struct mx_restore_report *rep, bool scan)
{
	char path[300];
	struct mx_record r;
	uint64_t n = 0;
	gzFile gz;
	int fd;

	snprintf(path, sizeof(path), "%s/snapshot.gz", p->dir);
	fd = openat(p->dir_fd, "snapshot.gz", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		int got = gzread(gz, &r, sizeof(r));

		if (got != (int)sizeof(r) || !valid(&r)) {
			rep->snapshot_damaged = 1;	/* no END record: cut short or corrupt */
			break;
		}
		if (r.type == MX_REC_END) {
			rep->snapshot_damaged = r.class_id != (uint32_t)n;
			if (scan)
				apply(&r, arg);
			break;
		}
		if (apply(&r, arg))
			break;
		n++;
	}
	gzclose(gz);
	rep->snapshot_records = n;
	return 0;
}

/* restore_journal - apply the journal; cut a torn or corrupt tail (unless only scanning) */
static int restore_journal(struct mx_persist *p, mx_record_cb apply, void *arg,
			   struct mx_restore_report *rep, bool scan)
{
	struct stat st;
	struct mx_record r;
	off_t good = 0;

	if (fstat(p->journal_fd, &st))
		return -errno;
	for (;;) {
		ssize_t got = pread(p->journal_fd, &r, sizeof(r), good);

		if (got != (ssize_t)sizeof(r) || !valid(&r) || r.type == MX_REC_END)
			break;
		apply(&r, arg);
		good += (off_t)sizeof(r);
		rep->journal_records++;
	}
	if (scan)
		return 0;
	if (good < st.st_size) {
		rep->torn_bytes = (uint64_t)(st.st_size - good);
		if (ftruncate(p->journal_fd, good) || fdatasync(p->journal_fd))
			return -errno;
	}
	p->journal_records = rep->journal_records;
	return 0;
}

/* mx_persist_open - open (creating) the state directory and restore it */
int mx_persist_open(struct mx_persist *p, const char *dir, mx_record_cb scan, mx_record_cb apply,
		    void *arg, struct mx_restore_report *rep, char *err, size_t errlen)
{
	struct mx_restore_report first;
	int e;

	memset(p, 0, sizeof(*p));
	memset(rep, 0, sizeof(*rep));
	p->dir_fd = p->journal_fd = -1;
	if (strlen(dir) >= sizeof(p->dir))
		return fail(err, errlen, ENAMETOOLONG, "state directory name too long");
	strcpy(p->dir, dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail(err, errlen, errno, "cannot create %s: %s", dir, strerror(errno));
	p->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dir_fd < 0)
		return fail(err, errlen, errno, "cannot open %s: %s", dir, strerror(errno));
	p->journal_fd = openat(p->dir_fd, "journal", O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (p->journal_fd < 0)
		return fail(err, errlen, errno, "cannot open %s/journal: %s", dir, strerror(errno));
	if (scan) {
		memset(&first, 0, sizeof(first));
		e = restore_snapshot(p, scan, arg, &first, true);
		if (!e)
			e = restore_journal(p, scan, arg, &first, true);
		if (e)
			return fail(err, errlen, -e, "cannot read %s: %s", dir, strerror(-e));
		scan(NULL, arg);
	}
	e = restore_snapshot(p, apply, arg, rep, false);
	if (e)
		return fail(err, errlen, -e, "cannot read %s/snapshot.gz: %s", dir, strerror(-e));
	e = restore_journal(p, apply, arg, rep, false);
	if (e)
		return fail(err, errlen, -e, "cannot read %s/journal: %s", dir, strerror(-e));
	p->snapshot_records = rep->snapshot_records;
	return 0;
}

/* mx_persist_append - one record, on disk before this returns 0 */
int mx_persist_append(struct mx_persist *p, struct mx_record *r)
{
	return mx_persist_append_many(p, r, 1);
}

/* mx_persist_append_many - records, all on disk before this returns 0 */
int mx_persist_append_many(struct mx_persist *p, struct mx_record *r, size_t count)
{
	off_t end = lseek(p->journal_fd, 0, SEEK_END);
	size_t bytes = count * sizeof(*r), done = 0;
	ssize_t n = 0;

	for (size_t i = 0; i < count; i++) {
		r[i].magic = MX_RECORD_MAGIC;
		r[i].crc = mx_record_crc(&r[i]);
	}
	while (done < bytes) {
		n = write(p->journal_fd, (char *)r + done, bytes - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done != bytes) {
		int e = n < 0 ? errno : ENOSPC;

		/* Never leave half a record behind to be taken for a torn tail. */
		if (end >= 0 && ftruncate(p->journal_fd, end))
			(void)0;
		return -e;
	}
	if (fdatasync(p->journal_fd)) {
		int e = errno;

		if (end >= 0 && ftruncate(p->journal_fd, end))
			(void)0;
		return -e;
	}
	p->journal_records += count;
	return 0;
}

/* mx_persist_size - the journal's size now */
int64_t mx_persist_size(struct mx_persist *p)
{
	off_t end = lseek(p->journal_fd, 0, SEEK_END);

	return end < 0 ? -errno : (int64_t)end;
}

/* mx_persist_write - records appended, not yet synced */
int mx_persist_write(struct mx_persist *p, struct mx_record *r, size_t count)
{
	size_t bytes = count * sizeof(*r), done = 0;

	for (size_t i = 0; i < count; i++) {
		r[i].magic = MX_RECORD_MAGIC;
		r[i].crc = mx_record_crc(&r[i]);
	}
	while (done < bytes) {
		ssize_t n = write(p->journal_fd, (char *)r + done, bytes - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENOSPC;
		done += (size_t)n;
	}
	p->journal_records += count;
	return 0;
}

/* mx_persist_sync - what was written is on disk */
int mx_persist_sync(struct mx_persist *p)
{
	return fdatasync(p->journal_fd) ? -errno : 0;
}

/* mx_persist_truncate - cut the journal back to size (a batch undone) */
int mx_persist_truncate(struct mx_persist *p, int64_t size)
{
	if (ftruncate(p->journal_fd, (off_t)size) || fdatasync(p->journal_fd))
		return -errno;
	return 0;
}

struct snap_ctx {
	gzFile gz;
	uint64_t n;
	int err;
};

/* emit - write one snapshot record */
static int emit(void *ctx, struct mx_record *r)
{
	struct snap_ctx *s = ctx;

	r->magic = MX_RECORD_MAGIC;
	r->crc = mx_record_crc(r);
	if (gzwrite(s->gz, r, sizeof(*r)) != (int)sizeof(*r)) {
		s->err = ENOSPC;
		return -1;
	}
	s->n++;
	return 0;
}

/* mx_persist_snapshot - write the state, replace the snapshot, empty the journal */
int mx_persist_snapshot(struct mx_persist *p, int (*walk)(void *arg, mx_emit_fn emit, void *ctx),
			void *arg, char *err, size_t errlen)
{
	struct snap_ctx s = { 0 };
	struct mx_record end = { .type = MX_REC_END };
	int64_t boot = (int64_t)mx_now_ns();
	int fd, dup_fd;

	/* When the snapshot was written, for the next restore's clock check. */
	end.boot_tag = mx_boot_tag();
	end.wall_minus_boot_ns = mx_wall_ns() - boot;
	end.added_wall_ns = boot + end.wall_minus_boot_ns;

	fd = openat(p->dir_fd, "snapshot.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(err, errlen, errno, "cannot write a snapshot: %s", strerror(errno));
	dup_fd = dup(fd);	/* gzclose closes fd; fsync needs one */
	s.gz = gzdopen(fd, "wb1");	/* fast: records compress well at any level */
	if (!s.gz || dup_fd < 0) {
		close(fd);
		if (dup_fd >= 0)
			close(dup_fd);
		return fail(err, errlen, ENOMEM, "cannot start a snapshot");
	}
	if (walk(arg, emit, &s) == 0 && !s.err) {
		end.class_id = (uint32_t)s.n;
		emit(&s, &end);
	}
	if (gzclose(s.gz) != Z_OK && !s.err)
		s.err = ENOSPC;
	if (!s.err && fsync(dup_fd))
		s.err = errno;
	close(dup_fd);
	if (!s.err && renameat(p->dir_fd, "snapshot.tmp", p->dir_fd, "snapshot.gz"))
		s.err = errno;
	if (!s.err && fsync(p->dir_fd))
		s.err = errno;
	if (s.err) {
		unlinkat(p->dir_fd, "snapshot.tmp", 0);
		return fail(err, errlen, s.err, "snapshot failed (%s); the journal is kept",
			    strerror(s.err));
	}
	/* The snapshot holds everything the journal did: start it again. */
	if (ftruncate(p->journal_fd, 0) || fdatasync(p->journal_fd))
		return fail(err, errlen, errno, "cannot empty the journal: %s", strerror(errno));
	p->journal_records = 0;
	p->snapshot_records = s.n;
	return 0;
}

/* mx_persist_close - close the files */
void mx_persist_close(struct mx_persist *p)
{
	if (p->journal_fd >= 0)
		close(p->journal_fd);
	if (p->dir_fd >= 0)
		close(p->dir_fd);
	p->journal_fd = p->dir_fd = -1;
}
