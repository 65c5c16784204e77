// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_policy - libFuzzer harness for the policy protocol and trap file
 * DESCRIPTION
 *	Any bytes as a stream of policy requests, read as the agent reads
 *	them (request by request from the front of a buffer): each whole
 *	request consumes at least one byte and no more than there is, and
 *	every field it fills is a NUL-terminated string that fits. The
 *	requests, as one policy connection's, go through the session tracker
 *	(session.h): a message counts once per transaction, a session's
 *	count never falls, and a resumed one starts at its SEQNO. The same
 *	bytes as a trap file: a refusal names its line and leaves no list; an
 *	accepted list is sorted and every entry matches itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "session.h"

static void check_field(const char *f, size_t size)
{
	if (!memchr(f, '\0', size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct mx_policy_req q;
	struct mx_prefix client;
	struct mx_traps t;
	struct mx_session sess = { 0 }, ended;
	size_t off = 0, used;
	char err[256];
	int r;

	while (off < size &&
	       (r = mx_policy_parse(buf + off, size - off, &q, &used, err, sizeof(err))) == 1) {
		if (used == 0 || used > size - off)
			abort();
		check_field(q.request, sizeof(q.request));
		check_field(q.protocol_state, sizeof(q.protocol_state));
		check_field(q.client_address, sizeof(q.client_address));
		check_field(q.client_name, sizeof(q.client_name));
		check_field(q.sender, sizeof(q.sender));
		check_field(q.recipient, sizeof(q.recipient));
		check_field(q.instance, sizeof(q.instance));
		check_field(q.size, sizeof(q.size));
		mx_policy_role_address(q.recipient);
		if (mx_parse_addr(q.client_address, &client, err, sizeof(err)) == 0) {
			uint32_t before = sess.messages, pid, seqno;

			if (mx_session_track(&sess, &q, &client, &ended) == 1) {
				before = sess.messages;
				if (sess.resumed != (mx_session_instance(q.instance, &pid, &seqno) == 0 &&
						     seqno && sess.messages == seqno && !ended.active))
					abort();
			}
			if (mx_session_new_message(&sess, &q)) {
				mx_session_count(&sess, &q);
				if (sess.messages != before + 1 || (q.instance[0] &&
				    mx_session_new_message(&sess, &q)))
					abort();
			} else if (sess.messages != before) {
				abort();
			}
		}
		off += used;
	}

	if (mx_traps_parse(&t, "fuzz", buf, size, err, sizeof(err))) {
		if (strncmp(err, "fuzz:", 5) || t.n || t.v)
			abort();
		return 0;
	}
	for (size_t i = 0; i < t.n; i++) {
		enum mx_trap_kind k;

		if (i && strcmp(t.v[i - 1].addr, t.v[i].addr) > 0)
			abort();
		if (t.v[i].addr[0] != '@' && !mx_traps_match(&t, t.v[i].addr, &k))
			abort();
	}
	mx_traps_free(&t);
	return 0;
}
