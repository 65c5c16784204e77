// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	log.c - the agent's log lines
 * DESCRIPTION
 *	One line on stderr per event, prefixed "mxguardd: "; under systemd
 *	the journal adds the time and the unit.
 */
#include <stdarg.h>
#include <stdio.h>

#include "clock.h"
#include "log.h"

/* mx_log - one line on stderr */
void mx_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mxguardd: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * mx_log_limited - one line, at most once every 10 s for the same
 * rate state: an error that every packet or request of a flood meets (a
 * full disk, a full table) is said, with how often, not repeated.
 */
void mx_log_limited(struct mx_log_rate *r, const char *fmt, ...)
{
	uint64_t now_ms = mx_mono_ms();
	va_list ap;

	r->count++;
	if (r->last_ms && now_ms - r->last_ms < 10000)
		return;
	va_start(ap, fmt);
	fputs("mxguardd: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (r->count > 1)
		fprintf(stderr, " (%llu times since the last such line)", (unsigned long long)r->count);
	fputc('\n', stderr);
	r->count = 0;
	r->last_ms = now_ms;
}
