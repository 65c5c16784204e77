/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	agent.h - the state of mxguardd that commands work on
 */
#ifndef MX_AGENT_H
#define MX_AGENT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "persist.h"
#include "tables.h"

#define MX_PIN_DIR		"/sys/fs/bpf/mxguard"
#define MX_SOCKET_PATH		"/run/mxguard/mxguardd.sock"
#define MX_STATE_DIR		"/var/lib/mxguard"
#define MX_CGROUP_PATH		"/sys/fs/cgroup/unified"
#define MX_POLICY_URL		"https://example.org/mail-policy"
#define MX_DEFAULT_BAN_TTL_NS	(24ULL * 3600 * 1000000000ULL)

struct mxguard_bpf;
struct conn_bpf;
struct xdp_program;
struct bpf_link;
struct responder;

struct agent {
	struct mx_config_file cfg;	/* the settings in force */
	int (*reload)(struct agent *a, char *msg, size_t len);
	struct mxguard_bpf *skel;
	struct xdp_program *xdp_prog;
	struct mx_table bans, allows, classes;
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
	uint32_t responder_sessions;
	uint32_t responder_max_line;
};

enum mx_attach_mode {
	MX_ATTACH_AUTO,		/* native, else generic */
	MX_ATTACH_NATIVE,
	MX_ATTACH_SKB,
};

int agent_start(struct agent *a, enum mx_attach_mode mode, int verbosity);
int agent_serve(struct agent *a);
void agent_stop(struct agent *a, bool keep);
int agent_detach_stale(const char *ifname, const char *pin_dir);
int agent_apply_settings(struct agent *a);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MX_AGENT_H */
