// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	persist.c - journal and snapshots of acknowledged state
 * DESCRIPTION
 *	Files in the state directory (default /var/lib/mxguard):
 *
 *	  journal	fixed-size records appended and fdatasync'd one by one
 *	  journal.N	journals set aside when a snapshot began (N counts up)
 *	  snapshot.gz	the whole state as records, zlib (gzip) compressed,
 *			ending with an END record that holds the count and
 *			the last journal.N it stands for (flags)
 *
 *	A snapshot begins by setting the journal aside (rename, new journal,
 *	directory synced), is written to snapshot.tmp a slice at a time,
 *	synced, renamed over snapshot.gz and the directory synced; only then
 *	are the journals it stands for removed. Restore reads the snapshot,
 *	then every journal.N after the one it names, then journal. A crash
 *	anywhere leaves a snapshot and the journals since it.
 * SECURITY
 *	The files are the agent's own (0600 in a 0700 directory), but a
 *	disk can still tear a write: every record carries a CRC and a magic
 *	number, and reading stops at the first bad one.
 * DIAGNOSTICS
 *	Functions return 0 or -errno and write a one-line reason to err.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
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
			p->segment = r.flags;	/* the journals it stands for */
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

/* restore_journal - apply one journal; cut a torn or corrupt tail (unless only scanning) */
static int restore_journal(int fd, mx_record_cb apply, void *arg, struct mx_restore_report *rep,
			   bool scan)
{
	struct stat st;
	struct mx_record r;
	off_t good = 0;

	if (fstat(fd, &st))
		return -errno;
	for (;;) {
		ssize_t got = pread(fd, &r, sizeof(r), good);

		if (got != (ssize_t)sizeof(r) || !valid(&r) || r.type == MX_REC_END)
			break;
		apply(&r, arg);
		good += (off_t)sizeof(r);
		rep->journal_records++;
	}
	if (scan)
		return 0;
	if (good < st.st_size) {
		rep->torn_bytes += (uint64_t)(st.st_size - good);
		if (ftruncate(fd, good) || fdatasync(fd))
			return -errno;
	}
	return 0;
}

/* segment_of - N of "journal.N", or 0 */
static uint32_t segment_of(const char *name)
{
	char *end;
	unsigned long n;

	if (strncmp(name, "journal.", 8) || !name[8] || name[8] < '1' || name[8] > '9')
		return 0;
	n = strtoul(name + 8, &end, 10);
	return *end || n > UINT32_MAX ? 0 : (uint32_t)n;
}

/*
 * restore_segments - the journals set aside after the snapshot's, in
 * order; those it stands for are removed. Returns the highest N seen.
 */
static int restore_segments(struct mx_persist *p, mx_record_cb apply, void *arg,
			    struct mx_restore_report *rep, uint32_t *last, bool scan)
{
	uint32_t next = p->segment + 1, high = p->segment;
	DIR *d = fdopendir(dup(p->dir_fd));
	struct dirent *e;
	char name[32];
	int r = 0;

	*last = high;
	if (!d)
		return -errno;
	/* Which exist, and the old ones out of the way. */
	while ((e = readdir(d))) {
		uint32_t n = segment_of(e->d_name);

		if (!n)
			continue;
		if (n <= p->segment && !scan)
			unlinkat(p->dir_fd, e->d_name, 0);
		else if (n > high)
			high = n;
	}
	closedir(d);
	for (uint32_t n = next; n <= high && !r; n++) {
		int fd;

		snprintf(name, sizeof(name), "journal.%u", n);
		fd = openat(p->dir_fd, name, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;	/* a gap: nothing set aside under that number */
		r = restore_journal(fd, apply, arg, rep, scan);
		close(fd);
	}
	*last = high;
	return r;
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
		uint32_t last;

		memset(&first, 0, sizeof(first));
		e = restore_snapshot(p, scan, arg, &first, true);
		if (!e)
			e = restore_segments(p, scan, arg, &first, &last, true);
		if (!e)
			e = restore_journal(p->journal_fd, scan, arg, &first, true);
		if (e)
			return fail(err, errlen, -e, "cannot read %s: %s", dir, strerror(-e));
		scan(NULL, arg);
	}
	e = restore_snapshot(p, apply, arg, rep, false);
	if (e)
		return fail(err, errlen, -e, "cannot read %s/snapshot.gz: %s", dir, strerror(-e));
	{
		uint32_t last = p->segment;

		e = restore_segments(p, apply, arg, rep, &last, false);
		if (e)
			return fail(err, errlen, -e, "cannot read the journals in %s: %s", dir,
				    strerror(-e));
		p->segment = last;
	}
	e = restore_journal(p->journal_fd, apply, arg, rep, false);
	if (e)
		return fail(err, errlen, -e, "cannot read %s/journal: %s", dir, strerror(-e));
	p->journal_records = rep->journal_records;
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

/* mx_persist_write - records appended, not yet synced; never half a record */
int mx_persist_write(struct mx_persist *p, struct mx_record *r, size_t count)
{
	size_t bytes = count * sizeof(*r), done = 0;
	off_t end = lseek(p->journal_fd, 0, SEEK_END);

	for (size_t i = 0; i < count; i++) {
		r[i].magic = MX_RECORD_MAGIC;
		r[i].crc = mx_record_crc(&r[i]);
	}
	while (done < bytes) {
		ssize_t n = write(p->journal_fd, (char *)r + done, bytes - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : ENOSPC;

			/* A torn record would end every restore there: cut it. */
			if (end >= 0 && ftruncate(p->journal_fd, end))
				(void)0;
			return -e;
		}
		done += (size_t)n;
	}
	p->journal_records += count;
	return 0;
}

/* mx_persist_writeback - start writing what was written, without waiting */
void mx_persist_writeback(struct mx_persist *p)
{
	sync_file_range(p->journal_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
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
	int fd;			/* for fsync: gzclose closes its own */
	int dir_fd;
	uint32_t segment;	/* the last journal this snapshot stands for */
	uint64_t n, records;
	int err;
	struct mx_record end;	/* stamped at the cut, written last */
	bool closing;		/* written whole: the finisher thread has it */
	int done;		/* __atomic: the finisher is done */
	pthread_t thread;
};

/* mx_persist_snapshot_emit - write one snapshot record */
int mx_persist_snapshot_emit(void *ctx, struct mx_record *r)
{
	struct snap_ctx *s = ((struct mx_persist *)ctx)->snap;

	if (!s || s->err || (s->closing && r->type != MX_REC_END))
		return -1;
	r->magic = MX_RECORD_MAGIC;
	r->crc = mx_record_crc(r);
	if (gzwrite(s->gz, r, sizeof(*r)) != (int)sizeof(*r)) {
		s->err = ENOSPC;
		return -1;
	}
	s->n++;
	return 0;
}

/* mx_persist_snapshot_begin - set the journal aside, open snapshot.tmp */
int mx_persist_snapshot_begin(struct mx_persist *p, char *err, size_t errlen)
{
	struct snap_ctx *s;
	char aside[32];
	int fd, jfd;

	if (p->snap)
		return fail(err, errlen, EBUSY, "a snapshot is being written");
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, errlen, ENOMEM, "cannot start a snapshot");
	/* When the state it holds was taken, for the next restore's clock check. */
	{
		int64_t boot = (int64_t)mx_now_ns();

		s->end.type = MX_REC_END;
		s->end.boot_tag = mx_boot_tag();
		s->end.wall_minus_boot_ns = mx_wall_ns() - boot;
		s->end.added_wall_ns = boot + s->end.wall_minus_boot_ns;
	}
	fd = openat(p->dir_fd, "snapshot.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	s->fd = fd < 0 ? -1 : dup(fd);
	s->gz = fd < 0 ? NULL : gzdopen(fd, "wb1");	/* fast: records compress well at any level */
	if (!s->gz || s->fd < 0) {
		int e = errno ? errno : ENOMEM;

		if (s->gz)
			gzclose(s->gz);
		else if (fd >= 0)
			close(fd);
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return fail(err, errlen, e, "cannot write a snapshot: %s", strerror(e));
	}
	/* Everything journalled so far is in the state the snapshot will hold. */
	snprintf(aside, sizeof(aside), "journal.%u", p->segment + 1);
	if (fdatasync(p->journal_fd) ||
	    renameat(p->dir_fd, "journal", p->dir_fd, aside) ||
	    (jfd = openat(p->dir_fd, "journal", O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		int e = errno;

		gzclose(s->gz);
		close(s->fd);
		free(s);
		unlinkat(p->dir_fd, "snapshot.tmp", 0);
		/* If the rename happened, restore finds journal.N and reads it: no loss. */
		return fail(err, errlen, e, "cannot set the journal aside: %s", strerror(e));
	}
	fsync(p->dir_fd);
	close(p->journal_fd);
	p->journal_fd = jfd;
	p->segment++;
	s->segment = p->segment;
	p->journal_records = 0;
	p->snap = s;
	return 0;
}

/*
 * finisher - make the written snapshot durable and the current one: sync
 * it, rename it over snapshot.gz, sync the directory, remove the journals
 * it stands for. On disk work that may wait on the device (a load's
 * writeback): a thread does it, not the event loop.
 */
static void *finisher(void *arg)
{
	struct snap_ctx *s = arg;
	char name[32];

	if (!s->err && fsync(s->fd))
		s->err = errno;
	close(s->fd);
	if (!s->err && renameat(s->dir_fd, "snapshot.tmp", s->dir_fd, "snapshot.gz"))
		s->err = errno;
	if (!s->err && fsync(s->dir_fd))
		s->err = errno;
	if (s->err) {
		unlinkat(s->dir_fd, "snapshot.tmp", 0);
	} else {
		/* The snapshot stands for the journals set aside: they can go. */
		for (uint32_t n = s->segment; n > 0; n--) {
			snprintf(name, sizeof(name), "journal.%u", n);
			if (unlinkat(s->dir_fd, name, 0) && errno == ENOENT && n < s->segment)
				break;
		}
		fsync(s->dir_fd);
	}
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* mx_persist_snapshot_close - the last record written; the rest goes on in a thread */
void mx_persist_snapshot_close(struct mx_persist *p, bool ok)
{
	struct snap_ctx *s = p->snap;

	if (!s || s->closing)
		return;
	s->closing = true;
	s->records = s->n;
	if (ok && !s->err) {
		s->end.class_id = (uint32_t)s->records;
		s->end.flags = s->segment;
		mx_persist_snapshot_emit(p, &s->end);
	}
	if (gzclose(s->gz) != Z_OK && !s->err)
		s->err = ENOSPC;
	if (!ok && !s->err)
		s->err = ECANCELED;
	s->dir_fd = p->dir_fd;
	if (pthread_create(&s->thread, NULL, finisher, s)) {
		finisher(s);
		s->thread = 0;
	}
}

/* mx_persist_snapshot_poll - 1 while the snapshot is being finished, 0 done, or -errno */
int mx_persist_snapshot_poll(struct mx_persist *p, char *err, size_t errlen)
{
	struct snap_ctx *s = p->snap;
	int e;

	if (!s)
		return 0;
	if (!s->closing || !__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
		return 1;
	if (s->thread)
		pthread_join(s->thread, NULL);
	e = s->err;
	p->snap = NULL;
	if (!e)
		p->snapshot_records = s->records;
	free(s);
	if (e)
		return fail(err, errlen, e, "snapshot failed (%s); the journals are kept", strerror(e));
	return 0;
}

/* mx_persist_snapshot_end - finish (ok) or abandon the snapshot being written, and wait */
int mx_persist_snapshot_end(struct mx_persist *p, bool ok, char *err, size_t errlen)
{
	int r;

	mx_persist_snapshot_close(p, ok);
	while ((r = mx_persist_snapshot_poll(p, err, errlen)) == 1)
		usleep(1000);
	return r;
}

/* mx_persist_close - close the files */
void mx_persist_close(struct mx_persist *p)
{
	if (p->snap)
		mx_persist_snapshot_end(p, false, NULL, 0);
	if (p->journal_fd >= 0)
		close(p->journal_fd);
	if (p->dir_fd >= 0)
		close(p->dir_fd);
	p->journal_fd = p->dir_fd = -1;
}
