/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	zone.h - the listing, and the bans, published as DNSBL zones for rbldnsd
 */
#ifndef MX_ZONE_H
#define MX_ZONE_H

#include <stdint.h>

struct agent;

enum zone_kind {
	ZONE_LISTED,		/* listed.ip4, listed.ip6: senders listed after spam */
	ZONE_BANNED,		/* banned.ip4, banned.ip6: the bans in force (zone_bans) */
	ZONE_KINDS,
};

/* What the zone writer did, by zone (all 0 while zone_dir is not set). */
struct zone_stats {
	uint64_t writes[ZONE_KINDS];	/* data files written and renamed into place */
	uint64_t errors[ZONE_KINDS];	/* writes that failed (each tried again later) */
	uint64_t entries[ZONE_KINDS];	/* entries in the files in place */
};

/* Register the writer with the event loop (it writes while zone_dir is set). 0 or -1. */
int zone_open(struct agent *a);
/* Stop: a write in progress is abandoned, its temporary files removed. */
void zone_close(struct agent *a);
void zone_stats(const struct agent *a, struct zone_stats *out);

#endif /* MX_ZONE_H */
