// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	synflood - send a spoofed-source TCP flood with valid checksums (a test tool)
 * SYNOPSIS
 *	synflood -i IFACE -d DSTMAC -t DSTADDR [-p PORT] [-s SRCBASE] [-n SOURCES]
 *		 [-c COUNT] [-r RATE] [-f syn|ack|rst] [-S SEED]
 * DESCRIPTION
 *	Writes COUNT (default 20000) Ethernet frames, each carrying one TCP
 *	segment for DSTADDR port PORT (default 25), out of IFACE through an
 *	AF_PACKET socket, from the interface's own MAC address to DSTMAC
 *	(aa:bb:cc:dd:ee:ff). The family follows DSTADDR. IPv4 header and TCP
 *	checksums are valid, so the receiving kernel's TCP stack takes the
 *	segments: a listener answers SYNs with SYN-ACKs, and with SYN cookies
 *	once its queue is full.
 *
 *	The sources are SRCBASE + i for i in 0..SOURCES-1 (IPv4: added to the
 *	address; IPv6: to its /64 prefix, the high 64 bits, since receivers
 *	such as mxguard count an IPv6 sender per /64), used in turn, so that COUNT >=
 *	SOURCES frames come from exactly SOURCES addresses. SRCBASE defaults
 *	to 198.19.0.1 or 2001:db8:ff::1, SOURCES to 1. Source ports and
 *	sequence numbers are random, from a xorshift generator seeded with
 *	SEED (default, or 0: from the clock).
 *
 *	-f syn (default) sends SYNs with an MSS option; ack, bare ACKs with a
 *	random acknowledgement number (an ACK flood); rst, RSTs. RATE caps
 *	the frames per second (default: as fast as the socket takes them).
 *	Frames leave in batches through sendmmsg(), past the qdisc where
 *	PACKET_QDISC_BYPASS is available.
 *
 *	Every address must lie in 198.18.0.0/15 or 2001:db8::/32, the test
 *	ranges; anything else is refused. A receiver drops sources that are
 *	its own or a broadcast address of its networks, so choose SRCBASE
 *	outside them, and route that range back to the sender's side so that
 *	the answers die there.
 *
 *	Prints "sent N frames from M sources in T s (R/s)" and exits 0; on an
 *	error, one line on stderr and exit 1; on bad arguments, usage and 2.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rawpkt.h"

#define BATCH		64	/* frames per sendmmsg() */
#define FRAME_MAX	128	/* 14 + 40 + 24 bytes at most */
#define NET_ALIGN	2	/* puts the IP header on a 4-byte boundary */
#define RETRY_US	100	/* pause when the device is full ... */
#define RETRY_MAX	10000	/* ... and for at most this many in a row */

struct flood {
	int family;
	uint8_t src_mac[ETH_ALEN], dst_mac[ETH_ALEN];
	uint8_t src[16], dst[16];	/* SRCBASE and DSTADDR, network order */
	uint16_t port;
	uint32_t sources;
	uint8_t flags;			/* TH_SYN, TH_ACK or TH_RST */
	uint64_t rng;			/* xorshift64 state, never 0 */
};

static void usage(void)
{
	fprintf(stderr, "usage: synflood -i IFACE -d DSTMAC -t DSTADDR [-p PORT] [-s SRCBASE]\n"
			"\t\t[-n SOURCES] [-c COUNT] [-r RATE] [-f syn|ack|rst] [-S SEED]\n");
	exit(2);
}

/* fail - one line on stderr and exit with code */
static void __attribute__((noreturn, format(printf, 2, 3))) fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("synflood: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* number - a decimal argument in 0..max, or usage */
static unsigned long long number(const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		usage();
	return v;
}

/* xorshift - the next 64 random bits */
static uint64_t xorshift(struct flood *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

/* source - the idx-th source address, SRCBASE + idx, into out */
static void source(const struct flood *f, uint32_t idx, uint8_t *out)
{
	uint32_t a;
	uint64_t lo;

	if (f->family == AF_INET) {
		memcpy(&a, f->src, 4);
		a = htonl(ntohl(a) + idx);
		memcpy(out, &a, 4);
	} else {
		memcpy(&lo, f->src, 8);	/* the /64 */
		lo = htobe64(be64toh(lo) + idx);
		memcpy(out, &lo, 8);
		memcpy(out + 8, f->src + 8, 8);
	}
}

/* build - frame number k into buf; returns its length */
static size_t build(struct flood *f, uint64_t k, uint8_t *buf)
{
	struct ether_header *eth = (void *)buf;
	size_t l3len = f->family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ip6_hdr);
	size_t tcplen = f->flags == TH_SYN ? 24 : 20;
	struct tcphdr *th = (void *)(buf + ETHER_HDR_LEN + l3len);
	uint8_t *src, *dst;
	uint64_t r = xorshift(f);
	uint32_t sum;

	memcpy(eth->ether_dhost, f->dst_mac, ETH_ALEN);
	memcpy(eth->ether_shost, f->src_mac, ETH_ALEN);
	if (f->family == AF_INET) {
		struct iphdr *ip = (void *)(eth + 1);

		eth->ether_type = htons(ETHERTYPE_IP);
		*ip = (struct iphdr){ .version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_TCP,
				      .tot_len = htons((uint16_t)(l3len + tcplen)),
				      .id = (uint16_t)(r >> 48), .frag_off = htons(IP_DF) };
		source(f, (uint32_t)(k % f->sources), (uint8_t *)&ip->saddr);
		memcpy(&ip->daddr, f->dst, 4);
		ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));
		src = (uint8_t *)&ip->saddr;
		dst = (uint8_t *)&ip->daddr;
		sum = csum_add(0, src, 4) + csum_add(0, dst, 4);
	} else {
		struct ip6_hdr *ip6 = (void *)(eth + 1);

		eth->ether_type = htons(ETHERTYPE_IPV6);
		*ip6 = (struct ip6_hdr){ .ip6_flow = htonl(6u << 28), .ip6_plen = htons((uint16_t)tcplen),
					 .ip6_nxt = IPPROTO_TCP, .ip6_hlim = 64 };
		source(f, (uint32_t)(k % f->sources), ip6->ip6_src.s6_addr);
		memcpy(ip6->ip6_dst.s6_addr, f->dst, 16);
		src = ip6->ip6_src.s6_addr;
		dst = ip6->ip6_dst.s6_addr;
		sum = csum_add(0, src, 16) + csum_add(0, dst, 16);
	}
	/* Pseudo-header: the addresses, the protocol and the TCP length. */
	sum += htons(IPPROTO_TCP) + htons((uint16_t)tcplen);

	*th = (struct tcphdr){ .th_sport = htons((uint16_t)(1024 + (r & 0xffff) % 64512)),
			       .th_dport = htons(f->port), .th_seq = (uint32_t)(r >> 16),
			       .th_off = (uint8_t)(tcplen / 4), .th_flags = f->flags,
			       .th_win = htons(64240) };
	if (f->flags == TH_ACK)
		th->th_ack = (uint32_t)xorshift(f);
	if (f->flags == TH_SYN) {
		uint8_t *opt = (uint8_t *)(th + 1);

		opt[0] = TCPOPT_MAXSEG;
		opt[1] = TCPOLEN_MAXSEG;
		opt[2] = 1460 >> 8;
		opt[3] = 1460 & 0xff;
	}
	th->th_sum = csum_fold(csum_add(sum, th, tcplen));
	return ETHER_HDR_LEN + l3len + tcplen;
}

/* open_socket - an AF_PACKET socket for ifname; fills in the source MAC */
static int open_socket(struct flood *f, const char *ifname, struct sockaddr_ll *sll)
{
	struct ifreq ifr = { 0 };
	int fd, one = 1;

	if (strlen(ifname) >= IFNAMSIZ)
		fail(2, "interface name too long: %s", ifname);
	fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: receives nothing */
	if (fd < 0)
		fail(1, "AF_PACKET socket: %s", strerror(errno));
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		fail(1, "%s: %s", ifname, strerror(errno));
	*sll = (struct sockaddr_ll){ .sll_family = AF_PACKET, .sll_ifindex = ifr.ifr_ifindex,
				     .sll_halen = ETH_ALEN,
				     .sll_protocol = htons(f->family == AF_INET ? ETHERTYPE_IP
										 : ETHERTYPE_IPV6) };
	memcpy(sll->sll_addr, f->dst_mac, ETH_ALEN);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		fail(1, "%s: hardware address: %s", ifname, strerror(errno));
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		fail(1, "%s: not an Ethernet interface", ifname);
	memcpy(f->src_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
#ifdef PACKET_QDISC_BYPASS
	/* Optional: without it the frames only take the longer path. */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
#endif
	return fd;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* pace - sleep until sent frames are due at rate per second after t0 */
static void pace(const struct timespec *t0, uint64_t sent, uint64_t rate)
{
	uint64_t ns = sent / rate * 1000000000ull + sent % rate * 1000000000ull / rate;
	struct timespec due = { .tv_sec = t0->tv_sec + (time_t)(ns / 1000000000ull),
				.tv_nsec = t0->tv_nsec + (long)(ns % 1000000000ull) };

	if (due.tv_nsec >= 1000000000L) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	static uint8_t bufs[BATCH][FRAME_MAX] __attribute__((aligned(8)));
	const char *ifname = NULL, *mac = NULL, *dstaddr = NULL, *srcbase = NULL;
	struct flood f = { .port = 25, .sources = 1, .flags = TH_SYN };
	uint64_t count = 20000, rate = 0, sent = 0, seed = 0;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll;
	struct timespec t0;
	uint8_t last[16];
	unsigned int batch = BATCH;
	int opt, fd, fam, retries = 0;
	double secs;

	while ((opt = getopt(argc, argv, "i:d:t:p:s:n:c:r:f:S:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'd': mac = optarg; break;
		case 't': dstaddr = optarg; break;
		case 'p': f.port = (uint16_t)number(optarg, 65535); break;
		case 's': srcbase = optarg; break;
		case 'n': f.sources = (uint32_t)number(optarg, UINT32_MAX); break;
		case 'c': count = number(optarg, UINT64_MAX); break;
		case 'r': rate = number(optarg, UINT32_MAX); break;
		case 'S': seed = number(optarg, UINT64_MAX); break;
		case 'f':
			if (!strcmp(optarg, "syn"))
				f.flags = TH_SYN;
			else if (!strcmp(optarg, "ack"))
				f.flags = TH_ACK;
			else if (!strcmp(optarg, "rst"))
				f.flags = TH_RST;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc || !ifname || !mac || !dstaddr || !f.port || !f.sources || !count)
		usage();
	if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx%*c", &f.dst_mac[0], &f.dst_mac[1],
		   &f.dst_mac[2], &f.dst_mac[3], &f.dst_mac[4], &f.dst_mac[5]) != 6 || strlen(mac) != 17)
		usage();
	f.family = strchr(dstaddr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(f.family, dstaddr, f.dst) != 1)
		usage();
	if (!srcbase)
		srcbase = f.family == AF_INET ? "198.19.0.1" : "2001:db8:ff::1";
	fam = strchr(srcbase, ':') ? AF_INET6 : AF_INET;
	if (fam != f.family)
		fail(2, "SRCBASE %s and DSTADDR %s differ in family", srcbase, dstaddr);
	if (inet_pton(f.family, srcbase, f.src) != 1)
		usage();

	/* Tests may use only the test ranges, the last source included. */
	if (!in_test_range(f.family, f.dst))
		fail(2, "%s is outside 198.18.0.0/15 and 2001:db8::/32", dstaddr);
	if (f.family == AF_INET) {
		uint32_t a;

		memcpy(&a, f.src, 4);
		if ((uint64_t)ntohl(a) + f.sources - 1 > UINT32_MAX)
			fail(2, "%s + %u sources wraps around", srcbase, f.sources);
	} else {
		uint64_t lo;

		memcpy(&lo, f.src, 8);
		if (be64toh(lo) + (f.sources - 1) < be64toh(lo))
			fail(2, "%s + %u sources wraps around", srcbase, f.sources);
	}
	source(&f, f.sources - 1, last);
	if (!in_test_range(f.family, f.src) || !in_test_range(f.family, last))
		fail(2, "sources %s + %u leave 198.18.0.0/15 and 2001:db8::/32", srcbase, f.sources);

	if (!seed) {
		clock_gettime(CLOCK_REALTIME, &t0);
		seed = (uint64_t)t0.tv_sec * 1000000000ull + (uint64_t)t0.tv_nsec + (uint64_t)getpid();
	}
	f.rng = seed ? seed : 1;
	fd = open_socket(&f, ifname, &sll);

	/* Under a rate cap, about a millisecond's worth of frames per batch. */
	if (rate)
		batch = rate / 1000 < 1 ? 1 : rate / 1000 > BATCH ? BATCH : (unsigned int)(rate / 1000);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i] + NET_ALIGN;
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &sll, .msg_namelen = sizeof(sll),
						   .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < count) {
		unsigned int n = count - sent < batch ? (unsigned int)(count - sent) : batch;
		unsigned int done = 0;

		for (unsigned int i = 0; i < n; i++)
			iov[i].iov_len = build(&f, sent + i, iov[i].iov_base);
		while (done < n) {
			int r = sendmmsg(fd, msgs + done, n - done, 0);

			if (r >= 0) {
				done += (unsigned int)r;
				retries = 0;
			} else if ((errno == ENOBUFS || errno == EAGAIN) && ++retries < RETRY_MAX) {
				usleep(RETRY_US);
			} else if (errno != EINTR) {
				fail(1, "sendmmsg on %s: %s (after %llu frames)", ifname, strerror(errno),
				     (unsigned long long)(sent + done));
			}
		}
		sent += n;
		if (rate)
			pace(&t0, sent, rate);
	}
	secs = elapsed(&t0);
	close(fd);
	printf("sent %llu frames from %llu sources in %.3f s (%.0f/s)\n", (unsigned long long)sent,
	       (unsigned long long)(sent < f.sources ? sent : f.sources), secs,
	       secs > 0 ? (double)sent / secs : 0.0);
	return 0;
}
