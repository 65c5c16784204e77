// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_responder - libFuzzer harness for the responder's SMTP session
 * DESCRIPTION
 *	Each input is what a banned sender says after the 554 greeting,
 *	sent over a real loopback TCP connection. The responder must answer
 *	only with well-formed reply lines ("NNN text" CRLF), end the session
 *	(no session may stay behind), and never crash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "responder.h"

static struct responder *r;
static struct sockaddr_in addr;

/* banned - every peer is banned: the session that reads commands */
static enum responder_verdict banned(void *arg, const struct sockaddr *peer, socklen_t len,
				     char *reason, size_t reason_len)
{
	strncpy(reason, "fuzz\x01\xff reason", reason_len - 1);
	return RESP_BANNED;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct responder_settings s = { .hostname = "mx.fuzz.test", .policy_url = "https://fuzz.test",
					.max_clients = 4, .timeout_ms = 2000, .max_line = 512 };
	socklen_t len = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len))
		abort();
	r = responder_new(&s, banned, NULL);
	if (!r || responder_add_listener(r, lfd))
		abort();
	return 0;
}

/* check_lines - every reply line is "NNN " or "NNN-" text CRLF */
static void check_lines(const char *buf, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (i - start < 5 || buf[i - 1] != '\r')
			abort();
		for (int k = 0; k < 3; k++)
			if (buf[start + k] < '0' || buf[start + k] > '9')
				abort();
		if (buf[start + 3] != ' ' && buf[start + 3] != '-')
			abort();
		for (size_t k = start; k < i - 1; k++)
			if ((unsigned char)buf[k] < 0x20 || buf[k] == 0x7f)
				abort();	/* only printable text goes out */
		start = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[65536];
	struct responder_stats st;
	size_t got = 0, sent = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool eof = false;

	if (size > 16384 || fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (int round = 0; round < 2000 && !eof; round++) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < size ? POLLOUT : 0) };

		responder_run(r);
		if (poll(&p, 1, 1) <= 0)
			continue;
		if ((p.revents & POLLOUT) && sent < size) {
			ssize_t n = send(fd, data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n > 0)
				sent += (size_t)n;
			if (sent == size || n < 0)
				shutdown(fd, SHUT_WR);
		}
		if (size == 0 && round == 0)
			shutdown(fd, SHUT_WR);
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, buf + got, sizeof(buf) - got, MSG_DONTWAIT);

			if (n <= 0 && !(n < 0 && errno == EAGAIN))
				eof = true;
			else if (n > 0)
				got += (size_t)n;
			if (got == sizeof(buf))
				abort();	/* the responder's output must be bounded */
		}
	}
	close(fd);
	if (!eof)
		abort();	/* the session never ended */
	check_lines(buf, got);
	if (got < 5 || memcmp(buf, "554 ", 4))
		abort();
	for (int i = 0; i < 100; i++) {
		responder_stats(r, &st);
		if (!st.active)
			break;
		responder_run(r);
		usleep(1000);
	}
	responder_stats(r, &st);
	if (st.active)
		abort();	/* a session stayed behind */
	return 0;
}
