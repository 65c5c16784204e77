/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	conn.h - the agent's side of the parallel-connection limit: a service of its own
 */
#ifndef MX_CONN_H
#define MX_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "mapwalk.h"
#include "mxguard.h"

struct bpf_link;
struct bpf_object;
struct conn_bpf;
struct mx_settings;
struct mx_store;
struct responder;
struct responder_settings;

/* A count as reconciliation sees it: what the flows say, what the map says. */
struct count_entry {
	struct mx_bucket6_key key;
	uint32_t family;		/* 0: a free slot */
	int64_t expected, actual;
};

/* Counts by key: an open-addressing hash table, linear in the flows. */
struct count_table {
	struct count_entry *e;
	size_t n, cap;			/* cap: a power of two, or 0 */
};

struct conn_stats {
	uint64_t halfopen_released;	/* handshakes that never completed */
	uint64_t steered_released;	/* steered SYNs whose handshake never completed */
	uint64_t corrections;		/* count drift fixed: a bug if ever non-zero */
	uint64_t adopted;		/* connections open before the agent started */
	uint64_t adopted_closed;	/* of those, closed since */
	uint64_t sweeps;		/* passes over the flow tables */
	uint64_t reconcile_skipped;	/* reconciliations left out: tables too large */
};

/*
 * The sweep of the flow tables, a pass a second at most (tick), done in
 * slices between the event loop's other work (the task work).
 */
struct conn_sweeper {
	struct mx_timer tick;
	struct mx_task work;
	int phase;			/* 0 idle, 1 pending flows, 2 live flows */
	uint64_t t0;			/* when the pass took the kernel's sockets */
	void *sockets;			/* struct flow_set: the kernel's sockets at t0 */
	struct mx_walk pending, live;
	uint64_t seen, last_seen;	/* flows seen in this pass, in the last one */
};

/*
 * The SYN-cookie watch: mx_cookie_ack is attached (tcx, pinned) while
 * the namespace answers SYNs with cookies.
 */
struct cookie_watch {
	int link_fd;			/* the judge's tcx link; <= 0: not attached */
	bool have_sent;			/* sent holds a reading */
	bool failing;			/* the last attach failed (said once) */
	uint64_t sent;			/* TcpExt SyncookiesSent at the last look */
	uint64_t rose_ns;		/* when it last rose; 0: not seen rising */
};

/*
 * The service: what it is given, then what it owns. The XDP program's
 * object (its maps are shared, never pinned again), the data-plane
 * settings (conn_start writes the guarded namespace's cookie into them),
 * the store (the responder asks it whether a peer is banned), the loop.
 */
struct conn_service {
	struct bpf_object *xdp_obj;
	struct mx_settings *settings;
	const struct mx_store *store;
	struct mx_loop *loop;
	const char *pin_dir, *cgroup_path, *ifname;
	int ifindex, config_fd;

	struct conn_bpf *bpf;			/* sk_lookup, sock_ops, the cookie judge */
	struct bpf_link *lookup_link, *sockops_link;
	int resp_fd[2];				/* the responder's listeners, IPv4 and IPv6 */
	struct responder *responder;
	struct conn_stats stats;
	struct count_table drift;		/* reconciliation's last look */
	struct conn_sweeper sweeper;
	struct cookie_watch cookies;
	struct mx_timer reconcile_timer, responder_timer;
};

int conn_start(struct conn_service *cs, const struct responder_settings *rs);
/* The responder, the sweep and reconciliation in the event loop. */
int conn_serve(struct conn_service *cs);
void conn_stop(struct conn_service *cs, bool keep);
int conn_reconcile(struct conn_service *cs, bool settle);

#endif /* MX_CONN_H */
