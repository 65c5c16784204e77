/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	maps.h - every map the mxguard programs share, defined once
 * DESCRIPTION
 *	After Katran's balancer_maps.h: the definitions and nothing else.
 *	Lookups on these maps are in lookup.h; their keys and values in
 *	headers/mxguard.h.
 *
 *	Both objects (mxguard.bpf.c, conn.bpf.c) include this file, so
 *	both carry every map; the agent loads the XDP object first and
 *	hands its map fds to the connection object (user/agent/conn.c),
 *	so there is one map of each name.
 *
 *	Sizes here are defaults; the agent sets them from its settings
 *	before load.
 * PINNING
 *	The maps marked LIBBPF_PIN_BY_NAME are pinned under the agent's
 *	pin directory by their names (libbpf's pin_root_path): an agent
 *	that finds them there takes them over, with their bans, buckets
 *	and counts, and a program left attached goes on using them while
 *	no agent runs. The names and the set are what earlier builds
 *	pinned: changing either strands the maps of a running data plane
 *	(a map added later, as ban4_summary, is created where no pin is).
 *	responder_socks is not pinned: it holds the running agent's
 *	sockets, which end with it.
 */
#ifndef MX_BPF_MAPS_H
#define MX_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mxguard.h"

/* An address table's single addresses: a hash, flat lookup cost. */
#define MX_EXACT_MAP(name, key_t, val_t)				\
	struct {							\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, 1048576);				\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, key_t);					\
		__type(value, val_t);					\
		__uint(pinning, LIBBPF_PIN_BY_NAME);			\
	} name SEC(".maps")

/* An address table's shorter prefixes: an LPM trie. */
#define MX_PREFIX_MAP(name, key_t, val_t)				\
	struct {							\
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);			\
		__uint(max_entries, 65536);				\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, key_t);					\
		__type(value, val_t);					\
		__uint(pinning, LIBBPF_PIN_BY_NAME);			\
	} name SEC(".maps")

MX_EXACT_MAP(ban4, __u32, struct mx_ban);
MX_EXACT_MAP(ban6, struct mx_addr6, struct mx_ban);
MX_PREFIX_MAP(ban4_prefix, struct mx_lpm4_key, struct mx_ban);
MX_PREFIX_MAP(ban6_prefix, struct mx_lpm6_key, struct mx_ban);

/*
 * Which IPv4 /24s a ban prefix touches (covers, or lies inside): one
 * bit each, so that a source no ban prefix touches skips the trie
 * (src_banned4, lookup.h; layout in mxguard.h). An array: its lookup
 * is inlined by the verifier, a few instructions and one cache line.
 * BPF_F_MMAPABLE: the agent, its one writer, sets and clears bits in
 * place (user/lib/tables.c); the programs only read it. An earlier
 * build pinned no such map: an agent adopting its pins makes a zeroed
 * one, unused until the agent has rebuilt it from the trie.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_BAN4_SUMMARY_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ban4_summary SEC(".maps");

MX_EXACT_MAP(allow4, __u32, struct mx_allow);
MX_EXACT_MAP(allow6, struct mx_addr6, struct mx_allow);
MX_PREFIX_MAP(allow4_prefix, struct mx_lpm4_key, struct mx_allow);
MX_PREFIX_MAP(allow6_prefix, struct mx_lpm6_key, struct mx_allow);

MX_EXACT_MAP(class4, __u32, struct mx_class_ref);
MX_EXACT_MAP(class6, struct mx_addr6, struct mx_class_ref);
MX_PREFIX_MAP(class4_prefix, struct mx_lpm4_key, struct mx_class_ref);
MX_PREFIX_MAP(class6_prefix, struct mx_lpm6_key, struct mx_class_ref);

/*
 * SYN buckets: LRU hashes with the kernel's common LRU lists, not
 * BPF_F_NO_COMMON_LRU. Either way there is one hash table, so a bucket
 * made on one CPU is found and charged from every other. What the flag
 * changes is where entries come from: with it, each CPU gets
 * max_entries / ncpus of them and evicts only from its own lists, so a
 * flood arriving on one receive queue cycles through that share alone,
 * and 500,000 sources arriving on one of two CPUs no longer fit a
 * 1,000,000-entry map.
 * make bench measured it (README, "What limits each cell"): a new
 * source 20% cheaper on one CPU, no clear gain on two at once, and the
 * reach of each CPU halved unless the map is ncpus times as large.
 * Changing it would also need the pinned maps of earlier builds
 * replaced: libbpf refuses to reuse a pinned map whose flags differ.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000000);
	__type(key, struct mx_bucket4_key);
	__type(value, struct mx_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} syn_bucket4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000000);
	__type(key, struct mx_bucket6_key);
	__type(value, struct mx_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} syn_bucket6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct mx_class_limits);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} class_limits SEC(".maps");

/* The agent takes a pinned config as the sign that there is something to adopt. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MX_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/* Ban reason texts, for the agent and CLI; the programs never read it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_MAX_REASONS);
	__type(key, __u32);
	__type(value, char[MX_REASON_LEN]);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} reasons SEC(".maps");

/* Live connections per source and per prefix: one count word each (mxguard.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct mx_bucket4_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} conn_count4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct mx_bucket6_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} conn_count6 SEC(".maps");

/* Connections that took a slot at SYN time and have not finished the handshake. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mx_flow);
	__type(value, struct mx_flow_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pending_flows SEC(".maps");

/* Established connections that hold a slot. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mx_flow);
	__type(value, struct mx_flow_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} live_flows SEC(".maps");

/*
 * SYNs the XDP program passed. sk_lookup runs for every TCP packet that
 * matches no socket, not only for SYNs: a late ACK or RST, a scan, a
 * spoofed segment. It counts a connection only when XDP noted its SYN
 * here, and clears the note as it does, so a stray segment can never
 * hold a sender's slot. An array, not a hash map: no allocation on the
 * SYN path. Two-way: a flow's note goes to the free (or older) of two
 * neighbouring slots and sk_lookup looks in both, so that the SYNs of
 * one NAPI batch (up to 64, all judged by XDP before the stack sees the
 * first) almost never overwrite each other's notes. A note that is
 * overwritten anyway costs no correctness: its connection is counted
 * when its handshake completes (conn_late) instead of at its SYN. The
 * slot of a flow is syn_slot() (lookup.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_SYN_SLOTS);
	__type(key, __u32);
	__type(value, struct mx_syn_note);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} syn_seen SEC(".maps");

/* The responder's listening sockets, one per family. Not pinned (above). */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, MX_RESPONDER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} responder_socks SEC(".maps");

#endif /* MX_BPF_MAPS_H */
