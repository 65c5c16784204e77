/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	snapshot.h - when the agent writes a snapshot of its state
 */
#ifndef MX_SNAPSHOT_H
#define MX_SNAPSHOT_H

struct agent;

/* Snapshots as tasks of the agent's event loop (nothing without persistence). 0 or -1. */
int snapshot_open(struct agent *a);
/* Stop scheduling; a snapshot being written is left to state_close() to finish. */
void snapshot_close(struct agent *a);

#endif /* MX_SNAPSHOT_H */
