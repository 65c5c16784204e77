// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	responder.c - the agent's small SMTP responder
 * DESCRIPTION
 *	Connections that must not reach the MTA are steered here by the
 *	sk_lookup program. Each is classified by its peer address:
 *
 *	  too many connections	"421 4.7.0 HOST Error: too many connections
 *				from IP" (Postfix's words), then close;
 *	  banned		"554 5.7.1 HOST REASON; see URL", then, as
 *				RFC 5321 3.1 asks, wait for QUIT: 221 to
 *				QUIT, 503 to anything else, until the
 *				session's time runs out.
 *
 *	A state machine over non-blocking sockets on one epoll set, in the
 *	manner of OpenBSD spamd: replies come from a table, nothing blocks.
 * SECURITY
 *	Untrusted peers. Sessions are bounded in number (max_clients; more
 *	are closed unanswered and counted), in time (timeout_ms from accept,
 *	whatever the peer does: no slowloris), in line length (max_line),
 *	in commands (MAX_COMMANDS) and in output (a fixed buffer: a peer
 *	that does not read is dropped). The reason text is cut to printable
 *	ASCII before it is sent.
 * DIAGNOSTICS
 *	Counters only (responder_stats); the agent reports them.
 * CONFIGURATION PARAMETERS
 *	hostname, policy_url, max_clients (256), timeout_ms (10000),
 *	max_line (512).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "responder.h"
#include "tables.h"
#include "text.h"

#define MAX_LISTENERS	4
#define MAX_COMMANDS	20
#define MAX_ACCEPTS	64	/* per listener per run: others wait their turn */
#define OUT_SIZE	1024
#define IN_MAX		1024	/* max_line is capped to this */
#define LINGER_MS	2000	/* after our last reply, at most this for the peer to close */

struct session {
	int fd;
	bool used;
	bool closing;		/* output flushed, then close */
	bool draining;		/* our side shut: discard input until EOF */
	uint64_t deadline_ms;
	unsigned int commands;
	size_t in_len, out_len;
	char in[IN_MAX + 2];
	char out[OUT_SIZE];
};

struct responder {
	struct responder_settings s;
	char hostname[256];
	char policy_url[256];
	char text_over_limit[MX_TEXT_MAX];
	char text_banned[MX_TEXT_MAX];
	responder_classify_fn classify;
	void *arg;
	int epfd;
	int listeners[MAX_LISTENERS];
	unsigned int nlisteners;
	struct session *sessions;
	struct responder_stats st;
};

/* printable - copy src to dst keeping printable ASCII only */
static void printable(char *dst, size_t len, const char *src)
{
	size_t j = 0;

	for (; src && *src && j + 1 < len; src++)
		if (*src >= 0x20 && *src < 0x7f)
			dst[j++] = *src;
	dst[j] = '\0';
}

/* responder_new - a responder with no listeners yet */
struct responder *responder_new(const struct responder_settings *s,
				responder_classify_fn fn, void *arg)
{
	struct responder *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->s = *s;
	if (!r->s.max_clients)
		r->s.max_clients = 256;
	if (!r->s.timeout_ms)
		r->s.timeout_ms = 10000;
	if (!r->s.max_line || r->s.max_line > IN_MAX)
		r->s.max_line = r->s.max_line ? IN_MAX : 512;
	responder_configure(r, s);
	r->classify = fn;
	r->arg = arg;
	r->sessions = calloc(r->s.max_clients, sizeof(*r->sessions));
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!r->sessions || r->epfd < 0) {
		responder_free(r);
		return NULL;
	}
	return r;
}

/* responder_add_listener - serve a non-blocking listening socket */
int responder_add_listener(struct responder *r, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UINT64_MAX - r->nlisteners };

	if (r->nlisteners == MAX_LISTENERS || epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -1;
	r->listeners[r->nlisteners++] = fd;
	return 0;
}

int responder_fd(const struct responder *r)
{
	return r ? r->epfd : -1;
}

/* end - close a session */
static void end(struct responder *r, struct session *c)
{
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->used = false;
	r->st.active--;
}

/* flush - write what is pending; false when the session ended */
static bool flush(struct responder *r, struct session *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT,
						  .data.u64 = (uint64_t)(c - r->sessions) };

			epoll_ctl(r->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			return true;
		}
		if (n <= 0) {
			r->st.write_errors++;
			end(r, c);
			return false;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	if (c->closing && !c->draining) {
		/*
		 * Close gently: shut our side and discard what the peer still
		 * sends until it closes, for a moment at most. Closing with
		 * unread input would send a reset, which can destroy our last
		 * reply in the peer's receive queue before it reads it.
		 */
		uint64_t linger = mx_mono_ms() + LINGER_MS;

		shutdown(c->fd, SHUT_WR);
		c->draining = true;
		if (linger < c->deadline_ms)
			c->deadline_ms = linger;
		{
			struct epoll_event ev = { .events = EPOLLIN,
						  .data.u64 = (uint64_t)(c - r->sessions) };

			epoll_ctl(r->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
	return true;
}

/* reply - queue a reply line; a peer that does not read is dropped */
static void reply(struct responder *r, struct session *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply(struct responder *r, struct session *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->out + c->out_len, OUT_SIZE - c->out_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= OUT_SIZE - c->out_len) {
		r->st.write_errors++;
		c->out_len = OUT_SIZE;	/* drop whatever did not fit */
		c->closing = true;
		return;
	}
	c->out_len += (size_t)n;
}

/* peer_text - the peer's address as text, IPv4-mapped shown as IPv4 */
static void peer_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)len);
	} else {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)len);
		else
			inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	}
}

/* start - classify a new connection and send its first reply */
static void start(struct responder *r, int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	struct session *c = NULL;
	char ip[INET6_ADDRSTRLEN], reason[128] = "", why[128], text[MX_TEXT_OUT];

	for (unsigned int i = 0; i < r->s.max_clients; i++) {
		if (!r->sessions[i].used) {
			c = &r->sessions[i];
			break;
		}
	}
	if (!c) {
		r->st.refused_full++;
		close(fd);
		return;
	}
	memset(c, 0, offsetof(struct session, in));
	c->fd = fd;
	c->used = true;
	c->deadline_ms = mx_mono_ms() + r->s.timeout_ms;
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(c - r->sessions) };

		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			c->used = false;
			return;
		}
	}
	r->st.active++;
	r->st.accepted++;
	peer_text(ss, ip, sizeof(ip));
	if (r->classify(r->arg, (const struct sockaddr *)ss, len, reason, sizeof(reason)) == RESP_BANNED) {
		struct mx_text_vars v = { .host = r->hostname, .addr = ip, .url = r->policy_url };

		printable(why, sizeof(why), reason);
		v.reason = why[0] ? why : "Service refused";
		mx_text_expand(text, sizeof(text), r->text_banned, &v);
		reply(r, c, "554 5.7.1 %s\r\n", text);
		r->st.replied_554++;
	} else {
		struct mx_text_vars v = { .host = r->hostname, .addr = ip, .url = r->policy_url,
					  .reason = "too many connections" };

		mx_text_expand(text, sizeof(text), r->text_over_limit, &v);
		reply(r, c, "421 4.7.0 %s\r\n", text);
		r->st.replied_421++;
		c->closing = true;
	}
	flush(r, c);
}

/* accept_all - take the listener's waiting connections, a bounded number */
static void accept_all(struct responder *r, int lfd)
{
	for (int i = 0; i < MAX_ACCEPTS; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		start(r, fd, &ss, len);
	}
}

/* is_quit - "QUIT", any case, with optional trailing blanks */
static bool is_quit(const char *line)
{
	if (strncasecmp(line, "QUIT", 4))
		return false;
	for (line += 4; *line; line++)
		if (*line != ' ' && *line != '\t')
			return false;
	return true;
}

/* command - answer one line of a 554 session; false when the session ends */
static bool command(struct responder *r, struct session *c, char *line)
{
	if (is_quit(line)) {
		reply(r, c, "221 2.0.0 %s Bye\r\n", r->hostname);
		r->st.replied_221++;
		c->closing = true;
		return false;
	}
	reply(r, c, "503 5.5.1 Error: %s does not accept mail from you; send QUIT\r\n", r->hostname);
	r->st.replied_503++;
	if (++c->commands >= MAX_COMMANDS) {
		c->closing = true;
		return false;
	}
	return true;
}

/* drain - discard input after our last word; end at EOF */
static void drain(struct responder *r, struct session *c)
{
	char sink[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			end(r, c);
			return;
		}
	}
}

/* readable - read and answer the complete lines a 554 session sent */
static void readable(struct responder *r, struct session *c)
{
	if (c->draining) {
		drain(r, c);
		return;
	}
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, IN_MAX + 1 - c->in_len, MSG_DONTWAIT);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {	/* EOF or reset */
			end(r, c);
			return;
		}
		c->in_len += (size_t)n;
		while ((nl = memchr(c->in, '\n', c->in_len))) {
			size_t l = (size_t)(nl - c->in);

			*nl = '\0';
			if (l && c->in[l - 1] == '\r')
				c->in[l - 1] = '\0';
			if (l > r->s.max_line || memchr(c->in, '\0', l > 0 ? l - 1 : 0)) {
				/* Too long, or NUL bytes in a command line. */
				reply(r, c, "500 5.5.2 Error: bad command line\r\n");
				r->st.line_too_long++;
				c->closing = true;
				break;
			}
			if (!command(r, c, c->in))
				break;
			memmove(c->in, nl + 1, c->in_len - l - 1);
			c->in_len -= l + 1;
		}
		if (!c->closing && c->in_len > r->s.max_line) {
			reply(r, c, "500 5.5.2 Error: line too long\r\n");
			r->st.line_too_long++;
			c->closing = true;
		}
		if (c->closing)
			break;
	}
	flush(r, c);
}

/* expire - end sessions whose time is up */
static void expire(struct responder *r)
{
	uint64_t now_ms = mx_mono_ms();

	for (unsigned int i = 0; i < r->s.max_clients; i++) {
		struct session *c = &r->sessions[i];

		if (c->used && now_ms >= c->deadline_ms) {
			if (!c->draining)
				r->st.timeouts++;
			end(r, c);
		}
	}
}

/* responder_run - handle everything ready now; never blocks */
void responder_run(struct responder *r)
{
	struct epoll_event ev[64];
	int n;

	if (!r)
		return;
	n = epoll_wait(r->epfd, ev, 64, 0);
	for (int i = 0; i < n; i++) {
		uint64_t id = ev[i].data.u64;

		if (id > UINT64_MAX - MAX_LISTENERS) {
			accept_all(r, r->listeners[UINT64_MAX - id]);
			continue;
		}
		if (id >= r->s.max_clients || !r->sessions[id].used)
			continue;
		if (ev[i].events & EPOLLOUT && !flush(r, &r->sessions[id]))
			continue;
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			readable(r, &r->sessions[id]);
	}
	expire(r);
}

/* responder_next_timeout_ms - until the next session deadline; -1 if none */
int responder_next_timeout_ms(const struct responder *r)
{
	uint64_t now_ms = mx_mono_ms(), next = UINT64_MAX;

	if (!r)
		return -1;
	for (unsigned int i = 0; i < r->s.max_clients; i++)
		if (r->sessions[i].used && r->sessions[i].deadline_ms < next)
			next = r->sessions[i].deadline_ms;
	if (next == UINT64_MAX)
		return -1;
	return next <= now_ms ? 0 : (int)(next - now_ms > 60000 ? 60000 : next - now_ms);
}

void responder_stats(const struct responder *r, struct responder_stats *out)
{
	*out = r ? r->st : (struct responder_stats){ 0 };
}

/*
 * responder_configure - new texts and session limit from now on. A text
 * that mx_text_check() refuses keeps the default: replies stay sane.
 */
void responder_configure(struct responder *r, const struct responder_settings *s)
{
	char err[96];

	if (!r)
		return;
	printable(r->hostname, sizeof(r->hostname), s->hostname ? s->hostname : "localhost");
	printable(r->policy_url, sizeof(r->policy_url), s->policy_url ? s->policy_url : "");
	snprintf(r->text_over_limit, sizeof(r->text_over_limit), "%s",
		 s->text_over_limit && !mx_text_check(s->text_over_limit, err, sizeof(err)) ?
		 s->text_over_limit : "%h Error: too many connections from %a");
	snprintf(r->text_banned, sizeof(r->text_banned), "%s",
		 s->text_banned && !mx_text_check(s->text_banned, err, sizeof(err)) ?
		 s->text_banned : "%h %r; see %u");
	if (s->timeout_ms)
		r->s.timeout_ms = s->timeout_ms;
}

/* responder_free - end every session; the listeners stay the caller's */
void responder_free(struct responder *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; r->sessions && i < r->s.max_clients; i++)
		if (r->sessions[i].used)
			end(r, &r->sessions[i]);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r->sessions);
	free(r);
}
