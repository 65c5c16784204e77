// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	conn.c - the parallel-connection limit: attach, sweep, reconcile
 * DESCRIPTION
 *	conn_start() loads bpf/conn.bpf.c on the maps the XDP program
 *	already has, opens the responder's two listening sockets (127.0.0.1
 *	and ::1, ephemeral ports: reachable from outside only through the
 *	steering program) and puts them into the SOCKMAP, attaches the
 *	sk_lookup program to the network namespace and the sock_ops
 *	program to the cgroup v2 root.
 *
 *	conn_serve() registers the limit's work with the event loop: the
 *	responder's sessions, the sweep and reconciliation.
 *
 *	The sweep, every second, compares the pending and live flows
 *	with the kernel's sockets (sock_diag): a pending flow whose request
 *	socket is gone (the handshake never completed: no ACK, RST, SYN
 *	dropped by a full queue) is released, which is how a half-open
 *	connection gives its slot back; each release is counted. A live
 *	flow without a socket would mean a missed close: it is released
 *	and counted as a correction.
 *
 *	While the namespace answers SYNs with SYN cookies, the final ACK
 *	of a handshake can come long after its pending entry was released
 *	(a cookie leaves no request socket to wait for). cookie_watch(), at
 *	the start of every sweep, attaches mx_cookie_ack to the interface's
 *	TC ingress (a tcx link, pinned beside the others) while
 *	tcp_syncookies is 2 or the kernel sent a cookie in the last
 *	MX_COOKIE_HOLD_NS, and detaches it after; it judges those ACKs
 *	against the limit (conn.bpf.c).
 *
 *	conn_reconcile(), every ten seconds and at start, recomputes every
 *	count from the flows and corrects a difference seen the same in
 *	two passes in a row (a single pass can catch a SYN between its
 *	count and its flow entry). Every correction is counted and logged:
 *	in a test run a correction is a bug.
 * SECURITY
 *	Counts are changed only by BPF programs, by compare-and-swap; the
 *	agent asks for changes through mx_flow_release and mx_count_adjust.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "conn.h"
#include "conn.skel.h"
#include "log.h"
#include "mxguard.skel.h"
#include "responder.h"
#include "sockdiag.h"
#include "store.h"
#include "tables.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* A handshake can finish this long after the SYN's pending entry was noted. */
#define MX_PENDING_GRACE_NS	(2ULL * MX_NS_PER_S)

/*
 * The ACK judge stays this long after the last cookie the kernel sent:
 * a cookie is good for two minutes at most (tcp_cookie_time() counts
 * minutes, MAX_SYNCOOKIE_AGE is 2), and a margin.
 */
#define MX_COOKIE_HOLD_NS	(130ULL * MX_NS_PER_S)

/* BPF_TCX_INGRESS: newer than the UAPI headers here (Linux 6.6). */
#define MX_BPF_TCX_INGRESS	46

/* flow_hash - FNV-1a over a flow key */
static uint64_t flow_hash(const struct mx_flow *f)
{
	const uint8_t *p = (const uint8_t *)f;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof(*f); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* An open-addressing set of flows: the kernel's sockets at one moment. */
struct flow_set {
	struct mx_flow *slots;
	uint8_t *used;
	size_t cap, n;
};

/* set_add - insert a flow, growing as needed; -1 on no memory */
static int set_add(struct flow_set *s, const struct mx_flow *f)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct flow_set g = { .cap = s->cap ? s->cap * 2 : 1024 };

		g.slots = calloc(g.cap, sizeof(*g.slots));
		g.used = calloc(g.cap, 1);
		if (!g.slots || !g.used) {
			free(g.slots);
			free(g.used);
			return -1;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->used[i])
				set_add(&g, &s->slots[i]);
		free(s->slots);
		free(s->used);
		*s = g;
	}
	for (size_t i = flow_hash(f) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->used[i]) {
			s->used[i] = 1;
			s->slots[i] = *f;
			s->n++;
			return 0;
		}
		if (memcmp(&s->slots[i], f, sizeof(*f)) == 0)
			return 0;
	}
}

/* set_has - is the flow in the set? */
static bool set_has(const struct flow_set *s, const struct mx_flow *f)
{
	if (!s->cap)
		return false;
	for (size_t i = flow_hash(f) & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (memcmp(&s->slots[i], f, sizeof(*f)) == 0)
			return true;
	return false;
}

static void set_free(struct flow_set *s)
{
	free(s->slots);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

/* flow_of - a kernel socket as a flow key, IPv4-mapped peers as IPv4 */
static void flow_of(const struct mx_sock *k, struct mx_flow *f)
{
	struct mx_prefix remote, local;

	memset(f, 0, sizeof(*f));
	f->rport = k->rport;
	f->lport = k->lport;
	mx_sock_addr(k, true, &remote);
	mx_sock_addr(k, false, &local);
	f->family = remote.family;
	memcpy(f->remote, remote.addr, 16);
	memcpy(f->local, local.addr, 16);
}

/* collect - sock_diag callback: add a socket to the set */
static int collect(const struct mx_sock *k, void *arg)
{
	struct mx_flow f;

	flow_of(k, &f);
	return set_add(arg, &f) ? -ENOMEM : 0;
}

/*
 * kernel_flows - the TCP sockets on a guarded port that hold a slot:
 * request sockets (SYN_RECV), ESTABLISHED, and CLOSE_WAIT (the peer is
 * done, the MTA not yet). A socket past those has given its slot back
 * in sock_ops, before it changed state.
 */
static int kernel_flows(const struct conn_service *cs, struct flow_set *set)
{
	uint32_t states = (1U << 1) | (1U << 3) | (1U << 8) | (1U << 12);
	int err;

	for (unsigned int i = 0; i < cs->settings->nports; i++) {
		err = mx_sockdiag_walk(AF_INET, states, cs->settings->ports[i], collect, set);
		if (!err)
			err = mx_sockdiag_walk(AF_INET6, states, cs->settings->ports[i], collect, set);
		if (err)
			return err;
	}
	return 0;
}

/*
 * run_op - run one of the agent's syscall programs on an mx_conn_op.
 * The kernel copies the context back into ctx_in (a syscall program
 * takes no ctx_out): that is how the result comes back.
 */
static int run_op(struct bpf_program *prog, struct mx_conn_op *op)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = op, .ctx_size_in = sizeof(*op));
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	if (err)
		mx_log("running %s failed: %s", bpf_program__name(prog), strerror(errno));
	return err;
}

/* release - release one flow from pending (live=0) or live (live=1), as seen */
static int release(struct conn_service *cs, const struct mx_flow *f, const struct mx_flow_slot *seen,
		   int live)
{
	struct mx_conn_op op = { .flow = *f, .live = (uint32_t)live, .since_ns = seen->since_ns };

	if (run_op(cs->bpf->progs.mx_flow_release, &op))
		return -1;
	return (int)op.result;
}

/* adopt_one - sock_diag callback: count an open connection we never saw open */
static int adopt_one(const struct mx_sock *k, void *arg)
{
	struct conn_service *cs = arg;
	struct mx_conn_op op = { 0 };

	flow_of(k, &op.flow);
	if (run_op(cs->bpf->progs.mx_flow_adopt, &op) == 0 && op.result)
		cs->stats.adopted++;
	return 0;
}

/*
 * adopt_open - connections already open when the agent starts count
 * too: otherwise a sender could hold its limit again on top of them.
 * Called after sock_ops is attached, so nothing falls between.
 */
static void adopt_open(struct conn_service *cs)
{
	uint32_t states = (1U << 1) | (1U << 8);	/* ESTABLISHED, CLOSE_WAIT */

	for (unsigned int i = 0; i < cs->settings->nports; i++) {
		mx_sockdiag_walk(AF_INET, states, cs->settings->ports[i], adopt_one, cs);
		mx_sockdiag_walk(AF_INET6, states, cs->settings->ports[i], adopt_one, cs);
	}
	if (cs->stats.adopted)
		mx_log("counted %llu connection%s open before start",
			  (unsigned long long)cs->stats.adopted,
			  cs->stats.adopted == 1 ? "" : "s");
}

/* syncookies_mode - net.ipv4.tcp_syncookies of this namespace; 1 if unknown */
static int syncookies_mode(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_syncookies", "re");
	int mode = 1;

	if (!f)
		return 1;
	if (fscanf(f, "%d", &mode) != 1)
		mode = 1;
	fclose(f);
	return mode;
}

/* syncookies_sent - TcpExt SyncookiesSent of this namespace; 0 or -1 */
static int syncookies_sent(uint64_t *sent)
{
	FILE *f = fopen("/proc/net/netstat", "re");
	char *names = NULL, *vals = NULL;
	size_t nlen = 0, vlen = 0;
	int found = -1;

	if (!f)
		return -1;
	/* Pairs of lines: "TcpExt: Name ..." then "TcpExt: value ...". */
	while (found && getline(&names, &nlen, f) > 0 && getline(&vals, &vlen, f) > 0) {
		char *sn, *sv, *n, *v;

		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		while (n && v && found) {
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
			if (n && v && !strcmp(n, "SyncookiesSent")) {
				*sent = strtoull(v, NULL, 10);
				found = 0;
			}
		}
	}
	free(names);
	free(vals);
	fclose(f);
	return found;
}

/* cookie_link_path - where the judge's link is pinned */
static void cookie_link_path(const struct conn_service *cs, char *path, size_t len)
{
	snprintf(path, len, "%s/link_cookie", cs->pin_dir);
}

/* cookie_attach - the ACK judge onto the interface's TC ingress, pinned; 0 or -1 */
static int cookie_attach(struct conn_service *cs, const char *why)
{
	struct cookie_watch *cw = &cs->cookies;
	char path[300];
	int fd;

	cookie_link_path(cs, path, sizeof(path));
	unlink(path);	/* a pin left by an agent whose link was detached since */
	fd = bpf_link_create(bpf_program__fd(cs->bpf->progs.mx_cookie_ack), cs->ifindex,
			     (enum bpf_attach_type)MX_BPF_TCX_INGRESS, NULL);
	if (fd < 0 || bpf_obj_pin(fd, path)) {
		if (!cw->failing)
			mx_log("SYN cookies in use (%s), but the ACK judge cannot be attached to "
				  "%s: %s; late final ACKs are counted uncapped (conn_late)",
				  why, cs->ifname, strerror(errno));
		cw->failing = true;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	cw->link_fd = fd;
	cw->failing = false;
	mx_log("SYN cookies in use (%s): judging final ACKs on %s at TC ingress", why, cs->ifname);
	return 0;
}

/* cookie_detach - the ACK judge off the interface, its pin removed */
static void cookie_detach(struct conn_service *cs)
{
	struct cookie_watch *cw = &cs->cookies;
	char path[300];

	if (cw->link_fd <= 0)
		return;
	cookie_link_path(cs, path, sizeof(path));
	bpf_link_detach(cw->link_fd);
	unlink(path);
	close(cw->link_fd);
	cw->link_fd = -1;
}

/*
 * cookie_watch - judge final ACKs while cookies are sent, and for
 * MX_COOKIE_HOLD_NS after. Called before a sweep releases anything: a
 * cookie's pending entry is released at least MX_PENDING_GRACE_NS after
 * the cookie went out, and by then this has seen SyncookiesSent rise
 * and the judge is in place for its ACK, however late.
 */
static void cookie_watch(struct conn_service *cs)
{
	struct cookie_watch *cw = &cs->cookies;
	uint64_t now_ns = mx_now_ns(), sent;
	bool mode2 = syncookies_mode() == 2;

	if (syncookies_sent(&sent) == 0) {
		/* At start, cookies sent before are as good as sent now. */
		if (cw->have_sent ? sent != cw->sent : sent != 0)
			cw->rose_ns = now_ns;
		cw->sent = sent;
		cw->have_sent = true;
	} else {
		cw->rose_ns = now_ns;	/* cannot tell: keep judging */
	}
	if (mode2 || (cw->rose_ns && now_ns - cw->rose_ns < MX_COOKIE_HOLD_NS)) {
		if (cw->link_fd <= 0)
			cookie_attach(cs, mode2 ? "tcp_syncookies = 2" : "the kernel sends SYN cookies");
		return;
	}
	if (cw->link_fd > 0) {
		cookie_detach(cs);
		mx_log("no SYN cookies sent for %llu s: the ACK judge is off %s",
			  MX_COOKIE_HOLD_NS / MX_NS_PER_S, cs->ifname);
	}
}

/*
 * sweep_tick - once a second, begin a pass over the flow tables unless
 * the last one is still going: take the kernel's sockets now, then let
 * the sweep's task (sweep_step) compare each flow with them, a slice at
 * a time.
 */
static void sweep_tick(void *arg)
{
	struct conn_service *cs = arg;
	struct conn_sweeper *sw = &cs->sweeper;
	struct flow_set *set;

	if (!cs->bpf)
		return;
	cookie_watch(cs);
	/* Once a second, also the suspended time the programs' ban clock adds. */
	if (mx_dp_clock_refresh(cs->config_fd) > 0)
		mx_log("the host was suspended: bans now expire on a boot clock %u ms after the "
		       "monotonic one", mx_boot_offset_ms());
	if (sw->phase)
		return;
	set = calloc(1, sizeof(*set));
	if (!set)
		return;
	if (kernel_flows(cs, set)) {
		mx_log("sock_diag failed: %s; connection sweep skipped", strerror(errno));
		set_free(set);
		free(set);
		return;
	}
	sw->sockets = set;
	sw->t0 = mx_now_ns();
	sw->seen = 0;
	sw->phase = 1;
	mx_loop_task_start(cs->loop, &sw->work);
}

/* sweep_flow - release one flow if its socket is gone (mx_walk callback) */
static int sweep_flow(const void *key, const void *val, void *arg)
{
	struct conn_service *cs = arg;
	struct conn_sweeper *sw = &cs->sweeper;
	const struct mx_flow_slot *slot = val;
	int live = sw->phase == 2;

	sw->seen++;
	if (slot->since_ns + MX_PENDING_GRACE_NS > sw->t0 || set_has(sw->sockets, key))
		return 0;
	switch (release(cs, key, slot, live)) {
	case MX_RELEASE_SLOT:
		if (!live)
			cs->stats.halfopen_released++;
		else if (slot->kind == MX_FLOW_ADOPTED)
			cs->stats.adopted_closed++;
		else {
			cs->stats.corrections++;
			mx_log("correction: a live connection had no socket (missed close); released");
		}
		break;
	case MX_RELEASE_STEERED:
		if (!live)
			cs->stats.steered_released++;
		break;
	default:
		break;
	}
	return 0;
}

/* Flows per slice: small enough to check the deadline often. */
#define MX_SWEEP_SLICE	256

/* sweep_step - sweep until deadline (the sweep's task); busy while the pass goes on */
static enum mx_task_state sweep_step(void *arg, uint64_t deadline_us)
{
	struct conn_service *cs = arg;
	struct conn_sweeper *sw = &cs->sweeper;

	while (sw->phase && mx_mono_us() < deadline_us) {
		struct mx_walk *w = sw->phase == 1 ? &sw->pending : &sw->live;
		int r = mx_walk_step(w, MX_SWEEP_SLICE, sweep_flow, cs);

		if (r < 0) {
			mx_log("connection sweep: reading the flows failed: %s", strerror(-r));
			mx_walk_reset(w);
		} else if (r == 0) {
			continue;
		}
		if (sw->phase == 1) {
			sw->phase = 2;
			continue;
		}
		/* The pass is over: counts that fell to zero go too. */
		{
			LIBBPF_OPTS(bpf_test_run_opts, gc);

			bpf_prog_test_run_opts(bpf_program__fd(cs->bpf->progs.mx_count_gc), &gc);
		}
		set_free(sw->sockets);
		free(sw->sockets);
		sw->sockets = NULL;
		sw->phase = 0;
		sw->last_seen = sw->seen;
		cs->stats.sweeps++;
	}
	return sw->phase ? MX_TASK_BUSY : MX_TASK_DONE;
}

/* count_hash - where a count key starts looking in the table */
static size_t count_hash(uint32_t family, const struct mx_bucket6_key *k)
{
	uint64_t h = 1469598103934665603ULL ^ family;
	const uint8_t *p = (const uint8_t *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

/* count_find - the entry of a key, added if new (add) or NULL */
static struct count_entry *count_find(struct count_table *t, uint32_t family,
				      const struct mx_bucket6_key *k, bool add)
{
	size_t i;

	if (add && (t->n + 1) * 2 > t->cap) {
		struct count_table g = { .cap = t->cap ? t->cap * 2 : 1024 };

		g.e = calloc(g.cap, sizeof(*g.e));
		if (!g.e)
			return NULL;
		for (size_t j = 0; j < t->cap; j++) {
			struct count_entry *e = &t->e[j];

			if (!e->family)
				continue;
			for (i = count_hash(e->family, &e->key) & (g.cap - 1); g.e[i].family;
			     i = (i + 1) & (g.cap - 1))
				;
			g.e[i] = *e;
			g.n++;
		}
		free(t->e);
		*t = g;
	}
	if (!t->cap)
		return NULL;
	for (i = count_hash(family, k) & (t->cap - 1); t->e[i].family; i = (i + 1) & (t->cap - 1))
		if (t->e[i].family == family && memcmp(&t->e[i].key, k, sizeof(*k)) == 0)
			return &t->e[i];
	if (!add)
		return NULL;
	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->e[i].family = family;
	t->e[i].key = *k;
	t->n++;
	return &t->e[i];
}

struct reconcile_walk {
	struct count_table *t;
	uint32_t family;		/* counts: the map's family */
	size_t budget;			/* entries left before giving up */
};

/* expect_flow - a flow's slots, added to the expected counts (mx_walk callback) */
static int expect_flow(const void *key, const void *val, void *arg)
{
	struct reconcile_walk *rw = arg;
	const struct mx_flow_slot *slot = val;
	struct mx_bucket6_key src = { .kind = MX_BUCKET_SOURCE };
	struct mx_bucket6_key pfx = { .kind = MX_BUCKET_PREFIX };
	struct count_entry *e;

	if (!rw->budget--)
		return -E2BIG;
	if (slot->kind == MX_FLOW_STEERED)
		return 0;
	memcpy(src.addr, slot->src, 16);
	memcpy(pfx.addr, slot->pfx, 16);
	if (!(e = count_find(rw->t, slot->family, &src, true)))
		return -ENOMEM;
	e->expected++;
	if (!(e = count_find(rw->t, slot->family, &pfx, true)))
		return -ENOMEM;
	e->expected++;
	return 0;
}

/* actual_count - one count map entry (mx_walk callback) */
static int actual_count(const void *key, const void *val, void *arg)
{
	struct reconcile_walk *rw = arg;
	struct mx_bucket6_key k = { 0 };
	struct count_entry *e;
	uint64_t word;
	uint32_t v;

	if (!rw->budget--)
		return -E2BIG;
	memcpy(&word, val, sizeof(word));
	v = MX_COUNT_OF(word);
	if (v == MX_COUNT_DYING)
		return 0;
	if (rw->family == AF_INET) {
		memcpy(k.addr, key, 4);
		memcpy(&k.kind, (const uint8_t *)key + 4, 4);
	} else {
		memcpy(&k, key, sizeof(k));
	}
	if (!(e = count_find(rw->t, rw->family, &k, true)))
		return -ENOMEM;
	e->actual += v;
	return 0;
}

/* read_all - one whole pass over a map, in one go */
static int read_all(int fd, mx_walk_cb cb, struct reconcile_walk *rw)
{
	struct mx_walk w;
	int r = mx_walk_init(&w, fd, 0, 0);

	while (r == 0)
		r = mx_walk_step(&w, 4096, cb, rw);
	mx_walk_free(&w);
	return r < 0 ? r : 0;
}

/*
 * Reconciliation reads every flow and count in one slice of the event
 * loop (about 30 ms for this many). It is a check, not what keeps counts
 * right: with more flows than this (a flood's half-open connections, as
 * the last sweep counted them) it waits for a calmer moment, and says
 * how often it did. The entries it reads are bounded all the same.
 */
#define MX_RECONCILE_MAX	50000

/*
 * conn_reconcile - compare counts with flows; correct a drift seen the
 * same twice in a row (or at once when settle is set: at start, when
 * nothing races). Returns the number of corrections made.
 */
int conn_reconcile(struct conn_service *cs, bool settle)
{
	struct count_table t = { 0 };
	struct count_table *prev = &cs->drift;
	struct reconcile_walk rw = { .t = &t, .budget = 3 * MX_RECONCILE_MAX };
	int fixed = 0, r;

	if (cs->sweeper.last_seen > MX_RECONCILE_MAX || cs->sweeper.seen > MX_RECONCILE_MAX) {
		cs->stats.reconcile_skipped++;
		free(prev->e);
		memset(prev, 0, sizeof(*prev));
		return 0;
	}
	r = read_all(bpf_map__fd(cs->bpf->maps.pending_flows), expect_flow, &rw);
	if (!r)
		r = read_all(bpf_map__fd(cs->bpf->maps.live_flows), expect_flow, &rw);
	rw.family = AF_INET;
	if (!r)
		r = read_all(bpf_map__fd(cs->bpf->maps.conn_count4), actual_count, &rw);
	rw.family = AF_INET6;
	if (!r)
		r = read_all(bpf_map__fd(cs->bpf->maps.conn_count6), actual_count, &rw);
	if (r) {
		if (r == -E2BIG)
			cs->stats.reconcile_skipped++;
		else
			mx_log("reconciliation: reading the maps failed: %s", strerror(-r));
		free(t.e);
		/* What was seen before is no longer "the same drift twice". */
		free(prev->e);
		memset(prev, 0, sizeof(*prev));
		return 0;
	}
	for (size_t i = 0; i < t.cap; i++) {
		struct count_entry *e = &t.e[i], *seen;
		int64_t drift = e->expected - e->actual;

		if (!e->family || !drift)
			continue;
		seen = count_find(prev, e->family, &e->key, false);
		if (!settle && (!seen || seen->expected - seen->actual != drift))
			continue;
		{
			struct mx_conn_op op = { .key = e->key, .family = e->family,
						 .delta = (int32_t)drift };

			if (run_op(cs->bpf->progs.mx_count_adjust, &op) == 0) {
				cs->stats.corrections++;
				fixed++;
			}
		}
	}
	if (fixed)
		mx_log("reconciliation corrected %d count%s", fixed, fixed == 1 ? "" : "s");
	free(prev->e);
	*prev = t;
	return fixed;
}

/* classify - the responder asks: 554 for a banned peer, 421 otherwise */
static enum responder_verdict classify(void *arg, const struct sockaddr *peer,
				       socklen_t len, char *reason, size_t reason_len)
{
	struct conn_service *cs = arg;
	struct mx_prefix p = { 0 }, hit;
	struct mx_ban ban;

	if (peer->sa_family == AF_INET) {
		p.family = AF_INET;
		p.len = 32;
		memcpy(p.addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)peer;
		struct mx_prefix p6 = { .family = AF_INET6, .len = 128 };

		memcpy(p6.addr, &s6->sin6_addr, 16);
		mx_prefix_unmap(&p6, &p);
	}
	if (mx_table_match(&cs->store->bans, &p, &hit, &ban) == 0 &&
	    (!ban.expires_ns || ban.expires_ns > mx_now_ns())) {
		mx_reason_text(cs->store->reasons_fd, ban.reason, reason, reason_len);
		if (!reason[0])
			snprintf(reason, reason_len, "your address is banned");
		return RESP_BANNED;
	}
	return RESP_TOO_MANY;
}

/* listen_local - a non-blocking listener on loopback, ephemeral port */
static int listen_local(int family)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if ((family == AF_INET ? bind(fd, (struct sockaddr *)&s4, sizeof(s4))
			       : bind(fd, (struct sockaddr *)&s6, sizeof(s6))) ||
	    listen(fd, 1024)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* open_cgroup - the cgroup v2 root for sock_ops */
static int open_cgroup(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) || st.f_type != CGROUP2_SUPER_MAGIC) {
		errno = ENOTDIR;
		return -1;
	}
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* pin_link - pin a link beside the maps: it outlives a crashed agent */
static int pin_link(struct conn_service *cs, struct bpf_link *link, const char *name)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%s", cs->pin_dir, name);
	return bpf_link__pin(link, path);
}

/* adopt_link - a pinned link of an earlier agent, now running prog; NULL if none */
static struct bpf_link *adopt_link(struct conn_service *cs, const char *name, struct bpf_program *prog)
{
	struct bpf_link *link;
	char path[300];

	snprintf(path, sizeof(path), "%s/%s", cs->pin_dir, name);
	if (access(path, F_OK))
		return NULL;
	link = bpf_link__open(path);
	if (!link)
		return NULL;
	if (bpf_link__update_program(link, prog)) {
		mx_log("cannot update the pinned link %s: %s; attaching anew", path, strerror(errno));
		bpf_link__unpin(link);
		bpf_link__destroy(link);
		return NULL;
	}
	return link;
}

/* conn_start - load, attach and serve the parallel-connection limit */
int conn_start(struct conn_service *cs, const struct responder_settings *rs)
{
	struct bpf_object *xdp_obj = cs->xdp_obj;
	uint64_t cookie = 0;
	socklen_t clen = sizeof(cookie);
	struct bpf_map *m;
	int netns_fd, cg_fd, err;

	memset(&cs->cookies, 0, sizeof(cs->cookies));
	cs->cookies.link_fd = -1;
	cs->bpf = conn_bpf__open();
	if (!cs->bpf) {
		mx_log("cannot open the connection programs: %s", strerror(errno));
		return -1;
	}
	/*
	 * Share every map with the XDP program's object. That object pinned
	 * them (bpf/maps.h): this one only borrows their fds, and never
	 * pins, where the pins are or anywhere else.
	 */
	bpf_object__for_each_map(m, cs->bpf->obj) {
		struct bpf_map *same = bpf_object__find_map_by_name(xdp_obj, bpf_map__name(m));

		if (same && bpf_map__reuse_fd(m, bpf_map__fd(same))) {
			mx_log("cannot share map %s: %s", bpf_map__name(m), strerror(errno));
			return -1;
		}
		bpf_map__set_pin_path(m, NULL);
	}
	err = conn_bpf__load(cs->bpf);
	if (err) {
		mx_log("cannot load the connection programs: %s", strerror(-err));
		return -1;
	}

	cs->resp_fd[0] = listen_local(AF_INET);
	cs->resp_fd[1] = listen_local(AF_INET6);
	if (cs->resp_fd[0] < 0 || cs->resp_fd[1] < 0) {
		mx_log("cannot open the responder's sockets: %s", strerror(errno));
		return -1;
	}
	cs->responder = responder_new(rs, classify, cs);
	if (!cs->responder || responder_add_listener(cs->responder, cs->resp_fd[0]) ||
	    responder_add_listener(cs->responder, cs->resp_fd[1])) {
		mx_log("cannot start the responder");
		return -1;
	}
	for (uint32_t i = 0; i < MX_RESPONDER_SLOTS; i++) {
		uint64_t fd = (uint64_t)cs->resp_fd[i];

		if (bpf_map_update_elem(bpf_map__fd(cs->bpf->maps.responder_socks), &i, &fd, BPF_ANY)) {
			mx_log("cannot put the responder's socket in the SOCKMAP: %s", strerror(errno));
			return -1;
		}
	}

	/* sock_ops runs for every cgroup: keep it to this network namespace. */
	if (getsockopt(cs->resp_fd[0], SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &clen))
		cookie = 0;	/* older kernels: every namespace's port 25 counts */
	cs->settings->netns_cookie = cookie;
	if (mx_dp_write_config(cs->config_fd, cs->settings)) {
		mx_log("cannot write the settings: %s", strerror(errno));
		return -1;
	}

	/* Links an earlier agent pinned take our programs in one step. */
	cs->lookup_link = adopt_link(cs, "link_lookup", cs->bpf->progs.mx_lookup);
	if (!cs->lookup_link) {
		netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		cs->lookup_link = netns_fd < 0 ? NULL :
			bpf_program__attach_netns(cs->bpf->progs.mx_lookup, netns_fd);
		if (netns_fd >= 0)
			close(netns_fd);
		if (!cs->lookup_link || pin_link(cs, cs->lookup_link, "link_lookup")) {
			mx_log("cannot attach sk_lookup to this network namespace: %s",
				  strerror(errno));
			return -1;
		}
	}
	cs->sockops_link = adopt_link(cs, "link_sockops", cs->bpf->progs.mx_sockops);
	if (!cs->sockops_link) {
		cg_fd = open_cgroup(cs->cgroup_path);
		if (cg_fd < 0) {
			mx_log("%s is not a cgroup v2 mount (needed for sock_ops); use --cgroup PATH",
				  cs->cgroup_path);
			return -1;
		}
		cs->sockops_link = bpf_program__attach_cgroup(cs->bpf->progs.mx_sockops, cg_fd);
		close(cg_fd);
		if (!cs->sockops_link || pin_link(cs, cs->sockops_link, "link_sockops")) {
			mx_log("cannot attach sock_ops to %s: %s", cs->cgroup_path, strerror(errno));
			return -1;
		}
	}
	/* The ACK judge an earlier agent left attached goes on, with our program. */
	{
		char path[300];
		int fd;

		cookie_link_path(cs, path, sizeof(path));
		fd = access(path, F_OK) ? -1 : bpf_obj_get(path);
		if (fd >= 0 && bpf_link_update(fd, bpf_program__fd(cs->bpf->progs.mx_cookie_ack), NULL)) {
			mx_log("cannot update the pinned link %s: %s; detaching it", path,
				  strerror(errno));
			bpf_link_detach(fd);
			unlink(path);
			close(fd);
			fd = -1;
		}
		cs->cookies.link_fd = fd;
	}
	if (mx_walk_init(&cs->sweeper.pending, bpf_map__fd(cs->bpf->maps.pending_flows),
			 sizeof(struct mx_flow), sizeof(struct mx_flow_slot)) ||
	    mx_walk_init(&cs->sweeper.live, bpf_map__fd(cs->bpf->maps.live_flows),
			 sizeof(struct mx_flow), sizeof(struct mx_flow_slot))) {
		mx_log("cannot read the flow tables: %s", strerror(errno));
		return -1;
	}
	adopt_open(cs);
	conn_reconcile(cs, true);
	mx_log("parallel-connection limit on: sk_lookup in this namespace, sock_ops on %s",
		  cs->cgroup_path);
	return 0;
}

/* reconcile_tick - every ten seconds */
static void reconcile_tick(void *arg)
{
	conn_reconcile(arg, false);
}

/* responder_work - the responder's sessions; its timer at the next session deadline */
static void responder_work(struct conn_service *cs)
{
	int next;

	responder_run(cs->responder);
	next = responder_next_timeout_ms(cs->responder);
	if (next >= 0)
		mx_loop_timer_at(&cs->responder_timer, mx_mono_ms() + (uint64_t)next);
}

/* responder_ready - a session or a listener of the responder has something */
static void responder_ready(void *arg, int fd, short revents)
{
	responder_work(arg);
}

/* responder_due - a session's deadline came */
static void responder_due(void *arg)
{
	responder_work(arg);
}

/*
 * conn_serve - the limit's work in the event loop: the responder (it
 * never blocks, and senders wait on it), the sweep every second, run
 * as a task a slice at a time, and reconciliation every ten seconds
 * (in one piece: it waits for a moment when the tables are small).
 */
int conn_serve(struct conn_service *cs)
{
	struct conn_sweeper *sw = &cs->sweeper;
	int fd = responder_fd(cs->responder);

	mx_task_init(&sw->work, "connection sweep", sweep_step, cs);
	if ((fd >= 0 && mx_loop_add(cs->loop, fd, POLLIN, "responder", responder_ready, cs)) ||
	    mx_loop_timer_add(cs->loop, &cs->responder_timer, "responder", 0, responder_due, cs) ||
	    mx_loop_timer_add(cs->loop, &sw->tick, "connection sweep", 1000, sweep_tick, cs) ||
	    mx_loop_timer_add(cs->loop, &cs->reconcile_timer, "reconciliation", 10000,
			      reconcile_tick, cs)) {
		mx_log("cannot serve the parallel-connection limit: out of memory");
		return -1;
	}
	return 0;
}

/*
 * conn_stop - close; unless keep, unpin the links so that they go too.
 * Kept links go on counting (sock_ops), steering (sk_lookup, which
 * drops what it would steer while no responder listens) and, if it was
 * attached, judging cookie ACKs.
 */
void conn_stop(struct conn_service *cs, bool keep)
{
	if (!keep) {
		if (cs->lookup_link)
			bpf_link__unpin(cs->lookup_link);
		if (cs->sockops_link)
			bpf_link__unpin(cs->sockops_link);
		cookie_detach(cs);
	}
	if (cs->cookies.link_fd > 0)
		close(cs->cookies.link_fd);
	cs->cookies.link_fd = -1;
	bpf_link__destroy(cs->lookup_link);
	bpf_link__destroy(cs->sockops_link);
	cs->lookup_link = cs->sockops_link = NULL;
	if (cs->responder)
		responder_free(cs->responder);
	cs->responder = NULL;
	for (int i = 0; i < 2; i++) {
		if (cs->resp_fd[i] > 0)
			close(cs->resp_fd[i]);
		cs->resp_fd[i] = -1;
	}
	conn_bpf__destroy(cs->bpf);
	cs->bpf = NULL;
	free(cs->drift.e);
	memset(&cs->drift, 0, sizeof(cs->drift));
	mx_walk_free(&cs->sweeper.pending);
	mx_walk_free(&cs->sweeper.live);
	if (cs->sweeper.sockets) {
		set_free(cs->sweeper.sockets);
		free(cs->sweeper.sockets);
	}
	memset(&cs->sweeper, 0, sizeof(cs->sweeper));
}
