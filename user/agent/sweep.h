/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	sweep.h - expired bans out of the maps, a slice at a time
 */
#ifndef MX_SWEEP_H
#define MX_SWEEP_H

struct agent;

/* A pass every ban_sweep_interval in the agent's event loop. 0 or -1. */
int ban_sweep_open(struct agent *a);
/* Stop, a pass going or not, and free what it holds. */
void ban_sweep_close(struct agent *a);

#endif /* MX_SWEEP_H */
