// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_http.c - the metrics server's request parser and listen addresses
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"

static int parse(const char *s, enum mx_http_method *m, char *path)
{
	return mx_http_parse(s, strlen(s), m, path, 64);
}

static void test_requests(void **state)
{
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
	enum mx_http_method m;
	char path[64];

	assert_int_equal(parse(req, &m, path), 1);
	assert_int_equal(m, MX_HTTP_GET);
	assert_string_equal(path, "/metrics");
	/* Incomplete at every cut before the empty line. */
	for (size_t cut = 0; cut < strlen(req) - 1; cut++)
		assert_int_equal(mx_http_parse(req, cut, &m, path, sizeof(path)), 0);
	assert_int_equal(parse("HEAD /metrics?x=1 HTTP/1.0\n\n", &m, path), 1);
	assert_int_equal(m, MX_HTTP_HEAD);
	assert_string_equal(path, "/metrics");
	assert_int_equal(parse("DELETE / HTTP/1.1\r\n\r\n", &m, path), 1);
	assert_int_equal(m, MX_HTTP_OTHER);
}

static void test_bad_requests(void **state)
{
	enum mx_http_method m;
	char path[64], *big;

	assert_int_equal(parse("GARBAGE\r\n\r\n", &m, path), 400);
	assert_int_equal(parse(" / HTTP/1.1\r\n\r\n", &m, path), 400);
	assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", &m, path), 400);
	assert_int_equal(parse("GET  HTTP/1.1\r\n\r\n", &m, path), 400);
	assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &m, path), 505);
	assert_int_equal(parse("GET / SMTP/1.1\r\n\r\n", &m, path), 505);
	assert_int_equal(parse("GET / HTTP/1.1 extra\r\n\r\n", &m, path), 505);
	assert_int_equal(mx_http_parse("GET /\0 HTTP/1.1\r\n\r\n", 20, &m, path, sizeof(path)), 400);
	big = malloc(MX_HTTP_HEAD_MAX + 100);
	memset(big, 'a', MX_HTTP_HEAD_MAX + 100);
	memcpy(big, "GET /", 5);
	assert_int_equal(mx_http_parse(big, MX_HTTP_HEAD_MAX, &m, path, sizeof(path)), 431);
	memcpy(big + 200, " HTTP/1.1\r\n\r\n", 13);
	assert_int_equal(mx_http_parse(big, 213, &m, path, sizeof(path)), 414);
	free(big);
}

static void test_listen_addresses(void **state)
{
	struct sockaddr_storage ss;
	unsigned int len;
	char err[128];

	assert_int_equal(mx_parse_listen("127.0.0.1:9489", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9489);
	assert_int_equal(mx_parse_listen("[::1]:9100", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(mx_parse_listen("0.0.0.0:1", &ss, &len, err, sizeof(err)), 0);
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "localhost:9489",
		"::1:9489", "[::1]9489", "[::1", ":9489", "1.2.3.4:http", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mx_parse_listen(bad[i], &ss, &len, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_listen_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
