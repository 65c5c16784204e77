/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	cmd.h - bpftool-style command dispatch, output and help, for agent and CLI
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
struct mx_job;

#ifndef MX_VERSION
#define MX_VERSION "0.1.0"
#endif

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
int help_crowdsec(struct mx_cmd_ctx *c, int argc, char **argv);

/* Does this command line ask only for help (answerable without agent)? */
bool mx_is_help_request(int argc, char **argv);
int mx_run_help(struct mx_cmd_ctx *c, int argc, char **argv);

#endif /* MX_CMD_H */
