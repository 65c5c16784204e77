// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_class.c - mxguard class { add | del | list }: sources' limit classes
 * DESCRIPTION
 *	A source or prefix put in a class gets that class's limits (limit
 *	show); everyone else gets class 0. The policy service assigns
 *	ptr_class (strict) to senders without forward-confirmed PTR
 *	(senders.c); operators assign any class by hand here, and theirs
 *	wins: setting or deleting the class of exactly an address takes an
 *	automatic class there back first. Journalled first, as bans are.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "commands.h"
#include "store.h"

/* parse_class_id - "0".."15", "default" or "strict" */
static int parse_class_id(struct mx_cmd_ctx *c, const char *s, uint32_t *id)
{
	char err[96];

	if (!strcmp(s, "default")) {
		*id = 0;
		return 0;
	}
	if (!strcmp(s, "strict")) {
		*id = 1;
		return 0;
	}
	if (mx_parse_u32(s, 0, MX_MAX_CLASSES - 1, id, err, sizeof(err))) {
		p_err(c, "class '%s': use 0..%d, default or strict", s, MX_MAX_CLASSES - 1);
		return -1;
	}
	return 0;
}

/* do_add - class add PREFIX CLASS */
static int do_add(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct mx_class_ref ref;
	struct mx_prefix p;
	char err[320];

	REQ_ARGS(2);
	if (mx_parse_prefix(argv[0], &p, err, sizeof(err))) {
		p_err(c, "%s", err);
		return -1;
	}
	if (parse_class_id(c, argv[1], &ref.class_id))
		return -1;
	if (argc > 2) {
		argc -= 2;
		argv += 2;
		return BAD_ARG();
	}
	/* An automatic class there is taken back first: the operator's wins (store.h). */
	if (store_class_set(&c->agent->store, &p, ref.class_id, err, sizeof(err))) {
		p_err(c, "cannot assign the class: %s", err);
		return -1;
	}
	if (c->json)
		jsonw_null(c->jw);
	return 0;
}

/*
 * do_del - class del PREFIX: the class of exactly PREFIX, the operator's
 * or one the agent gave automatically
 */
static int do_del(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct mx_prefix p;
	char err[320];

	if (cmd_prefix_arg(c, argc, argv, &p))
		return -1;
	if (store_class_del(&c->agent->store, &p, err, sizeof(err))) {
		p_err(c, "cannot delete class assignment %s: %s", *argv, err);
		return -1;
	}
	if (c->json)
		jsonw_null(c->jw);
	return 0;
}

/* list_one - one assignment */
static int list_one(const struct mx_prefix *p, const void *val, void *arg)
{
	const struct mx_class_ref *ref = val;
	struct mx_cmd_ctx *c = arg;
	char pfx[64];

	mx_format_prefix(p, pfx, sizeof(pfx));
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "prefix", pfx);
		jsonw_uint_field(c->jw, "class", ref->class_id);
		jsonw_end_object(c->jw);
	} else {
		fprintf(c->out, "%-43s %u\n", pfx, ref->class_id);
	}
	return ferror(c->out) ? -EPIPE : 0;
}

/* do_list - class list */
static int do_list(struct mx_cmd_ctx *c, int argc, char **argv)
{
	if (argc)
		return BAD_ARG();
	if (c->json)
		jsonw_start_array(c->jw);
	else
		fprintf(c->out, "%-43s %s\n", "PREFIX", "CLASS");
	mx_table_foreach(&c->agent->store.classes, list_one, c);
	if (c->json)
		jsonw_end_array(c->jw);
	return 0;
}

static const struct cmd cmds[] = {
	{ "add",	do_add },
	{ "delete",	do_del },
	{ "list",	do_list },
	{ "show",	do_list },
	{ "help",	help_class },
	{ 0 }
};

int do_class(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_class);
}
