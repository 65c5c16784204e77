// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_ban.c - mxguard ban { add | del | list | show }
 * DESCRIPTION
 *	Bans live in the data plane's ban tables; the reason text is
 *	interned in the reasons map. A ban on an allowlisted source is
 *	stored but has no effect while the allowlist entry stands: said so.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "commands.h"
#include "store.h"

/* ttl_text - "23h59m", "permanent" or "expired" */
static void ttl_text(const struct mx_ban *b, uint64_t now_ns, char *buf, size_t len)
{
	if (!b->expires_ns)
		snprintf(buf, len, "permanent");
	else if (b->expires_ns <= now_ns)
		snprintf(buf, len, "expired");
	else
		mx_format_duration(b->expires_ns - now_ns, buf, len);
}

/* print_ban - one ban as a JSON object or a text row */
static void print_ban(struct mx_cmd_ctx *c, const struct mx_prefix *p,
		      const struct mx_ban *b, uint64_t now_ns)
{
	char pfx[64], ttl[32], reason[MX_REASON_LEN], who[64];

	mx_format_prefix(p, pfx, sizeof(pfx));
	ttl_text(b, now_ns, ttl, sizeof(ttl));
	mx_reason_text(c->agent->store.reasons_fd, b->reason, reason, sizeof(reason));
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "prefix", pfx);
		jsonw_bool_field(c->jw, "active", !b->expires_ns || b->expires_ns > now_ns);
		if (b->expires_ns)
			jsonw_uint_field(c->jw, "expires_in_s",
					 b->expires_ns > now_ns ? (b->expires_ns - now_ns) / MX_NS_PER_S : 0);
		else
			jsonw_null_field(c->jw, "expires_in_s");
		jsonw_string_field(c->jw, "reason", reason);
		jsonw_string_field(c->jw, "owner",
				   mx_bans_owner_text(&c->agent->store.claims, b->flags, who, sizeof(who)));
		jsonw_end_object(c->jw);
	} else {
		fprintf(c->out, "%-43s %-12s %s\n", pfx, ttl, reason[0] ? reason : "-");
	}
}

/* note_others - say which other owner's ban is in force, if one is */
static void note_others(struct mx_cmd_ctx *c, const struct mx_prefix *p, uint32_t mine)
{
	struct mx_ban claims[8], *top = &claims[0];
	char who[64], ttl[32];
	size_t n = mx_bans_claims(&c->agent->store.claims, p, claims, 8);

	if (!n || (top->flags & mine))
		return;
	ttl_text(top, mx_now_ns(), ttl, sizeof(ttl));
	p_info(c, "Note: %s bans it too, longer (%s): that ban is in force.",
	       mx_bans_owner_text(&c->agent->store.claims, top->flags, who, sizeof(who)), ttl);
}

/*
 * publish - the operator's ban to CrowdSec too (ban add ... publish, or
 * crowdsec_push_operator_bans): journalled and queued; crowdsecd.c pushes it
 */
static void publish(struct mx_cmd_ctx *c, const struct mx_prefix *p, const struct mx_ban *ban)
{
	struct agent *a = c->agent;
	int64_t wall = mx_wall_ns() / MX_NS_PER_S;
	struct mx_cs_push cp = { .p = *p, .at_wall_s = wall, .scenario = "mxguard/manual" };
	char err[320];

	if (!a->cfg.crowdsec_machine_id[0]) {
		p_info(c, "Note: not published: no crowdsec_machine_id is set.");
		return;
	}
	if (ban->expires_ns)
		cp.until_wall_s = wall + (int64_t)((ban->expires_ns - mx_now_ns()) / MX_NS_PER_S);
	if (state_cs_push(&a->store, &cp, err, sizeof(err)))
		p_info(c, "Note: the ban holds, but it cannot be published: %s", err);
}

/* do_add - ban add PREFIX [ttl DURATION | permanent] [reason TEXT] [publish] */
static int do_add(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	uint64_t now_ns = mx_now_ns();
	struct ban_opts o = { .ttl_ns = a->cfg.ban_ttl_ns };
	struct mx_ban ban = { .added_ns = now_ns, .flags = MX_BAN_F_MANUAL };
	const char *reason;
	struct mx_allow allow;
	struct mx_prefix p, hit;
	bool pub = a->cfg.crowdsec_push_operator_bans;
	unsigned int cut;
	char err[320];

	REQ_ARGS(1);
	if (mx_parse_prefix(*argv, &p, err, sizeof(err))) {
		p_err(c, "%s", err);
		return -1;
	}
	NEXT_ARG();
	/* "publish" may end the options; "reason publish" is a reason. */
	if (argc && !strcmp(argv[argc - 1], "publish") &&
	    (argc < 2 || !is_prefix(argv[argc - 2], "reason"))) {
		pub = true;
		argc--;
	}
	if (cmd_ban_opts(c, argc, argv, &o, false))
		return -1;
	reason = o.reason ? o.reason : "manual";
	ban.expires_ns = o.permanent ? 0 : now_ns + o.ttl_ns;
	/* All reason texts in use: the ban is made with the generic one. */
	ban.reason = mx_bans_reason(&a->store.claims, reason);

	/* On disk first: an acknowledged ban survives a crash right after (store.h). */
	if (store_ban_add(&a->store, &p, &ban, reason, &cut, err, sizeof(err))) {
		p_err(c, "cannot add ban: %s", err);
		return -1;
	}
	if (!ban.reason && strcmp(reason, "manual"))
		p_info(c, "Note: all reason texts are in use; the ban holds with the generic reason.");
	if (pub)
		publish(c, &p, &ban);
	note_others(c, &p, MX_BAN_F_MANUAL);
	if (cut)
		p_info(c, "Note: ended %u open connection%s of the banned source%s.", cut,
		       cut == 1 ? "" : "s", p.len == (p.family == AF_INET ? 32 : 128) ? "" : "s");
	if (mx_table_match(&a->store.allows, &p, &hit, &allow) == 0) {
		char h[64];

		mx_format_prefix(&hit, h, sizeof(h));
		p_info(c, "Note: allowlist entry %s covers this ban: it has no effect while that stands.",
		       h);
	}
	if (c->json)
		jsonw_null(c->jw);
	return 0;
}

/*
 * do_del - ban del PREFIX: the operator's and the verdict engine's ban
 * on exactly PREFIX. A blocklist's stays: it belongs to its list file.
 */
static int do_del(struct mx_cmd_ctx *c, int argc, char **argv)
{
	const uint32_t kinds = MX_BAN_F_MANUAL | MX_BAN_F_AUTOMATIC;
	struct agent *a = c->agent;
	struct mx_ban claims[8];
	struct mx_prefix p;
	char err[320], who[64];
	size_t n;
	bool mine = false;

	if (cmd_prefix_arg(c, argc, argv, &p))
		return -1;
	n = mx_bans_claims(&a->store.claims, &p, claims, 8);
	for (size_t i = 0; i < n; i++)
		mine |= (claims[i].flags & kinds) != 0;
	if (!mine) {
		if (n)
			p_err(c, "cannot delete ban %s: it is held by %s only ('blocklist del', or "
			      "'allow add' to let it in)", *argv,
			      mx_bans_owner_text(&a->store.claims, claims[0].flags, who, sizeof(who)));
		else
			p_err(c, "cannot delete ban %s: no such entry", *argv);
		return -1;
	}
	if (store_ban_del(&a->store, &p, kinds, err, sizeof(err))) {
		p_err(c, "cannot delete ban %s: %s", *argv, err);
		return -1;
	}
	if (mx_bans_claims(&a->store.claims, &p, claims, 1))
		p_info(c, "Note: %s still bans it.",
		       mx_bans_owner_text(&a->store.claims, claims[0].flags, who, sizeof(who)));
	if (c->json)
		jsonw_null(c->jw);
	return 0;
}

struct list_arg {
	struct mx_cmd_ctx *c;	/* first: cmd_table_walk keeps it current */
	struct mx_prefix within;
	bool has_within;
	char reason[MX_REASON_LEN];	/* only bans whose reason contains this */
	uint64_t now_ns;
	unsigned long count;
};

/* list_one - print a ban if it falls within the filter */
static int list_one(const struct mx_prefix *p, const void *val, void *arg)
{
	struct list_arg *la = arg;

	if (la->has_within && !mx_prefix_contains(&la->within, p))
		return 0;
	if (la->reason[0]) {
		char text[MX_REASON_LEN];

		mx_reason_text(la->c->agent->store.reasons_fd, ((const struct mx_ban *)val)->reason,
			       text, sizeof(text));
		if (!strstr(text, la->reason))
			return 0;
	}
	print_ban(la->c, p, val, la->now_ns);
	la->count++;
	return ferror(la->c->out) ? -EPIPE : 0;
}

/* list_done - the end of the list */
static int list_done(struct mx_cmd_ctx *c, void *arg, int r)
{
	if (c->json)
		jsonw_end_array(c->jw);
	if (r) {
		p_err(c, "ban list stopped: %s", strerror(-r));
		return -1;
	}
	return 0;
}

/*
 * do_list - ban list [PREFIX] [reason TEXT]: every ban, or those
 * matching, streamed a slice at a time (a million bans never hold the
 * agent, and a slow reader only itself)
 */
static int do_list(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct list_arg la = { .c = c, .now_ns = mx_now_ns() };
	char err[160];

	while (argc) {
		if (is_prefix(*argv, "reason")) {
			NEXT_ARG();
			REQ_ARGS(1);
			snprintf(la.reason, sizeof(la.reason), "%s", *argv);
		} else if (!la.has_within && mx_parse_prefix(*argv, &la.within, err, sizeof(err)) == 0) {
			la.has_within = true;
		} else {
			p_err(c, "%s", la.has_within ? "what is that?" : err);
			return -1;
		}
		NEXT_ARG();
	}
	if (c->json)
		jsonw_start_array(c->jw);
	else
		fprintf(c->out, "%-43s %-12s %s\n", "PREFIX", "EXPIRES", "REASON");
	return cmd_table_walk(c, &c->agent->store.bans, list_one, list_done, &la, sizeof(la));
}

/* do_show - ban show ADDR: the ban the data plane applies to ADDR */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct mx_prefix p, hit;
	struct mx_ban ban;

	if (argc == 0)
		return do_list(c, argc, argv);
	if (cmd_prefix_arg(c, argc, argv, &p))
		return -1;
	if (mx_table_match(&c->agent->store.bans, &p, &hit, &ban)) {
		if (c->json) {
			jsonw_null(c->jw);
		} else {
			fprintf(c->out, "%s is not banned\n", *argv);
		}
		return 0;
	}
	{
		struct mx_ban claims[8];
		size_t n = mx_bans_claims(&c->agent->store.claims, &hit, claims, 8);

		if (!n) {
			claims[0] = ban;
			n = 1;
		}
		if (!c->json)
			fprintf(c->out, "%-43s %-12s %s\n", "PREFIX", "EXPIRES", "REASON");
		print_ban(c, &hit, &claims[0], mx_now_ns());
		/* Other owners' bans, shorter: in force if the first goes. */
		for (size_t i = 1; i < n && !c->json; i++) {
			char who[64], ttl[32], reason[MX_REASON_LEN];

			ttl_text(&claims[i], mx_now_ns(), ttl, sizeof(ttl));
			mx_reason_text(c->agent->store.reasons_fd, claims[i].reason, reason, sizeof(reason));
			fprintf(c->out, "  also: %s, %s, %s\n",
				mx_bans_owner_text(&c->agent->store.claims, claims[i].flags, who, sizeof(who)),
				ttl, reason[0] ? reason : "-");
		}
	}
	return 0;
}

static const struct cmd cmds[] = {
	{ "add",	do_add },
	{ "delete",	do_del },
	{ "list",	do_list },
	{ "show",	do_show },
	{ "help",	help_ban },
	{ 0 }
};

int do_ban(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_ban);
}
