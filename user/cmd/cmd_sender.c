// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_sender.c - mxguard sender { show | list | trap | spam | clean | forget }
 * DESCRIPTION
 *	What the verdict engine knows of senders, and the way to tell it
 *	more from outside Postfix (a content filter, another MX, a script):
 *
 *	    sender trap ADDR {spam|backscatter} [count N]
 *	    sender spam ADDR        mail from ADDR was classified as spam
 *	    sender clean ADDR       a clean sample from ADDR: delisted at the next
 *	                            delist_time, unless spam comes first
 *	    sender delist ADDR      an operator ends ADDR's listing now
 *
 *	Each is journalled before it is acknowledged, as bans are.
 *
 *	The engine's times are on the boot clock (verdict.h): what is shown
 *	is how long ago or how long from now; last_ban, the one instant
 *	shown, is Unix time worked out from last_ban_ago_s.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "commands.h"

/* until_text - "23h59m", "permanent", "-" */
static void until_text(int64_t until, int64_t now_s, char *buf, size_t len)
{
	if (until == MX_FOREVER)
		snprintf(buf, len, "permanent");
	else if (until <= now_s)
		snprintf(buf, len, "-");
	else
		mx_format_duration((uint64_t)(until - now_s) * MX_NS_PER_S, buf, len);
}

/* print_sender - one sender as a JSON object or a text row */
static void print_sender(struct mx_cmd_ctx *c, const struct mx_sender *e, int64_t now_s)
{
	struct mx_verdict *v = &c->agent->senders.verdict;
	uint32_t spam = mx_sender_hits(v, e, MX_TRAP_SPAM, now_s);
	uint32_t bs = mx_sender_hits(v, e, MX_TRAP_BACKSCATTER, now_s);
	bool listed = mx_sender_listed(v, e, now_s);
	bool delisting = mx_sender_delisting(v, e, now_s);
	uint32_t per_min = mx_sender_messages(e, 60000, (int64_t)(mx_now_ns() / 1000000));
	uint32_t single = mx_sender_single(v, e, now_s);
	char pfx[64], ban[32], lst[32], cls[16], dl[32];

	mx_format_prefix(&e->src, pfx, sizeof(pfx));
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "sender", pfx);
		jsonw_uint_field(c->jw, "spamtrap_hits", spam);
		jsonw_uint_field(c->jw, "backscatter_hits", bs);
		jsonw_uint_field(c->jw, "bans_in_a_row", e->offenses);
		if (e->last_ban) {
			jsonw_int_field(c->jw, "last_ban", mx_wall_s() - (now_s - e->last_ban));
			jsonw_int_field(c->jw, "last_ban_ago_s", now_s - e->last_ban);
		} else {
			jsonw_null_field(c->jw, "last_ban");
			jsonw_null_field(c->jw, "last_ban_ago_s");
		}
		jsonw_bool_field(c->jw, "banned", e->ban_until > now_s);
		if (e->ban_until == MX_FOREVER)
			jsonw_null_field(c->jw, "ban_ends_in_s");
		else
			jsonw_int_field(c->jw, "ban_ends_in_s", e->ban_until > now_s ? e->ban_until - now_s : 0);
		jsonw_bool_field(c->jw, "listed", listed);
		if (listed) {
			jsonw_int_field(c->jw, "listed_since", mx_wall_s() - (now_s - e->listed_since));
			if (e->listed_until == MX_FOREVER)
				jsonw_null_field(c->jw, "listed_ends_in_s");
			else
				jsonw_int_field(c->jw, "listed_ends_in_s", e->listed_until - now_s);
		} else {
			jsonw_null_field(c->jw, "listed_since");
			jsonw_null_field(c->jw, "listed_ends_in_s");
		}
		if (delisting) {
			jsonw_int_field(c->jw, "delisting_at", e->delist_wall_s);
			jsonw_int_field(c->jw, "delisting_in_s", e->delist_wall_s - mx_wall_s());
		} else {
			jsonw_null_field(c->jw, "delisting_at");
			jsonw_null_field(c->jw, "delisting_in_s");
		}
		jsonw_uint_field(c->jw, "spam_mails", e->spam_mails);
		jsonw_uint_field(c->jw, "clean_samples", e->samples);
		jsonw_uint_field(c->jw, "messages", e->messages);
		jsonw_uint_field(c->jw, "messages_last_minute", per_min);
		jsonw_uint_field(c->jw, "one_message_sessions", single);
		if (e->auto_class) {
			jsonw_uint_field(c->jw, "auto_class", e->auto_class);
			jsonw_name(c->jw, "auto_reasons");
			jsonw_start_array(c->jw);
			if (e->auto_reasons & MX_AUTO_PTR)
				jsonw_string(c->jw, "ptr");
			if (e->auto_reasons & MX_AUTO_SPF)
				jsonw_string(c->jw, "spf");
			if (e->auto_reasons & MX_AUTO_DNSBL)
				jsonw_string(c->jw, "dnsbl");
			if (e->auto_reasons & MX_AUTO_SINGLE)
				jsonw_string(c->jw, "one_message");
			jsonw_end_array(c->jw);
			jsonw_int_field(c->jw, "auto_class_ends_in_s",
					e->auto_class_until > now_s ? e->auto_class_until - now_s : 0);
		} else {
			jsonw_null_field(c->jw, "auto_class");
		}
		jsonw_end_object(c->jw);
		return;
	}
	until_text(e->ban_until, now_s, ban, sizeof(ban));
	if (listed)
		until_text(e->listed_until, now_s, lst, sizeof(lst));
	else
		snprintf(lst, sizeof(lst), "-");
	if (delisting)
		mx_format_duration((uint64_t)(e->delist_wall_s > mx_wall_s() ?
					      e->delist_wall_s - mx_wall_s() : 0) * MX_NS_PER_S,
				   dl, sizeof(dl));
	else
		snprintf(dl, sizeof(dl), "-");
	if (e->auto_class)
		snprintf(cls, sizeof(cls), "%u", e->auto_class);
	else
		snprintf(cls, sizeof(cls), "-");
	fprintf(c->out, "%-43s %5u/%-5u %5u/%-5u %4u  %-10s %-10s %-10s %-5s %7u %7u\n", pfx,
		spam, v->s.trap_hits[MX_TRAP_SPAM], bs, v->s.trap_hits[MX_TRAP_BACKSCATTER],
		e->offenses, ban, lst, dl, cls, per_min, single);
}

static void header(struct mx_cmd_ctx *c)
{
	if (!c->json)
		fprintf(c->out, "%-43s %-11s %-11s %-5s %-10s %-10s %-10s %-5s %7s %7s\n", "SENDER",
			"SPAMTRAP", "BACKSCATTER", "BANS", "BANNED", "LISTED", "DELISTING", "CLASS",
			"MSG/MIN", "ONE-MSG");
}

/* parse_addr - one address argument */
static int parse_addr(struct mx_cmd_ctx *c, const char *s, struct mx_prefix *p)
{
	char err[160];

	if (mx_parse_addr(s, p, err, sizeof(err))) {
		p_err(c, "%s", err);
		return -1;
	}
	return 0;
}

/* only_addr - the command's one argument, an address */
static int only_addr(struct mx_cmd_ctx *c, int argc, char **argv, struct mx_prefix *p)
{
	REQ_ARGS(1);
	if (parse_addr(c, *argv, p))
		return -1;
	if (argc > 1) {
		NEXT_ARG();
		return BAD_ARG();
	}
	return 0;
}

/* do_show - sender show ADDR */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct mx_prefix p, key;
	const struct mx_sender *e;

	if (only_addr(c, argc, argv, &p))
		return -1;
	mx_verdict_key(&p, c->agent->settings.src_len4, c->agent->settings.src_len6, &key);
	e = mx_verdict_find(&c->agent->senders.verdict, &key);
	if (!e) {
		if (c->json)
			jsonw_null(c->jw);
		else
			fprintf(c->out, "nothing is known of %s\n", *argv);
		return 0;
	}
	header(c);
	print_sender(c, e, senders_now(&c->agent->senders));
	return 0;
}

struct list_arg {
	struct mx_cmd_ctx *c;
	int64_t now_s;
	int filter;	/* 0 all, 1 listed, 2 banned, 3 trapped, 4 delisting, 5 classed */
};

static int list_one(const struct mx_sender *e, void *arg)
{
	struct list_arg *la = arg;
	struct mx_verdict *v = &la->c->agent->senders.verdict;

	if ((la->filter == 1 && !mx_sender_listed(v, e, la->now_s)) ||
	    (la->filter == 4 && !mx_sender_delisting(v, e, la->now_s)) ||
	    (la->filter == 5 && !e->auto_class) ||
	    (la->filter == 2 && e->ban_until <= la->now_s) ||
	    (la->filter == 3 && !mx_sender_hits(v, e, MX_TRAP_SPAM, la->now_s) &&
	     !mx_sender_hits(v, e, MX_TRAP_BACKSCATTER, la->now_s)))
		return 0;
	print_sender(la->c, e, la->now_s);
	return ferror(la->c->out) ? -EPIPE : 0;
}

/*
 * A listing of a million senders is a job: a few buckets of the engine's
 * table a slice, written only while the client reads (as ban list).
 */
struct list_job {
	struct mx_job job;
	struct list_arg la;
	uint32_t cursor, nbuckets;
};

#define LIST_SLICE	64	/* buckets */

static int list_step(struct mx_job *j, struct mx_cmd_ctx *c, uint64_t deadline_us)
{
	struct list_job *lj = (struct list_job *)j;
	struct mx_verdict *v = &c->agent->senders.verdict;
	int r = 0;

	lj->la.c = c;	/* the context moves with the job */
	for (;;) {
		if (v->nbuckets != lj->nbuckets) {
			p_err(c, "the sender table was resized (a reload): list again");
			r = -1;
			break;
		}
		if (mx_mono_us() >= deadline_us)
			return 1;
		if (c->fd > 0) {
			struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

			if (poll(&pfd, 1, 0) != 1)
				return 2;	/* the client reads slowly: wait for it */
		}
		r = mx_verdict_walk(v, &lj->cursor, LIST_SLICE, list_one, &lj->la);
		fflush(c->out);
		if (r < 0 || ferror(c->out)) {
			r = -1;
			break;
		}
		if (r == 1) {
			r = 0;
			break;
		}
	}
	if (c->json)
		jsonw_end_array(c->jw);
	j->ret = r;
	return 0;
}

static void list_free(struct mx_job *j)
{
	free(j);
}

/* do_list - sender list [listed | delisting | banned | trapped | classed] */
static int do_list(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct list_job *lj;
	int filter = 0;

	if (argc) {
		if (is_prefix(*argv, "listed"))
			filter = 1;
		else if (is_prefix(*argv, "delisting"))
			filter = 4;
		else if (is_prefix(*argv, "classed"))
			filter = 5;
		else if (is_prefix(*argv, "banned"))
			filter = 2;
		else if (is_prefix(*argv, "trapped"))
			filter = 3;
		else
			return BAD_ARG();
		if (argc > 1) {
			NEXT_ARG();
			return BAD_ARG();
		}
	}
	lj = calloc(1, sizeof(*lj));
	if (!lj) {
		p_err(c, "out of memory");
		return -1;
	}
	lj->la = (struct list_arg){ .c = c, .now_s = senders_now(&c->agent->senders),
				    .filter = filter };
	lj->nbuckets = c->agent->senders.verdict.nbuckets;
	lj->job.step = list_step;
	lj->job.free = list_free;
	if (c->json)
		jsonw_start_array(c->jw);
	header(c);
	return mx_cmd_job(c, &lj->job);
}

/* report - what a verdict did, for people and for scripts */
static void report(struct mx_cmd_ctx *c, const char *addr, const struct sender_result *res)
{
	char ttl[32] = "permanently";

	if (res->banned && res->d.until != MX_FOREVER) {
		char d[24];

		mx_format_duration((uint64_t)(res->d.until - mx_now_s()) * MX_NS_PER_S, d,
				   sizeof(d));
		snprintf(ttl, sizeof(ttl), "for %s", d);
	}
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_bool_field(c->jw, "allowlisted", res->allowlisted);
		jsonw_bool_field(c->jw, "banned", res->banned);
		jsonw_end_object(c->jw);
		return;
	}
	if (res->allowlisted)
		p_info(c, "Note: %s is allowlisted: never banned, never listed; nothing recorded.",
		       addr);
	else if (res->banned)
		p_info(c, "%s banned %s: %u %s-trap hits (ban %u in a row).", addr, ttl, res->d.hits,
		       mx_trap_kind_name(res->d.kind), res->d.offense);
}

/* do_trap - sender trap ADDR {spam|backscatter} [count N] */
static int do_trap(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct sender_result res;
	enum mx_trap_kind kind;
	struct mx_prefix p;
	uint32_t count = 1;
	const char *addr;
	char err[320];

	REQ_ARGS(2);
	if (parse_addr(c, *argv, &p))
		return -1;
	addr = *argv;
	NEXT_ARG();
	if (mx_trap_kind_parse(*argv, &kind)) {
		p_err(c, "'%s' is no trap kind: use spam or backscatter", *argv);
		return -1;
	}
	NEXT_ARG();
	if (argc) {
		if (!is_prefix(*argv, "count"))
			return BAD_ARG();
		NEXT_ARG();
		REQ_ARGS(1);
		if (mx_parse_u32(*argv, 1, 1000000, &count, err, sizeof(err))) {
			p_err(c, "count: %s", err);
			return -1;
		}
		NEXT_ARG();
		if (argc)
			return BAD_ARG();
	}
	if (senders_trap(&c->agent->senders, &p, kind, count, &res, err, sizeof(err))) {
		p_err(c, "cannot record the trap hit: %s", err);
		return -1;
	}
	report(c, addr, &res);
	return 0;
}

/* mail - sender { spam | clean } ADDR */
static int mail(struct mx_cmd_ctx *c, int argc, char **argv, bool spam)
{
	struct sender_result res;
	struct mx_prefix p;
	char err[320];

	if (only_addr(c, argc, argv, &p))
		return -1;
	if (senders_mail(&c->agent->senders, &p, spam, &res, err, sizeof(err))) {
		p_err(c, "cannot record it: %s", err);
		return -1;
	}
	report(c, *argv, &res);
	return 0;
}

static int do_spam(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return mail(c, argc, argv, true);
}

static int do_delist(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return mail(c, argc, argv, false);
}

/* do_clean - sender clean ADDR: a clean sample, the delisting scheduled */
static int do_clean(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct senders *sd = &c->agent->senders;
	struct sender_result res;
	const struct mx_sender *e;
	struct mx_prefix p;
	char err[320], when[64] = "";

	if (only_addr(c, argc, argv, &p))
		return -1;
	if (senders_sample(sd, &p, &res, err, sizeof(err))) {
		p_err(c, "cannot record it: %s", err);
		return -1;
	}
	e = mx_verdict_find(&sd->verdict, &res.key);
	if (e && mx_sender_delisting(&sd->verdict, e, mx_now_s())) {
		time_t t = (time_t)e->delist_wall_s;
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M %Z", &tm);
	}
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_bool_field(c->jw, "allowlisted", res.allowlisted);
		if (when[0])
			jsonw_int_field(c->jw, "delisting_at", e->delist_wall_s);
		else
			jsonw_null_field(c->jw, "delisting_at");
		jsonw_end_object(c->jw);
	} else if (res.allowlisted) {
		report(c, *argv, &res);
	} else if (when[0]) {
		p_info(c, "%s is delisted at %s, unless spam comes first.", *argv, when);
	} else {
		p_info(c, "%s is not listed: nothing to do.", *argv);
	}
	return 0;
}

/* do_forget - sender forget ADDR */
static int do_forget(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct mx_prefix p;
	char err[320];

	if (only_addr(c, argc, argv, &p))
		return -1;
	if (senders_forget(&c->agent->senders, &p, err, sizeof(err))) {
		p_err(c, "cannot forget %s: %s", *argv, err);
		return -1;
	}
	if (c->json)
		jsonw_null(c->jw);
	return 0;
}

static const struct cmd cmds[] = {
	{ "show",	do_show },
	{ "list",	do_list },
	{ "trap",	do_trap },
	{ "spam",	do_spam },
	{ "clean",	do_clean },
	{ "delist",	do_delist },
	{ "forget",	do_forget },
	{ "help",	help_sender },
	{ 0 }
};

int do_sender(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_sender);
}
