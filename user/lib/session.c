// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	session.c - SMTP sessions and their messages, as the policy service sees them
 * DESCRIPTION
 *	See session.h. Requests are untrusted: an instance that does not
 *	parse is treated as absent, never as a reason to fail.
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* hex_field - one hex number of at most 8 digits up to '.' or the end */
static const char *hex_field(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0;

	for (; *p && *p != '.'; p++, n++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return NULL;
		if (n == 8)
			return NULL;
		v = v << 4 | (uint32_t)d;
	}
	if (!n)
		return NULL;
	*out = v;
	return p;
}

int mx_session_instance(const char *instance, uint32_t *pid, uint32_t *seqno)
{
	const char *p = instance;
	uint32_t f[4];

	for (int i = 0; i < 4; i++) {
		p = hex_field(p, &f[i]);
		if (!p || (i < 3 && *p++ != '.'))
			return -1;
	}
	if (*p)
		return -1;
	*pid = f[0];
	*seqno = f[3];
	return 0;
}

/* same_client - the same address, unmapped */
static bool same_client(const struct mx_prefix *a, const struct mx_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

int mx_session_track(struct mx_session *s, const struct mx_policy_req *q,
		     const struct mx_prefix *client, struct mx_session *ended)
{
	uint32_t pid = 0, seqno = 0;
	bool known = mx_session_instance(q->instance, &pid, &seqno) == 0;
	bool fresh = !s->active;

	if (s->active && same_client(&s->client, client)) {
		if (!known || !s->pid || (pid == s->pid && !strcmp(q->instance, s->instance)))
			return 0;	/* the same transaction, or nothing to tell them apart */
		if (pid == s->pid && seqno > s->seqno) {
			s->seqno = seqno;	/* the session's next transaction */
			strcpy(s->instance, q->instance);
			return 0;
		}
	}
	*ended = *s;
	memset(s, 0, sizeof(*s));
	s->active = true;
	s->client = *client;
	if (known) {
		s->pid = pid;
		s->seqno = seqno;
		strcpy(s->instance, q->instance);
		/* Met mid-way on a new connection: every transaction before may have been a message. */
		if (fresh && seqno) {
			s->messages = seqno;
			s->resumed = true;
		}
	}
	return 1;
}

bool mx_session_new_message(const struct mx_session *s, const struct mx_policy_req *q)
{
	if (strcmp(q->protocol_state, "END-OF-MESSAGE"))
		return false;
	return !q->instance[0] || strcmp(q->instance, s->counted) != 0;
}

void mx_session_count(struct mx_session *s, const struct mx_policy_req *q)
{
	s->messages++;
	strcpy(s->counted, q->instance);
}

enum mx_message_verdict mx_message_check(const struct mx_message_limits *l, uint32_t in_session,
					 uint64_t size, uint32_t in_minute)
{
	if (l->size && size > l->size)
		return MX_MESSAGE_SIZE;
	if (l->per_session && in_session >= l->per_session)
		return MX_MESSAGE_SESSION;
	if (l->per_minute && in_minute >= l->per_minute)
		return MX_MESSAGE_RATE;
	return MX_MESSAGE_OK;
}
