// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_reload.c - mxguard reload: read the settings file again
 * DESCRIPTION
 *	As SIGHUP: the agent re-reads its settings and applies them to the
 *	running data plane without detaching; bans, buckets and counts
 *	stay. An invalid file keeps the running settings and says why.
 */
#include "agent.h"
#include "commands.h"

int do_reload(struct mx_cmd_ctx *c, int argc, char **argv)
{
	char msg[2400];

	if (argc)
		return BAD_ARG();
	if (agent_reload(c->agent, msg, sizeof(msg))) {
		p_err(c, "%s", msg);
		return -1;
	}
	if (c->json)
		jsonw_null(c->jw);
	else
		fprintf(c->out, "%s\n", msg);
	return 0;
}
