// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_limit.c - mxguard limit { show | set }
 * DESCRIPTION
 *	The per-class limits. A change is checked, written to the
 *	class_limits map and kept in the agent's settings; buckets keep
 *	their state, so a lower rate applies from the next SYN on.
 * CONFIGURATION PARAMETERS
 *	rate, burst, prefix-rate, prefix-burst, parallel, prefix-parallel
 *	per class; defaults in tables.c, mx_settings_default().
 */
#include <errno.h>
#include <string.h>

#include "agent.h"
#include "commands.h"
#include "maps.h"

/* Bursts above this are typos: a million SYNs at once is no limit. */
#define MX_MAX_BURST		1000000
#define MX_MAX_PARALLEL		1000000

static const char *const class_names[MX_MAX_CLASSES] = {
	[0] = "default",
	[1] = "strict",
};

/* parse_class - "0".."15", "default" or "strict" */
static int parse_class(struct mx_cmd_ctx *c, const char *s, uint32_t *id)
{
	char err[96];

	for (uint32_t i = 0; i < MX_MAX_CLASSES; i++) {
		if (class_names[i] && strcmp(s, class_names[i]) == 0) {
			*id = i;
			return 0;
		}
	}
	if (mx_parse_u32(s, 0, MX_MAX_CLASSES - 1, id, err, sizeof(err))) {
		p_err(c, "class '%s': use 0..%d, default or strict", s, MX_MAX_CLASSES - 1);
		return -1;
	}
	return 0;
}

/* show_class - one class as a text row or JSON object */
static void show_class(struct mx_cmd_ctx *c, uint32_t id, const struct mx_class_limits *l)
{
	char rate[32], prate[32];

	mx_format_rate(l->src_interval_ns, rate, sizeof(rate));
	mx_format_rate(l->pfx_interval_ns, prate, sizeof(prate));
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_uint_field(c->jw, "class", id);
		jsonw_string_field(c->jw, "name", class_names[id] ? class_names[id] : "");
		jsonw_uint_field(c->jw, "rate_interval_ns", l->src_interval_ns);
		jsonw_string_field(c->jw, "rate", rate);
		jsonw_uint_field(c->jw, "burst", l->src_burst);
		jsonw_uint_field(c->jw, "prefix_rate_interval_ns", l->pfx_interval_ns);
		jsonw_string_field(c->jw, "prefix_rate", prate);
		jsonw_uint_field(c->jw, "prefix_burst", l->pfx_burst);
		jsonw_uint_field(c->jw, "parallel", l->src_parallel);
		jsonw_uint_field(c->jw, "prefix_parallel", l->pfx_parallel);
		jsonw_end_object(c->jw);
		return;
	}
	fprintf(c->out, "%-3u %-8s %-12s %-6u %-12s %-6u %-8u %u\n", id,
		class_names[id] ? class_names[id] : "-", rate, l->src_burst,
		prate, l->pfx_burst, l->src_parallel, l->pfx_parallel);
}

/* do_show - limit show [CLASS] */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	uint32_t first = 0, last = MX_MAX_CLASSES - 1;
	const struct mx_settings *s = &c->agent->settings;

	if (argc) {
		if (parse_class(c, *argv, &first))
			return -1;
		last = first;
		NEXT_ARG();
		if (argc)
			return BAD_ARG();
	}
	if (c->json)
		jsonw_start_array(c->jw);
	else
		fprintf(c->out, "%-3s %-8s %-12s %-6s %-12s %-6s %-8s %s\n", "ID", "CLASS",
			"RATE", "BURST", "PREFIX-RATE", "BURST", "PARALLEL", "PREFIX-PARALLEL");
	for (uint32_t i = first; i <= last; i++)
		show_class(c, i, &s->classes[i]);
	if (c->json)
		jsonw_end_array(c->jw);
	return 0;
}

/* do_set - limit set CLASS KEY VALUE */
static int do_set(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	struct mx_class_limits l;
	const char *key, *val;
	char err[160];
	uint32_t id;

	REQ_ARGS(3);
	if (parse_class(c, argv[0], &id))
		return -1;
	key = argv[1];
	val = argv[2];
	if (argc > 3) {
		argc -= 3;
		argv += 3;
		return BAD_ARG();
	}
	l = a->settings.classes[id];

	if (strcmp(key, "rate") == 0 || strcmp(key, "prefix-rate") == 0) {
		uint64_t iv;

		if (mx_parse_rate(val, &iv, err, sizeof(err))) {
			p_err(c, "%s", err);
			return -1;
		}
		*(key[0] == 'r' ? &l.src_interval_ns : &l.pfx_interval_ns) = iv;
	} else if (strcmp(key, "burst") == 0 || strcmp(key, "prefix-burst") == 0) {
		uint32_t v;

		if (mx_parse_u32(val, 1, MX_MAX_BURST, &v, err, sizeof(err))) {
			p_err(c, "%s: %s", key, err);
			return -1;
		}
		*(key[0] == 'b' ? &l.src_burst : &l.pfx_burst) = v;
	} else if (strcmp(key, "parallel") == 0 || strcmp(key, "prefix-parallel") == 0) {
		uint32_t v;

		if (mx_parse_u32(val, 1, MX_MAX_PARALLEL, &v, err, sizeof(err))) {
			p_err(c, "%s: %s", key, err);
			return -1;
		}
		*(key[0] == 'p' && key[1] == 'a' ? &l.src_parallel : &l.pfx_parallel) = v;
	} else {
		p_err(c, "unknown limit '%s': rate, burst, prefix-rate, prefix-burst, parallel, prefix-parallel",
		      key);
		return -1;
	}

	if (mx_map_update(a->dp.class_limits_fd, &id, &l, BPF_ANY)) {
		p_err(c, "cannot write class %u: %s", id, strerror(errno));
		return -1;
	}
	a->settings.classes[id] = l;
	if (c->json)
		jsonw_null(c->jw);
	return 0;
}

static const struct cmd cmds[] = {
	{ "show",	do_show },
	{ "list",	do_show },
	{ "set",	do_set },
	{ "help",	help_limit },
	{ 0 }
};

int do_limit(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_limit);
}
