// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_stats.c - mxguard stats: verdict counters summed over CPUs
 */
#include <string.h>

#include "agent.h"
#include "commands.h"
#include "counters.h"

/* counter - one of the agent's own counters, if it has a stats name */
static void counter(const struct agent_counter *k, uint64_t v, void *arg)
{
	struct mx_cmd_ctx *c = arg;

	if (!k->stat)
		return;
	if (c->json)
		jsonw_uint_field(c->jw, k->stat, v);
	else
		fprintf(c->out, "%-24s %18llu\n", k->stat, (unsigned long long)v);
}

/* do_show - stats [show] */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	uint64_t sums[MX_STAT__MAX];
	int r;

	if (argc)
		return BAD_ARG();
	r = mx_stats_read(c->agent->dp.stats_fd, sums);
	if (r) {
		p_err(c, "cannot read counters: %s", strerror(-r));
		return -1;
	}
	if (c->json)
		jsonw_start_object(c->jw);
	for (int i = 0; i < MX_STAT__MAX; i++) {
		if (c->json)
			jsonw_uint_field(c->jw, mx_stat_name(i), sums[i]);
		else
			fprintf(c->out, "%-24s %18llu\n", mx_stat_name(i), (unsigned long long)sums[i]);
	}
	agent_counters(c->agent, counter, c);
	if (c->json)
		jsonw_end_object(c->jw);
	return 0;
}

static const struct cmd cmds[] = {
	{ "show",	do_show },
	{ "list",	do_show },
	{ "help",	help_stats },
	{ 0 }
};

int do_stats(struct mx_cmd_ctx *c, int argc, char **argv)
{
	if (argc == 0)
		return do_show(c, argc, argv);
	return cmd_select(c, cmds, argc, argv, help_stats);
}
