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

#include "agent.h"

/* agent_log - one line on stderr */
void agent_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mxguardd: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
