// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_config.c - the settings parser's newer types and reload's keep list
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"

static int parse(struct mx_config_file *c, const char *text, char *err)
{
	return mx_config_parse(c, "f", text, strlen(text), err, 1024);
}

static void test_verdict_settings(void **state)
{
	static struct mx_config_file c;
	char err[1024];

	mx_config_default(&c);
	assert_int_equal(c.verdict.trap_hits[MX_TRAP_SPAM], 50);
	assert_int_equal(c.verdict.trap_hits[MX_TRAP_BACKSCATTER], 20);
	assert_int_equal(c.verdict.trap_ban[MX_TRAP_SPAM], 86400);
	assert_int_equal(c.verdict.repeat_ban, 7 * 86400);
	assert_int_equal(c.ptr_class, 1);
	assert_int_equal(parse(&c, "spamtrap_hits = 5\nrepeat_window = 0\nlisted_ttl = 0\n"
			       "ptr_class = 7\nptr_class_ttl = 1h\nmetrics_listen = none\n"
			       "reply_listed = %h says %a is listed\n", err), 0);
	assert_int_equal(c.verdict.trap_hits[MX_TRAP_SPAM], 5);
	assert_int_equal(c.verdict.repeat_window, 0);
	assert_int_equal(c.verdict.listed_ttl, 0);
	assert_int_equal(c.ptr_class, 7);
	assert_int_equal(c.ptr_class_ttl, 3600);
	assert_string_equal(c.metrics_listen, "");
	assert_string_equal(c.reply_listed, "%h says %a is listed");
	assert_int_equal(parse(&c, "ptr_class = none\n", err), 0);
	assert_int_equal(c.ptr_class, 0);
	assert_string_equal(c.dnsbl_zones, "");
	assert_int_equal(parse(&c, "dnsbl_zones = zen.example.org,bl.example.net\n", err), 0);
	assert_string_equal(c.dnsbl_zones, "zen.example.org,bl.example.net");
	assert_int_not_equal(parse(&c, "dnsbl_zones = a..b\n", err), 0);
	assert_int_not_equal(parse(&c, "dnsbl_zones = a,b,c,d,e\n", err), 0);
	assert_int_not_equal(parse(&c, "dnsbl_zones = ,\n", err), 0);
	assert_int_not_equal(parse(&c, "dnsbl_zones = bl.test;rm\n", err), 0);
	assert_int_equal(parse(&c, "dnsbl_zones = none\n", err), 0);
	assert_string_equal(c.dnsbl_zones, "");

	/* Each bad value names its line; nothing of the file is taken. */
	assert_int_equal(parse(&c, "spamtrap_hits = 10001\nspamtrap_window = 0\n"
			       "spamtrap_ban_ttl = 1500ms\nptr_class = 0\nptr_class = 16\n"
			       "ptr_class_ttl = 59\nmetrics_listen = [::1]\nreply_banned = 100%\n"
			       "sender_entries = 10\n", err), 9);
	for (int line = 1; line <= 9; line++) {
		char want[16];

		snprintf(want, sizeof(want), "f:%d: ", line);
		if (!strstr(err, want))
			fail_msg("no error for line %d in: %s", line, err);
	}
	assert_int_equal(c.ptr_class, 0);
	assert_int_equal(c.verdict.trap_hits[MX_TRAP_SPAM], 5);
}

/* The DNSBL zone's settings: off by default, the A answer in 127.0.0.0/8. */
static void test_zone_settings(void **state)
{
	static struct mx_config_file c, d;
	char err[1024];

	mx_config_default(&c);
	assert_string_equal(c.zone_dir, "");
	assert_false(c.zone_bans);
	assert_string_equal(c.zone_a, "127.0.0.2");
	assert_string_equal(c.zone_text, MX_ZONE_TEXT);
	assert_string_equal(c.zone_bans_text, MX_ZONE_BANS_TEXT);
	assert_int_equal(parse(&c, "zone_dir = /var/lib/rbldnsd/mx\nzone_bans = yes\n"
			       "zone_a = 127.0.1.2\nzone_text = %a listed by %h, see %u\n"
			       "zone_bans_text = banned: %r\n", err), 0);
	assert_string_equal(c.zone_dir, "/var/lib/rbldnsd/mx");
	assert_true(c.zone_bans);
	assert_string_equal(c.zone_a, "127.0.1.2");
	assert_string_equal(c.zone_text, "%a listed by %h, see %u");
	assert_string_equal(c.zone_bans_text, "banned: %r");
	assert_int_equal(parse(&c, "zone_dir = relative\nzone_a = 127.0.0.1\nzone_a = 10.0.0.2\n"
			       "zone_a = 127.255.255.1\nzone_text = %x\nzone_bans = maybe\n", err), 6);
	assert_non_null(strstr(err, "f:1: zone_dir:"));
	assert_non_null(strstr(err, "f:2: zone_a: '127.0.0.1'"));
	assert_string_equal(c.zone_a, "127.0.1.2");
	/* A reload applies them: none needs a restart. */
	mx_config_default(&d);
	assert_null(mx_config_restart_needed(&d, &c));
}

/* What a reload keeps is exactly what needs a restart. */
/* The message rules' settings, the samples and the delisting time. */
static void test_message_settings(void **state)
{
	static struct mx_config_file c;
	char err[1024];

	(void)state;
	mx_config_default(&c);
	for (int i = 0; i < MX_MAX_CLASSES; i++) {
		assert_int_equal(c.messages[i].per_session, 1000);
		assert_int_equal(c.messages[i].per_minute, 300);
		assert_int_equal(c.messages[i].size, 0);
	}
	assert_int_equal(c.verdict.one_message_sessions, 10);
	assert_int_equal(c.verdict.one_message_window, 600);
	assert_int_equal(c.single_class, 1);
	assert_int_equal(c.delist_minute, 0);
	assert_string_equal(c.samples, "");
	assert_int_equal(parse(&c, "class.strict.message_size = 10M\nclass.3.messages = 50\n"
			       "class.default.messages_per_minute = 0\nsamples = s@a.test,t@b.test\n"
			       "delist_time = 06:30\none_message_class = 4\n"
			       "reply_listed = mail %s to be delisted\n", err), 0);
	assert_int_equal(c.messages[1].size, 10 << 20);
	assert_int_equal(c.messages[3].per_session, 50);
	assert_int_equal(c.messages[0].per_minute, 0);
	assert_string_equal(c.samples, "s@a.test,t@b.test");
	assert_int_equal(c.delist_minute, 6 * 60 + 30);
	assert_int_equal(c.single_class, 4);
	/* Bad values, one error each, nothing taken. */
	assert_int_equal(parse(&c, "class.1.message_size = 10X\nclass.1.messages = -1\n"
			       "samples = nobody\nsamples = a@b,c@d@e\ndelist_time = 24:00\n"
			       "delist_time = 6:30\nsamples = a b@c\nclass.1.message_size = 2T\n"
			       "reply_messages = %x\n", err), 9);
	assert_string_equal(c.samples, "s@a.test,t@b.test");
	assert_int_equal(parse(&c, "samples = none\n", err), 0);
	assert_string_equal(c.samples, "");
}

static void test_keep_restart(void **state)
{
	static struct mx_config_file run, next;
	char err[1024];

	mx_config_default(&run);
	mx_config_default(&next);
	assert_int_equal(parse(&next, "interface = eth9\nmode = skb\naddress_entries = 4096\n"
			       "state_dir = /x\npin_dir = /y\nsocket = /z\ncgroup = /c\n"
			       "policy_socket = /p\npolicy_group = mail\nmetrics_listen = 127.0.0.1:1\n"
			       "responder_sessions = 9\nresponder_max_line = 600\n"
			       "class.default.parallel = 4\nspamtrap_hits = 7\nhostname = h\n", err), 0);
	assert_non_null(mx_config_restart_needed(&run, &next));
	mx_config_keep_restart(&next, &run);
	assert_null(mx_config_restart_needed(&run, &next));
	/* ...and what a reload applies stays as the new file says. */
	assert_int_equal(next.dp.classes[0].src_parallel, 4);
	assert_int_equal(next.verdict.trap_hits[MX_TRAP_SPAM], 7);
	assert_string_equal(next.hostname, "h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_settings),
		cmocka_unit_test(test_keep_restart),
		cmocka_unit_test(test_message_settings),
		cmocka_unit_test(test_zone_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
