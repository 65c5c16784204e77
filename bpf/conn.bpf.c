// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	conn.bpf.c - exact live-connection counts, and steering to 421
 * DESCRIPTION
 *	The parallel-connection limit. Three programs share the maps of
 *	maps.h with the XDP program (the agent reuses its map fds):
 *
 *	mx_lookup (sk_lookup)	runs for each SYN looking for a listener
 *				on a guarded port. It takes a slot for the
 *				source and for its prefix at once, so a
 *				burst of SYNs cannot all find the count
 *				below the limit, and notes the connection
 *				as pending. Over the limit (or banned, in
 *				reply mode) it steers the SYN to the
 *				responder's socket: the sender reads 421.
 *	mx_sockops (sock_ops)	at PASSIVE_ESTABLISHED moves a pending
 *				connection to live_flows and asks for state
 *				callbacks; at TCP_CLOSE gives the slot back.
 *	mx_cookie_ack (tc)	while the listener answers with SYN cookies
 *				(the agent attaches it then), judges each
 *				final ACK that carries a valid cookie, so
 *				that the limit holds however late it comes.
 *	mx_count_gc (syscall)	run by the agent: removes count entries
 *				that fell to zero (see count_take()).
 *	mx_flow_release,	run by the agent: release a flow whose
 *	mx_count_adjust		socket is gone, correct a count. Counts
 *	(syscall)		change only here, by compare-and-swap:
 *				userspace never writes them.
 *
 *	A steered connection keeps its local port (25), so it is told
 *	apart by its pending entry (MX_FLOW_STEERED) and never counted.
 *	A handshake that never completes leaves a pending entry with no
 *	socket behind it; the agent releases those (it sees the kernel's
 *	sockets through sock_diag) and counts each release.
 * SECURITY
 *	Every map can be full, and a flood of spoofed SYNs fills them. A
 *	connection that cannot be accounted for (no room for its count or
 *	its pending entry) is let through uncounted and counted as
 *	conn_table_full: a full table must never refuse a legitimate
 *	sender (sk_lookup's SK_DROP would answer it with a reset). Counts
 *	delete themselves when their last slot goes, so the tables hold
 *	what is live, not what was.
 */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lookup.h"
#include "maps.h"
#include "mxguard.h"
#include "parsing.h"

char LICENSE[] SEC("license") = "GPL";

#define CTX32(field)	(*(volatile __u32 *)&(field))

/*
 * count_take - add one to a live count, refusing at limit (0: none)
 *
 * 1: taken; 0: at the limit; -1: no room in the map or lost every
 * round. Counts are changed only by compare-and-swap of the whole word,
 * tag included (mxguard.h), so that an entry being deleted (DYING) is
 * never incremented and a reused one never taken for ours.
 */
static __always_inline int count_take(void *counts, const void *key, __u32 tag, __u32 limit)
{
	__u64 zero = mx_count_word(tag, 0), *n;

	for (int i = 0; i < MX_COUNT_RETRIES; i++) {
		__u64 v;
		__u32 c;

		n = bpf_map_lookup_elem(counts, key);
		if (!n) {
			if (bpf_map_update_elem(counts, key, &zero, BPF_NOEXIST) &&
			    !bpf_map_lookup_elem(counts, key))
				return -1;
			continue;
		}
		v = *(volatile __u64 *)n;
		c = MX_COUNT_OF(v);
		if (MX_COUNT_TAG_OF(v) != tag || c == MX_COUNT_DYING)
			continue;	/* reused, or being deleted: look again */
		if (limit && c >= limit)
			return 0;
		if (__sync_val_compare_and_swap(n, v, v + 1) == v)
			return 1;
	}
	return -1;
}

/*
 * count_give - take one from a live count; never below zero. The last
 * one deletes the entry at once (1 -> DYING, then delete): a count
 * table holds only sources with connections, without waiting for the
 * agent's collector.
 */
static __always_inline void count_give(void *counts, const void *key, __u32 tag)
{
	for (int i = 0; i < MX_COUNT_RETRIES; i++) {
		__u64 *n = bpf_map_lookup_elem(counts, key), v;
		__u32 c;

		if (!n)
			return;
		v = *(volatile __u64 *)n;
		c = MX_COUNT_OF(v);
		if (MX_COUNT_TAG_OF(v) != tag)
			continue;
		if (c == 0 || c == MX_COUNT_DYING)
			return;
		if (c == 1) {
			if (__sync_val_compare_and_swap(n, v, mx_count_word(tag, MX_COUNT_DYING)) == v) {
				bpf_map_delete_elem(counts, key);
				return;
			}
			continue;
		}
		if (__sync_val_compare_and_swap(n, v, v - 1) == v)
			return;
	}
}

/* slot_keys - the count keys of a source under the current masks */
static __always_inline void slot_keys(const struct mx_config *cfg, struct mx_flow_slot *slot,
				      const __u8 *remote, __u32 family)
{
	slot->family = family;
	if (family == AF_INET) {
		__u32 a = *(const __u32 *)remote;
		__u32 s = a & cfg->src_mask4, p = a & cfg->pfx_mask4;

		__builtin_memcpy(slot->src, &s, 4);
		__builtin_memcpy(slot->pfx, &p, 4);
	} else {
		mask6(slot->src, remote, cfg->src_mask6);
		mask6(slot->pfx, remote, cfg->pfx_mask6);
	}
}

/* The two counts a connection holds: the map, their keys and tags. */
struct slot_counts {
	void *map;
	struct mx_bucket6_key src, pfx;	/* IPv4: struct mx_bucket4_key at the start */
	__u32 src_tag, pfx_tag;
};

/* counts_of - the count map of a slot's family, and its two keys */
static __always_inline void counts_of(const struct mx_flow_slot *slot, struct slot_counts *sc)
{
	__builtin_memset(&sc->src, 0, sizeof(sc->src));
	__builtin_memset(&sc->pfx, 0, sizeof(sc->pfx));
	sc->src_tag = mx_count_tag(slot->family, MX_BUCKET_SOURCE, slot->src);
	sc->pfx_tag = mx_count_tag(slot->family, MX_BUCKET_PREFIX, slot->pfx);
	if (slot->family == AF_INET) {
		struct mx_bucket4_key *s4 = (void *)&sc->src, *p4 = (void *)&sc->pfx;

		__builtin_memcpy(&s4->addr, slot->src, 4);
		__builtin_memcpy(&p4->addr, slot->pfx, 4);
		s4->kind = MX_BUCKET_SOURCE;
		p4->kind = MX_BUCKET_PREFIX;
		sc->map = &conn_count4;
		return;
	}
	__builtin_memcpy(sc->src.addr, slot->src, 16);
	__builtin_memcpy(sc->pfx.addr, slot->pfx, 16);
	sc->src.kind = MX_BUCKET_SOURCE;
	sc->pfx.kind = MX_BUCKET_PREFIX;
	sc->map = &conn_count6;
}

/* slot_take - take a source and a prefix slot; 1, 0 (over) or -1 (full) */
static __always_inline int slot_take(const struct mx_flow_slot *slot,
				     const struct mx_class_limits *cl)
{
	struct slot_counts sc;
	int r;

	counts_of(slot, &sc);
	r = count_take(sc.map, &sc.src, sc.src_tag, cl ? cl->src_parallel : 0);
	if (r <= 0)
		return r;
	r = count_take(sc.map, &sc.pfx, sc.pfx_tag, cl ? cl->pfx_parallel : 0);
	if (r <= 0)
		count_give(sc.map, &sc.src, sc.src_tag);
	return r;
}

/* slot_give - give back what slot_take took */
static __always_inline void slot_give(const struct mx_flow_slot *slot)
{
	struct slot_counts sc;

	counts_of(slot, &sc);
	count_give(sc.map, &sc.src, sc.src_tag);
	count_give(sc.map, &sc.pfx, sc.pfx_tag);
}

/* steer - hand the connection to the responder's socket */
static __always_inline int steer(struct bpf_sk_lookup *ctx, __u32 family)
{
	__u32 idx = family == AF_INET ? MX_RESPONDER_V4 : MX_RESPONDER_V6;
	struct bpf_sock *sk = bpf_map_lookup_elem(&responder_socks, &idx);
	long err;

	if (!sk) {
		/* No agent to answer: drop, the sender retries later. */
		stat_inc(MX_STAT_CONN_NO_RESPONDER);
		return SK_DROP;
	}
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err) {
		stat_inc(MX_STAT_CONN_NO_RESPONDER);
		return SK_DROP;
	}
	return SK_PASS;
}

SEC("sk_lookup")
int mx_lookup(struct bpf_sk_lookup *ctx)
{
	struct mx_flow flow = {};
	struct mx_flow_slot slot = {};
	struct mx_class_limits *cl;
	struct mx_flow_slot *old;
	struct mx_config *cfg;
	int banned, r;

	if (ctx->protocol != IPPROTO_TCP)
		return SK_PASS;
	cfg = get_config();
	if (!cfg || !port_guarded(cfg, (__u16)ctx->local_port))
		return SK_PASS;

	flow.family = ctx->family;
	flow.rport = bpf_ntohs((__u16)ctx->remote_port);
	flow.lport = (__u16)ctx->local_port;
	slot.since_ns = now_ns();
	if (ctx->family == AF_INET) {
		__u32 ra = ctx->remote_ip4, la = ctx->local_ip4;

		__builtin_memcpy(flow.remote, &ra, 4);
		__builtin_memcpy(flow.local, &la, 4);
		if (src_allowed4(cfg, ra))
			return SK_PASS;
		banned = src_banned4(cfg, ra);
		cl = src_class4(cfg, ra);
	} else if (ctx->family == AF_INET6) {
		struct mx_addr6 ra;

		__builtin_memcpy(ra.addr, ctx->remote_ip6, 16);
		__builtin_memcpy(flow.remote, ctx->remote_ip6, 16);
		__builtin_memcpy(flow.local, ctx->local_ip6, 16);
		if (src_allowed6(cfg, &ra))
			return SK_PASS;
		banned = src_banned6(cfg, &ra);
		cl = src_class6(cfg, &ra);
	} else {
		return SK_PASS;
	}

	/* A SYN again for a connection already judged: the same answer. */
	old = bpf_map_lookup_elem(&pending_flows, &flow);
	if (old)
		return old->kind == MX_FLOW_STEERED ? steer(ctx, flow.family) : SK_PASS;

	/* Not a SYN that XDP passed (a stray segment): not ours to count. */
	{
		__u32 slot = syn_slot(&flow);
		struct mx_syn_note *n = bpf_map_lookup_elem(&syn_seen, &slot);

		if (!n || !flow_eq(&n->flow, &flow)) {
			slot ^= 1;	/* XDP may have put it in the neighbour */
			n = bpf_map_lookup_elem(&syn_seen, &slot);
		}
		if (!n || !flow_eq(&n->flow, &flow))
			return SK_PASS;
		n->flow.family = 0;	/* taken: a later stray copy finds nothing */
	}

	slot_keys(cfg, &slot, flow.remote, flow.family);
	if (banned) {
		slot.kind = MX_FLOW_STEERED;
		stat_inc(MX_STAT_CONN_BANNED);
	} else {
		r = slot_take(&slot, cl);
		if (r < 0) {
			/* No room to count it: let it through uncounted. */
			stat_inc(MX_STAT_CONN_TABLE_FULL);
			return SK_PASS;
		}
		slot.kind = r ? MX_FLOW_ADMITTED : MX_FLOW_STEERED;
		stat_inc(r ? MX_STAT_CONN_ADMITTED : MX_STAT_CONN_OVER_LIMIT);
	}
	if (bpf_map_update_elem(&pending_flows, &flow, &slot, BPF_NOEXIST)) {
		/*
		 * No room to remember it: an admitted one goes through
		 * uncounted, a steered one is still steered (it held nothing).
		 */
		if (slot.kind == MX_FLOW_ADMITTED)
			slot_give(&slot);
		stat_inc(MX_STAT_CONN_TABLE_FULL);
	}
	return slot.kind == MX_FLOW_STEERED ? steer(ctx, flow.family) : SK_PASS;
}

/*
 * flow_of_sock - the flow key of an established socket, as sk_lookup
 * built it: an IPv4 peer on a dual-stack socket (::ffff:a.b.c.d) is
 * keyed as IPv4.
 */
static __always_inline void flow_of_sock(struct bpf_sock_ops *skops, struct mx_flow *flow)
{
	flow->rport = (__u16)bpf_ntohl(skops->remote_port);
	flow->lport = (__u16)skops->local_port;
	if (skops->family == AF_INET) {
		__u32 ra = skops->remote_ip4, la = skops->local_ip4;

		flow->family = AF_INET;
		__builtin_memcpy(flow->remote, &ra, 4);
		__builtin_memcpy(flow->local, &la, 4);
		return;
	}
	if (CTX32(skops->remote_ip6[0]) == 0 && CTX32(skops->remote_ip6[1]) == 0 &&
	    CTX32(skops->remote_ip6[2]) == bpf_htonl(0xffff)) {
		__u32 ra = CTX32(skops->remote_ip6[3]), la = CTX32(skops->local_ip6[3]);

		flow->family = AF_INET;
		__builtin_memcpy(flow->remote, &ra, 4);
		__builtin_memcpy(flow->local, &la, 4);
		return;
	}
	flow->family = AF_INET6;
	{
		/* One 32-bit load each: the context refuses wider ones. */
		__u32 r[4] = { CTX32(skops->remote_ip6[0]), CTX32(skops->remote_ip6[1]),
			       CTX32(skops->remote_ip6[2]), CTX32(skops->remote_ip6[3]) };
		__u32 l[4] = { CTX32(skops->local_ip6[0]), CTX32(skops->local_ip6[1]),
			       CTX32(skops->local_ip6[2]), CTX32(skops->local_ip6[3]) };

		__builtin_memcpy(flow->remote, r, 16);
		__builtin_memcpy(flow->local, l, 16);
	}
}

/* flow_allowed - is the flow's source allowlisted? */
static __always_inline int flow_allowed(const struct mx_flow *flow)
{
	struct mx_addr6 a6;
	__u32 a4;

	if (flow->family == AF_INET) {
		__builtin_memcpy(&a4, flow->remote, 4);
		return src_allowed4(NULL, a4);
	}
	__builtin_memcpy(a6.addr, flow->remote, 16);
	return src_allowed6(NULL, &a6);
}

/* established - a handshake completed: pending -> live */
static __always_inline void established(struct bpf_sock_ops *skops, const struct mx_config *cfg)
{
	struct mx_flow flow = {};
	struct mx_flow_slot slot = {}, *p;

	flow_of_sock(skops, &flow);
	p = bpf_map_lookup_elem(&pending_flows, &flow);
	if (!p && flow_allowed(&flow))
		return;	/* sk_lookup let it pass uncounted: so does sock_ops */
	if (p) {
		slot = *p;
		/* Whoever deletes the pending entry owns its slot. */
		if (bpf_map_delete_elem(&pending_flows, &flow) == 0) {
			if (slot.kind == MX_FLOW_STEERED)
				return;
			goto live;
		}
	}
	/*
	 * No pending entry: the agent released it (its request socket was
	 * gone, or its time ran out) just before the handshake completed.
	 * The connection is real: count it now, whatever the limit.
	 */
	stat_inc(MX_STAT_CONN_LATE);
	slot_keys(cfg, &slot, flow.remote, flow.family);
	slot.kind = MX_FLOW_ADMITTED;
	if (slot_take(&slot, NULL) < 0)
		return;
live:
	slot.since_ns = now_ns();
	if (bpf_map_update_elem(&live_flows, &flow, &slot, BPF_ANY)) {
		slot_give(&slot);
		stat_inc(MX_STAT_CONN_TABLE_FULL);
		return;
	}
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
				  BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* closed - a live connection is closing: give its slot back, once */
static __always_inline void closed(struct bpf_sock_ops *skops)
{
	struct mx_flow flow = {};
	struct mx_flow_slot slot, *p;

	flow_of_sock(skops, &flow);
	p = bpf_map_lookup_elem(&live_flows, &flow);
	if (!p)
		return;
	slot = *p;
	if (bpf_map_delete_elem(&live_flows, &flow) == 0) {
		slot_give(&slot);
		stat_inc(MX_STAT_CONN_CLOSED);
	}
}

SEC("sockops")
int mx_sockops(struct bpf_sock_ops *skops)
{
	struct mx_config *cfg = get_config();

	if (!cfg || !port_guarded(cfg, (__u16)skops->local_port))
		return 1;
	if (cfg->netns_cookie && bpf_get_netns_cookie(skops) != cfg->netns_cookie)
		return 1;

	switch (skops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		established(skops, cfg);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		/*
		 * The slot is free once our side has closed (FIN_WAIT1, or
		 * LAST_ACK after the peer's FIN) or the connection is gone
		 * (CLOSE: reset, timeout). A connection the MTA closed first
		 * does not hold a slot through FIN_WAIT2 and TIME_WAIT.
		 */
		switch (skops->args[1]) {
		case BPF_TCP_FIN_WAIT1:
		case BPF_TCP_LAST_ACK:
		case BPF_TCP_CLOSING:
		case BPF_TCP_CLOSE:
			closed(skops);
			break;
		default:
			break;
		}
		break;
	default:
		break;
	}
	return 1;
}

/*
 * SYN cookies. A listener answering with a cookie keeps no request
 * socket, so the agent releases the SYN's pending entry two seconds on,
 * and the final ACK may come later still: a cookie is good for two
 * minutes. sk_lookup runs for that ACK but cannot tell it from a stray
 * segment (it sees no TCP flags), and established() would count it
 * whatever the limit. mx_cookie_ack, at TC ingress of the guarded
 * interface, sees the ACK before the stack does and judges it as
 * sk_lookup judges a SYN:
 *
 *   the flow still has its pending entry	its verdict stands; the entry
 *						is renewed so that the agent
 *						does not release it meanwhile
 *   the flow has a socket already		not judged (a duplicate ACK,
 *						early data)
 *   otherwise					a slot is taken now under the
 *						limit, and the flow noted
 *						pending, admitted or steered
 *
 * Admitted, the ACK goes on: sk_lookup finds the pending entry and
 * passes it to the MTA's listener, whose kernel decodes the cookie.
 * Steered (over the limit, or banned in reply mode), it becomes a
 * request socket of the responder's listener (bpf_sk_assign_tcp_reqsk)
 * and the sender reads 421 (554). Steering it in sk_lookup instead
 * would meet the responder's own cookie check, which refuses (with a
 * reset) cookies unless that listener itself sent some lately
 * (tcp_synq_no_recent_overflow); the kfunc's request socket skips it.
 *
 * Only an ACK whose cookie the kernel would accept is judged
 * (bpf_tcp_raw_check_syncookie_*: the same secret, the same age): a
 * spoofed or stray ACK never takes a slot. The program never drops: on
 * any failure the stack gets the segment as it would without us.
 */

/* Not in the UAPI headers: the kfunc's options of the connection. */
struct bpf_tcp_req_attrs {
	__u32 rcv_tsval;
	__u32 rcv_tsecr;
	__u16 mss;
	__u8 rcv_wscale;
	__u8 snd_wscale;
	__u8 ecn_ok;
	__u8 wscale_ok;
	__u8 sack_ok;
	__u8 tstamp_ok;
	__u8 usec_ts_ok;
	__u8 reserved[3];
};

/*
 * The kfunc's argument type is checked by name against the kernel's
 * BTF: it must be a struct sock with a body (a forward declaration is
 * not matched). The body is never used.
 */
struct sock {
	int __opaque;
};

extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs, int attrs__sz) __ksym;

/* tcx: on to the next program, then the stack. The judge never ends the chain. */
#define MX_TC_NEXT	TC_ACT_UNSPEC

/* The options of a Linux timestamp block at the start: NOP NOP TS(10). */
#define MX_TCPOPT_NOP_NOP_TS	0x0101080a

/*
 * pending_renew - a flow's pending entry, renewed (since_ns = now) so
 * that the agent leaves it for its handshake to complete: 1 and its
 * kind; 0 if there is none; -1 if it could not be renewed. A renewal
 * and the agent's release are each a compare-and-swap of since_ns
 * (mx_flow_release): exactly one of them wins. An entry being released
 * is gone a moment later: look again.
 */
static __always_inline int pending_renew(const struct mx_flow *flow, __u64 now, __u32 *kind)
{
	for (int i = 0; i < MX_COUNT_RETRIES; i++) {
		struct mx_flow_slot *p = bpf_map_lookup_elem(&pending_flows, flow);
		__u64 since;

		if (!p)
			return 0;
		since = *(volatile __u64 *)&p->since_ns;
		if (since == MX_SINCE_RELEASING)
			continue;
		if (__sync_val_compare_and_swap(&p->since_ns, since, now) == since) {
			*kind = p->kind;
			return 1;
		}
	}
	return -1;
}

/* has_socket - does the flow have a socket already (not only a listener)? */
static __always_inline int has_socket(struct __sk_buff *skb, const struct mx_flow *flow)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 len;
	int found;

	/* From the key on the stack: the packet pointers are not the verifier's to trust here. */
	if (flow->family == AF_INET) {
		__builtin_memcpy(&t.ipv4.saddr, flow->remote, 4);
		__builtin_memcpy(&t.ipv4.daddr, flow->local, 4);
		t.ipv4.sport = bpf_htons(flow->rport);
		t.ipv4.dport = bpf_htons(flow->lport);
		len = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, flow->remote, 16);
		__builtin_memcpy(t.ipv6.daddr, flow->local, 16);
		t.ipv6.sport = bpf_htons(flow->rport);
		t.ipv6.dport = bpf_htons(flow->lport);
		len = sizeof(t.ipv6);
	}
	/* Runs sk_lookup too: mx_lookup has nothing to do for a flow not pending. */
	sk = bpf_skc_lookup_tcp(skb, &t, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	found = sk->state != BPF_TCP_LISTEN;
	bpf_sk_release(sk);
	return found;
}

/*
 * cookie_judge - the verdict for a cookie ACK of a flow with no pending
 * entry: a slot taken now under the class limit (as sk_lookup takes one
 * for a SYN), noted pending. The kind noted, or 0 to leave the segment
 * to the stack unjudged.
 */
static __always_inline __u32 cookie_judge(const struct mx_config *cfg, const struct mx_flow *flow,
					  __u64 now)
{
	struct mx_flow_slot slot = { .since_ns = now };
	struct mx_class_limits *cl;
	__u32 stat;
	int banned, r;

	if (flow->family == AF_INET) {
		__u32 ra;

		__builtin_memcpy(&ra, flow->remote, 4);
		banned = src_banned4(cfg, ra);
		cl = src_class4(cfg, ra);
	} else {
		struct mx_addr6 ra;

		__builtin_memcpy(ra.addr, flow->remote, 16);
		banned = src_banned6(cfg, &ra);
		cl = src_class6(cfg, &ra);
	}
	slot_keys(cfg, &slot, flow->remote, flow->family);
	if (banned) {
		slot.kind = MX_FLOW_STEERED;
		stat = MX_STAT_CONN_BANNED;
	} else {
		r = slot_take(&slot, cl);
		if (r < 0) {
			/* No room to count it: let it through uncounted, as sk_lookup would. */
			stat_inc(MX_STAT_CONN_TABLE_FULL);
			return 0;
		}
		slot.kind = r ? MX_FLOW_ADMITTED : MX_FLOW_STEERED;
		stat = r ? MX_STAT_CONN_COOKIE_ADMITTED : MX_STAT_CONN_COOKIE_OVER_LIMIT;
	}
	r = bpf_map_update_elem(&pending_flows, flow, &slot, BPF_NOEXIST);
	if (r == -EEXIST) {
		/* A copy of this ACK on another CPU was judged first: its verdict stands. */
		if (slot.kind == MX_FLOW_ADMITTED)
			slot_give(&slot);
		return 0;
	}
	stat_inc(stat);
	if (r) {
		/* No room to remember it: as in sk_lookup. */
		stat_inc(MX_STAT_CONN_TABLE_FULL);
		if (slot.kind == MX_FLOW_ADMITTED) {
			slot_give(&slot);
			return 0;
		}
	}
	return slot.kind;
}

/* A cookie ACK as the judge needs it: its flow, and its timestamps if any. */
struct cookie_ack {
	struct mx_flow flow;
	__u32 tsval, tsecr;
	__u32 ts_ok;
	__u32 pad;
};

/*
 * cookie_to_responder - make the ACK a request socket of the responder's
 * listener; 0 on success. The options the cookie stands for are hidden
 * (the kernel keeps them in the timestamp, offset by a per-flow secret):
 * a minimal MSS, no window scaling, no SACK, timestamps echoed when the
 * ACK has them. Enough for a reply line and a QUIT.
 */
static __always_inline long cookie_to_responder(struct __sk_buff *skb, const struct cookie_ack *ack)
{
	__u32 idx = ack->flow.family == AF_INET ? MX_RESPONDER_V4 : MX_RESPONDER_V6;
	struct bpf_tcp_req_attrs attrs = {
		.mss = ack->flow.family == AF_INET ? 536 : 1220,
		.tstamp_ok = ack->ts_ok ? 1 : 0,
		.rcv_tsval = ack->tsval,
		.rcv_tsecr = ack->tsecr,
	};
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	long err = -1;

	sk = bpf_map_lookup_elem(&responder_socks, &idx);
	if (!sk)
		return -1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (tp)
		err = bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tp, &attrs, sizeof(attrs));
	bpf_sk_release(sk);
	return err;
}

/*
 * cookie_ack_judge - judge a cookie ACK (see above). A global function:
 * the verifier checks it once, not once for every way the packet parser
 * can end (IPv6 extension headers), which together would exceed its
 * limit. Returns the kind the flow ended with, or 0 if left unjudged.
 */
__noinline int cookie_ack_judge(struct __sk_buff *skb, struct cookie_ack *ack)
{
	struct mx_config *cfg = get_config();
	struct mx_flow flow;
	__u32 kind = 0;
	__u64 now;
	int r;

	if (!skb || !ack || !cfg)
		return 0;
	flow = ack->flow;
	if (flow.family != AF_INET && flow.family != AF_INET6)
		return 0;
	if (flow_allowed(&flow))
		return 0;

	now = now_ns();
	r = pending_renew(&flow, now, &kind);
	if (r < 0)
		return 0;	/* every round lost: established() counts it (conn_late) */
	if (r == 0) {
		if (has_socket(skb, &flow))
			return 0;
		kind = cookie_judge(cfg, &flow, now);
	}
	/*
	 * Should the kfunc fail, sk_lookup steers the ACK by its pending
	 * entry: the responder answers 421 if it sent cookies lately, else a
	 * reset (or, with no responder, it is dropped and counted there).
	 */
	if (kind == MX_FLOW_STEERED)
		cookie_to_responder(skb, ack);
	return (int)kind;
}

SEC("tc")
int mx_cookie_ack(struct __sk_buff *skb)
{
	struct hdr_cursor c = {
		.pos = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
	};
	struct cookie_ack ack = {};
	struct ipv6hdr *ip6h = NULL;
	struct iphdr *iph = NULL;
	struct mx_config *cfg;
	struct tcphdr *th;
	__be16 proto;
	__u8 *o;
	int r;

	cfg = get_config();
	if (!cfg || parse_ethhdr(&c, &proto) != MX_PARSE_OK)
		return MX_TC_NEXT;
	if (proto == bpf_htons(ETH_P_IP))
		r = parse_iphdr(&c, &iph);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = parse_ipv6hdr(&c, &ip6h);
	else
		return MX_TC_NEXT;
	if (r != MX_PARSE_OK || parse_tcphdr(&c, &th) != MX_PARSE_OK)
		return MX_TC_NEXT;
	if (!th->ack || th->syn || th->rst || !port_guarded(cfg, bpf_ntohs(th->dest)))
		return MX_TC_NEXT;

	/* The kernel's own check of the cookie, less the listener's recent-overflow test. */
	if (iph) {
		if (bpf_tcp_raw_check_syncookie_ipv4(iph, th))
			return MX_TC_NEXT;
		ack.flow.family = AF_INET;
		__builtin_memcpy(ack.flow.remote, &iph->saddr, 4);
		__builtin_memcpy(ack.flow.local, &iph->daddr, 4);
	} else if (ip6h) {
		if (bpf_tcp_raw_check_syncookie_ipv6(ip6h, th))
			return MX_TC_NEXT;
		ack.flow.family = AF_INET6;
		__builtin_memcpy(ack.flow.remote, &ip6h->saddr, 16);
		__builtin_memcpy(ack.flow.local, &ip6h->daddr, 16);
	} else {
		return MX_TC_NEXT;
	}
	ack.flow.rport = bpf_ntohs(th->source);
	ack.flow.lport = bpf_ntohs(th->dest);
	/* Timestamps where Linux puts them: NOP NOP TS first. */
	o = (__u8 *)(th + 1);
	if (th->doff >= 8 && (void *)(o + 12) <= c.end &&
	    *(__be32 *)o == bpf_htonl(MX_TCPOPT_NOP_NOP_TS)) {
		ack.ts_ok = 1;
		ack.tsval = bpf_ntohl(*(__be32 *)(o + 4));
		ack.tsecr = bpf_ntohl(*(__be32 *)(o + 8));
	}
	cookie_ack_judge(skb, &ack);
	return MX_TC_NEXT;
}

/*
 * gc_one - claim a zero count (0 -> DYING) and delete it. Counts delete
 * themselves when their last slot goes (count_give); zeros remain only
 * where a take created an entry and then found the limit, or failed.
 */
static long gc_one(void *map, const void *key, __u64 *val, void *ctx)
{
	__u64 *freed = ctx, v = *(volatile __u64 *)val;
	__u64 dying = mx_count_word(MX_COUNT_TAG_OF(v), MX_COUNT_DYING);

	if (MX_COUNT_OF(v) == 0 && __sync_val_compare_and_swap(val, v, dying) == v &&
	    bpf_map_delete_elem(map, key) == 0)
		(*freed)++;
	return 0;
}

/* How many zero counts the last mx_count_gc run removed. */
__u64 mx_gc_freed;

SEC("syscall")
int mx_count_gc(void *ctx)
{
	__u64 freed = 0;

	bpf_for_each_map_elem(&conn_count4, gc_one, &freed, 0);
	bpf_for_each_map_elem(&conn_count6, gc_one, &freed, 0);
	mx_gc_freed = freed;
	return 0;
}

/*
 * op_read - copy the agent's argument out of the context. A syscall
 * program may only load at constant offsets from the context pointer,
 * so the copy is unrolled into 64-bit loads.
 */
static __always_inline void op_read(struct mx_conn_op *dst, const struct mx_conn_op *op)
{
	__u64 *d = (__u64 *)dst;

#pragma unroll
	for (int i = 0; i < sizeof(*dst) / 8; i++)
		d[i] = ((volatile const __u64 *)op)[i];
}

/*
 * mx_flow_release - drop a flow the agent found without a socket, and
 * give back its slot. Deleting the entry is what claims it, so a
 * handshake completing at the same moment (established()) and this
 * release can never both give the slot back.
 *
 * Only the entry as the agent saw it goes: one renewed since (its
 * since_ns moved on) stays. The claim is a compare-and-swap of since_ns
 * to MX_SINCE_RELEASING, which a renewal (another compare-and-swap of
 * the same word) cannot overlap; the agent's copy of the entry may be
 * a slice of the sweep old.
 */
SEC("syscall")
int mx_flow_release(struct mx_conn_op *op)
{
	struct mx_conn_op arg;
	struct mx_flow_slot slot, *p;
	struct mx_flow flow;
	void *map;

	op_read(&arg, op);
	flow = arg.flow;
	map = arg.live ? (void *)&live_flows : (void *)&pending_flows;

	op->result = MX_RELEASE_NONE;
	p = bpf_map_lookup_elem(map, &flow);
	if (!p || arg.since_ns == MX_SINCE_RELEASING ||
	    __sync_val_compare_and_swap(&p->since_ns, arg.since_ns, MX_SINCE_RELEASING) !=
	    arg.since_ns)
		return 0;
	slot = *p;
	if (bpf_map_delete_elem(map, &flow))
		return 0;
	if (slot.kind == MX_FLOW_STEERED) {
		op->result = MX_RELEASE_STEERED;
		return 0;
	}
	slot_give(&slot);
	op->result = MX_RELEASE_SLOT;
	return 0;
}

/*
 * mx_flow_adopt - count a connection that was open before the agent
 * started (sock_ops never saw its handshake, so it will not see its
 * close either: the agent's sweep releases it when its socket is gone).
 */
SEC("syscall")
int mx_flow_adopt(struct mx_conn_op *op)
{
	struct mx_conn_op arg;
	struct mx_flow_slot slot = {};
	struct mx_config *cfg = get_config();

	op->result = 0;
	if (!cfg)
		return 0;
	op_read(&arg, op);
	slot_keys(cfg, &slot, arg.flow.remote, arg.flow.family);
	slot.kind = MX_FLOW_ADOPTED;
	slot.since_ns = now_ns();
	if (bpf_map_update_elem(&live_flows, &arg.flow, &slot, BPF_NOEXIST))
		return 0;	/* already tracked, or no room */
	if (slot_take(&slot, NULL) < 0) {
		bpf_map_delete_elem(&live_flows, &arg.flow);
		return 0;
	}
	op->result = 1;
	return 0;
}

/*
 * mx_count_adjust - add delta to one count (reconciliation), never below
 * 0. A count that comes to 0 stays until the collector takes it.
 */
SEC("syscall")
int mx_count_adjust(struct mx_conn_op *op)
{
	struct mx_conn_op arg;
	struct mx_bucket6_key key6;
	struct mx_bucket4_key key4;
	__u32 tag;
	__s32 delta;
	void *counts;
	void *key;
	__u64 *n = NULL;

	op_read(&arg, op);
	key6 = arg.key;
	key4.kind = arg.key.kind;
	delta = arg.delta;
	if (arg.family == AF_INET) {
		__builtin_memcpy(&key4.addr, arg.key.addr, 4);
		__builtin_memset(key6.addr + 4, 0, 12);
		counts = &conn_count4;
		key = &key4;
	} else {
		counts = &conn_count6;
		key = &key6;
	}
	tag = mx_count_tag(arg.family, arg.key.kind, key6.addr);
	for (int i = 0; i < MX_COUNT_RETRIES; i++) {
		__u64 zero = mx_count_word(tag, 0), v;
		__u32 c, nc;

		n = bpf_map_lookup_elem(counts, key);
		if (!n) {
			if (delta <= 0)
				break;
			bpf_map_update_elem(counts, key, &zero, BPF_NOEXIST);
			continue;
		}
		v = *(volatile __u64 *)n;
		c = MX_COUNT_OF(v);
		if (MX_COUNT_TAG_OF(v) != tag || c == MX_COUNT_DYING)
			continue;
		nc = delta < 0 && (__u32)-delta > c ? 0 : c + delta;
		if (__sync_val_compare_and_swap(n, v, mx_count_word(tag, nc)) == v) {
			op->result = nc;
			return 0;
		}
	}
	op->result = n ? MX_COUNT_OF(*n) : 0;
	return 0;
}
