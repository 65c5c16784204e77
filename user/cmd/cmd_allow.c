// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_allow.c - mxguard allow { add | del | list }
 * DESCRIPTION
 *	An allowlisted source or prefix is never limited and never
 *	dropped by the XDP program, whatever the ban tables say.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "commands.h"
#include "store.h"

/* do_add - allow add PREFIX */
static int do_add(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct mx_prefix p;
	char err[320];

	if (cmd_prefix_arg(c, argc, argv, &p))
		return -1;
	if (store_allow_add(&c->agent->store, &p, err, sizeof(err))) {
		p_err(c, "cannot add allowlist entry: %s", err);
		return -1;
	}
	if (c->json)
		jsonw_null(c->jw);
	return 0;
}

/* do_del - allow del PREFIX */
static int do_del(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct mx_prefix p;
	char err[320];

	if (cmd_prefix_arg(c, argc, argv, &p))
		return -1;
	if (store_allow_del(&c->agent->store, &p, err, sizeof(err))) {
		p_err(c, "cannot delete allowlist entry %s: %s", *argv, err);
		return -1;
	}
	if (c->json)
		jsonw_null(c->jw);
	return 0;
}

/* list_one - one allowlist entry */
static int list_one(const struct mx_prefix *p, const void *val, void *arg)
{
	struct mx_cmd_ctx *c = arg;
	char pfx[64];

	mx_format_prefix(p, pfx, sizeof(pfx));
	if (c->json)
		jsonw_string(c->jw, pfx);
	else
		fprintf(c->out, "%s\n", pfx);
	return ferror(c->out) ? -EPIPE : 0;
}

/* do_list - allow list */
static int do_list(struct mx_cmd_ctx *c, int argc, char **argv)
{
	int r;

	if (argc)
		return BAD_ARG();
	if (c->json)
		jsonw_start_array(c->jw);
	r = mx_table_foreach(&c->agent->store.allows, list_one, c);
	if (c->json)
		jsonw_end_array(c->jw);
	if (r) {
		p_err(c, "allow list stopped: %s", strerror(-r));
		return -1;
	}
	return 0;
}

static const struct cmd cmds[] = {
	{ "add",	do_add },
	{ "delete",	do_del },
	{ "list",	do_list },
	{ "show",	do_list },
	{ "help",	help_allow },
	{ 0 }
};

int do_allow(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_allow);
}
