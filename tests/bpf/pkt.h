/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	pkt.h - crafted frames for BPF_PROG_TEST_RUN tests and benchmarks
 * DESCRIPTION
 *	pkt_build() writes one Ethernet frame from a struct pkt: up to two
 *	VLAN tags (802.1ad outer, 802.1Q inner), IPv4 with options and
 *	fragment fields, or IPv6 with a chain of extension headers, and a
 *	TCP (or UDP, ICMP) header with options. Lengths and checksums are
 *	filled in; anything a test wants broken it breaks afterwards.
 */
#ifndef MX_TEST_PKT_H
#define MX_TEST_PKT_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <stdint.h>
#include <string.h>

#define PKT_SYN		0x02
#define PKT_RST		0x04
#define PKT_ACK		0x10
#define PKT_MAX		512
#define PKT_MAX_EXT	12

struct pkt {
	int family;			/* AF_INET or AF_INET6 */
	const char *src, *dst;		/* addresses as text */
	int vlans;			/* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
	int proto;			/* IPPROTO_TCP (default when 0), _UDP, _ICMP */
	uint16_t sport, dport;		/* default 40000 -> 25 */
	uint8_t flags;			/* TCP flags; default SYN */
	unsigned int ip_opt_words;	/* IPv4 options, 4-byte words (0..10) */
	uint16_t frag;			/* IPv4: offset in 8-byte units | 0x2000 (MF) */
	uint8_t ext[PKT_MAX_EXT];	/* IPv6 extension headers, in order */
	unsigned int next;		/* how many of ext[] */
	uint16_t ext_frag;		/* IPv6 fragment header: offset in 8-byte units */
	unsigned int tcp_opt_words;	/* TCP options, 4-byte words (0..10) */
};

/* pkt_csum - the Internet checksum of a buffer */
static inline uint16_t pkt_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* pkt_l4 - the transport header */
static inline size_t pkt_l4(uint8_t *p, const struct pkt *o)
{
	int proto = o->proto ? o->proto : IPPROTO_TCP;

	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = (struct tcphdr *)p;
		size_t len = sizeof(*th) + o->tcp_opt_words * 4;

		memset(p, 0, len);
		th->source = htons(o->sport ? o->sport : 40000);
		th->dest = htons(o->dport ? o->dport : 25);
		th->seq = htonl(1);
		th->doff = (uint16_t)(len / 4);
		((uint8_t *)th)[13] = o->flags ? o->flags : PKT_SYN;
		th->window = htons(64240);
		for (size_t i = sizeof(*th); i < len; i++)
			p[i] = 1;	/* NOP options */
		return len;
	}
	/* UDP or ICMP: eight bytes will do for either. */
	memset(p, 0, 8);
	p[0] = 0x9c;
	p[1] = 0x40;
	p[2] = 0;
	p[3] = 25;
	p[5] = 8;
	return 8;
}

/* pkt_build - write the frame into buf (PKT_MAX bytes); its length */
static inline size_t pkt_build(uint8_t *buf, const struct pkt *o)
{
	static const uint8_t mac_dst[6] = { 0x02, 0, 0, 0, 0, 1 }, mac_src[6] = { 0x02, 0, 0, 0, 0, 2 };
	int proto = o->proto ? o->proto : IPPROTO_TCP;
	uint8_t *p = buf;
	size_t l4;

	memset(buf, 0, PKT_MAX);
	memcpy(p, mac_dst, 6);
	memcpy(p + 6, mac_src, 6);
	p += 12;
	if (o->vlans == 2) {
		*(uint16_t *)p = htons(ETH_P_8021AD);
		*(uint16_t *)(p + 2) = htons(100);
		p += 4;
	}
	if (o->vlans >= 1) {
		*(uint16_t *)p = htons(ETH_P_8021Q);
		*(uint16_t *)(p + 2) = htons(200);
		p += 4;
	}
	*(uint16_t *)p = htons(o->family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP);
	p += 2;

	if (o->family != AF_INET6) {
		struct iphdr *iph = (struct iphdr *)p;
		size_t hlen = sizeof(*iph) + o->ip_opt_words * 4;

		iph->version = 4;
		iph->ihl = (uint8_t)(hlen / 4);
		iph->ttl = 64;
		iph->protocol = (uint8_t)proto;
		iph->frag_off = htons(o->frag);
		inet_pton(AF_INET, o->src ? o->src : "198.18.0.10", &iph->saddr);
		inet_pton(AF_INET, o->dst ? o->dst : "198.18.0.1", &iph->daddr);
		for (size_t i = sizeof(*iph); i < hlen; i++)
			p[i] = 1;	/* NOP options */
		l4 = pkt_l4(p + hlen, o);
		iph->tot_len = htons((uint16_t)(hlen + l4));
		iph->check = pkt_csum(iph, hlen);
		return (size_t)(p - buf) + hlen + l4;
	}

	{
		struct ipv6hdr *ip6h = (struct ipv6hdr *)p;
		uint8_t *q = p + sizeof(*ip6h), *nexthdr = &ip6h->nexthdr;

		ip6h->version = 6;
		ip6h->hop_limit = 64;
		inet_pton(AF_INET6, o->src ? o->src : "2001:db8:1::10", &ip6h->saddr);
		inet_pton(AF_INET6, o->dst ? o->dst : "2001:db8:1::1", &ip6h->daddr);
		for (unsigned int i = 0; i < o->next && i < PKT_MAX_EXT; i++) {
			*nexthdr = o->ext[i];
			nexthdr = q;	/* every extension header starts with its next header */
			if (o->ext[i] == IPPROTO_FRAGMENT)
				*(uint16_t *)(q + 2) = htons((uint16_t)(o->ext_frag << 3));
			else
				q[1] = 0;	/* hdrlen 0: 8 bytes, padding options */
			q += 8;
		}
		*nexthdr = (uint8_t)proto;
		l4 = pkt_l4(q, o);
		ip6h->payload_len = htons((uint16_t)((size_t)(q - p) - sizeof(*ip6h) + l4));
		return (size_t)(q - buf) + l4;
	}
}

#endif /* MX_TEST_PKT_H */
