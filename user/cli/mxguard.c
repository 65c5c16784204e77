// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	mxguard - command line of the mxguard agent
 * SYNOPSIS
 *	mxguard [-j|-p] [-s SOCKET] OBJECT COMMAND ARGS
 * DESCRIPTION
 *	In bpftool's grammar. Help and version are answered here; every
 *	other command goes to mxguardd over its control socket, which runs
 *	it and streams the output back (control.h). Exit status: 0 on
 *	success, 1 when the command failed, 2 when the agent could not be
 *	reached or the reply was cut.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "control.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument,	   NULL, 'j' },
		{ "pretty",	no_argument,	   NULL, 'p' },
		{ "socket",	required_argument, NULL, 's' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ 0 }
	};
	struct mx_cmd_ctx c = { .out = stdout, .err = stderr };
	const char *socket_path = MX_SOCKET_PATH;
	bool version = false;
	char err[256];
	int opt, fd, status = 2, r;

	while ((opt = getopt_long(argc, argv, "+jps:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			c.pretty = true;
			/* fall through */
		case 'j':
			c.json = true;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'V':
			version = true;
			break;
		case 'h':
			argc = optind;	/* as "help" */
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	/* Local output (help, version, errors) is written here; the rest by the agent. */
	if (c.json) {
		c.jw = jsonw_new(stdout);
		if (!c.jw)
			return 2;
		jsonw_pretty(c.jw, c.pretty);
	}
	if (version || (argc >= 1 && is_prefix(argv[0], "version"))) {
		if (c.json) {
			jsonw_start_object(c.jw);
			jsonw_string_field(c.jw, "version", MX_VERSION);
			jsonw_end_object(c.jw);
			jsonw_destroy(&c.jw);
		} else {
			printf("mxguard v%s\n", MX_VERSION);
		}
		return 0;
	}
	if (mx_is_help_request(argc, argv)) {
		r = mx_run_help(&c, argc, argv);
		if (c.jw)
			jsonw_destroy(&c.jw);
		return r ? 1 : 0;
	}

	/* The agent opens a blocklist file itself: name it from the root. */
	if (argc >= 4 && is_prefix(argv[0], "blocklist") && is_prefix(argv[1], "load") &&
	    argv[3][0] != '/') {
		static char abs[4096];

		if (!realpath(argv[3], abs)) {
			p_err(&c, "%s: %s", argv[3], strerror(errno));
			if (c.jw)
				jsonw_destroy(&c.jw);
			return 1;
		}
		argv[3] = abs;
	}
	fd = mx_ctl_connect(socket_path, err, sizeof(err));
	if (fd < 0) {
		p_err(&c, "%s", err);
		if (c.jw)
			jsonw_destroy(&c.jw);
		return 2;
	}
	free(c.jw);	/* unused: the agent writes the JSON */
	c.jw = NULL;
	r = mx_ctl_send_request(fd, c.pretty ? "pretty" : c.json ? "json" : "plain", argc, argv);
	if (r == -E2BIG) {
		/* Nothing was sent: say so now rather than wait for the agent's timeout. */
		fprintf(stderr, "Error: the command is too large: at most %d bytes and %d arguments\n",
			MX_CTL_MAX_REQUEST, MX_CTL_MAX_ARGS);
		close(fd);
		return 1;
	}
	/* A refused request (busy, not root) may be answered before it is sent: read why. */
	if (r && mx_ctl_read_reply(fd, stdout, stderr, &status)) {
		fprintf(stderr, "Error: cannot send the request: %s\n", strerror(-r));
		close(fd);
		return 2;
	}
	if (r) {
		close(fd);
		return status;
	}
	if (mx_ctl_read_reply(fd, stdout, stderr, &status)) {
		fprintf(stderr, "Error: the reply from mxguardd was cut short\n");
		status = 2;
	}
	close(fd);
	return status;
}
