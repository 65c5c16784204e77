// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	bare.bpf.c - the cheapest XDP and TC programs, for benchmark baselines
 * DESCRIPTION
 *	make bench measures mxguard next to these in the same run and
 *	reports ratios, so that the numbers do not depend on the machine.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int bare_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bare_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* The traffic generator: with BPF_F_TEST_XDP_LIVE_FRAMES, each run sends its frame out. */
SEC("xdp")
int bare_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

/* The baseline of a TC ingress judge: on to the next program, as mx_cookie_ack ends. */
SEC("tc")
int bare_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

/*
 * A new source in every run, for the benchmark of SYNs from new sources:
 * BPF_PROG_TEST_RUN runs one frame over and over and keeps what a run
 * wrote into it, so this program moves the IPv4 source on (in
 * 100.64.0.0/10, map keys only) and runs the judge in next_judge[0]. With
 * src_span set, sources repeat after that many.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} next_judge SEC(".maps");

volatile __u32 src_span;
__u32 src_seq;

SEC("xdp")
int bare_next_src(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 *saddr = data + 14 + 12;
	__u32 n = ++src_seq;

	if ((void *)(saddr + 1) > end)
		return XDP_ABORTED;
	if (src_span)
		n %= src_span;
	*saddr = bpf_htonl(0x64400000U + (n & 0x3fffff));
	bpf_tail_call(ctx, &next_judge, 0);
	return XDP_ABORTED;
}
