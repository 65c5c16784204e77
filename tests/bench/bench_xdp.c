// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	bench_xdp - the XDP program's cost per packet, as ratios
 * SYNOPSIS
 *	bench_xdp [RESULTS.json [LABEL]]
 * DESCRIPTION
 *	BPF_PROG_TEST_RUN with repeat runs one frame many times in the
 *	kernel and reports the mean time per run. Measured in the same
 *	process, side by side: a bare XDP_PASS and a bare XDP_DROP program,
 *	and mxguard on
 *
 *	  a banned SYN, a passing SYN from a known source (its buckets
 *	  exist), an ACK and a data segment of an allowed session, IPv4
 *	  and IPv6; the ACK again as in ban_reply mode, where no ban is
 *	  looked up for it (what dropping a banned sender's established
 *	  segments at XDP costs);
 *	  a SYN from a new source every run (its bucket created; the
 *	  1,000,000-entry bucket LRU full after the first rounds, so each
 *	  creation evicts: a flood from ever new sources), and SYNs from
 *	  500,000 distinct sources in turn (their buckets exist, spread
 *	  over half the map; 1,000,000 would not fit with their prefixes'
 *	  buckets, and an LRU cycled over more than it holds misses every
 *	  time): bare_next_src moves the frame's source on and
 *	  tail-calls the judge; its own cost (measured tail-calling a bare
 *	  XDP_PASS) is taken off;
 *	  the passing SYN, the banned SYN and the ACK with 1, 10,000 and
 *	  1,000,000 exact bans, then 1,000,000 exact and 65,536 prefix bans
 *	  (a /24 in every /16, x.y.200.0/24, so that a lookup walks deep
 *	  into the trie), and a SYN from inside a banned prefix;
 *	  the known-source and new-source SYNs again with the bucket maps
 *	  made BPF_F_NO_COMMON_LRU, as large and ncpus times as large;
 *	  the floors: each part of the judge's path alone
 *	  (bpf/floor.bpf.c), so that each cell can be set against what
 *	  its parts cost; a bucket creation in a full LRU also on two CPUs
 *	  at once, as two receive queues under a flood would run it.
 *
 *	The new-source cells fill the LRU first and keep the bench on one
 *	CPU: an LRU map frees and evicts per CPU, and a CPU whose share
 *	is still free creates without evicting.
 *
 *	Each cell is ROUNDS runs of REPEAT frames: the median, with the
 *	lowest and highest run as its spread. BENCH_CLOCK=kernel takes each
 *	run's time from the kernel's duration (whole ns) instead of timing
 *	around the call. The table gives ns per packet
 *	and the ratios to the bare programs; RESULTS.json (with the kernel,
 *	CPU, date and LABEL) gets every cell.
 *
 *	Then the SYN-cookie ACK judge (mx_cookie_ack, TC ingress; attached
 *	only while the kernel sends cookies) on what it sees most: a
 *	client's ACK to port 25 that carries no cookie, IPv4 and IPv6, and a
 *	segment to another port, next to a bare TC program.
 *	Filler bans use 240.0.0.0/4 (reserved) and the prefixes above: they
 *	are map keys, no packet is sent to or from them.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bare.skel.h"
#include "conn.skel.h"
#include "floor.skel.h"
#include "mxguard.skel.h"
#include "pkt.h"
#include "tables.h"

#define ROUNDS	11
#define REPEAT	200000
#define BANS_MAX 1000000
#define PREFIX_BANS 65536
#define BUCKETS 1000000
#define MAX_CELLS 96

struct res {
	double med, lo, hi;
};

struct cell {
	char name[64];
	char tables[48];	/* what was loaded */
	struct res r;
	double base;		/* the bare program it is compared to */
	const char *base_name;
};

static struct cell cells[MAX_CELLS];
static int ncells;

/* unpinned - the object's maps its own, never pinned (bpf/maps.h pins the agent's by name) */
static void unpinned(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		bpf_map__set_pin_path(m, NULL);
}

/* mono_ns - CLOCK_MONOTONIC in ns */
static double mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* cmp_dbl - for qsort */
static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* BENCH_CLOCK=kernel: each run's time as the kernel reports it (whole ns), not timed around the call */
static int kernel_clock;

/* resident()'s network namespace, and the bench's own, or -1 */
static int own_netns = -1, home_netns = -1;

/*
 * resident - keep an XDP program in the kernel's XDP dispatcher for the
 * rest of the bench. BPF_PROG_TEST_RUN with repeat > 1 adds the program
 * to the dispatcher before its runs and takes it out after; each change
 * rewrites the dispatcher and waits for an RCU grace period, some
 * 0.3 ms per call here (a bare program timed around the call read 8.4
 * ns per run over 200,000 runs, 6.0 over 1,000,000, the kernel's
 * duration 5), more on a busy machine. A program attached to a device
 * is in the dispatcher already, and those changes do nothing: each
 * program is attached in generic mode to a veth of a network namespace
 * of the bench's own (then 5.2 ns per run over 200,000 as over
 * 1,000,000). The bench itself runs in the namespace it started in; the
 * other, with its veths, ends with it. 1 if the program was just
 * attached: the caller then runs it once untimed, for the attachment's
 * own work to settle.
 */
static int resident(int prog_fd)
{
	static uint32_t ids[64];
	static int n;
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	char cmd[128], name[IFNAMSIZ];
	int ifindex;

	int err;

	if (own_netns < 0 || n == 64 || bpf_obj_get_info_by_fd(prog_fd, &info, &len) ||
	    info.type != BPF_PROG_TYPE_XDP)
		return 0;
	for (int i = 0; i < n; i++)
		if (ids[i] == info.id)
			return 0;
	if (setns(own_netns, CLONE_NEWNET)) {
		fprintf(stderr, "bench: cannot enter the bench's namespace: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(name, sizeof(name), "mxb%d", n);
	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %sp", name, name);
	ifindex = system(cmd) == 0 ? (int)if_nametoindex(name) : 0;
	err = !ifindex || bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_SKB_MODE, NULL);
	if (setns(home_netns, CLONE_NEWNET)) {
		fprintf(stderr, "bench: cannot return to the first namespace: %s\n", strerror(errno));
		exit(1);
	}
	if (err) {
		fprintf(stderr, "bench: cannot keep %s in the XDP dispatcher: timed with its "
			"changes\n", info.name);
		return 0;
	}
	ids[n++] = info.id;
	return 1;
}

/*
 * measure - ns per run of prog on the frame: median, lowest, highest of
 * ROUNDS. Timed around the call, not by the kernel's duration, which
 * is whole nanoseconds (a bare program takes about 5); one system call
 * over REPEAT runs adds about 0.01 ns to each, once the program is
 * resident in the XDP dispatcher (resident()).
 */
static struct res measure(int prog_fd, const uint8_t *frame, size_t len)
{
	double d[ROUNDS];

	if (resident(prog_fd)) {
		LIBBPF_OPTS(bpf_test_run_opts, w, .data_in = frame, .data_size_in = (uint32_t)len,
			    .repeat = REPEAT);

		if (bpf_prog_test_run_opts(prog_fd, &w)) {
			fprintf(stderr, "bench: test run failed: %s\n", strerror(errno));
			exit(1);
		}
	}

	for (int i = 0; i < ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
			    .repeat = REPEAT);
		double t0 = mono_ns();

		if (bpf_prog_test_run_opts(prog_fd, &o)) {
			fprintf(stderr, "bench: test run failed: %s\n", strerror(errno));
			exit(1);
		}
		d[i] = kernel_clock ? o.duration : (mono_ns() - t0) / REPEAT;
	}
	qsort(d, ROUNDS, sizeof(d[0]), cmp_dbl);
	return (struct res){ d[ROUNDS / 2], d[0], d[ROUNDS - 1] };
}

struct pair_arg {
	int prog_fd, cpu;
	const uint8_t *frame;
	size_t len;
	pthread_barrier_t *go;
	double d[ROUNDS];
};

/* pair_run - one side of measure_pair: pinned to its CPU, ROUNDS runs in step with the other */
static void *pair_run(void *arg)
{
	struct pair_arg *a = arg;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(a->cpu, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	for (int i = 0; i < ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = a->frame,
			    .data_size_in = (uint32_t)a->len, .repeat = REPEAT);
		double t0;

		pthread_barrier_wait(a->go);
		t0 = mono_ns();
		if (bpf_prog_test_run_opts(a->prog_fd, &o)) {
			fprintf(stderr, "bench: test run failed: %s\n", strerror(errno));
			exit(1);
		}
		a->d[i] = kernel_clock ? o.duration : (mono_ns() - t0) / REPEAT;
	}
	return NULL;
}

/*
 * measure_pair - as measure, with the program running on CPUs 0 and 1
 * at once, as two receive queues would (the runs of both CPUs pooled)
 */
static struct res measure_pair(int prog_fd, const uint8_t *frame, size_t len)
{
	struct pair_arg a[2];
	pthread_barrier_t go;
	pthread_t t[2];
	double d[2 * ROUNDS];

	resident(prog_fd);
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		a[i] = (struct pair_arg){ .prog_fd = prog_fd, .cpu = i, .frame = frame, .len = len,
					  .go = &go };
		if (pthread_create(&t[i], NULL, pair_run, &a[i])) {
			fprintf(stderr, "bench: cannot start a thread\n");
			exit(1);
		}
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		memcpy(d + i * ROUNDS, a[i].d, sizeof(a[i].d));
	}
	pthread_barrier_destroy(&go);
	qsort(d, 2 * ROUNDS, sizeof(d[0]), cmp_dbl);
	return (struct res){ (d[ROUNDS - 1] + d[ROUNDS]) / 2, d[0], d[2 * ROUNDS - 1] };
}

/* add - record a cell */
static void add(const char *name, const char *tables, struct res r, double base,
		const char *base_name)
{
	struct cell *c = &cells[ncells++];

	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->tables, sizeof(c->tables), "%s", tables);
	c->r = r;
	c->base = base;
	c->base_name = base_name;
}

/* fill_bans - exact bans up to total entries (batch updates) */
static void fill_bans(int fd, uint32_t *have, uint32_t total)
{
	static uint32_t keys[65536];
	static struct mx_ban vals[65536];

	while (*have < total) {
		uint32_t n = total - *have > 65536 ? 65536 : total - *have;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		for (uint32_t i = 0; i < n; i++) {
			keys[i] = htonl(0xf0000000U + *have + i);
			vals[i] = (struct mx_ban){ .flags = MX_BAN_F_MANUAL };
		}
		if (bpf_map_update_batch(fd, keys, vals, &n, &o)) {
			fprintf(stderr, "bench: loading bans failed: %s\n", strerror(errno));
			exit(1);
		}
		*have += n;
	}
}

#ifdef MX_CFG_F_SUMMARY_BAN4
/* put_prefix - a prefix ban as the agent adds it: through the tables, which keep the summary */
static int put_prefix(int fd, const struct mx_lpm4_key *k, const struct mx_ban *b)
{
	struct mx_table t = { .name = "ban", .value_size = sizeof(*b), .fd = { -1, -1, fd, -1 } };
	struct mx_prefix p = { .family = AF_INET, .len = (uint8_t)k->prefixlen };
	int err;

	memcpy(p.addr, &k->addr, 4);
	err = mx_table_put(&t, &p, b, BPF_ANY);
	errno = -err;
	return err;
}
#else
/* put_prefix - a prefix ban, into the trie */
static int put_prefix(int fd, const struct mx_lpm4_key *k, const struct mx_ban *b)
{
	return bpf_map_update_elem(fd, k, b, BPF_ANY);
}
#endif

/* fill_prefixes - PREFIX_BANS /24 bans, one in every /16: a.b.200.0/24 */
static void fill_prefixes(int fd)
{
	struct mx_ban b = { .flags = MX_BAN_F_BLOCKLIST };

	for (uint32_t i = 0; i < PREFIX_BANS; i++) {
		struct mx_lpm4_key k = { .prefixlen = 24, .addr = htonl(i << 16 | 200 << 8) };

		if (put_prefix(fd, &k, &b)) {
			fprintf(stderr, "bench: loading prefix bans failed: %s\n", strerror(errno));
			exit(1);
		}
	}
}

/* with_data - a segment built by pkt_build, with n bytes of payload after its headers */
static size_t with_data(uint8_t *buf, const struct pkt *p, size_t n)
{
	size_t len = pkt_build(buf, p);

	if (len + n > PKT_MAX)
		n = PKT_MAX - len;
	memset(buf + len, 'x', n);
	if (p->family == AF_INET6) {
		struct ipv6hdr *ip6h = (struct ipv6hdr *)(buf + ETH_HLEN);

		ip6h->payload_len = htons((uint16_t)(ntohs(ip6h->payload_len) + n));
	} else {
		struct iphdr *iph = (struct iphdr *)(buf + ETH_HLEN);

		iph->tot_len = htons((uint16_t)(ntohs(iph->tot_len) + n));
		iph->check = 0;
		iph->check = pkt_csum(iph, (size_t)iph->ihl * 4);
	}
	return len + n;
}

#ifdef MX_CFG_F_TABLES_KNOWN
/* table - the four maps of an address table */
static void table(struct mx_table *t, const char *name, uint32_t vs, struct bpf_map *e4,
		  struct bpf_map *e6, struct bpf_map *p4, struct bpf_map *p6)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->value_size = vs;
	t->fd[MX_EXACT4] = bpf_map__fd(e4);
	t->fd[MX_EXACT6] = bpf_map__fd(e6);
	t->fd[MX_PREFIX4] = bpf_map__fd(p4);
	t->fd[MX_PREFIX6] = bpf_map__fd(p6);
}

/* tables_known - as the agent does: tell the program which tries hold entries */
static void tables_known(struct mxguard_bpf *mx)
{
	static struct mx_presence pr;
	static struct mx_table b, a, c;

	table(&b, "ban", sizeof(struct mx_ban), mx->maps.ban4, mx->maps.ban6,
	      mx->maps.ban4_prefix, mx->maps.ban6_prefix);
	table(&a, "allowlist", sizeof(struct mx_allow), mx->maps.allow4, mx->maps.allow6,
	      mx->maps.allow4_prefix, mx->maps.allow6_prefix);
	table(&c, "class", sizeof(struct mx_class_ref), mx->maps.class4, mx->maps.class6,
	      mx->maps.class4_prefix, mx->maps.class6_prefix);
	if (mx_presence_start(&pr, bpf_map__fd(mx->maps.config), &b, &a, &c)) {
		fprintf(stderr, "bench: cannot mark the tables\n");
		exit(1);
	}
#ifdef MX_CFG_F_SUMMARY_BAN4
	if (mx_presence_summary(&pr, bpf_map__fd(mx->maps.ban4_summary))) {
		fprintf(stderr, "bench: cannot build the IPv4 ban summary\n");
		exit(1);
	}
#endif
}
#else
/* tables_known - an agent before the presence bits: nothing to tell */
static void tables_known(struct mxguard_bpf *mx)
{
}
#endif

/* bench_cookie_judge - the ACK judge's cost per segment, next to a bare TC program */
static void bench_cookie_judge(struct bare_bpf *bare, const struct mx_settings *s)
{
	static const struct {
		const char *cell;
		struct pkt p;
	} cc[] = {
		{ "ACK to port 25, IPv4", { .family = AF_INET, .flags = PKT_ACK } },
		{ "ACK to port 25, IPv6", { .family = AF_INET6, .flags = PKT_ACK } },
		{ "ACK to port 80, IPv4", { .family = AF_INET, .flags = PKT_ACK, .dport = 80 } },
	};
	struct conn_bpf *conn = conn_bpf__open();
	uint8_t frame[PKT_MAX];
	struct res base;

	if (conn)
		unpinned(conn->obj);
	if (!conn || conn_bpf__load(conn) || mx_dp_write_config(bpf_map__fd(conn->maps.config), s)) {
		fprintf(stderr, "bench: cannot load the connection programs: %s\n", strerror(errno));
		exit(1);
	}
	base = measure(bpf_program__fd(bare->progs.bare_tc), frame, pkt_build(frame, &cc[0].p));
	add("bare TC", "", base, base.med, "bare TC");
	for (size_t i = 0; i < sizeof(cc) / sizeof(cc[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "cookie judge, %s", cc[i].cell);
		add(name, "", measure(bpf_program__fd(conn->progs.mx_cookie_ack), frame,
				      pkt_build(frame, &cc[i].p)), base.med, "bare TC");
	}
	conn_bpf__destroy(conn);
}

/*
 * no_ban_lookup - the ACK as in ban_reply mode, where the program looks
 * no ban up for it: what dropping a banned sender's established
 * segments at XDP costs is the difference
 */
static void no_ban_lookup(struct mxguard_bpf *mx, struct mx_settings *s, int judge,
			  const uint8_t *ack, size_t ackl, double base, const char *tables)
{
	s->ban_reply = true;
	if (mx_dp_write_config(bpf_map__fd(mx->maps.config), s)) {
		fprintf(stderr, "bench: cannot write settings\n");
		exit(1);
	}
	add("ACK, allowed session, no ban lookup", tables, measure(judge, ack, ackl), base,
	    "bare XDP_PASS");
	s->ban_reply = false;
	if (mx_dp_write_config(bpf_map__fd(mx->maps.config), s)) {
		fprintf(stderr, "bench: cannot write settings\n");
		exit(1);
	}
}

/*
 * dump_prog - the judge as the verifier and the JIT left it: its size in
 * the results, and with BENCH_DUMP=DIR bpftool's xlated and jited dumps
 */
static void dump_prog(int prog_fd, uint32_t *xlated, uint32_t *jited)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	const char *dir = getenv("BENCH_DUMP");

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return;
	*xlated = info.xlated_prog_len / 8;
	*jited = info.jited_prog_len;
	if (dir) {
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "bpftool prog dump xlated id %u > %s/xlated.txt && "
			 "bpftool prog dump jited id %u > %s/jited.txt", info.id, dir, info.id, dir);
		if (system(cmd))
			fprintf(stderr, "bench: cannot dump the program\n");
	}
}

static uint32_t xlated_insns, jited_bytes;

/* write_json - every cell, with where it was measured */
static int write_json(const char *path, const char *label)
{
	FILE *f = fopen(path, "w");
	struct utsname u;
	char cpu[128] = "unknown", line[256];
	FILE *ci = fopen("/proc/cpuinfo", "r");
	time_t t = time(NULL);
	char date[32];

	if (!f) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (ci && fgets(line, sizeof(line), ci)) {
		char *c = strchr(line, ':');

		if (c && strncmp(line, "model name", 10) == 0) {
			snprintf(cpu, sizeof(cpu), "%s", c + 2);
			cpu[strcspn(cpu, "\n")] = '\0';
			break;
		}
	}
	if (ci)
		fclose(ci);
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(f, "{\"label\":\"%s\",\"date\":\"%s\",\"kernel\":\"%s\",\"cpu\":\"%s\",\"cpus\":%d,"
		"\"method\":\"BPF_PROG_TEST_RUN, %d runs x %d frames %s; median, lowest, highest run\","
		"\"xlated_insns\":%u,\"jited_bytes\":%u,\"cells\":[",
		label, date, u.release, cpu, libbpf_num_possible_cpus(), ROUNDS, REPEAT,
		kernel_clock ? "timed by the kernel (whole ns)" :
		own_netns >= 0 ? "timed around the call, each program kept in the XDP dispatcher" :
		"timed around the call",
		xlated_insns, jited_bytes);
	for (int i = 0; i < ncells; i++) {
		const struct cell *c = &cells[i];

		fprintf(f, "%s\n{\"cell\":\"%s\",\"tables\":\"%s\",\"ns\":%.1f,\"ns_lo\":%.1f,"
			"\"ns_hi\":%.1f,\"base\":\"%s\",\"x_base\":%.3f}",
			i ? "," : "", c->name, c->tables, c->r.med, c->r.lo, c->r.hi, c->base_name,
			c->r.med / c->base);
	}
	fprintf(f, "\n]}\n");
	return fclose(f);
}

/*
 * load_judge - mxguard loaded unpinned, with the bench's settings and one
 * ban (198.18.0.66, 2001:db8:1::66); its SYN buckets an LRU of the
 * given flags and size
 */
static struct mxguard_bpf *load_judge(const struct mx_settings *s, uint32_t bucket_flags,
				      uint32_t buckets)
{
	struct mxguard_bpf *mx = mxguard_bpf__open();
	uint32_t one = htonl(0xc6120042);	/* 198.18.0.66 */
	struct mx_ban ban = { .flags = MX_BAN_F_MANUAL };
	struct mx_addr6 one6;

	inet_pton(AF_INET6, "2001:db8:1::66", one6.addr);
	if (!mx) {
		fprintf(stderr, "bench: cannot open the BPF objects: %s\n", strerror(errno));
		exit(1);
	}
	unpinned(mx->obj);
	bpf_map__set_max_entries(mx->maps.ban4, BANS_MAX + 16);
	bpf_map__set_max_entries(mx->maps.ban4_prefix, PREFIX_BANS + 16);
	bpf_map__set_max_entries(mx->maps.syn_bucket4, buckets);
	bpf_map__set_max_entries(mx->maps.syn_bucket6, 65536);
	bpf_map__set_map_flags(mx->maps.syn_bucket4,
			       bpf_map__map_flags(mx->maps.syn_bucket4) | bucket_flags);
	bpf_map__set_map_flags(mx->maps.syn_bucket6,
			       bpf_map__map_flags(mx->maps.syn_bucket6) | bucket_flags);
	if (mxguard_bpf__load(mx)) {
		fprintf(stderr, "bench: cannot load mxguard (root, BPF needed): %s\n", strerror(errno));
		exit(1);
	}
	if (mx_dp_write_classes(bpf_map__fd(mx->maps.class_limits), s) ||
	    mx_dp_write_config(bpf_map__fd(mx->maps.config), s)) {
		fprintf(stderr, "bench: cannot write settings\n");
		exit(1);
	}
	if (bpf_map_update_elem(bpf_map__fd(mx->maps.ban4), &one, &ban, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(mx->maps.ban6), &one6, &ban, BPF_ANY)) {
		fprintf(stderr, "bench: cannot add the ban\n");
		exit(1);
	}
	tables_known(mx);
	return mx;
}

/*
 * pin_cpu - keep the bench on the CPU it is on (1), or let it go (0).
 * An LRU map keeps free and recently used entries per CPU (with
 * BPF_F_NO_COMMON_LRU, all of them): the process moving to another CPU
 * in the middle of a new-source cell would find that CPU's share of the
 * map still free and time creations without evictions.
 */
static void pin_cpu(int on)
{
	static cpu_set_t all;
	static int saved;
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (on) {
		saved = sched_getaffinity(0, sizeof(all), &all) == 0;
		CPU_ZERO(&one);
		CPU_SET(cpu < 0 ? 0 : cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			fprintf(stderr, "bench: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
	} else if (saved) {
		sched_setaffinity(0, sizeof(all), &all);
	}
}

/* fill_run - run prog on the frame n times, untimed: maps filled by the program */
static void fill_run(int prog_fd, const uint8_t *frame, size_t len, uint32_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = n);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "bench: test run failed: %s\n", strerror(errno));
		exit(1);
	}
}

/*
 * new_sources - SYNs from a new source every run (the bucket LRU filled
 * first, so that every creation evicts), then from 500,000 sources in
 * turn, through bare_next_src; its own cost (tail-calling a bare
 * XDP_PASS) is taken off
 */
static void new_sources(struct bare_bpf *bare, int judge, const uint8_t *syn, size_t synl,
			double bp, const char *tables)
{
	int next = bpf_map__fd(bare->maps.next_judge);
	int pass_fd = bpf_program__fd(bare->progs.bare_pass);
	int wrap_fd = bpf_program__fd(bare->progs.bare_next_src);
	struct res wrap, r;
	int zero = 0;

	if (bpf_map_update_elem(next, &zero, &pass_fd, BPF_ANY)) {
		fprintf(stderr, "bench: cannot chain the programs: %s\n", strerror(errno));
		exit(1);
	}
	bare->bss->src_seq = 0;
	bare->bss->src_span = 0;
	wrap = measure(wrap_fd, syn, synl);
	if (bpf_map_update_elem(next, &zero, &judge, BPF_ANY)) {
		fprintf(stderr, "bench: cannot chain the programs: %s\n", strerror(errno));
		exit(1);
	}
	fill_run(wrap_fd, syn, synl, BUCKETS + BUCKETS / 10);
	r = measure(wrap_fd, syn, synl);
	r.med += bp - wrap.med;
	r.lo += bp - wrap.med;
	r.hi += bp - wrap.med;
	add("SYN, new source (bucket created)", tables, r, bp, "bare XDP_PASS");
	bare->bss->src_seq = 0;
	bare->bss->src_span = 500000;
	r = measure(wrap_fd, syn, synl);
	r.med += bp - wrap.med;
	r.lo += bp - wrap.med;
	r.hi += bp - wrap.med;
	add("SYN, 500,000 sources in turn", tables, r, bp, "bare XDP_PASS");
}

/*
 * bench_floors - what each part of the judge's path costs alone
 * (bpf/floor.bpf.c): the walk, the settings and counter, each clock, a
 * hash lookup hitting and missing, a bucket take, a bucket created in a
 * full LRU (common and per-CPU lists), a trie lookup among 65,536 /24s
 */
static void bench_floors(const struct mx_settings *s, double bp, double bd)
{
	struct pkt p = { .family = AF_INET, .src = "198.18.0.10" };
	struct pkt q = { .family = AF_INET, .src = "198.18.0.66" };
	struct pkt a = { .family = AF_INET, .src = "198.18.0.10", .flags = PKT_ACK };
	uint8_t syn[PKT_MAX], banned[PKT_MAX], ack[PKT_MAX];
	size_t synl = pkt_build(syn, &p), bannedl = pkt_build(banned, &q), ackl = pkt_build(ack, &a);
	struct mx_bucket4_key bk = { .addr = htonl(0xc612000a), .kind = MX_BUCKET_SOURCE };
	struct mx_bucket b = { .tat_ns = 1 };
	uint32_t one = htonl(0xc6120042);	/* 198.18.0.66 */
	struct mx_ban ban = { .flags = MX_BAN_F_MANUAL };
	struct floor_bpf *f = floor_bpf__open();
	const char *fl = "floor";
	char tables[48];

	if (!f) {
		fprintf(stderr, "bench: cannot open the floor programs: %s\n", strerror(errno));
		exit(1);
	}
	bpf_map__set_max_entries(f->maps.floor_lru, BUCKETS);
	bpf_map__set_max_entries(f->maps.floor_lru_nc, BUCKETS);
	bpf_map__set_max_entries(f->maps.floor_prefix, PREFIX_BANS + 16);
	if (floor_bpf__load(f) || mx_dp_write_config(bpf_map__fd(f->maps.floor_config), s) ||
	    bpf_map_update_elem(bpf_map__fd(f->maps.floor_exact), &one, &ban, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(f->maps.floor_lru), &bk, &b, BPF_ANY)) {
		fprintf(stderr, "bench: cannot load the floor programs: %s\n", strerror(errno));
		exit(1);
	}
	for (uint32_t i = 0; i < PREFIX_BANS; i++) {
		struct mx_lpm4_key k = { .prefixlen = 24, .addr = htonl(i << 16 | 200 << 8) };

		if (bpf_map_update_elem(bpf_map__fd(f->maps.floor_prefix), &k, &ban, BPF_ANY)) {
			fprintf(stderr, "bench: cannot fill the floor trie: %s\n", strerror(errno));
			exit(1);
		}
	}
	add("floor: walk (eth, IPv4, TCP), port", fl, measure(bpf_program__fd(f->progs.floor_parse),
							   syn, synl), bp, "bare XDP_PASS");
	add("floor: walk + settings + counter", fl, measure(bpf_program__fd(f->progs.floor_cfg),
							 syn, synl), bp, "bare XDP_PASS");
	add("floor: + bpf_ktime_get_boot_ns", fl,
	    measure(bpf_program__fd(f->progs.floor_clock_boot), syn, synl), bp, "bare XDP_PASS");
	add("floor: + bpf_ktime_get_ns", fl,
	    measure(bpf_program__fd(f->progs.floor_clock_mono), syn, synl), bp, "bare XDP_PASS");
	add("floor: + bpf_ktime_get_coarse_ns", fl,
	    measure(bpf_program__fd(f->progs.floor_clock_coarse), syn, synl), bp, "bare XDP_PASS");
	add("floor: + hash lookup, hit (drop)", "floor; 1 key",
	    measure(bpf_program__fd(f->progs.floor_hash), banned, bannedl), bd, "bare XDP_DROP");
	add("floor: + hash lookup, miss", "floor; 1 key",
	    measure(bpf_program__fd(f->progs.floor_hash), ack, ackl), bp, "bare XDP_PASS");
	add("floor: + LRU lookup + CAS (bucket take)", "floor; 1 key",
	    measure(bpf_program__fd(f->progs.floor_lru_take), syn, synl), bp, "bare XDP_PASS");
	add("floor: + LPM lookup, miss", "floor; 65536 /24s",
	    measure(bpf_program__fd(f->progs.floor_trie), ack, ackl), bp, "bare XDP_PASS");
	snprintf(tables, sizeof(tables), "floor; LRU %uk full, common", BUCKETS / 1000);
	fill_run(bpf_program__fd(f->progs.floor_lru_new), syn, synl, BUCKETS + BUCKETS / 10);
	add("floor: + new key, LRU evicts", tables,
	    measure(bpf_program__fd(f->progs.floor_lru_new), syn, synl), bp, "bare XDP_PASS");
	snprintf(tables, sizeof(tables), "floor; LRU %uk full, no common LRU", BUCKETS / 1000);
	fill_run(bpf_program__fd(f->progs.floor_lru_new_nc), syn, synl, BUCKETS + BUCKETS / 10);
	add("floor: + new key, LRU evicts", tables,
	    measure(bpf_program__fd(f->progs.floor_lru_new_nc), syn, synl), bp, "bare XDP_PASS");
	if (libbpf_num_possible_cpus() >= 2) {
		/* Each CPU's share of the lists full first (untimed rounds). */
		measure_pair(bpf_program__fd(f->progs.floor_lru_new), syn, synl);
		measure_pair(bpf_program__fd(f->progs.floor_lru_new_nc), syn, synl);
		snprintf(tables, sizeof(tables), "floor; LRU %uk full, common, 2 CPUs", BUCKETS / 1000);
		add("floor: + new key, LRU evicts", tables,
		    measure_pair(bpf_program__fd(f->progs.floor_lru_new), syn, synl), bp,
		    "bare XDP_PASS");
		snprintf(tables, sizeof(tables), "floor; LRU %uk full, no common, 2 CPUs",
			 BUCKETS / 1000);
		add("floor: + new key, LRU evicts", tables,
		    measure_pair(bpf_program__fd(f->progs.floor_lru_new_nc), syn, synl), bp,
		    "bare XDP_PASS");
	}
	floor_bpf__destroy(f);
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 1, 10000, BANS_MAX };
	struct mx_settings s;
	struct mxguard_bpf *mx;
	struct bare_bpf *bare;
	uint8_t syn[PKT_MAX], banned[PKT_MAX], ack[PKT_MAX], data[PKT_MAX], pbanned[PKT_MAX];
	uint8_t syn6[PKT_MAX], banned6[PKT_MAX], ack6[PKT_MAX];
	struct pkt p = { .family = AF_INET, .src = "198.18.0.10" };
	struct pkt q = { .family = AF_INET, .src = "198.18.0.66" };
	struct pkt a = { .family = AF_INET, .src = "198.18.0.10", .flags = PKT_ACK };
	struct pkt d = { .family = AF_INET, .src = "198.18.0.10", .flags = PKT_ACK | 0x08 };
	struct pkt pb = { .family = AF_INET, .src = "198.18.200.9" };
	struct pkt p6 = { .family = AF_INET6, .src = "2001:db8:1::10" };
	struct pkt q6 = { .family = AF_INET6, .src = "2001:db8:1::66" };
	struct pkt a6 = { .family = AF_INET6, .src = "2001:db8:1::10", .flags = PKT_ACK };
	size_t synl = pkt_build(syn, &p), bannedl = pkt_build(banned, &q), ackl = pkt_build(ack, &a);
	size_t datal = with_data(data, &d, 100), pbannedl = pkt_build(pbanned, &pb);
	size_t syn6l = pkt_build(syn6, &p6), banned6l = pkt_build(banned6, &q6), ack6l = pkt_build(ack6, &a6);
	struct res bp, bd;
	uint32_t have = 0;
	int ban4, judge;
	char tables[48];

	kernel_clock = getenv("BENCH_CLOCK") && strcmp(getenv("BENCH_CLOCK"), "kernel") == 0;
	home_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_netns >= 0 && unshare(CLONE_NEWNET) == 0) {
		own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (setns(home_netns, CLONE_NEWNET)) {
			fprintf(stderr, "bench: cannot return to the first namespace: %s\n",
				strerror(errno));
			return 1;
		}
	}
	if (own_netns < 0)
		fprintf(stderr, "bench: no network namespace of its own (%s): every XDP cell is "
			"timed with the dispatcher's changes\n", strerror(errno));
	bare = bare_bpf__open_and_load();
	if (!bare) {
		fprintf(stderr, "bench: cannot open the BPF objects: %s\n", strerror(errno));
		return 1;
	}
	/* Limits that a benchmark cannot exhaust: every SYN within limits. */
	mx_settings_default(&s);
	s.classes[0].src_interval_ns = 1;
	s.classes[0].src_burst = 1000000000;
	s.classes[0].pfx_interval_ns = 1;
	s.classes[0].pfx_burst = 1000000000;
	mx = load_judge(&s, 0, BUCKETS);
	judge = bpf_program__fd(mx->progs.mxguard_xdp);
	dump_prog(judge, &xlated_insns, &jited_bytes);
	ban4 = bpf_map__fd(mx->maps.ban4);
	have = 1;
	tables_known(mx);

	bp = measure(bpf_program__fd(bare->progs.bare_pass), syn, synl);
	bd = measure(bpf_program__fd(bare->progs.bare_drop), syn, synl);
	add("bare XDP_PASS", "", bp, bp.med, "bare XDP_PASS");
	add("bare XDP_DROP", "", bd, bd.med, "bare XDP_DROP");
	add("banned SYN", "1 ban", measure(judge, banned, bannedl), bd.med, "bare XDP_DROP");
	{
		/* Most bans end (automatic ones after 24 h, manual ones by default): the clock is read. */
		struct pkt e = { .family = AF_INET, .src = "198.18.0.67" };
		uint8_t ebuf[PKT_MAX];
		size_t el = pkt_build(ebuf, &e);
		uint32_t ekey = htonl(0xc6120043);	/* 198.18.0.67 */
		struct timespec ts;
		struct mx_ban eb = { .flags = MX_BAN_F_MANUAL };

		clock_gettime(CLOCK_BOOTTIME, &ts);
		eb.expires_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec +
				86400ULL * 1000000000ULL;
		if (bpf_map_update_elem(ban4, &ekey, &eb, BPF_ANY)) {
			fprintf(stderr, "bench: cannot add the ban\n");
			return 1;
		}
		add("banned SYN, ban that ends", "1 ban", measure(judge, ebuf, el), bd.med,
		    "bare XDP_DROP");
		bpf_map_delete_elem(ban4, &ekey);
	}
	add("passing SYN, known source", "1 ban", measure(judge, syn, synl), bp.med, "bare XDP_PASS");
	add("ACK, allowed session", "1 ban", measure(judge, ack, ackl), bp.med, "bare XDP_PASS");
	add("data segment (100 B), allowed session", "1 ban", measure(judge, data, datal), bp.med,
	    "bare XDP_PASS");
	no_ban_lookup(mx, &s, judge, ack, ackl, bp.med, "1 ban");
	add("IPv6 banned SYN", "1 ban", measure(judge, banned6, banned6l), bd.med, "bare XDP_DROP");
	add("IPv6 passing SYN, known source", "1 ban", measure(judge, syn6, syn6l), bp.med,
	    "bare XDP_PASS");
	add("IPv6 ACK, allowed session", "1 ban", measure(judge, ack6, ack6l), bp.med, "bare XDP_PASS");

	/* New sources, with the buckets as the agent makes them, then with the other LRU. */
	pin_cpu(1);
	new_sources(bare, judge, syn, synl, bp.med, "1 ban");
	{
		int ncpu = libbpf_num_possible_cpus();
		struct mxguard_bpf *nc;

		snprintf(tables, sizeof(tables), "1 ban; buckets no common LRU, %uk", BUCKETS / 1000);
		nc = load_judge(&s, BPF_F_NO_COMMON_LRU, BUCKETS);
		add("passing SYN, known source", tables, measure(bpf_program__fd(nc->progs.mxguard_xdp),
								 syn, synl), bp.med, "bare XDP_PASS");
		new_sources(bare, bpf_program__fd(nc->progs.mxguard_xdp), syn, synl, bp.med, tables);
		mxguard_bpf__destroy(nc);
		snprintf(tables, sizeof(tables), "1 ban; buckets no common LRU, %d x %uk", ncpu,
			 BUCKETS / 1000);
		nc = load_judge(&s, BPF_F_NO_COMMON_LRU, BUCKETS * (uint32_t)ncpu);
		add("passing SYN, known source", tables, measure(bpf_program__fd(nc->progs.mxguard_xdp),
								 syn, synl), bp.med, "bare XDP_PASS");
		new_sources(bare, bpf_program__fd(nc->progs.mxguard_xdp), syn, synl, bp.med, tables);
		mxguard_bpf__destroy(nc);
	}
	bench_floors(&s, bp.med, bd.med);
	pin_cpu(0);

	for (int i = 0; i < 4; i++) {
		if (i < 3) {
			fill_bans(ban4, &have, sizes[i]);
			snprintf(tables, sizeof(tables), "%u ban%s", sizes[i], sizes[i] == 1 ? "" : "s");
		} else {
			fill_prefixes(bpf_map__fd(mx->maps.ban4_prefix));
			snprintf(tables, sizeof(tables), "%u bans + %u prefix bans", BANS_MAX,
				 PREFIX_BANS);
		}
		tables_known(mx);
		add("banned SYN", tables, measure(judge, banned, bannedl), bd.med, "bare XDP_DROP");
		add("passing SYN, known source", tables, measure(judge, syn, synl), bp.med,
		    "bare XDP_PASS");
		add("ACK, allowed session", tables, measure(judge, ack, ackl), bp.med, "bare XDP_PASS");
		if (i == 3) {
			add("SYN in a banned prefix", tables, measure(judge, pbanned, pbannedl), bd.med,
			    "bare XDP_DROP");
			no_ban_lookup(mx, &s, judge, ack, ackl, bp.med, tables);
		}
	}
	mxguard_bpf__destroy(mx);
	bench_cookie_judge(bare, &s);
	bare_bpf__destroy(bare);

	printf("XDP cost per packet (BPF_PROG_TEST_RUN, %d runs x %d, median [lowest, highest run]);"
	       " the judge: %u xlated insns, %u jited bytes\n", ROUNDS, REPEAT, xlated_insns, jited_bytes);
	printf("%-40s %-28s %22s %8s\n", "cell", "tables", "ns/pkt", "x bare");
	for (int i = 0; i < ncells; i++) {
		const struct cell *c = &cells[i];
		char ns[48];

		snprintf(ns, sizeof(ns), "%.1f [%.1f, %.1f]", c->r.med, c->r.lo, c->r.hi);
		printf("%-40s %-28s %22s %8.2f  (%s)\n", c->name, c->tables, ns, c->r.med / c->base,
		       c->base_name);
	}
	if (argc > 1 && write_json(argv[1], argc > 2 ? argv[2] : ""))
		return 1;
	return 0;
}
