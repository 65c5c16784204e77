/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	commands.h - the commands mxguardd runs for the CLI
 * DESCRIPTION
 *	Each object (ban, allow, ...) lives in its own cmd_*.c and works
 *	through the agent's services: changes of bans, the allowlist and
 *	classes through the store (store.h), never on the maps directly.
 */
#ifndef MX_COMMANDS_H
#define MX_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "cmd.h"

/*
 * A job that walks a table (its four maps) a slice at a time, calling
 * each for every entry, then done (once, with the walk's result: 0 or a
 * negative errno). Output goes out slice by slice, and only while the
 * client takes it: a slow reader makes the job wait, never the agent.
 * arg (arg_size bytes) is copied into the job and freed with it; it
 * begins with a struct mx_cmd_ctx *, which the walk keeps pointing at the
 * command's context wherever the agent keeps it.
 */
struct mx_table;
struct mx_prefix;
int cmd_table_walk(struct mx_cmd_ctx *c, const struct mx_table *t,
		   int (*each)(const struct mx_prefix *p, const void *val, void *arg),
		   int (*done)(struct mx_cmd_ctx *c, void *arg, int r), const void *arg,
		   size_t arg_size);

/* The one PREFIX argument of a command; 0, or -1 after saying what is wrong. */
struct mx_prefix;
int cmd_prefix_arg(struct mx_cmd_ctx *c, int argc, char **argv, struct mx_prefix *p);

struct ban_opts {
	uint64_t ttl_ns;
	bool permanent;
	const char *reason;
	bool lenient;
};
int cmd_ban_opts(struct mx_cmd_ctx *c, int argc, char **argv, struct ban_opts *o,
		 bool allow_lenient);

/* Run a whole command line (OBJECT COMMAND ARGS) against the agent. */
int mx_run_command(struct mx_cmd_ctx *c, int argc, char **argv);

/* Objects: each lives in its own cmd_*.c. */
int do_ban(struct mx_cmd_ctx *c, int argc, char **argv);
int do_allow(struct mx_cmd_ctx *c, int argc, char **argv);
int do_limit(struct mx_cmd_ctx *c, int argc, char **argv);
int do_stats(struct mx_cmd_ctx *c, int argc, char **argv);
int do_prog(struct mx_cmd_ctx *c, int argc, char **argv);
int do_conn(struct mx_cmd_ctx *c, int argc, char **argv);
int do_ip(struct mx_cmd_ctx *c, int argc, char **argv);
int do_reload(struct mx_cmd_ctx *c, int argc, char **argv);
int do_blocklist(struct mx_cmd_ctx *c, int argc, char **argv);
int do_class(struct mx_cmd_ctx *c, int argc, char **argv);
int do_sender(struct mx_cmd_ctx *c, int argc, char **argv);
int do_crowdsec(struct mx_cmd_ctx *c, int argc, char **argv);

#endif /* MX_COMMANDS_H */
