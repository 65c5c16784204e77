/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	verdictd.h - content verdicts: rspamd pushes each message's result
 */
#ifndef MX_VERDICTD_H
#define MX_VERDICTD_H

#include <stdint.h>

#include "rspamd.h"

struct agent;

struct verdict_stats {
	uint64_t spam, clean;		/* verdicts taken, by what spam_actions made of them */
	uint64_t unauthenticated;	/* 401: no or wrong credentials */
	uint64_t malformed;		/* 400: not HTTP, or a body that is no verdict */
	uint64_t too_large;		/* 413 */
	uint64_t not_local;		/* 403: a peer not on loopback */
	uint64_t other;			/* 404, 405, 411, 414, 431, 505 */
	uint64_t errors;		/* 500: the verdict could not be recorded */
};

/* Serve verdict_listen in the agent's event loop (nothing if it is empty). 0 or -1. */
int verdictd_open(struct agent *a);
void verdictd_close(struct agent *a);
/* New credentials (a reload): the running server takes them; without one, nothing. */
void verdictd_configure(struct agent *a, const struct mx_rspamd_auth *auth);
/* The counters (all 0 without the service). */
void verdictd_stats(const struct agent *a, struct verdict_stats *out);

#endif /* MX_VERDICTD_H */
