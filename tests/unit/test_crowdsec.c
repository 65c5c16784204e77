// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_crowdsec.c - LAPI's answers (captured from crowdsec 1.4.6), durations, alerts
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "crowdsec.h"

/* A startup answer and a later one, as crowdsec 1.4.6's LAPI gave them. */
static const char startup[] =
	"{\"deleted\":null,\"new\":[{\"duration\":\"29m58.881132322s\",\"id\":3,\"origin\":\"cscli\","
	"\"scenario\":\"manual 'captcha' from 'local'\",\"scope\":\"Ip\",\"type\":\"captcha\","
	"\"value\":\"2001:db8::7\"},{\"duration\":\"59m58.881130388s\",\"id\":1,\"origin\":\"cscli\","
	"\"scenario\":\"manual 'ban' from 'local'\",\"scope\":\"Ip\",\"type\":\"ban\","
	"\"value\":\"198.18.0.50\"},{\"duration\":\"1h59m58.881129606s\",\"id\":2,\"origin\":\"cscli\","
	"\"scenario\":\"test range\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.18.4.0/24\"}]}";
static const char delta[] =
	"{\"deleted\":[{\"duration\":\"-61.88579ms\",\"id\":1,\"origin\":\"cscli\",\"scenario\":"
	"\"manual 'ban' from 'local'\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.0.50\"}],"
	"\"new\":null}";

static int parse(const char *s, struct mx_cs_stream *st)
{
	char err[256];

	return mx_cs_stream_parse(s, strlen(s), st, err, sizeof(err));
}

static void test_stream(void **state)
{
	struct mx_cs_stream st;
	char buf[64];

	assert_int_equal(parse(startup, &st), 0);
	assert_int_equal(st.n_new, 3);
	assert_int_equal(st.n_del, 0);
	assert_int_equal(st.d[1].id, 1);
	mx_format_prefix(&st.d[1].p, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.50");
	assert_true(st.d[1].duration_ms > 3598000 && st.d[1].duration_ms < 3599000);
	assert_string_equal(st.text[st.d[1].type], "ban");
	assert_string_equal(st.text[st.d[0].type], "captcha");
	assert_string_equal(st.text[st.d[2].scenario], "test range");
	mx_format_prefix(&st.d[2].p, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.4.0/24");
	mx_format_prefix(&st.d[0].p, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::7");
	mx_cs_stream_free(&st);

	assert_int_equal(parse(delta, &st), 0);
	assert_int_equal(st.n_new, 0);
	assert_int_equal(st.n_del, 1);
	assert_true(st.d[0].duration_ms < 0);
	mx_cs_stream_free(&st);

	assert_int_equal(parse("{\"deleted\":null,\"new\":null}", &st), 0);
	assert_int_equal(st.n_new + st.n_del, 0);
	mx_cs_stream_free(&st);
}

static void test_scopes(void **state)
{
	struct mx_cs_stream st;
	char buf[64];

	/* Another scope is left out and counted; host bits are masked and counted. */
	assert_int_equal(parse("{\"new\":[{\"id\":9,\"scope\":\"Country\",\"value\":\"XX\",\"type\":\"ban\","
			       "\"duration\":\"1h\",\"scenario\":\"s\",\"origin\":\"o\"},"
			       "{\"id\":10,\"scope\":\"range\",\"value\":\"198.18.4.7/24\",\"type\":\"ban\","
			       "\"duration\":\"1h\",\"scenario\":\"s\",\"origin\":\"o\"},"
			       "{\"id\":11,\"scope\":\"Ip\",\"value\":\"::ffff:198.18.0.9\",\"type\":\"ban\","
			       "\"duration\":\"1h\",\"scenario\":\"s\"},"
			       "{\"id\":12,\"scope\":\"Ip\",\"value\":\"2001:db8:7::/64\",\"type\":\"ban\","
			       "\"duration\":\"1h\",\"scenario\":\"s\"}]}", &st), 0);
	assert_int_equal(st.n_new, 3);
	assert_int_equal(st.other_scope, 1);
	assert_int_equal(st.masked, 1);
	mx_format_prefix(&st.d[0].p, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.4.0/24");
	mx_format_prefix(&st.d[1].p, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.9");
	/* A CIDR of scope Ip (cscli decisions import makes them): a prefix. */
	mx_format_prefix(&st.d[2].p, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:7::/64");
	mx_cs_stream_free(&st);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"", "null", "[]", "{\"new\":{}}", "{\"new\":[1]}", "{\"new\":[{}]}",
		"{\"new\":[{\"id\":0,\"scope\":\"Ip\",\"value\":\"198.18.0.1\",\"type\":\"ban\","
		"\"duration\":\"1h\",\"scenario\":\"s\"}]}",
		"{\"new\":[{\"id\":1,\"scope\":\"Ip\",\"value\":\"198.18.0.300\",\"type\":\"ban\","
		"\"duration\":\"1h\",\"scenario\":\"s\"}]}",
		"{\"new\":[{\"id\":1,\"scope\":\"Ip\",\"value\":\"198.18.0.1\",\"type\":\"ban\","
		"\"duration\":\"1 hour\",\"scenario\":\"s\"}]}",
		"{\"new\":[{\"id\":1,\"scope\":\"Range\",\"value\":\"198.18.0.0/33\",\"type\":\"ban\","
		"\"duration\":\"1h\",\"scenario\":\"s\"}]}",
		"{\"new\":[{\"id\":\"1\",\"scope\":\"Ip\",\"value\":\"198.18.0.1\",\"type\":\"ban\","
		"\"duration\":\"1h\",\"scenario\":\"s\"}]}",
		"{\"new\":null} x",
	};
	struct mx_cs_stream st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &st), -1);
		assert_null(st.d);
		assert_null(st.text);
	}
}

static void test_duration(void **state)
{
	int64_t ms;

	assert_int_equal(mx_cs_duration("3h59m58.52s", &ms), 0);
	assert_int_equal(ms, (3 * 3600 + 59 * 60 + 58) * 1000LL + 520);
	assert_int_equal(mx_cs_duration("-1.5s", &ms), 0);
	assert_int_equal(ms, -1500);
	assert_int_equal(mx_cs_duration("-61.88579ms", &ms), 0);
	assert_int_equal(ms, -61);
	assert_int_equal(mx_cs_duration("0s", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(mx_cs_duration("0", &ms), 0);
	assert_int_equal(mx_cs_duration("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(mx_cs_duration("500us", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(mx_cs_duration("", &ms), -1);
	assert_int_equal(mx_cs_duration("1", &ms), -1);
	assert_int_equal(mx_cs_duration("h", &ms), -1);
	assert_int_equal(mx_cs_duration("1x", &ms), -1);
	assert_int_equal(mx_cs_duration("1h ", &ms), -1);
	assert_int_equal(mx_cs_duration("99999999999999999h", &ms), -1);
}

static void test_types(void **state)
{
	struct mx_cs_types t;
	char err[200];

	assert_int_equal(mx_cs_types_parse("ban,captcha", &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 2);
	assert_true(mx_cs_types_has(&t, "captcha"));
	assert_false(mx_cs_types_has(&t, "throttle"));
	assert_int_equal(mx_cs_types_parse("ban,", &t, err, sizeof(err)), -1);
	assert_int_equal(mx_cs_types_parse("", &t, err, sizeof(err)), -1);
	assert_int_equal(mx_cs_types_parse("Ban", &t, err, sizeof(err)), -1);
}

static void test_alerts(void **state)
{
	struct mx_cs_push p[2] = {
		{ .id = 1, .hits = 51, .at_wall_s = 1796066116, .until_wall_s = 1796066116 + 86400,
		  .scenario = "mxguard/spam-trap" },
		{ .id = 2, .at_wall_s = 1796066116, .scenario = "mxguard/manual" },
	};
	char err[160], token[64], *s;

	mx_parse_prefix("198.18.0.60", &p[0].p, err, sizeof(err));
	mx_parse_prefix("2001:db8:9::/64", &p[1].p, err, sizeof(err));
	s = mx_cs_alerts_json(p, 2, "mx1", 1796066116);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"scenario\":\"mxguard/spam-trap\""));
	assert_non_null(strstr(s, "\"events_count\":51"));
	assert_non_null(strstr(s, "\"duration\":\"86400s\""));
	assert_non_null(strstr(s, "\"origin\":\"mxguard\""));
	assert_non_null(strstr(s, "\"scope\":\"Range\",\"value\":\"2001:db8:9::/64\""));
	assert_non_null(strstr(s, "\"start_at\":\"2026-11-30T19:15:16Z\""));
	free(s);
	s = mx_cs_login_json("mx1", "pw");
	assert_non_null(strstr(s, "\"machine_id\":\"mx1\""));
	free(s);
	{
		const char *ok = "{\"code\":200,\"expire\":\"x\",\"token\":\"a.b.c\"}";

		assert_int_equal(mx_cs_token_parse(ok, strlen(ok), token, sizeof(token), err,
						   sizeof(err)), 0);
	}
	assert_string_equal(token, "a.b.c");
	assert_int_equal(mx_cs_token_parse("{\"token\":\"a b\"}", 15, token, sizeof(token), err,
					   sizeof(err)), -1);
}

static void test_pushes(void **state)
{
	struct mx_cs_pushes q = { 0 };
	struct mx_cs_push p = { .scenario = "x" }, r = { .id = 7, .scenario = "y" };

	assert_int_equal(mx_cs_pushes_add(&q, &p), 0);
	assert_int_equal(p.id, 1);
	assert_int_equal(mx_cs_pushes_add(&q, &r), 0);
	p.id = 0;
	assert_int_equal(mx_cs_pushes_add(&q, &p), 0);
	assert_int_equal(p.id, 8);	/* after the restored 7 */
	assert_int_equal(mx_cs_pushes_done(&q, 7), 1);
	assert_int_equal(mx_cs_pushes_done(&q, 7), 0);
	assert_int_equal(q.n, 2);
	mx_cs_pushes_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_pushes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
