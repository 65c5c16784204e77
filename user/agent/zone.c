// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	zone.c - the listing, and the bans, published as DNSBL zones for rbldnsd
 * SUMMARY
 *	zone_dir/listed.ip4, listed.ip6; with zone_bans, banned.ip4, banned.ip6
 * DESCRIPTION
 *	Large receivers publish their own lists as DNSBL zones (RFC 5782).
 *	This writes the verdict engine's listing (the senders that
 *	senders_entry_listed() says are listed after mail classified as
 *	spam) and, with zone_bans, the bans the data plane holds in force,
 *	as data files for rbldnsd(8): IPv4 as an ip4set, IPv6 as an ip6trie
 *	(the lines are zonefile.c's). Each entry is a sender as the engine
 *	keys it, or a banned prefix: an address or a prefix.
 *
 *	When. A timer looks four times a second whether what is published
 *	would change: the listing's generation (listing_gen, plus the listed
 *	senders evicted for room), the bans' (mx_bans.gen), the settings the
 *	files are written with (a reload), or the time: a published listing
 *	or ban ends, with no call to say so, at the earliest end (listed_until,
 *	a ban's expiry) the last write saw. A change is written one second
 *	after it was first seen, so that a burst of changes is one write; and
 *	a write begins at least one second, and at least as long as the last
 *	write took, after the last one ended, so that a zone that changes all
 *	the time takes at most half of the writer's time. A change during a
 *	write is published by the next one. Once a minute the listing is also
 *	walked without writing, to check that the files hold what would be
 *	published now: what "listed" means is senders.c's, and a listing may
 *	end in a way no generation counts.
 *
 *	How. A write is a task of the event loop: it walks the engine's hash
 *	buckets (mx_verdict_walk) or the four ban maps (mapwalk.h) a slice
 *	at a time between requests, into FILE.tmp in zone_dir (mode 0644:
 *	rbldnsd runs as its own user); then a thread syncs each file, renames
 *	it over FILE and syncs the directory. rbldnsd reloads a file when its
 *	mtime (in seconds) or size changes, and a rename never lets it read
 *	half a file; so that two versions are never told apart by nothing,
 *	the thread sets a new file's mtime a second past the old one's when
 *	both would fall in the same second.
 *
 *	The bans zone holds, for each prefix, the ban in force (the claim
 *	that lasts longest), with its reason in the TXT answer when
 *	zone_bans_text says %r: the default line is written again whenever an
 *	entry's reason differs from the one before, so a list of a million
 *	entries with one reason costs one line more. With zone_bans = no,
 *	banned.ip4 and banned.ip6 that an earlier setting left are written
 *	once without entries, so that nothing stale stays published.
 * SECURITY
 *	The files are written in zone_dir only, with names of ours; what
 *	they take from outside (ban reasons) is cut to printable ASCII and
 *	escaped for rbldnsd (zonefile.h). The writer never blocks the event
 *	loop on the disk's syncs (a thread does them).
 * DIAGNOSTICS
 *	A write that fails (zone_dir missing or not writable, a full disk)
 *	is logged, at most once every 10 s with how often, counted, and tried
 *	again 10 s later; the files in place stay as they were. A write that
 *	took a second or more says how long.
 * CONFIGURATION PARAMETERS
 *	zone_dir, zone_bans, zone_text, zone_bans_text, zone_a, and hostname
 *	and policy_url for the texts: read when a write begins, so a reload
 *	applies them with the next write, which it asks for.
 * SEE ALSO
 *	rbldnsd(8), zonefile.h, senders.h (senders_entry_listed), bans.h
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "mapwalk.h"
#include "zone.h"
#include "zonefile.h"

#define ZONE_CHECK_MS		250	/* how often the timer looks */
#define ZONE_DEBOUNCE_MS	1000	/* a change is written this long after it was seen */
#define ZONE_RETRY_MS		10000	/* a failed write is tried again this long after */
#define ZONE_VERIFY_MS		60000	/* the listing is checked against the files this often */
#define ZONE_SLICE		256	/* ban entries between looks at the clock */
#define ZONE_BUCKETS		64	/* engine buckets between looks at the clock */
#define ZONE_BUF		(64 * 1024)
#define ZONE_SIG_MAX		(MX_PATH_MAX + 3 * MX_TEXT_MAX + 2 * 256 + 32)
#define ZONE_NO_END		INT64_MAX

/* One data file of a zone: FILE.tmp while it is written, then FILE. */
struct zone_file {
	char path[MX_PATH_MAX + 16];
	char tmp[MX_PATH_MAX + 20];
	int fd;				/* FILE.tmp; -1: not open */
	char *buf;			/* ZONE_BUF, written out when full */
	size_t n;
	uint32_t reason;		/* banned: the reason of the last default line */
	uint64_t entries;
};

enum zone_phase {
	ZP_IDLE,
	ZP_WRITE,			/* walking the source into the files */
	ZP_SYNC,			/* the thread syncs and renames them */
	ZP_VERIFY,			/* walking the listing without writing */
};

/* What a write is made with: the settings when it began. */
struct zone_settings {
	char dir[MX_PATH_MAX];
	char a[16];
	char tmpl[MX_TEXT_MAX];
	char host[256];
	char url[256];
	char samples[256];
	bool bans;			/* zone_bans */
};

struct zone_service;

struct zone {
	enum zone_kind kind;
	const char *name;		/* "listed", "banned" */
	struct zone_service *zs;
	struct mx_task task;
	enum zone_phase phase;
	struct zone_file f[2];		/* IPv4, IPv6 */

	/* What the files in place stand for. */
	bool published;
	uint64_t gen;			/* the source's generation when they were begun */
	char sig[ZONE_SIG_MAX];		/* the settings they were written with */
	int64_t ends;			/* the earliest end of an entry, on the source's clock */
	uint64_t digest, count;		/* the set of entries, for the verification */
	bool differs;			/* the verification found the listing changed */

	/* When the next write may begin. */
	uint64_t due_ms;		/* mx_mono_ms(); 0: none scheduled */
	uint64_t ended_ms, took_ms;	/* the last write */
	bool failed;			/* the last write failed: retry */
	uint64_t verify_ms;		/* the next verification */

	/* The write (or verification) in progress. */
	struct zone_settings s;
	char w_sig[ZONE_SIG_MAX];
	uint64_t w_gen, w_digest, w_count;
	int64_t w_ends;
	int64_t now;			/* the source's clock when it began: s (listed), ns (banned) */
	uint64_t begun_ms;
	bool empty;			/* banned with zone_bans = no: no entries */
	bool by_reason;			/* banned: the template names the reason */
	uint32_t cursor, nbuckets;	/* listed: the engine's next bucket, and how many */
	int map;			/* banned: the ban map being walked */
	struct mx_walk walk;
	int err;			/* the first error of this write (errno) */
	const char *err_what;

	/* The thread that makes the files durable and puts them in place. */
	pthread_t thread;
	bool threaded;
	int synced;			/* __atomic: 1 when the thread is done */
	int sync_err;
	const char *sync_what;

	uint64_t writes, errors, entries;
};

struct zone_service {
	struct agent *a;
	struct mx_timer timer;
	struct zone z[ZONE_KINDS];
};

static const char *const file_names[ZONE_KINDS][2] = {
	[ZONE_LISTED] = { "listed.ip4", "listed.ip6" },
	[ZONE_BANNED] = { "banned.ip4", "banned.ip6" },
};
static const char *const datasets[2] = { "ip4set", "ip6trie" };
static const char *const what[ZONE_KINDS] = {
	[ZONE_LISTED] = "senders listed after mail classified as spam",
	[ZONE_BANNED] = "sources banned",
};
/* %r in the listing's text; a ban's reason when it has none (as the responder says). */
#define LISTED_REASON	"mail classified as spam"
#define NO_REASON	"Service refused"

/* settings_of - what a write of z is made with, and its signature */
static void settings_of(const struct zone *z, struct zone_settings *s, char *sig, size_t len)
{
	const struct mx_config_file *c = &z->zs->a->cfg;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", c->zone_dir);
	snprintf(s->a, sizeof(s->a), "%s", c->zone_a);
	snprintf(s->tmpl, sizeof(s->tmpl), "%s",
		 z->kind == ZONE_LISTED ? c->zone_text : c->zone_bans_text);
	snprintf(s->host, sizeof(s->host), "%s", c->hostname);
	snprintf(s->url, sizeof(s->url), "%s", c->policy_url);
	snprintf(s->samples, sizeof(s->samples), "%s", c->samples[0] ? c->samples : "postmaster");
	s->bans = c->zone_bans;
	snprintf(sig, len, "%s\n%s\n%s\n%s\n%s\n%s\n%d", s->dir, s->a, s->tmpl, s->host, s->url,
		 s->samples, z->kind == ZONE_BANNED && s->bans);
}

/* source_gen - the generation of what z publishes: it moves at every change */
static uint64_t source_gen(const struct zone *z)
{
	const struct agent *a = z->zs->a;

	if (z->kind == ZONE_LISTED)
		return a->senders.listing_gen + a->senders.verdict.listed_evicted;
	return a->store.claims.gen;
}

/* source_now - the clock of z's entries' ends: boot seconds (listed), boot ns (banned) */
static int64_t source_now(const struct zone *z)
{
	return z->kind == ZONE_LISTED ? mx_now_s() : (int64_t)mx_now_ns();
}

/* entry_hash - a prefix mixed into 64 bits, for an order-free digest of a set */
static uint64_t entry_hash(const struct mx_prefix *p)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)p->family << 8 ^ p->len;

	for (int i = 0; i < 16; i++)
		h = (h ^ p->addr[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ h >> 33;
}

/* flush - what the file's buffer holds, to FILE.tmp */
static int flush(struct zone *z, struct zone_file *f)
{
	size_t off = 0;

	while (off < f->n) {
		ssize_t w = write(f->fd, f->buf + off, f->n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			z->err = w < 0 ? errno : EIO;
			z->err_what = "write";
			return -1;
		}
		off += (size_t)w;
	}
	f->n = 0;
	return 0;
}

/* put - a line into the file's buffer */
static int put(struct zone *z, struct zone_file *f, const char *line, int len)
{
	if (len <= 0)
		return 0;
	if (f->n + (size_t)len > ZONE_BUF && flush(z, f))
		return -1;
	memcpy(f->buf + f->n, line, (size_t)len);
	f->n += (size_t)len;
	return 0;
}

/* put_default - the default line, with reason for %r */
static int put_default(struct zone *z, struct zone_file *f, const char *reason)
{
	struct mx_text_vars v = { .host = z->s.host, .reason = reason, .url = z->s.url,
				  .samples = z->s.samples };
	char txt[MX_ZONE_TXT_MAX], line[MX_ZONE_LINE_MAX];

	mx_zone_txt(txt, sizeof(txt), z->s.tmpl, &v);
	return put(z, f, line, mx_zone_default(line, sizeof(line), z->s.a, txt));
}

/* put_entry - one address or prefix into its family's file */
static int put_entry(struct zone *z, const struct mx_prefix *p)
{
	struct zone_file *f = &z->f[p->family == AF_INET6];
	char line[MX_ZONE_ENTRY_MAX];
	int n = mx_zone_entry(line, sizeof(line), p);

	if (!n)
		return 0;
	f->entries++;
	return put(z, f, line, n);
}

/* files_close - close what is open; remove the temporary files unless kept */
static void files_close(struct zone *z)
{
	for (int i = 0; i < 2; i++) {
		struct zone_file *f = &z->f[i];

		if (f->fd >= 0) {
			close(f->fd);
			f->fd = -1;
		}
		if (f->tmp[0])
			unlink(f->tmp);	/* ENOENT once renamed */
		f->tmp[0] = '\0';
		f->n = 0;
	}
}

/* files_open - FILE.tmp for each family, with the header and the default line */
static int files_open(struct zone *z)
{
	const char *reason = z->kind == ZONE_LISTED ? LISTED_REASON : NO_REASON;
	int64_t wall_s = mx_wall_s();

	for (int i = 0; i < 2; i++) {
		struct zone_file *f = &z->f[i];
		char head[1024];

		snprintf(f->path, sizeof(f->path), "%s/%s", z->s.dir, file_names[z->kind][i]);
		snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", f->path);
		f->n = 0;
		f->entries = 0;
		f->reason = 0;
		if (!f->buf && !(f->buf = malloc(ZONE_BUF))) {
			z->err = ENOMEM;
			z->err_what = "memory";
			return -1;
		}
		f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		/* rbldnsd runs as its own user: readable by others, whatever the umask. */
		if (f->fd < 0 || fchmod(f->fd, 0644)) {
			z->err = errno;
			z->err_what = f->tmp;
			return -1;
		}
		if (put(z, f, head, mx_zone_header(head, sizeof(head), file_names[z->kind][i],
						   what[z->kind], datasets[i], z->s.host, wall_s)) ||
		    put_default(z, f, reason))
			return -1;
	}
	return 0;
}

/* begin - a write (or, with verify, a walk that only checks); 0 or -1 (z->err) */
static int begin(struct zone *z, bool verify)
{
	settings_of(z, &z->s, z->w_sig, sizeof(z->w_sig));
	z->w_gen = source_gen(z);
	z->w_digest = z->w_count = 0;
	z->w_ends = ZONE_NO_END;
	z->now = source_now(z);
	z->begun_ms = mx_mono_ms();
	z->err = 0;
	z->err_what = NULL;
	z->empty = z->kind == ZONE_BANNED && !z->s.bans;
	z->by_reason = strstr(z->s.tmpl, "%r") != NULL;
	z->cursor = 0;
	z->nbuckets = z->zs->a->senders.verdict.nbuckets;
	z->map = 0;
	mx_walk_free(&z->walk);
	memset(&z->walk, 0, sizeof(z->walk));
	z->differs = false;
	if (verify) {
		z->phase = ZP_VERIFY;
		return 0;
	}
	z->phase = ZP_WRITE;
	return files_open(z);
}

/* listed_one - a listed sender into the files, or only into the digest (verdict walk) */
static int listed_one(const struct mx_sender *e, void *arg)
{
	struct zone *z = arg;

	if (!senders_entry_listed(&z->zs->a->senders, e, z->now))
		return 0;
	z->w_digest += entry_hash(&e->src);
	z->w_count++;
	/* Time alone ends a listing here: the next write is due then at the latest. */
	if (e->listed_until < z->w_ends)
		z->w_ends = e->listed_until;
	/* A scheduled delisting is a wall-clock time (verdict.h); senders.c also says when it passes. */
	if (e->delist_wall_s &&
	    e->delist_wall_s - z->zs->a->senders.verdict.wall_minus_boot_s < z->w_ends)
		z->w_ends = e->delist_wall_s - z->zs->a->senders.verdict.wall_minus_boot_s;
	if (z->phase == ZP_VERIFY)
		return 0;
	return put_entry(z, &e->src) ? -EIO : 0;
}

/* banned_one - a ban in force into the files (map walk) */
static int banned_one(const void *key, const void *val, void *arg)
{
	struct zone *z = arg;
	const struct mx_ban *b = val;
	struct mx_prefix p;
	struct zone_file *f;

	if (b->expires_ns && (int64_t)b->expires_ns <= z->now)
		return 0;	/* expired: no longer enforced, the sweep removes it */
	if (b->expires_ns && (int64_t)b->expires_ns < z->w_ends)
		z->w_ends = (int64_t)b->expires_ns;
	mx_table_key_prefix((enum mx_table_map)z->map, key, &p);
	z->w_digest += entry_hash(&p);
	z->w_count++;
	f = &z->f[p.family == AF_INET6];
	if (z->by_reason && b->reason != f->reason) {
		const char *text = mx_bans_reason_text(&z->zs->a->store.claims, b->reason);

		if (put_default(z, f, text[0] ? text : NO_REASON))
			return -EIO;
		f->reason = b->reason;
	}
	return put_entry(z, &p) ? -EIO : 0;
}

/* listed_step - a few buckets of the engine: 1 when all were walked, 0, or -1 */
static int listed_step(struct zone *z)
{
	const struct mx_verdict *v = &z->zs->a->senders.verdict;
	int r;

	if (v->nbuckets != z->nbuckets) {
		/* Rehashed (a reload): entries moved between buckets. Begin again. */
		bool verify = z->phase == ZP_VERIFY;

		files_close(z);
		return begin(z, verify) ? -1 : 0;
	}
	r = mx_verdict_walk(v, &z->cursor, ZONE_BUCKETS, listed_one, z);
	return r < 0 ? -1 : r;
}

/* banned_step - a slice of the ban maps: 1 when all four were walked, 0, or -1 */
static int banned_step(struct zone *z)
{
	const struct mx_table *bans = &z->zs->a->store.bans;
	int r;

	if (z->empty || z->map >= MX_TABLE_MAPS)
		return 1;
	r = z->walk.key_size ? 0 : mx_walk_init(&z->walk, bans->fd[z->map], 0,
						 sizeof(struct mx_ban));
	if (!r)
		r = mx_walk_step(&z->walk, ZONE_SLICE, banned_one, z);
	if (r < 0) {
		if (!z->err) {
			z->err = -r;
			z->err_what = "reading the bans";
		}
		return -1;
	}
	if (r == 1) {
		mx_walk_free(&z->walk);
		memset(&z->walk, 0, sizeof(z->walk));
		z->map++;
	}
	return z->map >= MX_TABLE_MAPS;
}

/* fail - the write is given up: say why (rate-limited), keep the files in place, retry */
static void fail(struct zone *z)
{
	static struct mx_log_rate rate;

	files_close(z);
	mx_log_limited(&rate, "cannot write the DNSBL zone %s in %s: %s: %s; the files in place "
		       "stay, trying again in %d s", z->name, z->s.dir[0] ? z->s.dir : "(none)",
		       z->err_what ? z->err_what : "?", strerror(z->err ? z->err : EIO),
		       ZONE_RETRY_MS / 1000);
	z->errors++;
	z->failed = true;
	z->phase = ZP_IDLE;
	z->ended_ms = mx_mono_ms();
	z->due_ms = 0;
}

/*
 * sync_thread - make the written files durable and put them in place,
 * away from the event loop: for each, a new mtime if the old file's is
 * as late (rbldnsd tells versions by mtime in seconds and size), fsync,
 * rename over FILE; then the directory's fsync
 */
static void *sync_thread(void *arg)
{
	struct zone *z = arg;
	int e = 0, dfd;

	for (int i = 0; i < 2; i++) {
		struct zone_file *f = &z->f[i];
		struct timespec now;
		struct stat old;

		clock_gettime(CLOCK_REALTIME, &now);
		if (stat(f->path, &old) == 0 && old.st_mtim.tv_sec >= now.tv_sec) {
			struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
						  { .tv_sec = old.st_mtim.tv_sec + 1 } };

			futimens(f->fd, ts);
		}
		if (!e && fsync(f->fd)) {
			e = errno;
			z->sync_what = "fsync";
		}
		if (close(f->fd) && !e) {
			e = errno;
			z->sync_what = "close";
		}
		f->fd = -1;
		if (!e && rename(f->tmp, f->path)) {
			e = errno;
			z->sync_what = "rename";
		}
	}
	dfd = open(z->s.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!e && (dfd < 0 || fsync(dfd))) {
		e = errno;
		z->sync_what = "fsync of the directory";
	}
	if (dfd >= 0)
		close(dfd);
	z->sync_err = e;
	__atomic_store_n(&z->synced, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* written - the walk is done: out of the buffers, then the thread (or at once) */
static void written(struct zone *z)
{
	for (int i = 0; i < 2; i++)
		if (flush(z, &z->f[i]))
			return;
	z->phase = ZP_SYNC;
	z->synced = 0;
	z->sync_err = 0;
	z->sync_what = NULL;
	z->threaded = pthread_create(&z->thread, NULL, sync_thread, z) == 0;
	if (!z->threaded)
		sync_thread(z);
}

/* published - the files are in place: they stand for what the write saw */
static void published(struct zone *z)
{
	uint64_t now_ms = mx_mono_ms();

	files_close(z);
	z->published = true;
	z->failed = false;
	z->gen = z->w_gen;
	memcpy(z->sig, z->w_sig, sizeof(z->sig));
	z->ends = z->w_ends;
	z->digest = z->w_digest;
	z->count = z->w_count;
	z->entries = z->f[0].entries + z->f[1].entries;
	z->writes++;
	z->phase = ZP_IDLE;
	z->ended_ms = now_ms;
	z->took_ms = now_ms - z->begun_ms;
	z->verify_ms = now_ms + ZONE_VERIFY_MS;
	if (z->took_ms >= 1000)
		mx_log("DNSBL zone %s: wrote %llu entries in %llu.%01llu s", z->name,
		       (unsigned long long)z->entries, (unsigned long long)z->took_ms / 1000,
		       (unsigned long long)z->took_ms % 1000 / 100);
}

/* verified - the walk without writing is done: does the listing differ from the files? */
static void verified(struct zone *z)
{
	z->phase = ZP_IDLE;
	z->verify_ms = mx_mono_ms() + ZONE_VERIFY_MS;
	z->differs = z->w_count != z->count || z->w_digest != z->digest;
}

/* zone_step - write (or verify) until the deadline (the task) */
static enum mx_task_state zone_step(void *arg, uint64_t deadline_us)
{
	struct zone *z = arg;

	if (z->phase == ZP_SYNC) {
		if (!__atomic_load_n(&z->synced, __ATOMIC_ACQUIRE))
			return MX_TASK_WAITING;
		if (z->threaded)
			pthread_join(z->thread, NULL);
		z->threaded = false;
		if (z->sync_err) {
			z->err = z->sync_err;
			z->err_what = z->sync_what;
			fail(z);
		} else {
			published(z);
		}
		return MX_TASK_DONE;
	}
	while (z->phase == ZP_WRITE || z->phase == ZP_VERIFY) {
		int r;

		if (mx_mono_us() >= deadline_us)
			return MX_TASK_BUSY;
		r = z->kind == ZONE_LISTED ? listed_step(z) : banned_step(z);
		if (r < 0) {
			if (z->phase == ZP_VERIFY) {
				z->phase = ZP_IDLE;	/* nothing was written: check again later */
				z->verify_ms = mx_mono_ms() + ZONE_VERIFY_MS;
			} else {
				fail(z);
			}
			return MX_TASK_DONE;
		}
		if (r == 0)
			continue;
		if (z->phase == ZP_VERIFY) {
			verified(z);
			return MX_TASK_DONE;
		}
		written(z);
		if (z->phase != ZP_SYNC) {
			fail(z);
			return MX_TASK_DONE;
		}
		return MX_TASK_WAITING;
	}
	return MX_TASK_DONE;
}

/* changed - would the files in place differ from what is published now? */
static bool changed(struct zone *z, const char *sig)
{
	if (!z->published || z->failed || strcmp(sig, z->sig))
		return true;
	if (z->kind == ZONE_BANNED && !z->zs->a->cfg.zone_bans)
		return false;	/* written empty: the bans do not matter */
	return source_gen(z) != z->gen || source_now(z) >= z->ends || z->differs;
}

/* left_files - does an earlier setting's banned.ip4 or banned.ip6 lie in dir? */
static bool left_files(const char *dir)
{
	char path[MX_PATH_MAX + 16];

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, file_names[ZONE_BANNED][i]);
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

/* schedule - begin a write of z when one is due, or a verification */
static void schedule(struct zone *z, uint64_t now_ms)
{
	struct agent *a = z->zs->a;
	struct zone_settings s;
	char sig[ZONE_SIG_MAX];

	if (z->phase != ZP_IDLE)
		return;
	if (!a->cfg.zone_dir[0]) {
		z->published = false;	/* when set again, written at once */
		z->due_ms = 0;
		return;
	}
	settings_of(z, &s, sig, sizeof(sig));
	if (!changed(z, sig)) {
		z->due_ms = 0;
		if (z->kind == ZONE_LISTED && now_ms >= z->verify_ms && begin(z, true) == 0)
			mx_loop_task_start(&a->loop, &z->task);
		return;
	}
	if (z->kind == ZONE_BANNED && !s.bans && !z->published && !left_files(s.dir)) {
		/* Nothing published, nothing to publish. */
		z->published = true;
		z->failed = false;
		memcpy(z->sig, sig, sizeof(z->sig));
		return;
	}
	if (!z->due_ms) {
		uint64_t gap = z->failed ? ZONE_RETRY_MS :
			       z->took_ms > ZONE_DEBOUNCE_MS ? z->took_ms : ZONE_DEBOUNCE_MS;

		z->due_ms = now_ms + ZONE_DEBOUNCE_MS;
		if (z->ended_ms && z->due_ms < z->ended_ms + gap)
			z->due_ms = z->ended_ms + gap;
	}
	if (now_ms < z->due_ms)
		return;
	z->due_ms = 0;
	if (begin(z, false)) {
		fail(z);
		return;
	}
	mx_loop_task_start(&a->loop, &z->task);
}

/* zone_check - the timer: is a write of either zone due? */
static void zone_check(void *arg)
{
	struct zone_service *zs = arg;
	uint64_t now_ms = mx_mono_ms();

	for (int k = 0; k < ZONE_KINDS; k++)
		schedule(&zs->z[k], now_ms);
}

int zone_open(struct agent *a)
{
	struct zone_service *zs = calloc(1, sizeof(*zs));

	if (!zs || mx_loop_timer_add(&a->loop, &zs->timer, "zone", ZONE_CHECK_MS, zone_check, zs)) {
		free(zs);
		mx_log("cannot start the DNSBL zone writer: out of memory");
		return -1;
	}
	zs->a = a;
	for (int k = 0; k < ZONE_KINDS; k++) {
		struct zone *z = &zs->z[k];

		z->kind = (enum zone_kind)k;
		z->name = k == ZONE_LISTED ? "listed" : "banned";
		z->zs = zs;
		z->f[0].fd = z->f[1].fd = -1;
		mx_task_init(&z->task, k == ZONE_LISTED ? "zone listed" : "zone banned", zone_step, z);
	}
	a->zone = zs;
	return 0;
}

void zone_close(struct agent *a)
{
	struct zone_service *zs = a->zone;

	if (!zs)
		return;
	mx_loop_timer_del(&a->loop, &zs->timer);
	for (int k = 0; k < ZONE_KINDS; k++) {
		struct zone *z = &zs->z[k];

		mx_loop_task_cancel(&a->loop, &z->task);
		if (z->threaded)
			pthread_join(z->thread, NULL);	/* the files' syncs: at a stop only */
		files_close(z);
		mx_walk_free(&z->walk);
		for (int i = 0; i < 2; i++)
			free(z->f[i].buf);
	}
	free(zs);
	a->zone = NULL;
}

void zone_stats(const struct agent *a, struct zone_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!a->zone)
		return;
	for (int k = 0; k < ZONE_KINDS; k++) {
		out->writes[k] = a->zone->z[k].writes;
		out->errors[k] = a->zone->z[k].errors;
		out->entries[k] = a->zone->z[k].entries;
	}
}
