/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	conn.h - the agent's side of the parallel-connection limit
 */
#ifndef MX_CONN_H
#define MX_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxguard.h"

struct agent;

/* A count as reconciliation sees it: what the flows say, what the map says. */
struct count_entry {
	struct mx_bucket6_key key;
	uint32_t family;
	int64_t expected, actual;
};

struct count_table {
	struct count_entry *e;
	size_t n, cap;
};

struct conn_stats {
	uint64_t halfopen_released;	/* handshakes that never completed */
	uint64_t steered_released;	/* steered SYNs whose handshake never completed */
	uint64_t corrections;		/* count drift fixed: a bug if ever non-zero */
	uint64_t adopted;		/* connections open before the agent started */
	uint64_t adopted_closed;	/* of those, closed since */
};

int conn_start(struct agent *a);
void conn_stop(struct agent *a, bool keep);
void conn_sweep(struct agent *a);
int conn_reconcile(struct agent *a, bool settle);

#endif /* MX_CONN_H */
