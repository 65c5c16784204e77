/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	crowdsecd.h - CrowdSec's Local API: a bouncer and a machine in the agent
 */
#ifndef MX_CROWDSECD_H
#define MX_CROWDSECD_H

#include <stdbool.h>
#include <stdint.h>

struct agent;

struct crowdsec_stats {
	uint64_t applied;		/* LAPI's bans claimed (new, or renewed longer) */
	uint64_t removed;		/* LAPI's bans gone because LAPI deleted them */
	uint64_t lifted;		/* this host's engine bans lifted by a central delete */
	uint64_t ignored;		/* decisions of other types or scopes, or over */
	uint64_t errors;		/* polls that failed: unreachable, refused, malformed */
	uint64_t pushed;		/* mxguard's bans LAPI acknowledged */
	uint64_t push_errors;		/* pushes (or logins) that failed, each retried */
};

/* What `mxguard crowdsec show` prints. */
struct crowdsec_info {
	bool enabled, machine;
	const char *url;
	const char *state;		/* "connecting", "ok", "error" */
	int64_t last_sync;		/* wall clock, s; 0: never */
	uint64_t decisions;		/* LAPI's bans in force (prefixes) */
	uint64_t pushes_pending;
	const char *last_error;		/* NULL: none */
	struct crowdsec_stats stats;
};

/* Poll crowdsec_url and push to it, in the agent's event loop (nothing without it). 0 or -1. */
int crowdsecd_open(struct agent *a);
void crowdsecd_close(struct agent *a);
/*
 * A reload: the key and the password read again (the caller checked
 * them); a new URL starts over with a full sync. The secrets are copied.
 */
void crowdsecd_configure(struct agent *a, const char *key, const char *password);
void crowdsecd_info(const struct agent *a, struct crowdsec_info *out);

#endif /* MX_CROWDSECD_H */
