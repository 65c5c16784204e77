// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_maps.c - memory maps do what the kernel's maps do (maps.h)
 * DESCRIPTION
 *	Each test makes twins: a real BPF map (needs root) and a memory map
 *	with the same definition, most of them the XDP program's own
 *	(opened from its skeleton, never loaded), and runs the same
 *	operations on both through maps.h, comparing every result: error
 *	codes, values, and the order get_next_key walks in where the kernel
 *	fixes one (LPM tries, arrays). What the agent relies on: exact and
 *	longest-prefix matches, the errors of full tables (E2BIG, ENOSPC),
 *	LRU eviction that never refuses an update, the flags BPF_NOEXIST
 *	and BPF_EXIST, per-CPU values, and walks (batch and get_next_key)
 *	that delete as they go. The kernel's LRU is approximate, so for LRU
 *	only what both promise is compared; the memory map's exact eviction
 *	is checked on its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent_maps.h"
#include "mapwalk.h"
#include "maps.h"
#include "tables.h"

enum { KERNEL, MEMORY, TWINS };

struct twin {
	int fd[TWINS];
	uint32_t key_size, value_size, vsize;	/* vsize: a value as userspace sees it */
	uint32_t type;
};

/* twin_create - a BPF map and a memory map with one definition */
static void twin_create(struct twin *t, const char *name, enum bpf_map_type type,
			uint32_t key_size, uint32_t value_size, uint32_t entries, uint32_t flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);

	t->fd[KERNEL] = bpf_map_create(type, name, key_size, value_size, entries, &o);
	if (t->fd[KERNEL] < 0)
		fail_msg("bpf_map_create %s: %s", name, strerror(errno));
	t->fd[MEMORY] = mx_map_mem_create(name, type, key_size, value_size, entries, flags);
	assert_true(t->fd[MEMORY] >= 0);
	assert_true(mx_map_is_memory(t->fd[MEMORY]));
	assert_false(mx_map_is_memory(t->fd[KERNEL]));
	t->type = type;
	t->key_size = key_size;
	t->value_size = value_size;
	t->vsize = value_size;
	if (type == BPF_MAP_TYPE_PERCPU_ARRAY)
		t->vsize = ((value_size + 7) & ~7U) * (uint32_t)libbpf_num_possible_cpus();
}

/* twin_like - twins of the XDP program's map name, with entries (0: as defined) */
static void twin_like(struct twin *t, const char *name, uint32_t entries)
{
	struct mxguard_bpf *obj = agent_object();
	struct bpf_map *m;

	assert_non_null(obj);
	m = bpf_object__find_map_by_name(obj->obj, name);
	assert_non_null(m);
	twin_create(t, name, bpf_map__type(m), bpf_map__key_size(m), bpf_map__value_size(m),
		    entries ? entries : bpf_map__max_entries(m), bpf_map__map_flags(m));
	mxguard_bpf__destroy(obj);
}

/* twin_close - close both */
static void twin_close(struct twin *t)
{
	mx_map_close(t->fd[KERNEL]);
	mx_map_close(t->fd[MEMORY]);
}

/* tw_update - the same update on both; both must answer the same */
static int tw_update(struct twin *t, const void *key, const void *val, uint64_t flags)
{
	int k = mx_map_update(t->fd[KERNEL], key, val, flags);
	int m = mx_map_update(t->fd[MEMORY], key, val, flags);

	if (k != m)
		fail_msg("update (flags %llu): kernel %d, memory %d", (unsigned long long)flags, k, m);
	return k;
}

/* tw_lookup - the same lookup on both: same answer, same value */
static int tw_lookup(struct twin *t, const void *key)
{
	static uint8_t vk[16384], vm[16384];
	int k, m;

	assert_true(t->vsize <= sizeof(vk));
	memset(vk, 0xa5, sizeof(vk));
	memset(vm, 0x5a, sizeof(vm));
	k = mx_map_lookup(t->fd[KERNEL], key, vk);
	m = mx_map_lookup(t->fd[MEMORY], key, vm);
	if (k != m) {
		char hex[2 * 64 + 1] = "";

		for (uint32_t i = 0; i < t->key_size && i < 64; i++)
			snprintf(hex + 2 * i, 3, "%02x", ((const uint8_t *)key)[i]);
		fail_msg("lookup of %s: kernel %d, memory %d", hex, k, m);
	}
	if (k == 0)
		assert_memory_equal(vk, vm, t->vsize);
	return k;
}

/* tw_delete - the same delete on both; both must answer the same */
static int tw_delete(struct twin *t, const void *key)
{
	int k = mx_map_delete(t->fd[KERNEL], key);
	int m = mx_map_delete(t->fd[MEMORY], key);

	if (k != m)
		fail_msg("delete: kernel %d, memory %d", k, m);
	return k;
}

/* keys_of - every key get_next_key gives from NULL, in order; their number */
static uint32_t keys_of(int fd, uint32_t key_size, uint8_t *keys, uint32_t max)
{
	uint32_t n = 0;

	while (n < max && mx_map_next_key(fd, n ? keys + (size_t)(n - 1) * key_size : NULL,
					  keys + (size_t)n * key_size) == 0)
		n++;
	assert_true(n < max);	/* a walk ends */
	return n;
}

/* key_cmp - for sorting keys of one size (qsort_r) */
static int key_cmp(const void *a, const void *b, void *size)
{
	return memcmp(a, b, *(uint32_t *)size);
}

/* tw_walks - both walks give the same keys: in the same order if ordered */
static uint32_t tw_walks(struct twin *t, bool ordered)
{
	uint32_t max = 70000, nk, nm;
	uint8_t *k = calloc(max, t->key_size), *m = calloc(max, t->key_size);

	nk = keys_of(t->fd[KERNEL], t->key_size, k, max);
	nm = keys_of(t->fd[MEMORY], t->key_size, m, max);
	assert_int_equal(nk, nm);
	if (!ordered) {
		qsort_r(k, nk, t->key_size, key_cmp, &t->key_size);
		qsort_r(m, nm, t->key_size, key_cmp, &t->key_size);
	}
	assert_memory_equal(k, m, (size_t)nk * t->key_size);
	free(k);
	free(m);
	return nk;
}

/* tw_next_absent - get_next_key from a key not in the map: each map's first key */
static void tw_next_absent(struct twin *t, const void *absent)
{
	uint8_t first[64], next[64];

	for (int i = 0; i < TWINS; i++) {
		int r = mx_map_next_key(t->fd[i], NULL, first);

		assert_int_equal(mx_map_next_key(t->fd[i], absent, next), r);
		if (r == 0)
			assert_memory_equal(first, next, t->key_size);
	}
}

/* lpm4 - an IPv4 LPM key: a.b.c.d/len */
static struct mx_lpm4_key lpm4(uint32_t host_order_addr, uint32_t len)
{
	return (struct mx_lpm4_key){ .prefixlen = len, .addr = htonl(host_order_addr) };
}

/* value - a value of the twin's size that says n */
static void *value(struct twin *t, uint32_t n)
{
	static uint8_t v[16384];

	assert_true(t->vsize <= sizeof(v));
	memset(v, 0, sizeof(v));
	for (uint32_t i = 0; i < t->vsize; i += 4)
		memcpy(v + i, &n, t->vsize - i < 4 ? t->vsize - i : 4);
	v[0] = (uint8_t)(n * 7 + 1);
	return v;
}

/* lcg - a reproducible sequence */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525U + 1013904223U;
	return *s >> 8;
}

/* Hash maps, prealloc'd and not: the flags, and a full map's E2BIG. */
static void test_hash_flags_and_full(void **state)
{
	static const char *const defs[] = { "ban4", "conn_count4", "ban6" };

	for (size_t d = 0; d < sizeof(defs) / sizeof(defs[0]); d++) {
		struct twin t;
		uint8_t key[16] = { 198, 18, 0, 1 }, absent[16] = { 203, 0, 113, 9 };
		const uint32_t n = 8;

		twin_like(&t, defs[d], n);
		assert_int_equal(tw_lookup(&t, key), -ENOENT);
		assert_int_equal(tw_delete(&t, key), -ENOENT);
		assert_int_equal(tw_update(&t, key, value(&t, 1), BPF_EXIST), -ENOENT);
		assert_int_equal(tw_update(&t, key, value(&t, 1), BPF_NOEXIST), 0);
		assert_int_equal(tw_update(&t, key, value(&t, 2), BPF_NOEXIST), -EEXIST);
		assert_int_equal(tw_lookup(&t, key), 0);
		assert_int_equal(tw_update(&t, key, value(&t, 3), BPF_EXIST), 0);
		assert_int_equal(tw_lookup(&t, key), 0);
		assert_int_equal(tw_update(&t, key, value(&t, 4), BPF_EXIST + 1), -EINVAL);
		assert_int_equal(tw_update(&t, key, value(&t, 4), BPF_F_LOCK), -EINVAL);
		/* Full: a new key is refused with E2BIG; replacing one still works. */
		for (uint32_t i = 2; i <= n; i++) {
			key[3] = (uint8_t)i;
			assert_int_equal(tw_update(&t, key, value(&t, i), BPF_ANY), 0);
		}
		key[3] = 200;
		assert_int_equal(tw_update(&t, key, value(&t, 9), BPF_ANY), -E2BIG);
		assert_int_equal(tw_update(&t, key, value(&t, 9), BPF_NOEXIST), -E2BIG);
		assert_int_equal(tw_update(&t, key, value(&t, 9), BPF_EXIST), -ENOENT);
		key[3] = 3;
		assert_int_equal(tw_update(&t, key, value(&t, 33), BPF_ANY), 0);
		assert_int_equal(tw_update(&t, key, value(&t, 34), BPF_EXIST), 0);
		assert_int_equal(tw_lookup(&t, key), 0);
		assert_int_equal(tw_walks(&t, false), n);
		/* Room again after a delete. */
		assert_int_equal(tw_delete(&t, key), 0);
		assert_int_equal(tw_lookup(&t, key), -ENOENT);
		key[3] = 200;
		assert_int_equal(tw_update(&t, key, value(&t, 9), BPF_NOEXIST), 0);
		assert_int_equal(tw_walks(&t, false), n);
		tw_next_absent(&t, absent);
		twin_close(&t);
	}
}

/* get_next_key: NULL and an absent key start the walk; the last key ends it. */
static void test_hash_next_key(void **state)
{
	struct twin t;
	uint32_t key, last, next;

	twin_like(&t, "ban4", 64);
	for (int i = 0; i < TWINS; i++)
		assert_int_equal(mx_map_next_key(t.fd[i], NULL, &next), -ENOENT);
	for (uint32_t i = 0; i < 50; i++) {
		key = htonl(0xc6120000U + i * 977);
		assert_int_equal(tw_update(&t, &key, value(&t, i), BPF_NOEXIST), 0);
	}
	assert_int_equal(tw_walks(&t, false), 50);
	key = htonl(0xcb007101);
	tw_next_absent(&t, &key);
	for (int i = 0; i < TWINS; i++) {
		/* The walk is stable: twice the same. */
		uint8_t a[64 * 4], b[64 * 4];

		assert_int_equal(keys_of(t.fd[i], 4, a, 64), 50);
		assert_int_equal(keys_of(t.fd[i], 4, b, 64), 50);
		assert_memory_equal(a, b, sizeof(uint32_t) * 50);
		memcpy(&last, a + 49 * 4, 4);
		assert_int_equal(mx_map_next_key(t.fd[i], &last, &next), -ENOENT);
	}
	twin_close(&t);
}

/* tw_lpm_lookups - every address of a list, at every prefixlen up to max + 1 */
static void tw_lpm_lookups(struct twin *t, const uint32_t *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (uint32_t len = 0; len <= 33; len++) {
			struct mx_lpm4_key k = lpm4(addrs[i], len);

			tw_lookup(t, &k);
		}
}

/* The longest prefix, bounded by the key's prefixlen; exact update and delete. */
static void test_lpm_longest_prefix(void **state)
{
	static const struct { uint32_t addr, len; } pfx[] = {
		{ 0xc6120000, 15 }, { 0xc6120000, 16 }, { 0xc6120700, 24 }, { 0xc6120780, 25 },
		{ 0xc6130000, 16 }, { 0x0a000000, 8 }, { 0xc6120781, 32 }, { 0, 0 },
	};
	static const uint32_t addrs[] = {
		0xc6120001, 0xc6120705, 0xc6120781, 0xc6120790, 0xc61207ff, 0xc6130102,
		0xc6140000, 0x0a010203, 0x0b000001, 0xffffffff, 0,
	};
	struct twin t;
	struct mx_lpm4_key k;

	twin_like(&t, "ban4_prefix", 64);
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		k = lpm4(pfx[i].addr, pfx[i].len);
		assert_int_equal(tw_update(&t, &k, value(&t, (uint32_t)i + 1), BPF_NOEXIST), 0);
	}
	tw_lpm_lookups(&t, addrs, sizeof(addrs) / sizeof(addrs[0]));
	/* The kernel's walk order, exactly: the more specific first. */
	assert_int_equal(tw_walks(&t, true), sizeof(pfx) / sizeof(pfx[0]));

	/* Exact: host bits beyond the length are not part of the key. */
	k = lpm4(0xc6120705, 24);
	assert_int_equal(tw_update(&t, &k, value(&t, 50), BPF_NOEXIST), -EEXIST);
	k = lpm4(0xc6120700, 23);
	assert_int_equal(tw_delete(&t, &k), -ENOENT);
	assert_int_equal(tw_update(&t, &k, value(&t, 51), BPF_EXIST), -ENOENT);
	k = lpm4(0xc6120700, 33);
	assert_int_equal(tw_update(&t, &k, value(&t, 52), BPF_ANY), -EINVAL);
	assert_int_equal(tw_delete(&t, &k), -EINVAL);
	tw_next_absent(&t, &k);
	k = lpm4(0xc6120700, 24);
	assert_int_equal(tw_delete(&t, &k), 0);
	assert_int_equal(tw_delete(&t, &k), -ENOENT);
	k = lpm4(0, 0);
	assert_int_equal(tw_update(&t, &k, value(&t, 53), BPF_EXIST), 0);
	tw_lpm_lookups(&t, addrs, sizeof(addrs) / sizeof(addrs[0]));
	assert_int_equal(tw_walks(&t, true), sizeof(pfx) / sizeof(pfx[0]) - 1);
	k = lpm4(0xc6120600, 24);
	tw_next_absent(&t, &k);
	twin_close(&t);
}

/* Many random prefixes, some deleted: the same matches and the same walk. */
static void test_lpm_random(void **state)
{
	const uint32_t n = 3000;
	uint32_t seed = 12345, *addrs = calloc(n, sizeof(*addrs));
	struct twin t;

	twin_like(&t, "ban4_prefix", n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = 8 + lcg(&seed) % 25, addr = 0xc6000000U | (lcg(&seed) & 0x00ffffffU);
		struct mx_lpm4_key k = lpm4(addr & (len ? ~0U << (32 - len) : 0), len);

		addrs[i] = addr ^ (lcg(&seed) & 0xff);
		tw_update(&t, &k, value(&t, i), BPF_ANY);	/* the same answer, whatever it is */
		if (lcg(&seed) % 4 == 0)
			tw_delete(&t, &k);
	}
	tw_walks(&t, true);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t len = 16; len <= 32; len += 8) {
			struct mx_lpm4_key k = lpm4(addrs[i], len);

			tw_lookup(&t, &k);
		}
	/* IPv6: the same, 128 bits. */
	twin_close(&t);
	twin_like(&t, "ban6_prefix", 512);
	for (uint32_t i = 0; i < 400; i++) {
		struct mx_lpm6_key k = { .prefixlen = 16 + lcg(&seed) % 113 };
		uint32_t len = k.prefixlen;

		k.addr[0] = 0x20;
		k.addr[1] = 0x01;
		for (int b = 2; b < 16; b++)
			k.addr[b] = (uint8_t)lcg(&seed);
		for (uint32_t b = len; b < 128; b++)
			k.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		tw_update(&t, &k, value(&t, i), BPF_ANY);
		k.prefixlen = 128;
		k.addr[15] ^= 1;
		tw_lookup(&t, &k);
	}
	tw_walks(&t, true);
	twin_close(&t);
	free(addrs);
}

/* A full trie says ENOSPC (tables.c makes it E2BIG); replacing still works. */
static void test_lpm_full(void **state)
{
	struct twin t;
	struct mx_lpm4_key k;
	const uint32_t n = 6;

	twin_like(&t, "allow4_prefix", n);
	for (uint32_t i = 0; i < n; i++) {
		k = lpm4(0xc6120000U + (i << 8), 24);
		assert_int_equal(tw_update(&t, &k, value(&t, i), BPF_NOEXIST), 0);
	}
	k = lpm4(0xc6130000, 16);
	assert_int_equal(tw_update(&t, &k, value(&t, 9), BPF_ANY), -ENOSPC);
	assert_int_equal(tw_update(&t, &k, value(&t, 9), BPF_EXIST), -ENOENT);
	k = lpm4(0xc6120100, 24);
	assert_int_equal(tw_update(&t, &k, value(&t, 10), BPF_ANY), 0);
	assert_int_equal(tw_update(&t, &k, value(&t, 11), BPF_NOEXIST), -EEXIST);
	assert_int_equal(tw_lookup(&t, &k), 0);
	assert_int_equal(tw_delete(&t, &k), 0);
	k = lpm4(0xc6130000, 16);
	assert_int_equal(tw_update(&t, &k, value(&t, 12), BPF_NOEXIST), 0);
	assert_int_equal(tw_walks(&t, true), n);
	twin_close(&t);
}

/* count_keys - entries in a map */
static uint32_t count_keys(int fd, uint32_t key_size)
{
	uint8_t *keys = calloc(70000, key_size);
	uint32_t n = keys_of(fd, key_size, keys, 70000);

	free(keys);
	return n;
}

/*
 * A full LRU map never refuses an update: it evicts. Both keep at most
 * max_entries and the newest; the memory map keeps exactly the newest.
 */
static void test_lru_evicts(void **state)
{
	const uint32_t n = 256;
	struct twin t;
	struct mx_bucket4_key key = { .kind = MX_BUCKET_SOURCE };

	twin_like(&t, "syn_bucket4", n);
	assert_int_equal(t.type, BPF_MAP_TYPE_LRU_HASH);
	key.addr = htonl(0xc6120000U);
	assert_int_equal(tw_update(&t, &key, value(&t, 0), BPF_EXIST), -ENOENT);
	assert_int_equal(tw_update(&t, &key, value(&t, 0), BPF_NOEXIST), 0);
	assert_int_equal(tw_update(&t, &key, value(&t, 0), BPF_NOEXIST), -EEXIST);
	for (uint32_t i = 1; i < 4 * n; i++) {
		key.addr = htonl(0xc6120000U + i);
		assert_int_equal(tw_update(&t, &key, value(&t, i), BPF_ANY), 0);
		assert_int_equal(tw_lookup(&t, &key), 0);	/* the newest stays */
	}
	for (int i = 0; i < TWINS; i++)
		assert_true(count_keys(t.fd[i], sizeof(key)) <= n);
	assert_int_equal(count_keys(t.fd[MEMORY], sizeof(key)), n);
	for (uint32_t i = 0; i < 4 * n; i++) {
		uint64_t v;

		key.addr = htonl(0xc6120000U + i);
		assert_int_equal(mx_map_lookup(t.fd[MEMORY], &key, &v), i >= 3 * n ? 0 : -ENOENT);
	}
	/* An update is a use: the oldest updated goes first, not the oldest added. */
	key.addr = htonl(0xc6120000U + 3 * n);
	assert_int_equal(mx_map_update(t.fd[MEMORY], &key, value(&t, 1), BPF_EXIST), 0);
	key.addr = htonl(0xc6120000U + 4 * n);
	assert_int_equal(mx_map_update(t.fd[MEMORY], &key, value(&t, 2), BPF_NOEXIST), 0);
	key.addr = htonl(0xc6120000U + 3 * n);
	assert_int_equal(mx_map_lookup(t.fd[MEMORY], &key, value(&t, 0)), 0);
	key.addr = htonl(0xc6120000U + 3 * n + 1);
	assert_int_equal(mx_map_lookup(t.fd[MEMORY], &key, value(&t, 0)), -ENOENT);
	twin_close(&t);
}

/* Arrays and per-CPU arrays: every index exists, E2BIG beyond, no delete. */
static void test_arrays(void **state)
{
	static const char *const defs[] = { "class_limits", "reasons", "stats", "config" };
	struct twin t;

	for (size_t d = 0; d < sizeof(defs) / sizeof(defs[0]); d++) {
		struct mxguard_bpf *obj = agent_object();
		uint32_t max = bpf_map__max_entries(bpf_object__find_map_by_name(obj->obj, defs[d]));

		mxguard_bpf__destroy(obj);
		twin_like(&t, defs[d], 0);
		for (uint32_t i = 0; i <= max + 1; i++)
			tw_lookup(&t, &i);
		assert_int_equal(tw_update(&t, &max, value(&t, 1), BPF_ANY), -E2BIG);
		for (uint32_t i = 0; i < max; i++) {
			assert_int_equal(tw_update(&t, &i, value(&t, i + 1), BPF_NOEXIST), -EEXIST);
			assert_int_equal(tw_update(&t, &i, value(&t, i + 2), BPF_EXIST), 0);
			assert_int_equal(tw_lookup(&t, &i), 0);
			assert_int_equal(tw_delete(&t, &i), -EINVAL);
		}
		assert_int_equal(tw_walks(&t, true), max);
		tw_next_absent(&t, &(uint32_t){ max + 5 });
		twin_close(&t);
	}
	/* A per-CPU value not a multiple of 8: each CPU's copy is rounded up. */
	twin_create(&t, "pcpu12", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 12, 3, 0);
	assert_int_equal(t.vsize % 16, 0);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(tw_update(&t, &i, value(&t, i + 40), BPF_ANY), 0);
		assert_int_equal(tw_lookup(&t, &i), 0);
	}
	twin_close(&t);
}

/* What the kernel refuses to create, memory maps refuse too. */
static void test_bad_definitions(void **state)
{
	static const struct { enum bpf_map_type type; uint32_t key, val, n, flags; } bad[] = {
		{ BPF_MAP_TYPE_ARRAY, 8, 8, 4, 0 },
		{ BPF_MAP_TYPE_HASH, 0, 8, 4, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 0, 4, 0 },
		{ BPF_MAP_TYPE_HASH, 4, 8, 0, 0 },
		{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4, 0 },			/* needs BPF_F_NO_PREALLOC */
		{ BPF_MAP_TYPE_LPM_TRIE, 4, 8, 4, BPF_F_NO_PREALLOC },	/* no data */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = bad[i].flags);
		int k = bpf_map_create(bad[i].type, "bad", bad[i].key, bad[i].val, bad[i].n, &o);
		int m = mx_map_mem_create("bad", bad[i].type, bad[i].key, bad[i].val, bad[i].n,
					  bad[i].flags);

		if (k >= 0)
			close(k);
		assert_true(k < 0);
		assert_int_equal(m, -EINVAL);
	}
	/* Types memory maps do not have. */
	assert_int_equal(mx_map_mem_create("sockmap", BPF_MAP_TYPE_SOCKMAP, 4, 8, 2, 0), -EOPNOTSUPP);
}

struct seen {
	int fd;
	uint32_t key_size;
	uint8_t *hits;
	uint32_t n, max;
	bool delete;
};

/* visit - count an entry by the last byte pair of its address, delete if asked */
static int visit(const void *key, const void *val, void *arg)
{
	struct seen *s = arg;
	const uint8_t *k = key;
	uint32_t i = (uint32_t)k[s->key_size - 2] << 8 | k[s->key_size - 1];

	assert_true(i < s->max);
	s->hits[i]++;
	s->n++;
	if (s->delete)
		assert_int_equal(mx_map_delete(s->fd, key), 0);
	return 0;
}

/* walk_deleting - a sliced walk that deletes all it is given: each entry once, one pass */
static void walk_deleting(int fd, uint32_t n, uint32_t key_size, bool batch)
{
	struct seen s = { .fd = fd, .key_size = key_size, .max = n, .delete = true };
	struct mx_walk w;
	int r;

	s.hits = calloc(n, 1);
	assert_int_equal(mx_walk_init(&w, fd, key_size, 0), 0);
	assert_int_equal(w.batch, batch);
	do {
		r = mx_walk_step(&w, 97, visit, &s);
		assert_true(r >= 0);
	} while (r == 0);
	assert_int_equal(s.n, n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(s.hits[i], 1);
	assert_int_equal(w.passes, 1);
	assert_int_equal(w.restarts, 0);
	assert_int_equal(count_keys(fd, key_size), 0);
	mx_walk_free(&w);
	free(s.hits);
}

/*
 * Walking while deleting, as the sweeps do: a hash map through the batch
 * cursor, a trie through get_next_key one key ahead; and get_next_key
 * from a key just deleted starts again at the first key, on both.
 */
static void test_walk_while_deleting(void **state)
{
	const uint32_t n = 5000;
	struct twin h, l;

	twin_like(&h, "ban4", n);
	twin_like(&l, "ban4_prefix", n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t a = htonl(0xc6120000U + i);
		struct mx_lpm4_key k = lpm4(0xc6120000U + i, 32);

		assert_int_equal(tw_update(&h, &a, value(&h, i), BPF_NOEXIST), 0);
		assert_int_equal(tw_update(&l, &k, value(&l, i), BPF_NOEXIST), 0);
	}
	for (int i = 0; i < TWINS; i++) {
		uint8_t first[8], second[8], again[8];

		assert_int_equal(mx_map_next_key(h.fd[i], NULL, first), 0);
		assert_int_equal(mx_map_next_key(h.fd[i], first, second), 0);
		assert_int_equal(mx_map_delete(h.fd[i], second), 0);
		assert_int_equal(mx_map_next_key(h.fd[i], second, again), 0);
		assert_memory_equal(first, again, 4);
		assert_int_equal(mx_map_update(h.fd[i], second, value(&h, 1), BPF_NOEXIST), 0);
	}
	for (int i = 0; i < TWINS; i++) {
		walk_deleting(h.fd[i], n, 4, true);
		walk_deleting(l.fd[i], n, sizeof(struct mx_lpm4_key), false);
	}
	twin_close(&h);
	twin_close(&l);
}

/* lookup_batch on hash maps: every entry once, the end is -ENOENT. */
static void test_batch(void **state)
{
	const uint32_t n = 300;
	struct twin t, l;

	twin_like(&t, "conn_count4", 512);
	for (uint32_t i = 0; i < n; i++) {
		struct mx_bucket4_key k = { .addr = htonl(0xc6120000U + i), .kind = i & 1 };

		assert_int_equal(tw_update(&t, &k, value(&t, i), BPF_NOEXIST), 0);
	}
	for (int i = 0; i < TWINS; i++) {
		struct mx_bucket4_key keys[64];
		uint64_t vals[64], in = 0, out = 0;
		uint32_t total = 0, count;
		int r;
		bool first = true;

		do {
			count = 7;
			r = mx_map_lookup_batch(t.fd[i], first ? NULL : &in, &out, keys, vals, &count);
			if (r == -ENOSPC) {	/* a kernel bucket holds more than 7 */
				count = 64;
				r = mx_map_lookup_batch(t.fd[i], first ? NULL : &in, &out, keys,
							vals, &count);
			}
			assert_true(r == 0 || r == -ENOENT);
			for (uint32_t j = 0; j < count; j++) {
				uint32_t idx = ntohl(keys[j].addr) - 0xc6120000U;

				assert_true(idx < n);
				assert_int_equal(keys[j].kind, idx & 1);
				assert_int_equal(mx_map_delete(t.fd[i], &keys[j]), 0);	/* deleting what was read */
			}
			total += count;
			in = out;
			first = false;
		} while (r == 0);
		assert_int_equal(total, n);
		assert_int_equal(count_keys(t.fd[i], sizeof(keys[0])), 0);
	}
	/* Not for tries: both refuse, and mapwalk never asks. */
	twin_like(&l, "ban4_prefix", 8);
	for (int i = 0; i < TWINS; i++) {
		struct mx_lpm4_key keys[4];
		uint64_t vals[16], out;
		uint32_t count = 4;

		assert_true(mx_map_lookup_batch(l.fd[i], NULL, &out, keys, vals, &count) < 0);
	}
	twin_close(&l);
	twin_close(&t);
}

/* mx_table_match, as the data plane decides, the same on kernel and memory tables. */
static void test_table_match(void **state)
{
	static const char *const add[] = {
		"198.18.0.7", "198.18.0.0/16", "198.18.7.0/24", "198.18.7.128/25", "198.18.0.0/15",
		"2001:db8::1", "2001:db8::/32", "2001:db8:1::/48", "0.0.0.0/0",
	};
	static const char *const ask[] = {
		"198.18.0.7", "198.18.0.8", "198.18.7.9", "198.18.7.200", "198.19.1.1", "198.20.0.1",
		"198.18.7.0/24", "198.18.6.0/23", "198.0.0.0/8", "2001:db8::1", "2001:db8::2",
		"2001:db8:1::5", "2001:db8:2::/48", "2001:db9::1", "203.0.113.1",
	};
	struct mx_table t[TWINS];
	struct twin tw[MX_TABLE_MAPS];
	static const char *const names[] = { "ban4", "ban6", "ban4_prefix", "ban6_prefix" };

	for (int m = 0; m < MX_TABLE_MAPS; m++) {
		twin_like(&tw[m], names[m], 64);
		for (int i = 0; i < TWINS; i++)
			t[i].fd[m] = tw[m].fd[i];
	}
	for (int i = 0; i < TWINS; i++) {
		t[i].name = "ban";
		t[i].value_size = sizeof(struct mx_ban);
	}
	for (size_t a = 0; a < sizeof(add) / sizeof(add[0]); a++) {
		struct mx_prefix p;
		struct mx_ban b = { .reason = (uint32_t)a + 1 };

		assert_int_equal(mx_parse_prefix(add[a], &p, NULL, 0), 0);
		for (int i = 0; i < TWINS; i++)
			assert_int_equal(mx_table_put(&t[i], &p, &b, BPF_NOEXIST), 0);
	}
	for (size_t q = 0; q < sizeof(ask) / sizeof(ask[0]); q++) {
		struct mx_prefix p, found[TWINS];
		struct mx_ban b[TWINS];
		int r[TWINS];

		assert_int_equal(mx_parse_prefix(ask[q], &p, NULL, 0), 0);
		for (int i = 0; i < TWINS; i++) {
			memset(&found[i], 0, sizeof(found[i]));
			r[i] = mx_table_match(&t[i], &p, &found[i], &b[i]);
		}
		assert_int_equal(r[KERNEL], r[MEMORY]);
		if (r[KERNEL] == 0) {
			assert_memory_equal(&found[KERNEL], &found[MEMORY], sizeof(found[0]));
			assert_int_equal(b[KERNEL].reason, b[MEMORY].reason);
		}
		for (int i = 0; i < TWINS; i++)
			r[i] = mx_table_get(&t[i], &p, &b[i]);
		assert_int_equal(r[KERNEL], r[MEMORY]);
	}
	for (int m = 0; m < MX_TABLE_MAPS; m++)
		twin_close(&tw[m]);
}

/* Both kinds describe themselves alike. */
static void test_info(void **state)
{
	static const char *const defs[] = { "ban6_prefix", "syn_bucket6", "stats", "live_flows" };

	for (size_t d = 0; d < sizeof(defs) / sizeof(defs[0]); d++) {
		struct mx_map_info k, m;
		struct twin t;

		twin_like(&t, defs[d], 1000);
		assert_int_equal(mx_map_info(t.fd[KERNEL], &k), 0);
		assert_int_equal(mx_map_info(t.fd[MEMORY], &m), 0);
		assert_false(k.memory);
		assert_true(m.memory);
		assert_int_equal(k.type, m.type);
		assert_int_equal(k.key_size, m.key_size);
		assert_int_equal(k.value_size, m.value_size);
		assert_int_equal(k.max_entries, m.max_entries);
		assert_int_equal(k.map_flags, m.map_flags);
		twin_close(&t);
	}
}

/* A memory map closed with close() by mistake: its number is never taken for it again. */
static void test_registry(void **state)
{
	int fd = mx_map_mem_create("stray", BPF_MAP_TYPE_HASH, 4, 4, 4, 0), other;
	uint32_t k = 1, v = 2;

	assert_true(fd > 2);
	assert_int_equal(mx_map_update(fd, &k, &v, BPF_ANY), 0);
	errno = 0;
	assert_int_equal(mx_map_update(fd, &k, &v, BPF_NOEXIST), -EEXIST);
	assert_int_equal(errno, EEXIST);	/* as libbpf, for callers that print errno */
	close(fd);
	other = open("/dev/null", O_RDONLY);
	assert_int_equal(other, fd);	/* the lowest free number */
	assert_false(mx_map_is_memory(other));
	assert_true(mx_map_lookup(other, &k, &v) < 0);	/* the kernel's answer for a non-map */
	close(other);
	/* mx_map_close frees the map; the number is free again. */
	fd = mx_map_mem_create("closed", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4, BPF_F_NO_PREALLOC);
	assert_true(mx_map_is_memory(fd));
	mx_map_close(fd);
	assert_false(mx_map_is_memory(fd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_flags_and_full),
		cmocka_unit_test(test_hash_next_key),
		cmocka_unit_test(test_lpm_longest_prefix),
		cmocka_unit_test(test_lpm_random),
		cmocka_unit_test(test_lpm_full),
		cmocka_unit_test(test_lru_evicts),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_bad_definitions),
		cmocka_unit_test(test_walk_while_deleting),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_table_match),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_registry),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_maps needs root (it compares with real BPF maps)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
