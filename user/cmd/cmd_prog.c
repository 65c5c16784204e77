// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_prog.c - mxguard prog show: what is attached where
 */
#include <time.h>

#include "agent.h"
#include "commands.h"

/* do_show - prog show */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	char when[32] = "";
	struct tm tm;
	time_t t = (time_t)a->dp.attached_at;

	if (argc)
		return BAD_ARG();
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "interface", a->dp.ifname);
		jsonw_uint_field(c->jw, "ifindex", (uint64_t)a->dp.ifindex);
		jsonw_string_field(c->jw, "mode", a->dp.mode_name);
		jsonw_bool_field(c->jw, "dispatcher", a->dp.dispatcher);
		jsonw_uint_field(c->jw, "prog_id", a->dp.prog_id);
		jsonw_string_field(c->jw, "attached_at", when);
		jsonw_string_field(c->jw, "pin_dir", a->dp.pin_dir);
		jsonw_end_object(c->jw);
		return 0;
	}
	fprintf(c->out, "interface  %s (ifindex %d)\n", a->dp.ifname, a->dp.ifindex);
	fprintf(c->out, "mode       %s%s\n", a->dp.mode_name,
		a->dp.dispatcher ? ", through libxdp's dispatcher" : "");
	fprintf(c->out, "prog id    %u (bpftool prog show id %u)\n", a->dp.prog_id, a->dp.prog_id);
	fprintf(c->out, "attached   %s\n", when);
	fprintf(c->out, "maps       %s/\n", a->dp.pin_dir);
	return 0;
}

static const struct cmd cmds[] = {
	{ "show",	do_show },
	{ "list",	do_show },
	{ "help",	help_prog },
	{ 0 }
};

int do_prog(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_prog);
}
