/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	mxguard.h - what the XDP program and the agent share
 * DESCRIPTION
 *	Map keys and values, verdict counters and limits that both
 *	bpf/mxguard.bpf.c and user/ read. Defined once, here.
 *
 *	Addresses are kept in network byte order. IPv4 keys hold the
 *	address in a __u32, IPv6 keys in 16 bytes.
 *
 *	Times are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns()), so
 *	that a suspended host does not expire bans early or late.
 */
#ifndef MXGUARD_H
#define MXGUARD_H

#include <linux/types.h>

/* Number of limit classes. Class 0 is every source's default. */
#define MX_MAX_CLASSES		16

/* Reason texts: the agent interns each ban reason as a small id. */
#define MX_MAX_REASONS		256
#define MX_REASON_LEN		64

/* Guarded TCP destination ports: one bit per port. */
#define MX_PORT_BITMAP_BYTES	(65536 / 8)

/* Bounds on packet walking. */
#define MX_MAX_VLAN_TAGS	2
#define MX_MAX_IPV6_EXT_HDRS	8

/* Bounded compare-and-swap retries on a shared token bucket. */
#define MX_BUCKET_RETRIES	8
/* The same on a live count, and on a pending entry's renewal. */
#define MX_COUNT_RETRIES	8

/* LPM trie keys: prefix length first, as the kernel requires. */
struct mx_lpm4_key {
	__u32 prefixlen;
	__u32 addr;
};

struct mx_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct mx_addr6 {
	__u8 addr[16];
};

/*
 * A ban. Single addresses live in the ban4/ban6 hash maps (lookup cost
 * flat in the number of entries), shorter prefixes in the LPM tries.
 */
struct mx_ban {
	__u64 expires_ns;	/* CLOCK_BOOTTIME; 0 = permanent */
	__u64 added_ns;		/* CLOCK_BOOTTIME when added */
	__u32 reason;		/* index into the reason text table */
	__u32 flags;		/* MX_BAN_F_* */
};

#define MX_BAN_F_MANUAL		(1U << 0)
#define MX_BAN_F_BLOCKLIST	(1U << 1)
#define MX_BAN_F_AUTOMATIC	(1U << 2)

/* An allowlist entry: present means allowed. */
struct mx_allow {
	__u64 added_ns;
};

/* A class assignment: the source's limit class. */
struct mx_class_ref {
	__u32 class_id;
};

/*
 * Limits of one class. The new-connection limit is a GCRA token bucket:
 * one token every interval_ns, at most burst tokens saved up. An
 * interval of 0 means the class was never written: no limit.
 */
struct mx_class_limits {
	__u64 src_interval_ns;
	__u64 pfx_interval_ns;
	__u32 src_burst;
	__u32 pfx_burst;
	__u32 src_parallel;	/* used by the parallel-connection limit */
	__u32 pfx_parallel;
};

/* Token bucket keys. kind tells a source bucket from a prefix bucket. */
enum mx_bucket_kind {
	MX_BUCKET_SOURCE = 0,
	MX_BUCKET_PREFIX = 1,
};

struct mx_bucket4_key {
	__u32 addr;		/* masked with the source or prefix mask */
	__u32 kind;
};

struct mx_bucket6_key {
	__u8 addr[16];
	__u32 kind;
};

/*
 * A token bucket as a single word: the GCRA theoretical arrival time.
 * One word lets every CPU update it with one compare-and-swap, so a
 * source spread over several receive queues still gets one rate.
 */
struct mx_bucket {
	__u64 tat_ns;
};

/*
 * A TCP connection to a guarded port, as sk_lookup and sock_ops see it.
 * Ports in host order; IPv4 addresses in the first four bytes.
 */
struct mx_flow {
	__u8 remote[16];
	__u8 local[16];
	__u16 rport;
	__u16 lport;
	__u32 family;		/* AF_INET or AF_INET6 */
};

enum mx_flow_kind {
	MX_FLOW_ADMITTED = 1,	/* holds a slot in the live counts */
	MX_FLOW_STEERED = 2,	/* sent to the responder; holds no slot */
	MX_FLOW_ADOPTED = 3,	/* open before the agent started: holds a slot,
				 * its close is seen by the agent's sweep */
};

/*
 * What a connection holds: the count keys it charged, kept with it so
 * that a settings change between open and close cannot unbalance them.
 */
struct mx_flow_slot {
	__u8 src[16];		/* masked source address */
	__u8 pfx[16];		/* masked prefix */
	__u64 since_ns;		/* CLOCK_BOOTTIME at SYN (pending) or handshake (live);
				 * MX_SINCE_RELEASING while the agent releases it */
	__u32 family;
	__u32 kind;		/* enum mx_flow_kind */
};

/*
 * A pending entry the agent is releasing: mx_flow_release claims it by
 * compare-and-swap of since_ns before deleting it, so that a cookie's
 * final ACK renewing the entry at that moment (mx_cookie_ack) and the
 * release cannot both believe they own it.
 */
#define MX_SINCE_RELEASING	0

/* Argument of the agent's mx_flow_release and mx_count_adjust programs. */
struct mx_conn_op {
	struct mx_flow flow;	/* release: the flow */
	__u32 live;		/* release: 0 from pending_flows, 1 from live_flows */
	__s32 delta;		/* adjust: added to the count */
	struct mx_bucket6_key key;	/* adjust: the count (IPv4: addr in first 4 bytes) */
	__u32 family;		/* adjust: AF_INET or AF_INET6 */
	__u32 result;		/* out: enum mx_release_result, or the new count */
	__u32 pad;
	__u64 since_ns;		/* release: the entry's since_ns as the agent saw it */
};				/* a multiple of 8 bytes: read as 64-bit words */

/*
 * A live count (conn_count4/6) is one 64-bit word: the count in the low
 * half, a tag of its key in the high half (never 0). A map reuses the
 * memory of a deleted entry at once, so a program still holding a
 * pointer to it could otherwise change another key's count; with the
 * tag, its compare-and-swap fails and it looks the key up again.
 *
 * A count being removed is DYING: never incremented again. Whoever
 * moves a count to DYING (the last give, 1 -> DYING; the collector,
 * 0 -> DYING) deletes the entry. A reader (the agent, the CLI) takes a
 * DYING count for no entry.
 *
 * MX_COUNT_OF() and MX_COUNT_TAG_OF() take a word apart, mx_count_word()
 * puts one together; mx_count_tag() is the tag of a key.
 */
#define MX_COUNT_DYING		0xffffffffU
#define MX_COUNT_OF(v)		((__u32)(v))
#define MX_COUNT_TAG_OF(v)	((__u32)((v) >> 32))

/* mx_count_word - a count and its key's tag as one map value */
static inline __attribute__((always_inline)) __u64 mx_count_word(__u32 tag, __u32 n)
{
	return (__u64)tag << 32 | n;
}

/*
 * mx_count_tag - a count key's tag: FNV-1a over what the key holds
 * (addr: 16 bytes, an IPv4 address in the first 4, the rest zero);
 * never 0
 */
static inline __attribute__((always_inline)) __u32 mx_count_tag(__u32 family, __u32 kind,
								 const __u8 *addr)
{
	__u32 w[4], h = 2166136261U ^ family ^ (kind << 8);

	__builtin_memcpy(w, addr, 16);
	for (int i = 0; i < 4; i++)
		h = (h ^ w[i]) * 16777619U;
	return h | 1;
}

enum mx_release_result {
	MX_RELEASE_NONE = 0,	/* no such flow (already gone) */
	MX_RELEASE_SLOT = 1,	/* released a counted connection */
	MX_RELEASE_STEERED = 2,	/* released a steered one (nothing counted) */
};

/*
 * A SYN the XDP program passed: a direct-mapped table slot, indexed by a
 * hash of the flow. sk_lookup counts a connection only when the slot
 * holds its flow (and then clears it).
 */
#define MX_SYN_SLOTS	65536	/* a power of two */
struct mx_syn_note {
	struct mx_flow flow;
	__u64 seen_ns;
};

/* Responder sockets in the SOCKMAP: one per family. */
enum mx_responder_slot {
	MX_RESPONDER_V4 = 0,
	MX_RESPONDER_V6 = 1,
	MX_RESPONDER_SLOTS,
};

/*
 * Global settings of the data plane, one array entry. The agent writes
 * it; the program only reads it. Masks are in network byte order.
 */
struct mx_config {
	__u32 src_mask4;	/* default /32 */
	__u32 pfx_mask4;	/* default /24 */
	__u8 src_mask6[16];	/* default /64 */
	__u8 pfx_mask6[16];	/* default /48 */
	__u32 flags;		/* MX_CFG_F_* */
	/*
	 * CLOCK_BOOTTIME - CLOCK_MONOTONIC (the time the host spent
	 * suspended) in ms, rounded down, kept by the agent: the programs
	 * judge ban expiry on the coarse monotonic clock plus this, a boot
	 * time that is never ahead (lookup.h, ban_clock_ns). 0 from an
	 * earlier agent: bans then end late by the suspended time, never
	 * early.
	 */
	__u32 boot_offset_ms;
	__u64 netns_cookie;	/* the guarded network namespace */
	__u8 ports[MX_PORT_BITMAP_BYTES];	/* guarded TCP ports */
};

/* Set once the agent has written the config: before that, pass all. */
#define MX_CFG_F_ACTIVE		(1U << 0)
/* Over the parallel limit, drop the SYN at XDP instead of replying 421. */
#define MX_CFG_F_PARALLEL_DROP	(1U << 1)
/* Banned sources get a 554 from the responder instead of a drop. */
#define MX_CFG_F_BAN_REPLY	(1U << 2)
/*
 * The agent keeps the MX_CFG_F_PFX_* and MX_CFG_F_EXACT_* bits: a map
 * whose bit is clear holds no entry and is not looked up. Without
 * MX_CFG_F_TABLES_KNOWN (an agent of an earlier build, or none yet)
 * every map is looked up. The agent sets a map's bit before it adds to
 * the map; it clears a trie's bit once a removal leaves the trie empty,
 * an exact map's only when it starts (finding a hash map empty walks
 * all its buckets). user/lib/tables.c, mx_presence_*.
 */
#define MX_CFG_F_TABLES_KNOWN	(1U << 3)
#define MX_CFG_F_PFX_BAN4	(1U << 4)
#define MX_CFG_F_PFX_BAN6	(1U << 5)
#define MX_CFG_F_PFX_ALLOW4	(1U << 6)
#define MX_CFG_F_PFX_ALLOW6	(1U << 7)
#define MX_CFG_F_PFX_CLASS4	(1U << 8)
#define MX_CFG_F_PFX_CLASS6	(1U << 9)
#define MX_CFG_F_EXACT_BAN4	(1U << 10)
#define MX_CFG_F_EXACT_BAN6	(1U << 11)
#define MX_CFG_F_EXACT_ALLOW4	(1U << 12)
#define MX_CFG_F_EXACT_ALLOW6	(1U << 13)
#define MX_CFG_F_EXACT_CLASS4	(1U << 14)
#define MX_CFG_F_EXACT_CLASS6	(1U << 15)
#define MX_CFG_F_PFX_ALL	(MX_CFG_F_PFX_BAN4 | MX_CFG_F_PFX_BAN6 | MX_CFG_F_PFX_ALLOW4 | \
				 MX_CFG_F_PFX_ALLOW6 | MX_CFG_F_PFX_CLASS4 | MX_CFG_F_PFX_CLASS6)
#define MX_CFG_F_EXACT_ALL	(MX_CFG_F_EXACT_BAN4 | MX_CFG_F_EXACT_BAN6 | MX_CFG_F_EXACT_ALLOW4 | \
				 MX_CFG_F_EXACT_ALLOW6 | MX_CFG_F_EXACT_CLASS4 | MX_CFG_F_EXACT_CLASS6)
#define MX_CFG_F_HOLD_ALL	(MX_CFG_F_PFX_ALL | MX_CFG_F_EXACT_ALL)
/*
 * The agent keeps ban4_summary exact-or-conservative for the IPv4 ban
 * trie: a /24 whose bit is clear has no ban prefix covering it or lying
 * inside it, so the program skips the trie for its sources. Clear (an
 * agent of an earlier build, one still rebuilding the summary at start,
 * or a ban prefix shorter than MX_BAN4_SUMMARY_MIN_LEN in the trie): the
 * trie is looked up whenever MX_CFG_F_PFX_BAN4 allows. Meaningful only
 * with MX_CFG_F_TABLES_KNOWN. user/lib/tables.c, mx_presence_summary.
 */
#define MX_CFG_F_SUMMARY_BAN4	(1U << 16)

/*
 * ban4_summary: one bit per IPv4 /24 (2^24 bits), indexed by the top 24
 * bits of the address in host order, in 64-bit words: word i >> 6, bit
 * i & 63. A ban prefix shorter than MIN_LEN would set more than 65,536
 * bits at once (the agent's loop must not stall): while one is in the
 * trie the summary is off instead (MX_CFG_F_SUMMARY_BAN4 clear).
 */
#define MX_BAN4_SUMMARY_WORDS	(1U << 18)
#define MX_BAN4_SUMMARY_MIN_LEN	8

/*
 * What the XDP program does with a frame, by the counter it records.
 * NONE: the counter is no verdict but an event counted beside them.
 */
enum mx_action {
	MX_ACTION_NONE = 0,
	MX_ACTION_PASS = 1,
	MX_ACTION_DROP = 2,
};

/*
 * Per-CPU counters: X(NAME, "name", ACTION), the name as `mxguard stats`
 * and /metrics show it, the action as enum mx_action without its
 * prefix. Each packet the XDP program sees adds exactly one to one of
 * the verdict counters (action PASS or DROP), and its action is what
 * the program returns (mxguard.bpf.c): a verdict is declared once,
 * here. The BUCKET_* ones count events beside the verdicts. CONN_*
 * count what sk_lookup and sock_ops decide per connection: admitted
 * (took a slot), over the parallel limit or banned (steered to the
 * responder), no responder socket (SYN dropped), flow table full
 * (steered), late (handshake done after its pending slot was
 * released), closed (slot given back). CONN_COOKIE_* count what the
 * SYN-cookie ACK judge decides for a final ACK that found no pending
 * slot: admitted (took one), over the limit.
 *
 * The order is the stats map's layout, and a pinned stats map outlives
 * the agent: reordered, a counter adopted from an earlier build would
 * show under another's name.
 */
#define MX_STATS(X)								\
	X(PASS_NOT_GUARDED,	"pass_not_guarded",		PASS)		\
	X(PASS_FRAGMENT,	"pass_fragment",		PASS)		\
	X(PASS_ALLOWLISTED,	"pass_allowlisted",		PASS)		\
	X(PASS_SEGMENT,		"pass_segment",			PASS)		\
	X(PASS_WITHIN_LIMITS,	"pass_within_limits",		PASS)		\
	X(PASS_INACTIVE,	"pass_inactive",		PASS)		\
	X(DROP_BANNED,		"drop_banned",			DROP)		\
	X(DROP_SOURCE_RATE,	"drop_source_rate",		DROP)		\
	X(DROP_PREFIX_RATE,	"drop_prefix_rate",		DROP)		\
	X(DROP_MALFORMED,	"drop_malformed",		DROP)		\
	X(DROP_PARALLEL,	"drop_parallel",		DROP)		\
	X(BUCKET_NEW_SOURCE,	"bucket_new_source",		NONE)		\
	X(BUCKET_NEW_PREFIX,	"bucket_new_prefix",		NONE)		\
	X(BUCKET_UNAVAILABLE,	"bucket_unavailable",		NONE)		\
	X(CONN_ADMITTED,	"conn_admitted",		NONE)		\
	X(CONN_OVER_LIMIT,	"conn_over_limit",		NONE)		\
	X(CONN_BANNED,		"conn_banned",			NONE)		\
	X(CONN_NO_RESPONDER,	"conn_no_responder",		NONE)		\
	X(CONN_TABLE_FULL,	"conn_table_full",		NONE)		\
	X(CONN_LATE,		"conn_late",			NONE)		\
	X(CONN_CLOSED,		"conn_closed",			NONE)		\
	X(CONN_COOKIE_ADMITTED,	"conn_cookie_admitted",		NONE)		\
	X(CONN_COOKIE_OVER_LIMIT, "conn_cookie_over_limit",	NONE)

#define MX_STAT_ENUM(name, str, action) MX_STAT_##name,
enum mx_stat {
	MX_STATS(MX_STAT_ENUM)
	MX_STAT__MAX
};
#undef MX_STAT_ENUM

/* Each counter's action as a constant, for compile-time checks: MX_STAT_ACTION_<NAME>. */
#define MX_STAT_ACTION_ENUM(name, str, action) MX_STAT_ACTION_##name = MX_ACTION_##action,
enum {
	MX_STATS(MX_STAT_ACTION_ENUM)
};
#undef MX_STAT_ACTION_ENUM

/* mx_stat_action - a counter's action as MX_STATS declares it; NONE out of range */
static inline __attribute__((always_inline)) enum mx_action mx_stat_action(__u32 stat)
{
	switch (stat) {
#define MX_STAT_CASE(name, str, action) case MX_STAT_##name: return MX_ACTION_##action;
	MX_STATS(MX_STAT_CASE)
#undef MX_STAT_CASE
	default:
		return MX_ACTION_NONE;
	}
}

/* mx_stat_name - a counter's name, as `mxguard stats` and /metrics show it; NULL out of range */
static inline const char *mx_stat_name(__u32 stat)
{
	switch (stat) {
#define MX_STAT_CASE(name, str, action) case MX_STAT_##name: return str;
	MX_STATS(MX_STAT_CASE)
#undef MX_STAT_CASE
	default:
		return (const char *)0;
	}
}

#endif /* MXGUARD_H */
