/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	log.h - the agent's log lines
 * DESCRIPTION
 *	One line on stderr per event, prefixed "mxguardd: "; under systemd
 *	the journal adds the time and the unit.
 */
#ifndef MX_LOG_H
#define MX_LOG_H

#include <stdint.h>

void mx_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same error, said once every 10 s with how often it came meanwhile. */
struct mx_log_rate {
	uint64_t last_ms, count;
};
void mx_log_limited(struct mx_log_rate *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* MX_LOG_H */
