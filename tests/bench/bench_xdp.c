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
 *	  into the trie), and a SYN from inside a banned prefix.
 *
 *	Each cell is ROUNDS runs of REPEAT frames: the median, with the
 *	lowest and highest run as its spread. The table gives ns per packet
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bare.skel.h"
#include "conn.skel.h"
#include "mxguard.skel.h"
#include "pkt.h"
#include "tables.h"

#define ROUNDS	11
#define REPEAT	200000
#define BANS_MAX 1000000
#define PREFIX_BANS 65536
#define BUCKETS 1000000
#define MAX_CELLS 64

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

/*
 * measure - ns per run of prog on the frame: median, lowest, highest of
 * ROUNDS. Timed around the call, not by the kernel's duration, which
 * is whole nanoseconds (a bare program takes about 5); one system call
 * over REPEAT runs adds about 0.01 ns to each.
 */
static struct res measure(int prog_fd, const uint8_t *frame, size_t len)
{
	double d[ROUNDS];

	for (int i = 0; i < ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
			    .repeat = REPEAT);
		double t0 = mono_ns();

		if (bpf_prog_test_run_opts(prog_fd, &o)) {
			fprintf(stderr, "bench: test run failed: %s\n", strerror(errno));
			exit(1);
		}
		d[i] = (mono_ns() - t0) / REPEAT;
	}
	qsort(d, ROUNDS, sizeof(d[0]), cmp_dbl);
	return (struct res){ d[ROUNDS / 2], d[0], d[ROUNDS - 1] };
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
		"\"method\":\"BPF_PROG_TEST_RUN, %d runs x %d frames timed around the call; median, lowest, highest run\","
		"\"xlated_insns\":%u,\"jited_bytes\":%u,\"cells\":[",
		label, date, u.release, cpu, libbpf_num_possible_cpus(), ROUNDS, REPEAT,
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
	struct res bp, bd, wrap;
	uint32_t have = 0, one = htonl(0xc6120042);	/* 198.18.0.66 */
	struct mx_addr6 one6;
	struct mx_ban ban = { .flags = MX_BAN_F_MANUAL };
	int ban4, judge, zero = 0;
	char tables[48];

	inet_pton(AF_INET6, "2001:db8:1::66", one6.addr);
	bare = bare_bpf__open_and_load();
	mx = mxguard_bpf__open();
	if (!bare || !mx) {
		fprintf(stderr, "bench: cannot open the BPF objects: %s\n", strerror(errno));
		return 1;
	}
	unpinned(mx->obj);
	bpf_map__set_max_entries(mx->maps.ban4, BANS_MAX + 16);
	bpf_map__set_max_entries(mx->maps.ban4_prefix, PREFIX_BANS + 16);
	bpf_map__set_max_entries(mx->maps.syn_bucket4, BUCKETS);
	bpf_map__set_max_entries(mx->maps.syn_bucket6, 65536);
	if (mxguard_bpf__load(mx)) {
		fprintf(stderr, "bench: cannot load mxguard (root, BPF needed): %s\n", strerror(errno));
		return 1;
	}
	judge = bpf_program__fd(mx->progs.mxguard_xdp);
	dump_prog(judge, &xlated_insns, &jited_bytes);
	/* Limits that a benchmark cannot exhaust: every SYN within limits. */
	mx_settings_default(&s);
	s.classes[0].src_interval_ns = 1;
	s.classes[0].src_burst = 1000000000;
	s.classes[0].pfx_interval_ns = 1;
	s.classes[0].pfx_burst = 1000000000;
	if (mx_dp_write_classes(bpf_map__fd(mx->maps.class_limits), &s) ||
	    mx_dp_write_config(bpf_map__fd(mx->maps.config), &s)) {
		fprintf(stderr, "bench: cannot write settings\n");
		return 1;
	}
	ban4 = bpf_map__fd(mx->maps.ban4);
	if (bpf_map_update_elem(ban4, &one, &ban, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(mx->maps.ban6), &one6, &ban, BPF_ANY)) {
		fprintf(stderr, "bench: cannot add the ban\n");
		return 1;
	}
	have = 1;
	tables_known(mx);

	bp = measure(bpf_program__fd(bare->progs.bare_pass), syn, synl);
	bd = measure(bpf_program__fd(bare->progs.bare_drop), syn, synl);
	add("bare XDP_PASS", "", bp, bp.med, "bare XDP_PASS");
	add("bare XDP_DROP", "", bd, bd.med, "bare XDP_DROP");
	add("banned SYN", "1 ban", measure(judge, banned, bannedl), bd.med, "bare XDP_DROP");
	add("passing SYN, known source", "1 ban", measure(judge, syn, synl), bp.med, "bare XDP_PASS");
	add("ACK, allowed session", "1 ban", measure(judge, ack, ackl), bp.med, "bare XDP_PASS");
	add("data segment (100 B), allowed session", "1 ban", measure(judge, data, datal), bp.med,
	    "bare XDP_PASS");
	no_ban_lookup(mx, &s, judge, ack, ackl, bp.med, "1 ban");
	add("IPv6 banned SYN", "1 ban", measure(judge, banned6, banned6l), bd.med, "bare XDP_DROP");
	add("IPv6 passing SYN, known source", "1 ban", measure(judge, syn6, syn6l), bp.med,
	    "bare XDP_PASS");
	add("IPv6 ACK, allowed session", "1 ban", measure(judge, ack6, ack6l), bp.med, "bare XDP_PASS");

	/* New sources: bare_next_src's own cost first, then with the judge behind it. */
	{
		int next = bpf_map__fd(bare->maps.next_judge);
		int pass_fd = bpf_program__fd(bare->progs.bare_pass);
		int wrap_fd = bpf_program__fd(bare->progs.bare_next_src);
		struct res r;

		if (bpf_map_update_elem(next, &zero, &pass_fd, BPF_ANY)) {
			fprintf(stderr, "bench: cannot chain the programs: %s\n", strerror(errno));
			return 1;
		}
		bare->bss->src_seq = 0;
		bare->bss->src_span = 0;
		wrap = measure(wrap_fd, syn, synl);
		if (bpf_map_update_elem(next, &zero, &judge, BPF_ANY)) {
			fprintf(stderr, "bench: cannot chain the programs: %s\n", strerror(errno));
			return 1;
		}
		r = measure(wrap_fd, syn, synl);
		r.med += bp.med - wrap.med;
		r.lo += bp.med - wrap.med;
		r.hi += bp.med - wrap.med;
		add("SYN, new source (bucket created)", "1 ban", r, bp.med, "bare XDP_PASS");
		bare->bss->src_seq = 0;
		bare->bss->src_span = 500000;
		r = measure(wrap_fd, syn, synl);
		r.med += bp.med - wrap.med;
		r.lo += bp.med - wrap.med;
		r.hi += bp.med - wrap.med;
		add("SYN, 500,000 sources in turn", "1 ban", r, bp.med, "bare XDP_PASS");
	}

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
