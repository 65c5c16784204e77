// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	verdict.c - the verdict engine: trap hits, repeat offenders, listing
 * DESCRIPTION
 *	See verdict.h. A sender's hits of one kind are a ring of the last
 *	threshold + 1 hit times, so "more than N in the window" is exact:
 *	it holds when N + 1 of the kept times fall in the window. Memory per
 *	sender is bounded by the thresholds, whatever the hit rate.
 *
 *	Escalation, with the defaults: the first automatic ban lasts
 *	trap_ban (24 h); a ban that begins within repeat_window (30 days)
 *	of the end of the last one is a repeat and lasts repeat_ban (7
 *	days); the permanent_after-th (3rd) ban of such a row is permanent.
 *	A ban that begins later than that starts a new row at 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "verdict.h"

void mx_verdict_settings_default(struct mx_verdict_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->trap_hits[MX_TRAP_SPAM] = 50;
	s->trap_hits[MX_TRAP_BACKSCATTER] = 20;
	for (int k = 0; k < MX_TRAP_KINDS; k++) {
		s->trap_window[k] = 24 * 3600;
		s->trap_ban[k] = 24 * 3600;
	}
	s->repeat_window = 30 * 86400;
	s->repeat_ban = 7 * 86400;
	s->permanent_after = 3;
	s->listed_ttl = 7 * 86400;
	s->max_senders = 262144;
	s->one_message_sessions = 10;
	s->one_message_window = 600;
}

static const char *const kind_names[MX_TRAP_KINDS] = { "spam", "backscatter" };

const char *mx_trap_kind_name(enum mx_trap_kind k)
{
	return k < MX_TRAP_KINDS ? kind_names[k] : "?";
}

int mx_trap_kind_parse(const char *s, enum mx_trap_kind *k)
{
	for (int i = 0; i < MX_TRAP_KINDS; i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum mx_trap_kind)i;
			return 0;
		}
	}
	return -1;
}

void mx_verdict_key(const struct mx_prefix *addr, uint8_t len4, uint8_t len6,
		    struct mx_prefix *key)
{
	uint8_t mask[16];
	uint8_t len;

	mx_prefix_unmap(addr, key);
	len = key->family == AF_INET ? len4 : len6;
	if (key->len > len)
		key->len = len;
	mx_prefix_mask(key->family, key->len, mask);
	for (int i = 0; i < 16; i++)
		key->addr[i] &= mask[i];
	if (key->family == AF_INET)
		memset(key->addr + 4, 0, 12);
}

/* hash_n - keyed, so that chosen addresses do not share a chain */
static uint32_t hash_n(const struct mx_verdict *v, const struct mx_prefix *p, uint32_t nbuckets)
{
	uint64_t h = v->seed ^ ((uint64_t)p->family << 8 | p->len);
	uint64_t w[2];

	memcpy(w, p->addr, 16);
	for (int i = 0; i < 2; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
		h *= 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 29;
	}
	return (uint32_t)h & (nbuckets - 1);
}

static uint32_t hash(const struct mx_verdict *v, const struct mx_prefix *p)
{
	return hash_n(v, p, v->nbuckets);
}

static bool same(const struct mx_prefix *a, const struct mx_prefix *b)
{
	return a->family == b->family && a->len == b->len && memcmp(a->addr, b->addr, 16) == 0;
}

static uint32_t buckets_for(uint32_t max)
{
	uint32_t n = 1024;

	while (n < max / 2 && n < (1U << 30))
		n <<= 1;
	return n;
}

/* rehash - move every entry into a table of n buckets */
static int rehash(struct mx_verdict *v, uint32_t n)
{
	struct mx_sender **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return -ENOMEM;
	for (uint32_t i = 0; i < v->nbuckets; i++) {
		struct mx_sender *e = v->buckets[i], *next;

		for (; e; e = next) {
			uint32_t h = hash_n(v, &e->src, n);

			next = e->hnext;
			e->hnext = nb[h];
			nb[h] = e;
		}
	}
	free(v->buckets);
	v->buckets = nb;
	v->nbuckets = n;
	return 0;
}

/* unlink_idle / link_newest - the idle order */
static void unlink_idle(struct mx_verdict *v, struct mx_sender *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		v->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		v->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void link_newest(struct mx_verdict *v, struct mx_sender *e)
{
	e->older = v->newest;
	e->newer = NULL;
	if (v->newest)
		v->newest->newer = e;
	v->newest = e;
	if (!v->oldest)
		v->oldest = e;
}

static void free_sender(struct mx_sender *e)
{
	for (int k = 0; k < MX_TRAP_KINDS; k++)
		free(e->ring[k]);
	free(e->msgs.t);
	free(e->single.t);
	free(e);
}

/*
 * ring_push - add a time; with limit times kept, the oldest falls out.
 * The ring grows by doubling up to limit (most senders send little), and
 * a smaller limit (a reload, another class) keeps the newest.
 */
static int ring_push(struct mx_ring *r, uint32_t limit, int64_t t)
{
	if (!limit)
		return 0;
	if (r->size != limit && (r->n == r->size || r->size > limit)) {
		uint32_t size = r->size > limit ? limit : r->size ? r->size * 2 : 4;
		uint32_t keep = r->n < size ? r->n : size;
		int64_t *nt;

		if (size > limit)
			size = limit;
		keep = r->n < size ? r->n : size;
		nt = malloc(size * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		for (uint32_t i = 0; i < keep; i++)
			nt[i] = r->t[(r->head + r->n - keep + i) % r->size];
		free(r->t);
		r->t = nt;
		r->size = size;
		r->n = keep;
		r->head = 0;
	}
	if (r->n == r->size) {
		r->t[r->head] = t;
		r->head = (r->head + 1) % r->size;
	} else {
		r->t[(r->head + r->n) % r->size] = t;
		r->n++;
	}
	return 0;
}

/* ring_since - how many of the ring's times are after from */
static uint32_t ring_since(const struct mx_ring *r, int64_t from)
{
	uint32_t n = 0;

	/* Times only grow: count back from the newest. */
	for (uint32_t i = r->n; i-- > 0 && r->t[(r->head + i) % r->size] > from;)
		n++;
	return n;
}

/* ring_clear - no times; the memory goes */
static void ring_clear(struct mx_ring *r)
{
	free(r->t);
	memset(r, 0, sizeof(*r));
}

/* drop - remove an entry from the table */
static void drop(struct mx_verdict *v, struct mx_sender *e)
{
	struct mx_sender **pp = &v->buckets[hash(v, &e->src)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	unlink_idle(v, e);
	v->count--;
	free_sender(e);
}

/* evict - drop a sender for room, telling the owner first */
static void evict(struct mx_verdict *v, struct mx_sender *e)
{
	if (v->evicted_cb)
		v->evicted_cb(e, v->evicted_arg);
	if (e->listed_since)
		v->listed_evicted++;	/* its listing ends with it (the DNSBL zone) */
	drop(v, e);
	v->evicted++;
}

int mx_verdict_init(struct mx_verdict *v, const struct mx_verdict_settings *s)
{
	memset(v, 0, sizeof(*v));
	v->s = *s;
	if (getrandom(&v->seed, sizeof(v->seed), GRND_NONBLOCK) != sizeof(v->seed))
		v->seed = (uint64_t)(uintptr_t)v ^ 0x9e3779b97f4a7c15ULL;
	v->nbuckets = buckets_for(s->max_senders);
	v->buckets = calloc(v->nbuckets, sizeof(*v->buckets));
	return v->buckets ? 0 : -ENOMEM;
}

void mx_verdict_free(struct mx_verdict *v)
{
	while (v->oldest)
		drop(v, v->oldest);
	free(v->buckets);
	v->buckets = NULL;
}

/* resize_ring - keep the newest of a ring's times in cap slots */
static int resize_ring(struct mx_sender *e, int k, uint32_t cap)
{
	int64_t *r;
	uint32_t keep;

	if (!e->ring[k] || e->cap[k] == cap)
		return 0;
	r = malloc(cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	keep = e->n[k] < cap ? e->n[k] : cap;
	for (uint32_t i = 0; i < keep; i++)
		r[i] = e->ring[k][(e->head[k] + e->n[k] - keep + i) % e->cap[k]];
	free(e->ring[k]);
	e->ring[k] = r;
	e->cap[k] = cap;
	e->n[k] = keep;
	e->head[k] = 0;
	return 0;
}

int mx_verdict_configure(struct mx_verdict *v, const struct mx_verdict_settings *s)
{
	int err = 0;

	v->s = *s;
	for (struct mx_sender *e = v->newest; e; e = e->older)
		for (int k = 0; k < MX_TRAP_KINDS; k++)
			if (resize_ring(e, k, s->trap_hits[k] + 1))
				err = -ENOMEM;
	while (v->count > s->max_senders && v->oldest)
		evict(v, v->oldest);
	if (v->nbuckets < buckets_for(s->max_senders) && rehash(v, buckets_for(s->max_senders)))
		err = -ENOMEM;
	return err;
}

struct mx_sender *mx_verdict_find(struct mx_verdict *v, const struct mx_prefix *src)
{
	struct mx_sender *e;

	if (!v->buckets)
		return NULL;	/* never initialised: knows nothing */
	e = v->buckets[hash(v, src)];

	while (e && !same(&e->src, src))
		e = e->hnext;
	return e;
}

/* get - the sender's entry, made if new; the newest in idle order */
static struct mx_sender *get(struct mx_verdict *v, const struct mx_prefix *src, int64_t now_s)
{
	struct mx_sender *e = mx_verdict_find(v, src);
	uint32_t h;

	if (e) {
		unlink_idle(v, e);
	} else {
		if (!v->s.max_senders || !v->buckets)
			return NULL;
		if (v->count >= v->s.max_senders && v->oldest)
			evict(v, v->oldest);
		e = calloc(1, sizeof(*e));
		if (!e)
			return NULL;
		e->src = *src;
		h = hash(v, src);
		e->hnext = v->buckets[h];
		v->buckets[h] = e;
		v->count++;
	}
	link_newest(v, e);
	if (now_s > e->touched)
		e->touched = now_s;
	return e;
}

/* push - count hits at when, the oldest time falling out when full */
static int push(struct mx_verdict *v, struct mx_sender *e, int k, int64_t when,
		uint32_t count)
{
	uint32_t cap = v->s.trap_hits[k] + 1;

	if (!e->ring[k]) {
		e->ring[k] = malloc(cap * sizeof(int64_t));
		if (!e->ring[k])
			return -ENOMEM;
		e->cap[k] = cap;
	}
	e->total_hits[k] += count;
	if (when > v->latest_s)
		v->latest_s = when;
	if (count > e->cap[k])
		count = e->cap[k];
	while (count--) {
		if (e->n[k] == e->cap[k]) {
			e->ring[k][e->head[k]] = when;
			e->head[k] = (e->head[k] + 1) % e->cap[k];
		} else {
			e->ring[k][(e->head[k] + e->n[k]) % e->cap[k]] = when;
			e->n[k]++;
		}
	}
	return 0;
}

uint32_t mx_sender_hits(const struct mx_verdict *v, const struct mx_sender *e,
			enum mx_trap_kind kind, int64_t now_s)
{
	int64_t from = now_s - v->s.trap_window[kind];
	uint32_t n = 0;

	for (uint32_t i = 0; i < e->n[kind]; i++)
		n += e->ring[kind][(e->head[kind] + i) % e->cap[kind]] > from;
	return n;
}

int mx_verdict_trap(struct mx_verdict *v, const struct mx_prefix *src, enum mx_trap_kind kind,
		    uint32_t count, int64_t now_s, struct mx_decision *d)
{
	struct mx_sender *e;
	uint32_t hits;
	bool repeat;

	if (kind >= MX_TRAP_KINDS || !count)
		return 0;
	e = get(v, src, now_s);
	if (!e || push(v, e, kind, mx_verdict_stamp(v, now_s), count))
		return -ENOMEM;
	v->hits[kind] += count;
	hits = mx_sender_hits(v, e, kind, now_s);
	if (hits <= v->s.trap_hits[kind] || e->ban_until > now_s)
		return 0;

	/* A repeat: this ban begins soon after the last one ended. */
	repeat = e->last_ban && e->ban_until != MX_FOREVER &&
		 now_s - e->ban_until <= v->s.repeat_window;
	*d = (struct mx_decision){ .kind = kind, .hits = hits,
				   .offense = repeat ? e->offenses + 1 : 1 };
	if (v->s.permanent_after && d->offense >= v->s.permanent_after)
		d->until = MX_FOREVER;
	else if (d->offense > 1)
		d->until = now_s + (v->s.repeat_ban > v->s.trap_ban[kind] ?
				  v->s.repeat_ban : v->s.trap_ban[kind]);
	else
		d->until = now_s + v->s.trap_ban[kind];
	return 1;
}

void mx_verdict_banned(struct mx_verdict *v, const struct mx_prefix *src,
		       const struct mx_decision *d, int64_t now_s)
{
	struct mx_sender *e = get(v, src, now_s);

	if (!e)
		return;
	e->offenses = d->offense;
	e->last_ban = now_s;
	e->ban_until = d->until;
	for (int k = 0; k < MX_TRAP_KINDS; k++)
		e->n[k] = e->head[k] = 0;	/* the ban answered these hits */
	v->bans++;
}

void mx_verdict_unbanned(struct mx_verdict *v, const struct mx_prefix *src, int64_t now_s)
{
	struct mx_sender *e = mx_verdict_find(v, src);

	if (e && e->ban_until > now_s)
		e->ban_until = now_s;
}

int mx_verdict_mail(struct mx_verdict *v, const struct mx_prefix *src, bool spam, int64_t now_s)
{
	struct mx_sender *e;
	bool was = mx_verdict_listed(v, src, now_s);

	if (!spam) {
		e = mx_verdict_find(v, src);
		if (e) {
			e->listed_since = e->listed_until = 0;
			e->delist_wall_s = 0;
		}
		if (was)
			v->delisted++;
		return was;
	}
	e = get(v, src, now_s);
	if (!e)
		return -ENOMEM;
	e->spam_mails++;
	if (!was)
		e->listed_since = now_s;
	/* Each spam mail starts the time to delisting afresh, and cancels a scheduled one. */
	e->listed_until = v->s.listed_ttl ? now_s + v->s.listed_ttl : MX_FOREVER;
	e->delist_wall_s = 0;
	if (!was)
		v->listed++;
	return !was;
}

int mx_verdict_sample(struct mx_verdict *v, const struct mx_prefix *src, int64_t delist_wall_s,
		      int64_t now_s)
{
	struct mx_sender *e = mx_verdict_find(v, src);

	if (!e || !mx_sender_listed(v, e, now_s))
		return 0;
	e->samples++;
	/* The first clean sample sets the day; more of them change nothing. */
	if (!e->delist_wall_s) {
		e->delist_wall_s = delist_wall_s;
		v->delist_scheduled++;
	}
	return 1;
}

bool mx_sender_listed(const struct mx_verdict *v, const struct mx_sender *e, int64_t now_s)
{
	if (!e->listed_since || e->listed_until <= now_s)
		return false;
	return !e->delist_wall_s || now_s + v->wall_minus_boot_s < e->delist_wall_s;
}

bool mx_sender_delisting(const struct mx_verdict *v, const struct mx_sender *e, int64_t now_s)
{
	return e->delist_wall_s && mx_sender_listed(v, e, now_s);
}

bool mx_verdict_listed(struct mx_verdict *v, const struct mx_prefix *src, int64_t now_s)
{
	struct mx_sender *e = mx_verdict_find(v, src);

	return e && mx_sender_listed(v, e, now_s);
}

int mx_verdict_message(struct mx_verdict *v, const struct mx_prefix *src, uint32_t limit,
		       int64_t window_ms, int64_t now_ms, int64_t now_s)
{
	struct mx_sender *e = get(v, src, now_s);

	if (!e)
		return -ENOMEM;
	if (limit && ring_since(&e->msgs, now_ms - window_ms) >= limit)
		return 0;
	if (ring_push(&e->msgs, limit, now_ms))
		return -ENOMEM;
	e->messages++;
	return 1;
}

uint32_t mx_sender_messages(const struct mx_sender *e, int64_t window_ms, int64_t now_ms)
{
	return ring_since(&e->msgs, now_ms - window_ms);
}

uint32_t mx_sender_single(const struct mx_verdict *v, const struct mx_sender *e, int64_t now_s)
{
	return ring_since(&e->single, now_s - v->s.one_message_window);
}

int mx_verdict_session(struct mx_verdict *v, const struct mx_prefix *src, uint32_t messages,
		       int64_t now_s)
{
	struct mx_sender *e;

	if (!messages || !v->s.one_message_sessions || !v->s.one_message_window)
		return 0;
	if (messages > 1) {
		/* Several messages in one session: no habit of one per connection. */
		e = mx_verdict_find(v, src);
		if (e)
			ring_clear(&e->single);
		return 0;
	}
	now_s = mx_verdict_stamp(v, now_s);
	e = get(v, src, now_s);
	if (!e || ring_push(&e->single, v->s.one_message_sessions, now_s))
		return -ENOMEM;
	if (now_s > v->latest_s)
		v->latest_s = now_s;
	return mx_sender_single(v, e, now_s) >= v->s.one_message_sessions;
}

int mx_verdict_auto_class(struct mx_verdict *v, const struct mx_prefix *src, uint32_t class_id,
			  uint32_t reasons, int64_t until, int64_t now_s)
{
	struct mx_sender *e = class_id ? get(v, src, now_s) : mx_verdict_find(v, src);

	if (!e)
		return class_id ? -ENOMEM : 0;
	e->auto_class = class_id;
	e->auto_reasons = class_id ? reasons : 0;
	e->auto_class_until = class_id ? until : 0;
	return 0;
}

int64_t mx_verdict_stamp(const struct mx_verdict *v, int64_t now_s)
{
	return now_s > v->cut_s ? now_s : v->cut_s + 1;
}

int mx_verdict_forget(struct mx_verdict *v, const struct mx_prefix *src)
{
	struct mx_sender *e = mx_verdict_find(v, src);

	if (!e)
		return 0;
	drop(v, e);
	return 1;
}

int mx_verdict_restore_hits(struct mx_verdict *v, const struct mx_prefix *src,
			    enum mx_trap_kind kind, int64_t when, uint32_t count)
{
	struct mx_sender *e;

	if (kind >= MX_TRAP_KINDS)
		return -EINVAL;
	e = get(v, src, when);
	if (!e || push(v, e, kind, when, count))
		return -ENOMEM;
	return 0;
}

int mx_verdict_restore_ban(struct mx_verdict *v, const struct mx_prefix *src,
			   uint32_t offenses, int64_t last_ban, int64_t until)
{
	struct mx_sender *e = get(v, src, last_ban);

	if (!e)
		return -ENOMEM;
	e->offenses = offenses;
	e->last_ban = last_ban;
	e->ban_until = until;
	for (int k = 0; k < MX_TRAP_KINDS; k++)
		e->n[k] = e->head[k] = 0;
	return 0;
}

int mx_verdict_restore_listed(struct mx_verdict *v, const struct mx_prefix *src,
			      int64_t since, int64_t until)
{
	struct mx_sender *e;

	if (!since) {
		e = mx_verdict_find(v, src);
		if (e)
			e->listed_since = e->listed_until = e->delist_wall_s = 0;
		return 0;
	}
	e = get(v, src, since);
	if (!e)
		return -ENOMEM;
	e->listed_since = since;
	e->listed_until = until;
	e->delist_wall_s = 0;
	return 0;
}

int mx_verdict_restore_delist(struct mx_verdict *v, const struct mx_prefix *src,
			      int64_t delist_wall_s)
{
	struct mx_sender *e = mx_verdict_find(v, src);

	if (e && e->listed_since)
		e->delist_wall_s = delist_wall_s;
	return 0;
}

int mx_verdict_restore_session(struct mx_verdict *v, const struct mx_prefix *src,
			       uint32_t messages, int64_t when)
{
	return mx_verdict_session(v, src, messages, when) < 0 ? -ENOMEM : 0;
}

/* matters - does anything of this entry still count at now? */
static bool matters(const struct mx_verdict *v, const struct mx_sender *e, int64_t now_s)
{
	for (int k = 0; k < MX_TRAP_KINDS; k++)
		if (mx_sender_hits(v, e, k, now_s))
			return true;
	if (mx_sender_listed(v, e, now_s))
		return true;
	if (mx_sender_single(v, e, now_s))
		return true;
	if (e->msgs.n && e->msgs.t[(e->msgs.head + e->msgs.n - 1) % e->msgs.size] >
	    (now_s - 60) * 1000)
		return true;	/* sent in the last minute (message times are in ms) */
	if (e->auto_class)
		return true;	/* its map entry goes first (senders.c), then the sender */
	if (!e->last_ban)
		return false;
	return e->ban_until == MX_FOREVER || e->ban_until > now_s - v->s.repeat_window;
}

unsigned int mx_verdict_expire(struct mx_verdict *v, int64_t now_s, unsigned int budget)
{
	unsigned int dropped = 0;

	for (unsigned int i = 0; v->buckets && i < budget && i < v->nbuckets; i++) {
		struct mx_sender *e, *next;

		v->sweep_at = (v->sweep_at + 1) & (v->nbuckets - 1);
		for (e = v->buckets[v->sweep_at]; e; e = next) {
			next = e->hnext;
			if (!matters(v, e, now_s)) {
				drop(v, e);
				dropped++;
			}
		}
	}
	return dropped;
}

int mx_verdict_foreach(const struct mx_verdict *v, mx_sender_cb cb, void *arg)
{
	for (const struct mx_sender *e = v->newest; e; e = e->older) {
		int r = cb(e, arg);

		if (r)
			return r;
	}
	return 0;
}

int mx_verdict_walk(const struct mx_verdict *v, uint32_t *cursor, uint32_t budget,
		    mx_sender_cb cb, void *arg)
{
	for (uint32_t n = 0; *cursor < v->nbuckets; n++) {
		if (n == budget)
			return 0;
		for (const struct mx_sender *e = v->buckets[*cursor]; e; e = e->hnext) {
			int r = cb(e, arg);

			if (r)
				return r;
		}
		++*cursor;
	}
	return 1;
}
