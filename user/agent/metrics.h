/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	metrics.h - Prometheus metrics over HTTP (GET /metrics)
 */
#ifndef MX_METRICS_H
#define MX_METRICS_H

#include <stddef.h>
#include <stdio.h>

struct agent;

/* Every metric, in the text exposition format 0.0.4. 0, or -errno. */
int mx_metrics_write(struct agent *a, FILE *out);

/* The agent's metrics server, in its event loop (nothing if metrics_listen is empty). */
int metrics_open(struct agent *a);
void metrics_close(struct agent *a);

#endif /* MX_METRICS_H */
