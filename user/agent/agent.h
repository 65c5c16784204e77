/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	agent.h - the state of mxguardd that commands work on
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
#include "policy.h"
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

struct agent {
	struct mx_config_file cfg;	/* the settings in force */
	int (*reload)(struct agent *a, char *msg, size_t len);
	/* The commands the control server runs (main wires them: commands.h). */
	int (*run_command)(struct mx_cmd_ctx *c, int argc, char **argv);
	/* The event loop every service registers with (loop.h), and its counters. */
	struct mx_loop loop;
	struct ctl_server *ctl;		/* the control socket and its jobs (ctl.c) */
	struct mxguard_bpf *skel;
	struct xdp_program *xdp_prog;
	struct mx_table bans, allows, classes;
	struct mx_bans claims;		/* who holds each ban (bans.h) */
	struct ban_sweep *ban_sweep;	/* expired bans out of the maps (sweep.c) */
	int config_fd, class_limits_fd, stats_fd, reasons_fd;
	int bucket4_fd, bucket6_fd;
	int count4_fd, count6_fd;
	struct mx_settings settings;
	char ifname[IF_NAMESIZE];
	int ifindex;
	const char *mode_name;		/* "native" or "skb" */
	bool dispatcher;		/* attached through libxdp's dispatcher */
	bool adopted;			/* took over what an earlier agent left */
	uint32_t prog_id;
	int64_t attached_at;		/* wall clock, seconds */
	uint64_t default_ban_ttl_ns;
	const char *pin_dir;
	const char *socket_path;

	/* The parallel-connection limit (conn.c). */
	struct conn_bpf *conn;
	struct bpf_link *lookup_link, *sockops_link;
	int resp_fd[2];
	struct responder *responder;
	struct conn_stats conn_stats;
	struct count_table conn_drift;
	struct conn_sweeper sweeper;
	struct cookie_watch cookies;
	struct mx_timer reconcile_timer, responder_timer;
	const char *cgroup_path;
	char hostname[256];
	const char *policy_url;
	unsigned int responder_timeout_ms;

	/* Persistence (state.c). */
	const char *state_dir;
	struct mx_persist persist;
	bool persist_on;
	uint64_t restore_failed;
	uint64_t restore_torn_bytes;
	uint64_t restore_clock_suspect;	/* earlier boots restored with the wall clock not trusted */
	uint32_t responder_sessions;
	uint32_t responder_max_line;
	bool journal_dirty;		/* records written, not yet synced */
	unsigned int persist_batches;	/* journal batches open: no snapshot may begin */
	bool snapshot_soon;		/* restored records of an earlier boot: rewrite them */
	struct snapshot_schedule *snapshots;	/* when to write one (snapshot.c) */

	/* The verdict engine (senders.c), its services, each with its counters. */
	struct mx_verdict verdict;
	struct mx_traps traps;
	struct mx_timer senders_timer;
	struct policyd *policyd;	/* policyd.h */
	struct metrics_server *metrics;	/* metrics.h */
	struct spf_worker *spf;		/* spf.h */
	uint64_t trap_hits_ignored;	/* from allowlisted senders */
	uint64_t auto_classed[3];	/* classes given for no FCrDNS, SPF fail, DNSBL listing */
	uint64_t auto_unclassed;	/* and taken back */
};

enum mx_attach_mode {
	MX_ATTACH_AUTO,		/* native, else generic */
	MX_ATTACH_NATIVE,
	MX_ATTACH_SKB,
};

int agent_start(struct agent *a, enum mx_attach_mode mode, int verbosity);
/* Open every service in the event loop and run it until SIGTERM or SIGINT. */
int agent_serve(struct agent *a);
void agent_stop(struct agent *a, bool keep);
int agent_detach_stale(const char *ifname, const char *pin_dir);
int agent_apply_settings(struct agent *a);
/* End the open connections of sources a ban covers (cmd_ban.c). */
unsigned int mx_cut_connections(struct agent *a, const struct mx_prefix *ban);

/* The verdict engine in the agent (senders.c). */
struct sender_result {
	bool allowlisted;		/* nothing counted: the allowlist covers it */
	bool banned;			/* this call banned the sender */
	struct mx_decision d;		/* when banned */
	struct mx_prefix key;		/* the sender as the engine keys it */
};
int senders_init(struct agent *a, char *err, size_t errlen);
int senders_configure(struct agent *a, struct mx_traps *traps);
void senders_free(struct agent *a);
int senders_trap(struct agent *a, const struct mx_prefix *addr, enum mx_trap_kind kind,
		 uint32_t count, struct sender_result *res, char *err, size_t errlen);
int senders_mail(struct agent *a, const struct mx_prefix *addr, bool spam,
		 struct sender_result *res, char *err, size_t errlen);
int senders_forget(struct agent *a, const struct mx_prefix *addr, char *err, size_t errlen);
void senders_unbanned(struct agent *a, const struct mx_prefix *p);
/* Why the agent gave a sender a class (mx_sender.auto_reasons). */
#define MX_AUTO_PTR	(1U << 0)	/* no forward-confirmed PTR */
#define MX_AUTO_SPF	(1U << 1)	/* SPF fail */
#define MX_AUTO_DNSBL	(1U << 2)	/* listed in a dnsbl_zones zone */
int senders_auto(struct agent *a, const struct mx_prefix *addr, uint32_t reason, bool ok);
void senders_class_by_hand(struct agent *a, const struct mx_prefix *p);
/* Once a second (senders_serve registers it with the event loop). */
void senders_tick(struct agent *a);
int senders_serve(struct agent *a);

#include "metrics.h"

#endif /* MX_AGENT_H */
