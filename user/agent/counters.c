// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	counters.c - the agent's own counters, listed once for stats and metrics
 * DESCRIPTION
 *	One list, AGENT_COUNTERS: `mxguard stats` (cmd_stats.c) prints the
 *	members with a stats name, /metrics (metrics.c) those with a family.
 *	A counter added here appears in both, or in the one it names.
 */
#include <stddef.h>

#include "agent.h"
#include "counters.h"
#include "crowdsecd.h"
#include "policyd.h"
#include "spf.h"
#include "zone.h"
#include "verdictd.h"

/* What the services' counters are read from, once per listing. */
struct view {
	const struct agent *a;
	struct policy_stats ps;
	struct spf_stats ss;
	struct zone_stats zs;
	struct verdict_stats vs;
	struct crowdsec_info cs;
};

#define CONNS_RELEASED	"Pending connections released by the agent because their handshake " \
			"never completed."
#define TRAP_HITS	"Trap hits counted, by trap kind."
#define AUTO_CLASSES	"Senders put into a stricter class (no forward-confirmed PTR, SPF fail, " \
			"DNSBL listing), and taken back out."
#define SPF_CHECKS	"SPF checks of senders by result; dropped: the queue was full."
#define DNSBL_LOOKUPS	"DNSBL lookups of client addresses by result (listed in any zone, in " \
			"none, no answer)."
#define POLICY_REJECTS	"Policy answers that refused a recipient: banned (521) or listed (550)."
#define ZONE_WRITES	"DNSBL zone data files written and put in place (zone_dir), by zone."
#define ZONE_ERRORS	"DNSBL zone writes that failed (each tried again later), by zone."
#define ZONE_ENTRIES	"Entries in the DNSBL zone data files in place, by zone."
#define CONTENT_VERDICTS "Verdicts rspamd pushed, by what spam_actions made of them."
#define CS_DECISIONS	"CrowdSec LAPI decisions: bans applied (new or renewed), removed (LAPI " \
			"deleted them), ignored (another type or scope, or over)."
#define CS_PUSHES	"mxguard's own bans pushed to CrowdSec LAPI as alerts: acknowledged, or " \
			"failed (each retried)."
#define PUSHES_REFUSED	"Pushes to the content-verdict endpoint refused: no or wrong credentials " \
			"(401), malformed (400), too large (413), not from loopback (403), other " \
			"(404, 405, 411, 414, 431, 505)."

/*
 * X(id, stats name, family, label, type, help, per_unit, value): v is the
 * struct view, a its agent.
 */
#define AGENT_COUNTERS(X)									\
	X(released_admitted, "conn_halfopen_released", "mxguard_connections_released_total",	\
	  "kind=\"admitted\"", "counter", CONNS_RELEASED, 1, a->conn.stats.halfopen_released)	\
	X(released_steered, "conn_steered_released", "mxguard_connections_released_total",	\
	  "kind=\"steered\"", "counter", CONNS_RELEASED, 1, a->conn.stats.steered_released)	\
	X(corrections, "conn_corrections", "mxguard_connection_count_corrections_total", NULL,	\
	  "counter", "Live-connection counts corrected by reconciliation: a bug if it ever rises.", \
	  1, a->conn.stats.corrections)								\
	X(adopted, "conn_adopted", "mxguard_connections_adopted_total", NULL, "counter",	\
	  "Connections open before the agent started, counted when it started.", 1,		\
	  a->conn.stats.adopted)								\
	X(adopted_closed, "conn_adopted_closed", "mxguard_connections_adopted_closed_total",	\
	  NULL, "counter", "Of the adopted connections, those closed since.", 1,		\
	  a->conn.stats.adopted_closed)								\
	X(sweeps, "conn_sweeps", "mxguard_connection_sweeps_total", NULL, "counter",		\
	  "Passes over the flow tables that released connections without a socket.", 1,	\
	  a->conn.stats.sweeps)									\
	X(reconcile_skipped, "conn_reconcile_skipped", "mxguard_reconciliations_skipped_total",	\
	  NULL, "counter", "Reconciliations left out because the flow tables were too large to "	\
	  "read in one slice.", 1, a->conn.stats.reconcile_skipped)				\
	X(cookie_judge, "conn_cookie_judge", "mxguard_cookie_judge_attached", NULL, "gauge",	\
	  "1 while final ACKs of SYN-cookie handshakes are judged at TC ingress (cookies in "	\
	  "use).", 1, a->conn.cookies.link_fd > 0)						\
	X(loop_busy_max, "loop_busy_max_us", "mxguard_event_loop_busy_max_seconds", NULL,	\
	  "gauge", "The longest turn of the agent's event loop since start: the longest a "	\
	  "request waited.", 1000000, a->loop.stats.busy_max_us)				\
	X(ban_shared, "ban_shared", "mxguard_bans_shared", NULL, "gauge",			\
	  "Banned prefixes that more than one owner (operator, engine, blocklists) bans.", 1,	\
	  a->store.claims.shared_n)								\
	X(reason_fallbacks, "reason_fallbacks", "mxguard_ban_reason_fallbacks_total", NULL,	\
	  "counter", "Bans made with the generic reason because every reason text was in use.", \
	  1, a->store.claims.reason_fallbacks)							\
	X(reasons_freed, "reasons_freed", "mxguard_ban_reasons_freed_total", NULL, "counter",	\
	  "Reason texts freed when no ban named them any more.", 1,				\
	  a->store.claims.reasons_freed)							\
	X(senders, "senders", "mxguard_senders", NULL, "gauge",					\
	  "Senders the verdict engine remembers.", 1, a->senders.verdict.count)		\
	X(hits_spam, "sender_spamtrap_hits", "mxguard_trap_hits_total", "kind=\"spam\"",	\
	  "counter", TRAP_HITS, 1, a->senders.verdict.hits[MX_TRAP_SPAM])			\
	X(hits_backscatter, "sender_backscatter_hits", "mxguard_trap_hits_total",		\
	  "kind=\"backscatter\"", "counter", TRAP_HITS, 1,					\
	  a->senders.verdict.hits[MX_TRAP_BACKSCATTER])						\
	X(hits_ignored, "sender_hits_ignored", "mxguard_trap_hits_ignored_total", NULL,		\
	  "counter", "Trap hits of allowlisted senders, not counted.", 1,			\
	  a->senders.trap_hits_ignored)								\
	X(auto_bans, "sender_bans", "mxguard_automatic_bans_total", NULL, "counter",		\
	  "Bans the verdict engine made (trap hits, repeat offenders).", 1,			\
	  a->senders.verdict.bans)								\
	X(listed, "sender_listed", "mxguard_listings_total", NULL, "counter",			\
	  "Senders listed after mail classified as spam.", 1, a->senders.verdict.listed)	\
	X(delisted, "sender_delisted", "mxguard_delistings_total", NULL, "counter",		\
	  "Senders delisted at once by an operator (sender delist).", 1,			\
	  a->senders.verdict.delisted)								\
	X(delist_scheduled, "sender_delist_scheduled", "mxguard_delistings_scheduled_total",	\
	  NULL, "counter", "Delistings scheduled by a clean sample (at the next delist_time).",	\
	  1, a->senders.verdict.delist_scheduled)						\
	X(samples, "sender_samples", "mxguard_clean_samples_total", NULL, "counter",		\
	  "Clean mails to a samples address.", 1, a->senders.samples)				\
	X(messages, "messages", "mxguard_messages_total", NULL, "counter",			\
	  "Messages counted at END-OF-MESSAGE by the policy service.", 1, v->ps.messages)	\
	X(sessions, "smtp_sessions", "mxguard_smtp_sessions_total", NULL, "counter",		\
	  "SMTP sessions the policy service saw end.", 1, v->ps.sessions)			\
	X(sessions_resumed, "smtp_sessions_resumed", "mxguard_smtp_sessions_resumed_total",	\
	  NULL, "counter", "SMTP sessions first seen mid-way (after a restart): their "		\
	  "messages so far are taken as their transactions.", 1, v->ps.sessions_resumed)	\
	X(evicted, "sender_evicted", "mxguard_senders_evicted_total", NULL, "counter",		\
	  "Senders forgotten because the table was full (sender_entries).", 1,			\
	  a->senders.verdict.evicted)								\
	X(classed_ptr, "sender_ptr_classed", "mxguard_auto_classes_total",			\
	  "change=\"given_ptr\"", "counter", AUTO_CLASSES, 1, a->senders.auto_classed[0])	\
	X(classed_spf, "sender_spf_classed", "mxguard_auto_classes_total",			\
	  "change=\"given_spf\"", "counter", AUTO_CLASSES, 1, a->senders.auto_classed[1])	\
	X(classed_dnsbl, "sender_dnsbl_classed", "mxguard_auto_classes_total",			\
	  "change=\"given_dnsbl\"", "counter", AUTO_CLASSES, 1, a->senders.auto_classed[2])	\
	X(classed_single, "sender_one_message_classed", "mxguard_auto_classes_total",		\
	  "change=\"given_one_message\"", "counter", AUTO_CLASSES, 1,				\
	  a->senders.auto_classed[3])								\
	X(unclassed, "sender_unclassed", "mxguard_auto_classes_total", "change=\"taken_back\"",	\
	  "counter", AUTO_CLASSES, 1, a->store.auto_unclassed)					\
	X(spf_checks, "spf_checks", NULL, NULL, "counter", "", 1, v->ss.queued)			\
	X(spf_pass, "spf_pass", "mxguard_spf_checks_total", "result=\"pass\"", "counter",	\
	  SPF_CHECKS, 1, v->ss.results[MX_SPF_PASS])						\
	X(spf_fail, "spf_fail", "mxguard_spf_checks_total", "result=\"fail\"", "counter",	\
	  SPF_CHECKS, 1, v->ss.results[MX_SPF_FAIL])						\
	X(spf_softfail, "spf_softfail", "mxguard_spf_checks_total", "result=\"softfail\"",	\
	  "counter", SPF_CHECKS, 1, v->ss.results[MX_SPF_SOFTFAIL])				\
	X(spf_temperror, "spf_temperror", "mxguard_spf_checks_total", "result=\"temperror\"",	\
	  "counter", SPF_CHECKS, 1, v->ss.results[MX_SPF_TEMPERROR])				\
	X(spf_none, "spf_none", "mxguard_spf_checks_total", "result=\"none\"", "counter",	\
	  SPF_CHECKS, 1, v->ss.results[MX_SPF_NONE])						\
	X(spf_dropped, "spf_checks_dropped", "mxguard_spf_checks_total", "result=\"dropped\"",	\
	  "counter", SPF_CHECKS, 1, v->ss.dropped)						\
	X(dnsbl_listed, "dnsbl_listed", "mxguard_dnsbl_lookups_total", "result=\"listed\"",	\
	  "counter", DNSBL_LOOKUPS, 1, v->ss.dnsbl[MX_DNSBL_LISTED])				\
	X(dnsbl_clean, "dnsbl_clean", "mxguard_dnsbl_lookups_total", "result=\"clean\"",	\
	  "counter", DNSBL_LOOKUPS, 1, v->ss.dnsbl[MX_DNSBL_CLEAN])				\
	X(dnsbl_error, "dnsbl_error", "mxguard_dnsbl_lookups_total", "result=\"error\"",	\
	  "counter", DNSBL_LOOKUPS, 1, v->ss.dnsbl[MX_DNSBL_ERROR])				\
	X(policy_requests, "policy_requests", "mxguard_policy_requests_total", NULL, "counter", \
	  "Postfix policy requests answered.", 1, v->ps.requests)				\
	X(policy_malformed, "policy_malformed", "mxguard_policy_malformed_total", NULL,		\
	  "counter", "Postfix policy connections closed for a malformed request.", 1,		\
	  v->ps.malformed)									\
	X(policy_banned, "policy_banned", "mxguard_policy_rejections_total",			\
	  "reason=\"banned\"", "counter", POLICY_REJECTS, 1, v->ps.banned)			\
	X(policy_listed, "policy_rejected_listed", "mxguard_policy_rejections_total",		\
	  "reason=\"listed\"", "counter", POLICY_REJECTS, 1, v->ps.rejected_listed)		\
	X(policy_messages, "policy_rejected_messages", "mxguard_policy_rejections_total",	\
	  "reason=\"messages_per_connection\"", "counter", POLICY_REJECTS, 1,			\
	  v->ps.rejected_messages)								\
	X(policy_rate, "policy_rejected_rate", "mxguard_policy_rejections_total",		\
	  "reason=\"messages_per_minute\"", "counter", POLICY_REJECTS, 1, v->ps.rejected_rate) \
	X(policy_size, "policy_rejected_size", "mxguard_policy_rejections_total",		\
	  "reason=\"message_size\"", "counter", POLICY_REJECTS, 1, v->ps.rejected_size)	\
	X(zone_listed_writes, "zone_listed_writes", "mxguard_zone_writes_total",		\
	  "zone=\"listed\"", "counter", ZONE_WRITES, 1, v->zs.writes[ZONE_LISTED])		\
	X(zone_banned_writes, "zone_banned_writes", "mxguard_zone_writes_total",		\
	  "zone=\"banned\"", "counter", ZONE_WRITES, 1, v->zs.writes[ZONE_BANNED])		\
	X(zone_listed_errors, "zone_listed_errors", "mxguard_zone_write_errors_total",	\
	  "zone=\"listed\"", "counter", ZONE_ERRORS, 1, v->zs.errors[ZONE_LISTED])		\
	X(zone_banned_errors, "zone_banned_errors", "mxguard_zone_write_errors_total",	\
	  "zone=\"banned\"", "counter", ZONE_ERRORS, 1, v->zs.errors[ZONE_BANNED])		\
	X(zone_listed_entries, "zone_listed_entries", "mxguard_zone_entries",			\
	  "zone=\"listed\"", "gauge", ZONE_ENTRIES, 1, v->zs.entries[ZONE_LISTED])		\
	X(zone_banned_entries, "zone_banned_entries", "mxguard_zone_entries",			\
	  "zone=\"banned\"", "gauge", ZONE_ENTRIES, 1, v->zs.entries[ZONE_BANNED])		\
	X(verdict_spam, "verdict_spam", "mxguard_content_verdicts_total", "verdict=\"spam\"",	\
	  "counter", CONTENT_VERDICTS, 1, v->vs.spam)						\
	X(verdict_clean, "verdict_clean", "mxguard_content_verdicts_total",			\
	  "verdict=\"clean\"", "counter", CONTENT_VERDICTS, 1, v->vs.clean)			\
	X(verdict_unauth, "verdict_refused_unauthenticated",					\
	  "mxguard_verdict_pushes_refused_total", "reason=\"unauthenticated\"", "counter",	\
	  PUSHES_REFUSED, 1, v->vs.unauthenticated)						\
	X(verdict_malformed, "verdict_refused_malformed", "mxguard_verdict_pushes_refused_total", \
	  "reason=\"malformed\"", "counter", PUSHES_REFUSED, 1, v->vs.malformed)		\
	X(verdict_too_large, "verdict_refused_too_large", "mxguard_verdict_pushes_refused_total", \
	  "reason=\"too_large\"", "counter", PUSHES_REFUSED, 1, v->vs.too_large)		\
	X(verdict_not_local, "verdict_refused_not_local", "mxguard_verdict_pushes_refused_total", \
	  "reason=\"not_local\"", "counter", PUSHES_REFUSED, 1, v->vs.not_local)		\
	X(verdict_other, "verdict_refused_other", "mxguard_verdict_pushes_refused_total",	\
	  "reason=\"other\"", "counter", PUSHES_REFUSED, 1, v->vs.other)			\
	X(verdict_errors, "verdict_errors", "mxguard_verdict_errors_total", NULL, "counter",	\
	  "Content verdicts that could not be recorded (answered 500).", 1, v->vs.errors)	\
	X(cs_applied, "crowdsec_decisions_applied", "mxguard_crowdsec_decisions_total",		\
	  "change=\"applied\"", "counter", CS_DECISIONS, 1, v->cs.stats.applied)		\
	X(cs_removed, "crowdsec_decisions_removed", "mxguard_crowdsec_decisions_total",		\
	  "change=\"removed\"", "counter", CS_DECISIONS, 1, v->cs.stats.removed)		\
	X(cs_lifted, "crowdsec_decisions_lifted", "mxguard_crowdsec_decisions_total",		\
	  "change=\"lifted\"", "counter", CS_DECISIONS, 1, v->cs.stats.lifted)		\
	X(cs_ignored, "crowdsec_decisions_ignored", "mxguard_crowdsec_decisions_total",		\
	  "change=\"ignored\"", "counter", CS_DECISIONS, 1, v->cs.stats.ignored)		\
	X(cs_errors, "crowdsec_errors", "mxguard_crowdsec_errors_total", NULL, "counter",	\
	  "Polls of CrowdSec LAPI that failed: unreachable, refused, malformed, not applied.",	\
	  1, v->cs.stats.errors)								\
	X(cs_last_sync, "crowdsec_last_sync", "mxguard_crowdsec_last_sync_timestamp_seconds",	\
	  NULL, "gauge", "When CrowdSec LAPI's decisions were last applied (unix time; 0: never).", \
	  1, v->cs.last_sync)									\
	X(cs_pushed, "crowdsec_pushed", "mxguard_crowdsec_pushes_total", "result=\"pushed\"",	\
	  "counter", CS_PUSHES, 1, v->cs.stats.pushed)						\
	X(cs_push_errors, "crowdsec_push_errors", "mxguard_crowdsec_pushes_total",		\
	  "result=\"error\"", "counter", CS_PUSHES, 1, v->cs.stats.push_errors)		\
	X(cs_pending, "crowdsec_pushes_pending", "mxguard_crowdsec_pushes_pending", NULL,	\
	  "gauge", "mxguard's bans waiting to be pushed to CrowdSec LAPI (journalled).", 1,	\
	  v->cs.pushes_pending)									\
	X(clock_suspect, "restore_clock_suspect", "mxguard_restore_clock_suspect", NULL,	\
	  "gauge", "Earlier boots whose records were restored with the wall clock not trusted "	\
	  "(behind their latest record, or more than an hour ahead of it).", 1,			\
	  a->store.state.restore_clock_suspect)

#define GETTER(id, stat, metric, label, type, help, per_unit, expr)		\
	static uint64_t get_##id(const struct view *v)				\
	{									\
		const struct agent *a = v->a;					\
										\
		(void)a;							\
		return (uint64_t)(expr);					\
	}
AGENT_COUNTERS(GETTER)
#undef GETTER

static const struct {
	struct agent_counter k;
	uint64_t (*get)(const struct view *v);
} counters[] = {
#define ENTRY(id, stat, metric, label, type, help, per_unit, expr) \
	{ { stat, metric, label, type, help, per_unit }, get_##id },
	AGENT_COUNTERS(ENTRY)
#undef ENTRY
};

void agent_counters(const struct agent *a, agent_counter_fn fn, void *arg)
{
	struct view v = { .a = a };

	policyd_stats(a, &v.ps);
	spf_stats(a, &v.ss);
	zone_stats(a, &v.zs);
	verdictd_stats(a, &v.vs);
	crowdsecd_info(a, &v.cs);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		fn(&counters[i].k, counters[i].get(&v), arg);
}
