// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	maps.c - map access for userspace: libbpf's calls, or maps in memory
 * DESCRIPTION
 *	See maps.h. A memory map keeps its entries in slots: a slot's key,
 *	its value and whether it is used. Hash maps find a key through an
 *	open-addressing index (linear probing, backward-shift deletion) and
 *	walk in slot order; an LRU hash also links its slots from the most
 *	to the least recently updated; an LPM trie keeps its slots sorted in
 *	the kernel's walk order and binary-searches them; an array is its
 *	slots. A deleted slot is reused by a later insertion, so a walk that
 *	deletes behind itself never sees a key move.
 *
 *	All memory maps share one lock (they are for tests; the kernel's
 *	maps are safe to use from several threads, so these are too).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"

#define NO_SLOT UINT32_MAX

struct mem_map {
	int fd;
	dev_t dev;			/* of the memfd behind fd: is fd still ours? */
	ino_t ino;
	uint32_t type, key_size, value_size, max_entries, map_flags;
	uint32_t vsize;			/* a value as userspace reads and writes it */
	uint32_t cap;			/* slots allocated */
	uint32_t top;			/* slots ever used: [0, top) */
	uint32_t n;			/* entries */
	uint32_t lo;			/* no slot below lo is used */
	uint8_t *keys, *vals, *used;
	uint32_t *free_slots, nfree;	/* deleted slots, to reuse */
	uint32_t *index, index_cap;	/* hash: slot + 1, 0 for none */
	uint32_t *prev, *next;		/* LRU: head most, tail least recently updated */
	uint32_t head, tail;
	uint32_t *order;		/* LPM: n slots in the kernel's walk order */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mem_map **reg;		/* by fd number */
static size_t reg_cap;
static size_t reg_n;			/* read without the lock: 0 in the agent */

/* ---- the registry ---- */

/* mem_free - a memory map's memory */
static void mem_free(struct mem_map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	free(m->free_slots);
	free(m->index);
	free(m->prev);
	free(m->next);
	free(m->order);
	free(m);
}

/* mem_get - the memory map behind fd, with the lock held; NULL: a BPF map */
static struct mem_map *mem_get(int fd)
{
	struct mem_map *m;
	struct stat st;

	if (!__atomic_load_n(&reg_n, __ATOMIC_ACQUIRE) || fd < 0)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	m = (size_t)fd < reg_cap ? reg[fd] : NULL;
	if (m && (fstat(fd, &st) || st.st_dev != m->dev || st.st_ino != m->ino)) {
		/* Closed with close(), and the number reused: not ours any more. */
		reg[fd] = NULL;
		__atomic_store_n(&reg_n, reg_n - 1, __ATOMIC_RELEASE);
		mem_free(m);
		m = NULL;
	}
	if (!m)
		pthread_mutex_unlock(&reg_lock);
	return m;
}

/* mem_put - done with a map from mem_get(); err as errno too */
static int mem_put(int err)
{
	pthread_mutex_unlock(&reg_lock);
	if (err < 0)
		errno = -err;
	return err;
}

/* reg_add - register m under its fd */
static int reg_add(struct mem_map *m)
{
	pthread_mutex_lock(&reg_lock);
	if ((size_t)m->fd >= reg_cap) {
		size_t cap = (size_t)m->fd + 64;
		struct mem_map **r = realloc(reg, cap * sizeof(*r));

		if (!r) {
			pthread_mutex_unlock(&reg_lock);
			return -ENOMEM;
		}
		memset(r + reg_cap, 0, (cap - reg_cap) * sizeof(*r));
		reg = r;
		reg_cap = cap;
	}
	if (reg[m->fd])
		mem_free(reg[m->fd]);	/* a stale entry: the fd was closed and reused */
	else
		__atomic_store_n(&reg_n, reg_n + 1, __ATOMIC_RELEASE);
	reg[m->fd] = m;
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

/* ---- slots ---- */

/* key_at - the key of slot s */
static uint8_t *key_at(const struct mem_map *m, uint32_t s)
{
	return m->keys + (size_t)s * m->key_size;
}

/* val_at - the value of slot s */
static uint8_t *val_at(const struct mem_map *m, uint32_t s)
{
	return m->vals + (size_t)s * m->vsize;
}

/* is_hash - a hash map, plain or LRU */
static bool is_hash(const struct mem_map *m)
{
	return m->type == BPF_MAP_TYPE_HASH || m->type == BPF_MAP_TYPE_LRU_HASH;
}

/* first_used - the first used slot at or after s, or NO_SLOT */
static uint32_t first_used(struct mem_map *m, uint32_t s)
{
	if (s <= m->lo) {
		while (m->lo < m->top && !m->used[m->lo])
			m->lo++;
		s = m->lo;
	}
	while (s < m->top && !m->used[s])
		s++;
	return s < m->top ? s : NO_SLOT;
}

/* hash_of - FNV-1a over a key */
static uint32_t hash_of(const struct mem_map *m, const void *key)
{
	const uint8_t *k = key;
	uint32_t h = 2166136261U;

	for (uint32_t i = 0; i < m->key_size; i++)
		h = (h ^ k[i]) * 16777619U;
	return h ^ h >> 15;
}

/* index_pos - where key is in the index, or the empty place it would go */
static uint32_t index_pos(const struct mem_map *m, const void *key)
{
	uint32_t mask = m->index_cap - 1, i = hash_of(m, key) & mask;

	while (m->index[i] && memcmp(key_at(m, m->index[i] - 1), key, m->key_size))
		i = (i + 1) & mask;
	return i;
}

/* index_rebuild - an index for cap slots */
static int index_rebuild(struct mem_map *m, uint32_t cap)
{
	uint32_t want = 16;

	while (want < 2 * (uint64_t)cap)
		want *= 2;
	free(m->index);
	m->index = calloc(want, sizeof(*m->index));
	if (!m->index)
		return -ENOMEM;
	m->index_cap = want;
	for (uint32_t s = 0; s < m->top; s++)
		if (m->used[s])
			m->index[index_pos(m, key_at(m, s))] = s + 1;
	return 0;
}

/* index_remove - take the index entry at i out (backward shift) */
static void index_remove(struct mem_map *m, uint32_t i)
{
	uint32_t mask = m->index_cap - 1, j = i;

	for (;;) {
		j = (j + 1) & mask;
		if (!m->index[j])
			break;
		uint32_t home = hash_of(m, key_at(m, m->index[j] - 1)) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->index[i] = m->index[j];
			i = j;
		}
	}
	m->index[i] = 0;
}

/* grow_array - *p resized from old to cap elements of size, the new ones zero */
static int grow_array(void *p, uint32_t old, uint32_t cap, size_t size)
{
	uint8_t *q = realloc(*(void **)p, (size_t)cap * size);

	if (!q)
		return -ENOMEM;
	memset(q + (size_t)old * size, 0, (size_t)(cap - old) * size);
	*(void **)p = q;
	return 0;
}

/* grow - room for more slots, up to max_entries */
static int grow(struct mem_map *m)
{
	uint64_t want = (uint64_t)m->cap * 2;
	uint32_t cap;

	if (want < 16)
		want = 16;
	cap = want < m->max_entries ? (uint32_t)want : m->max_entries;
	if (cap <= m->cap)
		return -ENOMEM;
	if (grow_array(&m->keys, m->cap, cap, m->key_size) ||
	    grow_array(&m->vals, m->cap, cap, m->vsize) ||
	    grow_array(&m->used, m->cap, cap, 1) ||
	    grow_array(&m->free_slots, m->cap, cap, sizeof(uint32_t)))
		return -ENOMEM;
	if (m->type == BPF_MAP_TYPE_LRU_HASH &&
	    (grow_array(&m->prev, m->cap, cap, sizeof(uint32_t)) ||
	     grow_array(&m->next, m->cap, cap, sizeof(uint32_t))))
		return -ENOMEM;
	if (m->type == BPF_MAP_TYPE_LPM_TRIE &&
	    grow_array(&m->order, m->cap, cap, sizeof(uint32_t)))
		return -ENOMEM;
	if (is_hash(m) && index_rebuild(m, cap))
		return -ENOMEM;
	m->cap = cap;
	return 0;
}

/* slot_new - a free slot for a new entry, or NO_SLOT (out of memory) */
static uint32_t slot_new(struct mem_map *m)
{
	uint32_t s;

	if (m->nfree)
		s = m->free_slots[--m->nfree];
	else if (m->top < m->cap || grow(m) == 0)
		s = m->top++;
	else
		return NO_SLOT;
	m->used[s] = 1;
	if (s < m->lo)
		m->lo = s;
	m->n++;
	return s;
}

/* slot_free - a slot's entry is gone */
static void slot_free(struct mem_map *m, uint32_t s)
{
	m->used[s] = 0;
	m->free_slots[m->nfree++] = s;
	m->n--;
}

/* ---- LRU ---- */

/* lru_unlink - take slot s out of the recency list */
static void lru_unlink(struct mem_map *m, uint32_t s)
{
	if (m->prev[s] != NO_SLOT)
		m->next[m->prev[s]] = m->next[s];
	else
		m->head = m->next[s];
	if (m->next[s] != NO_SLOT)
		m->prev[m->next[s]] = m->prev[s];
	else
		m->tail = m->prev[s];
}

/* lru_push - slot s is the most recently updated */
static void lru_push(struct mem_map *m, uint32_t s)
{
	m->prev[s] = NO_SLOT;
	m->next[s] = m->head;
	if (m->head != NO_SLOT)
		m->prev[m->head] = s;
	m->head = s;
	if (m->tail == NO_SLOT)
		m->tail = s;
}

/* ---- LPM tries ---- */

/* lpm_len - a key's prefixlen */
static uint32_t lpm_len(const void *key)
{
	uint32_t len;

	memcpy(&len, key, 4);
	return len;
}

/*
 * lpm_cmp - the kernel's walk order: prefixes that part at some bit
 * within both go by that bit (0 first); of two where one contains the
 * other, the longer goes first (the trie is walked in post-order).
 * Bits beyond a prefix's length are never looked at.
 */
static int lpm_cmp(const void *ka, const void *kb)
{
	const uint8_t *a = (const uint8_t *)ka + 4, *b = (const uint8_t *)kb + 4;
	uint32_t la = lpm_len(ka), lb = lpm_len(kb), l = la < lb ? la : lb;

	for (uint32_t i = 0; i * 8 < l; i++) {
		uint8_t x = a[i] ^ b[i];
		uint32_t bits = l - i * 8;

		if (bits < 8)
			x &= (uint8_t)(0xff << (8 - bits));
		if (x) {
			uint8_t top = 0x80;

			while (!(x & top))
				top >>= 1;
			return a[i] & top ? 1 : -1;
		}
	}
	return la == lb ? 0 : la > lb ? -1 : 1;
}

/* lpm_pos - the first place in the order not before key; *found if equal */
static uint32_t lpm_pos(const struct mem_map *m, const void *key, bool *found)
{
	uint32_t lo = 0, hi = m->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (lpm_cmp(key_at(m, m->order[mid]), key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < m->n && lpm_cmp(key_at(m, m->order[lo]), key) == 0;
	return lo;
}

/* lpm_max - the longest prefix the trie's keys hold */
static uint32_t lpm_max(const struct mem_map *m)
{
	return (m->key_size - 4) * 8;
}

/* ---- the operations on memory maps ---- */

/* find - the slot of exactly key, or NO_SLOT */
static uint32_t find(const struct mem_map *m, const void *key)
{
	bool found;
	uint32_t i;

	switch (m->type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		i = index_pos(m, key);
		return m->index[i] ? m->index[i] - 1 : NO_SLOT;
	case BPF_MAP_TYPE_LPM_TRIE:
		if (lpm_len(key) > lpm_max(m))
			return NO_SLOT;
		i = lpm_pos(m, key, &found);
		return found ? m->order[i] : NO_SLOT;
	default:
		memcpy(&i, key, 4);
		return i < m->max_entries ? i : NO_SLOT;
	}
}

/* mem_lookup - exact for hash maps and arrays, longest prefix for tries */
static int mem_lookup(struct mem_map *m, const void *key, void *val)
{
	uint32_t s = NO_SLOT;

	if (m->type == BPF_MAP_TYPE_LPM_TRIE) {
		uint8_t probe[4 + 256];
		uint32_t len = lpm_len(key);

		if (len > lpm_max(m))
			return -ENOENT;	/* as the kernel: no match beyond the trie's length */
		memcpy(probe, key, m->key_size);
		for (int l = (int)len; l >= 0 && s == NO_SLOT; l--) {
			uint32_t pl = (uint32_t)l;

			memcpy(probe, &pl, 4);
			s = find(m, probe);
		}
	} else {
		s = find(m, key);
	}
	if (s == NO_SLOT)
		return -ENOENT;
	memcpy(val, val_at(m, s), m->vsize);
	return 0;
}

/* mem_update - as the kernel: flags, then room, then the write */
static int mem_update(struct mem_map *m, const void *key, const void *val, uint64_t flags)
{
	uint32_t s;

	if (flags > BPF_EXIST)
		return -EINVAL;	/* BPF_F_LOCK too: no memory map has a spin lock */
	if (m->type == BPF_MAP_TYPE_ARRAY || m->type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		memcpy(&s, key, 4);
		if (s >= m->max_entries)
			return -E2BIG;
		if (flags == BPF_NOEXIST)
			return -EEXIST;
		memcpy(val_at(m, s), val, m->vsize);
		return 0;
	}
	if (m->type == BPF_MAP_TYPE_LPM_TRIE && lpm_len(key) > lpm_max(m))
		return -EINVAL;
	s = find(m, key);
	if (s != NO_SLOT && flags == BPF_NOEXIST)
		return -EEXIST;
	if (s == NO_SLOT && flags == BPF_EXIST)
		return -ENOENT;
	if (s == NO_SLOT && m->n == m->max_entries) {
		if (m->type == BPF_MAP_TYPE_HASH)
			return -E2BIG;
		if (m->type == BPF_MAP_TYPE_LPM_TRIE)
			return -ENOSPC;
		/* LRU: the least recently updated goes. */
		uint32_t old = m->tail;

		lru_unlink(m, old);
		index_remove(m, index_pos(m, key_at(m, old)));
		slot_free(m, old);
	}
	if (s == NO_SLOT) {
		bool found;
		uint32_t i = is_hash(m) ? 0 : lpm_pos(m, key, &found);

		s = slot_new(m);
		if (s == NO_SLOT)
			return -ENOMEM;
		memcpy(key_at(m, s), key, m->key_size);
		if (is_hash(m)) {
			m->index[index_pos(m, key)] = s + 1;
		} else {
			/* n counts the new slot already; the order does not have it yet. */
			memmove(m->order + i + 1, m->order + i, (size_t)(m->n - 1 - i) * sizeof(*m->order));
			m->order[i] = s;
		}
	} else {
		memcpy(key_at(m, s), key, m->key_size);	/* a trie keeps the bits it was given */
		if (m->type == BPF_MAP_TYPE_LRU_HASH)
			lru_unlink(m, s);
	}
	if (m->type == BPF_MAP_TYPE_LRU_HASH)
		lru_push(m, s);
	memcpy(val_at(m, s), val, m->vsize);
	return 0;
}

/* mem_delete - exactly key */
static int mem_delete(struct mem_map *m, const void *key)
{
	uint32_t s;

	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return -EINVAL;
	case BPF_MAP_TYPE_LPM_TRIE: {
		bool found;
		uint32_t i;

		if (lpm_len(key) > lpm_max(m))
			return -EINVAL;
		i = lpm_pos(m, key, &found);
		if (!found)
			return -ENOENT;
		s = m->order[i];
		memmove(m->order + i, m->order + i + 1, (size_t)(m->n - 1 - i) * sizeof(*m->order));
		break;
	}
	default: {
		uint32_t i = index_pos(m, key);

		if (!m->index[i])
			return -ENOENT;
		s = m->index[i] - 1;
		index_remove(m, i);
		if (m->type == BPF_MAP_TYPE_LRU_HASH)
			lru_unlink(m, s);
		break;
	}
	}
	slot_free(m, s);
	return 0;
}

/* mem_next_key - the key after key; the first for NULL or an absent key */
static int mem_next_key(struct mem_map *m, const void *key, void *next)
{
	uint32_t s, i = 0;

	switch (m->type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		i = UINT32_MAX;
		if (key)
			memcpy(&i, key, 4);
		if (i >= m->max_entries)
			i = 0;
		else if (i == m->max_entries - 1)
			return -ENOENT;
		else
			i++;
		memcpy(next, &i, 4);
		return 0;
	case BPF_MAP_TYPE_LPM_TRIE: {
		bool found = false;

		if (key && lpm_len(key) <= lpm_max(m))
			i = lpm_pos(m, key, &found);
		i = found ? i + 1 : 0;
		if (i >= m->n)
			return -ENOENT;
		s = m->order[i];
		break;
	}
	default:
		s = key ? find(m, key) : NO_SLOT;
		s = first_used(m, s == NO_SLOT ? 0 : s + 1);
		if (s == NO_SLOT)
			return -ENOENT;
		break;
	}
	memcpy(next, key_at(m, s), m->key_size);
	return 0;
}

/* mem_lookup_batch - hash maps: from slot *in_batch on, up to *count entries */
static int mem_lookup_batch(struct mem_map *m, const void *in_batch, void *out_batch,
			    void *keys, void *vals, uint32_t *count)
{
	uint32_t s = 0, total = 0;

	if (!is_hash(m))
		return -EOPNOTSUPP;
	if (in_batch)
		memcpy(&s, in_batch, 4);
	while (total < *count && (s = first_used(m, s)) != NO_SLOT) {
		memcpy((uint8_t *)keys + (size_t)total * m->key_size, key_at(m, s), m->key_size);
		memcpy((uint8_t *)vals + (size_t)total * m->vsize, val_at(m, s), m->vsize);
		total++;
		s++;
	}
	*count = total;
	if (s == NO_SLOT || first_used(m, s) == NO_SLOT)
		return -ENOENT;
	memcpy(out_batch, &s, 4);
	return 0;
}

/* ---- the interface ---- */

/* mx_map_lookup - the value of key */
int mx_map_lookup(int fd, const void *key, void *val)
{
	struct mem_map *m = mem_get(fd);

	if (!m)
		return bpf_map_lookup_elem(fd, key, val);
	return mem_put(mem_lookup(m, key, val));
}

/* mx_map_update - add or replace, as flags allow */
int mx_map_update(int fd, const void *key, const void *val, uint64_t flags)
{
	struct mem_map *m = mem_get(fd);

	if (!m)
		return bpf_map_update_elem(fd, key, val, flags);
	return mem_put(mem_update(m, key, val, flags));
}

/* mx_map_delete - remove exactly key */
int mx_map_delete(int fd, const void *key)
{
	struct mem_map *m = mem_get(fd);

	if (!m)
		return bpf_map_delete_elem(fd, key);
	return mem_put(mem_delete(m, key));
}

/* mx_map_next_key - the key after key (NULL: the first) */
int mx_map_next_key(int fd, const void *key, void *next)
{
	struct mem_map *m = mem_get(fd);

	if (!m)
		return bpf_map_get_next_key(fd, key, next);
	return mem_put(mem_next_key(m, key, next));
}

/* mx_map_lookup_batch - see maps.h */
int mx_map_lookup_batch(int fd, const void *in_batch, void *out_batch, void *keys,
			void *vals, uint32_t *count)
{
	struct mem_map *m = mem_get(fd);

	if (!m)
		return bpf_map_lookup_batch(fd, (void *)in_batch, out_batch, keys, vals, count, NULL);
	return mem_put(mem_lookup_batch(m, in_batch, out_batch, keys, vals, count));
}

/* mx_map_info - a map's type and sizes */
int mx_map_info(int fd, struct mx_map_info *info)
{
	struct mem_map *m = mem_get(fd);
	struct bpf_map_info bi;
	uint32_t len = sizeof(bi);

	memset(info, 0, sizeof(*info));
	if (m) {
		info->type = m->type;
		info->key_size = m->key_size;
		info->value_size = m->value_size;
		info->max_entries = m->max_entries;
		info->map_flags = m->map_flags;
		info->memory = true;
		return mem_put(0);
	}
	memset(&bi, 0, sizeof(bi));
	if (bpf_obj_get_info_by_fd(fd, &bi, &len))
		return -errno;
	info->type = bi.type;
	info->key_size = bi.key_size;
	info->value_size = bi.value_size;
	info->max_entries = bi.max_entries;
	info->map_flags = bi.map_flags;
	return 0;
}

/* mx_map_is_memory - is fd a memory map? */
bool mx_map_is_memory(int fd)
{
	struct mem_map *m = mem_get(fd);

	if (!m)
		return false;
	mem_put(0);
	return true;
}

/* check_def - the kernel's checks of a map definition that apply here */
static int check_def(enum bpf_map_type type, uint32_t key_size, uint32_t value_size,
		     uint32_t max_entries, uint32_t map_flags)
{
	if (!key_size || !value_size || !max_entries || key_size > 512)
		return -EINVAL;
	switch (type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
		return 0;
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return key_size == 4 ? 0 : -EINVAL;
	case BPF_MAP_TYPE_LPM_TRIE:
		if (key_size <= 4 || key_size > 4 + 256 || !(map_flags & BPF_F_NO_PREALLOC))
			return -EINVAL;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* mx_map_mem_create - a map in memory behind an fd of its own */
int mx_map_mem_create(const char *name, enum bpf_map_type type, uint32_t key_size,
		      uint32_t value_size, uint32_t max_entries, uint32_t map_flags)
{
	struct mem_map *m;
	struct stat st;
	char label[64];
	int err = check_def(type, key_size, value_size, max_entries, map_flags);

	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->type = type;
	m->key_size = key_size;
	m->value_size = value_size;
	m->max_entries = max_entries;
	m->map_flags = map_flags;
	m->vsize = value_size;
	m->head = m->tail = NO_SLOT;
	if (type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		int ncpu = libbpf_num_possible_cpus();

		if (ncpu <= 0) {
			free(m);
			return ncpu < 0 ? ncpu : -EINVAL;
		}
		m->vsize = ((value_size + 7) & ~7U) * (uint32_t)ncpu;
	}
	if (type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		/* Every index exists, zeroed. */
		m->vals = calloc(max_entries, m->vsize);
		if (!m->vals) {
			free(m);
			return -ENOMEM;
		}
		m->cap = m->top = m->n = max_entries;
	} else if (grow(m)) {
		mem_free(m);
		return -ENOMEM;
	}
	snprintf(label, sizeof(label), "mx-map:%s", name ? name : "");
	m->fd = memfd_create(label, MFD_CLOEXEC);
	if (m->fd < 0 || fstat(m->fd, &st)) {
		err = -errno;
		if (m->fd >= 0)
			close(m->fd);
		mem_free(m);
		return err;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	err = reg_add(m);
	if (err) {
		close(m->fd);
		mem_free(m);
		return err;
	}
	return m->fd;
}

/* mx_map_mem_like - a memory map as an opened BPF object defines m */
int mx_map_mem_like(const struct bpf_map *m, uint32_t max_entries)
{
	return mx_map_mem_create(bpf_map__name(m), bpf_map__type(m), bpf_map__key_size(m),
				 bpf_map__value_size(m),
				 max_entries ? max_entries : bpf_map__max_entries(m),
				 bpf_map__map_flags(m));
}

/* mx_map_close - close a map of either kind */
void mx_map_close(int fd)
{
	struct mem_map *m = mem_get(fd);

	if (m) {
		reg[fd] = NULL;
		__atomic_store_n(&reg_n, reg_n - 1, __ATOMIC_RELEASE);
		mem_free(m);
		mem_put(0);
	}
	if (fd >= 0)
		close(fd);
}
