// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	floor.bpf.c - the parts of mxguard's hot path alone, for benchmark floors
 * DESCRIPTION
 *	make bench times each of these next to mxguard_xdp and the bare
 *	programs (tests/bench/bench_xdp.c, "floors"), so that each cell of
 *	the judge can be set against what its parts cost by themselves:
 *
 *	  floor_parse		Ethernet, VLANs, IPv4/IPv6, TCP with parsing.h's
 *				checks, a constant port test; XDP_PASS
 *	  floor_cfg		floor_parse with the settings (an array lookup,
 *				the port bitmap) and one per-CPU counter: what
 *				mxguard does for every judged frame
 *	  floor_clock_boot	floor_cfg + bpf_ktime_get_boot_ns (mxguard's clock)
 *	  floor_clock_mono	floor_cfg + bpf_ktime_get_ns
 *	  floor_clock_coarse	floor_cfg + bpf_ktime_get_coarse_ns
 *	  floor_hash		floor_cfg + one lookup of the source in a hash map
 *				(a ban table): XDP_DROP if it is there
 *	  floor_lru_take	floor_cfg + one lookup of the source's bucket in an
 *				LRU hash and a compare-and-swap on it
 *	  floor_lru_new		floor_cfg + a lookup that misses and the insertion
 *				of a new key into an LRU hash (each run a key of
 *				its own, from a counter per CPU): a bucket
 *				created, and once the map is full, an eviction
 *	  floor_lru_new_nc	the same on an LRU hash with BPF_F_NO_COMMON_LRU
 *	  floor_trie		floor_cfg + one LPM trie lookup of the source
 *
 *	The maps are this object's own, none pinned; bench_xdp sizes and
 *	fills them. Nothing here runs on a real interface.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "mxguard.h"
#include "parsing.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MX_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} floor_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_config);
} floor_config SEC(".maps");

/* As bpf/maps.h's MX_EXACT_MAP. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct mx_ban);
} floor_exact SEC(".maps");

/* As bpf/maps.h's syn_bucket4; the bench sets the size. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000000);
	__type(key, struct mx_bucket4_key);
	__type(value, struct mx_bucket);
} floor_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1000000);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct mx_bucket4_key);
	__type(value, struct mx_bucket);
} floor_lru_nc SEC(".maps");

/* As bpf/maps.h's MX_PREFIX_MAP. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mx_lpm4_key);
	__type(value, struct mx_ban);
} floor_prefix SEC(".maps");

/* Where the clocks' readings go, so that each is used. */
__u64 floor_sink;
/* The next new key of floor_lru_new* on each CPU, a cache line apart (keys carry the CPU). */
struct {
	__u32 n;
	__u32 pad[15];
} floor_seq[64];

/* floor_stat - one per-CPU counter, as lookup.h's stat_inc */
static __always_inline void floor_stat(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&floor_stats, &idx);

	if (v)
		*v += 1;
}

/* floor_walk - the frame's IPv4 and TCP headers as mxguard's classify finds them; 0 if found */
static __always_inline int floor_walk(struct xdp_md *ctx, struct iphdr **iphp, struct tcphdr **thp)
{
	struct hdr_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct ipv6hdr *ip6h = NULL;
	__be16 proto;
	int r;

	*iphp = NULL;
	if (parse_ethhdr(&c, &proto) != MX_PARSE_OK)
		return -1;
	if (proto == bpf_htons(ETH_P_IP))
		r = parse_iphdr(&c, iphp);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = parse_ipv6hdr(&c, &ip6h);
	else
		return -1;
	if (r == MX_PARSE_OK)
		r = parse_tcphdr(&c, thp);
	return r == MX_PARSE_OK && *iphp ? 0 : -1;
}

/*
 * floor_head - floor_cfg's part of every program: the settings, the
 * walk, the port; the settings, or NULL when the frame is not judged
 */
static __always_inline struct mx_config *floor_head(struct xdp_md *ctx, struct iphdr **iphp,
						     struct tcphdr **thp)
{
	__u32 zero = 0;
	struct mx_config *cfg = bpf_map_lookup_elem(&floor_config, &zero);
	__u16 port;

	if (!cfg || !(cfg->flags & MX_CFG_F_ACTIVE))
		return NULL;
	if (floor_walk(ctx, iphp, thp))
		return NULL;
	port = bpf_ntohs((*thp)->dest);
	if (!(cfg->ports[(port >> 3) & (MX_PORT_BITMAP_BYTES - 1)] & (1 << (port & 7))))
		return NULL;
	return cfg;
}

/* The port floor_parse tests: a load and a compare, as port_guarded without the settings. */
const volatile __u16 floor_port = 25;

SEC("xdp")
int floor_parse(struct xdp_md *ctx)
{
	struct iphdr *iph;
	struct tcphdr *th;

	if (floor_walk(ctx, &iph, &th))
		return XDP_DROP;
	if (th->dest != bpf_htons(floor_port))
		floor_sink++;
	return XDP_PASS;
}

/* FLOOR_OPEN - floor_head; frames it does not judge pass, counted */
#define FLOOR_OPEN()								\
	struct iphdr *iph;							\
	struct tcphdr *th;							\
	if (!floor_head(ctx, &iph, &th)) {					\
		floor_stat(MX_STAT_PASS_NOT_GUARDED);				\
		return XDP_PASS;						\
	}

SEC("xdp")
int floor_cfg(struct xdp_md *ctx)
{
	FLOOR_OPEN();
	floor_stat(MX_STAT_PASS_SEGMENT);
	return XDP_PASS;
}

SEC("xdp")
int floor_clock_boot(struct xdp_md *ctx)
{
	FLOOR_OPEN();
	floor_sink = bpf_ktime_get_boot_ns();
	floor_stat(MX_STAT_PASS_SEGMENT);
	return XDP_PASS;
}

SEC("xdp")
int floor_clock_mono(struct xdp_md *ctx)
{
	FLOOR_OPEN();
	floor_sink = bpf_ktime_get_ns();
	floor_stat(MX_STAT_PASS_SEGMENT);
	return XDP_PASS;
}

SEC("xdp")
int floor_clock_coarse(struct xdp_md *ctx)
{
	FLOOR_OPEN();
	floor_sink = bpf_ktime_get_coarse_ns();
	floor_stat(MX_STAT_PASS_SEGMENT);
	return XDP_PASS;
}

SEC("xdp")
int floor_hash(struct xdp_md *ctx)
{
	__u32 saddr;

	FLOOR_OPEN();
	saddr = iph->saddr;
	if (bpf_map_lookup_elem(&floor_exact, &saddr)) {
		floor_stat(MX_STAT_DROP_BANNED);
		return XDP_DROP;
	}
	floor_stat(MX_STAT_PASS_SEGMENT);
	return XDP_PASS;
}

SEC("xdp")
int floor_lru_take(struct xdp_md *ctx)
{
	struct mx_bucket4_key k = { .kind = MX_BUCKET_SOURCE };
	struct mx_bucket *b;

	FLOOR_OPEN();
	k.addr = iph->saddr;
	b = bpf_map_lookup_elem(&floor_lru, &k);
	if (b) {
		__u64 old = *(volatile __u64 *)&b->tat_ns;

		__sync_val_compare_and_swap(&b->tat_ns, old, old + 1);
	}
	floor_stat(MX_STAT_PASS_WITHIN_LIMITS);
	return XDP_PASS;
}

/* floor_new - a lookup that misses, then a new key into map, as bucket_take creates one */
static __always_inline int floor_new(struct xdp_md *ctx, void *map)
{
	struct mx_bucket4_key k = { .kind = MX_BUCKET_SOURCE };
	struct mx_bucket fresh = { .tat_ns = 1 };

	__u32 cpu = bpf_get_smp_processor_id() & 63;

	FLOOR_OPEN();
	k.addr = ++floor_seq[cpu].n;
	k.kind = cpu;
	if (!bpf_map_lookup_elem(map, &k) &&
	    bpf_map_update_elem(map, &k, &fresh, BPF_NOEXIST) == 0)
		floor_stat(MX_STAT_BUCKET_NEW_SOURCE);
	floor_stat(MX_STAT_PASS_WITHIN_LIMITS);
	return XDP_PASS;
}

SEC("xdp")
int floor_lru_new(struct xdp_md *ctx)
{
	return floor_new(ctx, &floor_lru);
}

SEC("xdp")
int floor_lru_new_nc(struct xdp_md *ctx)
{
	return floor_new(ctx, &floor_lru_nc);
}

SEC("xdp")
int floor_trie(struct xdp_md *ctx)
{
	struct mx_lpm4_key k = { .prefixlen = 32 };

	FLOOR_OPEN();
	k.addr = iph->saddr;
	if (bpf_map_lookup_elem(&floor_prefix, &k)) {
		floor_stat(MX_STAT_DROP_BANNED);
		return XDP_DROP;
	}
	floor_stat(MX_STAT_PASS_SEGMENT);
	return XDP_PASS;
}
