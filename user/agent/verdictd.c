// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	verdictd.c - content verdicts: rspamd pushes each message's result
 * SYNOPSIS
 *	mxguard.conf:
 *	    verdict_listen = 127.0.0.1:9490
 *	    verdict_password_file = /etc/mxguard/rspamd.password
 *	rspamd, local.d/metadata_exporter.conf:
 *	    rules { MXGUARD { backend = "http"; url = "http://127.0.0.1:9490/rspamd";
 *	        user = "rspamd"; password = "..."; selector = "default";
 *	        formatter = "json"; mime_type = "application/json"; } }
 * DESCRIPTION
 *	rspamd scans each message Postfix hands it (as a milter) and its
 *	metadata_exporter POSTs the result, one JSON object (rspamd.h), to
 *	MX_RSPAMD_PATH. An action named in spam_actions is spam: the sender
 *	is listed (senders_content()); any other is a clean mail, which can
 *	delist it. The answer is 200 once the verdict is recorded; rspamd
 *	logs any other.
 *
 *	A small HTTP/1.x server in the agent's event loop, its connections
 *	in a client pool (pool.h), one request per connection (rspamd sends
 *	Connection: close): POST with Basic credentials and a
 *	Content-Length. "Expect: 100-continue" (curl's, for larger bodies)
 *	is answered at once.
 * SECURITY
 *	A push lists senders, so the service is for rspamd alone: it
 *	listens on loopback only (the settings refuse anything else), each
 *	peer's address is checked again at accept (403 unless loopback),
 *	and every request must carry verdict_user and the password of
 *	verdict_password_file (a file only root or the agent's user may
 *	read: mx_rspamd_auth_load()), compared in constant time; 401
 *	otherwise. Before that, nothing of the request is acted on. At most
 *	MX_VERDICT_CLIENTS connections (a new one replaces the one nearest
 *	its deadline), a head of MX_HTTP_HEAD_MAX and a body of
 *	MX_RSPAMD_BODY_MAX bytes (413 over that, before it is read), the
 *	whole request within MX_VERDICT_TIMEOUT_MS; answers are written
 *	without blocking. The password is never logged.
 * DIAGNOSTICS
 *	Each spam verdict is logged with the client, the action, rspamd's
 *	queue id and the envelope sender. Refused pushes are logged at most
 *	once every 10 s with how many; all are counted (verdict_* in
 *	`mxguard stats`, mxguard_content_verdicts_total and
 *	mxguard_verdict_pushes_refused_total in the metrics).
 * CONFIGURATION PARAMETERS
 *	verdict_listen (none; restart), verdict_user (rspamd),
 *	verdict_password_file (required with verdict_listen; re-read on
 *	reload), spam_actions (reject; reload).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "http.h"
#include "pool.h"
#include "verdictd.h"

#define MX_VERDICT_CLIENTS	16
#define MX_VERDICT_TIMEOUT_MS	5000
#define MX_VERDICT_LINGER_MS	2000

/* mx_client.state */
enum { READ_HEAD, READ_BODY, LINGERING };

struct verdictd {
	struct agent *a;
	struct mx_pool pool;
	struct mx_rspamd_auth auth;
	struct mx_rspamd_request req[MX_VERDICT_CLIENTS];	/* by slot, while READ_BODY */
	struct mx_rspamd_verdict v;	/* the one being taken */
	struct verdict_stats stats;
	struct mx_log_rate refusals;
};

static void verdict_input(struct mx_pool *p, struct mx_client *c);
static bool verdict_admit(struct mx_pool *p, int fd);

/* verdictd_open - credentials, then listen on verdict_listen in the event loop */
int verdictd_open(struct agent *a)
{
	struct mx_pool_conf conf = {
		.name = "verdicts", .max_clients = MX_VERDICT_CLIENTS,
		.buf_size = MX_HTTP_HEAD_MAX + MX_RSPAMD_BODY_MAX,
		.timeout_ms = MX_VERDICT_TIMEOUT_MS, .full = MX_POOL_REPLACE,
		.input = verdict_input, .admit = verdict_admit,
	};
	struct sockaddr_storage ss;
	struct verdictd *vd;
	socklen_t len;
	char err[512];
	int one = 1, lfd;

	if (!a->cfg.verdict_listen[0])
		return 0;
	if (mx_parse_listen(a->cfg.verdict_listen, &ss, &len, err, sizeof(err))) {
		mx_log("verdict_listen %s: %s", a->cfg.verdict_listen, err);
		return -1;
	}
	vd = calloc(1, sizeof(*vd));
	if (!vd)
		return -1;
	if (mx_rspamd_auth_load(&vd->auth, a->cfg.verdict_user, a->cfg.verdict_password_file,
				err, sizeof(err))) {
		mx_log("content verdicts: %s", err);
		free(vd);
		return -1;
	}
	vd->a = a;
	conf.arg = vd;
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 16) ||
	    mx_pool_open(&vd->pool, &a->loop, lfd, &conf)) {
		mx_log("cannot take content verdicts on %s: %s (set verdict_listen, or leave it "
		       "empty for none)", a->cfg.verdict_listen, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		mx_rspamd_auth_clear(&vd->auth);
		free(vd);
		return -1;
	}
	a->verdictd = vd;
	mx_log("content verdicts on http://%s%s (user %s)", a->cfg.verdict_listen, MX_RSPAMD_PATH,
	       a->cfg.verdict_user);
	return 0;
}

/* verdictd_close - every connection and the listener; the credentials forgotten */
void verdictd_close(struct agent *a)
{
	struct verdictd *vd = a->verdictd;

	if (!vd)
		return;
	mx_pool_close(&vd->pool);
	mx_rspamd_auth_clear(&vd->auth);
	free(vd);
	a->verdictd = NULL;
}

/* verdictd_configure - the credentials a reload read */
void verdictd_configure(struct agent *a, const struct mx_rspamd_auth *auth)
{
	if (!a->verdictd)
		return;
	mx_rspamd_auth_clear(&a->verdictd->auth);
	a->verdictd->auth = *auth;
}

/* verdictd_stats - the counters, or zeros without the service */
void verdictd_stats(const struct agent *a, struct verdict_stats *out)
{
	*out = a->verdictd ? a->verdictd->stats : (struct verdict_stats){ 0 };
}

/* peer_of - fd's peer as text, and whether it is on loopback */
static bool peer_of(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const void *addr = NULL;
	bool local = false;

	snprintf(buf, len, "?");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl))
		return false;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		addr = &s4->sin_addr;
		local = ((const uint8_t *)&s4->sin_addr)[0] == 127;
	} else if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)&ss)->sin6_addr;

		addr = a6;
		local = IN6_IS_ADDR_LOOPBACK(a6) ||
			(IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
	}
	if (addr)
		inet_ntop(ss.ss_family, addr, buf, (socklen_t)len);
	return local;
}

/* reason_of - an HTTP status's reason phrase */
static const char *reason_of(int status)
{
	static const struct {
		int code;
		const char *text;
	} reasons[] = {
		{ 200, "OK" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 411, "Length Required" }, { 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "Error";
}

/* answer - the whole answer on fd without blocking (it is small); false if it did not go */
static bool answer(int fd, int status, const char *text)
{
	char msg[768];
	int body = (int)strlen(text) + 1, n;

	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		     "Content-Length: %d\r\n%s%sConnection: close\r\n\r\n%s\n",
		     status, reason_of(status), body,
		     status == 401 ? "WWW-Authenticate: Basic realm=\"mxguardd\", charset=\"UTF-8\"\r\n" : "",
		     status == 405 ? "Allow: POST\r\n" : "", text);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return false;
	return send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n;
}

/* count - a refusal in its counter, and in the log at most once every 10 s */
static void count(struct verdictd *vd, int fd, int status, const char *why)
{
	char peer[INET6_ADDRSTRLEN];

	switch (status) {
	case 400:
		vd->stats.malformed++;
		break;
	case 401:
		vd->stats.unauthenticated++;
		break;
	case 403:
		vd->stats.not_local++;
		break;
	case 413:
		vd->stats.too_large++;
		break;
	case 500:
		vd->stats.errors++;
		break;
	default:
		vd->stats.other++;
		break;
	}
	peer_of(fd, peer, sizeof(peer));
	mx_log_limited(&vd->refusals, "content verdicts: refused a push from %s: %d %s%s%s",
		       peer, status, reason_of(status), why ? ": " : "", why ? why : "");
}

/* finish - answer, then read what the client still sends until it closes (lingering) */
static void finish(struct verdictd *vd, struct mx_client *c, int status, const char *text)
{
	answer(c->fd, status, text);
	/*
	 * Closing with unread input would send a reset, and the client could
	 * lose the answer (a 413 to a body still arriving). Say we are done,
	 * then read until the client is too, for at most MX_VERDICT_LINGER_MS.
	 */
	shutdown(c->fd, SHUT_WR);
	c->state = LINGERING;
	mx_pool_deadline(&vd->pool, c, mx_mono_ms() + MX_VERDICT_LINGER_MS);
}

/* refuse - a refusal: counted, logged (limited) and answered */
static void refuse(struct verdictd *vd, struct mx_client *c, int status, const char *why)
{
	count(vd, c->fd, status, why);
	finish(vd, c, status, why ? why : reason_of(status));
}

/* verdict_admit - a peer not on loopback gets 403 and is closed */
static bool verdict_admit(struct mx_pool *p, int fd)
{
	struct verdictd *vd = p->conf.arg;
	char peer[INET6_ADDRSTRLEN];

	if (peer_of(fd, peer, sizeof(peer)))
		return true;
	count(vd, fd, 403, "not on loopback");
	answer(fd, 403, "only this host may push verdicts");
	close(fd);
	return false;
}

/* take - a whole body: parsed, judged by spam_actions, given to the senders */
static void take(struct verdictd *vd, struct mx_client *c, const char *body, size_t len)
{
	struct mx_rspamd_verdict *v = &vd->v;
	struct sender_result res = { 0 };
	char err[256], addr[64];
	bool spam;
	int r;

	if (mx_rspamd_parse(body, len, v, err, sizeof(err))) {
		refuse(vd, c, 400, err);
		return;
	}
	spam = vd->a->cfg.spam_actions & (1U << v->action);
	r = senders_content(&vd->a->senders, &v->addr, spam, v->rcpts, v->nrcpts, &res,
			    err, sizeof(err));
	mx_format_prefix(&v->addr, addr, sizeof(addr));
	if (r) {
		char why[400];

		snprintf(why, sizeof(why), "the verdict on %s could not be recorded: %s", addr, err);
		mx_rspamd_verdict_free(v);
		refuse(vd, c, 500, why);
		return;
	}
	if (spam) {
		vd->stats.spam++;
		mx_log("content verdict: rspamd says '%s' of mail from %s (queue id %s, from <%s>, "
		       "%zu recipient%s): spam%s", mx_rspamd_action_name(v->action), addr,
		       v->qid[0] ? v->qid : "?", v->from, v->nrcpts, v->nrcpts == 1 ? "" : "s",
		       res.allowlisted ? ", but the sender is allowlisted" : "");
	} else {
		vd->stats.clean++;
	}
	mx_rspamd_verdict_free(v);
	finish(vd, c, 200, spam ? "spam" : "clean");
}

/* verdict_input - the head as it comes, judged once whole; then the body; or what is left */
static void verdict_input(struct mx_pool *p, struct mx_client *c)
{
	struct verdictd *vd = p->conf.arg;
	struct mx_rspamd_request *req = &vd->req[c - p->c];
	ssize_t got;
	int r;

	if (c->state == LINGERING) {
		char sink[4096];

		got = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			mx_pool_drop(p, c);
		return;
	}
	if (c->state == READ_HEAD)
		got = mx_pool_read(p, c, MX_HTTP_HEAD_MAX - c->got);
	else
		got = mx_pool_read(p, c, req->head_len + req->body_len - c->got);
	if (got == 0)
		return;
	if (got < 0) {
		mx_pool_drop(p, c);	/* closed before the request was whole */
		return;
	}
	if (c->state == READ_HEAD) {
		r = mx_rspamd_head(c->buf, c->got, &vd->auth, req);
		if (r == 0)
			return;
		if (r != 100) {
			refuse(vd, c, r, NULL);
			return;
		}
		c->state = READ_BODY;
		if (req->expect_continue && c->got == req->head_len)
			send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (c->got < req->head_len + req->body_len)
		return;
	/* Bytes after the body (a pipelined request) are not read: one request a connection. */
	take(vd, c, c->buf + req->head_len, req->body_len);
}
