/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	session.h - SMTP sessions and their messages, as the policy service sees them
 * DESCRIPTION
 *	Postfix 3.7 sends no client port, so a policy request does not say
 *	which SMTP session it belongs to. What it does say is enough:
 *
 *	  - one smtpd process serves one session at a time, over one policy
 *	    connection that it keeps for later sessions: a session is a run
 *	    of requests on one connection;
 *	  - "instance" is PID.SEC.USEC.SEQNO (hex): unique per transaction
 *	    (MAIL FROM), with SEQNO counting the session's transactions from
 *	    0. A new transaction whose SEQNO is not above the last one seen
 *	    begins a new session; so does another client address or PID.
 *
 *	A message counts once, at END-OF-MESSAGE, whatever the number of
 *	recipients or of policy checks per stage: a transaction that ends
 *	with RSET, or whose recipients were all refused, never gets there.
 *
 *	A connection first seen in the middle of a session (the agent
 *	restarted, or Postfix reopened its policy connection) takes SEQNO,
 *	the transactions begun before, as its messages so far: never fewer
 *	than were delivered, so a limit still holds.
 *
 *	A request without a usable instance (another MTA, an old Postfix)
 *	is placed by its client address alone.
 */
#ifndef MX_SESSION_H
#define MX_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "parse.h"
#include "policy.h"

struct mx_session {
	bool active;
	bool resumed;			/* first seen mid-way: messages is an upper bound */
	struct mx_prefix client;
	uint32_t pid;			/* the smtpd's, from instance; 0: unknown */
	uint32_t seqno;			/* the last transaction seen */
	uint32_t messages;		/* counted at END-OF-MESSAGE */
	char instance[64];		/* the last transaction seen */
	char counted[64];		/* the last transaction counted */
};

/* PID.SEC.USEC.SEQNO: 0 and its parts, or -1. */
int mx_session_instance(const char *instance, uint32_t *pid, uint32_t *seqno);

/*
 * Place a request of this connection (client: its client_address). 1
 * when it begins a new session: *ended then holds the session before
 * it (ended->active false if there was none). 0 when it is the same.
 */
int mx_session_track(struct mx_session *s, const struct mx_policy_req *q,
		     const struct mx_prefix *client, struct mx_session *ended);

/* Is this END-OF-MESSAGE one not counted yet? (then count it with mx_session_count) */
bool mx_session_new_message(const struct mx_session *s, const struct mx_policy_req *q);
void mx_session_count(struct mx_session *s, const struct mx_policy_req *q);

/* What the message limits of a class say of one more message. */
enum mx_message_verdict {
	MX_MESSAGE_OK,
	MX_MESSAGE_SIZE,	/* larger than the class allows: 552 5.3.4 */
	MX_MESSAGE_SESSION,	/* the connection had its messages: 421 4.7.0 */
	MX_MESSAGE_RATE,	/* the source had its messages this minute: 450 4.7.1 */
};

/*
 * One more message of size bytes (0: unknown), in a session that has
 * in_session messages, from a source with in_minute in the last 60 s.
 */
enum mx_message_verdict mx_message_check(const struct mx_message_limits *l, uint32_t in_session,
					 uint64_t size, uint32_t in_minute);

#endif /* MX_SESSION_H */
