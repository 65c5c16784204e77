/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	parsing.h - bounds-checked packet header walking for XDP
 * DESCRIPTION
 *	A header cursor in the manner of xdp-tools' parsing_helpers.h, but
 *	strict: IPv4 IHL and total length are validated, TCP is advanced by
 *	its data offset, IPv6 extension headers are walked in a bounded
 *	loop. Each parse_*() returns one of enum mx_parse.
 * SECURITY
 *	Every byte read is checked against data_end (for the verifier) and
 *	against the end of the L3 packet (for the protocol) first.
 */
#ifndef MX_PARSING_H
#define MX_PARSING_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>

#include "mxguard.h"

enum mx_parse {
	MX_PARSE_OK,		/* header found and valid */
	MX_PARSE_OTHER,		/* not ours to judge: pass */
	MX_PARSE_FRAGMENT,	/* a non-first fragment: pass */
	MX_PARSE_MALFORMED,	/* the kernel would drop it too: drop */
};

struct hdr_cursor {
	void *pos;
	void *end;	/* data_end */
	void *l3_end;	/* end of the IP packet by its own length field */
};

/* 802.1Q / 802.1ad tag: not in the UAPI headers. */
struct mx_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* IPv6 fragment header (RFC 8200 4.5). */
struct mx_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

#define MX_IP_OFFSET	0x1fff
#define MX_IP6_OFFSET	0xfff8

/* parse_ethhdr - skip Ethernet and up to two VLAN tags; give the EtherType */
static __always_inline int parse_ethhdr(struct hdr_cursor *c, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	__be16 type;

	if ((void *)(eth + 1) > c->end)
		return MX_PARSE_MALFORMED;
	c->pos = eth + 1;
	type = eth->h_proto;

#pragma unroll
	for (int i = 0; i < MX_MAX_VLAN_TAGS; i++) {
		struct mx_vlan_hdr *vh = c->pos;

		if (type != bpf_htons(ETH_P_8021Q) && type != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > c->end)
			return MX_PARSE_MALFORMED;
		type = vh->encap_proto;
		c->pos = vh + 1;
	}
	*proto = type;
	return MX_PARSE_OK;
}

/*
 * parse_iphdr - validate IPv4 and position at the TCP header
 *
 * Non-first fragments pass: without the first fragment, which carries
 * the ports and is judged, the kernel cannot reassemble the datagram.
 * A fragment at offset 8 bytes is the RFC 1858 overlap attack: drop.
 */
static __always_inline int parse_iphdr(struct hdr_cursor *c, struct iphdr **iphp)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot_len;
	__u16 frag;

	if ((void *)(iph + 1) > c->end)
		return MX_PARSE_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return MX_PARSE_MALFORMED;
	hlen = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hlen)
		return MX_PARSE_MALFORMED;
	if ((void *)iph + hlen > c->end || (void *)iph + tot_len > c->end)
		return MX_PARSE_MALFORMED;
	c->l3_end = (void *)iph + tot_len;
	*iphp = iph;

	if (iph->protocol != IPPROTO_TCP)
		return MX_PARSE_OTHER;
	frag = bpf_ntohs(iph->frag_off) & MX_IP_OFFSET;
	if (frag == 1)
		return MX_PARSE_MALFORMED;
	if (frag)
		return MX_PARSE_FRAGMENT;
	c->pos = (void *)iph + hlen;
	return MX_PARSE_OK;
}

/*
 * parse_ipv6hdr - validate IPv6, walk extension headers to TCP
 *
 * Hop-by-hop, routing, destination options and fragment headers are
 * skipped, at most MX_MAX_IPV6_EXT_HDRS of them: a longer chain is no
 * legitimate sender's and would otherwise hide the TCP header, so it is
 * malformed. Any other next header (UDP, ICMPv6, ESP, AH, none) is not
 * ours to judge.
 */
static __always_inline int parse_ipv6hdr(struct hdr_cursor *c, struct ipv6hdr **ip6hp)
{
	struct ipv6hdr *ip6h = c->pos;
	__u8 nexthdr;

	if ((void *)(ip6h + 1) > c->end)
		return MX_PARSE_MALFORMED;
	if (ip6h->version != 6)
		return MX_PARSE_MALFORMED;
	if ((void *)(ip6h + 1) + bpf_ntohs(ip6h->payload_len) > c->end)
		return MX_PARSE_MALFORMED;
	c->l3_end = (void *)(ip6h + 1) + bpf_ntohs(ip6h->payload_len);
	c->pos = ip6h + 1;
	*ip6hp = ip6h;
	nexthdr = ip6h->nexthdr;

	for (int i = 0; i < MX_MAX_IPV6_EXT_HDRS; i++) {
		struct ipv6_opt_hdr *oh = c->pos;
		struct mx_frag_hdr *fh = c->pos;

		switch (nexthdr) {
		case IPPROTO_TCP:
			return MX_PARSE_OK;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(oh + 1) > c->end)
				return MX_PARSE_MALFORMED;
			nexthdr = oh->nexthdr;
			c->pos += (oh->hdrlen + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(fh + 1) > c->end)
				return MX_PARSE_MALFORMED;
			if (bpf_ntohs(fh->frag_off) & MX_IP6_OFFSET)
				return MX_PARSE_FRAGMENT;
			nexthdr = fh->nexthdr;
			c->pos = fh + 1;
			break;
		default:
			return MX_PARSE_OTHER;
		}
		if (c->pos > c->l3_end)
			return MX_PARSE_MALFORMED;
	}
	return nexthdr == IPPROTO_TCP ? MX_PARSE_OK : MX_PARSE_MALFORMED;
}

/* parse_tcphdr - check the TCP header lies whole inside the IP packet */
static __always_inline int parse_tcphdr(struct hdr_cursor *c, struct tcphdr **tcphp)
{
	struct tcphdr *th = c->pos;
	__u32 doff;

	if ((void *)(th + 1) > c->end || (void *)(th + 1) > c->l3_end)
		return MX_PARSE_MALFORMED;
	doff = th->doff * 4;
	if (doff < sizeof(*th) || (void *)th + doff > c->l3_end)
		return MX_PARSE_MALFORMED;
	c->pos = (void *)th + doff;
	*tcphp = th;
	return MX_PARSE_OK;
}

#endif /* MX_PARSING_H */
