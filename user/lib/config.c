// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	config.c - the settings file of mxguardd
 * DESCRIPTION
 *	"key = value" lines; "#" starts a comment; blank lines are ignored.
 *	Every key is in the table below, with its type and range; an
 *	unknown key, a value out of range or a key given twice is an error
 *	reported as FILE:LINE: message, and then nothing of the file is
 *	taken. Per-class limits are class.ID.KEY, with ID 0..15 or the
 *	names default (0) and strict (1).
 * SECURITY
 *	The file is read whole, at most MX_CONFIG_MAX bytes; lines longer
 *	than MX_LINE_MAX are errors, not truncated.
 * CONFIGURATION PARAMETERS
 *	See docs/mxguard.conf, which lists every key with its default.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "zonefile.h"

#define MX_CONFIG_MAX	(1 << 20)
#define MX_LINE_MAX	1024

enum opt_type {
	OPT_U32,	/* uint32_t in [min, max] */
	OPT_PLEN,	/* uint8_t prefix length in [min, max] */
	OPT_NS,		/* duration in ns, uint64_t, at most max seconds */
	OPT_MS,		/* duration in ms, uint32_t, at most max seconds */
	OPT_STR,	/* char[size], printable, no spaces unless min */
	OPT_PATH,	/* char[size], absolute path (or empty when min) */
	OPT_PORTS,	/* comma-separated ports */
	OPT_ACTION,	/* reply|drop into a bool: true = the non-default word */
	OPT_MODE,	/* auto|native|skb */
	OPT_SECS,	/* duration in whole seconds, int64_t in [min, max] */
	OPT_TEXT,	/* a reply text with placeholders (text.h) */
	OPT_LISTEN,	/* ADDR:PORT or [IPv6]:PORT, or "none" for empty; min: loopback only */
	OPT_CLASS,	/* a class 1..15, strict, or none (0) */
	OPT_BOOL,	/* yes or no */
	OPT_ZONES,	/* DNS zones, comma-separated, or none */
	OPT_ADDRS,	/* mail addresses, comma-separated, or none */
	OPT_TIME,	/* HH:MM, minutes of the day into a uint32_t */
	OPT_ZONE_A,	/* a DNSBL's A answer, in 127.0.0.0/8 (zonefile.h) */
	OPT_USER,	/* as OPT_STR, and no ':' (a Basic user name) */
	OPT_ACTIONS,	/* rspamd actions, comma-separated, or none: a mask */
	OPT_URL,	/* http:// or https:// and a host, or none for empty */
	OPT_CS_TYPES,	/* CrowdSec decision types, comma-separated */
};

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	uint64_t min, max;
	size_t size;
	const char *word;	/* OPT_ACTION: the word that sets true */
};

#define F(field) offsetof(struct mx_config_file, field)
#define SZ(field) sizeof(((struct mx_config_file *)0)->field)

static const struct opt opts[] = {
	{ "interface",		OPT_STR,   F(interface), 0, 0, SZ(interface), NULL },
	{ "mode",		OPT_MODE,  F(mode), 0, 0, SZ(mode), NULL },
	{ "ports",		OPT_PORTS, 0, 0, 0, 0, NULL },
	{ "source_prefix_v4",	OPT_PLEN,  F(dp.src_len4), 8, 32, 0, NULL },
	{ "prefix_v4",		OPT_PLEN,  F(dp.pfx_len4), 8, 32, 0, NULL },
	{ "source_prefix_v6",	OPT_PLEN,  F(dp.src_len6), 16, 128, 0, NULL },
	{ "prefix_v6",		OPT_PLEN,  F(dp.pfx_len6), 16, 128, 0, NULL },
	{ "bucket_entries_v4",	OPT_U32,   F(dp.bucket_entries4), 1024, 100000000, 0, NULL },
	{ "bucket_entries_v6",	OPT_U32,   F(dp.bucket_entries6), 1024, 100000000, 0, NULL },
	{ "address_entries",	OPT_U32,   F(dp.exact_entries), 1024, 100000000, 0, NULL },
	{ "prefix_entries",	OPT_U32,   F(dp.prefix_entries), 16, 10000000, 0, NULL },
	{ "count_entries",	OPT_U32,   F(dp.count_entries), 1024, 100000000, 0, NULL },
	{ "flow_entries",	OPT_U32,   F(dp.flow_entries), 1024, 100000000, 0, NULL },
	{ "over_limit",		OPT_ACTION, F(dp.over_limit_drop), 0, 0, 0, "drop" },
	{ "ban_action",		OPT_ACTION, F(dp.ban_reply), 0, 0, 0, "reply" },
	{ "ban_default_ttl",	OPT_NS,    F(ban_ttl_ns), 0, 10ULL * 366 * 86400, 0, NULL },
	{ "ban_sweep_interval",	OPT_SECS,  F(ban_sweep_s), 1, 3600, 0, NULL },
	{ "hostname",		OPT_STR,   F(hostname), 0, 0, SZ(hostname), NULL },
	{ "policy_url",		OPT_STR,   F(policy_url), 0, 0, SZ(policy_url), NULL },
	{ "responder_timeout",	OPT_MS,    F(responder_timeout_ms), 0, 3600, 0, NULL },
	{ "responder_sessions",	OPT_U32,   F(responder_sessions), 1, 65536, 0, NULL },
	{ "responder_max_line",	OPT_U32,   F(responder_max_line), 512, 1024, 0, NULL },
	{ "state_dir",		OPT_PATH,  F(state_dir), 1, 0, SZ(state_dir), NULL },
	{ "pin_dir",		OPT_PATH,  F(pin_dir), 0, 0, SZ(pin_dir), NULL },
	{ "socket",		OPT_PATH,  F(socket), 0, 0, SZ(socket), NULL },
	{ "cgroup",		OPT_PATH,  F(cgroup), 0, 0, SZ(cgroup), NULL },
	{ "spamtrap_hits",	OPT_U32,   F(verdict.trap_hits[MX_TRAP_SPAM]), 0, MX_TRAP_HITS_MAX, 0, NULL },
	{ "spamtrap_window",	OPT_SECS,  F(verdict.trap_window[MX_TRAP_SPAM]), 1, 366 * 86400, 0, NULL },
	{ "spamtrap_ban_ttl",	OPT_SECS,  F(verdict.trap_ban[MX_TRAP_SPAM]), 1, 10 * 366 * 86400, 0, NULL },
	{ "backscatter_hits",	OPT_U32,   F(verdict.trap_hits[MX_TRAP_BACKSCATTER]), 0, MX_TRAP_HITS_MAX, 0, NULL },
	{ "backscatter_window",	OPT_SECS,  F(verdict.trap_window[MX_TRAP_BACKSCATTER]), 1, 366 * 86400, 0, NULL },
	{ "backscatter_ban_ttl", OPT_SECS, F(verdict.trap_ban[MX_TRAP_BACKSCATTER]), 1, 10 * 366 * 86400, 0, NULL },
	{ "repeat_window",	OPT_SECS,  F(verdict.repeat_window), 0, 10 * 366 * 86400, 0, NULL },
	{ "repeat_ban_ttl",	OPT_SECS,  F(verdict.repeat_ban), 1, 10 * 366 * 86400, 0, NULL },
	{ "repeat_permanent_after", OPT_U32, F(verdict.permanent_after), 0, 1000, 0, NULL },
	{ "listed_ttl",		OPT_SECS,  F(verdict.listed_ttl), 0, 10 * 366 * 86400, 0, NULL },
	{ "sender_entries",	OPT_U32,   F(verdict.max_senders), 1024, 100000000, 0, NULL },
	{ "trap_file",		OPT_PATH,  F(trap_file), 1, 0, SZ(trap_file), NULL },
	{ "policy_socket",	OPT_PATH,  F(policy_socket), 1, 0, SZ(policy_socket), NULL },
	{ "policy_group",	OPT_STR,   F(policy_group), 0, 0, SZ(policy_group), NULL },
	{ "reply_over_limit",	OPT_TEXT,  F(reply_over_limit), 0, 0, SZ(reply_over_limit), NULL },
	{ "reply_banned",	OPT_TEXT,  F(reply_banned), 0, 0, SZ(reply_banned), NULL },
	{ "reply_trap_ban",	OPT_TEXT,  F(reply_trap_ban), 0, 0, SZ(reply_trap_ban), NULL },
	{ "reply_listed",	OPT_TEXT,  F(reply_listed), 0, 0, SZ(reply_listed), NULL },
	{ "reply_messages",	OPT_TEXT,  F(reply_messages), 0, 0, SZ(reply_messages), NULL },
	{ "reply_message_rate",	OPT_TEXT,  F(reply_message_rate), 0, 0, SZ(reply_message_rate), NULL },
	{ "reply_message_size",	OPT_TEXT,  F(reply_message_size), 0, 0, SZ(reply_message_size), NULL },
	{ "one_message_sessions", OPT_U32, F(verdict.one_message_sessions), 0, 10000, 0, NULL },
	{ "one_message_window",	OPT_SECS,  F(verdict.one_message_window), 1, 366 * 86400, 0, NULL },
	{ "one_message_class",	OPT_CLASS, F(single_class), 0, 0, 0, NULL },
	{ "one_message_class_ttl", OPT_SECS, F(single_class_ttl), 60, 366 * 86400, 0, NULL },
	{ "samples",		OPT_ADDRS, F(samples), 0, 0, SZ(samples), NULL },
	{ "delist_time",	OPT_TIME,  F(delist_minute), 0, 0, 0, NULL },
	{ "metrics_listen",	OPT_LISTEN, F(metrics_listen), 0, 0, SZ(metrics_listen), NULL },
	{ "verdict_listen",	OPT_LISTEN, F(verdict_listen), 1, 0, SZ(verdict_listen), NULL },
	{ "verdict_user",	OPT_USER,  F(verdict_user), 0, 0, SZ(verdict_user), NULL },
	{ "verdict_password_file", OPT_PATH, F(verdict_password_file), 1, 0, SZ(verdict_password_file), NULL },
	{ "spam_actions",	OPT_ACTIONS, F(spam_actions), 0, 0, 0, NULL },
	{ "ptr_class",		OPT_CLASS, F(ptr_class), 0, 0, 0, NULL },
	{ "ptr_class_ttl",	OPT_SECS,  F(ptr_class_ttl), 60, 366 * 86400, 0, NULL },
	{ "spf_class",		OPT_CLASS, F(spf_class), 0, 0, 0, NULL },
	{ "spf_class_ttl",	OPT_SECS,  F(spf_class_ttl), 60, 366 * 86400, 0, NULL },
	{ "spf_softfail",	OPT_BOOL,  F(spf_softfail), 0, 0, 0, NULL },
	{ "high_priority",	OPT_BOOL,  F(high_priority), 0, 0, 0, NULL },
	{ "dnsbl_zones",	OPT_ZONES, F(dnsbl_zones), 0, 0, SZ(dnsbl_zones), NULL },
	{ "dnsbl_class",	OPT_CLASS, F(dnsbl_class), 0, 0, 0, NULL },
	{ "dnsbl_class_ttl",	OPT_SECS,  F(dnsbl_class_ttl), 60, 366 * 86400, 0, NULL },
	{ "zone_dir",		OPT_PATH,  F(zone_dir), 1, 0, SZ(zone_dir), NULL },
	{ "zone_bans",		OPT_BOOL,  F(zone_bans), 0, 0, 0, NULL },
	{ "zone_text",		OPT_TEXT,  F(zone_text), 0, 0, SZ(zone_text), NULL },
	{ "zone_bans_text",	OPT_TEXT,  F(zone_bans_text), 0, 0, SZ(zone_bans_text), NULL },
	{ "zone_a",		OPT_ZONE_A, F(zone_a), 0, 0, SZ(zone_a), NULL },
	{ "crowdsec_url",	OPT_URL,   F(crowdsec_url), 0, 0, SZ(crowdsec_url), NULL },
	{ "crowdsec_key_file",	OPT_PATH,  F(crowdsec_key_file), 1, 0, SZ(crowdsec_key_file), NULL },
	{ "crowdsec_poll",	OPT_SECS,  F(crowdsec_poll), 1, 86400, 0, NULL },
	{ "crowdsec_machine_id", OPT_STR,  F(crowdsec_machine_id), 0, 0, SZ(crowdsec_machine_id), NULL },
	{ "crowdsec_password_file", OPT_PATH, F(crowdsec_password_file), 1, 0, SZ(crowdsec_password_file), NULL },
	{ "crowdsec_push_operator_bans", OPT_BOOL, F(crowdsec_push_operator_bans), 0, 0, 0, NULL },
	{ "crowdsec_decision_types", OPT_CS_TYPES, F(crowdsec_types), 0, 0, 0, NULL },
};

/* mx_config_default - the documented defaults */
void mx_config_default(struct mx_config_file *c)
{
	memset(c, 0, sizeof(*c));
	mx_settings_default(&c->dp);
	strcpy(c->mode, "auto");
	if (gethostname(c->hostname, sizeof(c->hostname) - 1) || !c->hostname[0])
		strcpy(c->hostname, "localhost");
	snprintf(c->policy_url, sizeof(c->policy_url), "%s", MX_POLICY_URL);
	c->ban_ttl_ns = MX_DEFAULT_BAN_TTL_NS;
	c->ban_sweep_s = 30;
	c->high_priority = true;
	c->responder_timeout_ms = 10000;
	c->responder_sessions = 256;
	c->responder_max_line = 512;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", MX_STATE_DIR);
	snprintf(c->pin_dir, sizeof(c->pin_dir), "%s", MX_PIN_DIR);
	snprintf(c->socket, sizeof(c->socket), "%s", MX_SOCKET_PATH);
	snprintf(c->cgroup, sizeof(c->cgroup), "%s", MX_CGROUP_PATH);
	mx_verdict_settings_default(&c->verdict);
	strcpy(c->policy_group, "postfix");
	strcpy(c->reply_over_limit, MX_REPLY_OVER_LIMIT);
	strcpy(c->reply_banned, MX_REPLY_BANNED);
	strcpy(c->reply_trap_ban, MX_REPLY_TRAP_BAN);
	strcpy(c->reply_listed, MX_REPLY_LISTED);
	strcpy(c->reply_messages, MX_REPLY_MESSAGES);
	strcpy(c->reply_message_rate, MX_REPLY_MESSAGE_RATE);
	strcpy(c->reply_message_size, MX_REPLY_MESSAGE_SIZE);
	for (int i = 0; i < MX_MAX_CLASSES; i++)
		c->messages[i] = (struct mx_message_limits){ .per_session = 1000, .per_minute = 300 };
	c->single_class = 1;	/* strict */
	c->single_class_ttl = 24 * 3600;
	strcpy(c->metrics_listen, MX_METRICS_LISTEN);
	strcpy(c->verdict_user, "rspamd");
	c->spam_actions = MX_RSPAMD_SPAM_DEFAULT;
	c->ptr_class = 1;	/* strict */
	c->ptr_class_ttl = 24 * 3600;
	c->spf_class = 1;	/* strict */
	c->spf_class_ttl = 24 * 3600;
	c->dnsbl_class = 1;	/* strict, once zones are named */
	c->dnsbl_class_ttl = 3600;
	strcpy(c->zone_text, MX_ZONE_TEXT);
	strcpy(c->zone_bans_text, MX_ZONE_BANS_TEXT);
	strcpy(c->zone_a, MX_ZONE_A_DEFAULT);
	c->crowdsec_poll = 10;
	c->crowdsec_types = (struct mx_cs_types){ .n = 1, .t = { "ban" } };
}

/* set_class - class.ID.KEY = VALUE */
static int set_class(struct mx_config_file *c, const char *key, const char *val,
		     char *why, size_t wlen)
{
	char id_text[16], err[160];
	const char *dot = strchr(key, '.');
	struct mx_class_limits *l;
	uint32_t id, v;
	size_t n;

	if (!dot || (n = (size_t)(dot - key)) == 0 || n >= sizeof(id_text)) {
		snprintf(why, wlen, "'class.%s': use class.ID.KEY", key);
		return -1;
	}
	memcpy(id_text, key, n);
	id_text[n] = '\0';
	if (!strcmp(id_text, "default"))
		id = 0;
	else if (!strcmp(id_text, "strict"))
		id = 1;
	else if (mx_parse_u32(id_text, 0, MX_MAX_CLASSES - 1, &id, err, sizeof(err))) {
		snprintf(why, wlen, "class '%s': use 0..%d, default or strict", id_text,
			 MX_MAX_CLASSES - 1);
		return -1;
	}
	l = &c->dp.classes[id];
	key = dot + 1;
	if (!strcmp(key, "rate") || !strcmp(key, "prefix_rate")) {
		uint64_t iv;

		if (mx_parse_rate(val, &iv, err, sizeof(err))) {
			snprintf(why, wlen, "%s", err);
			return -1;
		}
		*(key[0] == 'r' ? &l->src_interval_ns : &l->pfx_interval_ns) = iv;
		return 0;
	}
	if (!strcmp(key, "burst") || !strcmp(key, "prefix_burst") ||
	    !strcmp(key, "parallel") || !strcmp(key, "prefix_parallel")) {
		if (mx_parse_u32(val, 1, 1000000, &v, err, sizeof(err))) {
			snprintf(why, wlen, "%s", err);
			return -1;
		}
		if (!strcmp(key, "burst"))
			l->src_burst = v;
		else if (!strcmp(key, "prefix_burst"))
			l->pfx_burst = v;
		else if (!strcmp(key, "parallel"))
			l->src_parallel = v;
		else
			l->pfx_parallel = v;
		return 0;
	}
	if (!strcmp(key, "messages") || !strcmp(key, "messages_per_minute")) {
		if (mx_parse_u32(val, 0, 100000000, &v, err, sizeof(err))) {
			snprintf(why, wlen, "%s", err);
			return -1;
		}
		*(key[8] ? &c->messages[id].per_minute : &c->messages[id].per_session) = v;
		return 0;
	}
	if (!strcmp(key, "message_size")) {
		uint64_t bytes;

		if (mx_parse_size(val, &bytes, err, sizeof(err))) {
			snprintf(why, wlen, "%s", err);
			return -1;
		}
		c->messages[id].size = bytes;
		return 0;
	}
	snprintf(why, wlen, "unknown class setting '%s' (rate, burst, prefix_rate, prefix_burst, "
		 "parallel, prefix_parallel, messages, messages_per_minute, message_size)", key);
	return -1;
}

/* set_ports - "25, 587" */
static int set_ports(struct mx_config_file *c, const char *val, char *why, size_t wlen)
{
	char buf[256], *tok, *save = NULL, err[96];
	unsigned int n = 0;

	if (strlen(val) >= sizeof(buf)) {
		snprintf(why, wlen, "too many ports");
		return -1;
	}
	strcpy(buf, val);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		uint32_t p;

		if (n == MX_MAX_PORTS) {
			snprintf(why, wlen, "at most %d ports", MX_MAX_PORTS);
			return -1;
		}
		if (mx_parse_u32(tok, 1, 65535, &p, err, sizeof(err))) {
			snprintf(why, wlen, "port %s", err);
			return -1;
		}
		c->dp.ports[n++] = (uint16_t)p;
	}
	if (!n) {
		snprintf(why, wlen, "no port");
		return -1;
	}
	c->dp.nports = n;
	return 0;
}

/*
 * The setters, one per option type (as xdp-tools' params.c): each
 * checks val against the option's range and writes its field, or says
 * why not in why and returns -1.
 */
#define SETTER(name) static int name(struct mx_config_file *c, const struct opt *o, \
				      char *field, const char *val, char *why, size_t wlen)

/* set_u32 - OPT_U32 and OPT_PLEN: a number in [min, max] */
SETTER(set_u32)
{
	char err[160];
	uint32_t v;

	if (mx_parse_u32(val, (uint32_t)o->min, (uint32_t)o->max, &v, err, sizeof(err))) {
		snprintf(why, wlen, "%s", err);
		return -1;
	}
	if (o->type == OPT_PLEN)
		*(uint8_t *)field = (uint8_t)v;
	else
		*(uint32_t *)field = v;
	return 0;
}

/* set_duration - OPT_NS and OPT_MS: a duration of min..max seconds */
SETTER(set_duration)
{
	char err[160];
	uint64_t ns;

	if (mx_parse_duration(val, &ns, err, sizeof(err))) {
		snprintf(why, wlen, "%s", err);
		return -1;
	}
	if (ns > o->max * MX_NS_PER_S) {
		snprintf(why, wlen, "'%s' is longer than %llu seconds", val,
			 (unsigned long long)o->max);
		return -1;
	}
	if (ns < o->min * MX_NS_PER_S) {
		snprintf(why, wlen, "'%s' is shorter than %llu seconds", val,
			 (unsigned long long)o->min);
		return -1;
	}
	if (o->type == OPT_NS)
		*(uint64_t *)field = ns;
	else
		*(uint32_t *)field = (uint32_t)(ns / 1000000ULL);
	return 0;
}

/* set_secs - OPT_SECS: whole seconds in [min, max]; "0" is never where min is 0 */
SETTER(set_secs)
{
	char err[160];
	uint64_t ns;

	if (!o->min && !strcmp(val, "0")) {
		*(int64_t *)field = 0;
		return 0;
	}
	if (mx_parse_duration(val, &ns, err, sizeof(err))) {
		snprintf(why, wlen, "%s", err);
		return -1;
	}
	if (ns % MX_NS_PER_S) {
		snprintf(why, wlen, "'%s': use whole seconds", val);
		return -1;
	}
	if (ns / MX_NS_PER_S < o->min || ns / MX_NS_PER_S > o->max) {
		snprintf(why, wlen, "'%s' is out of range %llus..%llus", val,
			 (unsigned long long)o->min, (unsigned long long)o->max);
		return -1;
	}
	*(int64_t *)field = (int64_t)(ns / MX_NS_PER_S);
	return 0;
}

/* loopback - is ss 127.0.0.0/8 or ::1? */
static bool loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr)[0] == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* set_listen - OPT_LISTEN: ADDR:PORT or [IPv6]:PORT (a loopback one when min), or none */
SETTER(set_listen)
{
	struct sockaddr_storage ss;
	unsigned int sl;
	char err[160];

	if (!strcmp(val, "none")) {
		field[0] = '\0';
		return 0;
	}
	if (strlen(val) >= o->size || mx_parse_listen(val, &ss, &sl, err, sizeof(err))) {
		snprintf(why, wlen, "'%s': %s", val, strlen(val) >= o->size ? "too long" : err);
		return -1;
	}
	if (o->min && !loopback(&ss)) {
		snprintf(why, wlen, "'%s': not a loopback address (127.0.0.0/8 or [::1]): only "
			 "this host may push verdicts", val);
		return -1;
	}
	strcpy(field, val);
	return 0;
}

/* set_actions - OPT_ACTIONS: rspamd's action names, comma-separated, or none */
SETTER(set_actions)
{
	char err[200];

	if (mx_rspamd_actions_parse(val, (uint32_t *)field, err, sizeof(err))) {
		snprintf(why, wlen, "%s", err);
		return -1;
	}
	return 0;
}

/*
 * set_list - a comma-separated list of at most max items, each checked
 * by item_ok (which explains a refusal in why), or "none" for an empty
 * field; one and many name an item and items in errors
 */
static int set_list(const struct opt *o, char *field, const char *val, char *why, size_t wlen,
		    unsigned int max, const char *one, const char *many,
		    int (*item_ok)(const char *item, char *why, size_t wlen))
{
	char buf[256], *tok, *save = NULL;
	unsigned int n = 0;

	if (!strcmp(val, "none")) {
		field[0] = '\0';
		return 0;
	}
	if (strlen(val) >= o->size || strlen(val) >= sizeof(buf)) {
		snprintf(why, wlen, "longer than %zu characters", o->size - 1);
		return -1;
	}
	strcpy(buf, val);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (++n > max) {
			snprintf(why, wlen, "at most %u %s", max, many);
			return -1;
		}
		if (!item_ok(tok, why, wlen))
			return -1;
	}
	if (!n) {
		snprintf(why, wlen, "no %s", one);
		return -1;
	}
	strcpy(field, val);
	return 0;
}

/* zone_ok - a DNS zone name: letters, digits, '-' and single dots */
static int zone_ok(const char *tok, char *why, size_t wlen)
{
	for (size_t i = 0; tok[i]; i++) {
		char ch = tok[i];

		if (!(isalnum((unsigned char)ch) || ch == '-' || ch == '.') ||
		    (ch == '.' && (i == 0 || tok[i - 1] == '.'))) {
			snprintf(why, wlen, "'%s' is not a DNS zone name", tok);
			return 0;
		}
	}
	return 1;
}

/* set_zones - OPT_ZONES: up to MX_DNSBL_ZONES DNS zone names, or none */
SETTER(set_zones)
{
	return set_list(o, field, val, why, wlen, MX_DNSBL_ZONES, "zone", "zones", zone_ok);
}

/* set_zone_a - OPT_ZONE_A: the A answer of a published zone */
SETTER(set_zone_a)
{
	char err[160];

	if (strlen(val) >= o->size || mx_zone_a_check(val, err, sizeof(err))) {
		snprintf(why, wlen, "%s", strlen(val) >= o->size ? "too long" : err);
		return -1;
	}
	strcpy(field, val);
	return 0;
}

/* set_bool - OPT_BOOL: yes or no */
SETTER(set_bool)
{
	if (strcmp(val, "yes") && strcmp(val, "no")) {
		snprintf(why, wlen, "'%s': use yes or no", val);
		return -1;
	}
	*(bool *)field = val[0] == 'y';
	return 0;
}

/* set_class_id - OPT_CLASS: strict (1), 1..15, or none (0) */
SETTER(set_class_id)
{
	char err[160];
	uint32_t v;

	if (!strcmp(val, "none") || !strcmp(val, "strict")) {
		*(uint32_t *)field = val[0] == 's';
		return 0;
	}
	if (mx_parse_u32(val, 1, MX_MAX_CLASSES - 1, &v, err, sizeof(err))) {
		snprintf(why, wlen, "'%s': use strict, 1..%d or none", val, MX_MAX_CLASSES - 1);
		return -1;
	}
	*(uint32_t *)field = v;
	return 0;
}

/* set_text - OPT_TEXT: a reply text whose placeholders text.h knows */
SETTER(set_text)
{
	char err[160];

	if (mx_text_check(val, err, sizeof(err))) {
		snprintf(why, wlen, "%s", err);
		return -1;
	}
	strcpy(field, val);
	return 0;
}

/* set_str - OPT_STR, OPT_USER, OPT_PATH: printable, no spaces; a path absolute (or empty if min) */
SETTER(set_str)
{
	if (o->type == OPT_USER && strchr(val, ':')) {
		snprintf(why, wlen, "a ':' cannot be in a user name of Basic authentication");
		return -1;
	}
	if (strlen(val) >= o->size) {
		snprintf(why, wlen, "longer than %zu characters", o->size - 1);
		return -1;
	}
	for (const char *p = val; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			snprintf(why, wlen, "spaces and control characters are not allowed");
			return -1;
		}
	}
	if (o->type == OPT_PATH && val[0] != '/' && !(o->min && !val[0])) {
		snprintf(why, wlen, "'%s' is not an absolute path", val);
		return -1;
	}
	strcpy(field, val);
	return 0;
}

/* set_port_list - OPT_PORTS */
SETTER(set_port_list)
{
	return set_ports(c, val, why, wlen);
}

/* set_action - OPT_ACTION: reply or drop, into a bool that is true for o->word */
SETTER(set_action)
{
	if (strcmp(val, "reply") && strcmp(val, "drop")) {
		snprintf(why, wlen, "'%s': use reply or drop", val);
		return -1;
	}
	*(bool *)field = strcmp(val, o->word) == 0;
	return 0;
}

/* set_mode - OPT_MODE: auto, native or skb */
SETTER(set_mode)
{
	if (strcmp(val, "auto") && strcmp(val, "native") && strcmp(val, "skb")) {
		snprintf(why, wlen, "'%s': use auto, native or skb", val);
		return -1;
	}
	strcpy(field, val);
	return 0;
}

/* addr_ok - local@domain in printable ASCII, without blanks, <, > or % */
static int addr_ok(const char *tok, char *why, size_t wlen)
{
	const char *at = strchr(tok, '@');

	for (const char *p = tok; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '<' ||
		    *p == '>' || *p == '%') {
			snprintf(why, wlen, "'%s': a blank, control character, <, >, %% "
				 "or non-ASCII in an address", tok);
			return 0;
		}
	}
	if (!at || at == tok || !at[1] || strchr(at + 1, '@')) {
		snprintf(why, wlen, "'%s' is not local@domain", tok);
		return 0;
	}
	return 1;
}

/* set_addrs - OPT_ADDRS: up to MX_SAMPLES_MAX local@domain, comma-separated, or none */
SETTER(set_addrs)
{
	return set_list(o, field, val, why, wlen, MX_SAMPLES_MAX, "address", "addresses", addr_ok);
}

/* set_time - OPT_TIME: HH:MM, a time of the day */
SETTER(set_time)
{
	unsigned int h, m;
	char end;

	if (sscanf(val, "%2u:%2u%c", &h, &m, &end) != 2 || h > 23 || m > 59 ||
	    strlen(val) != 5) {
		snprintf(why, wlen, "'%s': use HH:MM, 00:00 to 23:59", val);
		return -1;
	}
	*(uint32_t *)field = h * 60 + m;
	return 0;
}

/* set_url - OPT_URL: http://HOST[:PORT][/PATH] or https://..., or none */
SETTER(set_url)
{
	const char *host;

	if (!strcmp(val, "none")) {
		field[0] = '\0';
		return 0;
	}
	if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8)) {
		snprintf(why, wlen, "'%.80s': use http://HOST:PORT or https://HOST:PORT", val);
		return -1;
	}
	host = val + (val[4] == 's' ? 8 : 7);
	if (!*host || *host == '/' || strlen(val) >= o->size) {
		snprintf(why, wlen, "'%.80s': %s", val, *host && *host != '/' ? "too long" : "no host");
		return -1;
	}
	for (const char *p = val; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' || *p == '#') {
			snprintf(why, wlen, "'%.80s': blanks, control characters, '?' and '#' are not "
				 "allowed", val);
			return -1;
		}
	}
	snprintf(field, o->size, "%.*s", (int)(strlen(val) - (val[strlen(val) - 1] == '/')), val);
	return 0;
}

/* set_cs_types - OPT_CS_TYPES: CrowdSec decision types, comma-separated */
SETTER(set_cs_types)
{
	char err[200];

	if (mx_cs_types_parse(val, (struct mx_cs_types *)field, err, sizeof(err))) {
		snprintf(why, wlen, "%s", err);
		return -1;
	}
	return 0;
}

static int (*const setters[])(struct mx_config_file *, const struct opt *, char *,
			      const char *, char *, size_t) = {
	[OPT_U32] = set_u32, [OPT_PLEN] = set_u32, [OPT_NS] = set_duration,
	[OPT_MS] = set_duration, [OPT_SECS] = set_secs, [OPT_LISTEN] = set_listen,
	[OPT_ZONES] = set_zones, [OPT_BOOL] = set_bool, [OPT_CLASS] = set_class_id,
	[OPT_TEXT] = set_text, [OPT_STR] = set_str, [OPT_PATH] = set_str,
	[OPT_PORTS] = set_port_list, [OPT_ACTION] = set_action, [OPT_MODE] = set_mode,
	[OPT_ADDRS] = set_addrs, [OPT_TIME] = set_time,
	[OPT_ZONE_A] = set_zone_a,
	[OPT_USER] = set_str, [OPT_ACTIONS] = set_actions,
	[OPT_URL] = set_url, [OPT_CS_TYPES] = set_cs_types,
};

/* set_opt - one table option, by its type's setter */
static int set_opt(struct mx_config_file *c, const struct opt *o, const char *val,
		   char *why, size_t wlen)
{
	if ((size_t)o->type >= sizeof(setters) / sizeof(setters[0]) || !setters[o->type]) {
		snprintf(why, wlen, "internal: unknown option type");
		return -1;
	}
	return setters[o->type](c, o, (char *)c + o->off, val, why, wlen);
}

/* trim - strip blanks at both ends, in place */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* mx_config_parse - see config.h */
int mx_config_parse(struct mx_config_file *c, const char *name, const char *text, size_t len,
		    char *err, size_t errlen)
{
	struct mx_config_file next = *c;
	struct mx_errs e = { .buf = err, .len = errlen, .file = name };
	unsigned int lineno = 0, seen[sizeof(opts) / sizeof(opts[0])] = { 0 };
	const char *p = text, *end = text + len;

	if (err && errlen)
		err[0] = '\0';
	if (len > MX_CONFIG_MAX) {
		mx_errs_add(&e, 0, "file larger than %d bytes", MX_CONFIG_MAX);
		return e.n;
	}
	char line[MX_LINE_MAX + 1];

	while (mx_next_line(&p, end, line, MX_LINE_MAX, &lineno, &e)) {
		char *key, *val, *eq, why[256];
		size_t i;

		key = trim(line);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			mx_errs_add(&e, lineno, "expected 'key = value'");
			continue;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (!*key || !*val) {
			mx_errs_add(&e, lineno, "%s", !*key ? "missing key before '='" : "missing value");
			continue;
		}
		if (!strncmp(key, "class.", 6)) {
			if (set_class(&next, key + 6, val, why, sizeof(why)))
				mx_errs_add(&e, lineno, "%s: %s", key, why);
			continue;
		}
		for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			if (!strcmp(key, opts[i].name))
				break;
		if (i == sizeof(opts) / sizeof(opts[0])) {
			mx_errs_add(&e, lineno, "unknown setting '%s'", key);
			continue;
		}
		if (seen[i]) {
			mx_errs_add(&e, lineno, "'%s' set again (first at line %u)", key, seen[i]);
			continue;
		}
		seen[i] = lineno;
		if (set_opt(&next, &opts[i], val, why, sizeof(why)))
			mx_errs_add(&e, lineno, "%s: %s", key, why);
	}
	if (!e.n)
		*c = next;
	return e.n;
}

/* mx_config_load - read a file and parse it */
int mx_config_load(struct mx_config_file *c, const char *path, bool must_exist,
		   char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int r = mx_read_file(path, MX_CONFIG_MAX, &buf, &n, err, errlen);

	if (r == -ENOENT && !must_exist) {
		err[0] = '\0';		/* no file: all defaults */
		return 0;
	}
	if (r)
		return 1;
	r = mx_config_parse(c, path, buf, n, err, errlen);
	free(buf);
	return r;
}

/* mx_config_restart_needed - the first setting that only a restart applies */
const char *mx_config_restart_needed(const struct mx_config_file *a,
				     const struct mx_config_file *b)
{
	if (strcmp(a->interface, b->interface))
		return "interface";
	if (strcmp(a->mode, b->mode))
		return "mode";
	if (a->dp.bucket_entries4 != b->dp.bucket_entries4 ||
	    a->dp.bucket_entries6 != b->dp.bucket_entries6 ||
	    a->dp.exact_entries != b->dp.exact_entries ||
	    a->dp.prefix_entries != b->dp.prefix_entries ||
	    a->dp.count_entries != b->dp.count_entries ||
	    a->dp.flow_entries != b->dp.flow_entries)
		return "map sizes (*_entries)";
	if (strcmp(a->state_dir, b->state_dir))
		return "state_dir";
	if (strcmp(a->pin_dir, b->pin_dir))
		return "pin_dir";
	if (strcmp(a->socket, b->socket))
		return "socket";
	if (strcmp(a->cgroup, b->cgroup))
		return "cgroup";
	if (strcmp(a->policy_socket, b->policy_socket) || strcmp(a->policy_group, b->policy_group))
		return "policy_socket, policy_group";
	if (strcmp(a->metrics_listen, b->metrics_listen))
		return "metrics_listen";
	if (strcmp(a->verdict_listen, b->verdict_listen))
		return "verdict_listen";
	if (!a->spf_class != !b->spf_class)
		return "spf_class (none or not)";
	if (!a->crowdsec_url[0] != !b->crowdsec_url[0])
		return "crowdsec_url (none or not)";
	if (strcmp(a->dnsbl_zones, b->dnsbl_zones))
		return "dnsbl_zones";
	if (a->responder_sessions != b->responder_sessions ||
	    a->responder_max_line != b->responder_max_line)
		return "responder_sessions, responder_max_line";
	return NULL;
}

/* mx_config_keep_restart - the same settings as mx_config_restart_needed() */
void mx_config_keep_restart(struct mx_config_file *n, const struct mx_config_file *r)
{
	memcpy(n->interface, r->interface, sizeof(n->interface));
	memcpy(n->mode, r->mode, sizeof(n->mode));
	n->dp.bucket_entries4 = r->dp.bucket_entries4;
	n->dp.bucket_entries6 = r->dp.bucket_entries6;
	n->dp.exact_entries = r->dp.exact_entries;
	n->dp.prefix_entries = r->dp.prefix_entries;
	n->dp.count_entries = r->dp.count_entries;
	n->dp.flow_entries = r->dp.flow_entries;
	memcpy(n->state_dir, r->state_dir, sizeof(n->state_dir));
	memcpy(n->pin_dir, r->pin_dir, sizeof(n->pin_dir));
	memcpy(n->socket, r->socket, sizeof(n->socket));
	memcpy(n->cgroup, r->cgroup, sizeof(n->cgroup));
	memcpy(n->policy_socket, r->policy_socket, sizeof(n->policy_socket));
	memcpy(n->policy_group, r->policy_group, sizeof(n->policy_group));
	memcpy(n->metrics_listen, r->metrics_listen, sizeof(n->metrics_listen));
	memcpy(n->verdict_listen, r->verdict_listen, sizeof(n->verdict_listen));
	n->responder_sessions = r->responder_sessions;
	n->responder_max_line = r->responder_max_line;
	if (!n->spf_class != !r->spf_class)
		n->spf_class = r->spf_class;	/* the SPF thread runs or not until a restart */
	memcpy(n->dnsbl_zones, r->dnsbl_zones, sizeof(n->dnsbl_zones));
	if (!n->crowdsec_url[0] != !r->crowdsec_url[0]) {
		/* CrowdSec on or off takes a restart; a new URL or key does not. */
		memcpy(n->crowdsec_url, r->crowdsec_url, sizeof(n->crowdsec_url));
		memcpy(n->crowdsec_key_file, r->crowdsec_key_file, sizeof(n->crowdsec_key_file));
	}
}

int mx_config_source_add(struct mx_config_source *src, const char *key, const char *value)
{
	if (src->n >= MX_CONFIG_CLI_MAX)
		return -1;
	src->cli[src->n].key = key;
	src->cli[src->n].value = value;
	src->n++;
	return 0;
}

int mx_config_read(struct mx_config_file *c, const struct mx_config_source *src,
		   char *err, size_t errlen)
{
	char line[1200];
	int n;

	mx_config_default(c);
	n = mx_config_load(c, src->path, src->path_given, err, errlen);
	if (n)
		return n;
	for (unsigned int i = 0; i < src->n; i++) {
		const char *key = src->cli[i].key, *value = src->cli[i].value;
		int len;

		/* An empty --state-dir turns persistence off. */
		if (!strcmp(key, "state_dir") && !*value) {
			c->state_dir[0] = '\0';
			continue;
		}
		len = snprintf(line, sizeof(line), "%s = %s\n", key, value);
		if (len < 0 || (size_t)len >= sizeof(line)) {
			snprintf(err, errlen, "command line: --%s: value too long", key);
			return 1;
		}
		n = mx_config_parse(c, "command line", line, (size_t)len, err, errlen);
		if (n)
			return n;
	}
	/* Settings that only make sense together, once all are read. */
	if (c->verdict_listen[0] && !c->verdict_password_file[0]) {
		snprintf(err, errlen, "%s: verdict_listen is set but verdict_password_file is not: "
			 "name the file that holds rspamd's password", src->path);
		return 1;
	}
	if (c->crowdsec_url[0] && !c->crowdsec_key_file[0]) {
		snprintf(err, errlen, "%s: crowdsec_url is set but crowdsec_key_file is not: name "
			 "the file that holds the bouncer key (cscli bouncers add NAME)", src->path);
		return 1;
	}
	if (c->crowdsec_machine_id[0] && (!c->crowdsec_url[0] || !c->crowdsec_password_file[0])) {
		snprintf(err, errlen, "%s: crowdsec_machine_id needs crowdsec_url and "
			 "crowdsec_password_file (cscli machines add NAME --password ...)", src->path);
		return 1;
	}
	return 0;
}
