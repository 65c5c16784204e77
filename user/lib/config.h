/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	config.h - the settings file of mxguardd
 */
#ifndef MX_CONFIG_H
#define MX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crowdsec.h"
#include "rspamd.h"
#include "tables.h"
#include "text.h"
#include "verdict.h"

#define MX_CONFIG_PATH	"/etc/mxguard/mxguard.conf"
#define MX_PIN_DIR		"/sys/fs/bpf/mxguard"
#define MX_SOCKET_PATH		"/run/mxguard/mxguardd.sock"
#define MX_STATE_DIR		"/var/lib/mxguard"
#define MX_CGROUP_PATH		"/sys/fs/cgroup/unified"
#define MX_POLICY_URL		"https://example.org/mail-policy"
#define MX_DEFAULT_BAN_TTL_NS	(24ULL * 3600 * MX_NS_PER_S)
#define MX_PATH_MAX	256
#define MX_DNSBL_ZONES	4	/* dnsbl_zones: at most this many */
#define MX_METRICS_LISTEN	"127.0.0.1:9489"

/* The replies' default texts: Postfix's wording where Postfix has one. */
#define MX_REPLY_OVER_LIMIT	"%h Error: too many connections from %a"
#define MX_REPLY_BANNED		"%h %r; see %u"
#define MX_REPLY_TRAP_BAN	"%h: Service unavailable; client [%a] banned: %r; see %u"
#define MX_REPLY_LISTED		"%h: Service unavailable; client [%a] is listed after mail " \
				"classified as spam; to be delisted, send one clean mail to %s; see %u"
#define MX_REPLY_MESSAGES	"%h Error: too many messages in this connection; see %u"
#define MX_REPLY_MESSAGE_RATE	"%h Error: too many messages from %a, try again later; see %u"
#define MX_REPLY_MESSAGE_SIZE	"%h Error: message too large for %a; see %u"
#define MX_SAMPLES_MAX	8	/* samples: at most this many addresses */

/* Message limits of a class, enforced by the policy service (policyd.c). */
struct mx_message_limits {
	uint32_t per_session;		/* messages in one SMTP connection; 0: no limit */
	uint32_t per_minute;		/* messages a minute from one source; 0: no limit */
	uint64_t size;			/* bytes; 0: no limit */
};

/* The DNSBL zones' TXT answers (zone.c): %a is the address asked about. */
#define MX_ZONE_TEXT		"%a is listed by %h after mail classified as spam; to be " \
				"delisted, send one clean mail to %s; see %u"
#define MX_ZONE_BANS_TEXT	"%a is banned by %h: %r; see %u"

struct mx_config_file {
	struct mx_settings dp;		/* what the data plane reads */
	char interface[16];		/* IF_NAMESIZE */
	char mode[8];			/* auto, native, skb */
	char hostname[256];
	char policy_url[256];
	uint64_t ban_ttl_ns;
	int64_t ban_sweep_s;		/* expired bans are removed this often */
	uint32_t responder_timeout_ms;
	uint32_t responder_sessions;
	uint32_t responder_max_line;
	char state_dir[MX_PATH_MAX];
	char pin_dir[MX_PATH_MAX];
	char socket[MX_PATH_MAX];
	char cgroup[MX_PATH_MAX];
	struct mx_verdict_settings verdict;	/* trap bans, repeats, listing */
	char trap_file[MX_PATH_MAX];		/* trap addresses; empty: none */
	char policy_socket[MX_PATH_MAX];	/* Postfix policy service; empty: off */
	char policy_group[64];			/* may connect to it (mode 0660) */
	/* Reply texts after the code (text.h): 421, 554, 521 and 550. */
	char reply_over_limit[MX_TEXT_MAX];
	char reply_banned[MX_TEXT_MAX];
	char reply_trap_ban[MX_TEXT_MAX];
	char reply_listed[MX_TEXT_MAX];
	char reply_messages[MX_TEXT_MAX];	/* 421 4.7.0: messages in a connection */
	char reply_message_rate[MX_TEXT_MAX];	/* 450 4.7.1: messages a minute */
	char reply_message_size[MX_TEXT_MAX];	/* 552 5.3.4: a class's size */
	struct mx_message_limits messages[MX_MAX_CLASSES];
	uint32_t single_class;			/* one message per connection, a habit; 0: none */
	int64_t single_class_ttl;
	char samples[256];			/* "addr,addr": clean mail there delists */
	uint32_t delist_minute;			/* of the local day: delistings happen then */
	char metrics_listen[64];		/* ADDR:PORT for GET /metrics; empty: none */
	/* rspamd's verdicts (POST /rspamd): loopback ADDR:PORT; empty: none */
	char verdict_listen[64];
	char verdict_user[MX_RSPAMD_USER_MAX + 1];	/* its Basic credentials */
	char verdict_password_file[MX_PATH_MAX];	/* required with verdict_listen */
	uint32_t spam_actions;			/* 1 << enum mx_rspamd_action: spam */
	uint32_t ptr_class;			/* for senders without FCrDNS; 0: none */
	int64_t ptr_class_ttl;			/* seconds since last seen so */
	uint32_t spf_class;			/* for senders failing SPF; 0: no SPF checks */
	int64_t spf_class_ttl;
	bool spf_softfail;			/* a softfail counts as a fail */
	bool high_priority;			/* the agent runs at nice -10 */
	char dnsbl_zones[256];			/* "zone,zone"; empty: no DNSBL lookups */
	uint32_t dnsbl_class;
	int64_t dnsbl_class_ttl;
	/* The listing (and bans) published as DNSBL zones for rbldnsd (zone.c). */
	char zone_dir[MX_PATH_MAX];		/* where the data files go; empty: none */
	bool zone_bans;				/* bans too (banned.ip4, banned.ip6) */
	char zone_text[MX_TEXT_MAX];		/* the listing's TXT (text.h; %a: the address) */
	char zone_bans_text[MX_TEXT_MAX];	/* the bans' TXT; %r: a ban's reason */
	char zone_a[16];			/* the A answer, in 127.0.0.0/8 */
	/* CrowdSec's Local API (crowdsecd.c): bans from it, and ours to it. */
	char crowdsec_url[256];			/* http(s)://HOST:PORT; empty: off */
	char crowdsec_key_file[MX_PATH_MAX];	/* the bouncer key; required with the url */
	int64_t crowdsec_poll;			/* seconds between polls */
	char crowdsec_machine_id[64];		/* pushes as this machine; empty: none */
	char crowdsec_password_file[MX_PATH_MAX];	/* required with machine_id */
	bool crowdsec_push_operator_bans;	/* operators' bans are pushed too */
	struct mx_cs_types crowdsec_types;	/* decision types that become bans */
};

/* The defaults, as documented in mxguard.conf(5) and the README. */
void mx_config_default(struct mx_config_file *c);

/*
 * Parse text (a whole file) over the defaults in c. On error, c is left
 * as it was and err holds "FILE:LINE: message" lines (as many as fit).
 * Returns the number of errors.
 */
int mx_config_parse(struct mx_config_file *c, const char *name, const char *text, size_t len,
		    char *err, size_t errlen);

/* Read and parse a file; a missing default file is no error. */
int mx_config_load(struct mx_config_file *c, const char *path, bool must_exist,
		   char *err, size_t errlen);

/* Settings that only a restart applies; names the first that differs. */
/*
 * Where the settings come from: the file, then the command line's
 * settings, each checked as a line of the file. Kept by the agent, so
 * that a reload reads both again.
 */
#define MX_CONFIG_CLI_MAX	32
struct mx_config_source {
	const char *path;		/* the settings file */
	bool path_given;		/* named by the operator: it must exist */
	unsigned int n;
	struct {
		const char *key, *value;
	} cli[MX_CONFIG_CLI_MAX];	/* the command line's settings, in order */
};
/* Add a command-line setting; -1 when there are too many. */
int mx_config_source_add(struct mx_config_source *src, const char *key, const char *value);
/* Defaults, the file, the command line. 0, or the number of errors (in err). */
int mx_config_read(struct mx_config_file *c, const struct mx_config_source *src,
		   char *err, size_t errlen);

const char *mx_config_restart_needed(const struct mx_config_file *old,
				     const struct mx_config_file *new);
/* Those settings of next put back as running has them (a reload keeps them). */
void mx_config_keep_restart(struct mx_config_file *next, const struct mx_config_file *running);

#endif /* MX_CONFIG_H */
