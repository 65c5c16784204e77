// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	connrate - TCP connection setup rate, for make bench
 * SYNOPSIS
 *	connrate serve ADDR PORT
 *	connrate run SRC DST PORT COUNT CONCURRENCY
 * DESCRIPTION
 *	serve accepts and closes connections as fast as it can. run opens
 *	COUNT connections from SRC, CONCURRENCY at a time, each one until
 *	the handshake completes, then aborts it (a reset: no TIME_WAIT to
 *	run out of ports), and prints "COUNT conns SECONDS s RATE/s".
 *	Connections that fail are counted and make the run fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC 1024

/* addr - text to sockaddr */
static socklen_t addr(const char *s, int port, struct sockaddr_storage *ss)
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
	fprintf(stderr, "connrate: bad address %s\n", s);
	exit(2);
}

/* serve - accept and close forever */
static int serve(const char *a, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(a, port, &ss);
	int one = 1, fd = socket(ss.ss_family, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4096)) {
		perror("connrate: listen");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

/* start_one - a non-blocking connect */
static int start_one(const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
		     socklen_t len)
{
	int fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (const struct sockaddr *)src, len) ||
	    (connect(fd, (const struct sockaddr *)dst, len) && errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* run - COUNT connections, CONC at a time */
static int run(const char *s, const char *d, int port, long count, int conc)
{
	struct sockaddr_storage src, dst;
	socklen_t len = addr(d, port, &dst);
	struct pollfd p[MAX_CONC];
	struct linger lg = { 1, 0 };
	long started = 0, done = 0, failed = 0;
	struct timespec t0, t1;
	double secs;

	addr(s, 0, &src);
	if (conc < 1 || conc > MAX_CONC)
		conc = 64;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < conc; i++)
		p[i].fd = -1;
	while (done < count) {
		for (int i = 0; i < conc; i++) {
			if (p[i].fd < 0 && started < count) {
				p[i].fd = start_one(&src, &dst, len);
				p[i].events = POLLOUT;
				started++;
				if (p[i].fd < 0) {
					failed++;
					done++;
				}
			}
		}
		if (poll(p, (nfds_t)conc, 5000) <= 0) {
			fprintf(stderr, "connrate: no progress for 5 s\n");
			return 1;
		}
		for (int i = 0; i < conc; i++) {
			int err = 0;
			socklen_t el = sizeof(err);

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
			if (err)
				failed++;
			setsockopt(p[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(p[i].fd);
			p[i].fd = -1;
			done++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld conns %.3f s %.0f/s failed %ld\n", count, secs, (double)count / secs, failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], atoi(argv[3]));
	if (argc == 7 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], atoi(argv[4]), atol(argv[5]), atoi(argv[6]));
	fprintf(stderr, "usage: connrate serve ADDR PORT | run SRC DST PORT COUNT CONCURRENCY\n");
	return 2;
}
