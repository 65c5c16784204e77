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

#include "lookup.h"
#include "maps.h"
#include "mxguard.h"
#include "parsing.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * VERDICT - the counter MX_STAT_<name>, refused at compile time unless
 * MX_STATS declares it a verdict (PASS or DROP): what the program
 * returns for a frame is what its counter declares.
 */
#define VERDICT(name)								\
	(MX_STAT_##name + 0 * sizeof(struct {					\
		_Static_assert(MX_STAT_ACTION_##name != MX_ACTION_NONE,		\
			       "MX_STAT_" #name " is not a verdict in MX_STATS");	\
		int ok;								\
	}))

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
		return VERDICT(DROP_SOURCE_RATE);
	if (!bucket_take(buckets, pfx_key, now, cl->pfx_interval_ns,
			 cl->pfx_burst, MX_STAT_BUCKET_NEW_PREFIX))
		return VERDICT(DROP_PREFIX_RATE);
	return VERDICT(PASS_WITHIN_LIMITS);
}

/*
 * count_at_limit - is a live count (a count word, mxguard.h) at limit
 * or over? A limit of 0 is none; a DYING count is on its way out and
 * counts nothing.
 */
static __always_inline int count_at_limit(const __u64 *word, __u32 limit)
{
	__u32 c;

	if (!word || !limit)
		return 0;
	c = MX_COUNT_OF(*(volatile const __u64 *)word);
	return c != MX_COUNT_DYING && c >= limit;
}

/*
 * over_parallel - in drop mode, is the source or its prefix already at
 * its parallel limit? Only a hint: sk_lookup counts exactly and answers
 * the SYNs that race past this check with 421.
 */
static __always_inline int over_parallel(const struct mx_config *cfg, void *counts,
					 const void *src_key, const void *pfx_key,
					 const struct mx_class_limits *cl)
{
	if (!(cfg->flags & MX_CFG_F_PARALLEL_DROP))
		return 0;
	return count_at_limit(bpf_map_lookup_elem(counts, src_key), cl->src_parallel) ||
	       count_at_limit(bpf_map_lookup_elem(counts, pfx_key), cl->pfx_parallel);
}

/* is_new_conn - a SYN without ACK opens a connection */
static __always_inline int is_new_conn(const struct tcphdr *th)
{
	return th->syn && !th->ack;
}

/* note_syn - a SYN passes: tell sk_lookup it may count this flow */
static __always_inline __u32 note_syn(__u32 verdict, struct mx_flow *flow, __u64 now)
{
	__u32 slot;
	struct mx_syn_note *n;

	if (verdict != MX_STAT_PASS_WITHIN_LIMITS)
		return verdict;
	slot = syn_slot(flow);
	n = bpf_map_lookup_elem(&syn_seen, &slot);
	if (n && n->flow.family && !flow_eq(&n->flow, flow)) {
		__u32 other = slot ^ 1;
		struct mx_syn_note *m = bpf_map_lookup_elem(&syn_seen, &other);

		/* Taken by another flow: the neighbour if it is free, ours or older. */
		if (m && (!m->flow.family || flow_eq(&m->flow, flow) || m->seen_ns < n->seen_ns))
			n = m;
	}
	if (n) {
		__builtin_memcpy(&n->flow, flow, sizeof(*flow));
		n->seen_ns = now;
	}
	return verdict;
}

/* judge4 - the verdict for a TCP segment to a guarded port over IPv4 */
static __always_inline __u32 judge4(const struct mx_config *cfg,
				    const struct iphdr *iph,
				    const struct tcphdr *th)
{
	struct mx_bucket4_key src = { .kind = MX_BUCKET_SOURCE };
	struct mx_bucket4_key pfx = { .kind = MX_BUCKET_PREFIX };
	struct mx_flow flow = {};
	__u32 saddr = iph->saddr;
	struct mx_class_limits *cl;
	__u64 now;

	if (src_allowed4(cfg, saddr))
		return VERDICT(PASS_ALLOWLISTED);
	if (!(cfg->flags & MX_CFG_F_BAN_REPLY) && src_banned4(cfg, saddr))
		return VERDICT(DROP_BANNED);
	if (!is_new_conn(th))
		return VERDICT(PASS_SEGMENT);

	now = now_ns();
	cl = src_class4(cfg, saddr);
	if (!cl)
		return VERDICT(PASS_WITHIN_LIMITS);
	src.addr = saddr & cfg->src_mask4;
	pfx.addr = saddr & cfg->pfx_mask4;
	if (over_parallel(cfg, &conn_count4, &src, &pfx, cl))
		return VERDICT(DROP_PARALLEL);
	flow.family = AF_INET;
	flow.rport = bpf_ntohs(th->source);
	flow.lport = bpf_ntohs(th->dest);
	__builtin_memcpy(flow.remote, &saddr, 4);
	__builtin_memcpy(flow.local, &iph->daddr, 4);
	return note_syn(syn_verdict(&syn_bucket4, &src, &pfx, cl, now), &flow, now);
}

/* judge6 - the verdict for a TCP segment to a guarded port over IPv6 */
static __always_inline __u32 judge6(const struct mx_config *cfg,
				    const struct ipv6hdr *ip6h,
				    const struct tcphdr *th)
{
	struct mx_bucket6_key src = { .kind = MX_BUCKET_SOURCE };
	struct mx_bucket6_key pfx = { .kind = MX_BUCKET_PREFIX };
	struct mx_flow flow = {};
	struct mx_class_limits *cl;
	struct mx_addr6 saddr;
	__u64 now;

	__builtin_memcpy(saddr.addr, &ip6h->saddr, 16);
	if (src_allowed6(cfg, &saddr))
		return VERDICT(PASS_ALLOWLISTED);
	if (!(cfg->flags & MX_CFG_F_BAN_REPLY) && src_banned6(cfg, &saddr))
		return VERDICT(DROP_BANNED);
	if (!is_new_conn(th))
		return VERDICT(PASS_SEGMENT);

	now = now_ns();
	cl = src_class6(cfg, &saddr);
	if (!cl)
		return VERDICT(PASS_WITHIN_LIMITS);
	mask6(src.addr, saddr.addr, cfg->src_mask6);
	mask6(pfx.addr, saddr.addr, cfg->pfx_mask6);
	if (over_parallel(cfg, &conn_count6, &src, &pfx, cl))
		return VERDICT(DROP_PARALLEL);
	flow.family = AF_INET6;
	flow.rport = bpf_ntohs(th->source);
	flow.lport = bpf_ntohs(th->dest);
	__builtin_memcpy(flow.remote, saddr.addr, 16);
	__builtin_memcpy(flow.local, &ip6h->daddr, 16);
	return note_syn(syn_verdict(&syn_bucket6, &src, &pfx, cl, now), &flow, now);
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
	__be16 proto;
	int r;

	cfg = get_config();
	if (!cfg)
		return VERDICT(PASS_INACTIVE);

	if (parse_ethhdr(&c, &proto) != MX_PARSE_OK)
		return VERDICT(DROP_MALFORMED);
	if (proto == bpf_htons(ETH_P_IP))
		r = parse_iphdr(&c, &iph);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = parse_ipv6hdr(&c, &ip6h);
	else
		return VERDICT(PASS_NOT_GUARDED);

	if (r == MX_PARSE_OK)
		r = parse_tcphdr(&c, &th);
	switch (r) {
	case MX_PARSE_OK:
		break;
	case MX_PARSE_OTHER:
		return VERDICT(PASS_NOT_GUARDED);
	case MX_PARSE_FRAGMENT:
		return VERDICT(PASS_FRAGMENT);
	default:
		return VERDICT(DROP_MALFORMED);
	}

	if (!port_guarded(cfg, bpf_ntohs(th->dest)))
		return VERDICT(PASS_NOT_GUARDED);
	if (iph)
		return judge4(cfg, iph, th);
	if (ip6h)
		return judge6(cfg, ip6h, th);
	return VERDICT(DROP_MALFORMED);
}

/*
 * xdp_action - what becomes of a frame, by its verdict's action as
 * MX_STATS declares it. A counter that is no verdict never gets here
 * (VERDICT() refuses it at compile time); were one to, the frame is
 * aborted: dropped, and reported by the xdp:xdp_exception tracepoint.
 */
static __always_inline int xdp_action(__u32 stat)
{
	switch (mx_stat_action(stat)) {
	case MX_ACTION_PASS:
		return XDP_PASS;
	case MX_ACTION_DROP:
		return XDP_DROP;
	default:
		return XDP_ABORTED;
	}
}

SEC("xdp")
int mxguard_xdp(struct xdp_md *ctx)
{
	__u32 stat = classify(ctx);

	stat_inc(stat);
	return xdp_action(stat);
}
