/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	counters.h - the agent's own counters, listed once for stats and metrics
 * DESCRIPTION
 *	What the agent counts beside the data plane's per-CPU counters: each
 *	counter once, with its name in `mxguard stats` and its Prometheus
 *	family (and label) in /metrics. A family's members follow each other;
 *	its help and type are on each member, the same.
 */
#ifndef MX_COUNTERS_H
#define MX_COUNTERS_H

#include <stdint.h>

struct agent;

struct agent_counter {
	const char *stat;	/* its name in `mxguard stats`; NULL: metrics only */
	const char *metric;	/* its family in /metrics; NULL: stats only */
	const char *label;	/* name="value" inside the braces; NULL: none */
	const char *type;	/* "counter" or "gauge" */
	const char *help;
	uint64_t per_unit;	/* the metric is the value divided by this (1: as counted) */
};

typedef void (*agent_counter_fn)(const struct agent_counter *k, uint64_t v, void *arg);

/* Each counter with its value now, in order. */
void agent_counters(const struct agent *a, agent_counter_fn fn, void *arg);

#endif /* MX_COUNTERS_H */
