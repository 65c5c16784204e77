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
