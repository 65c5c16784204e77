// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	bans.c - bans with owners, and the reason texts they name
 * DESCRIPTION
 *	See bans.h. The shared table is open addressing with linear
 *	probing and backward-shift deletion; it holds only prefixes that
 *	more than one owner bans, so its size follows the overlap of the
 *	owners, not the number of bans.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bans.h"
#include "mapwalk.h"
#include "maps.h"

struct mx_shared {
	struct mx_prefix p;
	bool used;
	uint32_t n, cap;
	struct mx_ban *c;
};

/* ---- prefixes as keys ---- */

static size_t addr_len(const struct mx_prefix *p)
{
	return p->family == AF_INET ? 4 : 16;
}

static bool same(const struct mx_prefix *a, const struct mx_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, addr_len(a));
}

static size_t hash_of(const struct mx_prefix *p)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)p->family << 8 ^ p->len;

	for (size_t i = 0; i < addr_len(p); i++)
		h = (h ^ p->addr[i]) * 1099511628211ULL;
	return (size_t)(h ^ h >> 31);
}

static struct mx_shared *shared_find(const struct mx_bans *b, const struct mx_prefix *p)
{
	if (!b->shared_n)
		return NULL;
	for (size_t i = hash_of(p) & (b->shared_cap - 1); b->shared[i].used;
	     i = (i + 1) & (b->shared_cap - 1))
		if (same(&b->shared[i].p, p))
			return &b->shared[i];
	return NULL;
}

static int shared_grow_to(struct mx_bans *b, size_t cap)
{
	struct mx_shared *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t j = 0; j < b->shared_cap; j++) {
		size_t i;

		if (!b->shared[j].used)
			continue;
		for (i = hash_of(&b->shared[j].p) & (cap - 1); t[i].used; i = (i + 1) & (cap - 1))
			;
		t[i] = b->shared[j];
	}
	free(b->shared);
	b->shared = t;
	b->shared_cap = cap;
	return 0;
}

static int shared_grow(struct mx_bans *b)
{
	return shared_grow_to(b, b->shared_cap ? b->shared_cap * 2 : 1024);
}

int mx_bans_reserve(struct mx_bans *b, size_t more)
{
	size_t cap = b->shared_cap ? b->shared_cap : 1024;

	while ((b->shared_n + more) * 2 > cap && cap < ((size_t)1 << 40))
		cap *= 2;
	return cap > b->shared_cap ? shared_grow_to(b, cap) : 0;
}

static struct mx_shared *shared_add(struct mx_bans *b, const struct mx_prefix *p)
{
	size_t i;

	if ((b->shared_n + 1) * 2 > b->shared_cap && shared_grow(b))
		return NULL;
	for (i = hash_of(p) & (b->shared_cap - 1); b->shared[i].used; i = (i + 1) & (b->shared_cap - 1))
		;
	memset(&b->shared[i], 0, sizeof(b->shared[i]));
	b->shared[i].used = true;
	b->shared[i].p = *p;
	b->shared_n++;
	return &b->shared[i];
}

/* shared_del - remove an entry, shifting its followers back (no tombstones) */
static void shared_del(struct mx_bans *b, struct mx_shared *s)
{
	size_t mask = b->shared_cap - 1, i = (size_t)(s - b->shared), j = i;

	free(s->c);
	b->shared[i].used = false;
	b->shared_n--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!b->shared[j].used)
			return;
		home = hash_of(&b->shared[j].p) & mask;
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			b->shared[i] = b->shared[j];
			b->shared[j].used = false;
			i = j;
		}
	}
}

/* ---- claims ---- */

static bool expired(const struct mx_ban *c, uint64_t now_ns)
{
	return c->expires_ns && c->expires_ns <= now_ns;
}

/* kind_rank - between claims as long, the one shown: manual, automatic, list */
static int kind_rank(uint32_t flags)
{
	return flags & MX_BAN_F_MANUAL ? 0 : flags & MX_BAN_F_AUTOMATIC ? 1 : 2;
}

/* longer - does claim a outlast b (a permanent one first)? */
static bool longer(const struct mx_ban *a, const struct mx_ban *b)
{
	if (!a->expires_ns != !b->expires_ns)
		return !a->expires_ns;
	if (a->expires_ns != b->expires_ns)
		return a->expires_ns > b->expires_ns;
	return kind_rank(a->flags) < kind_rank(b->flags);
}

static bool owned_by(uint32_t flags, uint32_t kinds, uint32_t list)
{
	if (!(flags & kinds & MX_BAN_KINDS))
		return false;
	return !(flags & MX_BAN_F_BLOCKLIST) || !list || MX_BAN_LIST(flags) == list;
}

/* prune - drop expired claims; the best one first */
static void prune(struct mx_shared *s, uint64_t now_ns)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->n; i++)
		if (!expired(&s->c[i], now_ns))
			s->c[n++] = s->c[i];
	s->n = n;
	for (uint32_t i = 1; i < s->n; i++) {
		if (longer(&s->c[i], &s->c[0])) {
			struct mx_ban t = s->c[0];

			s->c[0] = s->c[i];
			s->c[i] = t;
		}
	}
}

static int push(struct mx_shared *s, const struct mx_ban *c)
{
	for (uint32_t i = 0; i < s->n; i++) {
		if (MX_BAN_OWNER(s->c[i].flags) == MX_BAN_OWNER(c->flags)) {
			s->c[i] = *c;
			return 0;
		}
	}
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 4;
		struct mx_ban *nc = realloc(s->c, cap * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		s->c = nc;
		s->cap = cap;
	}
	s->c[s->n++] = *c;
	return 0;
}

/* settle - the map takes the best remaining claim; one claim needs no entry here */
static int settle(struct mx_bans *b, struct mx_shared *s)
{
	struct mx_prefix p = s->p;
	int r = 0;

	prune(s, mx_now_ns());
	if (!s->n)
		mx_table_del(b->map, &p);
	else
		r = mx_table_put(b->map, &p, &s->c[0], BPF_ANY);
	if (s->n <= 1)
		shared_del(b, s);
	return r;
}

/* current - the map's value for p, unless absent, expired or stale */
static bool current(struct mx_bans *b, const struct mx_prefix *p, struct mx_ban *cur)
{
	if (mx_table_get(b->map, p, cur))
		return false;
	if (b->restoring && cur->added_ns < b->restore_ns)
		return false;	/* an earlier agent's: the journal says what holds */
	return !expired(cur, mx_now_ns());
}

int mx_bans_claim(struct mx_bans *b, const struct mx_prefix *p, const struct mx_ban *claim)
{
	struct mx_shared *s = shared_find(b, p);
	struct mx_ban cur;

	if (claim->reason < MX_MAX_REASONS)
		b->used_pass[claim->reason] = b->pass;
	b->gen++;
	if (!s) {
		if (!current(b, p, &cur) || MX_BAN_OWNER(cur.flags) == MX_BAN_OWNER(claim->flags))
			return mx_table_put(b->map, p, claim, BPF_ANY);
		s = shared_add(b, p);
		if (!s || push(s, &cur)) {
			if (s)
				shared_del(b, s);
			return -ENOMEM;
		}
	}
	if (push(s, claim))
		return -ENOMEM;
	return settle(b, s);
}

int mx_bans_unclaim(struct mx_bans *b, const struct mx_prefix *p, uint32_t kinds, uint32_t list)
{
	struct mx_shared *s = shared_find(b, p);
	struct mx_ban cur;
	uint32_t n = 0;
	int gone;

	if (!s) {
		if (mx_table_get(b->map, p, &cur) || !owned_by(cur.flags, kinds, list))
			return 0;
		mx_table_del(b->map, p);
		b->gen++;
		return 1;
	}
	for (uint32_t i = 0; i < s->n; i++)
		if (!owned_by(s->c[i].flags, kinds, list))
			s->c[n++] = s->c[i];
	gone = (int)(s->n - n);
	s->n = n;
	if (gone) {
		settle(b, s);
		b->gen++;
	}
	return gone;
}

size_t mx_bans_claims(struct mx_bans *b, const struct mx_prefix *p, struct mx_ban *out,
		      size_t max)
{
	struct mx_shared *s = shared_find(b, p);
	size_t n = 0;

	if (!s) {
		if (max && mx_table_get(b->map, p, &out[0]) == 0)
			n = 1;
		return n;
	}
	prune(s, mx_now_ns());
	for (; n < s->n && n < max; n++)
		out[n] = s->c[n];
	return n;
}

size_t mx_bans_expand(struct mx_bans *b, const struct mx_prefix *p, const struct mx_ban *val,
		      struct mx_ban *out, size_t max)
{
	struct mx_shared *s = shared_find(b, p);
	size_t n = 0;

	if (!s) {
		if (max)
			out[n++] = *val;
		return n;
	}
	for (; n < s->n && n < max; n++)
		out[n] = s->c[n];
	return n;
}

void mx_bans_expired(struct mx_bans *b, const struct mx_prefix *p)
{
	struct mx_shared *s = shared_find(b, p);

	mx_table_del(b->map, p);
	if (s)
		shared_del(b, s);
}

/* ---- lists ---- */

bool mx_list_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > MX_LIST_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* list_new - a free id for a list of that name */
static uint32_t list_new(struct mx_bans *b, const char *name, bool pending, uint32_t tag)
{
	if (!mx_list_name_valid(name))
		return 0;
	for (uint32_t i = 1; i < MX_MAX_LISTS; i++) {
		if (!b->lists[i][0]) {
			snprintf(b->lists[i], sizeof(b->lists[i]), "%s", name);
			b->pending[i] = pending;
			b->tags[i] = tag;
			return i;
		}
	}
	return 0;
}

uint32_t mx_bans_list(struct mx_bans *b, const char *name, bool add)
{
	for (uint32_t i = 1; i < MX_MAX_LISTS; i++)
		if (!b->pending[i] && !strcmp(b->lists[i], name))
			return i;
	return add ? list_new(b, name, false, 0) : 0;
}

uint32_t mx_bans_list_pending(struct mx_bans *b, const char *name, uint32_t tag)
{
	for (uint32_t i = 1; i < MX_MAX_LISTS; i++)
		if (b->pending[i] && b->tags[i] == tag && !strcmp(b->lists[i], name))
			return i;
	return list_new(b, name, true, tag);
}

bool mx_bans_list_is_pending(const struct mx_bans *b, uint32_t id, uint32_t *tag)
{
	if (!id || id >= MX_MAX_LISTS || !b->pending[id])
		return false;
	if (tag)
		*tag = b->tags[id];
	return true;
}

const char *mx_bans_list_name(const struct mx_bans *b, uint32_t id)
{
	return id && id < MX_MAX_LISTS ? b->lists[id] : "";
}

struct drop_arg {
	struct mx_bans *b;
	uint32_t list;
	uint32_t keep;		/* a list whose claims do not count as removed */
	int map;		/* the map being walked */
	uint64_t removed;
};

/* held_by - does list hold a claim on p? */
static bool held_by(struct mx_bans *b, const struct mx_prefix *p, uint32_t list)
{
	struct mx_shared *s = shared_find(b, p);
	struct mx_ban cur;

	if (s) {
		for (uint32_t i = 0; i < s->n; i++)
			if ((s->c[i].flags & MX_BAN_F_BLOCKLIST) && MX_BAN_LIST(s->c[i].flags) == list)
				return true;
		return false;
	}
	return mx_table_get(b->map, p, &cur) == 0 && (cur.flags & MX_BAN_F_BLOCKLIST) &&
	       MX_BAN_LIST(cur.flags) == list;
}

static int drop_one(const struct mx_prefix *p, const struct mx_ban *c, void *arg)
{
	struct drop_arg *d = arg;

	if (!(c->flags & MX_BAN_F_BLOCKLIST) || MX_BAN_LIST(c->flags) != d->list)
		return 0;
	if (mx_bans_unclaim(d->b, p, MX_BAN_F_BLOCKLIST, d->list) &&
	    !(d->keep && held_by(d->b, p, d->keep)))
		d->removed++;
	return 0;
}

struct mx_walk_state {
	struct mx_walk w;
};

/* drop_entry - a map entry's claims of the list go (mx_walk callback) */
static int drop_entry(const void *key, const void *val, void *arg)
{
	struct drop_arg *d = arg;
	struct mx_prefix p;
	struct mx_ban c[16];
	size_t n;

	mx_table_key_prefix((enum mx_table_map)d->map, key, &p);
	n = mx_bans_expand(d->b, &p, val, c, 16);
	for (size_t i = 0; i < n; i++)
		drop_one(&p, &c[i], d);
	return 0;
}

int mx_bans_drop_begin(struct mx_bans *b, struct mx_bans_drop *d, uint32_t list, uint32_t keep)
{
	memset(d, 0, sizeof(*d));
	if (!list || list >= MX_MAX_LISTS || !b->lists[list][0])
		return -ENOENT;
	d->list = list;
	d->keep = keep;
	d->w = calloc(1, sizeof(*d->w));
	return d->w ? 0 : -ENOMEM;
}

/*
 * Entries of a map between looks at the clock: an entry the list shares
 * with another owner costs tens of microseconds (its claims rewritten),
 * so a replace of a list by one over the same prefixes stays in its slice.
 */
#define DROP_SLICE	128

int mx_bans_drop_step(struct mx_bans *b, struct mx_bans_drop *d, uint64_t deadline_us)
{
	struct drop_arg da = { .b = b, .list = d->list, .keep = d->keep };

	while (d->map < MX_TABLE_MAPS) {
		int r = 0;

		if (mx_mono_us() >= deadline_us)
			return 1;
		da.map = d->map;
		if (!d->w->w.key_size)
			r = mx_walk_init(&d->w->w, b->map->fd[d->map], 0, sizeof(struct mx_ban));
		if (!r)
			r = mx_walk_step(&d->w->w, DROP_SLICE, drop_entry, &da);
		d->removed += da.removed;
		da.removed = 0;
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		mx_walk_free(&d->w->w);
		memset(&d->w->w, 0, sizeof(d->w->w));
		d->map++;
	}
	b->lists[d->list][0] = '\0';
	b->pending[d->list] = false;
	return 0;
}

void mx_bans_drop_free(struct mx_bans_drop *d)
{
	if (d->w)
		mx_walk_free(&d->w->w);
	free(d->w);
	d->w = NULL;
}

/* list_drop - the claims of a list go; those keep also holds are not counted */
static int list_drop(struct mx_bans *b, uint32_t list, uint32_t keep, uint64_t *removed)
{
	struct mx_bans_drop d;
	int r = mx_bans_drop_begin(b, &d, list, keep);

	while (r == 0 && (r = mx_bans_drop_step(b, &d, UINT64_MAX)) > 0)
		;
	if (removed)
		*removed = d.removed;
	mx_bans_drop_free(&d);
	return r;
}

int mx_bans_list_drop(struct mx_bans *b, uint32_t list, uint64_t *removed)
{
	return list_drop(b, list, 0, removed);
}

uint32_t mx_bans_commit_target(struct mx_bans *b, uint32_t pending)
{
	if (!pending || pending >= MX_MAX_LISTS || !b->pending[pending])
		return 0;
	return mx_bans_list(b, b->lists[pending], false);
}

void mx_bans_commit_end(struct mx_bans *b, uint32_t pending)
{
	if (pending && pending < MX_MAX_LISTS)
		b->pending[pending] = false;
}

int mx_bans_list_commit(struct mx_bans *b, uint32_t pending, uint64_t *removed)
{
	uint32_t old;
	int r = 0;

	if (!pending || pending >= MX_MAX_LISTS || !b->pending[pending])
		return -ENOENT;
	old = mx_bans_commit_target(b, pending);
	if (removed)
		*removed = 0;
	if (old)
		r = list_drop(b, old, pending, removed);
	if (!r)
		mx_bans_commit_end(b, pending);
	return r;
}

/* ---- reasons ---- */

uint32_t mx_bans_reason(struct mx_bans *b, const char *text)
{
	char want[MX_REASON_LEN] = { 0 };
	uint32_t free_id = 0;

	if (!text || !*text)
		return 0;
	snprintf(want, sizeof(want), "%s", text);
	for (uint32_t i = 1; i < MX_MAX_REASONS; i++) {
		if (!b->texts[i][0]) {
			if (!free_id)
				free_id = i;
		} else if (!strcmp(b->texts[i], want)) {
			b->used_pass[i] = b->pass;
			return i;
		}
	}
	if (free_id && mx_map_update(b->reasons_fd, &free_id, want, BPF_ANY) == 0) {
		memcpy(b->texts[free_id], want, sizeof(want));
		b->used_pass[free_id] = b->pass;
		return free_id;
	}
	/* Every id in use: the ban still holds, with the generic reason. */
	if (!b->reason_fallbacks++)
		fprintf(stderr, "mxguardd: all %d reason texts are in use; bans get the generic "
			"reason until some are freed (counted as reason_fallbacks)\n",
			MX_MAX_REASONS - 1);
	return 0;
}

const char *mx_bans_reason_text(const struct mx_bans *b, uint32_t id)
{
	return id && id < MX_MAX_REASONS ? b->texts[id] : "";
}

void mx_bans_gc_begin(struct mx_bans *b)
{
	b->pass++;
	memset(b->referenced, 0, sizeof(b->referenced));
}

void mx_bans_gc_mark(struct mx_bans *b, uint32_t reason)
{
	if (reason < MX_MAX_REASONS)
		b->referenced[reason] = true;
}

unsigned int mx_bans_gc_end(struct mx_bans *b)
{
	char zero[MX_REASON_LEN] = { 0 };
	unsigned int freed = 0;

	/* Claims behind shared prefixes name reasons the map does not show. */
	for (size_t i = 0; i < b->shared_cap; i++)
		for (uint32_t j = 0; b->shared[i].used && j < b->shared[i].n; j++)
			mx_bans_gc_mark(b, b->shared[i].c[j].reason);
	for (uint32_t id = 1; id < MX_MAX_REASONS; id++) {
		if (!b->texts[id][0] || b->referenced[id] || b->used_pass[id] == b->pass)
			continue;
		if (mx_map_update(b->reasons_fd, &id, zero, BPF_ANY) == 0) {
			b->texts[id][0] = '\0';
			freed++;
		}
	}
	b->reasons_freed += freed;
	return freed;
}

/* ---- the rest ---- */

struct stale_arg {
	struct mx_bans *b;
	enum mx_table_map m;
	uint64_t removed;
};

static int stale_one(const void *key, const void *val, void *arg)
{
	struct stale_arg *sa = arg;
	const struct mx_ban *v = val;

	if (v->added_ns < sa->b->restore_ns &&
	    mx_map_delete(sa->b->map->fd[sa->m], key) == 0) {
		sa->removed++;
		sa->b->gen++;
	}
	return 0;
}

void mx_bans_restore_done(struct mx_bans *b)
{
	struct stale_arg sa = { .b = b };

	/* A load the agent did not live to commit: the list stays as it was. */
	for (uint32_t i = 1; i < MX_MAX_LISTS; i++)
		if (b->pending[i])
			mx_bans_list_drop(b, i, NULL);
	/* What an earlier agent left in the maps that the journal does not hold. */
	for (sa.m = 0; sa.m < MX_TABLE_MAPS; sa.m++) {
		struct mx_walk w;
		int r = mx_walk_init(&w, b->map->fd[sa.m], 0, sizeof(struct mx_ban));

		while (r == 0)
			r = mx_walk_step(&w, 4096, stale_one, &sa);
		mx_walk_free(&w);
	}
	b->restoring = false;
}

const char *mx_bans_owner_text(const struct mx_bans *b, uint32_t flags, char *buf, size_t len)
{
	if (flags & MX_BAN_F_MANUAL)
		snprintf(buf, len, "manual");
	else if (flags & MX_BAN_F_AUTOMATIC)
		snprintf(buf, len, "automatic");
	else if ((flags & MX_BAN_F_BLOCKLIST) &&
		 !strcmp(mx_bans_list_name(b, MX_BAN_LIST(flags)), "crowdsec"))
		snprintf(buf, len, "crowdsec");	/* CrowdSec's Local API (crowdsec.h) */
	else if (flags & MX_BAN_F_BLOCKLIST)
		snprintf(buf, len, "blocklist %s", mx_bans_list_name(b, MX_BAN_LIST(flags)));
	else
		snprintf(buf, len, "unknown");
	return buf;
}

int mx_bans_init(struct mx_bans *b, const struct mx_table *map, int reasons_fd)
{
	memset(b, 0, sizeof(*b));
	b->map = map;
	b->reasons_fd = reasons_fd;
	b->lists = calloc(MX_MAX_LISTS, sizeof(*b->lists));
	b->pending = calloc(MX_MAX_LISTS, sizeof(*b->pending));
	b->tags = calloc(MX_MAX_LISTS, sizeof(*b->tags));
	b->texts = calloc(MX_MAX_REASONS, sizeof(*b->texts));
	if (!b->lists || !b->pending || !b->tags || !b->texts) {
		mx_bans_free(b);
		return -ENOMEM;
	}
	/* Texts an earlier agent left in a pinned map. */
	for (uint32_t i = 1; i < MX_MAX_REASONS; i++) {
		if (mx_map_lookup(reasons_fd, &i, b->texts[i]))
			b->texts[i][0] = '\0';
		b->texts[i][MX_REASON_LEN - 1] = '\0';
	}
	return 0;
}

void mx_bans_free(struct mx_bans *b)
{
	for (size_t i = 0; i < b->shared_cap; i++)
		if (b->shared[i].used)
			free(b->shared[i].c);
	free(b->shared);
	free(b->lists);
	free(b->pending);
	free(b->tags);
	free(b->texts);
	b->shared = NULL;
	b->lists = NULL;
	b->pending = NULL;
	b->tags = NULL;
	b->texts = NULL;
	b->shared_n = b->shared_cap = 0;
}
