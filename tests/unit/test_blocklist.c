// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_blocklist.c - the blocklist formats, strict and lenient, gzip
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "blocklist.h"

struct got {
	char text[16][64];
	int n;
};

static int keep(const struct mx_prefix *p, void *arg)
{
	struct got *g = arg;

	if (g->n < 16)
		mx_format_prefix(p, g->text[g->n], sizeof(g->text[0]));
	g->n++;
	return 0;
}

/* parse - run the parser on a string */
static int parse(const char *s, bool lenient, struct got *g, struct mx_bl_report *rep, char *err)
{
	memset(g, 0, sizeof(*g));
	return mx_blocklist_parse("list", s, strlen(s), lenient, keep, g, rep, err, 256);
}

static void test_formats(void **state)
{
	struct mx_bl_report rep;
	struct got g;
	char err[256];

	assert_int_equal(parse("198.18.0.1\n# c\n\n198.18.1.0/24 ; why\n2001:db8::/32\n", false,
			       &g, &rep, err), 0);
	assert_int_equal(rep.format, MX_BL_PLAIN);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.text[1], "198.18.1.0/24");

	assert_int_equal(parse("; Spamhaus DROP\n198.18.4.0/22 ; SBL123456\r\n198.18.8.0/24 ; SBL2\n",
			       false, &g, &rep, err), 0);
	assert_int_equal(rep.format, MX_BL_DROP_TXT);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.text[0], "198.18.4.0/22");

	assert_int_equal(parse("{\"cidr\":\"198.18.4.0/22\",\"sblid\":\"SBL1\",\"rir\":\"arin\"}\n"
			       "{\"cidr\": \"2001:db8::/32\", \"sblid\": \"SBL2\"}\n"
			       "{\"type\":\"metadata\",\"timestamp\":1,\"size\":2,\"records\":2}\n",
			       false, &g, &rep, err), 0);
	assert_int_equal(rep.format, MX_BL_DROP_JSON);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.text[1], "2001:db8::/32");

	assert_int_equal(parse("# only comments\n\n", false, &g, &rep, err), 0);
	assert_int_equal(rep.format, MX_BL_EMPTY);
	assert_int_equal(g.n, 0);
}

static void test_bad_lines(void **state)
{
	static const char *const bad[] = {
		"198.18.0.1\n198.18.0.1/24\n",		/* host bits */
		"198.18.0.1\nnot-an-address\n",
		"198.18.0.1\n198.18.0.0/33\n",
		"198.18.0.1\n198.18.0.2 198.18.0.3\n",
		"{\"cidr\":\"198.18.0.0/24\"}\n{\"sblid\":\"SBL1\"}\n",
		"{\"cidr\":\"198.18.0.0/24\"}\n198.18.0.1\n",	/* mixed formats */
	};
	struct mx_bl_report rep;
	struct got g;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], false, &g, &rep, err), -1);
		assert_non_null(strstr(err, "list:2: "));
		assert_int_equal(parse(bad[i], true, &g, &rep, err), 0);
		assert_int_equal(rep.skipped, 1);
		assert_int_equal(rep.first_bad_line, 2);
		assert_int_equal(rep.entries, 1);
	}
}

static void test_gzip_and_plain_files(void **state)
{
	const char *text = "198.18.4.0/22 ; SBL1\n198.18.9.9\n";
	char path[] = "/tmp/mxguard-bl-XXXXXX", err[256] = "";
	struct mx_bl_report rep;
	struct got g = { 0 };
	size_t len;
	char *buf;
	gzFile gz;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	gz = gzdopen(fd, "wb");
	gzwrite(gz, text, (unsigned int)strlen(text));
	gzclose(gz);
	buf = mx_blocklist_read(path, &len, err, sizeof(err));
	assert_non_null(buf);
	assert_int_equal(len, strlen(text));
	assert_int_equal(mx_blocklist_parse(path, buf, len, false, keep, &g, &rep, err, sizeof(err)), 0);
	assert_int_equal(g.n, 2);
	free(buf);
	unlink(path);
	assert_null(mx_blocklist_read("/nonexistent/list", &len, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/list"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_gzip_and_plain_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
