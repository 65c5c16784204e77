/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	serve.h - run mxguardd's services on one event loop
 */
#ifndef MX_SERVE_H
#define MX_SERVE_H

struct agent;

/* Open every service in the event loop and run it until SIGTERM or SIGINT. */
int agent_serve(struct agent *a);

#endif /* MX_SERVE_H */
