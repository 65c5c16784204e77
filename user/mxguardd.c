// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	mxguardd - the mxguard agent
 * SYNOPSIS
 *	mxguardd --interface IFACE [--mode native|skb|auto] [--keep]
 *		 [--socket PATH] [--pin-dir DIR] [--verbose]
 *	mxguardd --detach --interface IFACE
 * DESCRIPTION
 *	Loads the XDP program onto IFACE, pins its maps under
 *	/sys/fs/bpf/mxguard, writes the default limits and serves the
 *	control socket that the mxguard CLI talks to. SIGTERM or SIGINT
 *	detaches the program and removes the pins, unless --keep asks to
 *	leave both in place (protection goes on without the agent).
 *	--detach removes what a --keep run left behind.
 * SEE ALSO
 *	mxguard(8), README.md
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

/* usage - print the synopsis */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mxguardd --interface IFACE [--mode native|skb|auto] [--keep]\n"
		"                [--socket PATH] [--pin-dir DIR] [--verbose]\n"
		"       mxguardd --detach --interface IFACE\n"
		"\n"
		"  -i, --interface IFACE  the internet-facing interface to guard\n"
		"  -m, --mode MODE        XDP attach mode: native, skb (generic) or auto\n"
		"                         (native, falling back to skb; the default)\n"
		"  -k, --keep             on exit, leave the program attached and maps pinned\n"
		"  -s, --socket PATH      control socket (default " MX_SOCKET_PATH ")\n"
		"  -d, --detach           remove a program and pins left in place, then exit\n"
		"  -P, --pin-dir DIR      where to pin the maps (default " MX_PIN_DIR ")\n"
		"  -D, --state-dir DIR    journal and snapshots (default " MX_STATE_DIR "; '' for none)\n"
		"  -c, --cgroup PATH      cgroup v2 root for sock_ops (default " MX_CGROUP_PATH ")\n"
		"  -H, --hostname NAME    in the responder's replies (default: this host's name)\n"
		"  -u, --policy-url URL   in the 554 reply to banned senders\n"
		"  -o, --over-limit ACT   over the parallel limit: reply (421, default) or drop\n"
		"  -b, --ban-action ACT   banned senders: drop (default) or reply (554)\n"
		"  -T, --responder-timeout DURATION  longest responder session (default 10s)\n"
		"  -S, --responder-sessions N        responder sessions at once (default 256)\n"
		"  -L, --responder-max-line N        longest command line, 512..1024 (default 512)\n"
		"  -v, --verbose          libbpf and libxdp diagnostics\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface",	required_argument, NULL, 'i' },
		{ "mode",	required_argument, NULL, 'm' },
		{ "keep",	no_argument,	   NULL, 'k' },
		{ "socket",	required_argument, NULL, 's' },
		{ "detach",	no_argument,	   NULL, 'd' },
		{ "pin-dir",	required_argument, NULL, 'P' },
		{ "cgroup",	required_argument, NULL, 'c' },
		{ "hostname",	required_argument, NULL, 'H' },
		{ "policy-url",	required_argument, NULL, 'u' },
		{ "over-limit",	required_argument, NULL, 'o' },
		{ "ban-action",	required_argument, NULL, 'b' },
		{ "responder-timeout", required_argument, NULL, 'T' },
		{ "responder-sessions", required_argument, NULL, 'S' },
		{ "state-dir",	required_argument, NULL, 'D' },
		{ "responder-max-line", required_argument, NULL, 'L' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ 0 }
	};
	static struct agent a;
	enum mx_attach_mode mode = MX_ATTACH_AUTO;
	bool keep = false, detach = false;
	int verbose = 0, opt;

	mx_settings_default(&a.settings);
	a.pin_dir = MX_PIN_DIR;
	a.socket_path = MX_SOCKET_PATH;
	a.default_ban_ttl_ns = MX_DEFAULT_BAN_TTL_NS;
	a.cgroup_path = MX_CGROUP_PATH;
	a.policy_url = MX_POLICY_URL;
	a.resp_fd[0] = a.resp_fd[1] = -1;
	a.responder_timeout_ms = 10000;
	a.state_dir = MX_STATE_DIR;
	a.responder_sessions = 256;
	a.responder_max_line = 512;
	if (gethostname(a.hostname, sizeof(a.hostname) - 1))
		strcpy(a.hostname, "localhost");

	while ((opt = getopt_long(argc, argv, "i:m:ks:dP:c:H:u:o:b:T:S:L:D:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (strlen(optarg) >= sizeof(a.ifname)) {
				fprintf(stderr, "mxguardd: interface name '%s' is too long\n", optarg);
				return 2;
			}
			strcpy(a.ifname, optarg);
			break;
		case 'm':
			if (strcmp(optarg, "native") == 0)
				mode = MX_ATTACH_NATIVE;
			else if (strcmp(optarg, "skb") == 0 || strcmp(optarg, "generic") == 0)
				mode = MX_ATTACH_SKB;
			else if (strcmp(optarg, "auto") == 0)
				mode = MX_ATTACH_AUTO;
			else {
				fprintf(stderr, "mxguardd: mode '%s': use native, skb or auto\n", optarg);
				return 2;
			}
			break;
		case 'k':
			keep = true;
			break;
		case 's':
			a.socket_path = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case 'P':
			a.pin_dir = optarg;
			break;
		case 'D':
			a.state_dir = optarg;
			break;
		case 'c':
			a.cgroup_path = optarg;
			break;
		case 'H':
			if (strlen(optarg) >= sizeof(a.hostname) || strpbrk(optarg, " \t\r\n")) {
				fprintf(stderr, "mxguardd: bad hostname '%s'\n", optarg);
				return 2;
			}
			strcpy(a.hostname, optarg);
			break;
		case 'u':
			a.policy_url = optarg;
			break;
		case 'T': {
			uint64_t ns;
			char err[128];

			if (mx_parse_duration(optarg, &ns, err, sizeof(err)) || ns > 3600ULL * 1000000000ULL) {
				fprintf(stderr, "mxguardd: --responder-timeout: %s\n",
					ns > 3600ULL * 1000000000ULL ? "at most 1h" : err);
				return 2;
			}
			a.responder_timeout_ms = (unsigned int)(ns / 1000000ULL);
			break;
		}
		case 'S':
		case 'L': {
			char err[128];
			uint32_t v;

			/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets. */
			if (mx_parse_u32(optarg, opt == 'S' ? 1 : 512, opt == 'S' ? 65536 : 1024, &v,
					 err, sizeof(err))) {
				fprintf(stderr, "mxguardd: --responder-%s: %s\n",
					opt == 'S' ? "sessions" : "max-line", err);
				return 2;
			}
			*(opt == 'S' ? &a.responder_sessions : &a.responder_max_line) = v;
			break;
		}
		case 'o':
			if (strcmp(optarg, "reply") && strcmp(optarg, "drop")) {
				fprintf(stderr, "mxguardd: --over-limit '%s': use reply or drop\n", optarg);
				return 2;
			}
			a.settings.over_limit_drop = strcmp(optarg, "drop") == 0;
			break;
		case 'b':
			if (strcmp(optarg, "reply") && strcmp(optarg, "drop")) {
				fprintf(stderr, "mxguardd: --ban-action '%s': use drop or reply\n", optarg);
				return 2;
			}
			a.settings.ban_reply = strcmp(optarg, "reply") == 0;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxguardd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!a.ifname[0]) {
		fprintf(stderr, "mxguardd: --interface is required\n");
		usage(stderr);
		return 2;
	}
	if (detach)
		return agent_detach_stale(a.ifname, a.pin_dir) ? 1 : 0;

	if (agent_start(&a, mode, verbose))
		return 1;
	if (agent_serve(&a)) {
		agent_stop(&a, false);
		return 1;
	}
	agent_stop(&a, keep);
	return 0;
}
