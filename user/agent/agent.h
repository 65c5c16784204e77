/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	agent.h - mxguardd: the composition of its services
 */
#ifndef MX_AGENT_H
#define MX_AGENT_H

#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "bans.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "persist.h"
#include "senders.h"
#include "policy.h"
#include "store.h"
#include "tables.h"

struct mxguard_bpf;
struct conn_bpf;
struct xdp_program;
struct bpf_link;
struct responder;
struct mx_cmd_ctx;
struct ctl_server;
struct ban_sweep;
struct snapshot_schedule;
struct zone_service;
struct verdictd;
struct crowdsecd;

/* The XDP program on the interface and its maps (agent.c: load, attach, pin, detach). */
struct dataplane {
	struct mxguard_bpf *skel;
	struct xdp_program *xdp_prog;
	int config_fd, class_limits_fd, stats_fd;
	int bucket4_fd, bucket6_fd;	/* new-connection token buckets */
	int count4_fd, count6_fd;	/* live-connection counts */
	char ifname[IF_NAMESIZE];
	int ifindex;
	const char *mode_name;		/* "native" or "skb" */
	bool dispatcher;		/* attached through libxdp's dispatcher */
	bool adopted;			/* took over what an earlier agent left */
	uint32_t prog_id;
	int64_t attached_at;		/* wall clock, seconds */
	const char *pin_dir;
};

/*
 * mxguardd: the composition of its services. Each owns its state and its
 * counters; serve.c opens them on the one event loop.
 */
struct agent {
	struct mx_config_file cfg;	/* the settings in force */
	struct mx_config_source cfg_source;	/* where they come from: read again on reload */
	/* The commands the control server runs (main wires them: commands.h). */
	int (*run_command)(struct mx_cmd_ctx *c, int argc, char **argv);
	/* The event loop every service registers with (loop.h), and its counters. */
	struct mx_loop loop;
	struct ctl_server *ctl;		/* the control socket and its jobs (ctl.c) */
	struct dataplane dp;
	struct mx_store store;		/* bans, allowlist, classes: the only code that changes them */
	struct ban_sweep *ban_sweep;	/* expired bans out of the maps (sweep.c) */
	struct mx_settings settings;

	/* The parallel-connection limit and the responder (conn.c). */
	struct conn_service conn;
	struct snapshot_schedule *snapshots;	/* when to write one (snapshot.c) */

	/* Sender verdicts (senders.c) and the services that feed them. */
	struct senders senders;
	struct policyd *policyd;	/* policyd.h */
	struct metrics_server *metrics;	/* metrics.h */
	struct verdictd *verdictd;	/* rspamd's content verdicts (verdictd.h) */
	struct crowdsecd *crowdsecd;	/* CrowdSec's Local API (crowdsecd.h) */
	struct spf_worker *spf;		/* spf.h */
	struct zone_service *zone;	/* the listing as a DNSBL zone (zone.h) */
};

enum mx_attach_mode {
	MX_ATTACH_AUTO,		/* native, else generic */
	MX_ATTACH_NATIVE,
	MX_ATTACH_SKB,
};

int agent_start(struct agent *a, enum mx_attach_mode mode, int verbosity);
void agent_stop(struct agent *a, bool keep);
int agent_detach_stale(const char *ifname, const char *pin_dir);
int agent_apply_settings(struct agent *a);
/* high_priority: the agent's nice value (settings.c). */
void agent_apply_priority(const struct agent *a);
struct responder_settings;
void agent_responder_settings(const struct agent *a, struct responder_settings *rs);
/* The settings in force, as each part sees them (settings.c). */
void agent_settings(struct agent *a, const struct mx_config_file *c);
/* Read the settings again and apply them; msg says what happened. 0 or -1. */
int agent_reload(struct agent *a, char *msg, size_t len);


#endif /* MX_AGENT_H */
