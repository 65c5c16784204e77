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
#include "serve.h"

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
 * source_of - where the settings come from: the file, then the command
 * line's settings in their order. The agent keeps it for reloads.
 */
static int source_of(struct mx_config_source *src, struct run_opts *ro, int argc, char **argv)
{
	int opt;

	src->path = ro->config;
	src->path_given = ro->config_given;
	optind = 1;
	while ((opt = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
		const char *key = setting_of(opt);

		if (key && mx_config_source_add(src, key, optarg)) {
			fprintf(stderr, "mxguardd: too many settings on the command line\n");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct run_opts run;
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
	if (source_of(&a.cfg_source, &run, argc, argv))
		return 2;
	n = mx_config_read(&cfg, &a.cfg_source, err, sizeof(err));
	if (!n && run.check && cfg.trap_file[0]) {
		struct mx_traps traps;

		n = mx_traps_load(&traps, cfg.trap_file, err, sizeof(err));
		if (!n)
			printf("%s: OK, %zu trap address%s\n", cfg.trap_file, traps.n,
			       traps.n == 1 ? "" : "es");
		mx_traps_free(&traps);
	}
	/* rspamd's password file: checked before anything is attached, never printed. */
	if (!n && cfg.verdict_listen[0]) {
		struct mx_rspamd_auth auth;

		n = mx_rspamd_auth_load(&auth, cfg.verdict_user, cfg.verdict_password_file, err,
					sizeof(err)) ? 1 : 0;
		mx_rspamd_auth_clear(&auth);
		if (!n && run.check)
			printf("%s: OK, the password for %s\n", cfg.verdict_password_file,
			       cfg.verdict_user);
	}
	/* CrowdSec's key and the machine's password: checked likewise, never printed. */
	if (!n && cfg.crowdsec_url[0]) {
		char secret[MX_CS_SECRET_MAX + 1];

		n = mx_cs_secret_load("crowdsec_key_file", cfg.crowdsec_key_file, secret,
				      sizeof(secret), err, sizeof(err)) ? 1 : 0;
		if (!n && run.check)
			printf("%s: OK, the bouncer key for %s\n", cfg.crowdsec_key_file,
			       cfg.crowdsec_url);
		if (!n && cfg.crowdsec_machine_id[0]) {
			n = mx_cs_secret_load("crowdsec_password_file", cfg.crowdsec_password_file,
					      secret, sizeof(secret), err, sizeof(err)) ? 1 : 0;
			if (!n && run.check)
				printf("%s: OK, the password of machine %s\n",
				       cfg.crowdsec_password_file, cfg.crowdsec_machine_id);
		}
		explicit_bzero(secret, sizeof(secret));
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
	a.conn.resp_fd[0] = a.conn.resp_fd[1] = -1;
	agent_settings(&a, &cfg);
	a.run_command = mx_run_command;
	if (run.detach)
		return agent_detach_stale(a.dp.ifname, a.dp.pin_dir) ? 1 : 0;

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
