/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	lookup.h - what the mxguard programs ask of the maps, the same way
 * DESCRIPTION
 *	The src_*() helpers answer "is this source allowlisted, banned, in
 *	which class" the same way for the XDP program and the
 *	connection-counting programs, skipping the prefix tries the agent
 *	says are empty (may_hold) and, for IPv4 bans, the trie when no ban
 *	prefix touches the source's /24 (ban4_prefix_may_match). Beside them: the settings
 *	(get_config, port_guarded), the per-CPU counters (stat_inc), the
 *	clock (now_ns), and the hashing of a flow into syn_seen (syn_slot,
 *	flow_eq). The maps themselves are in maps.h.
 * SECURITY
 *	Every index into an array is bounded before use (class ids, port
 *	bitmap bytes, syn_seen slots, ban4_summary words); every loop has
 *	a constant bound.
 */
#ifndef MX_BPF_LOOKUP_H
#define MX_BPF_LOOKUP_H

#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"
#include "mxguard.h"

/* Address families of struct mx_flow: the UAPI headers BPF sees lack them. */
#ifndef AF_INET
#define AF_INET		2
#define AF_INET6	10
#endif

/*
 * Added to the kernel clock. Only tests set it, to move time (ban
 * expiry, bucket refill) forward deterministically.
 */
volatile __u64 mx_clock_offset_ns;

/* now_ns - the programs' clock: boot time plus the tests' offset */
static __always_inline __u64 now_ns(void)
{
	return bpf_ktime_get_boot_ns() + mx_clock_offset_ns;
}

/* stat_inc - add one to a per-CPU counter */
static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
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

/* syn_slot - the syn_seen slot of a flow (FNV-1a over its 32-bit words) */
static __always_inline __u32 syn_slot(const struct mx_flow *flow)
{
	const __u32 *w = (const __u32 *)flow;
	__u32 h = 2166136261U;

#pragma unroll
	for (int i = 0; i < sizeof(*flow) / 4; i++)
		h = (h ^ w[i]) * 16777619U;
	return (h ^ (h >> 16)) & (MX_SYN_SLOTS - 1);
}

/*
 * ban_clock_ns - the clock bans expire on: the coarse monotonic clock
 * (the last tick's time: one jiffy, 4 ms at HZ=250, behind at most) plus
 * the suspended time the agent keeps in the settings. A boot time that
 * is never ahead of CLOCK_BOOTTIME, so a ban ends up to a jiffy late,
 * never early. bpf_ktime_get_boot_ns() costs 25 ns where the kernel
 * reads kvm-clock (a VM whose TSC it does not trust), five times a bare
 * program; this costs 2 (make bench, the floor cells).
 */
static __always_inline __u64 ban_clock_ns(const struct mx_config *cfg)
{
	__u64 off = cfg ? (__u64)cfg->boot_offset_ms * 1000000ULL : 0;

	return bpf_ktime_get_coarse_ns() + off + mx_clock_offset_ns;
}

/*
 * ban_active - does this ban entry drop now? The clock is read only for
 * a ban that expires (automatic bans, manual ones with a time), and then
 * the coarse one (ban_clock_ns).
 */
static __always_inline int ban_active(const struct mx_config *cfg, const struct mx_ban *b)
{
	return b && (b->expires_ns == 0 || b->expires_ns > ban_clock_ns(cfg));
}

/*
 * may_hold - may this map hold entries? An LPM lookup costs tens of
 * nanoseconds even in an empty trie, a hash lookup some, so the agent
 * tells which maps hold entries (MX_CFG_F_TABLES_KNOWN and the
 * MX_CFG_F_PFX_* and _EXACT_* bits, user/lib/tables.c). Without that
 * word (no settings, settings of an earlier agent), every map is
 * looked up.
 */
static __always_inline int may_hold(const struct mx_config *cfg, __u32 bit)
{
	return !cfg || !(cfg->flags & MX_CFG_F_TABLES_KNOWN) || (cfg->flags & bit);
}

/* class_limits_of - the limits of a class reference (class 0 if none) */
static __always_inline struct mx_class_limits *class_limits_of(struct mx_class_ref *ref)
{
	__u32 id = ref ? ref->class_id : 0;

	if (id >= MX_MAX_CLASSES)
		id = 0;
	return bpf_map_lookup_elem(&class_limits, &id);
}

/*
 * prefix4_lookup - a trie's entry for an IPv4 address; the key is made
 * here, only for a trie that is looked up (made up front, its stores
 * were on every path)
 */
static __always_inline void *prefix4_lookup(void *trie, __u32 saddr)
{
	struct mx_lpm4_key lpm = { .prefixlen = 32, .addr = saddr };

	return bpf_map_lookup_elem(trie, &lpm);
}

/* src_allowed4 - is an IPv4 source allowlisted, exactly or by prefix? */
static __always_inline int src_allowed4(const struct mx_config *cfg, __u32 saddr)
{
	return (may_hold(cfg, MX_CFG_F_EXACT_ALLOW4) && bpf_map_lookup_elem(&allow4, &saddr)) ||
	       (may_hold(cfg, MX_CFG_F_PFX_ALLOW4) && prefix4_lookup(&allow4_prefix, saddr));
}

/*
 * ban4_prefix_may_match - may a ban prefix contain this IPv4 source?
 * Only when the trie may hold entries and, if the agent keeps the /24
 * summary (MX_CFG_F_SUMMARY_BAN4), some ban prefix touches the
 * source's /24. Without the summary flag, or should the array lookup
 * fail, the trie is looked up: the summary only ever skips a lookup
 * the agent says would find nothing.
 */
static __always_inline int ban4_prefix_may_match(const struct mx_config *cfg, __u32 saddr)
{
	__u32 s24, idx;
	__u64 *word;

	if (!may_hold(cfg, MX_CFG_F_PFX_BAN4))
		return 0;
	if (!cfg || (cfg->flags & (MX_CFG_F_TABLES_KNOWN | MX_CFG_F_SUMMARY_BAN4)) !=
		    (MX_CFG_F_TABLES_KNOWN | MX_CFG_F_SUMMARY_BAN4))
		return 1;
	s24 = bpf_ntohl(saddr) >> 8;
	idx = (s24 >> 6) & (MX_BAN4_SUMMARY_WORDS - 1);
	word = bpf_map_lookup_elem(&ban4_summary, &idx);
	return !word || ((*word >> (s24 & 63)) & 1);
}

/* src_banned4 - is an IPv4 source banned now? */
static __always_inline int src_banned4(const struct mx_config *cfg, __u32 saddr)
{
	return (may_hold(cfg, MX_CFG_F_EXACT_BAN4) && ban_active(cfg, bpf_map_lookup_elem(&ban4, &saddr))) ||
	       (ban4_prefix_may_match(cfg, saddr) &&
		ban_active(cfg, prefix4_lookup(&ban4_prefix, saddr)));
}

/* src_class4 - the limits of an IPv4 source's class */
static __always_inline struct mx_class_limits *src_class4(const struct mx_config *cfg, __u32 saddr)
{
	struct mx_class_ref *ref = NULL;

	if (may_hold(cfg, MX_CFG_F_EXACT_CLASS4))
		ref = bpf_map_lookup_elem(&class4, &saddr);

	if (!ref && may_hold(cfg, MX_CFG_F_PFX_CLASS4))
		ref = prefix4_lookup(&class4_prefix, saddr);
	return class_limits_of(ref);
}

/* src_allowed6 - is an IPv6 source allowlisted, exactly or by prefix? */
static __always_inline int src_allowed6(const struct mx_config *cfg, const struct mx_addr6 *saddr)
{
	struct mx_lpm6_key lpm = { .prefixlen = 128 };

	if (may_hold(cfg, MX_CFG_F_EXACT_ALLOW6) && bpf_map_lookup_elem(&allow6, saddr))
		return 1;
	if (!may_hold(cfg, MX_CFG_F_PFX_ALLOW6))
		return 0;
	__builtin_memcpy(lpm.addr, saddr->addr, 16);
	return bpf_map_lookup_elem(&allow6_prefix, &lpm) != NULL;
}

/* src_banned6 - is an IPv6 source banned now? */
static __always_inline int src_banned6(const struct mx_config *cfg, const struct mx_addr6 *saddr)
{
	struct mx_lpm6_key lpm = { .prefixlen = 128 };

	if (may_hold(cfg, MX_CFG_F_EXACT_BAN6) && ban_active(cfg, bpf_map_lookup_elem(&ban6, saddr)))
		return 1;
	if (!may_hold(cfg, MX_CFG_F_PFX_BAN6))
		return 0;
	__builtin_memcpy(lpm.addr, saddr->addr, 16);
	return ban_active(cfg, bpf_map_lookup_elem(&ban6_prefix, &lpm));
}

/* src_class6 - the limits of an IPv6 source's class */
static __always_inline struct mx_class_limits *src_class6(const struct mx_config *cfg,
							  const struct mx_addr6 *saddr)
{
	struct mx_lpm6_key lpm = { .prefixlen = 128 };
	struct mx_class_ref *ref = NULL;

	if (may_hold(cfg, MX_CFG_F_EXACT_CLASS6))
		ref = bpf_map_lookup_elem(&class6, saddr);

	if (!ref && may_hold(cfg, MX_CFG_F_PFX_CLASS6)) {
		__builtin_memcpy(lpm.addr, saddr->addr, 16);
		ref = bpf_map_lookup_elem(&class6_prefix, &lpm);
	}
	return class_limits_of(ref);
}

/* mask6 - dst = src & mask over 16 bytes */
static __always_inline void mask6(__u8 *dst, const __u8 *src, const __u8 *mask)
{
#pragma unroll
	for (int i = 0; i < 16; i++)
		dst[i] = src[i] & mask[i];
}

#endif /* MX_BPF_LOOKUP_H */
