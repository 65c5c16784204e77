// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_stats.c - mxguard stats: verdict counters summed over CPUs
 */
#include <string.h>

#include "agent.h"
#include "commands.h"
#include "policyd.h"
#include "spf.h"

/* counter - one agent-side counter */
static void counter(struct mx_cmd_ctx *c, const char *name, uint64_t v)
{
	if (c->json)
		jsonw_uint_field(c->jw, name, v);
	else
		fprintf(c->out, "%-24s %18llu\n", name, (unsigned long long)v);
}

/* agent_counters - what the agent itself counts, beside the programs' */
static void agent_counters(struct mx_cmd_ctx *c)
{
	const struct agent *a = c->agent;
	struct policy_stats ps;
	struct spf_stats ss;

	policyd_stats(a, &ps);
	spf_stats(a, &ss);

	counter(c, "conn_halfopen_released", a->conn.stats.halfopen_released);
	counter(c, "conn_steered_released", a->conn.stats.steered_released);
	counter(c, "conn_corrections", a->conn.stats.corrections);
	counter(c, "conn_adopted", a->conn.stats.adopted);
	counter(c, "conn_adopted_closed", a->conn.stats.adopted_closed);
	counter(c, "conn_sweeps", a->conn.stats.sweeps);
	counter(c, "conn_reconcile_skipped", a->conn.stats.reconcile_skipped);
	counter(c, "conn_cookie_judge", a->conn.cookies.link_fd > 0);
	counter(c, "loop_busy_max_us", a->loop.stats.busy_max_us);
	counter(c, "ban_shared", a->store.claims.shared_n);
	counter(c, "reason_fallbacks", a->store.claims.reason_fallbacks);
	counter(c, "reasons_freed", a->store.claims.reasons_freed);
	counter(c, "senders", a->senders.verdict.count);
	counter(c, "sender_spamtrap_hits", a->senders.verdict.hits[MX_TRAP_SPAM]);
	counter(c, "sender_backscatter_hits", a->senders.verdict.hits[MX_TRAP_BACKSCATTER]);
	counter(c, "sender_hits_ignored", a->senders.trap_hits_ignored);
	counter(c, "sender_bans", a->senders.verdict.bans);
	counter(c, "sender_listed", a->senders.verdict.listed);
	counter(c, "sender_delisted", a->senders.verdict.delisted);
	counter(c, "sender_evicted", a->senders.verdict.evicted);
	counter(c, "sender_ptr_classed", a->senders.auto_classed[0]);
	counter(c, "sender_spf_classed", a->senders.auto_classed[1]);
	counter(c, "sender_dnsbl_classed", a->senders.auto_classed[2]);
	counter(c, "dnsbl_listed", ss.dnsbl[MX_DNSBL_LISTED]);
	counter(c, "dnsbl_clean", ss.dnsbl[MX_DNSBL_CLEAN]);
	counter(c, "dnsbl_error", ss.dnsbl[MX_DNSBL_ERROR]);
	counter(c, "sender_unclassed", a->store.auto_unclassed);
	counter(c, "spf_checks", ss.queued);
	counter(c, "spf_checks_dropped", ss.dropped);
	counter(c, "spf_pass", ss.results[MX_SPF_PASS]);
	counter(c, "spf_fail", ss.results[MX_SPF_FAIL]);
	counter(c, "spf_softfail", ss.results[MX_SPF_SOFTFAIL]);
	counter(c, "spf_temperror", ss.results[MX_SPF_TEMPERROR]);
	counter(c, "spf_none", ss.results[MX_SPF_NONE]);
	counter(c, "policy_requests", ps.requests);
	counter(c, "policy_malformed", ps.malformed);
	counter(c, "policy_banned", ps.banned);
	counter(c, "policy_rejected_listed", ps.rejected_listed);
	counter(c, "restore_clock_suspect", a->store.state.restore_clock_suspect);
}

/* do_show - stats [show] */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	uint64_t sums[MX_STAT__MAX];
	int r;

	if (argc)
		return BAD_ARG();
	r = mx_stats_read(c->agent->stats_fd, sums);
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
	agent_counters(c);
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
