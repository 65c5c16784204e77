// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_zonefile.c - the lines of the DNSBL zone's rbldnsd data files
 * DESCRIPTION
 *	Each line must mean to rbldnsd exactly what mxguardd means: the
 *	default line's TXT holds no rbldnsd variable but the address ("$"),
 *	nothing unprintable, and fits what rbldnsd answers whole; entries
 *	are addresses or CIDR prefixes rbldnsd reads (IPv6 never dotted),
 *	and read back by our own parser to the same prefix; the header is
 *	comments only, never a special entry ("#$").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "zonefile.h"

/* prefix - s as a prefix, or fail */
static struct mx_prefix prefix(const char *s)
{
	struct mx_prefix p;
	char err[128];

	if (mx_parse_prefix(s, &p, err, sizeof(err)))
		fail_msg("%s: %s", s, err);
	return p;
}

/* shown - the length of t once rbldnsd puts an address of n characters for "$" */
static size_t shown(const char *t, size_t n)
{
	size_t len = 0;

	for (; *t; t++) {
		if (*t != '$') {
			len++;
		} else if (t[1] == '$') {
			len++;
			t++;
		} else {
			len += n;
		}
	}
	return len;
}

/* no_variables - every "$" in t is "$$" or the address: never $0..$9 or $= */
static void no_variables(const char *t)
{
	for (; *t; t++) {
		if (*t < 0x20 || *t >= 0x7f)
			fail_msg("unprintable byte 0x%02x", (unsigned char)*t);
		if (*t != '$')
			continue;
		if (t[1] == '$') {
			t++;
			continue;
		}
		if ((t[1] >= '0' && t[1] <= '9') || t[1] == '=')
			fail_msg("an rbldnsd variable in '%s'", t);
	}
}

static void test_a_answer(void **state)
{
	const char *good[] = { "127.0.0.2", "127.0.0.10", "127.1.2.3", "127.255.254.255" };
	const char *bad[] = { "127.0.0.1", "127.0.0.0", "10.0.0.2", "128.0.0.2", "127.255.255.2",
			      "127.0.0.2 ", "127.0.2", "::1", "", "localhost" };
	char err[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(mx_zone_a_check(good[i], err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(mx_zone_a_check(bad[i], err, sizeof(err)), -1);
		assert_true(err[0]);
	}
}

static void test_txt_default(void **state)
{
	struct mx_text_vars v = { .host = "mx.example.org", .url = "https://example.org/policy",
				  .samples = "samples@example.org" };
	char out[MX_ZONE_TXT_MAX];

	mx_zone_txt(out, sizeof(out), MX_ZONE_TEXT, &v);
	assert_string_equal(out, "$ is listed by mx.example.org after mail classified as spam; "
			    "to be delisted, send one clean mail to samples@example.org; "
			    "see https://example.org/policy");
	v.reason = "spam-trap hits";
	mx_zone_txt(out, sizeof(out), MX_ZONE_BANS_TEXT, &v);
	assert_string_equal(out, "$ is banned by mx.example.org: spam-trap hits; see "
			    "https://example.org/policy");
}

/* Dollars from anywhere are rbldnsd's "$$"; %a alone is its "$". */
static void test_txt_escapes(void **state)
{
	struct mx_text_vars v = { .host = "h$1", .url = "https://x.test/?ip=$&a=$=",
				  .reason = "costs $5\r\nX-Injected: yes\t" };
	char out[MX_ZONE_TXT_MAX];

	mx_zone_txt(out, sizeof(out), "%a: %h %r; %u; 100%% $9", &v);
	assert_string_equal(out, "$: h$$1 costs $$5X-Injected: yes; "
			    "https://x.test/?ip=$$&a=$$=; 100% $$9");
	no_variables(out);
	/* Blanks at both ends go (rbldnsd drops them); a leading "=" is doubled. */
	v.host = "  ";
	mx_zone_txt(out, sizeof(out), "   %h  listed  ", &v);
	assert_string_equal(out, "listed");
	mx_zone_txt(out, sizeof(out), "=%a listed", &v);
	assert_string_equal(out, "==$ listed");
	v.host = "=h";
	mx_zone_txt(out, sizeof(out), " %h", &v);
	assert_string_equal(out, "==h");
	/* A template of nothing printable is an empty TXT. */
	mx_zone_txt(out, sizeof(out), "\x01\x7f", &v);
	assert_string_equal(out, "");
}

/* Cut, between units, to what rbldnsd answers whole. */
static void test_txt_length(void **state)
{
	char big[600], out[MX_ZONE_TXT_MAX], small[8];
	struct mx_text_vars v = { .host = big };

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mx_zone_txt(out, sizeof(out), "%a %h", &v);
	assert_true(strlen(out) <= 255);
	assert_int_equal(shown(out, 39), 254);
	/* Dollars: never cut in half (a lone "$" would be the address). */
	memset(big, '$', sizeof(big) - 1);
	for (int lead = 0; lead < 4; lead++) {
		char tmpl[16];

		snprintf(tmpl, sizeof(tmpl), "%.*s%%h", lead, "abc");
		mx_zone_txt(out, sizeof(out), tmpl, &v);
		assert_true(strlen(out) <= 255);
		assert_int_equal((strlen(out) - (size_t)lead) % 2, 0);
		no_variables(out);
	}
	/* Many addresses: each counts as the longest one. */
	mx_zone_txt(out, sizeof(out), "%a%a%a%a%a%a%a%a%a%a", &v);
	assert_string_equal(out, "$$$$$$");
	assert_true(shown(out, 39) <= 254);
	/* A small buffer is never overrun. */
	v.host = "abcdefghij";
	assert_int_equal(mx_zone_txt(small, sizeof(small), "%h", &v), 7);
	assert_string_equal(small, "abcdefg");
}

static void test_entries(void **state)
{
	const struct {
		const char *in, *out;
	} cases[] = {
		{ "198.18.0.10", "198.18.0.10\n" },
		{ "198.18.0.0/24", "198.18.0.0/24\n" },
		{ "198.18.0.0/15", "198.18.0.0/15\n" },
		{ "2001:db8::1", "2001:db8::1\n" },
		{ "2001:db8:1::/64", "2001:db8:1::/64\n" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1\n" },
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1\n" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1\n" },
		{ "1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0\n" },
		{ "::1", "::1\n" },
		{ "::/8", "::/8\n" },
		{ "2001:db8::", "2001:db8::\n" },
		{ "::ffff:198.18.0.1", "::ffff:c612:1\n" },
		{ "::198.18.0.1", "::c612:1\n" },
	};
	char line[MX_ZONE_ENTRY_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mx_prefix p = prefix(cases[i].in);

		assert_int_equal(mx_zone_entry(line, sizeof(line), &p), strlen(cases[i].out));
		assert_string_equal(line, cases[i].out);
	}
	/* No DNSBL lists every address: /0 is left out. */
	{
		struct mx_prefix all4 = prefix("0.0.0.0/0"), all6 = prefix("::/0");

		assert_int_equal(mx_zone_entry(line, sizeof(line), &all4), 0);
		assert_int_equal(mx_zone_entry(line, sizeof(line), &all6), 0);
	}
}

/* Random IPv6 prefixes, runs of zeros likely: read back the same; as glibc compresses. */
static void test_entries_read_back(void **state)
{
	char line[MX_ZONE_ENTRY_MAX], err[128], glibc[INET6_ADDRSTRLEN];
	unsigned int seed = 11;

	for (int n = 0; n < 20000; n++) {
		struct mx_prefix p = { .family = AF_INET6 }, back;
		uint8_t mask[16];

		for (int g = 0; g < 8; g++) {
			uint16_t w = rand_r(&seed) % 3 ? 0 : (uint16_t)rand_r(&seed);

			p.addr[2 * g] = (uint8_t)(w >> 8);
			p.addr[2 * g + 1] = (uint8_t)w;
		}
		p.addr[0] = 0x20;	/* never v4-mapped nor v4-compatible: glibc writes those dotted */
		p.len = (uint8_t)(1 + rand_r(&seed) % 128);
		mx_prefix_mask(AF_INET6, p.len, mask);
		for (int i = 0; i < 16; i++)
			p.addr[i] &= mask[i];
		assert_true(mx_zone_entry(line, sizeof(line), &p) > 0);
		assert_null(strchr(line, '.'));
		line[strlen(line) - 1] = '\0';
		if (mx_parse_prefix(line, &back, err, sizeof(err)))
			fail_msg("%s: %s", line, err);
		assert_int_equal(back.family, AF_INET6);
		assert_int_equal(back.len, p.len);
		assert_memory_equal(back.addr, p.addr, 16);
		inet_ntop(AF_INET6, p.addr, glibc, sizeof(glibc));
		*strchrnul(line, '/') = '\0';
		assert_string_equal(line, glibc);
	}
}

static void test_header_and_default(void **state)
{
	char out[1024], line[MX_ZONE_LINE_MAX];
	const char *l;
	int lines = 0;

	assert_true(mx_zone_header(out, sizeof(out), "listed.ip4", "senders listed",
				   "ip4set", "mx\n#$SOA injected", 0) > 0);
	for (l = out; *l; l = strchr(l, '\n') + 1) {
		assert_true(l[0] == '#' && l[1] == ' ');
		lines++;
	}
	assert_int_equal(lines, 3);
	assert_non_null(strstr(out, "# listed.ip4 - senders listed\n"));
	assert_non_null(strstr(out, "rbldnsd ip4set data"));
	assert_non_null(strstr(out, "mx#$SOA injected at 1970-01-01T00:00:00Z"));
	assert_int_equal(mx_zone_default(line, sizeof(line), "127.0.0.2", "$ listed"), 20);
	assert_string_equal(line, ":127.0.0.2:$ listed\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_answer),
		cmocka_unit_test(test_txt_default),
		cmocka_unit_test(test_txt_escapes),
		cmocka_unit_test(test_txt_length),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_entries_read_back),
		cmocka_unit_test(test_header_and_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
