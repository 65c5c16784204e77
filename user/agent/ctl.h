/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	ctl.h - the control socket: the CLI's requests, run as commands or jobs
 */
#ifndef MX_CTL_H
#define MX_CTL_H

struct agent;

/*
 * Listen on a->cfg.socket (root only) in the agent's event loop; each
 * request is run by a->run_command. 0 or -1.
 */
int ctl_open(struct agent *a);
/* Tell unfinished jobs' clients so, close every connection, remove the socket. */
void ctl_close(struct agent *a);

#endif /* MX_CTL_H */
