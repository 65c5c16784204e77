// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	connhold - open SMTP connections in bursts and hold them (a test client)
 * SYNOPSIS
 *	connhold -s SRCADDR -d DSTADDR [-p PORT] [-t TIMEOUT_MS]
 * DESCRIPTION
 *	Reads commands on standard input and answers each with one line:
 *
 *	  open N	connect N sockets at once (all SYNs first, then wait),
 *			read each one's first reply line and answer
 *			"opened N 220=a 421=b 554=c timeout=d reset=e other=f";
 *			the ones that read 220 are held, the others closed
 *	  close K	QUIT and close K held connections: "closed K held=H"
 *	  reset K	reset K held connections (SO_LINGER 0): "reset K held=H"
 *	  held		"held=H"
 *	  quit, EOF	close everything and exit
 *
 *	The family follows the addresses. Used by tests/e2e to check the
 *	parallel-connection limit with exact counts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1000

enum outcome { O_220, O_421, O_554, O_TIMEOUT, O_RESET, O_OTHER, O__MAX };

static struct sockaddr_storage src, dst;
static socklen_t alen;
static int timeout_ms = 5000;
static int held[MAX_CONNS];
static int nheld;

/* parse_addr - an IPv4 or IPv6 address and port into a sockaddr */
static int parse_addr(const char *s, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	return -1;
}

/* now_ms - a monotonic clock */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* classify - the outcome of a first reply line */
static enum outcome classify(const char *line)
{
	if (!strncmp(line, "220", 3))
		return O_220;
	if (!strncmp(line, "421", 3))
		return O_421;
	if (!strncmp(line, "554", 3))
		return O_554;
	return O_OTHER;
}

/* do_open - open n connections at once and sort them by first reply */
static void do_open(int n)
{
	int fds[MAX_CONNS], count[O__MAX] = { 0 }, done[MAX_CONNS] = { 0 };
	char buf[MAX_CONNS][64];
	size_t got[MAX_CONNS] = { 0 };
	long long deadline = now_ms() + timeout_ms;
	int left = n;

	if (n < 1 || n + nheld > MAX_CONNS) {
		printf("error: open 1..%d\n", MAX_CONNS - nheld);
		return;
	}
	for (int i = 0; i < n; i++) {
		fds[i] = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&src, alen) ||
		    (connect(fds[i], (struct sockaddr *)&dst, alen) && errno != EINPROGRESS)) {
			done[i] = 1;
			count[O_RESET]++;
			left--;
		}
	}
	while (left > 0 && now_ms() < deadline) {
		struct pollfd p[MAX_CONNS];
		int idx[MAX_CONNS], m = 0;

		for (int i = 0; i < n; i++) {
			if (done[i])
				continue;
			p[m] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
			idx[m++] = i;
		}
		if (poll(p, (nfds_t)m, (int)(deadline - now_ms())) <= 0)
			break;
		for (int j = 0; j < m; j++) {
			int i = idx[j];
			ssize_t r;
			char *nl;

			if (!p[j].revents)
				continue;
			r = recv(fds[i], buf[i] + got[i], sizeof(buf[i]) - 1 - got[i], 0);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				done[i] = 1;
				count[O_RESET]++;
				left--;
				continue;
			}
			got[i] += (size_t)r;
			buf[i][got[i]] = '\0';
			nl = strchr(buf[i], '\n');
			if (nl || got[i] == sizeof(buf[i]) - 1) {
				enum outcome o = classify(buf[i]);

				done[i] = 2 + o;
				count[o]++;
				left--;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		if (!done[i]) {
			count[O_TIMEOUT]++;
			close(fds[i]);
		} else if (done[i] == 2 + O_220) {
			held[nheld++] = fds[i];
		} else if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	printf("opened %d 220=%d 421=%d 554=%d timeout=%d reset=%d other=%d\n", n, count[O_220],
	       count[O_421], count[O_554], count[O_TIMEOUT], count[O_RESET], count[O_OTHER]);
}

/* do_close - QUIT and close k held connections */
static void do_close(int k)
{
	int closed = 0;

	while (k-- > 0 && nheld > 0) {
		int fd = held[--nheld];

		if (send(fd, "QUIT\r\n", 6, MSG_NOSIGNAL) < 0)
			(void)0;
		close(fd);
		closed++;
	}
	printf("closed %d held=%d\n", closed, nheld);
}

/* do_reset - abort k held connections with a RST */
static void do_reset(int k)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int done = 0;

	while (k-- > 0 && nheld > 0) {
		int fd = held[--nheld];

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		done++;
	}
	printf("reset %d held=%d\n", done, nheld);
}

int main(int argc, char **argv)
{
	const char *s = NULL, *d = NULL;
	char line[128];
	int port = 25, opt;

	while ((opt = getopt(argc, argv, "s:d:p:t:")) != -1) {
		switch (opt) {
		case 's': s = optarg; break;
		case 'd': d = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 't': timeout_ms = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!s || !d || parse_addr(s, 0, &src) < 0 || (alen = (socklen_t)parse_addr(d, port, &dst)) == 0 ||
	    src.ss_family != dst.ss_family || timeout_ms <= 0) {
		fprintf(stderr, "usage: connhold -s SRCADDR -d DSTADDR [-p PORT] [-t TIMEOUT_MS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		int n;

		if (sscanf(line, "open %d", &n) == 1)
			do_open(n);
		else if (sscanf(line, "close %d", &n) == 1)
			do_close(n);
		else if (sscanf(line, "reset %d", &n) == 1)
			do_reset(n);
		else if (!strncmp(line, "held", 4))
			printf("held=%d\n", nheld);
		else if (!strncmp(line, "quit", 4))
			break;
		else
			printf("error: open N | close K | reset K | held | quit\n");
	}
	do_close(nheld);
	return 0;
}
