// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_policy.c - the trap file and the Postfix policy protocol parsers
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "spf.h"
#include "text.h"

static int traps(struct mx_traps *t, const char *text, char *err)
{
	return mx_traps_parse(t, "traps", text, strlen(text), err, 512);
}

static void test_trap_file(void **state)
{
	struct mx_traps t;
	enum mx_trap_kind k;
	char err[512];

	assert_int_equal(traps(&t, "# c\n\nTrap@Example.ORG spam  # old address\n"
			       "@spam.example.org\tspam\r\nbounce@example.org backscatter\n"
			       "x@spam.example.org backscatter\n", err), 0);
	assert_int_equal(t.n, 4);
	assert_true(mx_traps_match(&t, "trap@example.org", &k));
	assert_int_equal(k, MX_TRAP_SPAM);
	assert_true(mx_traps_match(&t, "TRAP@example.org", &k));
	assert_true(mx_traps_match(&t, "anyone@SPAM.example.org", &k));
	assert_int_equal(k, MX_TRAP_SPAM);
	/* The address's own line wins over its domain's. */
	assert_true(mx_traps_match(&t, "x@spam.example.org", &k));
	assert_int_equal(k, MX_TRAP_BACKSCATTER);
	assert_true(mx_traps_match(&t, "bounce@example.org", &k));
	assert_int_equal(k, MX_TRAP_BACKSCATTER);
	/* Not traps: other addresses, subdomains, odd shapes. */
	assert_false(mx_traps_match(&t, "user@example.org", &k));
	assert_false(mx_traps_match(&t, "a@sub.spam.example.org", &k));
	assert_false(mx_traps_match(&t, "", &k));
	assert_false(mx_traps_match(&t, "@spam.example.org", &k));
	assert_false(mx_traps_match(&t, "no-at-sign", &k));
	mx_traps_free(&t);

	/* Empty lists match nothing. */
	assert_int_equal(traps(&t, "# nothing\n", err), 0);
	assert_false(mx_traps_match(&t, "trap@example.org", &k));
	mx_traps_free(&t);
}

static void test_trap_file_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "a@b.c\n", "traps:1: expected 'ADDRESS spam' or 'ADDRESS backscatter'" },
		{ "ok@b.c spam\na@b.c ham\n", "traps:2: expected" },
		{ "a@b.c spam extra\n", "traps:1: expected" },
		{ "nodomain@ spam\n", "traps:1: 'nodomain@': no domain after '@'" },
		{ "plain spam\n", "traps:1: 'plain': expected local@domain or @domain" },
		{ "a@b@c spam\n", "traps:1: 'a@b@c': expected local@domain or @domain" },
		{ "<a@b.c> spam\n", "traps:1: '<a@b.c>': address has" },
		{ "a\x01@b.c spam\n", "traps:1:" },
		{ "a@b.c spam\nA@B.C backscatter\n", "'a@b.c' is listed as both spam and backscatter" },
	};
	struct mx_traps t;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (traps(&t, bad[i].text, err) == 0)
			fail_msg("'%s' accepted", bad[i].text);
		if (!strstr(err, bad[i].want))
			fail_msg("'%s': got '%s', want '%s'", bad[i].text, err, bad[i].want);
		assert_int_equal(t.n, 0);
		assert_null(t.v);
	}
	/* A NUL byte and an overlong line are errors with their line. */
	assert_int_not_equal(mx_traps_parse(&t, "traps", "a@b.c spam\nx\0y spam\n", 20, err,
					    sizeof(err)), 0);
	assert_non_null(strstr(err, "traps:2: NUL byte"));
	char *longl = malloc(3000);

	memset(longl, 'a', 2999);
	longl[2999] = '\0';
	assert_int_not_equal(traps(&t, longl, err), 0);
	assert_non_null(strstr(err, "traps:1: line longer than 1024"));
	free(longl);
}

static int parse(const char *s, struct mx_policy_req *q, size_t *used, char *err)
{
	return mx_policy_parse(s, strlen(s), q, used, err, 128);
}

static void test_policy_request(void **state)
{
	const char *req = "request=smtpd_access_policy\nprotocol_state=RCPT\n"
			  "protocol_name=ESMTP\nclient_address=198.18.0.10\n"
			  "client_name=unknown\nsender=\nrecipient=Trap@Example.org\n"
			  "unknown_attribute=whatever=with=equals\n\n";
	struct mx_policy_req q;
	char err[128], two[2048];
	size_t used;

	assert_int_equal(parse(req, &q, &used, err), 1);
	assert_int_equal(used, strlen(req));
	assert_string_equal(q.protocol_state, "RCPT");
	assert_string_equal(q.client_address, "198.18.0.10");
	assert_string_equal(q.client_name, "unknown");
	assert_string_equal(q.sender, "");
	assert_string_equal(q.recipient, "Trap@Example.org");
	assert_false(q.too_long);

	/* Incomplete: more is needed, at any cut. */
	for (size_t cut = 0; cut < strlen(req); cut++)
		assert_int_equal(mx_policy_parse(req, cut, &q, &used, err, sizeof(err)), 0);

	/* Two in a row: the first, then the second from where it ended. */
	snprintf(two, sizeof(two), "%s%s", req, req);
	assert_int_equal(parse(two, &q, &used, err), 1);
	assert_int_equal(parse(two + used, &q, &used, err), 1);

	/* CRLF is taken as LF. */
	assert_int_equal(parse("request=smtpd_access_policy\r\nrecipient=a@b\r\n\r\n", &q, &used,
			       err), 1);
	assert_string_equal(q.recipient, "a@b");
}

static void test_policy_request_errors(void **state)
{
	struct mx_policy_req q;
	char err[128], *big;
	size_t used;

	assert_int_equal(parse("hello\n\n", &q, &used, err), -1);
	assert_string_equal(err, "expected name=value");
	assert_int_equal(parse("=x\n\n", &q, &used, err), -1);
	assert_int_equal(parse("request=junk\n\n", &q, &used, err), -1);
	assert_non_null(strstr(err, "not smtpd_access_policy"));
	assert_int_equal(parse("\n", &q, &used, err), -1);	/* no request at all */
	assert_int_equal(mx_policy_parse("a=b\0c\n\n", 7, &q, &used, err, sizeof(err)), -1);
	assert_string_equal(err, "NUL byte in request");

	/* A value that does not fit is noted, not truncated into a match. */
	big = malloc(MX_POLICY_REQUEST_MAX + 10);
	snprintf(big, 1000, "request=smtpd_access_policy\nrecipient=");
	memset(big + strlen(big), 'a', 400);
	strcpy(big + strlen("request=smtpd_access_policy\nrecipient=") + 400, "@b.c\n\n");
	assert_int_equal(parse(big, &q, &used, err), 1);
	assert_true(q.too_long);
	assert_string_equal(q.recipient, "");

	/* No end in MX_POLICY_REQUEST_MAX bytes: refused. */
	memset(big, 'a', MX_POLICY_REQUEST_MAX + 9);
	big[0] = 'x';
	big[1] = '=';
	big[MX_POLICY_REQUEST_MAX + 9] = '\0';
	assert_int_equal(parse(big, &q, &used, err), -1);
	assert_non_null(strstr(err, "longer than"));
	free(big);
}

static void test_role_addresses(void **state)
{
	assert_true(mx_policy_role_address("postmaster@example.org"));
	assert_true(mx_policy_role_address("PostMaster@example.org"));
	assert_true(mx_policy_role_address("abuse@example.org"));
	assert_true(mx_policy_role_address("postmaster"));
	assert_false(mx_policy_role_address("postmasters@example.org"));
	assert_false(mx_policy_role_address("user@postmaster.org"));
	assert_false(mx_policy_role_address(""));
}

/* Reply texts: placeholders, refusals, and nothing unprintable ever out. */
static void test_texts(void **state)
{
	struct mx_text_vars v = { .host = "mx.example.org", .addr = "198.18.0.5",
				  .reason = "spam\r\nInjected: yes", .url = "https://x.test/p" };
	char out[MX_TEXT_OUT], err[128], *big;

	assert_int_equal(mx_text_check("%h Error: too many connections from %a", err, sizeof(err)), 0);
	mx_text_expand(out, sizeof(out), "%h Error: too many connections from %a", &v);
	assert_string_equal(out, "mx.example.org Error: too many connections from 198.18.0.5");
	mx_text_expand(out, sizeof(out), "%r; see %u (100%%)", &v);
	assert_string_equal(out, "spamInjected: yes; see https://x.test/p (100%)");
	assert_int_equal(mx_text_check("50% off", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown placeholder '% '"));
	assert_int_equal(mx_text_check("trailing %", err, sizeof(err)), -1);
	assert_int_equal(mx_text_check("tab\there", err, sizeof(err)), -1);
	assert_int_equal(mx_text_check("caf\xc3\xa9", err, sizeof(err)), -1);
	big = calloc(1, 400);
	memset(big, 'x', 300);
	assert_int_equal(mx_text_check(big, err, sizeof(err)), -1);
	/* Expansion never overflows, however long the values. */
	v.reason = big;
	assert_int_equal(mx_text_expand(out, 10, "%r%r%r", &v), 9);
	assert_int_equal(mx_text_expand(out, sizeof(out), "%r%r%r", &v), sizeof(out) - 1);
	assert_int_equal(mx_text_expand(out, 1, "%h", &v), 0);
	assert_string_equal(out, "");
	free(big);
}

/* RFC 5782 names: reversed octets, or nibbles for IPv6; too long fails. */
static void test_dnsbl_names(void **state)
{
	struct mx_prefix p;
	char err[64], name[300], zone[260];

	assert_int_equal(mx_parse_addr("198.18.0.12", &p, err, sizeof(err)), 0);
	assert_int_equal(mx_dnsbl_name(&p, "bl.test", name, sizeof(name)), 0);
	assert_string_equal(name, "12.0.18.198.bl.test");
	assert_int_equal(mx_parse_addr("2001:db8:1::12", &p, err, sizeof(err)), 0);
	assert_int_equal(mx_dnsbl_name(&p, "bl.test", name, sizeof(name)), 0);
	assert_string_equal(name, "2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.test");
	memset(zone, 'z', 255);
	zone[255] = '\0';
	assert_int_equal(mx_dnsbl_name(&p, zone, name, sizeof(name)), -1);
	assert_int_equal(mx_dnsbl_name(&p, "bl.test", name, 20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trap_file),
		cmocka_unit_test(test_trap_file_errors),
		cmocka_unit_test(test_policy_request),
		cmocka_unit_test(test_policy_request_errors),
		cmocka_unit_test(test_role_addresses),
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_dnsbl_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
