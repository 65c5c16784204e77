/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	senders.h - sender verdicts: trap hits, mail verdicts, automatic classes
 * DESCRIPTION
 *	The agent's verdict service: it keys each sender as the data plane
 *	counts it, asks the verdict engine (verdict.h), and has the store
 *	(store.h) make what the engine decides: bans, listings' records,
 *	automatic classes. It owns the engine, the trap addresses and its
 *	counters.
 */
#ifndef MX_SENDERS_H
#define MX_SENDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "policy.h"
#include "verdict.h"

struct mx_store;

/* Why the agent gave a sender a class (mx_sender.auto_reasons). */
#define MX_AUTO_PTR	(1U << 0)	/* no forward-confirmed PTR */
#define MX_AUTO_SPF	(1U << 1)	/* SPF fail */
#define MX_AUTO_DNSBL	(1U << 2)	/* listed in a dnsbl_zones zone */
#define MX_AUTO_SINGLE	(1U << 3)	/* one message per connection, over and over */
#define MX_AUTO_KINDS	4
#define MX_DELIST_DUE	8		/* distinct delisting times watched */

struct senders {
	struct mx_verdict verdict;		/* the engine */
	struct mx_traps traps;			/* trap addresses (trap_file) */
	struct mx_store *store;
	const struct mx_config_file *cfg;	/* classes, their times */
	const struct mx_settings *settings;	/* source_prefix_v4/v6: the engine's keys */
	uint64_t trap_hits_ignored;		/* from allowlisted senders */
	uint64_t auto_classed[MX_AUTO_KINDS];	/* classes given: no FCrDNS, SPF fail, DNSBL */
	unsigned int ticks;
	uint32_t class_cursor;			/* expire_classes goes on from here */
	uint64_t listing_gen;			/* moves at every change of a listing */
	int64_t delist_due[MX_DELIST_DUE];	/* wall seconds of scheduled delistings */
	unsigned int ndue;
	bool due_overflow;			/* more than that: look each minute */
	uint64_t messages, message_rate_refused, samples;
	struct mx_timer timer;			/* senders_tick, once a second */
};

struct sender_result {
	bool allowlisted;		/* nothing counted: the allowlist covers it */
	bool banned;			/* this call banned the sender */
	struct mx_decision d;		/* when banned */
	struct mx_prefix key;		/* the sender as the engine keys it */
};

/* Start: the engine sized from cfg, the trap file read; tells the store of it. */
int senders_init(struct senders *sd, const struct mx_config_file *cfg,
		 const struct mx_settings *settings, struct mx_store *store,
		 char *err, size_t errlen);
/* New settings (a reload); takes over traps. */
int senders_configure(struct senders *sd, struct mx_traps *traps);
void senders_free(struct senders *sd);

int senders_trap(struct senders *sd, const struct mx_prefix *addr, enum mx_trap_kind kind,
		 uint32_t count, struct sender_result *res, char *err, size_t errlen);
int senders_mail(struct senders *sd, const struct mx_prefix *addr, bool spam,
		 struct sender_result *res, char *err, size_t errlen);
int senders_forget(struct senders *sd, const struct mx_prefix *addr, char *err, size_t errlen);
/*
 * A verdict that can put a sender in a stricter class (reason: one
 * MX_AUTO_*); ok: the sender passed this time. 1 when a class was given.
 */
int senders_auto(struct senders *sd, const struct mx_prefix *addr, uint32_t reason, bool ok);
/*
 * A content filter's verdict on one message from addr to rcpts (rspamd,
 * verdictd.c): spam lists the sender; a clean mail to a samples address
 * of a listed sender schedules its delisting. 0, or -errno with err.
 */
int senders_content(struct senders *sd, const struct mx_prefix *addr, bool spam,
		    const char *const *rcpts, size_t nrcpts, struct sender_result *res,
		    char *err, size_t errlen);
/* A clean sample from addr (as senders_content, or the CLI): schedule its delisting. */
int senders_sample(struct senders *sd, const struct mx_prefix *addr, struct sender_result *res,
		   char *err, size_t errlen);
/* Is rcpt one of the samples addresses? */
bool senders_is_sample(const struct senders *sd, const char *rcpt);
/* The engine's now (boot seconds), its wall-clock relation brought up to date. */
int64_t senders_now(struct senders *sd);
/* Does the allowlist cover addr? (then no limit and no verdict touches it) */
bool senders_allowlisted(struct senders *sd, const struct mx_prefix *addr);
/* The limit class of addr: an operator's class covering it, else its automatic one, else 0. */
uint32_t senders_class_of(struct senders *sd, const struct mx_prefix *addr);
/*
 * One message from addr at END-OF-MESSAGE, within limit a minute: 1
 * (counted), 0 (over the limit: not counted), -1 (cannot track: let it
 * be). An allowlisted sender is never limited.
 */
int senders_message(struct senders *sd, const struct mx_prefix *addr, uint32_t limit);
/* Messages counted from addr's source in the last 60 s. */
uint32_t senders_messages_in_minute(struct senders *sd, const struct mx_prefix *addr);
/* An SMTP session of addr ended with messages messages: the one-message habit. */
void senders_session_end(struct senders *sd, const struct mx_prefix *addr, uint32_t messages);
/* Is the engine's entry e listed at now_s? (walkers: the DNSBL zone) */
bool senders_entry_listed(const struct senders *sd, const struct mx_sender *e, int64_t now_s);
/* Is addr listed after spam now, and not allowlisted? */
bool senders_listed(struct senders *sd, const struct mx_prefix *addr);
/* Once a second: sync hits, take back classes whose time ran out, forget old senders. */
void senders_tick(struct senders *sd);
/* Register senders_tick with the event loop. */
int senders_serve(struct senders *sd, struct mx_loop *loop);

#endif /* MX_SENDERS_H */
