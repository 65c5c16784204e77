// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	help.c - usage of every object, shared by the CLI and the agent
 */
#include "cmd.h"

#define HELP_SPEC_OPTIONS \
	"OPTIONS := { {-j|--json} [{-p|--pretty}] | {-s|--socket} PATH }\n"
#define HELP_SPEC_ADDR \
	"ADDR := { IPv4 address | IPv6 address }\n" \
	"PREFIX := { ADDR | ADDR/LEN }    (no host bits set below LEN)\n"

/* usage - print a help text, or null in JSON mode */
static int usage(struct mx_cmd_ctx *c, const char *text)
{
	if (c->json) {
		jsonw_null(c->jw);
		return 0;
	}
	fputs(text, c->out);
	return 0;
}

int do_help(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard [OPTIONS] OBJECT { COMMAND | help }\n"
		"       mxguard reload     (read the settings file again, as SIGHUP)\n"
		"       mxguard version\n"
		"OBJECT := { ban | allow | blocklist | class | sender | limit | conn | ip | stats | prog |\n"
		"           crowdsec }\n"
		HELP_SPEC_OPTIONS
		"Commands and objects may be abbreviated where unambiguous ('mxguard bl l' is\n"
		"'mxguard blocklist list'); 'b' is short for ban: 'mxguard b l' is 'mxguard ban list'.\n");
}

int help_ban(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard ban add PREFIX [ttl DURATION | permanent] [reason TEXT] [publish]\n"
		"       mxguard ban del PREFIX\n"
		"       mxguard ban list [PREFIX] [reason TEXT]\n"
		"       mxguard ban show ADDR\n"
		"       mxguard ban help\n"
		HELP_SPEC_ADDR
		"DURATION := e.g. 90s, 15m, 24h, 7d, 1h30m (a bare number is seconds)\n"
		"\n"
		"A ban drops every packet from the source to a guarded port. Without ttl\n"
		"or permanent a ban lasts 24h (ban_default_ttl). 'list' streams every ban,\n"
		"or those inside PREFIX and whose reason contains TEXT. 'show ADDR' tells\n"
		"which ban (exact or prefix) applies to ADDR, and every owner's ban of it.\n"
		"A ban has owners (you, the verdict engine, each blocklist): the longest\n"
		"holds. 'del' lifts yours and the engine's; a blocklist's stays.\n"
		"'publish' pushes the ban to CrowdSec's Local API too (crowdsec_machine_id).\n");
}

int help_allow(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard allow { add | del } PREFIX\n"
		"       mxguard allow { list | show }\n"
		"       mxguard allow help\n"
		HELP_SPEC_ADDR
		"\n"
		"An allowlisted source is never limited and never dropped, even if banned.\n");
}

int help_limit(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard limit show [CLASS]\n"
		"       mxguard limit set CLASS KEY VALUE\n"
		"       mxguard limit help\n"
		"CLASS := { 0..15 | default | strict }\n"
		"KEY := { rate | burst | prefix-rate | prefix-burst | parallel | prefix-parallel }\n"
		"RATE := N/s | N/min | N/h | N/day  (a bare N is per minute)\n"
		"\n"
		"rate and burst bound new connections (SYNs) per source, prefix-rate and\n"
		"prefix-burst per prefix (/24 and /48 by default). A SYN over either is\n"
		"dropped: the client's connect times out and it retries later.\n");
}

int help_stats(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard stats [show]\n"
		"       mxguard stats help\n"
		"\n"
		"Verdict counters of the XDP program, summed over CPUs.\n");
}

int help_prog(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard prog { show | list }\n"
		"       mxguard prog help\n"
		"\n"
		"The attached program: interface, attach mode, program id, pins.\n");
}

int help_conn(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard conn show [PREFIX]\n"
		"       mxguard conn help\n"
		"\n"
		"Live connections to the guarded ports per source (/32, /64) and per\n"
		"prefix (/24, /48), largest first; with PREFIX, those inside or around it.\n");
}

int help_ip(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard ip show ADDR\n"
		"       mxguard ip help\n"
		"\n"
		"Everything known about ADDR: allowlist entry, ban, class, new-connection\n"
		"tokens left and live connections of its source and prefix.\n");
}

int help_blocklist(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard blocklist load NAME FILE [ttl DURATION | permanent] [reason TEXT]\n"
		"                               [lenient]\n"
		"       mxguard blocklist { list | show }\n"
		"       mxguard blocklist del NAME\n"
		"       mxguard blocklist help\n"
		"FILE := plain addresses/prefixes, Spamhaus DROP drop.txt or drop_v4/v6.json,\n"
		"        each optionally gzip-compressed\n"
		"\n"
		"load bans every entry of FILE as list NAME (permanent unless ttl), replacing\n"
		"what NAME held before, all at once: until the load is done the old list\n"
		"holds. A bad line fails the load and changes nothing, unless lenient: then\n"
		"bad lines are skipped and counted. A list's bans are its own: deleting or\n"
		"replacing it never lifts or shortens anyone else's ban of the same address.\n");
}

int help_class(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard class add PREFIX CLASS\n"
		"       mxguard class del PREFIX\n"
		"       mxguard class { list | show }\n"
		"       mxguard class help\n"
		"CLASS := { 0..15 | default | strict }\n"
		"\n"
		"A source or prefix in a class gets that class's limits (mxguard limit show);\n"
		"everyone else gets class 0 (default).\n");
}

int help_sender(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard sender show ADDR\n"
		"       mxguard sender list [listed | delisting | banned | trapped | classed]\n"
		"       mxguard sender trap ADDR { spam | backscatter } [count N]\n"
		"       mxguard sender { spam | clean | delist | forget } ADDR\n"
		"       mxguard sender help\n"
		"ADDR := { IPv4 address | IPv6 address }\n"
		"\n"
		"The verdict engine's senders (an address, or its source_prefix_v6 network):\n"
		"trap hits in the window, automatic bans in a row, listing. More than\n"
		"spamtrap_hits (50) spam-trap or backscatter_hits (20) backscatter-trap hits\n"
		"in 24h ban the sender for 24h; a ban within repeat_window (30d) of the last\n"
		"one lasts repeat_ban_ttl (7d), and the 3rd in a row is permanent.\n"
		"'trap' reports hits seen elsewhere (the policy service counts its own).\n"
		"'spam' lists a sender after mail classified as spam: the policy service\n"
		"then rejects its mail (not to postmaster, abuse or the samples addresses).\n"
		"'clean' is a clean sample: a listed sender is delisted at the next\n"
		"delist_time (local midnight), unless spam comes first. 'delist' ends a\n"
		"listing now. 'list delisting' shows the listed senders with a delisting\n"
		"scheduled; 'classed', those in a class the agent gave them.\n"
		"'forget' drops everything known of a sender; its bans stay (ban del).\n"
		"Allowlisted senders are never banned or listed.\n");
}

int help_crowdsec(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return usage(c,
		"Usage: mxguard crowdsec [show]\n"
		"       mxguard crowdsec help\n"
		"\n"
		"mxguardd polls CrowdSec's Local API (crowdsec_url) for its decisions and\n"
		"bans their addresses and ranges as the owner 'crowdsec'; with\n"
		"crowdsec_machine_id it pushes its own bans to LAPI as alerts. 'show' says\n"
		"the state of the last poll, when LAPI's decisions were last applied, how\n"
		"many are in force, and the pushes done, waiting and failed.\n");
}
