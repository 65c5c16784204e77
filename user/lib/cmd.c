// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd.c - command dispatch, errors, the object table
 * DESCRIPTION
 *	As in bpftool: each object has a cmds[] table; a word selects the
 *	command it is an unambiguous prefix of ("mxguard b l" is "ban
 *	list"). Aliases (list for show) share a function and so are never
 *	ambiguous with each other.
 * DIAGNOSTICS
 *	p_err() writes {"error": "..."} to the output in JSON mode and
 *	"Error: ..." to the error stream otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static __thread const char *current_cmd = "mxguard";

/* cmd_name - the word being executed, for messages */
const char *cmd_name(struct mx_cmd_ctx *c)
{
	return current_cmd;
}

/* p_err - report an error in the form the caller asked for */
void p_err(struct mx_cmd_ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->json && c->jw) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "error", msg);
		jsonw_end_object(c->jw);
	} else {
		fprintf(c->err, "Error: %s\n", msg);
	}
}

/* p_info - a note for people; silent in JSON mode */
void p_info(struct mx_cmd_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->json)
		return;
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
}

/* is_prefix - is pfx a non-empty prefix of str? */
bool is_prefix(const char *pfx, const char *str)
{
	size_t n = strlen(pfx);

	return n && strlen(str) >= n && memcmp(str, pfx, n) == 0;
}

/* cmd_select - run the command argv[0] names, or help when none */
int cmd_select(struct mx_cmd_ctx *c, const struct cmd *cmds, int argc, char **argv,
	       mx_cmd_fn help)
{
	const struct cmd *found = NULL;
	char names[256] = "";
	int matches = 0;

	if (argc < 1)
		return help(c, argc, argv);

	for (const struct cmd *k = cmds; k->cmd; k++) {
		if (strcmp(argv[0], k->cmd) == 0) {
			found = k;
			matches = 1;
			break;
		}
		if (!is_prefix(argv[0], k->cmd))
			continue;
		if (found && found->func == k->func)
			continue;	/* an alias of a match */
		if (matches++)
			strncat(names, ", ", sizeof(names) - strlen(names) - 1);
		strncat(names, k->cmd, sizeof(names) - strlen(names) - 1);
		found = k;
	}
	if (matches > 1) {
		p_err(c, "'%s' is ambiguous: %s", argv[0], names);
		return -1;
	}
	if (!found) {
		p_err(c, "unknown command '%s'; try 'help'", argv[0]);
		return -1;
	}
	current_cmd = found->cmd;
	return found->func(c, argc - 1, argv + 1);
}

/* mx_cmd_job - see cmd.h */
int mx_cmd_job(struct mx_cmd_ctx *c, struct mx_job *j)
{
	int r;

	if (c->async) {
		c->job = j;
		return 0;
	}
	while ((r = j->step(j, c, UINT64_MAX)) != 0)
		if (r == 2)
			usleep(1000);
	r = j->ret;
	j->free(j);
	return r;
}

static const struct cmd help_objects[] = {
	{ "ban",	help_ban },
	{ "b",		help_ban },
	{ "allow",	help_allow },
	{ "blocklist",	help_blocklist },
	{ "class",	help_class },
	{ "sender",	help_sender },
	{ "limit",	help_limit },
	{ "stats",	help_stats },
	{ "prog",	help_prog },
	{ "conn",	help_conn },
	{ "ip",		help_ip },
	{ "crowdsec",	help_crowdsec },
	{ "help",	do_help },
	{ 0 }
};

/*
 * mx_is_help_request - "help", "OBJECT", "OBJECT help", or nothing:
 * the CLI answers these itself, so help works with no agent running.
 */
bool mx_is_help_request(int argc, char **argv)
{
	if (argc == 0 || is_prefix(argv[0], "help"))
		return true;
	if (argc == 1 && !is_prefix(argv[0], "stats") && !is_prefix(argv[0], "reload") &&
	    !(strlen(argv[0]) >= 2 && is_prefix(argv[0], "crowdsec")))
		return true;
	return argc >= 2 && is_prefix(argv[1], "help");
}

/* mx_run_help - print the help an mx_is_help_request() line asks for */
int mx_run_help(struct mx_cmd_ctx *c, int argc, char **argv)
{
	if (argc == 0)
		return do_help(c, 0, argv);
	return cmd_select(c, help_objects, 1, argv, do_help);
}
