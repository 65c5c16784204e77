// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_cli.c - the CLI's commands against the agent's maps
 * DESCRIPTION
 *	Runs command lines through mx_run_command(), as the agent does for
 *	each control request, against in-memory maps made from the XDP
 *	program's own definitions (agent_maps.h: the same types, key and
 *	value sizes; no root needed), small, so that "full" is easy to
 *	reach. Checks the output, the exit status, and that bad input
 *	leaves every map unchanged.
 *	Also covers command selection and the control request parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent_maps.h"
#include "commands.h"
#include "control.h"
#include "maps.h"

#define SMALL 4		/* entries per exact/prefix map: easy to fill */

struct fixture {
	struct agent a;
	char *out, *err;
	size_t out_len, err_len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int err = agent_maps_create(&f->a, SMALL);

	if (err)
		fail_msg("creating the maps: %s", strerror(-err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	agent_maps_close(&f->a);
	free(f->out);
	free(f->err);
	free(f);
	return 0;
}

/* run - run a command line ("ban add X"); JSON when json; returns its status */
static int run(struct fixture *f, bool json, const char *line)
{
	struct mx_cmd_ctx c = { .agent = &f->a, .json = json };
	char buf[512], *argv[32], *tok, *save = NULL;
	int argc = 0, r;

	free(f->out);
	free(f->err);
	c.out = open_memstream(&f->out, &f->out_len);
	c.err = open_memstream(&f->err, &f->err_len);
	if (json)
		c.jw = jsonw_new(c.out);
	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 31; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	r = mx_run_command(&c, argc, argv);
	if (c.jw)
		jsonw_destroy(&c.jw);
	fclose(c.out);
	fclose(c.err);
	return r;
}

/* count - entries in one map */
static int count(int fd)
{
	uint8_t key[20], next[20];
	void *prev = NULL;
	int n = 0;

	while (mx_map_next_key(fd, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

/* total - entries in a table */
static int total(const struct mx_table *t)
{
	int n = 0;

	for (int i = 0; i < MX_TABLE_MAPS; i++)
		n += count(t->fd[i]);
	return n;
}

static void test_ban_add_exact_and_prefix(void **state)
{
	struct fixture *f = *state;
	struct mx_prefix p;
	struct mx_ban b;
	char reason[MX_REASON_LEN];
	uint64_t now = mx_now_ns();

	assert_int_equal(run(f, false, "ban add 198.18.0.7 ttl 1h reason trap"), 0);
	assert_int_equal(count(f->a.store.bans.fd[MX_EXACT4]), 1);
	assert_int_equal(run(f, false, "ban add 198.18.4.0/22 permanent"), 0);
	assert_int_equal(count(f->a.store.bans.fd[MX_PREFIX4]), 1);
	assert_int_equal(run(f, false, "ban add 2001:db8::/32"), 0);
	assert_int_equal(count(f->a.store.bans.fd[MX_PREFIX6]), 1);
	assert_int_equal(run(f, false, "ban add 2001:db8::5"), 0);
	assert_int_equal(count(f->a.store.bans.fd[MX_EXACT6]), 1);

	assert_int_equal(mx_parse_prefix("198.18.0.7", &p, NULL, 0), 0);
	assert_int_equal(mx_table_get(&f->a.store.bans, &p, &b), 0);
	assert_true(b.expires_ns > now + 3599ULL * 1000000000ULL);
	assert_true(b.expires_ns <= mx_now_ns() + 3600ULL * 1000000000ULL);
	mx_reason_text(f->a.store.reasons_fd, b.reason, reason, sizeof(reason));
	assert_string_equal(reason, "trap");

	assert_int_equal(mx_parse_prefix("198.18.4.0/22", &p, NULL, 0), 0);
	assert_int_equal(mx_table_get(&f->a.store.bans, &p, &b), 0);
	assert_int_equal(b.expires_ns, 0);

	/* Default TTL: 24 hours. */
	assert_int_equal(mx_parse_prefix("2001:db8::/32", &p, NULL, 0), 0);
	assert_int_equal(mx_table_get(&f->a.store.bans, &p, &b), 0);
	assert_true(b.expires_ns > now + MX_DEFAULT_BAN_TTL_NS - 1000000000ULL);
}

static void test_ban_show_finds_covering_prefix(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, false, "ban add 198.18.0.0/16 reason wide"), 0);
	assert_int_equal(run(f, false, "ban add 198.18.7.0/24 reason narrow"), 0);
	assert_int_equal(run(f, false, "ban show 198.18.7.9"), 0);
	assert_non_null(strstr(f->out, "198.18.7.0/24"));
	assert_non_null(strstr(f->out, "narrow"));
	assert_int_equal(run(f, false, "ban show 198.18.9.9"), 0);
	assert_non_null(strstr(f->out, "198.18.0.0/16"));
	assert_int_equal(run(f, false, "ban show 198.19.0.1"), 0);
	assert_non_null(strstr(f->out, "not banned"));
	assert_int_equal(run(f, true, "ban show 198.19.0.1"), 0);
	assert_string_equal(f->out, "null\n");
}

static void test_ban_list_json_and_filter(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, false, "ban add 198.18.0.1"), 0);
	assert_int_equal(run(f, false, "ban add 198.19.0.1 permanent"), 0);
	assert_int_equal(run(f, true, "ban list"), 0);
	assert_non_null(strstr(f->out, "\"prefix\":\"198.18.0.1\""));
	assert_non_null(strstr(f->out, "\"prefix\":\"198.19.0.1\",\"active\":true,\"expires_in_s\":null"));
	assert_int_equal(f->out[0], '[');
	assert_int_equal(run(f, true, "ban list 198.19.0.0/16"), 0);
	assert_null(strstr(f->out, "198.18.0.1"));
	assert_non_null(strstr(f->out, "198.19.0.1"));
	assert_int_equal(run(f, false, "ban add 198.18.0.3 reason spam-trap"), 0);
	assert_int_equal(run(f, true, "ban list reason trap"), 0);
	assert_non_null(strstr(f->out, "198.18.0.3"));
	assert_null(strstr(f->out, "198.19.0.1"));
	assert_int_equal(run(f, true, "ban list 198.18.0.0/16 reason manual"), 0);
	assert_non_null(strstr(f->out, "198.18.0.1"));
	assert_null(strstr(f->out, "198.18.0.3"));
	/* "b l" is "ban list" */
	assert_int_equal(run(f, false, "b l"), 0);
	assert_non_null(strstr(f->out, "198.19.0.1"));
}

static void test_bad_input_changes_nothing(void **state)
{
	static const char *const bad[] = {
		"ban add", "ban add 198.18.0.1/24", "ban add 198.18.0.256",
		"ban add 198.18.0.1/33", "ban add 2001:db8::1/129", "ban add 198.18.0.1 ttl",
		"ban add 198.18.0.1 ttl 0", "ban add 198.18.0.1 ttl -5", "ban add 198.18.0.1 ttl 11y",
		"ban add 198.18.0.1 ttl 99999999999d", "ban add 198.18.0.1 colour red",
		"ban add 198.18.0.1 reason", "ban del 198.18.0.99", "ban del", "ban del 198.18.0.2 extra",
		"ban zap", "zap", "allow add", "allow add nonsense", "allow del 198.18.0.3",
		"limit set", "limit set 0 rate", "limit set 0 rate 0/min", "limit set 0 rate 5/fortnight",
		"limit set 0 rate 2000000/s", "limit set 0 burst 0", "limit set 0 burst 1000001",
		"limit set 16 burst 3", "limit set weird burst 3", "limit set 0 speed 3",
		"limit set 0 parallel 0", "limit show 99", "stats now", "prog show extra",
		"limit s",	/* ambiguous: show, set */
		"sender show", "sender show 198.18.0.0/24", "sender show 198.18.0.1 x",
		"sender trap 198.18.0.1", "sender trap 198.18.0.1 ham", "sender trap nonsense spam",
		"sender trap 198.18.0.1 spam count 0", "sender trap 198.18.0.1 spam count x",
		"sender trap 198.18.0.1 spam count", "sender trap 198.18.0.1 spam extra",
		"sender trap 198.18.0.1 spam count 2000000", "sender spam", "sender spam 999.1.1.1",
		"sender clean 198.18.0.1 extra", "sender forget 198.18.0.77", "sender list weird",
		"sender s",	/* ambiguous: show, spam */
		/* Reasons that are not UTF-8 would make -j output invalid JSON. */
		"ban add 198.18.0.1 reason \xff", "ban add 198.18.0.1 reason caf\xc3",
		"ban add 198.18.0.1 reason \xc0\xaf", "ban add 198.18.0.1 reason \xed\xa0\x80",
		"ban add 198.18.0.1 reason \xf4\x90\x80\x80",
	};
	struct fixture *f = *state;
	struct mx_class_limits before[MX_MAX_CLASSES];

	assert_int_equal(run(f, false, "ban add 198.18.0.2 reason keep"), 0);
	memcpy(before, f->a.settings.classes, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = run(f, false, bad[i]);

		if (r == 0)
			fail_msg("'%s' succeeded", bad[i]);
		if (strncmp(f->err, "Error: ", 7) || strchr(f->err, '\n') != f->err + f->err_len - 1)
			fail_msg("'%s': expected one 'Error:' line, got '%s'", bad[i], f->err);
		assert_int_equal(total(&f->a.store.bans), 1);
		assert_int_equal(total(&f->a.store.allows), 0);
		assert_memory_equal(before, f->a.settings.classes, sizeof(before));
	}
	for (uint32_t i = 0; i < MX_MAX_CLASSES; i++) {
		struct mx_class_limits l;

		assert_int_equal(mx_map_lookup(f->a.dp.class_limits_fd, &i, &l), 0);
		assert_memory_equal(&l, &before[i], sizeof(l));
	}
	/* JSON errors are one JSON object on the output. */
	assert_int_not_equal(run(f, true, "ban add 198.18.0.1/24"), 0);
	assert_non_null(strstr(f->out, "{\"error\":\""));
}

/* Trap hits through the CLI: the 51st bans, reason and flags as documented. */
static void test_sender_trap_bans(void **state)
{
	struct fixture *f = *state;
	struct mx_prefix p;
	struct mx_ban b;
	char err[64], reason[MX_REASON_LEN];

	assert_int_equal(run(f, false, "sender trap 198.18.0.9 spam count 50"), 0);
	assert_int_equal(total(&f->a.store.bans), 0);
	assert_int_equal(run(f, false, "sender show 198.18.0.9"), 0);
	assert_non_null(strstr(f->out, "   50/50"));
	assert_int_equal(run(f, false, "sender trap 198.18.0.9 spam"), 0);
	assert_non_null(strstr(f->err, "198.18.0.9 banned for 1d: 51 spam-trap hits (ban 1 in a row)."));
	assert_int_equal(mx_parse_prefix("198.18.0.9", &p, err, sizeof(err)), 0);
	assert_int_equal(mx_table_get(&f->a.store.bans, &p, &b), 0);
	assert_int_equal(b.flags, MX_BAN_F_AUTOMATIC);
	assert_int_equal(mx_reason_text(f->a.store.reasons_fd, b.reason, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "spam-trap hits");
	/* An operator's permanent ban is never shortened by an automatic one. */
	assert_int_equal(run(f, false, "ban add 198.18.0.10 permanent reason mine"), 0);
	assert_int_equal(run(f, false, "sender trap 198.18.0.10 backscatter count 21"), 0);
	assert_int_equal(mx_parse_prefix("198.18.0.10", &p, err, sizeof(err)), 0);
	assert_int_equal(mx_table_get(&f->a.store.bans, &p, &b), 0);
	assert_int_equal(b.expires_ns, 0);
	assert_int_equal(b.flags, MX_BAN_F_MANUAL);
	/* Allowlisted: nothing counted. */
	assert_int_equal(run(f, false, "allow add 198.18.0.11"), 0);
	assert_int_equal(run(f, false, "sender trap 198.18.0.11 spam count 100"), 0);
	assert_non_null(strstr(f->err, "allowlisted"));
	assert_int_equal(run(f, true, "sender show 198.18.0.11"), 0);
	assert_int_equal(strncmp(f->out, "null", 4), 0);
	/* Listing, JSON, list filters, forget. */
	assert_int_equal(run(f, false, "sender spam 2001:db8::5"), 0);
	assert_int_equal(run(f, true, "sender show 2001:db8::77"), 0);
	assert_non_null(strstr(f->out, "\"sender\":\"2001:db8::/64\""));
	assert_non_null(strstr(f->out, "\"listed\":true"));
	assert_int_equal(run(f, false, "sender list listed"), 0);
	assert_non_null(strstr(f->out, "2001:db8::/64"));
	assert_null(strstr(f->out, "198.18.0.9"));
	assert_int_equal(run(f, false, "sender list banned"), 0);
	assert_non_null(strstr(f->out, "198.18.0.9"));
	/* A clean sample: still listed, delisted at the next midnight. */
	assert_int_equal(run(f, false, "sender clean 2001:db8::5"), 0);
	assert_non_null(strstr(f->err, "is delisted at"));
	assert_int_equal(run(f, false, "sender list delisting"), 0);
	assert_non_null(strstr(f->out, "2001:db8::/64"));
	assert_int_equal(run(f, false, "sender list listed"), 0);
	assert_non_null(strstr(f->out, "2001:db8::/64"));
	assert_int_equal(run(f, true, "sender show 2001:db8::5"), 0);
	assert_non_null(strstr(f->out, "\"clean_samples\":1"));
	assert_null(strstr(f->out, "\"delisting_at\":null"));
	/* The operator ends it now. */
	assert_int_equal(run(f, false, "sender delist 2001:db8::5"), 0);
	assert_int_equal(run(f, false, "sender list listed"), 0);
	assert_null(strstr(f->out, "2001:db8::/64"));
	assert_int_equal(run(f, false, "sender clean 2001:db8::5"), 0);
	assert_non_null(strstr(f->err, "not listed"));
	assert_int_equal(run(f, false, "sender forget 198.18.0.9"), 0);
	assert_int_equal(run(f, false, "sender show 198.18.0.9"), 0);
	assert_non_null(strstr(f->out, "nothing is known"));
}

static void test_full_table_is_an_error(void **state)
{
	struct fixture *f = *state;
	char line[64];

	for (int i = 1; i <= SMALL; i++) {
		snprintf(line, sizeof(line), "ban add 198.18.1.%d", i);
		assert_int_equal(run(f, false, line), 0);
	}
	assert_int_not_equal(run(f, false, "ban add 198.18.1.200"), 0);
	assert_non_null(strstr(f->err, "full"));
	assert_int_equal(total(&f->a.store.bans), SMALL);
	/* Replacing an existing ban still works when full. */
	assert_int_equal(run(f, false, "ban add 198.18.1.1 permanent"), 0);

	for (int i = 1; i <= SMALL; i++) {
		snprintf(line, sizeof(line), "ban add 198.18.%d.0/24", 16 + i);
		assert_int_equal(run(f, false, line), 0);
	}
	assert_int_not_equal(run(f, false, "ban add 198.18.99.0/24"), 0);
	assert_non_null(strstr(f->err, "full"));

	/* The allowlist and the classes: the same clear error, nothing half done. */
	for (int i = 1; i <= SMALL; i++) {
		snprintf(line, sizeof(line), "allow add 198.18.2.%d", i);
		assert_int_equal(run(f, false, line), 0);
		snprintf(line, sizeof(line), "class add 198.18.3.%d strict", i);
		assert_int_equal(run(f, false, line), 0);
	}
	assert_int_not_equal(run(f, false, "allow add 198.18.2.200"), 0);
	assert_non_null(strstr(f->err, "full"));
	assert_int_equal(total(&f->a.store.allows), SMALL);
	assert_int_not_equal(run(f, false, "class add 198.18.3.200 strict"), 0);
	assert_non_null(strstr(f->err, "full"));
	assert_int_equal(total(&f->a.store.classes), SMALL);
}

static void test_limit_set_writes_map(void **state)
{
	struct fixture *f = *state;
	struct mx_class_limits l;
	uint32_t strict = 1;

	assert_int_equal(run(f, false, "limit set strict burst 9"), 0);
	assert_int_equal(run(f, false, "limit set strict rate 2/s"), 0);
	assert_int_equal(run(f, false, "limit set strict prefix-rate 30/h"), 0);
	assert_int_equal(run(f, false, "limit set strict prefix-parallel 7"), 0);
	assert_int_equal(mx_map_lookup(f->a.dp.class_limits_fd, &strict, &l), 0);
	assert_int_equal(l.src_burst, 9);
	assert_int_equal(l.src_interval_ns, 500000000ULL);
	assert_int_equal(l.pfx_interval_ns, 120000000000ULL);
	assert_int_equal(l.pfx_parallel, 7);
	assert_int_equal(l.src_parallel, 3);
	assert_int_equal(run(f, true, "limit show strict"), 0);
	assert_non_null(strstr(f->out, "\"burst\":9"));
	assert_non_null(strstr(f->out, "\"rate\":\"120/min\""));
}

static void test_allow_add_list_del(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, false, "allow add 198.18.0.0/24"), 0);
	assert_int_equal(run(f, false, "allow add 2001:db8::1"), 0);
	assert_int_equal(run(f, true, "allow list"), 0);
	assert_string_equal(f->out, "[\"198.18.0.0/24\",\"2001:db8::1\"]\n");
	assert_int_equal(run(f, false, "ban add 198.18.0.5"), 0);
	assert_non_null(strstr(f->err, "allowlist entry 198.18.0.0/24"));
	assert_int_equal(run(f, false, "allow del 198.18.0.0/24"), 0);
	assert_int_equal(total(&f->a.store.allows), 1);
}

/* A full reason table never prevents a ban: the generic reason, counted. */
static void test_reason_table_full(void **state)
{
	struct fixture *f = *state;
	struct mx_prefix p;
	struct mx_ban b;
	char err[64];

	for (int i = 1; i < MX_MAX_REASONS; i++) {
		char text[16];

		snprintf(text, sizeof(text), "r%d", i);
		assert_int_equal(mx_bans_reason(&f->a.store.claims, text), i);
	}
	assert_int_equal(mx_bans_reason(&f->a.store.claims, "r7"), 7);
	assert_int_equal(run(f, false, "ban add 198.18.0.9 reason brand-new"), 0);
	assert_non_null(strstr(f->err, "generic reason"));
	assert_int_equal(total(&f->a.store.bans), 1);
	assert_int_equal(mx_parse_prefix("198.18.0.9", &p, err, sizeof(err)), 0);
	assert_int_equal(mx_table_get(&f->a.store.bans, &p, &b), 0);
	assert_int_equal(b.reason, 0);
	assert_int_equal(f->a.store.claims.reason_fallbacks, 1);
	/* Nothing names r1..r255: a collection pass frees them all. */
	mx_bans_gc_begin(&f->a.store.claims);
	assert_int_equal(mx_bans_gc_end(&f->a.store.claims), MX_MAX_REASONS - 1);
	assert_int_not_equal(mx_bans_reason(&f->a.store.claims, "brand-new"), 0);
}

/*
 * class del on a class the agent gave automatically: the class goes and
 * the command succeeds (it used to take the class back, then fail with
 * "no such entry").
 */
static void test_class_del_automatic(void **state)
{
	struct fixture *f = *state;
	struct mx_prefix p;
	struct mx_class_ref ref;
	char err[128];

	assert_int_equal(mx_parse_prefix("198.18.9.9", &p, err, sizeof(err)), 0);
	f->a.cfg.ptr_class = 1;
	assert_int_equal(senders_auto(&f->a.senders, &p, MX_AUTO_PTR, false), 1);
	assert_int_equal(mx_table_get(&f->a.store.classes, &p, &ref), 0);
	assert_int_equal(run(f, false, "class del 198.18.9.9"), 0);
	assert_int_equal(f->err_len, 0);
	assert_int_not_equal(mx_table_get(&f->a.store.classes, &p, &ref), 0);
	assert_int_equal(mx_verdict_find(&f->a.senders.verdict, &p)->auto_class, 0);
	/* Nothing left there: now it is an error. */
	assert_int_not_equal(run(f, false, "class del 198.18.9.9"), 0);
	assert_non_null(strstr(f->err, "no such entry"));
	/* The operator's class is deleted as before. */
	assert_int_equal(run(f, false, "class add 198.18.9.0/24 3"), 0);
	assert_int_equal(run(f, false, "class del 198.18.9.0/24"), 0);
	assert_int_equal(total(&f->a.store.classes), 0);
}

static void test_stats_and_prog(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, true, "stats"), 0);
	assert_non_null(strstr(f->out, "\"drop_banned\":0"));
	assert_int_equal(run(f, true, "prog show"), 0);
	assert_non_null(strstr(f->out, "\"interface\":\"test0\""));
}

static void test_help_requests(void **state)
{
	char *a[] = { "ban", "help", NULL }, *b[] = { "ban", "list", NULL };
	char *s[] = { "stats", NULL }, *h[] = { "help", NULL }, *p[] = { "prog", NULL };

	assert_true(mx_is_help_request(0, NULL));
	assert_true(mx_is_help_request(2, a));
	assert_true(mx_is_help_request(1, h));
	assert_true(mx_is_help_request(1, p));
	assert_false(mx_is_help_request(2, b));
	assert_false(mx_is_help_request(1, s));
	assert_true(is_prefix("b", "ban"));
	assert_false(is_prefix("", "ban"));
	assert_false(is_prefix("bans", "ban"));
}

/* req - fill a request buffer from a byte string */
static int req(struct mx_request *r, const char *bytes, size_t len)
{
	char err[128];

	memcpy(r->buf, bytes, len);
	return mx_ctl_parse_request(r, len, err, sizeof(err));
}

static void test_control_request_parser(void **state)
{
	static struct mx_request r;
	static char big[MX_CTL_MAX_REQUEST];
	size_t n;

	assert_int_equal(req(&r, "plain\0ban\0list\0", 15), 0);
	assert_int_equal(r.argc, 2);
	assert_string_equal(r.argv[1], "list");
	assert_int_equal(req(&r, "json\0", 5), 0);
	assert_int_equal(r.argc, 0);
	assert_int_not_equal(req(&r, "plain\0ban", 9), 0);	/* not NUL-terminated */
	assert_int_not_equal(req(&r, "shout\0ban\0", 10), 0);	/* unknown mode */
	assert_int_not_equal(req(&r, "", 0), 0);
	/* More than MX_CTL_MAX_ARGS arguments. */
	memcpy(big, "plain", 6);
	n = 6;
	for (int i = 0; i <= MX_CTL_MAX_ARGS; i++) {
		big[n++] = 'x';
		big[n++] = '\0';
	}
	assert_int_not_equal(req(&r, big, n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ban_add_exact_and_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban_show_finds_covering_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban_list_json_and_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_trap_bans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_table_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_set_writes_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_add_list_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reason_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_class_del_automatic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_and_prog, setup, teardown),
		cmocka_unit_test(test_help_requests),
		cmocka_unit_test(test_control_request_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
