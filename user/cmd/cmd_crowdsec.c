// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_crowdsec.c - mxguard crowdsec [show]: the agent and CrowdSec's Local API
 * DESCRIPTION
 *	What the bouncer and the machine (crowdsecd.c) know: whether they
 *	run, the state of the last poll, when LAPI's decisions were last
 *	applied, how many of its bans are in force, and the pushes of
 *	mxguard's own bans. The key and the password are never shown.
 */
#include "agent.h"
#include "commands.h"
#include "crowdsecd.h"

/* do_show - crowdsec show: one JSON object, or its fields as lines */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct crowdsec_info i;
	int64_t now = mx_wall_ns() / MX_NS_PER_S;

	if (argc)
		return BAD_ARG();
	crowdsecd_info(c->agent, &i);
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_bool_field(c->jw, "enabled", i.enabled);
		jsonw_string_field(c->jw, "url", i.url);
		jsonw_string_field(c->jw, "state", i.state);
		if (i.last_sync) {
			jsonw_int_field(c->jw, "last_sync", i.last_sync);
			jsonw_int_field(c->jw, "last_sync_ago_s", now - i.last_sync);
		} else {
			jsonw_null_field(c->jw, "last_sync");
			jsonw_null_field(c->jw, "last_sync_ago_s");
		}
		jsonw_uint_field(c->jw, "decisions", i.decisions);
		jsonw_uint_field(c->jw, "applied", i.stats.applied);
		jsonw_uint_field(c->jw, "removed", i.stats.removed);
		jsonw_uint_field(c->jw, "ignored", i.stats.ignored);
		jsonw_uint_field(c->jw, "errors", i.stats.errors);
		if (i.last_error)
			jsonw_string_field(c->jw, "last_error", i.last_error);
		else
			jsonw_null_field(c->jw, "last_error");
		jsonw_bool_field(c->jw, "machine", i.machine);
		jsonw_uint_field(c->jw, "pushed", i.stats.pushed);
		jsonw_uint_field(c->jw, "pushes_pending", i.pushes_pending);
		jsonw_uint_field(c->jw, "push_errors", i.stats.push_errors);
		jsonw_end_object(c->jw);
		return 0;
	}
	if (!i.enabled) {
		fprintf(c->out, "crowdsec: off (set crowdsec_url)\n");
		return 0;
	}
	fprintf(c->out, "url             %s\nstate           %s\n", i.url, i.state);
	if (i.last_sync)
		fprintf(c->out, "last sync       %llds ago\n", (long long)(now - i.last_sync));
	else
		fprintf(c->out, "last sync       never\n");
	fprintf(c->out, "decisions       %llu in force (%llu applied, %llu removed, %llu ignored)\n"
		"errors          %llu%s%s\n",
		(unsigned long long)i.decisions, (unsigned long long)i.stats.applied,
		(unsigned long long)i.stats.removed, (unsigned long long)i.stats.ignored,
		(unsigned long long)i.stats.errors, i.last_error ? "; last: " : "",
		i.last_error ? i.last_error : "");
	fprintf(c->out, "machine         %s: %llu pushed, %llu pending, %llu errors\n",
		i.machine ? "on" : "off", (unsigned long long)i.stats.pushed,
		(unsigned long long)i.pushes_pending, (unsigned long long)i.stats.push_errors);
	return 0;
}

static const struct cmd cmds[] = {
	{ "show",	do_show },
	{ "list",	do_show },
	{ "help",	help_crowdsec },
	{ 0 }
};

int do_crowdsec(struct mx_cmd_ctx *c, int argc, char **argv)
{
	if (!argc)
		return do_show(c, 0, argv);
	return cmd_select(c, cmds, argc, argv, help_crowdsec);
}
