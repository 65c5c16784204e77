// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	mxguardd - the mxguard agent
 * SYNOPSIS
 *	mxguardd [--config FILE] [--interface IFACE] [OPTIONS] [--keep]
 *	mxguardd [--config FILE] --check-config
 *	mxguardd --detach --interface IFACE
 * DESCRIPTION
 *	Loads the XDP program onto IFACE, pins its maps under
 *	/sys/fs/bpf/mxguard, writes the default limits and serves the
 *	control socket that the mxguard CLI talks to. SIGTERM or SIGINT
 *	detaches the program and removes the pins, unless --keep asks to
 *	leave both in place (protection goes on without the agent).
 *	--detach removes what a --keep run left behind.
 *
 *	Settings come from the settings file (default
 *	/etc/mxguard/mxguard.conf, which may be missing), then from the
 *	command line, whose options are settings by another name: each is
 *	checked exactly as the same key in the file. SIGHUP re-reads both
 *	and applies them to the running data plane; an invalid file keeps
 *	the running settings.
 * SEE ALSO
 *	mxguard(8), README.md
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "commands.h"
#include "config.h"

/* usage - print the synopsis */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mxguardd [--config FILE] [--interface IFACE] [OPTIONS] [--keep]\n"
		"       mxguardd [--config FILE] --check-config\n"
		"       mxguardd --detach --interface IFACE [--pin-dir DIR]\n"
		"\n"
		"  -C, --config FILE      settings file (default " MX_CONFIG_PATH ")\n"
		"      --check-config     check the settings, print them wrong or say OK, exit\n"
		"  -k, --keep             on exit, leave the programs attached and maps pinned\n"
		"  -d, --detach           remove programs and pins left in place, then exit\n"
		"  -v, --verbose          libbpf and libxdp diagnostics\n"
		"Settings (the same as in the file; see docs/mxguard.conf):\n"
		"  -i, --interface IFACE  the internet-facing interface to guard\n"
		"  -m, --mode MODE        XDP attach mode: native, skb or auto (default)\n"
		"  -s, --socket PATH      control socket (default " MX_SOCKET_PATH ")\n"
		"  -P, --pin-dir DIR      where to pin the maps (default " MX_PIN_DIR ")\n"
		"  -D, --state-dir DIR    journal and snapshots (default " MX_STATE_DIR ")\n"
		"  -c, --cgroup PATH      cgroup v2 root for sock_ops (default " MX_CGROUP_PATH ")\n"
		"  -H, --hostname NAME    in the responder's replies (default: this host's name)\n"
		"  -u, --policy-url URL   in the 554 reply to banned senders\n"
		"  -o, --over-limit ACT   over the parallel limit: reply (421, default) or drop\n"
		"  -b, --ban-action ACT   banned senders: drop (default) or reply (554)\n"
		"  -T, --responder-timeout DURATION  longest responder session (default 10s)\n"
		"  -S, --responder-sessions N        responder sessions at once (default 256)\n"
		"  -L, --responder-max-line N        longest command line, 512..1024 (default 512)\n");
}

static const struct option long_opts[] = {
	{ "config",		required_argument, NULL, 'C' },
	{ "check-config",	no_argument,	   NULL, 'K' },
	{ "keep",		no_argument,	   NULL, 'k' },
	{ "detach",		no_argument,	   NULL, 'd' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "interface",		required_argument, NULL, 'i' },
	{ "mode",		required_argument, NULL, 'm' },
	{ "socket",		required_argument, NULL, 's' },
	{ "pin-dir",		required_argument, NULL, 'P' },
	{ "state-dir",		required_argument, NULL, 'D' },
	{ "cgroup",		required_argument, NULL, 'c' },
	{ "hostname",		required_argument, NULL, 'H' },
	{ "policy-url",		required_argument, NULL, 'u' },
	{ "over-limit",		required_argument, NULL, 'o' },
	{ "ban-action",		required_argument, NULL, 'b' },
	{ "responder-timeout",	required_argument, NULL, 'T' },
	{ "responder-sessions",	required_argument, NULL, 'S' },
	{ "responder-max-line",	required_argument, NULL, 'L' },
	{ 0 }
};
#define SHORT_OPTS "C:kdvhi:m:s:P:D:c:H:u:o:b:T:S:L:"

/* The settings key behind each option that is one. */
static const char *setting_of(int opt)
{
	switch (opt) {
	case 'i': return "interface";
	case 'm': return "mode";
	case 's': return "socket";
	case 'P': return "pin_dir";
	case 'D': return "state_dir";
	case 'c': return "cgroup";
	case 'H': return "hostname";
	case 'u': return "policy_url";
	case 'o': return "over_limit";
	case 'b': return "ban_action";
	case 'T': return "responder_timeout";
	case 'S': return "responder_sessions";
	case 'L': return "responder_max_line";
	default: return NULL;
	}
}

struct run_opts {
	const char *config;
	bool config_given, check, keep, detach;
	int verbose;
};

/*
 * read_settings - defaults, then the file, then the command line's
 * settings, each checked as a line of the file. 0, or the number of
 * errors (printed to err).
 */
static int read_settings(struct mx_config_file *c, struct run_opts *ro, int argc, char **argv,
			 char *err, size_t errlen)
{
	char line[1200];
	int opt, n;

	mx_config_default(c);
	n = mx_config_load(c, ro->config, ro->config_given, err, errlen);
	if (n)
		return n;
	optind = 1;
	while ((opt = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
		const char *key = setting_of(opt);
		int len;

		if (!key)
			continue;
		/* An empty --state-dir turns persistence off. */
		len = snprintf(line, sizeof(line), "%s = %s\n", key,
			       !strcmp(key, "state_dir") && !*optarg ? "none" : optarg);
		if (len < 0 || (size_t)len >= sizeof(line)) {
			snprintf(err, errlen, "command line: --%s: value too long", key);
			return 1;
		}
		if (!strcmp(key, "state_dir") && !*optarg) {
			c->state_dir[0] = '\0';
			continue;
		}
		n = mx_config_parse(c, "command line", line, (size_t)len, err, errlen);
		if (n)
			return n;
	}
	return 0;
}

/* to_agent - the agent's view of the settings */
static void to_agent(struct agent *a, const struct mx_config_file *c)
{
	uint64_t cookie = a->settings.netns_cookie;

	a->cfg = *c;
	a->settings = c->dp;
	a->settings.netns_cookie = cookie;
	snprintf(a->ifname, sizeof(a->ifname), "%s", c->interface);
	snprintf(a->hostname, sizeof(a->hostname), "%s", c->hostname);
	a->policy_url = a->cfg.policy_url;
	a->pin_dir = a->cfg.pin_dir;
	a->socket_path = a->cfg.socket;
	a->state_dir = a->cfg.state_dir;
	a->cgroup_path = a->cfg.cgroup;
	a->default_ban_ttl_ns = c->ban_ttl_ns;
	a->responder_timeout_ms = c->responder_timeout_ms;
	a->responder_sessions = c->responder_sessions;
	a->responder_max_line = c->responder_max_line;
}

static struct run_opts run;
static int saved_argc;
static char **saved_argv;

/*
 * reload - SIGHUP and 'mxguard reload': read the settings again and
 * apply them to the running data plane. An invalid file changes
 * nothing; settings that need a restart are named and left as they are.
 */
static int reload(struct agent *a, char *msg, size_t len)
{
	static struct mx_config_file next;
	struct mx_traps traps = { 0 };
	char err[2048];
	const char *restart;

	if (read_settings(&next, &run, saved_argc, saved_argv, err, sizeof(err)) ||
	    (next.trap_file[0] && mx_traps_load(&traps, next.trap_file, err, sizeof(err)))) {
		snprintf(msg, len, "settings not reloaded, the running ones stay:\n%s", err);
		return -1;
	}
	restart = mx_config_restart_needed(&a->cfg, &next);
	if (restart)
		mx_config_keep_restart(&next, &a->cfg);	/* what cannot change while running */
	to_agent(a, &next);
	if (senders_configure(a, &traps))
		mx_log("reload: out of memory resizing the senders' trap hits");
	if (agent_apply_settings(a)) {
		snprintf(msg, len, "settings read, but writing them to the maps failed: %s",
			 strerror(errno));
		return -1;
	}
	if (restart)
		snprintf(msg, len, "settings reloaded; %s changed and needs a restart", restart);
	else
		snprintf(msg, len, "settings reloaded");
	return 0;
}

int main(int argc, char **argv)
{
	static struct mx_config_file cfg;
	static struct agent a;
	enum mx_attach_mode mode;
	char err[4096], note[160];
	int opt, n;

	run.config = MX_CONFIG_PATH;
	while ((opt = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			run.config = optarg;
			run.config_given = true;
			break;
		case 'K':
			run.check = true;
			break;
		case 'k':
			run.keep = true;
			break;
		case 'd':
			run.detach = true;
			break;
		case 'v':
			run.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case '?':
			usage(stderr);
			return 2;
		default:
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxguardd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	saved_argc = argc;
	saved_argv = argv;
	n = read_settings(&cfg, &run, argc, argv, err, sizeof(err));
	if (!n && run.check && cfg.trap_file[0]) {
		struct mx_traps traps;

		n = mx_traps_load(&traps, cfg.trap_file, err, sizeof(err));
		if (!n)
			printf("%s: OK, %zu trap address%s\n", cfg.trap_file, traps.n,
			       traps.n == 1 ? "" : "es");
		mx_traps_free(&traps);
	}
	if (!n && run.check && cfg.policy_socket[0] && !getgrnam(cfg.policy_group)) {
		snprintf(err, sizeof(err), "%s: policy_group '%s' is no group on this host",
			 run.config, cfg.policy_group);
		n = 1;
	}
	if (n) {
		fprintf(stderr, "%s\n", err);
		if (run.check)
			fprintf(stderr, "mxguardd: %d error%s\n", n, n == 1 ? "" : "s");
		return run.check ? 1 : 2;
	}
	if (run.check) {
		printf("%s: OK\n", run.config_given || access(run.config, F_OK) == 0 ?
		       run.config : "defaults (no settings file)");
		return 0;
	}
	if (mx_clock_init(note, sizeof(note), err, sizeof(err))) {
		fprintf(stderr, "mxguardd: %s\n", err);
		return 2;
	}
	if (note[0])
		mx_log("warning: for tests only: %s", note);
	if (!cfg.interface[0]) {
		fprintf(stderr, "mxguardd: no interface: set 'interface' in %s or give --interface\n",
			run.config);
		return 2;
	}
	a.resp_fd[0] = a.resp_fd[1] = -1;
	to_agent(&a, &cfg);
	a.reload = reload;
	a.run_command = mx_run_command;
	if (run.detach)
		return agent_detach_stale(a.ifname, a.pin_dir) ? 1 : 0;

	mode = !strcmp(cfg.mode, "native") ? MX_ATTACH_NATIVE :
	       !strcmp(cfg.mode, "skb") ? MX_ATTACH_SKB : MX_ATTACH_AUTO;
	if (agent_start(&a, mode, run.verbose))
		return 1;
	if (agent_serve(&a)) {
		agent_stop(&a, false);
		return 1;
	}
	agent_stop(&a, run.keep);
	return 0;
}
