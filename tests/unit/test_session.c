// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_session.c - SMTP sessions and their messages from policy requests
 * DESCRIPTION
 *	The requests are those Postfix 3.7 sends (captured from a real one):
 *	with smtpd_recipient_restrictions and smtpd_end_of_data_restrictions
 *	asking, a session of two messages, the second after an abandoned
 *	transaction, then a one-message session on the same connection:
 *
 *	    RCPT inst=6d2.6b0dc1c2.1e96c.0 (twice: two recipients)
 *	    END-OF-MESSAGE inst=6d2.6b0dc1c2.1e96c.0
 *	    RCPT inst=6d2.6b0dc1c2.24130.1 (then RSET)
 *	    RCPT inst=6d2.6b0dc1c2.25437.2, END-OF-MESSAGE
 *	    RCPT inst=6d2.6b0dc1c2.2793f.0, END-OF-MESSAGE (the next session)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "session.h"

static struct mx_prefix addr(const char *s)
{
	struct mx_prefix p;
	char err[128];

	assert_int_equal(mx_parse_addr(s, &p, err, sizeof(err)), 0);
	return p;
}

/* req - a request at a stage, of a transaction */
static struct mx_policy_req req(const char *state, const char *instance)
{
	struct mx_policy_req q;

	memset(&q, 0, sizeof(q));
	strcpy(q.request, "smtpd_access_policy");
	strcpy(q.protocol_state, state);
	strcpy(q.client_address, "198.18.0.10");
	strcpy(q.instance, instance);
	return q;
}

/* feed - one request: 1 if it began a session; counts an end of message */
static int feed(struct mx_session *s, const char *state, const char *instance,
		const char *client, struct mx_session *ended)
{
	struct mx_policy_req q = req(state, instance);
	struct mx_prefix c = addr(client);
	int r = mx_session_track(s, &q, &c, ended);

	if (mx_session_new_message(s, &q))
		mx_session_count(s, &q);
	return r;
}

static void test_instance(void **state)
{
	uint32_t pid, seqno;

	(void)state;
	assert_int_equal(mx_session_instance("6d2.6b0dc1c2.1e96c.0", &pid, &seqno), 0);
	assert_int_equal(pid, 0x6d2);
	assert_int_equal(seqno, 0);
	assert_int_equal(mx_session_instance("6D2.6b0dc1c2.1e96c.1a", &pid, &seqno), 0);
	assert_int_equal(seqno, 0x1a);
	assert_int_equal(mx_session_instance("", &pid, &seqno), -1);
	assert_int_equal(mx_session_instance("6d2.6b0dc1c2.1e96c", &pid, &seqno), -1);
	assert_int_equal(mx_session_instance("6d2.6b0dc1c2.1e96c.0.1", &pid, &seqno), -1);
	assert_int_equal(mx_session_instance("6d2..1e96c.0", &pid, &seqno), -1);
	assert_int_equal(mx_session_instance("6d2.6b0dc1c2.1e96c.x", &pid, &seqno), -1);
	assert_int_equal(mx_session_instance("123456789.1.1.1", &pid, &seqno), -1);
	assert_int_equal(mx_session_instance("1.1.1.0 ", &pid, &seqno), -1);
}

/* The captured conversation: two messages in the first session, one in the next. */
static void test_postfix_sessions(void **state)
{
	struct mx_session s = { 0 }, ended;

	(void)state;
	assert_int_equal(feed(&s, "RCPT", "6d2.6b0dc1c2.1e96c.0", "198.18.0.10", &ended), 1);
	assert_false(ended.active);
	assert_false(s.resumed);
	assert_int_equal(feed(&s, "RCPT", "6d2.6b0dc1c2.1e96c.0", "198.18.0.10", &ended), 0);
	assert_int_equal(feed(&s, "DATA", "6d2.6b0dc1c2.1e96c.0", "198.18.0.10", &ended), 0);
	assert_int_equal(s.messages, 0);
	assert_int_equal(feed(&s, "END-OF-MESSAGE", "6d2.6b0dc1c2.1e96c.0", "198.18.0.10", &ended), 0);
	assert_int_equal(s.messages, 1);
	/* A second check at the end of the same message counts nothing. */
	assert_int_equal(feed(&s, "END-OF-MESSAGE", "6d2.6b0dc1c2.1e96c.0", "198.18.0.10", &ended), 0);
	assert_int_equal(s.messages, 1);
	/* Abandoned (RSET): no END-OF-MESSAGE, no message. */
	assert_int_equal(feed(&s, "RCPT", "6d2.6b0dc1c2.24130.1", "198.18.0.10", &ended), 0);
	assert_int_equal(feed(&s, "RCPT", "6d2.6b0dc1c2.25437.2", "198.18.0.10", &ended), 0);
	assert_int_equal(feed(&s, "END-OF-MESSAGE", "6d2.6b0dc1c2.25437.2", "198.18.0.10", &ended), 0);
	assert_int_equal(s.messages, 2);
	/* SEQNO 0 again, another transaction: the next session; the last had 2. */
	assert_int_equal(feed(&s, "RCPT", "6d2.6b0dc1c2.2793f.0", "198.18.0.10", &ended), 1);
	assert_true(ended.active);
	assert_int_equal(ended.messages, 2);
	assert_int_equal(s.messages, 0);
	assert_int_equal(feed(&s, "END-OF-MESSAGE", "6d2.6b0dc1c2.2793f.0", "198.18.0.10", &ended), 0);
	assert_int_equal(s.messages, 1);
	/* One message, then another one-message session: each ends with 1. */
	assert_int_equal(feed(&s, "RCPT", "6d2.6b0dc1c3.10.0", "198.18.0.10", &ended), 1);
	assert_int_equal(ended.messages, 1);
}

/* A SEQNO below the last, another client, another smtpd: a new session. */
static void test_new_session_signs(void **state)
{
	struct mx_session s = { 0 }, ended;

	(void)state;
	feed(&s, "RCPT", "10.1.1.3", "198.18.0.10", &ended);
	assert_int_equal(s.messages, 3);	/* met mid-way: see test_resumed */
	assert_int_equal(feed(&s, "RCPT", "10.1.2.1", "198.18.0.10", &ended), 1);
	assert_int_equal(feed(&s, "RCPT", "10.1.3.2", "198.18.0.11", &ended), 1);
	assert_int_equal(ended.client.addr[3], 10);
	assert_int_equal(feed(&s, "RCPT", "11.1.4.3", "198.18.0.11", &ended), 1);
	/* Without an instance, the client address alone tells. */
	assert_int_equal(feed(&s, "RCPT", "", "198.18.0.11", &ended), 0);
	assert_int_equal(feed(&s, "RCPT", "", "198.18.0.12", &ended), 1);
	assert_int_equal(feed(&s, "END-OF-MESSAGE", "", "198.18.0.12", &ended), 0);
	assert_int_equal(feed(&s, "END-OF-MESSAGE", "", "198.18.0.12", &ended), 0);
	assert_int_equal(s.messages, 2);
	assert_int_equal(feed(&s, "RCPT", "", "2001:db8::1", &ended), 1);
	assert_int_equal(ended.messages, 2);
}

/*
 * A session first met mid-way (the agent restarted): its SEQNO
 * transactions before may all have been messages, so they are taken as
 * such; the limit never lets more through than it should.
 */
static void test_resumed(void **state)
{
	struct mx_session s = { 0 }, ended;

	(void)state;
	assert_int_equal(feed(&s, "RCPT", "6d2.1.1.5", "198.18.0.10", &ended), 1);
	assert_true(s.resumed);
	assert_int_equal(s.messages, 5);
	assert_int_equal(feed(&s, "END-OF-MESSAGE", "6d2.1.1.5", "198.18.0.10", &ended), 0);
	assert_int_equal(s.messages, 6);
	/* The next session on that connection starts from nothing. */
	assert_int_equal(feed(&s, "RCPT", "6d2.1.2.0", "198.18.0.10", &ended), 1);
	assert_false(s.resumed);
	assert_int_equal(s.messages, 0);
	/* Only a fresh connection resumes: a later session at SEQNO 3 is new, from 0. */
	assert_int_equal(feed(&s, "RCPT", "6d2.1.3.3", "198.18.0.11", &ended), 1);
	assert_false(s.resumed);
	assert_int_equal(s.messages, 0);
}

/* The 1000th message of a session is counted; the limit is the caller's. */
static void test_many_messages(void **state)
{
	struct mx_session s = { 0 }, ended;
	char inst[64];

	(void)state;
	for (int i = 0; i < 1001; i++) {
		snprintf(inst, sizeof(inst), "6d2.1.%x.%x", i + 1, i);
		assert_int_equal(feed(&s, "RCPT", inst, "198.18.0.10", &ended), i == 0);
		if (i < 1000)
			feed(&s, "END-OF-MESSAGE", inst, "198.18.0.10", &ended);
		assert_int_equal(s.messages, i < 1000 ? (uint32_t)i + 1 : 1000);
	}
}

/* The limits at their boundaries: the 1000th message and the 1001st, the 300th and 301st. */
static void test_message_check(void **state)
{
	struct mx_message_limits l = { .per_session = 1000, .per_minute = 300, .size = 0 };

	(void)state;
	assert_int_equal(mx_message_check(&l, 999, 0, 0), MX_MESSAGE_OK);	/* the 1000th */
	assert_int_equal(mx_message_check(&l, 1000, 0, 0), MX_MESSAGE_SESSION);	/* the 1001st */
	assert_int_equal(mx_message_check(&l, 0, 0, 299), MX_MESSAGE_OK);	/* the 300th */
	assert_int_equal(mx_message_check(&l, 0, 0, 300), MX_MESSAGE_RATE);	/* the 301st */
	assert_int_equal(mx_message_check(&l, 1000, 0, 300), MX_MESSAGE_SESSION);
	assert_int_equal(mx_message_check(&l, 0, 1ULL << 40, 0), MX_MESSAGE_OK);	/* no size limit */
	l.size = 10 << 20;
	assert_int_equal(mx_message_check(&l, 0, 10 << 20, 0), MX_MESSAGE_OK);
	assert_int_equal(mx_message_check(&l, 0, (10 << 20) + 1, 0), MX_MESSAGE_SIZE);
	assert_int_equal(mx_message_check(&l, 1000, (10 << 20) + 1, 300), MX_MESSAGE_SIZE);
	l = (struct mx_message_limits){ 0 };	/* 0: no limits at all */
	assert_int_equal(mx_message_check(&l, UINT32_MAX, UINT64_MAX, UINT32_MAX), MX_MESSAGE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instance),
		cmocka_unit_test(test_postfix_sessions),
		cmocka_unit_test(test_new_session_signs),
		cmocka_unit_test(test_resumed),
		cmocka_unit_test(test_many_messages),
		cmocka_unit_test(test_message_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
