// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_parse.c - parsers of addresses, prefixes, durations and rates
 * DESCRIPTION
 *	Every refusal must leave the output untouched and say why.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "parse.h"

#define NS 1000000000ULL

/* refuses_prefix - s is refused, out untouched, a reason given */
static void refuses_prefix(const char *s, bool addr_only)
{
	struct mx_prefix p, before;
	char err[160] = "";

	memset(&p, 0xa5, sizeof(p));
	before = p;
	if ((addr_only ? mx_parse_addr : mx_parse_prefix)(s, &p, err, sizeof(err)) == 0)
		fail_msg("'%.40s' was accepted", s);
	assert_memory_equal(&p, &before, sizeof(p));
	assert_true(strlen(err) > 0);
}

/* round_trip - parse, format, parse again: same prefix, expected text */
static void round_trip(const char *s, const char *want)
{
	struct mx_prefix p, q;
	char buf[64];

	assert_int_equal(mx_parse_prefix(s, &p, NULL, 0), 0);
	mx_format_prefix(&p, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(mx_parse_prefix(buf, &q, NULL, 0), 0);
	assert_memory_equal(&p, &q, sizeof(p));
}

static void test_prefixes(void **state)
{
	struct mx_prefix p;

	assert_int_equal(mx_parse_prefix("198.18.0.7", &p, NULL, 0), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 32);
	assert_int_equal(mx_parse_prefix("198.18.0.0/24", &p, NULL, 0), 0);
	assert_int_equal(p.len, 24);
	assert_int_equal(mx_parse_prefix("0.0.0.0/0", &p, NULL, 0), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(mx_parse_prefix("2001:db8::/32", &p, NULL, 0), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.len, 32);
	assert_int_equal(mx_parse_prefix("::/0", &p, NULL, 0), 0);
	assert_int_equal(mx_parse_prefix("2001:db8::1/128", &p, NULL, 0), 0);
	assert_int_equal(p.len, 128);

	round_trip("198.18.0.7", "198.18.0.7");
	round_trip("198.18.0.7/32", "198.18.0.7");
	round_trip("198.18.4.0/22", "198.18.4.0/22");
	round_trip("2001:db8:0:0::1", "2001:db8::1");
	round_trip("2001:db8::/48", "2001:db8::/48");
	round_trip("0.0.0.0/0", "0.0.0.0/0");
}

static void test_prefix_refusals(void **state)
{
	static const char *const bad[] = {
		"", "/24", "198.18.0.1/24", "2001:db8::1/64", "198.18.0.0/33", "2001:db8::/129",
		"198.18.0.0/", "198.18.0.0/-1", "198.18.0.0/24x", "198.18.0.0/ 24", "198.18.0.0/+24",
		"1.2.3", "1.2.3.4.5", "198.18.0.256", "::g", " 198.18.0.1", "198.18.0.1 ",
		"198.18.0.1/24/24", "example.org", "198.18.0.0/024x",
	};
	char big[10001];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuses_prefix(bad[i], false);
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refuses_prefix(big, false);
	refuses_prefix("198.18.0.0/24", true);
	refuses_prefix("198.18.0.1/32", true);
}

static void test_contains(void **state)
{
	struct mx_prefix net, a, b, c, v6;

	mx_parse_prefix("198.18.4.0/22", &net, NULL, 0);
	mx_parse_prefix("198.18.7.255", &a, NULL, 0);
	mx_parse_prefix("198.18.8.0", &b, NULL, 0);
	mx_parse_prefix("198.18.0.0/16", &c, NULL, 0);
	mx_parse_prefix("2001:db8::1", &v6, NULL, 0);
	assert_true(mx_prefix_contains(&net, &a));
	assert_false(mx_prefix_contains(&net, &b));
	assert_false(mx_prefix_contains(&net, &c));	/* wider is not inside */
	assert_true(mx_prefix_contains(&c, &net));
	assert_false(mx_prefix_contains(&c, &v6));
}

static void test_masks(void **state)
{
	uint8_t m[16], want[16] = { 0xff, 0xff, 0xf0 };

	mx_prefix_mask(AF_INET, 20, m);
	assert_memory_equal(m, want, 16);
	mx_prefix_mask(AF_INET6, 0, m);
	memset(want, 0, 16);
	assert_memory_equal(m, want, 16);
	mx_prefix_mask(AF_INET6, 128, m);
	memset(want, 0xff, 16);
	assert_memory_equal(m, want, 16);
	mx_prefix_mask(AF_INET, 99, m);	/* clamped to the family */
	memset(want, 0, 16);
	memset(want, 0xff, 4);
	assert_memory_equal(m, want, 16);
}

/* duration - parse s, which must succeed */
static uint64_t duration(const char *s)
{
	uint64_t ns = 0;
	char err[160];

	if (mx_parse_duration(s, &ns, err, sizeof(err)))
		fail_msg("'%s' refused: %s", s, err);
	return ns;
}

static void test_durations(void **state)
{
	static const char *const bad[] = {
		"", "0", "0s", "10x", "h", "1h30", "-5", "5 m", "1.5h", "s10",
		"99999999999999999999", "3661d", "11y", "1h-1m",
	};
	char buf[64];

	assert_int_equal(duration("90"), 90 * NS);
	assert_int_equal(duration("90s"), 90 * NS);
	assert_int_equal(duration("15m"), 900 * NS);
	assert_int_equal(duration("24h"), 86400 * NS);
	assert_int_equal(duration("7d"), 7 * 86400 * NS);
	assert_int_equal(duration("2w"), 14 * 86400 * NS);
	assert_int_equal(duration("1h30m"), 5400 * NS);
	assert_int_equal(duration("500ms"), NS / 2);
	assert_int_equal(duration("3650d"), 3650 * 86400 * NS);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t ns = 42;
		char err[160] = "";

		if (mx_parse_duration(bad[i], &ns, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(ns, 42);
		assert_true(strlen(err) > 0);
	}
	mx_format_duration(90061 * NS, buf, sizeof(buf));
	assert_string_equal(buf, "1d1h1m1s");
	mx_format_duration(NS / 2, buf, sizeof(buf));
	assert_string_equal(buf, "500ms");
	mx_format_duration(3600 * NS, buf, sizeof(buf));
	assert_string_equal(buf, "1h");
}

static void test_rates(void **state)
{
	static const char *const bad[] = {
		"", "0/min", "x/min", "30/fortnight", "30/", "/min", "2000000/s", "-1/s",
		"30 /min", "4294967296/h",
	};
	uint64_t iv;
	char buf[32];

	assert_int_equal(mx_parse_rate("30/min", &iv, NULL, 0), 0);
	assert_int_equal(iv, 2 * NS);
	assert_int_equal(mx_parse_rate("30", &iv, NULL, 0), 0);	/* per minute */
	assert_int_equal(iv, 2 * NS);
	assert_int_equal(mx_parse_rate("2/s", &iv, NULL, 0), 0);
	assert_int_equal(iv, NS / 2);
	assert_int_equal(mx_parse_rate("100/h", &iv, NULL, 0), 0);
	assert_int_equal(iv, 36 * NS);
	assert_int_equal(mx_parse_rate("1/day", &iv, NULL, 0), 0);
	assert_int_equal(iv, 86400 * NS);
	assert_int_equal(mx_parse_rate("1000000/s", &iv, NULL, 0), 0);
	assert_int_equal(iv, 1000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t out = 42;
		char err[160] = "";

		if (mx_parse_rate(bad[i], &out, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(out, 42);
		assert_true(strlen(err) > 0);
	}
	mx_format_rate(2 * NS, buf, sizeof(buf));
	assert_string_equal(buf, "30/min");
	mx_format_rate(NS / 100, buf, sizeof(buf));
	assert_string_equal(buf, "100/s");
	mx_format_rate(0, buf, sizeof(buf));
	assert_string_equal(buf, "unlimited");
}

static void test_u32(void **state)
{
	static const char *const bad[] = { "", "-1", "12a", "a", " 1", "99999999999999999999", "11" };
	uint32_t v;

	assert_int_equal(mx_parse_u32("0", 0, 10, &v, NULL, 0), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mx_parse_u32("10", 0, 10, &v, NULL, 0), 0);
	assert_int_equal(v, 10);
	assert_int_equal(mx_parse_u32("4294967295", 0, UINT32_MAX, &v, NULL, 0), 0);
	assert_int_equal(v, UINT32_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t out = 42;
		char err[160] = "";

		if (mx_parse_u32(bad[i], 0, 10, &out, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(out, 42);
		assert_true(strlen(err) > 0);
	}
	assert_int_not_equal(mx_parse_u32("4294967296", 0, UINT32_MAX, &v, NULL, 0), 0);
	assert_int_not_equal(mx_parse_u32("0", 1, 10, &v, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_prefix_refusals),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_u32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
