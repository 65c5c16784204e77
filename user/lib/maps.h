/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	maps.h - every userspace access to a map: a BPF map, or one in memory
 * SUMMARY
 *	err = mx_map_lookup(fd, key, val);
 *	err = mx_map_update(fd, key, val, BPF_ANY | BPF_NOEXIST | BPF_EXIST);
 *	err = mx_map_delete(fd, key);
 *	err = mx_map_next_key(fd, key_or_NULL, next);
 *	err = mx_map_lookup_batch(fd, in_or_NULL, out, keys, vals, &count);
 *	err = mx_map_info(fd, &info);
 *	fd = mx_map_mem_create(name, type, key_size, value_size, max_entries, flags);
 *	fd = mx_map_mem_like(bpf_map, max_entries);
 *	mx_map_close(fd);
 *	memory = mx_map_is_memory(fd);
 * DESCRIPTION
 *	A map is named by an int fd, as libbpf names it. Behind the fd is
 *	either a BPF map, and then each call is libbpf's, unchanged; or a
 *	map in this process's memory, for tests, with the kernel's
 *	semantics where the agent relies on them:
 *
 *	  - BPF_MAP_TYPE_HASH: full, an update of a new key fails with
 *	    E2BIG; replacing a key works when full;
 *	  - BPF_MAP_TYPE_LRU_HASH: full, an update of a new key evicts the
 *	    least recently updated entry (the kernel's LRU is approximate
 *	    and may evict a little early; this one is exact). A lookup from
 *	    userspace does not count as a use, as in the kernel;
 *	  - BPF_MAP_TYPE_LPM_TRIE: a lookup finds the longest prefix that
 *	    contains the key, no longer than the key's prefixlen (beyond
 *	    the trie's own length: ENOENT); update and delete are exact;
 *	    full, a new key fails with ENOSPC;
 *	    get_next_key walks in the kernel's order (post-order: the more
 *	    specific prefix first);
 *	  - BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: every index
 *	    exists (zeroed); a per-CPU value is libbpf_num_possible_cpus()
 *	    copies, each rounded up to 8 bytes, as the kernel hands them;
 *	  - all: BPF_NOEXIST on a present key is EEXIST, BPF_EXIST on an
 *	    absent one ENOENT; get_next_key with NULL, or with a key that
 *	    is not there, gives the first key; its order is stable while
 *	    the map does not change, and deleting a key moves no other;
 *	  - lookup_batch: hash and LRU hash only, with a cursor that
 *	    deleting what was read does not move (the kernel's is a bucket
 *	    index; here, a slot index); at the end -ENOENT with the last
 *	    entries. Other memory maps say EOPNOTSUPP: walk them with
 *	    get_next_key, as mapwalk.c walks LPM tries.
 *
 *	Every function returns 0 or a negative errno and, on failure, sets
 *	errno as libbpf does, so that callers which report strerror(errno)
 *	need not change.
 *
 *	Why an fd for a memory map, and not a handle type: the agent, the
 *	commands, struct mx_table and struct mx_walk all carry map fds, and
 *	a new type would change every one of them, in files others edit.
 *	So a memory map gets a real file descriptor, a memfd the layer owns
 *	and keeps open: while it is open the kernel cannot give its number
 *	to a BPF map, so the two can never be confused. The layer keeps a
 *	registry indexed by fd number; an fd not in it is a BPF map. With
 *	no memory map registered (the agent) that costs one branch.
 *	Close a memory map with mx_map_close() (which closes a BPF map's
 *	fd too). If one is closed with close() by mistake, its number may
 *	come back as something else: before it trusts an entry the registry
 *	checks (fstat) that the fd is still its memfd, and otherwise
 *	forgets the entry and takes the fd for a BPF map.
 * SECURITY
 *	Memory maps are for tests: they hold no privilege and see no
 *	outside input beyond what their callers pass.
 * DIAGNOSTICS
 *	As the kernel's: ENOENT (no such key, or the end of a walk), EEXIST,
 *	E2BIG (a hash map is full; an array index out of range), ENOSPC (an
 *	LPM trie is full), EINVAL (bad flags, a prefixlen beyond the trie's,
 *	deleting from an array), EOPNOTSUPP (a map type or operation memory
 *	maps do not have), ENOMEM.
 */
#ifndef MX_MAPS_H
#define MX_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>

struct bpf_map;

struct mx_map_info {
	uint32_t type;		/* enum bpf_map_type */
	uint32_t key_size, value_size, max_entries, map_flags;
	bool memory;		/* an in-memory map (tests) */
};

int mx_map_lookup(int fd, const void *key, void *val);
int mx_map_update(int fd, const void *key, const void *val, uint64_t flags);
int mx_map_delete(int fd, const void *key);
int mx_map_next_key(int fd, const void *key, void *next);
/*
 * Up to *count entries from the cursor in_batch (NULL: the start) into
 * keys and vals; out_batch gets the cursor to go on from (room for a
 * key, and at least 4 bytes). 0 when more may follow, -ENOENT when the
 * walk has ended: *count says how many were read either way.
 */
int mx_map_lookup_batch(int fd, const void *in_batch, void *out_batch, void *keys,
			void *vals, uint32_t *count);
int mx_map_info(int fd, struct mx_map_info *info);

/* A map in memory; its fd, or a negative errno. */
int mx_map_mem_create(const char *name, enum bpf_map_type type, uint32_t key_size,
		      uint32_t value_size, uint32_t max_entries, uint32_t map_flags);
/* One as a BPF object defines m (open, not loaded); max_entries 0: as defined. */
int mx_map_mem_like(const struct bpf_map *m, uint32_t max_entries);
/* Close either kind of map. */
void mx_map_close(int fd);
bool mx_map_is_memory(int fd);

#endif /* MX_MAPS_H */
