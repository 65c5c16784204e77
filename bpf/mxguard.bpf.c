// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	mxguard.bpf.c - XDP judge for connections to an SMTP gateway
 * DESCRIPTION
 *	For each TCP segment to a guarded port (config.ports; 25 by
 *	default) the program decides, from maps only:
 *
 *	  allowlisted source		pass, never limited
 *	  banned source			drop (every segment, not only SYNs)
 *	  SYN without ACK		take a token from the source bucket,
 *					then from the prefix bucket; drop
 *					when either is empty
 *	  anything else			pass
 *
 *	Everything that is not TCP to a guarded port passes untouched.
 *	Each packet adds one to exactly one verdict counter.
 * SECURITY
 *	The packet is untrusted: every read is bounds-checked (parsing.h),
 *	every loop is bounded, and a full map fails open for the buckets
 *	(counted as bucket_unavailable) but never unbans: bans are read
 *	only.
 * CONFIGURATION
 *	No limit is compiled in. The agent writes config, class_limits and
 *	the address tables; see headers/mxguard.h.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mxguard.h"
#include "parsing.h"

char LICENSE[] SEC("license") = "GPL";

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

/* stat_inc - add one to a per-CPU counter */
static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/* now_ns - the program's clock: boot time plus the tests' offset */
static __always_inline __u64 now_ns(void)
{
	return bpf_ktime_get_boot_ns() + mx_clock_offset_ns;
}

/* ban_active - does this ban entry drop at time now? */
static __always_inline int ban_active(const struct mx_ban *b, __u64 now)
{
	return b && (b->expires_ns == 0 || b->expires_ns > now);
}

/*
 * bucket_take - take one token from a GCRA bucket; 1 if granted
 *
 * The bucket is the theoretical arrival time (TAT) of the next token.
 * A request conforms when TAT - now <= (burst - 1) * interval; it then
 * moves TAT one interval on. A fresh bucket starts full. Updates are a
 * bounded compare-and-swap loop, exact across CPUs; losing every round
 * (which takes MX_BUCKET_RETRIES concurrent winners) counts as over
 * the limit. A bucket that cannot be created (map failure) grants the
 * token: a broken map must not shut out every sender.
 */
static __always_inline int bucket_take(void *map, const void *key, __u64 now,
				       __u64 interval, __u32 burst, __u32 new_stat)
{
	struct mx_bucket fresh = { .tat_ns = now + interval };
	struct mx_bucket *b;
	__u64 tau;

	if (interval == 0)
		return 1;
	tau = interval * (burst ? burst - 1 : 0);

	b = bpf_map_lookup_elem(map, key);
	if (!b) {
		if (bpf_map_update_elem(map, key, &fresh, BPF_NOEXIST) == 0) {
			stat_inc(new_stat);
			return 1;
		}
		b = bpf_map_lookup_elem(map, key);
		if (!b) {
			stat_inc(MX_STAT_BUCKET_UNAVAILABLE);
			return 1;
		}
	}

	for (int i = 0; i < MX_BUCKET_RETRIES; i++) {
		__u64 old = *(volatile __u64 *)&b->tat_ns;
		__u64 tat = old > now ? old : now;

		if (tat - now > tau)
			return 0;
		if (__sync_val_compare_and_swap(&b->tat_ns, old, tat + interval) == old)
			return 1;
	}
	return 0;
}

/* class_of - the limits that apply to a source's class */
static __always_inline struct mx_class_limits *class_of(struct mx_class_ref *ref)
{
	__u32 id = ref ? ref->class_id : 0;

	if (id >= MX_MAX_CLASSES)
		id = 0;
	return bpf_map_lookup_elem(&class_limits, &id);
}

/* syn_verdict - take source then prefix tokens; the stat to record */
static __always_inline __u32 syn_verdict(void *buckets, const void *src_key,
					 const void *pfx_key,
					 const struct mx_class_limits *cl, __u64 now)
{
	/*
	 * Source first: a single flooding source is stopped by its own
	 * bucket and cannot drain the tokens its neighbours need.
	 */
	if (!bucket_take(buckets, src_key, now, cl->src_interval_ns,
			 cl->src_burst, MX_STAT_BUCKET_NEW_SOURCE))
		return MX_STAT_DROP_SOURCE_RATE;
	if (!bucket_take(buckets, pfx_key, now, cl->pfx_interval_ns,
			 cl->pfx_burst, MX_STAT_BUCKET_NEW_PREFIX))
		return MX_STAT_DROP_PREFIX_RATE;
	return MX_STAT_PASS_WITHIN_LIMITS;
}

/* is_new_conn - a SYN without ACK opens a connection */
static __always_inline int is_new_conn(const struct tcphdr *th)
{
	return th->syn && !th->ack;
}

/* judge4 - the verdict for a TCP segment to a guarded port over IPv4 */
static __always_inline __u32 judge4(const struct mx_config *cfg,
				    const struct iphdr *iph,
				    const struct tcphdr *th)
{
	struct mx_lpm4_key lpm = { .prefixlen = 32, .addr = iph->saddr };
	struct mx_bucket4_key src = { .kind = MX_BUCKET_SOURCE };
	struct mx_bucket4_key pfx = { .kind = MX_BUCKET_PREFIX };
	__u32 saddr = iph->saddr;
	struct mx_class_limits *cl;
	struct mx_class_ref *ref;
	struct mx_ban *ban;
	__u64 now;

	if (bpf_map_lookup_elem(&allow4, &saddr) ||
	    bpf_map_lookup_elem(&allow4_prefix, &lpm))
		return MX_STAT_PASS_ALLOWLISTED;

	now = now_ns();
	ban = bpf_map_lookup_elem(&ban4, &saddr);
	if (ban_active(ban, now))
		return MX_STAT_DROP_BANNED;
	ban = bpf_map_lookup_elem(&ban4_prefix, &lpm);
	if (ban_active(ban, now))
		return MX_STAT_DROP_BANNED;

	if (!is_new_conn(th))
		return MX_STAT_PASS_SEGMENT;

	ref = bpf_map_lookup_elem(&class4, &saddr);
	if (!ref)
		ref = bpf_map_lookup_elem(&class4_prefix, &lpm);
	cl = class_of(ref);
	if (!cl)
		return MX_STAT_PASS_WITHIN_LIMITS;

	src.addr = saddr & cfg->src_mask4;
	pfx.addr = saddr & cfg->pfx_mask4;
	return syn_verdict(&syn_bucket4, &src, &pfx, cl, now);
}

/* mask6 - dst = src & mask over 16 bytes */
static __always_inline void mask6(__u8 *dst, const __u8 *src, const __u8 *mask)
{
#pragma unroll
	for (int i = 0; i < 16; i++)
		dst[i] = src[i] & mask[i];
}

/* judge6 - the verdict for a TCP segment to a guarded port over IPv6 */
static __always_inline __u32 judge6(const struct mx_config *cfg,
				    const struct ipv6hdr *ip6h,
				    const struct tcphdr *th)
{
	struct mx_lpm6_key lpm = { .prefixlen = 128 };
	struct mx_bucket6_key src = { .kind = MX_BUCKET_SOURCE };
	struct mx_bucket6_key pfx = { .kind = MX_BUCKET_PREFIX };
	struct mx_class_limits *cl;
	struct mx_class_ref *ref;
	struct mx_addr6 saddr;
	struct mx_ban *ban;
	__u64 now;

	__builtin_memcpy(saddr.addr, &ip6h->saddr, 16);
	__builtin_memcpy(lpm.addr, &ip6h->saddr, 16);

	if (bpf_map_lookup_elem(&allow6, &saddr) ||
	    bpf_map_lookup_elem(&allow6_prefix, &lpm))
		return MX_STAT_PASS_ALLOWLISTED;

	now = now_ns();
	ban = bpf_map_lookup_elem(&ban6, &saddr);
	if (ban_active(ban, now))
		return MX_STAT_DROP_BANNED;
	ban = bpf_map_lookup_elem(&ban6_prefix, &lpm);
	if (ban_active(ban, now))
		return MX_STAT_DROP_BANNED;

	if (!is_new_conn(th))
		return MX_STAT_PASS_SEGMENT;

	ref = bpf_map_lookup_elem(&class6, &saddr);
	if (!ref)
		ref = bpf_map_lookup_elem(&class6_prefix, &lpm);
	cl = class_of(ref);
	if (!cl)
		return MX_STAT_PASS_WITHIN_LIMITS;

	mask6(src.addr, saddr.addr, cfg->src_mask6);
	mask6(pfx.addr, saddr.addr, cfg->pfx_mask6);
	return syn_verdict(&syn_bucket6, &src, &pfx, cl, now);
}

/* port_guarded - is this TCP destination port one we judge? */
static __always_inline int port_guarded(const struct mx_config *cfg, __be16 dport)
{
	__u16 port = bpf_ntohs(dport);

	return cfg->ports[(port >> 3) & (MX_PORT_BITMAP_BYTES - 1)] & (1 << (port & 7));
}

/* classify - walk the packet and decide; returns the stat to record */
static __always_inline __u32 classify(struct xdp_md *ctx)
{
	struct hdr_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct ipv6hdr *ip6h = NULL;
	struct iphdr *iph = NULL;
	struct mx_config *cfg;
	struct tcphdr *th;
	__u32 zero = 0;
	__be16 proto;
	int r;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !(cfg->flags & MX_CFG_F_ACTIVE))
		return MX_STAT_PASS_INACTIVE;

	if (parse_ethhdr(&c, &proto) != MX_PARSE_OK)
		return MX_STAT_DROP_MALFORMED;
	if (proto == bpf_htons(ETH_P_IP))
		r = parse_iphdr(&c, &iph);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = parse_ipv6hdr(&c, &ip6h);
	else
		return MX_STAT_PASS_NOT_GUARDED;

	if (r == MX_PARSE_OK)
		r = parse_tcphdr(&c, &th);
	switch (r) {
	case MX_PARSE_OK:
		break;
	case MX_PARSE_OTHER:
		return MX_STAT_PASS_NOT_GUARDED;
	case MX_PARSE_FRAGMENT:
		return MX_STAT_PASS_FRAGMENT;
	default:
		return MX_STAT_DROP_MALFORMED;
	}

	if (!port_guarded(cfg, th->dest))
		return MX_STAT_PASS_NOT_GUARDED;
	if (iph)
		return judge4(cfg, iph, th);
	if (ip6h)
		return judge6(cfg, ip6h, th);
	return MX_STAT_DROP_MALFORMED;
}

SEC("xdp")
int mxguard_xdp(struct xdp_md *ctx)
{
	__u32 stat = classify(ctx);

	stat_inc(stat);
	switch (stat) {
	case MX_STAT_DROP_BANNED:
	case MX_STAT_DROP_SOURCE_RATE:
	case MX_STAT_DROP_PREFIX_RATE:
	case MX_STAT_DROP_MALFORMED:
		return XDP_DROP;
	default:
		return XDP_PASS;
	}
}
