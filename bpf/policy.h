/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	policy.h - the maps every mxguard program reads, and lookups on them
 * DESCRIPTION
 *	Every map is defined here, once (after Katran's balancer_maps.h).
 *	Sizes are defaults; the agent sets them from its settings before
 *	load. The src_*() helpers answer "is this source allowlisted,
 *	banned, in which class" the same way for the XDP program and the
 *	connection-counting programs.
 */
#ifndef MX_POLICY_H
#define MX_POLICY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mxguard.h"

/*
 * Added to the kernel clock. Only tests set it, to move time (ban
 * expiry, bucket refill) forward deterministically.
 */
volatile __u64 mx_clock_offset_ns;

/* Map definitions. Sizes here are defaults; the agent sets them. */
#define MX_EXACT_MAP(name, key_t, val_t)				\
	struct {							\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, 1048576);				\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, key_t);					\
		__type(value, val_t);					\
	} name SEC(".maps")

#define MX_PREFIX_MAP(name, key_t, val_t)				\
	struct {							\
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);			\
		__uint(max_entries, 65536);				\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, key_t);					\
		__type(value, val_t);					\
	} name SEC(".maps")

MX_EXACT_MAP(ban4, __u32, struct mx_ban);
MX_EXACT_MAP(ban6, struct mx_addr6, struct mx_ban);
MX_PREFIX_MAP(ban4_prefix, struct mx_lpm4_key, struct mx_ban);
MX_PREFIX_MAP(ban6_prefix, struct mx_lpm6_key, struct mx_ban);

MX_EXACT_MAP(allow4, __u32, struct mx_allow);
MX_EXACT_MAP(allow6, struct mx_addr6, struct mx_allow);
MX_PREFIX_MAP(allow4_prefix, struct mx_lpm4_key, struct mx_allow);
MX_PREFIX_MAP(allow6_prefix, struct mx_lpm6_key, struct mx_allow);

MX_EXACT_MAP(class4, __u32, struct mx_class_ref);
MX_EXACT_MAP(class6, struct mx_addr6, struct mx_class_ref);
MX_PREFIX_MAP(class4_prefix, struct mx_lpm4_key, struct mx_class_ref);
MX_PREFIX_MAP(class6_prefix, struct mx_lpm6_key, struct mx_class_ref);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000000);
	__type(key, struct mx_bucket4_key);
	__type(value, struct mx_bucket);
} syn_bucket4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000000);
	__type(key, struct mx_bucket6_key);
	__type(value, struct mx_bucket);
} syn_bucket6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct mx_class_limits);
} class_limits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MX_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Ban reason texts, for the agent and CLI; the program never reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_MAX_REASONS);
	__type(key, __u32);
	__type(value, char[MX_REASON_LEN]);
} reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct mx_bucket4_key);
	__type(value, __u64);	/* MX_COUNT_OF(): count; high half: tag */
} conn_count4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct mx_bucket6_key);
	__type(value, __u64);
} conn_count6 SEC(".maps");

/* Connections that took a slot at SYN time and have not finished the handshake. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mx_flow);
	__type(value, struct mx_flow_slot);
} pending_flows SEC(".maps");

/* Established connections that hold a slot. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mx_flow);
	__type(value, struct mx_flow_slot);
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
 * when its handshake completes (conn_late) instead of at its SYN.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MX_SYN_SLOTS);
	__type(key, __u32);
	__type(value, struct mx_syn_note);
} syn_seen SEC(".maps");

/* flow_eq - are two flow keys the same? (no memcmp in BPF) */
static __always_inline int flow_eq(const struct mx_flow *a, const struct mx_flow *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 d = 0;

#pragma unroll
	for (int i = 0; i < sizeof(*a) / 4; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

/* syn_slot - the table slot of a flow (FNV-1a over its 32-bit words) */
static __always_inline __u32 syn_slot(const struct mx_flow *flow)
{
	const __u32 *w = (const __u32 *)flow;
	__u32 h = 2166136261U;

#pragma unroll
	for (int i = 0; i < sizeof(*flow) / 4; i++)
		h = (h ^ w[i]) * 16777619U;
	return (h ^ (h >> 16)) & (MX_SYN_SLOTS - 1);
}

/* The responder's listening sockets, one per family. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, MX_RESPONDER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} responder_socks SEC(".maps");

/* stat_inc - add one to a per-CPU counter */
static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/* now_ns - the programs' clock: boot time plus the tests' offset */
static __always_inline __u64 now_ns(void)
{
	return bpf_ktime_get_boot_ns() + mx_clock_offset_ns;
}

/* get_config - the settings, or NULL before the agent wrote them */
static __always_inline struct mx_config *get_config(void)
{
	__u32 zero = 0;
	struct mx_config *cfg = bpf_map_lookup_elem(&config, &zero);

	return cfg && (cfg->flags & MX_CFG_F_ACTIVE) ? cfg : NULL;
}

/* port_guarded - is this TCP destination port (host order) one we judge? */
static __always_inline int port_guarded(const struct mx_config *cfg, __u16 port)
{
	return cfg->ports[(port >> 3) & (MX_PORT_BITMAP_BYTES - 1)] & (1 << (port & 7));
}

/* ban_active - does this ban entry drop at time now? */
static __always_inline int ban_active(const struct mx_ban *b, __u64 now)
{
	return b && (b->expires_ns == 0 || b->expires_ns > now);
}

/* class_limits_of - the limits of a class reference (class 0 if none) */
static __always_inline struct mx_class_limits *class_limits_of(struct mx_class_ref *ref)
{
	__u32 id = ref ? ref->class_id : 0;

	if (id >= MX_MAX_CLASSES)
		id = 0;
	return bpf_map_lookup_elem(&class_limits, &id);
}

/* src_allowed4 - is an IPv4 source allowlisted, exactly or by prefix? */
static __always_inline int src_allowed4(__u32 saddr)
{
	struct mx_lpm4_key lpm = { .prefixlen = 32, .addr = saddr };

	return bpf_map_lookup_elem(&allow4, &saddr) ||
	       bpf_map_lookup_elem(&allow4_prefix, &lpm);
}

/* src_banned4 - is an IPv4 source banned at time now? */
static __always_inline int src_banned4(__u32 saddr, __u64 now)
{
	struct mx_lpm4_key lpm = { .prefixlen = 32, .addr = saddr };

	return ban_active(bpf_map_lookup_elem(&ban4, &saddr), now) ||
	       ban_active(bpf_map_lookup_elem(&ban4_prefix, &lpm), now);
}

/* src_class4 - the limits of an IPv4 source's class */
static __always_inline struct mx_class_limits *src_class4(__u32 saddr)
{
	struct mx_lpm4_key lpm = { .prefixlen = 32, .addr = saddr };
	struct mx_class_ref *ref = bpf_map_lookup_elem(&class4, &saddr);

	if (!ref)
		ref = bpf_map_lookup_elem(&class4_prefix, &lpm);
	return class_limits_of(ref);
}

/* src_allowed6 - is an IPv6 source allowlisted, exactly or by prefix? */
static __always_inline int src_allowed6(const struct mx_addr6 *saddr)
{
	struct mx_lpm6_key lpm = { .prefixlen = 128 };

	__builtin_memcpy(lpm.addr, saddr->addr, 16);
	return bpf_map_lookup_elem(&allow6, saddr) ||
	       bpf_map_lookup_elem(&allow6_prefix, &lpm);
}

/* src_banned6 - is an IPv6 source banned at time now? */
static __always_inline int src_banned6(const struct mx_addr6 *saddr, __u64 now)
{
	struct mx_lpm6_key lpm = { .prefixlen = 128 };

	__builtin_memcpy(lpm.addr, saddr->addr, 16);
	return ban_active(bpf_map_lookup_elem(&ban6, saddr), now) ||
	       ban_active(bpf_map_lookup_elem(&ban6_prefix, &lpm), now);
}

/* src_class6 - the limits of an IPv6 source's class */
static __always_inline struct mx_class_limits *src_class6(const struct mx_addr6 *saddr)
{
	struct mx_lpm6_key lpm = { .prefixlen = 128 };
	struct mx_class_ref *ref = bpf_map_lookup_elem(&class6, saddr);

	__builtin_memcpy(lpm.addr, saddr->addr, 16);
	if (!ref)
		ref = bpf_map_lookup_elem(&class6_prefix, &lpm);
	return class_limits_of(ref);
}

/* mask6 - dst = src & mask over 16 bytes */
static __always_inline void mask6(__u8 *dst, const __u8 *src, const __u8 *mask)
{
#pragma unroll
	for (int i = 0; i < 16; i++)
		dst[i] = src[i] & mask[i];
}

#endif /* MX_POLICY_H */
