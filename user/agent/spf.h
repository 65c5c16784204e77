/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	spf.h - SPF checks of senders, off the event loop
 */
#ifndef MX_SPF_H
#define MX_SPF_H

#include <stdint.h>

#include "config.h"
#include "parse.h"

enum mx_spf_result {
	MX_SPF_NONE,		/* none, neutral, permerror: nothing to say */
	MX_SPF_PASS,
	MX_SPF_FAIL,
	MX_SPF_SOFTFAIL,
	MX_SPF_TEMPERROR,
	MX_SPF__MAX,
};

enum mx_dnsbl_result {
	MX_DNSBL_CLEAN,		/* in none of the zones */
	MX_DNSBL_LISTED,	/* in at least one */
	MX_DNSBL_ERROR,		/* a zone did not answer: nothing to say */
	MX_DNSBL__MAX,
};


/* A result from the worker to the event loop (one pipe write). */
struct mx_spf_answer {
	struct mx_prefix addr;
	uint32_t dnsbl;		/* 1: a DNSBL result, 0: SPF */
	uint32_t result;	/* enum mx_spf_result or mx_dnsbl_result */
};

/* What the checks came to; kept by the SPF service (all 0 when it is off). */
struct spf_stats {
	uint64_t queued;			/* SPF checks queued */
	uint64_t dropped;			/* SPF checks and DNSBL lookups dropped: queue full */
	uint64_t results[MX_SPF__MAX];		/* SPF, by result */
	uint64_t dnsbl[MX_DNSBL__MAX];		/* DNSBL lookups, by result */
};

struct agent;
/* Start the worker (if spf_class or dnsbl_zones asks for it); its results come through the event loop. */
int spf_open(struct agent *a);
void spf_close(struct agent *a);
/* Queue a check (never blocks; a full queue drops it and counts it). */
void spf_submit(struct agent *a, const struct mx_prefix *addr, const char *sender,
		const char *helo);
/* Queue a DNSBL lookup of the address in every dnsbl_zones zone. */
void dnsbl_submit(struct agent *a, const struct mx_prefix *addr);
/* The DNS name to look up for addr in zone; 0, or -1 if it does not fit. */
int mx_dnsbl_name(const struct mx_prefix *addr, const char *zone, char *name, size_t len);
void spf_stats(const struct agent *a, struct spf_stats *out);

#endif /* MX_SPF_H */
