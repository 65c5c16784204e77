/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	policyd.h - the Postfix policy service: trap hits in, verdicts out
 */
#ifndef MX_POLICYD_H
#define MX_POLICYD_H

#include <stdint.h>

struct agent;

struct policy_stats {
	uint64_t requests;		/* answered */
	uint64_t malformed;		/* connections closed for a malformed request */
	uint64_t banned;		/* answered 521: the hit that banned the client */
	uint64_t rejected_listed;	/* answered 550: a listed client */
	uint64_t rejected_messages;	/* answered 421: messages in one connection */
	uint64_t rejected_rate;		/* answered 450: messages a minute */
	uint64_t rejected_size;		/* answered 552: a class's message size */
	uint64_t messages;		/* counted at END-OF-MESSAGE */
	uint64_t sessions;		/* SMTP sessions seen to end */
	uint64_t sessions_resumed;	/* first seen mid-way (a restart, a new policy connection) */
};

/* Serve policy_socket in the agent's event loop (nothing if it is empty). 0 or -1. */
int policyd_open(struct agent *a);
void policyd_close(struct agent *a);
/* The counters (all 0 without a policy service). */
void policyd_stats(const struct agent *a, struct policy_stats *out);

#endif /* MX_POLICYD_H */
