// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	bench_xdp - the XDP program's cost per packet, as ratios
 * DESCRIPTION
 *	BPF_PROG_TEST_RUN with repeat runs one frame many times in the
 *	kernel and reports the mean time per run. Measured in the same
 *	process, side by side: a bare XDP_PASS and a bare XDP_DROP program,
 *	and mxguard on a passing SYN and on a banned SYN with 1, 10,000 and
 *	1,000,000 single-address bans loaded. Each cell is the median of
 *	ROUNDS runs. The table gives ns per packet and the ratios to the
 *	bare programs; the next line says whether the cost stayed flat
 *	(1,000,000 bans within 1.5 times the cost at 1 ban).
 *
 *	Then the SYN-cookie ACK judge (mx_cookie_ack, TC ingress; attached
 *	only while the kernel sends cookies) on what it sees most: a
 *	client's ACK to port 25 that carries no cookie, IPv4 and IPv6, and a
 *	segment to another port, next to a bare TC program.
 *	Filler bans use 240.0.0.0/4 (reserved): they are map keys, no
 *	packet is sent to or from them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bare.skel.h"
#include "conn.skel.h"
#include "mxguard.skel.h"
#include "pkt.h"
#include "tables.h"

#define ROUNDS	7
#define REPEAT	200000
#define BANS_MAX 1000000

/* unpinned - the object's maps its own, never pinned (bpf/maps.h pins the agent's by name) */
static void unpinned(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		bpf_map__set_pin_path(m, NULL);
}

/* cmp_u32 - for qsort */
static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* measure - median ns per run of prog on the frame */
static double measure(int prog_fd, const uint8_t *frame, size_t len)
{
	uint32_t d[ROUNDS];

	for (int i = 0; i < ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
			    .repeat = REPEAT);

		if (bpf_prog_test_run_opts(prog_fd, &o)) {
			fprintf(stderr, "bench: test run failed: %s\n", strerror(errno));
			exit(1);
		}
		d[i] = o.duration;
	}
	qsort(d, ROUNDS, sizeof(d[0]), cmp_u32);
	return d[ROUNDS / 2];
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

/* bench_cookie_judge - the ACK judge's cost per segment, next to a bare TC program */
static void bench_cookie_judge(struct bare_bpf *bare, const struct mx_settings *s)
{
	static const struct {
		const char *cell;
		struct pkt p;
	} cells[] = {
		{ "ACK to port 25, IPv4", { .family = AF_INET, .flags = PKT_ACK } },
		{ "ACK to port 25, IPv6", { .family = AF_INET6, .flags = PKT_ACK } },
		{ "ACK to port 80, IPv4", { .family = AF_INET, .flags = PKT_ACK, .dport = 80 } },
	};
	struct conn_bpf *conn = conn_bpf__open();
	uint8_t frame[PKT_MAX];
	double base;

	if (conn)
		unpinned(conn->obj);
	if (!conn || conn_bpf__load(conn) || mx_dp_write_config(bpf_map__fd(conn->maps.config), s)) {
		fprintf(stderr, "bench: cannot load the connection programs: %s\n", strerror(errno));
		exit(1);
	}
	base = measure(bpf_program__fd(bare->progs.bare_tc), frame, pkt_build(frame, &cells[0].p));
	printf("\nSYN-cookie ACK judge per segment while attached (TC ingress, same runs)\n");
	printf("%-32s %10s %12s\n", "cell", "ns/pkt", "- bare TC");
	printf("%-32s %10.1f %12s\n", "bare TC", base, "");
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		double ns = measure(bpf_program__fd(conn->progs.mx_cookie_ack), frame,
				    pkt_build(frame, &cells[i].p));

		printf("%-32s %10.1f %12.1f\n", cells[i].cell, ns, ns - base);
	}
	conn_bpf__destroy(conn);
}

int main(void)
{
	static const uint32_t sizes[] = { 1, 10000, BANS_MAX };
	struct mx_settings s;
	struct mxguard_bpf *mx;
	struct bare_bpf *bare;
	uint8_t pass[PKT_MAX], banned[PKT_MAX];
	struct pkt p = { .family = AF_INET, .src = "198.18.0.10" };
	struct pkt q = { .family = AF_INET, .src = "198.18.0.66" };
	size_t plen = pkt_build(pass, &p), qlen = pkt_build(banned, &q);
	double bare_pass, bare_drop, cost[3][2];
	uint32_t have = 0, one = htonl(0xc6120042);	/* 198.18.0.66 */
	struct mx_ban ban = { .flags = MX_BAN_F_MANUAL };
	int ban4;

	bare = bare_bpf__open_and_load();
	mx = mxguard_bpf__open();
	if (!bare || !mx) {
		fprintf(stderr, "bench: cannot open the BPF objects: %s\n", strerror(errno));
		return 1;
	}
	unpinned(mx->obj);
	bpf_map__set_max_entries(mx->maps.ban4, BANS_MAX + 16);
	bpf_map__set_max_entries(mx->maps.syn_bucket4, 65536);
	bpf_map__set_max_entries(mx->maps.syn_bucket6, 1024);
	if (mxguard_bpf__load(mx)) {
		fprintf(stderr, "bench: cannot load mxguard (root, BPF needed): %s\n", strerror(errno));
		return 1;
	}
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
	if (bpf_map_update_elem(ban4, &one, &ban, BPF_ANY)) {
		fprintf(stderr, "bench: cannot add the ban\n");
		return 1;
	}
	have = 1;

	bare_pass = measure(bpf_program__fd(bare->progs.bare_pass), pass, plen);
	bare_drop = measure(bpf_program__fd(bare->progs.bare_drop), pass, plen);
	for (int i = 0; i < 3; i++) {
		fill_bans(ban4, &have, sizes[i]);
		cost[i][0] = measure(bpf_program__fd(mx->progs.mxguard_xdp), pass, plen);
		cost[i][1] = measure(bpf_program__fd(mx->progs.mxguard_xdp), banned, qlen);
	}

	printf("XDP cost per packet (BPF_PROG_TEST_RUN, %d runs x %d, median)\n", ROUNDS, REPEAT);
	printf("%-32s %10s %12s %12s\n", "cell", "ns/pkt", "x XDP_DROP", "x XDP_PASS");
	printf("%-32s %10.1f %12.2f %12.2f\n", "bare XDP_PASS", bare_pass, bare_pass / bare_drop, 1.0);
	printf("%-32s %10.1f %12.2f %12.2f\n", "bare XDP_DROP", bare_drop, 1.0, bare_drop / bare_pass);
	for (int i = 0; i < 3; i++) {
		for (int k = 0; k < 2; k++) {
			char cell[64];

			snprintf(cell, sizeof(cell), "mxguard %s SYN, %u bans",
				 k ? "banned" : "passing", sizes[i]);
			printf("%-32s %10.1f %12.2f %12.2f\n", cell, cost[i][k],
			       cost[i][k] / bare_drop, cost[i][k] / bare_pass);
		}
	}
	printf("flat from 1 to %u bans: passing %.2fx, banned %.2fx: %s\n", BANS_MAX,
	       cost[2][0] / cost[0][0], cost[2][1] / cost[0][1],
	       cost[2][0] < 1.5 * cost[0][0] && cost[2][1] < 1.5 * cost[0][1] ? "yes" : "NO");
	mxguard_bpf__destroy(mx);
	bench_cookie_judge(bare, &s);
	bare_bpf__destroy(bare);
	return 0;
}
