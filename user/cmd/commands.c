// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	commands.c - the objects the agent runs commands for, and what
 *	commands share: deleting an entry, ban options, jobs, table walks
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "commands.h"
#include "mapwalk.h"

/* cmd_prefix_arg - the one PREFIX argument a command takes; -1 after saying what is wrong */
int cmd_prefix_arg(struct mx_cmd_ctx *c, int argc, char **argv, struct mx_prefix *p)
{
	char err[160];

	REQ_ARGS(1);
	if (mx_parse_prefix(*argv, p, err, sizeof(err))) {
		p_err(c, "%s", err);
		return -1;
	}
	if (argc > 1) {
		NEXT_ARG();
		return BAD_ARG();
	}
	return 0;
}

/*
 * cmd_ban_opts - what bans take after their subject: [ttl DURATION |
 * permanent] [reason TEXT], and [lenient] where allowed. The caller sets
 * the defaults in o. 0, or -1 after saying what is wrong.
 */
int cmd_ban_opts(struct mx_cmd_ctx *c, int argc, char **argv, struct ban_opts *o,
		 bool allow_lenient)
{
	char err[160];

	while (argc) {
		if (is_prefix(*argv, "ttl")) {
			NEXT_ARG();
			REQ_ARGS(1);
			if (mx_parse_duration(*argv, &o->ttl_ns, err, sizeof(err))) {
				p_err(c, "%s", err);
				return -1;
			}
			o->permanent = false;
		} else if (is_prefix(*argv, "permanent")) {
			o->permanent = true;
		} else if (is_prefix(*argv, "reason")) {
			NEXT_ARG();
			REQ_ARGS(1);
			o->reason = *argv;
			if (strlen(o->reason) >= MX_REASON_LEN) {
				p_err(c, "reason is longer than %d bytes", MX_REASON_LEN - 1);
				return -1;
			}
			if (!mx_utf8_valid(o->reason)) {
				p_err(c, "reason is not valid UTF-8");
				return -1;
			}
			for (const char *t = o->reason; *t; t++) {
				if ((unsigned char)*t < 0x20 || *t == 0x7f) {
					p_err(c, "reason contains a control character");
					return -1;
				}
			}
		} else if (allow_lenient && is_prefix(*argv, "lenient")) {
			o->lenient = true;
		} else {
			return BAD_ARG();
		}
		NEXT_ARG();
	}
	return 0;
}

/*
 * "b" is ban's own short name: with blocklist beside it the prefix
 * would be ambiguous, and "mxguard b l" is what operators type most.
 */
static const struct cmd objects[] = {
	{ "ban",	do_ban },
	{ "b",		do_ban },
	{ "allow",	do_allow },
	{ "blocklist",	do_blocklist },
	{ "class",	do_class },
	{ "sender",	do_sender },
	{ "limit",	do_limit },
	{ "stats",	do_stats },
	{ "prog",	do_prog },
	{ "conn",	do_conn },
	{ "ip",		do_ip },
	{ "reload",	do_reload },
	{ "crowdsec",	do_crowdsec },
	{ "help",	do_help },
	{ 0 }
};

struct walk_job {
	struct mx_job job;
	const struct mx_table *t;
	int map;
	struct mx_walk w;
	int (*each)(const struct mx_prefix *p, const void *val, void *arg);
	int (*done)(struct mx_cmd_ctx *c, void *arg, int r);
	void *arg;
};

/* walk_entry - a map entry as a prefix, to the command's callback (mx_walk callback) */
static int walk_entry(const void *key, const void *val, void *arg)
{
	struct walk_job *wj = arg;
	struct mx_prefix p;

	mx_table_key_prefix((enum mx_table_map)wj->map, key, &p);
	return wj->each(&p, val, wj->arg);
}

/* writable - may the job write now without waiting on the client? */
static bool writable(const struct mx_cmd_ctx *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

	return c->fd <= 0 || (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLOUT | POLLERR | POLLHUP)));
}

#define WALK_SLICE	64	/* entries, a few KiB of output */

static int walk_step(struct mx_job *j, struct mx_cmd_ctx *c, uint64_t deadline_us)
{
	struct walk_job *wj = (struct walk_job *)j;
	int r = 0;

	/* The context moves with the job: the callbacks find it where it is now. */
	*(struct mx_cmd_ctx **)wj->arg = c;
	while (wj->map < MX_TABLE_MAPS) {
		if (mx_mono_us() >= deadline_us)
			return 1;
		if (!writable(c))
			return 2;	/* the client reads slowly: wait for it */
		if (!wj->w.key_size)
			r = mx_walk_init(&wj->w, wj->t->fd[wj->map], 0, wj->t->value_size);
		if (!r)
			r = mx_walk_step(&wj->w, WALK_SLICE, walk_entry, wj);
		fflush(c->out);
		if (r < 0 || ferror(c->out)) {
			r = r < 0 ? r : -EPIPE;
			break;
		}
		if (r == 0)
			continue;
		mx_walk_free(&wj->w);
		memset(&wj->w, 0, sizeof(wj->w));
		wj->map++;
		r = 0;
	}
	j->ret = wj->done(c, wj->arg, r);
	return 0;
}

static void walk_free(struct mx_job *j)
{
	struct walk_job *wj = (struct walk_job *)j;

	mx_walk_free(&wj->w);
	free(wj->arg);
	free(wj);
}

int cmd_table_walk(struct mx_cmd_ctx *c, const struct mx_table *t,
		   int (*each)(const struct mx_prefix *p, const void *val, void *arg),
		   int (*done)(struct mx_cmd_ctx *c, void *arg, int r), const void *arg,
		   size_t arg_size)
{
	struct walk_job *wj = calloc(1, sizeof(*wj));

	if (wj)
		wj->arg = malloc(arg_size);
	if (!wj || !wj->arg) {
		if (wj)
			free(wj);
		p_err(c, "out of memory");
		return -1;
	}
	memcpy(wj->arg, arg, arg_size);
	wj->job.step = walk_step;
	wj->job.free = walk_free;
	wj->t = t;
	wj->each = each;
	wj->done = done;
	return mx_cmd_job(c, &wj->job);
}

/* mx_run_command - dispatch OBJECT COMMAND ARGS */
int mx_run_command(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, objects, argc, argv, do_help);
}
