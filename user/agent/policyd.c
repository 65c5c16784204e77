// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	policyd.c - the Postfix policy service: trap hits in, verdicts out
 * SYNOPSIS
 *	main.cf:
 *	    smtpd_recipient_restrictions = ..., reject_unauth_destination,
 *	        check_policy_service unix:private/mxguard, ...
 *	    smtpd_end_of_data_restrictions =
 *	        check_policy_service unix:private/mxguard
 *	mxguard.conf:
 *	    policy_socket = /var/spool/postfix/private/mxguard
 *	    trap_file = /etc/mxguard/traps
 * DESCRIPTION
 *	Postfix asks at each RCPT TO and at the end of each message's data.
 *	Each policy connection carries one smtpd process's sessions, one at
 *	a time; session.h tells them apart and counts their messages.
 *
 *	At END-OF-MESSAGE, for a sender the allowlist does not cover, with
 *	the limits of its class (class.ID.messages, messages_per_minute,
 *	message_size), the message is refused and not counted when it
 *	  - is larger than the class allows: "552 5.3.4";
 *	  - would be the connection's messages+1-th: "421 4.7.0", and
 *	    Postfix ends the session;
 *	  - would be more than messages_per_minute from its source in the
 *	    last 60 s: "450 4.7.1", and a retry later succeeds;
 *	and counted otherwise. At RCPT the same limits refuse early what
 *	END-OF-MESSAGE would refuse, so no data is sent for nothing. A
 *	session that ends (the next session on its connection, or the
 *	connection closing) with one message adds to the one-message
 *	habit (verdict.h); the habit puts the sender in one_message_class.
 *
 *	At RCPT TO, the answer:
 *
 *	  - a recipient in the trap file counts a hit for the client: any
 *	    mail to a spam trap, a bounce (null sender) to a backscatter
 *	    trap. The hit that crosses the threshold bans the client and is
 *	    answered "521 5.7.1 ..." (Postfix replies and disconnects); any
 *	    other hit is answered DUNNO, and Postfix's own tables decide what
 *	    becomes of mail to the trap: the sender learns nothing.
 *	  - a client listed after spam gets "550 5.7.1 ... listed ..." for
 *	    every recipient but postmaster and abuse (RFC 5321 4.5.1, RFC
 *	    2142), so it can still reach a person, and the samples
 *	    addresses, so that a clean sample can get it delisted;
 *	  - the message limits above;
 *	  - everything else, and anything we cannot read, is DUNNO: the
 *	    service never rejects mail for its own failure.
 *
 *	Connections are served by the agent's event loop without blocking,
 *	from a client pool (pool.h): at most MX_POLICY_CLIENTS (Postfix
 *	keeps one per smtpd process); a new one over that takes the place
 *	of the one idle longest (MX_POOL_REPLACE with an idle deadline),
 *	unless a request of that one has arrived. A request over
 *	MX_POLICY_REQUEST_MAX bytes or malformed closes its connection;
 *	one idle MX_POLICY_IDLE_MS is closed too.
 * SECURITY
 *	The socket is mode 0660, owned by root and policy_group: a process
 *	that can report trap hits can ban addresses.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "policyd.h"
#include "pool.h"
#include "session.h"
#include "spf.h"

#define MX_POLICY_CLIENTS	256
#define MX_POLICY_IDLE_MS	(600 * 1000)

struct policyd {
	struct agent *a;
	struct mx_pool pool;
	char path[108];
	struct policy_stats stats;
	struct mx_session sessions[MX_POLICY_CLIENTS];	/* one per pool slot */
	bool closing;		/* the agent stops: its sessions go on in Postfix */
};

static void policy_input(struct mx_pool *pool, struct mx_client *c);
static void policy_closed(struct mx_pool *pool, struct mx_client *c);

/* policyd_open - the socket, group-owned, and its pool in the event loop */
int policyd_open(struct agent *a)
{
	const char *path = a->cfg.policy_socket;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct mx_pool_conf conf = {
		.name = "policy", .max_clients = MX_POLICY_CLIENTS,
		.buf_size = MX_POLICY_REQUEST_MAX, .timeout_ms = MX_POLICY_IDLE_MS, .idle = true,
		.full = MX_POOL_REPLACE, .input = policy_input, .closed = policy_closed,
	};
	struct policyd *p;
	struct group *g;
	int lfd;

	if (!path[0])
		return 0;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		mx_log("policy_socket %s is longer than %zu characters", path,
			  sizeof(sun.sun_path) - 1);
		return -1;
	}
	g = getgrnam(a->cfg.policy_group);
	if (!g) {
		mx_log("policy_group '%s' is no group on this host", a->cfg.policy_group);
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->a = a;
	conf.arg = p;
	strcpy(sun.sun_path, path);
	strcpy(p->path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		goto fail;
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chown(path, 0, g->gr_gid) || chmod(path, 0660) || listen(lfd, 64)) {
		mx_log("cannot serve the policy service on %s: %s", path, strerror(errno));
		goto fail;
	}
	if (mx_pool_open(&p->pool, &a->loop, lfd, &conf)) {
		mx_log("cannot serve the policy service on %s: out of memory", path);
		goto fail;
	}
	a->policyd = p;
	mx_log("policy service on %s (group %s)", path, a->cfg.policy_group);
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
	free(p);
	return -1;
}

/* policyd_close - every connection, the listener and its socket file */
void policyd_close(struct agent *a)
{
	struct policyd *p = a->policyd;

	if (!p)
		return;
	p->closing = true;
	mx_pool_close(&p->pool);
	unlink(p->path);
	free(p);
	a->policyd = NULL;
}

/* policyd_stats - the counters, or zeros without a policy service */
void policyd_stats(const struct agent *a, struct policy_stats *out)
{
	*out = a->policyd ? a->policyd->stats : (struct policy_stats){ 0 };
}

/* session_ended - a session of this connection is over: its messages tell the habit */
static void session_ended(struct policyd *p, const struct mx_session *ended)
{
	if (!ended->active)
		return;
	p->stats.sessions++;
	senders_session_end(&p->a->senders, &ended->client, ended->messages);
}

/* reply - "CODE X.Y.Z text" with the text's placeholders filled in */
static void reply(struct policyd *p, const struct mx_policy_req *q, const char *code,
		  const char *tmpl, const char *reason, char *act, size_t len)
{
	struct agent *a = p->a;
	struct mx_text_vars v = { .host = a->cfg.hostname, .addr = q->client_address,
				  .url = a->cfg.policy_url, .reason = reason,
				  .samples = a->cfg.samples[0] ? a->cfg.samples : "postmaster" };
	char text[MX_TEXT_OUT];

	mx_text_expand(text, sizeof(text), tmpl, &v);
	snprintf(act, len, "%s %s", code, text);
}

/* size_of - Postfix's size attribute; 0 when absent or not a number */
static uint64_t size_of(const struct mx_policy_req *q)
{
	char *end;
	unsigned long long n;

	if (!q->size[0])
		return 0;
	n = strtoull(q->size, &end, 10);
	return *end ? 0 : (uint64_t)n;
}

/*
 * limits - what the message limits of addr's class say of one more
 * message; when they refuse, the reply in act and true. At the end of
 * data (eom) a message they let through is counted in its source's minute.
 */
static bool limits(struct policyd *p, const struct mx_policy_req *q, const struct mx_prefix *addr,
		   const struct mx_session *s, bool eom, char *act, size_t len)
{
	struct agent *a = p->a;
	const struct mx_message_limits *l = &a->cfg.messages[senders_class_of(&a->senders, addr)];
	enum mx_message_verdict v;

	v = mx_message_check(l, s->messages, size_of(q),
			     senders_messages_in_minute(&a->senders, addr));
	if (v == MX_MESSAGE_OK && eom && senders_message(&a->senders, addr, l->per_minute) == 0)
		v = MX_MESSAGE_RATE;	/* never: the check above saw the same minute */
	switch (v) {
	case MX_MESSAGE_SIZE:
		p->stats.rejected_size++;
		reply(p, q, "552 5.3.4", a->cfg.reply_message_size, "message size", act, len);
		return true;
	case MX_MESSAGE_SESSION:
		p->stats.rejected_messages++;
		reply(p, q, "421 4.7.0", a->cfg.reply_messages, "messages in one connection", act,
		      len);
		return true;
	case MX_MESSAGE_RATE:
		p->stats.rejected_rate++;
		reply(p, q, "450 4.7.1", a->cfg.reply_message_rate, "messages a minute", act, len);
		return true;
	default:
		return false;
	}
}

/* end_of_message - count the message, or refuse it over a limit */
static void end_of_message(struct policyd *p, const struct mx_policy_req *q,
			   const struct mx_prefix *addr, struct mx_session *s, char *act, size_t len)
{
	if (!mx_session_new_message(s, q))
		return;	/* this transaction's message is counted already (a second check) */
	if (senders_allowlisted(&p->a->senders, addr)) {
		mx_session_count(s, q);
		return;
	}
	if (limits(p, q, addr, s, true, act, len))
		return;
	mx_session_count(s, q);
	p->stats.messages++;
}

/* decide - the action for one request of the connection whose session is s */
static void decide(struct policyd *p, struct mx_session *s, const struct mx_policy_req *q,
		   char *act, size_t len)
{
	struct agent *a = p->a;
	struct sender_result res;
	struct mx_session ended;
	enum mx_trap_kind kind;
	struct mx_prefix addr;
	char err[256];

	snprintf(act, len, "DUNNO");
	if (mx_parse_addr(q->client_address, &addr, err, sizeof(err)))
		return;
	if (mx_session_track(s, q, &addr, &ended)) {
		session_ended(p, &ended);
		if (s->resumed)
			p->stats.sessions_resumed++;
	}
	if (!strcmp(q->protocol_state, "END-OF-MESSAGE")) {
		end_of_message(p, q, &addr, s, act, len);
		return;
	}
	if (strcmp(q->protocol_state, "RCPT"))
		return;
	/* Postfix says "unknown" for a name it could not forward-confirm. */
	if (q->client_name[0] && !q->too_long)
		senders_auto(&a->senders, &addr, MX_AUTO_PTR, strcmp(q->client_name, "unknown") != 0);
	if (!q->too_long)
		spf_submit(a, &addr, q->sender, q->helo_name);
	dnsbl_submit(a, &addr);
	if (!q->too_long && mx_traps_match(&a->senders.traps, q->recipient, &kind) &&
	    (kind == MX_TRAP_SPAM || q->sender[0] == '\0')) {
		if (senders_trap(&a->senders, &addr, kind, 1, &res, err, sizeof(err))) {
			static struct mx_log_rate rate;

			mx_log_limited(&rate, "trap hit from %s: %s", q->client_address, err);
		}
		if (res.banned) {
			p->stats.banned++;
			reply(p, q, "521 5.7.1", a->cfg.reply_trap_ban,
			      kind == MX_TRAP_SPAM ? "spam-trap hits" : "backscatter-trap hits", act,
			      len);
			return;
		}
	}
	/*
	 * Listed after spam, and not allowlisted since: refused, but for role
	 * addresses and the samples addresses (a clean sample delists).
	 */
	if (!mx_policy_role_address(q->recipient) && !senders_is_sample(&a->senders, q->recipient) &&
	    senders_listed(&a->senders, &addr)) {
		p->stats.rejected_listed++;
		reply(p, q, "550 5.7.1", a->cfg.reply_listed, "listed", act, len);
		return;
	}
	if (!senders_allowlisted(&a->senders, &addr))
		limits(p, q, &addr, s, false, act, len);
}

/* serve - answer every whole request in a client's buffer */
static int serve(struct policyd *p, struct mx_client *c)
{
	struct mx_policy_req q;
	char err[128], act[MX_TEXT_OUT + 16], out[MX_TEXT_OUT + 40];
	size_t used;
	int r;

	while ((r = mx_policy_parse(c->buf, c->got, &q, &used, err, sizeof(err))) == 1) {
		int n;

		p->stats.requests++;
		decide(p, &p->sessions[c - p->pool.c], &q, act, sizeof(act));
		n = snprintf(out, sizeof(out), "action=%s\n\n", act);
		if (send(c->fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
			return -1;	/* a client that does not read its answers */
		memmove(c->buf, c->buf + used, c->got - used);
		c->got -= used;
	}
	if (r < 0) {
		uint64_t n = ++p->stats.malformed;

		if (n < 10 || n % 1000 == 0)
			mx_log("policy service: %s; closing that connection (%llu so far)", err,
				  (unsigned long long)n);
		return -1;
	}
	return 0;
}

/* policy_closed - a connection went: so did the session it carried */
static void policy_closed(struct mx_pool *pool, struct mx_client *c)
{
	struct policyd *p = pool->conf.arg;
	struct mx_session *s = &p->sessions[c - pool->c];

	if (!p->closing)
		session_ended(p, s);
	memset(s, 0, sizeof(*s));
}

/*
 * policy_input - read, answer what is whole; a client that closed, sent
 * more than a request holds, or something malformed is closed
 */
static void policy_input(struct mx_pool *pool, struct mx_client *c)
{
	ssize_t got = mx_pool_read(pool, c, MX_POLICY_REQUEST_MAX);

	if (got == 0)
		return;
	if (got < 0 || serve(pool->conf.arg, c))
		mx_pool_drop(pool, c);
}
