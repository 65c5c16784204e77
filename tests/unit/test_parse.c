// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_parse.c - parsers of addresses, prefixes, durations and rates
 * DESCRIPTION
 *	Each parser takes the whole string or refuses it. Every refusal
 *	must leave the output untouched and write a one-line, non-empty,
 *	NUL-terminated reason that stays inside errlen. Formatters must
 *	give text that the parsers read back to the same value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

#define NS		1000000000ULL
#define MS		1000000ULL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The error buffer: ERRLEN usable bytes, then a canary that must survive. */
#define ERRLEN		120
#define CANARY		'Z'

/* Long inputs: far past any buffer the parsers have. */
#define BIG		10000

/* err_init - an empty message followed by canary bytes */
static void err_init(char *err, size_t size)
{
	memset(err, CANARY, size);
	err[0] = '\0';
}

/* show - printable form of an input that may be NULL */
static const char *show(const char *s)
{
	return s ? s : "(NULL)";
}

/* err_check - a reason was written: non-empty, one line, inside ERRLEN */
static void err_check(const char *what, const char *in, const char *err, size_t size)
{
	const char *nul = memchr(err, '\0', ERRLEN);
	const char *s = show(in);

	if (!nul)
		fail_msg("%s '%.40s': reason not NUL-terminated within errlen", what, s);
	if (nul == err)
		fail_msg("%s '%.40s': refused without a reason", what, s);
	for (size_t i = ERRLEN; i < size; i++) {
		if (err[i] != CANARY)
			fail_msg("%s '%.40s': reason written past errlen", what, s);
	}
	if (!strchr(s, '\n') && strchr(err, '\n'))
		fail_msg("%s '%.40s': reason is not one line: %s", what, s, err);
}

/* refuse_prefix - s is refused by mx_parse_prefix or mx_parse_addr */
static void refuse_prefix(const char *s, bool addr_only)
{
	struct mx_prefix p, before;
	char err[ERRLEN + 16];
	int rc;

	memset(&p, 0xa5, sizeof(p));
	before = p;
	err_init(err, sizeof(err));
	rc = addr_only ? mx_parse_addr(s, &p, err, ERRLEN) : mx_parse_prefix(s, &p, err, ERRLEN);
	if (rc != -1)
		fail_msg("%s '%.40s' returned %d, want -1",
			 addr_only ? "addr" : "prefix", show(s), rc);
	if (memcmp(&p, &before, sizeof(p)))
		fail_msg("'%.40s': output changed on refusal", show(s));
	err_check(addr_only ? "addr" : "prefix", s, err, sizeof(err));
}

/* accept_prefix - s parses to family/len/addr bytes, by both entry points */
static void accept_prefix(const char *s, int family, unsigned int len, const uint8_t *bytes)
{
	struct mx_prefix p;
	char err[ERRLEN] = "";

	memset(&p, 0xa5, sizeof(p));
	if (mx_parse_prefix(s, &p, err, sizeof(err)))
		fail_msg("'%s' refused: %s", s, err);
	assert_int_equal(p.family, family);
	assert_int_equal(p.len, len);
	assert_memory_equal(p.addr, bytes, 16);
}

/* prefix_of - parse s, which must succeed */
static struct mx_prefix prefix_of(const char *s)
{
	struct mx_prefix p;
	char err[ERRLEN] = "";

	if (mx_parse_prefix(s, &p, err, sizeof(err)))
		fail_msg("'%s' refused: %s", s, err);
	return p;
}

/* ------------------------------------------------------------------ */
/* Addresses and prefixes                                              */
/* ------------------------------------------------------------------ */

static void test_addr_v4(void **state)
{
	const uint8_t a[16] = { 198, 18, 0, 7 };
	const uint8_t b[16] = { 198, 19, 255, 255 };
	const uint8_t zero[16] = { 0 };
	struct mx_prefix p;

	accept_prefix("198.18.0.7", AF_INET, 32, a);
	accept_prefix("198.18.0.7/32", AF_INET, 32, a);
	accept_prefix("198.19.255.255", AF_INET, 32, b);
	accept_prefix("0.0.0.0", AF_INET, 32, zero);

	/* mx_parse_addr takes the same single address */
	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(mx_parse_addr("198.18.0.7", &p, NULL, 0), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 32);
	assert_memory_equal(p.addr, a, 16);	/* bytes 4..15 zeroed too */
}

static void test_addr_v6(void **state)
{
	const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	const uint8_t net[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 };
	const uint8_t tail[16] = { 0x20, 0x01, 0x0d, 0xb8, [12] = 198, 18, 255, 255 };
	const uint8_t zero[16] = { 0 };
	struct mx_prefix p;

	accept_prefix("2001:db8::1", AF_INET6, 128, a);
	accept_prefix("2001:DB8::1", AF_INET6, 128, a);
	accept_prefix("2001:0db8:0000:0000:0000:0000:0000:0001", AF_INET6, 128, a);
	accept_prefix("2001:db8::1/128", AF_INET6, 128, a);
	accept_prefix("2001:db8::/32", AF_INET6, 32, net);
	accept_prefix("::", AF_INET6, 128, zero);
	/* a v4-mapped address is IPv6, not IPv4 */
	accept_prefix("::ffff:198.18.0.1", AF_INET6, 128, mapped);
	/* 44 characters: the longest text form the parser must still take */
	accept_prefix("2001:0db8:0000:0000:0000:0000:198.18.255.255", AF_INET6, 128, tail);
	accept_prefix("2001:0db8:0000:0000:0000:0000:198.18.255.255/128", AF_INET6, 128, tail);

	assert_int_equal(mx_parse_addr("2001:db8::1", &p, NULL, 0), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.len, 128);
	assert_memory_equal(p.addr, a, 16);
}

static void test_prefix_v4_lengths(void **state)
{
	const uint8_t net[16] = { 198, 18 };
	const uint8_t zero[16] = { 0 };
	char s[32];

	/* 198.18.0.0 is 11000110.0001001|0: a network from /15 down */
	for (unsigned int len = 0; len <= 32; len++) {
		snprintf(s, sizeof(s), "198.18.0.0/%u", len);
		if (len >= 15)
			accept_prefix(s, AF_INET, len, net);
		else
			refuse_prefix(s, false);
		snprintf(s, sizeof(s), "0.0.0.0/%u", len);
		accept_prefix(s, AF_INET, len, zero);
	}
	refuse_prefix("198.19.0.0/15", false);
}

static void test_prefix_v6_lengths(void **state)
{
	const uint8_t net[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	const uint8_t zero[16] = { 0 };
	char s[48];

	/* 0x0db8 ends in ...1000 at bit 28: a network from /29 down */
	for (unsigned int len = 0; len <= 128; len++) {
		snprintf(s, sizeof(s), "2001:db8::/%u", len);
		if (len >= 29)
			accept_prefix(s, AF_INET6, len, net);
		else
			refuse_prefix(s, false);
		snprintf(s, sizeof(s), "::/%u", len);
		accept_prefix(s, AF_INET6, len, zero);
	}
}

static void test_host_bits(void **state)
{
	const uint8_t v4_24[16] = { 198, 18, 0, 0 };
	const uint8_t v4_25[16] = { 198, 18, 0, 128 };
	const uint8_t v6_64[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 };
	const uint8_t v6_113[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x80 };
	static const char *const bad[] = {
		"198.18.0.1/24", "198.18.0.128/24", "198.18.0.1/31", "198.18.1.0/23",
		"198.18.0.1/0", "198.18.0.0/0", "198.18.0.0/00",
		"2001:db8::1/64", "2001:db8::1/127", "2001:db8:0:1::/63",
		"2001:db8::8000/112", "2001:db8::/0",
	};
	char err[ERRLEN] = "";
	struct mx_prefix p;

	accept_prefix("198.18.0.0/24", AF_INET, 24, v4_24);
	accept_prefix("198.18.0.128/25", AF_INET, 25, v4_25);
	accept_prefix("2001:db8:0:1::/64", AF_INET6, 64, v6_64);
	accept_prefix("2001:db8::8000/113", AF_INET6, 113, v6_113);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		refuse_prefix(bad[i], false);

	/* the reason names the problem */
	assert_int_equal(mx_parse_prefix("198.18.0.1/24", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "host bits"));
}

static void test_prefix_bad_lengths(void **state)
{
	static const char *const bad[] = {
		"198.18.0.0/33", "198.18.0.0/64", "198.18.0.0/128",
		"2001:db8::/129", "2001:db8::/256", "::/129",
		"198.18.0.0/", "2001:db8::/", "198.18.0.0/-1", "2001:db8::/-1",
		"198.18.0.0/24x", "198.18.0.0/x24", "198.18.0.0/ 24", "198.18.0.0/24 ",
		"198.18.0.0/+24", "2001:db8::/+32", "198.18.0.0/0x18", "198.18.0.0/24.0",
		"198.18.0.0/24/24", "198.18.0.0//24", "198.18.0.0/4294967320",
		"198.18.0.0/18446744073709551640", "198.18.0.0/99999999999999999999",
		"198.18.0.0/\n24",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		refuse_prefix(bad[i], false);
}

static void test_prefix_garbage(void **state)
{
	static const char *const bad[] = {
		"", "/", "/24", "1.2.3", "1.2.3.4.5", "198.18.0", "198.18.0.256",
		"198.18.0.1.", ".198.18.0.1", "198.18..1", "198.018.0.1", "198.18.0.-1",
		"::g", ":::", "2001:db8:::1", "2001:db8::1::1", "2001:db8::12345",
		"2001:db8::1%eth0", "[2001:db8::1]", "2001:db8::/32]",
		" 198.18.0.1", "198.18.0.1 ", "198.18. 0.1", "198.18.0.1\n",
		"2001:db8:: 1", "198.18.0.1\t", "example.org", "localhost", "0xc6120001",
		"4294967295", "-198.18.0.1", "+198.18.0.1", "198.18.0.1,198.18.0.2",
	};
	static char s[BIG + 32];
	const size_t big = BIG;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		refuse_prefix(bad[i], false);
	refuse_prefix(NULL, false);

	/* 10000 characters of several kinds, with and without a slash */
	memset(s, '1', big);
	s[big] = '\0';
	refuse_prefix(s, false);
	memset(s, 'a', big);
	refuse_prefix(s, false);
	memset(s, ':', big);
	refuse_prefix(s, false);
	memset(s, '/', big);
	refuse_prefix(s, false);
	memset(s, 'x', big);
	strcpy(s + big - 3, "/24");
	refuse_prefix(s, false);
	strcpy(s, "198.18.0.0/");
	memset(s + 11, '9', big - 11);
	s[big] = '\0';
	refuse_prefix(s, false);
	strcpy(s, "198.18.0.0");
	memset(s + 10, ' ', big - 10);
	s[big] = '\0';
	refuse_prefix(s, false);
	/* 46 characters: longer than any IPv6 text can be */
	memset(s, '0', 46);
	memcpy(s, "2001:db8::", 10);
	s[46] = '\0';
	refuse_prefix(s, false);
}

static void test_parse_addr_refuses_prefix(void **state)
{
	static const char *const bad[] = {
		"198.18.0.0/24", "198.18.0.1/32", "198.18.0.1/", "0.0.0.0/0",
		"2001:db8::/32", "2001:db8::1/128", "::/0", "2001:db8::1/",
		/* and everything mx_parse_prefix refuses */
		"", "1.2.3", "::g", "198.18.0.1/24", "198.18.0.0/33",
	};
	struct mx_prefix p;
	char err[ERRLEN] = "";

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		refuse_prefix(bad[i], true);
	refuse_prefix(NULL, true);
	assert_int_equal(mx_parse_addr("198.18.0.0/24", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "prefix"));
}

/* format_is - p formats to want, and the return is its length */
static void format_is(const char *in, const char *want)
{
	struct mx_prefix p = prefix_of(in);
	char buf[64];
	int n;

	memset(buf, CANARY, sizeof(buf));
	n = mx_format_prefix(&p, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_format_prefix(void **state)
{
	struct mx_prefix p;
	char buf[64];
	int n;

	/* single addresses carry no /32 or /128 */
	format_is("198.18.0.7", "198.18.0.7");
	format_is("198.18.0.7/32", "198.18.0.7");
	format_is("0.0.0.0", "0.0.0.0");
	format_is("2001:db8::1", "2001:db8::1");
	format_is("2001:db8::1/128", "2001:db8::1");
	format_is("::", "::");
	/* prefixes do, IPv6 in its canonical compressed form */
	format_is("198.18.0.0/15", "198.18.0.0/15");
	format_is("198.18.4.0/22", "198.18.4.0/22");
	format_is("198.18.0.0/31", "198.18.0.0/31");
	format_is("0.0.0.0/0", "0.0.0.0/0");
	format_is("::/0", "::/0");
	format_is("2001:0DB8:0000::/48", "2001:db8::/48");
	format_is("2001:db8:0:1::/64", "2001:db8:0:1::/64");
	format_is("2001:db8::/127", "2001:db8::/127");
	format_is("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	format_is("::ffff:198.18.0.1", "::ffff:198.18.0.1");

	/* snprintf rules: a short buffer is terminated, the full length returned */
	p = prefix_of("198.18.4.0/22");
	memset(buf, CANARY, sizeof(buf));
	n = mx_format_prefix(&p, buf, 8);
	assert_int_equal(n, strlen("198.18.4.0/22"));
	assert_string_equal(buf, "198.18.");
	assert_int_equal(buf[8], CANARY);

	/* no family: a placeholder, not garbage */
	memset(&p, 0, sizeof(p));
	p.family = 12345;
	n = mx_format_prefix(&p, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	assert_int_equal(n, 1);
}

/* round_trip - parse, format, parse again: the same prefix, the same text */
static void round_trip(const char *s)
{
	struct mx_prefix p, q;
	char a[64], b[64];

	memset(&q, 0xa5, sizeof(q));
	p = prefix_of(s);
	mx_format_prefix(&p, a, sizeof(a));
	if (mx_parse_prefix(a, &q, NULL, 0))
		fail_msg("'%s' formatted as '%s', which does not parse", s, a);
	assert_memory_equal(&p, &q, sizeof(p));
	mx_format_prefix(&q, b, sizeof(b));
	assert_string_equal(a, b);
}

static void test_prefix_round_trips(void **state)
{
	static const char *const list[] = {
		"198.18.0.7", "198.18.0.7/32", "198.19.255.255", "198.18.0.0/15",
		"0.0.0.0/0", "0.0.0.0", "2001:db8::1", "2001:db8::/32", "::/0", "::",
		"2001:db8:0:0:0:0:0:1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:db8:8000::/33", "::ffff:198.18.0.1", "::ffff:198.18.0.0/120",
	};
	char s[48];

	for (size_t i = 0; i < ARRAY_SIZE(list); i++)
		round_trip(list[i]);
	for (unsigned int len = 15; len <= 32; len++) {
		snprintf(s, sizeof(s), "198.18.0.0/%u", len);
		round_trip(s);
	}
	for (unsigned int len = 29; len <= 128; len++) {
		snprintf(s, sizeof(s), "2001:db8::/%u", len);
		round_trip(s);
	}
}

/* contains - does the prefix text a contain the prefix text b? */
static bool contains(const char *a, const char *b)
{
	struct mx_prefix p = prefix_of(a), q = prefix_of(b);

	return mx_prefix_contains(&p, &q);
}

static void test_prefix_contains(void **state)
{
	/* IPv4, both edges of a /22 and one past each */
	assert_true(contains("198.18.4.0/22", "198.18.4.0"));
	assert_true(contains("198.18.4.0/22", "198.18.7.255"));
	assert_false(contains("198.18.4.0/22", "198.18.3.255"));
	assert_false(contains("198.18.4.0/22", "198.18.8.0"));
	assert_true(contains("198.18.0.0/15", "198.19.255.255"));
	/* a prefix inside a prefix, itself, but not a wider one */
	assert_true(contains("198.18.0.0/16", "198.18.4.0/22"));
	assert_true(contains("198.18.4.0/22", "198.18.4.0/22"));
	assert_false(contains("198.18.4.0/22", "198.18.0.0/16"));
	assert_false(contains("198.18.4.0/22", "198.18.0.0/15"));
	/* a single address contains only itself */
	assert_true(contains("198.18.0.1", "198.18.0.1"));
	assert_false(contains("198.18.0.1", "198.18.0.0"));
	assert_false(contains("198.18.0.0", "198.18.0.0/31"));
	/* /0 is one family's everything */
	assert_true(contains("0.0.0.0/0", "198.18.0.1"));
	assert_true(contains("0.0.0.0/0", "0.0.0.0/0"));
	assert_false(contains("0.0.0.0/0", "2001:db8::1"));
	assert_false(contains("0.0.0.0/0", "::ffff:198.18.0.1"));
	assert_true(contains("::/0", "2001:db8::1"));
	assert_true(contains("::/0", "::ffff:198.18.0.1"));
	assert_false(contains("::/0", "198.18.0.1"));
	assert_false(contains("::/0", "0.0.0.0/0"));
	/* families never mix, even with the same bytes */
	assert_false(contains("198.18.0.0/15", "::ffff:198.18.0.1"));
	assert_false(contains("::ffff:198.18.0.0/111", "198.18.0.1"));
	assert_true(contains("::ffff:198.18.0.0/111", "::ffff:198.19.0.1"));
	/* IPv6, on and off byte boundaries */
	assert_true(contains("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_true(contains("2001:db8:1::/48", "2001:db8:1::1"));
	assert_false(contains("2001:db8:1::/48", "2001:db8:2::1"));
	assert_true(contains("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(contains("2001:db8::/33", "2001:db8:8000::"));
	assert_true(contains("2001:db8::8000/113", "2001:db8::ffff"));
	assert_false(contains("2001:db8::8000/113", "2001:db8::7fff"));
	assert_true(contains("2001:db8::1", "2001:db8::1"));
	assert_false(contains("2001:db8::1", "2001:db8::"));
	assert_false(contains("2001:db8:1::/48", "2001:db8::/32"));
	assert_true(contains("2001:db8::/32", "2001:db8:1::/48"));
}

/* mask_bit - bit i (0 = most significant) of a 16-byte mask */
static bool mask_bit(const uint8_t *m, unsigned int i)
{
	return m[i / 8] & (0x80 >> (i % 8));
}

/* check_mask - exactly the first want bits set, nothing else */
static void check_mask(int family, unsigned int len, unsigned int want)
{
	uint8_t m[16];

	memset(m, 0xa5, sizeof(m));
	mx_prefix_mask(family, len, m);
	for (unsigned int i = 0; i < 128; i++) {
		if (mask_bit(m, i) != (i < want))
			fail_msg("mask(%d, %u): bit %u is %d", family, len, i, mask_bit(m, i));
	}
}

static void test_prefix_mask(void **state)
{
	const uint8_t v4_20[16] = { 0xff, 0xff, 0xf0 };
	uint8_t m[16];

	for (unsigned int len = 0; len <= 32; len++)
		check_mask(AF_INET, len, len);
	for (unsigned int len = 0; len <= 128; len++)
		check_mask(AF_INET6, len, len);
	/* too long: clamped to the family, never past it */
	check_mask(AF_INET, 33, 32);
	check_mask(AF_INET, 128, 32);
	check_mask(AF_INET, ~0u, 32);
	check_mask(AF_INET6, 129, 128);
	check_mask(AF_INET6, ~0u, 128);
	/* one by hand, so the oracle above is not alone */
	mx_prefix_mask(AF_INET, 20, m);
	assert_memory_equal(m, v4_20, 16);
}

/* ------------------------------------------------------------------ */
/* Durations                                                           */
/* ------------------------------------------------------------------ */

/* duration_is - s parses to want nanoseconds */
static void duration_is(const char *s, uint64_t want)
{
	uint64_t ns = 42;
	char err[ERRLEN] = "";

	if (mx_parse_duration(s, &ns, err, sizeof(err)))
		fail_msg("duration '%s' refused: %s", s, err);
	if (ns != want)
		fail_msg("duration '%s' = %llu ns, want %llu", s,
			 (unsigned long long)ns, (unsigned long long)want);
}

/* refuse_duration - s is refused, output untouched, a reason given */
static void refuse_duration(const char *s)
{
	uint64_t ns = 42;
	char err[ERRLEN + 16];
	int rc;

	err_init(err, sizeof(err));
	rc = mx_parse_duration(s, &ns, err, ERRLEN);
	if (rc != -1)
		fail_msg("duration '%.40s' returned %d (%llu ns), want -1", show(s), rc,
			 (unsigned long long)ns);
	if (ns != 42)
		fail_msg("duration '%.40s': output changed on refusal", show(s));
	err_check("duration", s, err, sizeof(err));
}

static void test_duration_accepts(void **state)
{
	duration_is("90", 90 * NS);		/* a bare number is seconds */
	duration_is("1", NS);
	duration_is("90s", 90 * NS);
	duration_is("15m", 15 * 60 * NS);
	duration_is("24h", 24 * 3600 * NS);
	duration_is("7d", 7 * 86400 * NS);
	duration_is("2w", 14 * 86400 * NS);
	duration_is("1h30m", 5400 * NS);
	duration_is("500ms", 500 * MS);
	duration_is("1ms", MS);
	duration_is("1s500ms", 1500 * MS);
	duration_is("1m1s", 61 * NS);		/* "m" then digits is minutes */
	duration_is("1w2d3h4m5s6ms", ((((9 * 24 + 3) * 60 + 4) * 60 + 5) * NS) + 6 * MS);
	duration_is("0h30m", 1800 * NS);	/* a zero part is fine */
	duration_is("1h0m", 3600 * NS);
	/* exactly ten years is the longest */
	duration_is("3660d", MX_MAX_DURATION_NS);
	duration_is("5270400m", MX_MAX_DURATION_NS);
	duration_is("316224000s", MX_MAX_DURATION_NS);
	duration_is("3659d23h59m59s999ms", MX_MAX_DURATION_NS - MS);
	duration_is("316224000", MX_MAX_DURATION_NS);
}

static void test_duration_refusals(void **state)
{
	static const char *const bad[] = {
		/* empty or zero */
		"", "0", "0s", "0ms", "0h0m", "00",
		/* unknown units or none at all */
		"10x", "10y", "11y", "h", "ms", "s10", "10S", "1H", "10sec", "1hh",
		"10mss", "10 s", "1.5h", "1,5h", "1e3",
		/* a bare number after units, whatever the units add up to */
		"1h30", "1m30", "1s500", "0h30", "0s30", "0ms1",
		/* signs, spaces, separators */
		"-5", "-1h", "+5", "+5m", "1h-1m", "1h+1m", " 5m", "5m ", "5 m", "1h 30m",
		"1h,30m", "5\n", "\t5",
		/* more than ten years */
		"3661d", "3660d1ms", "3660d1s", "523w", "316224001", "316224001s",
		"87840h1s", "316224000001ms",
		/* overflow of the number or of the sum */
		"99999999999999999999", "18446744073709551616s", "18446744073709551615ms",
		"99999999999999999999ms", "4294967296w", "3000d3000d",
		"1000d1000d1000d1000d", "3659d23h59m59s999ms1ms1ms",
	};
	static char s[BIG + 32];
	const size_t big = BIG;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		refuse_duration(bad[i]);
	refuse_duration(NULL);
	memset(s, '9', big);
	s[big] = '\0';
	refuse_duration(s);
	memset(s, '0', big);
	refuse_duration(s);
	memset(s + 1, 'x', big - 1);
	s[0] = '1';
	refuse_duration(s);
	memset(s, 'h', big);
	refuse_duration(s);
}

/* duration_text - format ns, checking the return is the length */
static void duration_text(uint64_t ns, const char *want)
{
	char buf[64];
	int n;

	memset(buf, CANARY, sizeof(buf));
	n = mx_format_duration(ns, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("%llu ns formatted as '%s', want '%s'", (unsigned long long)ns, buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_format_duration(void **state)
{
	char buf[64], guard[2];
	uint64_t ns;
	int n;

	duration_text(90061 * NS, "1d1h1m1s");
	duration_text(500 * MS, "500ms");
	duration_text(MS, "1ms");
	duration_text(0, "0ms");
	duration_text(999999999, "999ms");	/* below a second: whole ms */
	duration_text(NS, "1s");
	duration_text(90 * NS, "1m30s");
	duration_text(3600 * NS, "1h");
	duration_text(5400 * NS, "1h30m");
	duration_text(86401 * NS, "1d1s");	/* zero units are left out */
	duration_text(14 * 86400 * NS, "14d");	/* days, never weeks */
	duration_text(MX_MAX_DURATION_NS, "3660d");
	/* from one second up, whole seconds: a ban's time left reads cleanly */
	duration_text(1500 * MS, "1s");
	duration_text(86400 * NS + 999999999, "1d");

	/* format then parse gives the value back, to the second */
	for (ns = NS; ns < MX_MAX_DURATION_NS; ns = ns * 3 + 7 * NS) {
		uint64_t back = 0;

		ns -= ns % NS;
		mx_format_duration(ns, buf, sizeof(buf));
		if (mx_parse_duration(buf, &back, NULL, 0) || back != ns)
			fail_msg("%llu ns -> '%s' -> %llu", (unsigned long long)ns, buf,
				 (unsigned long long)back);
	}

	/* a short buffer is cut and terminated, never overrun */
	memset(buf, CANARY, sizeof(buf));
	n = mx_format_duration(90061 * NS, buf, 5);
	assert_true(n >= 5);			/* truncation is visible */
	assert_string_equal(buf, "1d1h");
	assert_int_equal(buf[5], CANARY);
	memset(buf, CANARY, sizeof(buf));
	mx_format_duration(500 * MS, buf, 3);
	assert_string_equal(buf, "50");
	assert_int_equal(buf[3], CANARY);

	/* a zero-length buffer is not written at all */
	guard[0] = guard[1] = CANARY;
	mx_format_duration(90061 * NS, guard, 0);
	assert_int_equal(guard[0], CANARY);
	mx_format_duration(500 * MS, guard, 0);
	assert_int_equal(guard[0], CANARY);
}

/* ------------------------------------------------------------------ */
/* Rates                                                               */
/* ------------------------------------------------------------------ */

/* rate_is - s parses to want ns per token */
static void rate_is(const char *s, uint64_t want)
{
	uint64_t iv = 42;
	char err[ERRLEN] = "";

	if (mx_parse_rate(s, &iv, err, sizeof(err)))
		fail_msg("rate '%s' refused: %s", s, err);
	if (iv != want)
		fail_msg("rate '%s' = %llu ns, want %llu", s,
			 (unsigned long long)iv, (unsigned long long)want);
}

/* refuse_rate - s is refused, output untouched, a reason given */
static void refuse_rate(const char *s)
{
	uint64_t iv = 42;
	char err[ERRLEN + 16];
	int rc;

	err_init(err, sizeof(err));
	rc = mx_parse_rate(s, &iv, err, ERRLEN);
	if (rc != -1)
		fail_msg("rate '%.40s' returned %d (%llu ns), want -1", show(s), rc,
			 (unsigned long long)iv);
	if (iv != 42)
		fail_msg("rate '%.40s': output changed on refusal", show(s));
	err_check("rate", s, err, sizeof(err));
}

static void test_rate_accepts(void **state)
{
	rate_is("30/min", 2 * NS);
	rate_is("30/m", 2 * NS);
	rate_is("30", 2 * NS);			/* a bare number is per minute */
	rate_is("1", 60 * NS);
	rate_is("2/s", NS / 2);
	rate_is("2/sec", NS / 2);
	rate_is("100/h", 36 * NS);
	rate_is("100/hour", 36 * NS);
	rate_is("1/day", 86400 * NS);		/* the slowest */
	rate_is("1/d", 86400 * NS);
	rate_is("7/s", 142857142);		/* rounded down */
	/* one million per second is the fastest, however it is written */
	rate_is("1000000/s", 1000);
	rate_is("60000000/min", 1000);
	rate_is("1000000000/day", 86400);
	rate_is("1000000000/h", 3600);
}

static void test_rate_refusals(void **state)
{
	static const char *const bad[] = {
		"", "/", "/min", "0/min", "0", "00/s", "x/min", "x", "min", "30x",
		"30/fortnight", "30/", "30/w", "30/week", "30/ms", "30/MIN", "30/Min",
		"30/min/", "30/min/s", "30//min", "30/min ", "30 /min", "30/ min",
		" 30/min", "-1/s", "-30", "+1/s", "1.5/s", "1e3/s", "0x10/s", "30/\n",
		/* over one million per second */
		"1000001/s", "2000000/s", "60000001/min", "1000000000/s", "999999999/min",
		/* past the number's own range */
		"1000000001/day", "4294967296/h", "99999999999999999999/s",
		"18446744073709551616/day", "123456789012345678901234567890/day",
	};
	static char s[BIG + 32];
	const size_t big = BIG;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		refuse_rate(bad[i]);
	refuse_rate(NULL);
	memset(s, '1', big);
	strcpy(s + big - 4, "/min");
	refuse_rate(s);
	strcpy(s, "30/");
	memset(s + 3, 'm', big - 3);
	s[big] = '\0';
	refuse_rate(s);
	memset(s, '/', big);
	refuse_rate(s);
}

/* rate_text - format iv, checking the return is the length */
static void rate_text(uint64_t iv, const char *want)
{
	char buf[32];
	int n;

	memset(buf, CANARY, sizeof(buf));
	n = mx_format_rate(iv, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("%llu ns formatted as '%s', want '%s'", (unsigned long long)iv, buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_format_rate(void **state)
{
	static const char *const same[] = { "30/min", "1/min", "599/min", "10/s", "100/s", "50/s",
					     "5000/s", "1000000/s" };
	char buf[32];

	rate_text(2 * NS, "30/min");
	rate_text(60 * NS, "1/min");
	rate_text(NS / 2, "120/min");		/* below ten a second: per minute */
	rate_text(NS / 10, "10/s");		/* from ten a second: per second */
	rate_text(NS / 100, "100/s");
	rate_text(80000000, "12.5/s");
	rate_text(36 * NS, "1.667/min");
	rate_text(86400 * NS, "0.0006944/min");
	rate_text(1000, "1000000/s");		/* never 1e+06/s */
	rate_text(0, "unlimited");

	/* whole rates read back as typed */
	for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
		uint64_t iv = 0;

		assert_int_equal(mx_parse_rate(same[i], &iv, NULL, 0), 0);
		mx_format_rate(iv, buf, sizeof(buf));
		assert_string_equal(buf, same[i]);
	}

	/* a short buffer is cut and terminated */
	memset(buf, CANARY, sizeof(buf));
	assert_int_equal(mx_format_rate(2 * NS, buf, 4), strlen("30/min"));
	assert_string_equal(buf, "30/");
	assert_int_equal(buf[4], CANARY);
}

/* ------------------------------------------------------------------ */
/* Bounded integers                                                    */
/* ------------------------------------------------------------------ */

/* u32_is - s in [min, max] parses to want */
static void u32_is(const char *s, uint32_t min, uint32_t max, uint32_t want)
{
	uint32_t v = 42;
	char err[ERRLEN] = "";

	if (mx_parse_u32(s, min, max, &v, err, sizeof(err)))
		fail_msg("u32 '%s' in %u..%u refused: %s", s, min, max, err);
	assert_int_equal(v, want);
}

/* refuse_u32 - s is refused for [min, max], output untouched, a reason */
static void refuse_u32(const char *s, uint32_t min, uint32_t max)
{
	uint32_t v = 42;
	char err[ERRLEN + 16];
	int rc;

	err_init(err, sizeof(err));
	rc = mx_parse_u32(s, min, max, &v, err, ERRLEN);
	if (rc != -1)
		fail_msg("u32 '%.40s' in %u..%u returned %d (%u), want -1",
			 show(s), min, max, rc, v);
	if (v != 42)
		fail_msg("u32 '%.40s': output changed on refusal", show(s));
	err_check("u32", s, err, sizeof(err));
}

static void test_u32(void **state)
{
	static const char *const bad[] = {
		"", "-1", "-0", "+1", "12a", "a", "a12", " 1", "1 ", "1\n", "0x10",
		"1e3", "1.0", "1,0", "99999999999999999999", "18446744073709551616",
		"18446744073709551615", "4294967296", "4294967295",
	};
	static char s[BIG + 32];

	/* the bounds are inclusive */
	u32_is("0", 0, 10, 0);
	u32_is("10", 0, 10, 10);
	u32_is("5", 5, 5, 5);
	u32_is("7", 5, 10, 7);
	u32_is("007", 0, 10, 7);
	u32_is("4294967295", 0, UINT32_MAX, UINT32_MAX);
	u32_is("4294967295", UINT32_MAX, UINT32_MAX, UINT32_MAX);
	u32_is("0", 0, 0, 0);
	/* one past either bound */
	refuse_u32("4", 5, 10);
	refuse_u32("11", 5, 10);
	refuse_u32("0", 1, UINT32_MAX);
	refuse_u32("1", 0, 0);
	refuse_u32("4294967296", 0, UINT32_MAX);
	refuse_u32("4294967294", UINT32_MAX, UINT32_MAX);
	/* never wrapped into range: 2^32 + 5 and 2^64 + 5 */
	refuse_u32("4294967301", 0, 10);
	refuse_u32("18446744073709551621", 0, 10);
	/* not numbers, in any range */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		refuse_u32(bad[i], 0, 10);
	for (size_t i = 0; i < ARRAY_SIZE(bad) - 2; i++)
		refuse_u32(bad[i], 0, UINT32_MAX);
	refuse_u32(NULL, 0, 10);
	memset(s, '9', BIG);
	s[BIG] = '\0';
	refuse_u32(s, 0, UINT32_MAX);
	memset(s, '0', BIG);
	u32_is(s, 0, 10, 0);			/* leading zeros are still zero */
	s[BIG - 1] = '3';
	u32_is(s, 0, 10, 3);
}

/* ------------------------------------------------------------------ */
/* Error buffers                                                       */
/* ------------------------------------------------------------------ */

static void test_utf8(void **state)
{
	static const char *const good[] = {
		"", "plain ascii", "caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x93\xa7 mail",
		"\xf4\x8f\xbf\xbf", "\xed\x9f\xbf",
	};
	static const char *const bad[] = {
		"\xff", "\x80", "caf\xc3", "\xc3(", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"ok\xe2\x82",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!mx_utf8_valid(good[i]))
			fail_msg("good[%zu] refused", i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mx_utf8_valid(bad[i]))
			fail_msg("bad[%zu] accepted", i);
}

static void test_error_buffers(void **state)
{
	struct mx_prefix p, before;
	char err[32];
	uint64_t v64 = 42;
	uint32_t v32 = 42;

	/* a tiny errlen: cut, terminated, nothing past it */
	memset(err, CANARY, sizeof(err));
	assert_int_equal(mx_parse_prefix("198.18.0.1/24", &p, err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], CANARY);
	memset(err, CANARY, sizeof(err));
	assert_int_equal(mx_parse_duration("10x", &v64, err, 1), -1);
	assert_int_equal(err[0], '\0');
	assert_int_equal(err[1], CANARY);
	memset(err, CANARY, sizeof(err));
	assert_int_equal(mx_parse_rate("0/min", &v64, err, 5), -1);
	assert_int_equal(strlen(err), 4);
	assert_int_equal(err[5], CANARY);
	memset(err, CANARY, sizeof(err));
	assert_int_equal(mx_parse_u32("12a", 0, 10, &v32, err, 2), -1);
	assert_int_equal(strlen(err), 1);
	assert_int_equal(err[2], CANARY);

	/* errlen 0: err is not touched; NULL err is allowed */
	memset(err, CANARY, sizeof(err));
	assert_int_equal(mx_parse_addr("198.18.0.0/24", &p, err, 0), -1);
	assert_int_equal(err[0], CANARY);
	memset(&p, 0xa5, sizeof(p));
	before = p;
	assert_int_equal(mx_parse_prefix("::g", &p, NULL, 0), -1);
	assert_int_equal(mx_parse_addr("2001:db8::/32", &p, NULL, 0), -1);
	assert_memory_equal(&p, &before, sizeof(p));
	assert_int_equal(mx_parse_duration("0", &v64, NULL, 0), -1);
	assert_int_equal(mx_parse_rate("30/fortnight", &v64, NULL, 0), -1);
	assert_int_equal(v64, 42);
	assert_int_equal(mx_parse_u32("-1", 0, 10, &v32, NULL, 0), -1);
	assert_int_equal(v32, 42);

	/* a long input is quoted, not copied whole */
	{
		char big[4096];
		char e[ERRLEN + 16];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		err_init(e, sizeof(e));
		assert_int_equal(mx_parse_prefix(big, &p, e, ERRLEN), -1);
		err_check("prefix", big, e, sizeof(e));
		err_init(e, sizeof(e));
		assert_int_equal(mx_parse_duration(big, &v64, e, ERRLEN), -1);
		err_check("duration", big, e, sizeof(e));
		err_init(e, sizeof(e));
		assert_int_equal(mx_parse_rate(big, &v64, e, ERRLEN), -1);
		err_check("rate", big, e, sizeof(e));
		err_init(e, sizeof(e));
		assert_int_equal(mx_parse_u32(big, 0, 10, &v32, e, ERRLEN), -1);
		err_check("u32", big, e, sizeof(e));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_v4),
		cmocka_unit_test(test_addr_v6),
		cmocka_unit_test(test_prefix_v4_lengths),
		cmocka_unit_test(test_prefix_v6_lengths),
		cmocka_unit_test(test_host_bits),
		cmocka_unit_test(test_prefix_bad_lengths),
		cmocka_unit_test(test_prefix_garbage),
		cmocka_unit_test(test_parse_addr_refuses_prefix),
		cmocka_unit_test(test_format_prefix),
		cmocka_unit_test(test_prefix_round_trips),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_prefix_mask),
		cmocka_unit_test(test_duration_accepts),
		cmocka_unit_test(test_duration_refusals),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_rate_accepts),
		cmocka_unit_test(test_rate_refusals),
		cmocka_unit_test(test_format_rate),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_error_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
