/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	cmd.h - bpftool-style command dispatch shared by agent and CLI
 * DESCRIPTION
 *	A command runs with a context that says where its output goes and
 *	in which form (text, JSON, pretty JSON). In the agent, out and err
 *	are framed streams on the control connection; in tests, memory.
 */
#ifndef MX_CMD_H
#define MX_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json_writer.h"

struct agent;

#ifndef MX_VERSION
#define MX_VERSION "0.1.0"
#endif

struct mx_job;

struct mx_cmd_ctx {
	FILE *out;
	FILE *err;
	json_writer_t *jw;	/* set in JSON mode */
	bool json;
	bool pretty;
	struct agent *agent;
	bool async;		/* the agent's loop runs jobs; tests run them at once */
	struct mx_job *job;	/* set by a command that goes on as a job */
	int fd;			/* the client's connection (agent); 0: none (tests) */
};

/*
 * A command whose work is long (a blocklist of a million lines) goes on
 * as a job: the agent's event loop calls step between other requests
 * until it is done, then sends the reply; the client waits for it.
 * step works until deadline (mx_mono_us()) and returns 1 while more
 * remains, 2 while it waits on something else (a thread), 0 when done
 * with its result in ret (0 or -1, its output written).
 */
struct mx_job {
	int (*step)(struct mx_job *j, struct mx_cmd_ctx *c, uint64_t deadline_us);
	void (*free)(struct mx_job *j);
	int ret;
};

/* Start j: in the agent it goes on after the command returns; elsewhere it runs now. */
int mx_cmd_job(struct mx_cmd_ctx *c, struct mx_job *j);

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

typedef int (*mx_cmd_fn)(struct mx_cmd_ctx *c, int argc, char **argv);

struct cmd {
	const char *cmd;
	mx_cmd_fn func;
};

#define NEXT_ARG()	({ argc--; argv++; })
#define NEXT_ARGP()	({ (*argc)--; (*argv)++; })

/* REQ_ARGS - fail unless at least n arguments remain */
#define REQ_ARGS(n)							\
	({								\
		int _n = (n);						\
		if (argc < _n) {					\
			p_err(c, "'%s' needs %d more argument%s", 	\
			      argc ? *argv : cmd_name(c), _n - argc,	\
			      _n - argc > 1 ? "s" : "");		\
			return -1;					\
		}							\
	})

#define BAD_ARG()	({ p_err(c, "what is '%s'?", *argv); -1; })

void p_err(struct mx_cmd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void p_info(struct mx_cmd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool is_prefix(const char *pfx, const char *str);
int cmd_select(struct mx_cmd_ctx *c, const struct cmd *cmds, int argc, char **argv,
	       mx_cmd_fn help);
const char *cmd_name(struct mx_cmd_ctx *c);

struct ban_opts {
	uint64_t ttl_ns;
	bool permanent;
	const char *reason;
	bool lenient;
};
int cmd_ban_opts(struct mx_cmd_ctx *c, int argc, char **argv, struct ban_opts *o,
		 bool allow_lenient);

struct mx_table;
int cmd_del_entry(struct mx_cmd_ctx *c, int argc, char **argv, const struct mx_table *t,
		  int record_type, const char *what);

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

/* Help texts (help.c): usable without an agent. */
int do_help(struct mx_cmd_ctx *c, int argc, char **argv);
int help_ban(struct mx_cmd_ctx *c, int argc, char **argv);
int help_allow(struct mx_cmd_ctx *c, int argc, char **argv);
int help_limit(struct mx_cmd_ctx *c, int argc, char **argv);
int help_stats(struct mx_cmd_ctx *c, int argc, char **argv);
int help_prog(struct mx_cmd_ctx *c, int argc, char **argv);
int help_conn(struct mx_cmd_ctx *c, int argc, char **argv);
int help_ip(struct mx_cmd_ctx *c, int argc, char **argv);
int help_blocklist(struct mx_cmd_ctx *c, int argc, char **argv);
int help_class(struct mx_cmd_ctx *c, int argc, char **argv);
int help_sender(struct mx_cmd_ctx *c, int argc, char **argv);

/* Does this command line ask only for help (answerable without agent)? */
bool mx_is_help_request(int argc, char **argv);
int mx_run_help(struct mx_cmd_ctx *c, int argc, char **argv);

#endif /* MX_CMD_H */
