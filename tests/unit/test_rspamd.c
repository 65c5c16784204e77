// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_rspamd.c - rspamd's pushes: the body, the request head, the credentials
 * DESCRIPTION
 *	REAL_PUSH is what rspamd 3.4's metadata_exporter (formatter json)
 *	POSTed for a message Postfix passed it as a milter, captured on the
 *	wire (tests/e2e/test_rspamd.sh's set-up, a listener in place of
 *	mxguardd). Every way to refuse a body or a head is tried; a refused
 *	body leaves nothing to free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "rspamd.h"

/* The body rspamd pushed for the test's spam mail (the GTUBE string in its Subject). */
static const char REAL_PUSH[] =
	"{\"action\":\"reject\",\"subject\":\"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE"
	"-TEST-EMAIL*C.34X\",\"qid\":\"A4B5EA72488\",\"rspamd_server\":\"vm\",\"header_from\":[\""
	"a@client.test\"],\"header_to\":[\"user@gw.test,other@gw.test\"],\"header_subject\":[\"XJ"
	"S*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\"],\"header_date\":[\""
	"Mon, 30 Nov 2026 18:43:56 +0000\"],\"scan_time\":2049,\"from\":\"a@client.test\",\"ip\":"
	"\"198.18.0.10\",\"message_id\":\"20261130184356.013540@vm\",\"rcpt\":[\"user@gw.test\",\""
	"other@gw.test\"],\"user\":\"unknown\",\"score\":111.500000,\"symbols\":[{\"score\":1,\"n"
	"ame\":\"RDNS_NONE\",\"groups\":[\"headers\"],\"group\":\"headers\"},{\"score\":0,\"optio"
	"ns\":[\"198.18.0.10:query timed out\"],\"name\":\"RBL_SENDERSCORE_FAIL\",\"groups\":[],\""
	"group\":\"ungrouped\"},{\"score\":0,\"options\":[\"temporary DNS error\"],\"name\":\"R_S"
	"PF_DNSFAIL\",\"groups\":[\"policies\",\"spf\"],\"group\":\"policies\"},{\"score\":0,\"na"
	"me\":\"TO_DN_NONE\",\"groups\":[\"headers\"],\"group\":\"headers\"},{\"score\":0,\"optio"
	"ns\":[\"198.18.0.10:query timed out\"],\"name\":\"RBL_VIRUSFREE_UNKNOWN_FAIL\",\"groups\""
	":[],\"group\":\"ungrouped\"},{\"score\":0,\"options\":[\"198.18.0.10:query timed out\"],"
	"\"name\":\"MAILSPIKE_FAIL\",\"groups\":[],\"group\":\"ungrouped\"},{\"score\":100,\"name"
	"\":\"MXGUARD_TEST_SPAM\",\"groups\":[\"mxguard\"],\"group\":\"mxguard\"},{\"score\":0,\""
	"options\":[\"2\"],\"name\":\"RCPT_COUNT_TWO\",\"groups\":[\"headers\"],\"group\":\"heade"
	"rs\"},{\"score\":3,\"options\":[\"68\"],\"name\":\"SUBJ_ALL_CAPS\",\"groups\":[\"subject"
	"\"],\"group\":\"subject\"},{\"score\":3,\"options\":[\"vm\"],\"name\":\"HFILTER_HELO_5\""
	",\"groups\":[\"hfilter\"],\"group\":\"hfilter\"},{\"score\":0,\"options\":[\"0\"],\"name"
	"\":\"RCVD_COUNT_ZERO\",\"groups\":[\"headers\"],\"group\":\"headers\"},{\"score\":0,\"op"
	"tions\":[\"swaks v20201014.0 jetmore.org/john/code/swaks/\"],\"name\":\"DIRECT_TO_MX\",\""
	"groups\":[\"headers\"],\"group\":\"headers\"},{\"score\":0,\"name\":\"FROM_EQ_ENVFROM\","
	"\"groups\":[\"headers\"],\"group\":\"headers\"},{\"score\":0,\"name\":\"R_DKIM_NA\",\"gr"
	"oups\":[\"policies\",\"dkim\"],\"group\":\"policies\"},{\"score\":0,\"options\":[\"198.1"
	"8.0.10:query timed out\"],\"name\":\"RCVD_IN_DNSWL_FAIL\",\"groups\":[],\"group\":\"ungr"
	"ouped\"},{\"score\":0,\"options\":[\"0:+\"],\"name\":\"MIME_TRACE\",\"groups\":[\"mime_t"
	"ypes\"],\"group\":\"mime_types\"},{\"score\":0,\"options\":[\"198.18.0.10:query timed ou"
	"t\"],\"name\":\"SPAMHAUS_FAIL\",\"groups\":[],\"group\":\"ungrouped\"},{\"score\":0.1000"
	"00,\"name\":\"ONCE_RECEIVED\",\"groups\":[\"headers\"],\"group\":\"headers\"},{\"score\""
	":0,\"name\":\"ARC_NA\",\"groups\":[\"policies\",\"arc\"],\"group\":\"policies\"},{\"scor"
	"e\":0,\"options\":[\"10.0.18.198.asn.rspamd.com:query timed out\"],\"name\":\"ASN_FAIL\""
	",\"groups\":[],\"group\":\"ungrouped\"},{\"score\":0,\"name\":\"RDNS_DNSFAIL\",\"groups\""
	":[\"headers\"],\"group\":\"headers\"},{\"score\":0,\"options\":[\"198.18.0.10:query time"
	"d out\"],\"name\":\"RBL_SEM_FAIL\",\"groups\":[],\"group\":\"ungrouped\"},{\"score\":0,\""
	"name\":\"TO_MATCH_ENVRCPT_ALL\",\"groups\":[\"headers\"],\"group\":\"headers\"},{\"score"
	"\":-0.100000,\"options\":[\"text/plain\"],\"name\":\"MIME_GOOD\",\"groups\":[\"mime_type"
	"s\"],\"group\":\"mime_types\"},{\"score\":1.500000,\"options\":[\"client.test\"],\"name\""
	":\"HFILTER_FROMHOST_NORES_A_OR_MX\",\"groups\":[\"hfilter\"],\"group\":\"hfilter\"},{\"s"
	"core\":0,\"options\":[\"198.18.0.10:query timed out\"],\"name\":\"BLOCKLISTDE_FAIL\",\"g"
	"roups\":[],\"group\":\"ungrouped\"},{\"score\":0,\"options\":[\"client.test : query time"
	"d out\"],\"name\":\"DMARC_DNSFAIL\",\"groups\":[\"policies\",\"dmarc\"],\"group\":\"poli"
	"cies\"},{\"score\":0,\"name\":\"FROM_NO_DN\",\"groups\":[\"headers\"],\"group\":\"header"
	"s\"},{\"score\":0.500000,\"name\":\"MID_RHS_NOT_FQDN\",\"groups\":[\"Message ID\"],\"gro"
	"up\":\"Message ID\"},{\"score\":0,\"options\":[\"198.18.0.10:query timed out\"],\"name\""
	":\"RBL_NIXSPAM_FAIL\",\"groups\":[],\"group\":\"ungrouped\"},{\"score\":2.500000,\"name\""
	":\"HFILTER_HOSTNAME_UNKNOWN\",\"groups\":[\"hfilter\"],\"group\":\"hfilter\"}],\"fuzzy\""
	":[]}";

/* The head it came with: user rspamd, password s3cret. */
#define REAL_HEAD(len) "POST /rspamd HTTP/1.1\r\nConnection: close\r\nHost: 127.0.0.1\r\n" \
		       "Content-Length: " len "\r\nContent-Type: application/json\r\n" \
		       "Authorization: Basic cnNwYW1kOnMzY3JldA==\r\nUser-Agent: rspamd-3.4\r\n\r\n"

static int parse(const char *body, struct mx_rspamd_verdict *v, char *err)
{
	return mx_rspamd_parse(body, strlen(body), v, err, 256);
}

/* refused - the body is refused with a reason that contains want */
static void refused(const char *body, size_t len, const char *want)
{
	struct mx_rspamd_verdict v;
	char err[256] = "";

	if (mx_rspamd_parse(body, len, &v, err, sizeof(err)) == 0)
		fail_msg("accepted (%zu bytes): %.200s", len, body);
	if (!strstr(err, want))
		fail_msg("'%s' is not about '%s' (body %.200s)", err, want, body);
	assert_null(v.json);
	assert_int_equal(v.nrcpts, 0);
}

#define REFUSED(body, want) refused(body, strlen(body), want)

static void test_real_push(void **state)
{
	struct mx_rspamd_verdict v;
	char err[256], addr[64];

	assert_int_equal(strlen(REAL_PUSH), 3587);
	assert_int_equal(parse(REAL_PUSH, &v, err), 0);
	mx_format_prefix(&v.addr, addr, sizeof(addr));
	assert_string_equal(addr, "198.18.0.10");
	assert_int_equal(v.addr.family, AF_INET);
	assert_int_equal(v.action, MX_RSPAMD_REJECT);
	assert_int_equal(v.nrcpts, 2);
	assert_string_equal(v.rcpts[0], "user@gw.test");
	assert_string_equal(v.rcpts[1], "other@gw.test");
	assert_string_equal(v.qid, "A4B5EA72488");
	assert_string_equal(v.from, "a@client.test");
	mx_rspamd_verdict_free(&v);
	assert_null(v.json);
}

static void test_fields(void **state)
{
	struct mx_rspamd_verdict v;
	char err[256], addr[64];

	/* Only ip, action and rcpt are required; an IPv6 client; no recipients. */
	assert_int_equal(parse("{\"ip\":\"2001:db8:1::10\",\"action\":\"no action\",\"rcpt\":[]}",
			       &v, err), 0);
	mx_format_prefix(&v.addr, addr, sizeof(addr));
	assert_string_equal(addr, "2001:db8:1::10");
	assert_int_equal(v.action, MX_RSPAMD_NO_ACTION);
	assert_int_equal(v.nrcpts, 0);
	assert_string_equal(v.qid, "");
	mx_rspamd_verdict_free(&v);
	/* rspamd's "unknown" for no recipients; whitespace around the object. */
	assert_int_equal(parse(" \r\n{\"ip\":\"198.18.0.10\",\"action\":\"add header\",\"rcpt\":\"unknown\","
			       "\"from\":\"\",\"qid\":\"unknown\"}\n\t ", &v, err), 0);
	assert_int_equal(v.action, MX_RSPAMD_ADD_HEADER);
	assert_int_equal(v.nrcpts, 0);
	assert_string_equal(v.from, "");
	mx_rspamd_verdict_free(&v);
	/* Every action rspamd 3.4 names. */
	static const char *const names[] = { "no action", "greylist", "add header",
		"rewrite subject", "soft reject", "reject", "discard", "quarantine" };
	for (int i = 0; i < MX_RSPAMD_ACTIONS; i++) {
		char body[160];

		snprintf(body, sizeof(body), "{\"ip\":\"198.18.0.10\",\"action\":\"%s\",\"rcpt\":[\"a@b\"]}",
			 names[i]);
		assert_int_equal(parse(body, &v, err), 0);
		assert_int_equal(v.action, i);
		assert_string_equal(mx_rspamd_action_name(v.action), names[i]);
		mx_rspamd_verdict_free(&v);
	}
	/* What goes to the log is printable: UTF-8 and escapes become '?'. */
	assert_int_equal(parse("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"j\u00fcrgen@b\"],"
			       "\"from\":\"caf\u00e9\\u0009x@y\",\"qid\":\"Q1\"}", &v, err), 0);
	assert_string_equal(v.from, "caf??" "?x@y");
	assert_string_equal(v.rcpts[0], "j\u00fcrgen@b");
	mx_rspamd_verdict_free(&v);
	/* Fields mxguard does not read may be anything JSON. */
	assert_int_equal(parse("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],\"score\":1e300,"
			       "\"symbols\":[{\"a\":[null,true,false,-0.5]}],\"fuzzy\":{}}", &v, err), 0);
	mx_rspamd_verdict_free(&v);
}

static void test_recipients(void **state)
{
	struct mx_rspamd_verdict v;
	char err[256], *body, addr[MX_RSPAMD_ADDR_MAX + 2];
	size_t off;

	/* 1000 recipients of 254 bytes would not fit in 64 KiB: 1000 short ones do. */
	body = malloc(MX_RSPAMD_BODY_MAX + 1);
	off = (size_t)sprintf(body, "{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[");
	for (int i = 0; i < MX_RSPAMD_RCPTS_MAX; i++)
		off += (size_t)sprintf(body + off, "%s\"r%d@x\"", i ? "," : "", i);
	strcpy(body + off, "]}");
	assert_int_equal(parse(body, &v, err), 0);
	assert_int_equal(v.nrcpts, MX_RSPAMD_RCPTS_MAX);
	assert_string_equal(v.rcpts[999], "r999@x");
	mx_rspamd_verdict_free(&v);
	strcpy(body + off, ",\"one-more@x\"]}");
	REFUSED(body, "more than 1000 recipients");
	free(body);
	/* 254 bytes is the longest address. */
	memset(addr, 'a', sizeof(addr));
	addr[MX_RSPAMD_ADDR_MAX] = '\0';
	body = malloc(1024);
	sprintf(body, "{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"%s\"]}", addr);
	assert_int_equal(parse(body, &v, err), 0);
	mx_rspamd_verdict_free(&v);
	addr[MX_RSPAMD_ADDR_MAX] = 'a';
	addr[MX_RSPAMD_ADDR_MAX + 1] = '\0';
	sprintf(body, "{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"%s\"]}", addr);
	REFUSED(body, "rcpt[0] is longer than 254 bytes");
	free(body);

	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\"}", "no rcpt");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":\"a@b\"}",
		"neither an array nor \"unknown\"");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":{}}", "not an array of strings");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":null}", "not an array of strings");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"a@b\",3]}", "rcpt[1] is not a string");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[[\"a@b\"]]}", "rcpt[0] is not a string");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"\"]}", "rcpt[0] is empty");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"a\\u0000b\"]}", "rcpt[0] holds a NUL");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"a\\nb@c\"]}",
		"rcpt[0] holds a control character");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"a\\u007fb@c\"]}",
		"rcpt[0] holds a control character");
}

static void test_ip_and_action(void **state)
{
	REFUSED("{\"action\":\"reject\",\"rcpt\":[]}", "no ip");
	REFUSED("{\"ip\":\"unknown\",\"action\":\"reject\",\"rcpt\":[]}", "ip is \"unknown\"");
	REFUSED("{\"ip\":\"198.18.0.256\",\"action\":\"reject\",\"rcpt\":[]}", "ip:");
	REFUSED("{\"ip\":\"198.18.0.0/24\",\"action\":\"reject\",\"rcpt\":[]}", "ip:");
	REFUSED("{\"ip\":\"\",\"action\":\"reject\",\"rcpt\":[]}", "ip:");
	REFUSED("{\"ip\":3323068426,\"action\":\"reject\",\"rcpt\":[]}", "ip is not a string");
	REFUSED("{\"ip\":[\"198.18.0.10\"],\"action\":\"reject\",\"rcpt\":[]}", "ip is not a string");
	REFUSED("{\"ip\":\"198.18.0.10\\u0000\",\"action\":\"reject\",\"rcpt\":[]}", "ip holds a NUL");
	REFUSED("{\"ip\":\"198.18.0.10\",\"rcpt\":[]}", "no action");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"spam\",\"rcpt\":[]}", "unknown action 'spam'");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"add_header\",\"rcpt\":[]}", "unknown action");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"Reject\",\"rcpt\":[]}", "unknown action");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject \",\"rcpt\":[]}", "unknown action");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"\\u001b[31m\",\"rcpt\":[]}", "unknown action '?[31m'");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":15,\"rcpt\":[]}", "action is not a string");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],\"qid\":7}", "qid is not a string");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],\"qid\":"
		"\"0123456789012345678901234567890123456789012345678901234567890123\"}",
		"qid is longer than 63 bytes");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],\"from\":null}",
		"from is not a string");
}

static void test_documents(void **state)
{
	char *big;

	REFUSED("", "not JSON");
	REFUSED("   ", "not JSON");
	REFUSED("[]", "not a JSON object");
	REFUSED("\"ip\"", "not a JSON object");
	REFUSED("42", "not a JSON object");
	REFUSED("null", "not a JSON object");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[]", "not JSON");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[]}x", "not JSON");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[]}{}", "not JSON");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],}", "not JSON");
	REFUSED("{'ip':'198.18.0.10','action':'reject','rcpt':[]}", "not JSON");
	REFUSED("{ip:\"198.18.0.10\",action:\"reject\",rcpt:[]}", "not JSON");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[]} /* c */", "not JSON");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],\"s\":\"a\tb\"}", "not JSON");
	/* A NUL byte, and invalid UTF-8 anywhere (here in a field not read). */
	{
		static const char nul[] = "{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[]}\0";

		refused(nul, sizeof(nul) - 1, "a NUL byte");
	}
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],\"subject\":\"caf\xe9\"}",
		"not UTF-8");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],\"subject\":\"\xc0\xaf\"}",
		"not UTF-8");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"\xed\xa0\x80@x\"]}", "not UTF-8");
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"\xf4\x90\x80\x80@x\"]}",
		"not UTF-8");
	/* An escaped lone surrogate is valid JSON; json-c makes it U+FFFD, valid UTF-8. */
	{
		struct mx_rspamd_verdict v;
		char err[256];

		assert_int_equal(parse("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[\"\\ud800@x\"]}",
				       &v, err), 0);
		assert_string_equal(v.rcpts[0], "\xef\xbf\xbd@x");
		mx_rspamd_verdict_free(&v);
	}
	/* Too deep; too large (refused before it is parsed). */
	REFUSED("{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[],\"x\":"
		"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}", "not JSON");
	big = malloc(MX_RSPAMD_BODY_MAX + 2);
	memset(big, ' ', MX_RSPAMD_BODY_MAX + 1);
	memcpy(big, "{\"ip\":\"198.18.0.10\",\"action\":\"reject\",\"rcpt\":[]}", 48);
	big[MX_RSPAMD_BODY_MAX + 1] = '\0';
	REFUSED(big, "body larger than 65536 bytes");
	big[MX_RSPAMD_BODY_MAX] = '\0';
	{
		struct mx_rspamd_verdict v;
		char err[256];

		assert_int_equal(mx_rspamd_parse(big, MX_RSPAMD_BODY_MAX, &v, err, sizeof(err)), 0);
		mx_rspamd_verdict_free(&v);
	}
	free(big);
}

static void test_action_lists(void **state)
{
	uint32_t m;
	char err[256], buf[128];

	assert_int_equal(mx_rspamd_actions_parse("reject", &m, err, sizeof(err)), 0);
	assert_int_equal(m, MX_RSPAMD_SPAM_DEFAULT);
	assert_int_equal(mx_rspamd_actions_parse("reject, add header,rewrite_subject", &m, err,
						 sizeof(err)), 0);
	assert_int_equal(m, 1U << MX_RSPAMD_REJECT | 1U << MX_RSPAMD_ADD_HEADER |
			    1U << MX_RSPAMD_REWRITE_SUBJECT);
	mx_rspamd_actions_format(m, buf, sizeof(buf));
	assert_string_equal(buf, "add header, rewrite subject, reject");
	assert_int_equal(mx_rspamd_actions_parse("none", &m, err, sizeof(err)), 0);
	assert_int_equal(m, 0);
	mx_rspamd_actions_format(m, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	assert_int_equal(mx_rspamd_actions_parse("no action,soft reject,greylist,discard,quarantine",
						 &m, err, sizeof(err)), 0);
	assert_int_equal(mx_rspamd_actions_parse("reject, spam", &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'spam' is no rspamd action"));
	assert_int_equal(mx_rspamd_actions_parse("reject,,greylist", &m, err, sizeof(err)), -1);
	assert_int_equal(mx_rspamd_actions_parse("", &m, err, sizeof(err)), -1);
	assert_int_equal(mx_rspamd_actions_parse("reject,", &m, err, sizeof(err)), -1);
	assert_int_equal(mx_rspamd_actions_parse("addheader", &m, err, sizeof(err)), -1);
}

/* write_file - path with text and mode; returns path */
static const char *write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_password_file(void **state)
{
	char dir[] = "/tmp/mxguard-rspamd.XXXXXX", path[128], link[128], err[512];
	struct mx_rspamd_auth a;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/password", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", write_file(path, "s3cret\n", 0600),
					     err, sizeof(err)), 0);
	assert_int_equal(a.len, 13);
	assert_memory_equal(a.cred, "rspamd:s3cret", 13);
	assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", write_file(path, "pa ss:w\xc3\xb6rd\r\n", 0400),
					     err, sizeof(err)), 0);
	assert_memory_equal(a.cred, "rspamd:pa ss:w\xc3\xb6rd", a.len);
	assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", write_file(path, "no-newline", 0600),
					     err, sizeof(err)), 0);
	/* Refusals say why and never quote the password. */
	static const struct {
		const char *text;
		mode_t mode;
		const char *why;
	} bad[] = {
		{ "s3cret\n", 0640, "mode 0640 lets group or others in" },
		{ "s3cret\n", 0604, "mode 0604" },
		{ "s3cret\n", 0700, NULL },
		{ "", 0600, "1 to 256 characters" },
		{ "\n", 0600, "1 to 256 characters" },
		{ "s3cret\nsecond line\n", 0600, "one line of printable characters" },
		{ "s3cret\n\n", 0600, "one line" },
		{ "s3\tcret\n", 0600, "one line of printable characters" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = mx_rspamd_auth_load(&a, "rspamd", write_file(path, bad[i].text, bad[i].mode),
					    err, sizeof(err));

		if (!bad[i].why) {
			assert_int_equal(r, 0);	/* the owner's x bit is no one else's access */
			continue;
		}
		if (r == 0)
			fail_msg("accepted: '%s' mode %o", bad[i].text, bad[i].mode);
		if (!strstr(err, bad[i].why) || strstr(err, "s3cret") || !strstr(err, path))
			fail_msg("'%s' for '%s' mode %o", err, bad[i].text, bad[i].mode);
		assert_int_equal(a.len, 0);
	}
	{
		char longer[400];

		memset(longer, 'x', sizeof(longer) - 1);
		longer[sizeof(longer) - 1] = '\0';
		assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", write_file(path, longer, 0600),
						     err, sizeof(err)), -1);
		assert_non_null(strstr(err, "1 to 256 characters"));
	}
	write_file(path, "s3cret\n", 0600);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", link, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a symbolic link"));
	assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", "/nonexistent/password", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(mx_rspamd_auth_load(&a, "rs:pamd", path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "verdict_user"));
	assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", "", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "verdict_password_file is not"));
	/* Owned by another user (only root can make one here). */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(mx_rspamd_auth_load(&a, "rspamd", path, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "owned by uid 65534"));
	}
	unlink(link);
	unlink(path);
	rmdir(dir);
}

/* auth_of - credentials "rspamd:s3cret" */
static struct mx_rspamd_auth auth_of(void)
{
	struct mx_rspamd_auth a = { .cred = "rspamd:s3cret", .len = 13 };

	return a;
}

/* head - mx_rspamd_head on a C string */
static int head(const char *s, struct mx_rspamd_request *req)
{
	struct mx_rspamd_auth a = auth_of();

	return mx_rspamd_head(s, strlen(s), &a, req);
}

#define H(first, fields) first "\r\nHost: x\r\n" fields "\r\n"
#define AUTH "Authorization: Basic cnNwYW1kOnMzY3JldA==\r\n"

static void test_heads(void **state)
{
	const char *real = REAL_HEAD("3587");
	struct mx_rspamd_auth a = auth_of();
	struct mx_rspamd_request req;
	char *buf;

	assert_int_equal(head(real, &req), 100);
	assert_int_equal(req.head_len, strlen(real));
	assert_int_equal(req.body_len, 3587);
	assert_false(req.expect_continue);
	/* Incomplete at every cut; with the body after it, the same answer. */
	for (size_t cut = 0; cut < strlen(real); cut++)
		assert_int_equal(mx_rspamd_head(real, cut, &a, &req), 0);
	buf = malloc(strlen(real) + sizeof(REAL_PUSH));
	strcpy(buf, real);
	strcat(buf, REAL_PUSH);
	assert_int_equal(mx_rspamd_head(buf, strlen(buf), &a, &req), 100);
	assert_int_equal(req.head_len, strlen(real));
	free(buf);
	/* The password is rspamd's: user rspamd, password s3cret. */
	assert_int_equal(head(H("POST /rspamd?x=1 HTTP/1.0", AUTH "Content-Length: 0\r\n"), &req), 100);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "authorization:   basic   cnNwYW1kOnMzY3JldA==  \r\n"
				"content-length: 65536\r\nExpect: 100-Continue\r\n"), &req), 100);
	assert_int_equal(req.body_len, MX_RSPAMD_BODY_MAX);
	assert_true(req.expect_continue);
	/* LF line ends are HTTP too. */
	assert_int_equal(head("POST /rspamd HTTP/1.1\nAuthorization: Basic cnNwYW1kOnMzY3JldA==\n"
			      "Content-Length: 5\n\n", &req), 100);

	/* 401: none, another scheme, wrong user, wrong or longer password, bad base64. */
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Content-Length: 5\r\n"), &req), 401);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Authorization: Bearer cnNwYW1kOnMzY3JldA==\r\n"
				"Content-Length: 5\r\n"), &req), 401);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Authorization: Basic\r\n"
				"Content-Length: 5\r\n"), &req), 401);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Authorization: Basic cnNwYW1kOnMzY3JldA\r\n"
				"Content-Length: 5\r\n"), &req), 401);	/* no padding */
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Authorization: Basic cnNwYW1kOnMzY3JldB==\r\n"
				"Content-Length: 5\r\n"), &req), 401);	/* s3cret, not canonical */
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Authorization: Basic cnNwYW1kOnMzY3JldDE=\r\n"
				"Content-Length: 5\r\n"), &req), 401);	/* s3cret1 */
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Authorization: Basic cnNwYW1kOnMzY3Jl\r\n"
				"Content-Length: 5\r\n"), &req), 401);	/* s3cre */
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Authorization: Basic cnNwYW1lOnMzY3JldA==\r\n"
				"Content-Length: 5\r\n"), &req), 401);	/* rspame */
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Authorization: Basic cnNwYW1kOnMzY3JldA=!\r\n"
				"Content-Length: 5\r\n"), &req), 401);
	/* No credentials at all match: an empty auth refuses everyone. */
	{
		struct mx_rspamd_auth none = { .len = 0 };
		const char *h = H("POST /rspamd HTTP/1.1", "Authorization: Basic Og==\r\nContent-Length: 5\r\n");

		assert_int_equal(mx_rspamd_head(h, strlen(h), &none, &req), 401);
	}
	/* 401 comes before what the body would be. */
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", "Content-Length: 999999\r\n"), &req), 401);

	/* 404, 405 (before the credentials), 411, 413. */
	assert_int_equal(head(H("POST /metrics HTTP/1.1", AUTH "Content-Length: 5\r\n"), &req), 404);
	assert_int_equal(head(H("POST /rspamd/ HTTP/1.1", AUTH "Content-Length: 5\r\n"), &req), 404);
	assert_int_equal(head(H("GET /rspamd HTTP/1.1", ""), &req), 405);
	assert_int_equal(head(H("PUT /rspamd HTTP/1.1", AUTH "Content-Length: 5\r\n"), &req), 405);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH), &req), 411);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Transfer-Encoding: chunked\r\n"), &req), 411);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 65537\r\n"), &req), 413);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 99999999999999999999999\r\n"),
			      &req), 413);

	/* 400: malformed fields, and the fields that must be there once. */
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 5a\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: -5\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length:\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 5\r\nContent-Length: 5\r\n"),
			      &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH AUTH "Content-Length: 5\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 5\r\n"
				"Transfer-Encoding: chunked\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 5\r\nNoColon\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 5\r\n folded\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length : 5\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 5\r\nX: a\x01" "b\r\n"), &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/1.1", AUTH "Content-Length: 5\r\n: x\r\n"), &req), 400);
	assert_int_equal(mx_rspamd_head("POST /rspamd HTTP/1.1\r\nX: \0\r\n\r\n", 29, &a, &req), 400);
	assert_int_equal(head("GARBAGE\r\n\r\n", &req), 400);
	assert_int_equal(head(H("POST /rspamd HTTP/2.0", AUTH), &req), 505);
	/* 431: a head longer than MX_HTTP_HEAD_MAX, whole or not. */
	buf = malloc(MX_HTTP_HEAD_MAX + 64);
	memset(buf, 'a', MX_HTTP_HEAD_MAX + 63);
	buf[MX_HTTP_HEAD_MAX + 63] = '\0';
	memcpy(buf, "POST /rspamd HTTP/1.1\r\nX: ", 26);
	assert_int_equal(mx_rspamd_head(buf, MX_HTTP_HEAD_MAX, &a, &req), 431);
	memcpy(buf + MX_HTTP_HEAD_MAX + 59, "\r\n\r\n", 4);
	assert_int_equal(mx_rspamd_head(buf, MX_HTTP_HEAD_MAX + 63, &a, &req), 431);
	free(buf);
}

static void test_http_fields(void **state)
{
	const char *h = "POST / HTTP/1.1\r\nA: 1\r\nLong-Name:\t two words \t\r\nEmpty:\r\n\r\n";
	struct mx_http_field f;
	size_t pos = 0, hl = mx_http_head_len(h, strlen(h));
	uint8_t out[16];

	assert_int_equal(hl, strlen(h));
	assert_int_equal(mx_http_field_next(h, hl, &pos, &f), 1);
	assert_int_equal(f.name_len, 1);
	assert_memory_equal(f.value, "1", 1);
	assert_int_equal(mx_http_field_next(h, hl, &pos, &f), 1);
	assert_int_equal(f.value_len, 9);
	assert_memory_equal(f.name, "Long-Name", 9);
	assert_memory_equal(f.value, "two words", 9);
	assert_int_equal(mx_http_field_next(h, hl, &pos, &f), 1);
	assert_int_equal(f.value_len, 0);
	assert_int_equal(mx_http_field_next(h, hl, &pos, &f), 0);
	assert_int_equal(mx_http_field_next(h, hl, &pos, &f), 0);
	assert_int_equal(mx_http_head_len("GET / HTTP/1.1\n\nbody", 20), 16);
	assert_int_equal(mx_http_head_len("GET / HTTP/1.1\r\n", 16), 0);

	assert_int_equal(mx_base64_decode("cnNwYW1kOnMzY3JldA==", 20, out, sizeof(out)), 13);
	assert_memory_equal(out, "rspamd:s3cret", 13);
	assert_int_equal(mx_base64_decode("YQ==", 4, out, sizeof(out)), 1);
	assert_int_equal(mx_base64_decode("YWI=", 4, out, sizeof(out)), 2);
	assert_int_equal(mx_base64_decode("YWJj", 4, out, sizeof(out)), 3);
	assert_int_equal(mx_base64_decode("", 0, out, sizeof(out)), 0);
	assert_int_equal(mx_base64_decode("YQ=", 3, out, sizeof(out)), -1);
	assert_int_equal(mx_base64_decode("Y===", 4, out, sizeof(out)), -1);
	assert_int_equal(mx_base64_decode("YQ=A", 4, out, sizeof(out)), -1);
	assert_int_equal(mx_base64_decode("YR==", 4, out, sizeof(out)), -1);
	assert_int_equal(mx_base64_decode("YWJ=", 4, out, sizeof(out)), -1);
	assert_int_equal(mx_base64_decode("YQ==YWJj", 8, out, sizeof(out)), -1);
	assert_int_equal(mx_base64_decode("Y-_j", 4, out, sizeof(out)), -1);
	assert_int_equal(mx_base64_decode("YWJjYWJjYWJjYWJjYWJjYWJj", 24, out, sizeof(out)), -1);
}

static void test_settings(void **state)
{
	static struct mx_config_file c;
	char err[1024];
	const char *t;

	mx_config_default(&c);
	assert_string_equal(c.verdict_listen, "");
	assert_string_equal(c.verdict_user, "rspamd");
	assert_int_equal(c.spam_actions, MX_RSPAMD_SPAM_DEFAULT);
	t = "verdict_listen = 127.0.0.2:9490\nverdict_user = mxguard\n"
	    "verdict_password_file = /etc/mxguard/rspamd.password\n"
	    "spam_actions = reject, add header\n";
	assert_int_equal(mx_config_parse(&c, "f", t, strlen(t), err, sizeof(err)), 0);
	assert_string_equal(c.verdict_listen, "127.0.0.2:9490");
	assert_string_equal(c.verdict_user, "mxguard");
	assert_int_equal(c.spam_actions, 1U << MX_RSPAMD_REJECT | 1U << MX_RSPAMD_ADD_HEADER);
	t = "verdict_listen = [::1]:9490\nspam_actions = none\n";
	assert_int_equal(mx_config_parse(&c, "f", t, strlen(t), err, sizeof(err)), 0);
	assert_int_equal(c.spam_actions, 0);
	/* Not loopback, a ':' in the user, an unknown action. */
	t = "verdict_listen = 198.18.0.1:9490\nverdict_user = a:b\nspam_actions = reject, spam\n"
	    "verdict_listen = 0.0.0.0:9490\n";
	assert_int_equal(mx_config_parse(&c, "f", t, strlen(t), err, sizeof(err)), 4);
	assert_non_null(strstr(err, "f:1: verdict_listen: '198.18.0.1:9490': not a loopback address"));
	assert_non_null(strstr(err, "f:2: verdict_user: a ':' cannot be"));
	assert_non_null(strstr(err, "f:3: spam_actions: 'spam' is no rspamd action"));
	mx_config_default(&c);
	t = "verdict_listen = [::ffff:127.0.0.1]:9490\n";
	assert_int_equal(mx_config_parse(&c, "f", t, strlen(t), err, sizeof(err)), 1);
	/* The listen address needs a restart; the rest reloads. */
	{
		static struct mx_config_file d;

		mx_config_default(&d);
		d.spam_actions = 0;
		strcpy(d.verdict_password_file, "/x");
		assert_null(mx_config_restart_needed(&c, &d));
		strcpy(d.verdict_listen, "127.0.0.1:1");
		assert_string_equal(mx_config_restart_needed(&c, &d), "verdict_listen");
		mx_config_keep_restart(&d, &c);
		assert_string_equal(d.verdict_listen, "");
		assert_string_equal(d.verdict_password_file, "/x");
	}
}

static void test_settings_together(void **state)
{
	char path[] = "/tmp/mxguard-rspamd-conf.XXXXXX", err[1024];
	static struct mx_config_file c;
	struct mx_config_source src = { .path = path, .path_given = true };
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "verdict_listen = 127.0.0.1:9490\n", 32), 32);
	close(fd);
	assert_int_equal(mx_config_read(&c, &src, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "verdict_listen is set but verdict_password_file is not"));
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "verdict_password_file = /p\n", 27), 27);
	close(fd);
	assert_int_equal(mx_config_read(&c, &src, err, sizeof(err)), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_push),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_recipients),
		cmocka_unit_test(test_ip_and_action),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_action_lists),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_heads),
		cmocka_unit_test(test_http_fields),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_settings_together),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
