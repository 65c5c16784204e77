// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	tables.c - address tables, data-plane settings, reason texts
 * DESCRIPTION
 *	See tables.h. Single addresses go to the hash maps, whose lookup
 *	cost stays flat up to millions of entries; only real prefixes go
 *	to the LPM tries, whose cost grows with their size.
 * DIAGNOSTICS
 *	Functions return 0 or a negative errno from the map layer, maps.h
 *	(-E2BIG: the map is full; -ENOENT: no such entry).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "maps.h"
#include "tables.h"

/* key_of - which map and what key a prefix goes to */
static enum mx_table_map key_of(const struct mx_prefix *p, uint8_t key[20])
{
	memset(key, 0, 20);
	if (p->family == AF_INET && p->len == 32) {
		memcpy(key, p->addr, 4);
		return MX_EXACT4;
	}
	if (p->family == AF_INET6 && p->len == 128) {
		memcpy(key, p->addr, 16);
		return MX_EXACT6;
	}
	*(uint32_t *)key = p->len;
	memcpy(key + 4, p->addr, p->family == AF_INET ? 4 : 16);
	return p->family == AF_INET ? MX_PREFIX4 : MX_PREFIX6;
}

/* presence_write - config.flags with the presence bits as pr has them */
static int presence_write(const struct mx_presence *pr)
{
	struct mx_config cfg;
	uint32_t zero = 0;
	int err = mx_map_lookup(pr->config_fd, &zero, &cfg);

	if (err)
		return err;
	cfg.flags = (cfg.flags & ~(MX_CFG_F_HOLD_ALL | MX_CFG_F_TABLES_KNOWN | MX_CFG_F_SUMMARY_BAN4)) |
		    pr->flags;
	return mx_map_update(pr->config_fd, &zero, &cfg, BPF_ANY);
}

/* The process's presence word, while started. */
static struct mx_presence *presence;

/* map_bit - the presence bit of the map behind fd, or 0 if none is kept */
static uint32_t map_bit(int fd)
{
	if (!presence || !presence->on)
		return 0;
	for (int i = 0; i < 3 * MX_TABLE_MAPS; i++)
		if (presence->fd[i] == fd)
			return presence->bit[i];
	return 0;
}

/*
 * The IPv4 ban summary: one bit per /24 in ban4_summary (mapped here),
 * set while some prefix in the ban trie touches that /24 (covers it or
 * lies inside it). The agent is its one writer; the programs read it.
 *
 * Exact-or-conservative needs to know when the last prefix touching a
 * /24 leaves. Kept as a count per /24 (touch[]), a dense array of 2^24
 * 16-bit counts: 32 MiB of address space, mapped lazily, so memory is
 * spent only on pages of /24s some prefix ever touched (2,048 /24s a
 * page) and at most 32 MiB with prefixes all over the address space.
 * Chosen over a hash keyed by /24 (smaller when sparse, but a /8 alone
 * is 65,536 entries and growing it rehashes in one turn) and over
 * recomputing from the trie at each removal (a trie lookup cannot say
 * whether a longer prefix lies inside a /24 without 128 lookups, one
 * per /31): a count is O(1) per /24, never allocates while loading,
 * and needs no syscall. A count cannot overflow: the prefixes touching
 * one /24 are at most the 17 that cover it (/8 to /24) and the 254
 * inside it (/25 to /31); a saturated count would only stay set.
 *
 * Work per change is one step per /24 the prefix touches: 65,536 for a
 * /8, half a millisecond here. Shorter prefixes (a /1 would be 8M steps)
 * are only counted (wide): while one is in the trie the flag is clear
 * and the trie is always looked up, and the bits of the others are
 * still kept, so the flag comes back when the last wide prefix goes.
 */
#define SUMMARY_BYTES	((size_t)MX_BAN4_SUMMARY_WORDS * sizeof(uint64_t))
#define TOUCH_BYTES	(((size_t)1 << 24) * sizeof(uint16_t))

/* summary_span - the /24s a prefix touches: the first (top 24 bits, host order), how many */
static void summary_span(const struct mx_prefix *p, uint32_t *first, uint32_t *n)
{
	uint32_t a;

	memcpy(&a, p->addr, 4);
	*n = p->len >= 24 ? 1 : 1U << (24 - p->len);
	*first = (ntohl(a) >> 8) & ~(*n - 1);
}

/* summary_count - count p in each /24 it touches; a /24's bit is set as its count leaves 0 */
static void summary_count(struct mx_presence *pr, const struct mx_prefix *p)
{
	uint32_t first, n;

	summary_span(p, &first, &n);
	for (uint32_t i = first; i - first < n; i++) {
		if (pr->touch[i] == UINT16_MAX)
			continue;
		if (pr->touch[i]++ == 0)
			__atomic_fetch_or(&pr->summary[i >> 6], 1ULL << (i & 63), __ATOMIC_SEQ_CST);
	}
}

/* summary_uncount - the reverse; a /24's bit is cleared as its count returns to 0 */
static void summary_uncount(struct mx_presence *pr, const struct mx_prefix *p)
{
	uint32_t first, n;

	summary_span(p, &first, &n);
	for (uint32_t i = first; i - first < n; i++) {
		if (pr->touch[i] == 0 || pr->touch[i] == UINT16_MAX)
			continue;
		if (--pr->touch[i] == 0)
			__atomic_fetch_and(&pr->summary[i >> 6], ~(1ULL << (i & 63)), __ATOMIC_SEQ_CST);
	}
}

/* summary_flag - MX_CFG_F_SUMMARY_BAN4 on or off in config; 0 or -errno (then as it was) */
static int summary_flag(struct mx_presence *pr, bool on)
{
	uint32_t was = pr->flags;
	int err;

	if (on)
		pr->flags |= MX_CFG_F_SUMMARY_BAN4;
	else
		pr->flags &= ~MX_CFG_F_SUMMARY_BAN4;
	if (pr->flags == was)
		return 0;
	err = presence_write(pr);
	if (err)
		pr->flags = was;
	return err;
}

/* summary_release - no summary kept in pr (the flag as pr->flags and config have it) */
static void summary_release(struct mx_presence *pr)
{
	if (pr->summary)
		munmap(pr->summary, SUMMARY_BYTES);
	if (pr->touch)
		munmap(pr->touch, TOUCH_BYTES);
	pr->summary = NULL;
	pr->touch = NULL;
	pr->wide = 0;
}

/* summary_kept - is fd the IPv4 ban trie whose summary the process keeps? */
static bool summary_kept(int fd)
{
	return presence && presence->on && presence->summary && presence->summary_trie == fd;
}

/*
 * summary_put - add or replace a prefix in the IPv4 ban trie, its /24s
 * counted first: the program never skips the trie for a source the
 * prefix contains. It is first added with BPF_NOEXIST, so that a
 * replaced prefix, already counted, is not counted twice.
 */
static int summary_put(struct mx_presence *pr, int fd, const uint8_t *key,
		       const struct mx_prefix *p, const void *val, uint64_t flags)
{
	bool wide = p->len < MX_BAN4_SUMMARY_MIN_LEN;
	int err;

	if (flags == BPF_EXIST)
		return mx_map_update(fd, key, val, flags);	/* present: counted */
	if (wide) {
		/* The flag off before the trie holds what the bits do not say. */
		if (!pr->wide && (err = summary_flag(pr, false)))
			return err;
		pr->wide++;
	} else {
		summary_count(pr, p);
	}
	err = mx_map_update(fd, key, val, BPF_NOEXIST);
	if (err == 0)
		return 0;
	/* Not added: present already (and counted), or failed. */
	if (!wide)
		summary_uncount(pr, p);
	else if (--pr->wide == 0)
		summary_flag(pr, true);	/* failing, it stays off: safe */
	if (err == -EEXIST && flags != BPF_NOEXIST)
		err = mx_map_update(fd, key, val, flags);
	return err;
}

/* summary_gone - a prefix left the IPv4 ban trie: uncount it, after */
static void summary_gone(struct mx_presence *pr, const struct mx_prefix *p)
{
	if (p->len >= MX_BAN4_SUMMARY_MIN_LEN)
		summary_uncount(pr, p);
	else if (pr->wide && --pr->wide == 0)
		summary_flag(pr, true);	/* failing, it stays off: safe */
}

/*
 * summary_drop_stale - clear the bits no count stands for (an earlier
 * agent's, of prefixes gone since). The rebuild only sets bits, then
 * this only clears bits of /24s no prefix touches: a program that read
 * the flag before it went off never finds a /24 with a prefix clear.
 */
static void summary_drop_stale(struct mx_presence *pr)
{
	for (uint32_t w = 0; w < MX_BAN4_SUMMARY_WORDS; w++) {
		uint64_t want = 0;

		if (!pr->summary[w])
			continue;
		for (uint32_t b = 0; b < 64; b++)
			if (pr->touch[w * 64 + b])
				want |= 1ULL << b;
		if (pr->summary[w] != want)
			__atomic_store_n(&pr->summary[w], want, __ATOMIC_SEQ_CST);
	}
}

/*
 * mx_presence_summary - the flag off, ban4_summary rebuilt from the
 * ban trie as it is (pins of an earlier agent, which may have changed
 * since), then the flag on unless a wide prefix is there
 */
int mx_presence_summary(struct mx_presence *pr, int summary_fd)
{
	uint8_t key[8], next[8];
	void *prev = NULL, *map, *touch;
	int err;

	if (!pr->on || presence != pr)
		return -EINVAL;
	if (mx_map_is_memory(summary_fd))
		return -EOPNOTSUPP;	/* a test's memory map cannot be mapped */
	summary_release(pr);
	err = summary_flag(pr, false);
	if (err)
		return err;
	map = mmap(NULL, SUMMARY_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, summary_fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	touch = mmap(NULL, TOUCH_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (touch == MAP_FAILED) {
		err = -errno;
		munmap(map, SUMMARY_BYTES);
		return err;
	}
	pr->summary = map;
	pr->touch = touch;
	pr->wide = 0;
	pr->summary_trie = pr->fd[MX_PREFIX4];	/* bans come first (mx_presence_start) */
	while ((err = mx_map_next_key(pr->summary_trie, prev, next)) == 0) {
		struct mx_prefix p;

		memcpy(key, next, sizeof(key));
		prev = key;
		mx_table_key_prefix(MX_PREFIX4, key, &p);
		if (p.len < MX_BAN4_SUMMARY_MIN_LEN)
			pr->wide++;
		else
			summary_count(pr, &p);
	}
	if (err != -ENOENT) {
		summary_release(pr);
		return err;
	}
	summary_drop_stale(pr);
	return pr->wide ? 0 : summary_flag(pr, true);
}

/*
 * mx_presence_start - bits from the maps as they are; changes through
 * mx_table_put/del keep them from now on. 0 or -errno (then no map is
 * skipped).
 */
int mx_presence_start(struct mx_presence *pr, int config_fd, const struct mx_table *bans,
		      const struct mx_table *allows, const struct mx_table *classes)
{
	const struct mx_table *t[3] = { bans, allows, classes };
	static const uint32_t bits[3][MX_TABLE_MAPS] = {
		{ MX_CFG_F_EXACT_BAN4, MX_CFG_F_EXACT_BAN6, MX_CFG_F_PFX_BAN4, MX_CFG_F_PFX_BAN6 },
		{ MX_CFG_F_EXACT_ALLOW4, MX_CFG_F_EXACT_ALLOW6, MX_CFG_F_PFX_ALLOW4,
		  MX_CFG_F_PFX_ALLOW6 },
		{ MX_CFG_F_EXACT_CLASS4, MX_CFG_F_EXACT_CLASS6, MX_CFG_F_PFX_CLASS4,
		  MX_CFG_F_PFX_CLASS6 },
	};
	uint8_t key[20];
	int err;

	if (presence)
		mx_presence_stop(presence);
	memset(pr, 0, sizeof(*pr));
	pr->config_fd = config_fd;
	pr->flags = MX_CFG_F_TABLES_KNOWN;
	for (int i = 0; i < 3; i++) {
		for (int m = 0; m < MX_TABLE_MAPS; m++) {
			int e = mx_map_next_key(t[i]->fd[m], NULL, key);

			pr->fd[i * MX_TABLE_MAPS + m] = t[i]->fd[m];
			pr->bit[i * MX_TABLE_MAPS + m] = bits[i][m];
			if (e == 0)
				pr->flags |= bits[i][m];
			else if (e != -ENOENT)
				return e;
		}
	}
	err = presence_write(pr);
	if (err)
		return err;
	pr->on = true;
	presence = pr;
	return 0;
}

/* mx_presence_stop - see tables.h */
void mx_presence_stop(struct mx_presence *pr)
{
	summary_release(pr);
	pr->on = false;
	if (presence == pr)
		presence = NULL;
}

/* mx_table_put - add or replace (flags: BPF_ANY, BPF_NOEXIST) */
int mx_table_put(const struct mx_table *t, const struct mx_prefix *p,
		 const void *val, uint64_t flags)
{
	uint8_t key[20];
	enum mx_table_map m = key_of(p, key);
	uint32_t bit = map_bit(t->fd[m]);
	int err;

	/* The bit before the entry: the program never skips a map that holds one. */
	if (bit && !(presence->flags & bit)) {
		presence->flags |= bit;
		err = presence_write(presence);
		if (err) {
			presence->flags &= ~bit;
			return err;
		}
	}
	if (summary_kept(t->fd[m]))
		err = summary_put(presence, t->fd[m], key, p, val, flags);
	else
		err = mx_map_update(t->fd[m], key, val, flags);

	/* A hash map says E2BIG when full, an LPM trie ENOSPC. */
	if (err == -ENOSPC || err == -ENOMEM)
		err = -E2BIG;
	return err;
}

/* mx_table_strerror - a message for an error from mx_table_put/del */
const char *mx_table_strerror(const struct mx_table *t, const struct mx_prefix *p,
			      int err, char *buf, size_t len)
{
	bool exact = p->len == (p->family == AF_INET ? 32 : 128);

	if (err == -E2BIG)
		snprintf(buf, len, "the %s table for %s %s is full", t->name,
			 p->family == AF_INET ? "IPv4" : "IPv6",
			 exact ? "addresses" : "prefixes");
	else if (err == -ENOENT)
		snprintf(buf, len, "no such entry");
	else
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

/* mx_table_get - the entry for exactly this prefix */
int mx_table_get(const struct mx_table *t, const struct mx_prefix *p, void *val)
{
	uint8_t key[20];
	enum mx_table_map m = key_of(p, key);

	if (m == MX_PREFIX4 || m == MX_PREFIX6) {
		/* An LPM lookup returns the longest match: check it is this one. */
		struct mx_prefix found;
		int err = mx_table_match(t, p, &found, val);

		if (err)
			return err;
		return found.len == p->len ? 0 : -ENOENT;
	}
	return mx_map_lookup(t->fd[m], key, val);
}

/* mx_table_del - remove exactly this prefix */
int mx_table_del(const struct mx_table *t, const struct mx_prefix *p)
{
	uint8_t key[20], next[20];
	enum mx_table_map m = key_of(p, key);
	uint32_t bit = map_bit(t->fd[m]);
	int err = mx_map_delete(t->fd[m], key);

	if (err == 0 && summary_kept(t->fd[m]))
		summary_gone(presence, p);

	/* A trie's last entry gone: the bit after it. A failed write leaves the bit (safe). */
	if (err == 0 && bit && (m == MX_PREFIX4 || m == MX_PREFIX6) && (presence->flags & bit) &&
	    mx_map_next_key(t->fd[m], NULL, next) == -ENOENT) {
		presence->flags &= ~bit;
		if (presence_write(presence))
			presence->flags |= bit;
	}
	return err;
}

/*
 * lpm_has - is exactly this key in the trie?
 *
 * A trie lookup returns the longest match, not which prefix matched,
 * and a hit may be inherited from a shorter prefix. The kernel's
 * get_next_key tells: for a key that is present it returns its
 * successor (or ENOENT at the end); for an absent one, the first key.
 */
static bool lpm_has(int fd, const uint8_t *key, size_t key_size)
{
	uint8_t first[20], next[20];
	int err;

	if (mx_map_next_key(fd, NULL, first))
		return false;	/* empty */
	if (memcmp(first, key, key_size) == 0)
		return true;
	err = mx_map_next_key(fd, key, next);
	if (err)
		return err == -ENOENT;
	return memcmp(next, first, key_size) != 0;
}

/*
 * mx_table_match - what the data plane finds for addr: the exact entry,
 * else the longest prefix containing addr. addr may itself be a prefix;
 * then only prefixes at most as long are candidates.
 */
int mx_table_match(const struct mx_table *t, const struct mx_prefix *addr,
		   struct mx_prefix *found, void *val)
{
	unsigned int full = addr->family == AF_INET ? 32 : 128;
	size_t key_size = 4 + full / 8;
	uint8_t key[20] = { 0 };
	int m;

	if (addr->len == full) {
		m = addr->family == AF_INET ? MX_EXACT4 : MX_EXACT6;
		memcpy(key, addr->addr, full / 8);
		if (mx_map_lookup(t->fd[m], key, val) == 0) {
			*found = *addr;
			return 0;
		}
	}
	m = addr->family == AF_INET ? MX_PREFIX4 : MX_PREFIX6;
	for (int len = addr->len; len >= 0; len--) {
		struct mx_prefix p = { .family = addr->family, .len = (uint8_t)len };
		uint8_t mask[16];

		mx_prefix_mask(addr->family, (unsigned int)len, mask);
		for (int i = 0; i < 16; i++)
			p.addr[i] = addr->addr[i] & mask[i];
		memset(key, 0, sizeof(key));
		*(uint32_t *)key = (uint32_t)len;
		memcpy(key + 4, p.addr, full / 8);
		if (lpm_has(t->fd[m], key, key_size) &&
		    mx_map_lookup(t->fd[m], key, val) == 0) {
			*found = p;
			return 0;
		}
	}
	return -ENOENT;
}

/* mx_table_key_prefix - the prefix a key of one of a table's maps stands for */
void mx_table_key_prefix(enum mx_table_map m, const void *key, struct mx_prefix *p)
{
	const uint8_t *k = key;

	memset(p, 0, sizeof(*p));
	switch (m) {
	case MX_EXACT4:
		p->family = AF_INET;
		p->len = 32;
		memcpy(p->addr, k, 4);
		break;
	case MX_EXACT6:
		p->family = AF_INET6;
		p->len = 128;
		memcpy(p->addr, k, 16);
		break;
	default:
		p->family = m == MX_PREFIX4 ? AF_INET : AF_INET6;
		p->len = (uint8_t)*(const uint32_t *)(const void *)k;
		memcpy(p->addr, k + 4, m == MX_PREFIX4 ? 4 : 16);
		break;
	}
}

/* foreach_map - walk one map of a table */
static int foreach_map(const struct mx_table *t, enum mx_table_map m,
		       mx_table_cb cb, void *arg)
{
	uint8_t key[20], next[20];
	uint8_t val[256];
	void *prev = NULL;
	int err;

	if (t->value_size > sizeof(val))
		return -EINVAL;
	while (mx_map_next_key(t->fd[m], prev, next) == 0) {
		struct mx_prefix p;

		memcpy(key, next, sizeof(key));
		prev = key;
		if (mx_map_lookup(t->fd[m], key, val))
			continue;	/* deleted meanwhile */
		mx_table_key_prefix(m, key, &p);
		err = cb(&p, val, arg);
		if (err)
			return err;
	}
	return 0;
}

/* mx_table_foreach - walk all four maps, IPv4 first */
int mx_table_foreach(const struct mx_table *t, mx_table_cb cb, void *arg)
{
	static const enum mx_table_map order[] = { MX_EXACT4, MX_PREFIX4, MX_EXACT6, MX_PREFIX6 };

	for (size_t i = 0; i < 4; i++) {
		int err = foreach_map(t, order[i], cb, arg);

		if (err)
			return err;
	}
	return 0;
}

/*
 * mx_settings_default - the documented defaults (README, "Settings")
 *
 * class 0 (default): 60 new connections/min per source with a burst of
 * 30, 600/min per /24 (IPv6 /48) with a burst of 120, 15 parallel per
 * source, 60 per prefix. class 1 (strict: no forward-confirmed PTR, SPF
 * fail): 10/min burst 5, 60/min burst 20 per prefix, 3 and 10 parallel.
 * The other classes start as copies of class 0.
 */
void mx_settings_default(struct mx_settings *s)
{
	const uint64_t min = 60000000000ULL;

	memset(s, 0, sizeof(*s));
	s->ports[0] = 25;
	s->nports = 1;
	s->src_len4 = 32;
	s->pfx_len4 = 24;
	s->src_len6 = 64;
	s->pfx_len6 = 48;
	for (int i = 0; i < MX_MAX_CLASSES; i++) {
		s->classes[i] = (struct mx_class_limits){
			.src_interval_ns = min / 60, .src_burst = 30,
			.pfx_interval_ns = min / 600, .pfx_burst = 120,
			.src_parallel = 15, .pfx_parallel = 60,
		};
	}
	s->classes[1] = (struct mx_class_limits){
		.src_interval_ns = min / 10, .src_burst = 5,
		.pfx_interval_ns = min / 60, .pfx_burst = 20,
		.src_parallel = 3, .pfx_parallel = 10,
	};
	s->bucket_entries4 = 1000000;
	s->bucket_entries6 = 1000000;
	s->exact_entries = 2097152;
	s->prefix_entries = 262144;
	s->count_entries = 262144;
	s->flow_entries = 1048576;
}

/*
 * mx_dp_write_config - masks, guarded ports, and the active flag; which
 * tries hold entries (mx_presence_start) is kept as it is in the map
 */
int mx_dp_write_config(int config_fd, const struct mx_settings *s)
{
	struct mx_config cfg;
	uint8_t mask[16];
	uint32_t zero = 0, keep = 0;

	if (mx_map_lookup(config_fd, &zero, &cfg) == 0 && (cfg.flags & MX_CFG_F_TABLES_KNOWN))
		keep = cfg.flags & (MX_CFG_F_TABLES_KNOWN | MX_CFG_F_HOLD_ALL | MX_CFG_F_SUMMARY_BAN4);
	memset(&cfg, 0, sizeof(cfg));
	mx_prefix_mask(AF_INET, s->src_len4, mask);
	memcpy(&cfg.src_mask4, mask, 4);
	mx_prefix_mask(AF_INET, s->pfx_len4, mask);
	memcpy(&cfg.pfx_mask4, mask, 4);
	mx_prefix_mask(AF_INET6, s->src_len6, cfg.src_mask6);
	mx_prefix_mask(AF_INET6, s->pfx_len6, cfg.pfx_mask6);
	for (unsigned int i = 0; i < s->nports && i < MX_MAX_PORTS; i++)
		cfg.ports[s->ports[i] / 8] |= (uint8_t)(1 << (s->ports[i] % 8));
	cfg.netns_cookie = s->netns_cookie;
	cfg.boot_offset_ms = mx_boot_offset_ms();
	cfg.flags = MX_CFG_F_ACTIVE | keep;
	if (s->over_limit_drop)
		cfg.flags |= MX_CFG_F_PARALLEL_DROP;
	if (s->ban_reply)
		cfg.flags |= MX_CFG_F_BAN_REPLY;
	return mx_map_update(config_fd, &zero, &cfg, BPF_ANY);
}

uint32_t mx_boot_offset_ms(void)
{
	struct timespec b, m;
	int64_t d;

	/* Boot time first: the difference can only come out short, never long. */
	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_MONOTONIC, &m);
	d = ((int64_t)b.tv_sec - m.tv_sec) * 1000 + ((int64_t)b.tv_nsec - m.tv_nsec) / 1000000;
	if (d <= 0)
		return 0;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

int mx_dp_clock_refresh(int config_fd)
{
	struct mx_config cfg;
	uint32_t zero = 0, ms = mx_boot_offset_ms();
	int err = mx_map_lookup(config_fd, &zero, &cfg);

	if (err)
		return err;
	if (!(cfg.flags & MX_CFG_F_ACTIVE) || cfg.boot_offset_ms == ms)
		return 0;
	cfg.boot_offset_ms = ms;
	err = mx_map_update(config_fd, &zero, &cfg, BPF_ANY);
	return err ? err : 1;
}

/* mx_dp_write_classes - every class's limits */
int mx_dp_write_classes(int class_limits_fd, const struct mx_settings *s)
{
	for (uint32_t i = 0; i < MX_MAX_CLASSES; i++) {
		int err = mx_map_update(class_limits_fd, &i, &s->classes[i], BPF_ANY);

		if (err)
			return err;
	}
	return 0;
}

/* mx_reason_text - the text of a reason id ("" for 0 or unknown) */
int mx_reason_text(int reasons_fd, uint32_t id, char *buf, size_t len)
{
	char have[MX_REASON_LEN] = { 0 };

	if (id && id < MX_MAX_REASONS && reasons_fd >= 0)
		mx_map_lookup(reasons_fd, &id, have);
	have[MX_REASON_LEN - 1] = '\0';
	snprintf(buf, len, "%s", have);
	return 0;
}

/* mx_stats_read - sum each per-CPU counter; 0 or -errno */
int mx_stats_read(int stats_fd, uint64_t sums[MX_STAT__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < MX_STAT__MAX; i++) {
		int err = mx_map_lookup(stats_fd, &i, vals);

		sums[i] = 0;
		if (err) {
			free(vals);
			return err;
		}
		for (int cpu = 0; cpu < ncpu; cpu++)
			sums[i] += vals[cpu];
	}
	free(vals);
	return 0;
}
