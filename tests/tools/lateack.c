// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	lateack - TCP handshakes whose final ACK comes late (a test client)
 * SYNOPSIS
 *	lateack -s SRCADDR -d DSTADDR [-p PORT] [-n N] [-P SPORT] [-a DELAY_MS]
 *		[-w WAIT_MS] [-m MARK]
 * DESCRIPTION
 *	Opens N (default 1) connections from SRCADDR, source ports SPORT
 *	(default 40000) to SPORT + N - 1, to DSTADDR port PORT (default 25)
 *	through a raw socket: all SYNs at once (with an MSS option, no other
 *	options), then, DELAY_MS (default 3500) after the last SYN-ACK came,
 *	each flow's final ACK. It then waits up to WAIT_MS (default 3000)
 *	for each flow's first answer and prints one line:
 *
 *	  late N synack=S 220=a 421=b 554=c timeout=d reset=e other=f
 *
 *	(a payload line by its first three characters, a reset, or nothing:
 *	timeout). Then it reads standard input until EOF and resets every
 *	flow that had its final ACK, so the server's sockets go at once.
 *
 *	A SYN-cookie listener keeps nothing for a connection until its
 *	final ACK: with this tool the ACK can come as late as a cookie
 *	allows. The client's kernel has no socket for these flows and
 *	answers the server with resets; a test drops those in the client's
 *	namespace (nft, output) and lets this tool's own packets through by
 *	their fwmark MARK (SO_MARK; default 0: none set).
 *
 *	The family follows the addresses; both must lie in 198.18.0.0/15 or
 *	2001:db8::/32, the test ranges. Exit 0, or 1 with a line on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rawpkt.h"

#define MAX_FLOWS	1000
#define SYNACK_WAIT_MS	1000

enum outcome { O_220, O_421, O_554, O_TIMEOUT, O_RESET, O_OTHER, O__MAX };

struct flow {
	uint32_t isn;		/* our initial sequence number */
	uint32_t peer_isn;	/* from the SYN-ACK */
	int synack;		/* the SYN-ACK came */
	int answered;		/* 1 + enum outcome once answered */
};

static int family, fd;
static uint8_t src[16], dst[16];
static uint16_t port = 25, sport = 40000;
static struct flow flows[MAX_FLOWS];
static int nflows = 1;

static void usage(void)
{
	fprintf(stderr, "usage: lateack -s SRCADDR -d DSTADDR [-p PORT] [-n N] [-P SPORT] "
			"[-a DELAY_MS] [-w WAIT_MS] [-m MARK]\n");
	exit(2);
}

/* fail - one line on stderr and exit 1 */
static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fputs("lateack: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* number - a decimal argument in 0..max, or usage */
static unsigned long number(const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > max)
		usage();
	return v;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* send_segment - one TCP segment of flow i with these flags */
static void send_segment(int i, uint8_t flags)
{
	uint8_t buf[24] = { 0 };
	struct tcphdr *th = (void *)buf;
	size_t len = flags & TH_SYN ? 24 : 20;
	struct sockaddr_storage to = { 0 };
	socklen_t tolen;

	th->th_sport = htons((uint16_t)(sport + i));
	th->th_dport = htons(port);
	th->th_seq = htonl(flows[i].isn + (flags & TH_SYN ? 0 : 1));
	th->th_ack = flags & TH_ACK ? htonl(flows[i].peer_isn + 1) : 0;
	th->th_off = (uint8_t)(len / 4);
	th->th_flags = flags;
	th->th_win = htons(64240);
	if (flags & TH_SYN) {
		buf[20] = TCPOPT_MAXSEG;
		buf[21] = TCPOLEN_MAXSEG;
		buf[22] = 1460 >> 8;
		buf[23] = 1460 & 0xff;
	}
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (void *)&to;
		uint32_t sum = csum_add(0, src, 4) + csum_add(0, dst, 4) +
			       htons(IPPROTO_TCP) + htons((uint16_t)len);

		th->th_sum = csum_fold(csum_add(sum, buf, len));
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, dst, 4);
		tolen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&to;

		s6->sin6_family = AF_INET6;	/* the kernel sums it (IPV6_CHECKSUM) */
		memcpy(&s6->sin6_addr, dst, 16);
		tolen = sizeof(*s6);
	}
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, tolen) < 0)
		fail("sendto: %s", strerror(errno));
}

/* classify - the outcome of a first payload */
static enum outcome classify(const uint8_t *p, size_t len)
{
	if (len >= 3 && !memcmp(p, "220", 3))
		return O_220;
	if (len >= 3 && !memcmp(p, "421", 3))
		return O_421;
	if (len >= 3 && !memcmp(p, "554", 3))
		return O_554;
	return O_OTHER;
}

/*
 * receive - segments from the server until deadline or until done()
 * holds; SYN-ACKs are noted, and so is each flow's first answer once
 * its final ACK went out (answers true)
 */
static void receive(long long deadline, int answers, int (*done)(void))
{
	uint8_t buf[2048];

	while (!done()) {
		long long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		const struct tcphdr *th;
		const uint8_t *from_addr;
		size_t off = 0, doff;
		ssize_t n;
		int i;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			continue;
		if (family == AF_INET) {
			/* IPv4 raw sockets deliver the IP header too. */
			off = (size_t)(buf[0] & 0xf) * 4;
			from_addr = (const uint8_t *)&((struct sockaddr_in *)&from)->sin_addr;
			if (memcmp(from_addr, dst, 4))
				continue;
		} else {
			from_addr = ((struct sockaddr_in6 *)&from)->sin6_addr.s6_addr;
			if (memcmp(from_addr, dst, 16))
				continue;
		}
		if ((size_t)n < off + sizeof(*th))
			continue;
		th = (const void *)(buf + off);
		i = ntohs(th->th_dport) - sport;
		if (ntohs(th->th_sport) != port || i < 0 || i >= nflows)
			continue;
		doff = (size_t)th->th_off * 4;
		if ((th->th_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
			if (!flows[i].synack && ntohl(th->th_ack) == flows[i].isn + 1) {
				flows[i].synack = 1;
				flows[i].peer_isn = ntohl(th->th_seq);
			}
			continue;
		}
		if (!answers || !flows[i].synack || flows[i].answered)
			continue;
		if (th->th_flags & TH_RST)
			flows[i].answered = 1 + O_RESET;
		else if ((size_t)n > off + doff)
			flows[i].answered = 1 + classify(buf + off + doff, (size_t)n - off - doff);
	}
}

static int all_synacked(void)
{
	for (int i = 0; i < nflows; i++)
		if (!flows[i].synack)
			return 0;
	return 1;
}

static int all_answered(void)
{
	for (int i = 0; i < nflows; i++)
		if (flows[i].synack && !flows[i].answered)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	const char *s = NULL, *d = NULL;
	unsigned long delay_ms = 3500, wait_ms = 3000, mark = 0;
	int count[O__MAX] = { 0 }, synacks = 0, opt;
	char line[64];

	while ((opt = getopt(argc, argv, "s:d:p:n:P:a:w:m:")) != -1) {
		switch (opt) {
		case 's': s = optarg; break;
		case 'd': d = optarg; break;
		case 'p': port = (uint16_t)number(optarg, 65535); break;
		case 'n': nflows = (int)number(optarg, MAX_FLOWS); break;
		case 'P': sport = (uint16_t)number(optarg, 65535); break;
		case 'a': delay_ms = number(optarg, 600000); break;
		case 'w': wait_ms = number(optarg, 600000); break;
		case 'm': mark = number(optarg, UINT32_MAX); break;
		default: usage();
		}
	}
	if (optind != argc || !s || !d || !port || nflows < 1 || sport + nflows - 1 > 65535)
		usage();
	family = strchr(d, ':') ? AF_INET6 : AF_INET;
	if ((strchr(s, ':') ? AF_INET6 : AF_INET) != family || inet_pton(family, s, src) != 1 ||
	    inet_pton(family, d, dst) != 1)
		usage();
	if (!in_test_range(family, src) || !in_test_range(family, dst))
		fail("%s and %s must lie in 198.18.0.0/15 or 2001:db8::/32", s, d);

	fd = socket(family, SOCK_RAW, IPPROTO_TCP);
	if (fd < 0)
		fail("raw socket: %s (needs CAP_NET_RAW)", strerror(errno));
	if (family == AF_INET) {
		struct sockaddr_in b = { .sin_family = AF_INET };

		memcpy(&b.sin_addr, src, 4);
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)))
			fail("bind %s: %s", s, strerror(errno));
	} else {
		struct sockaddr_in6 b = { .sin6_family = AF_INET6 };
		int off = 16;	/* th_sum */

		memcpy(&b.sin6_addr, src, 16);
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)) ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)))
			fail("bind %s: %s", s, strerror(errno));
	}
	if (mark) {
		uint32_t m = (uint32_t)mark;

		if (setsockopt(fd, SOL_SOCKET, SO_MARK, &m, sizeof(m)))
			fail("SO_MARK: %s", strerror(errno));
	}
	srandom((unsigned int)(now_ms() ^ getpid()));
	for (int i = 0; i < nflows; i++) {
		flows[i].isn = (uint32_t)random() << 1 ^ (uint32_t)random();
		send_segment(i, TH_SYN);
	}
	receive(now_ms() + SYNACK_WAIT_MS, 0, all_synacked);

	/* The final ACKs: each at least DELAY_MS after its SYN-ACK. */
	usleep((useconds_t)delay_ms * 1000);
	for (int i = 0; i < nflows; i++)
		if (flows[i].synack)
			send_segment(i, TH_ACK);
	receive(now_ms() + (long long)wait_ms, 1, all_answered);

	for (int i = 0; i < nflows; i++) {
		if (!flows[i].synack)
			continue;
		synacks++;
		count[flows[i].answered ? flows[i].answered - 1 : O_TIMEOUT]++;
	}
	printf("late %d synack=%d 220=%d 421=%d 554=%d timeout=%d reset=%d other=%d\n", nflows,
	       synacks, count[O_220], count[O_421], count[O_554], count[O_TIMEOUT], count[O_RESET],
	       count[O_OTHER]);
	fflush(stdout);

	while (fgets(line, sizeof(line), stdin))
		;
	for (int i = 0; i < nflows; i++)
		if (flows[i].synack)
			send_segment(i, TH_RST);
	close(fd);
	return 0;
}
