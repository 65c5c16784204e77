// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	linerate - line-rate SYN generator and bare XDP_DROP baseline
 * SYNOPSIS
 *	linerate gen IFNAME SRC DST DSTMAC SECONDS
 *	linerate drop IFNAME SECONDS
 *	linerate floor IFNAME SRC SECONDS
 * DESCRIPTION
 *	gen sends one TCP SYN (SRC -> DST:25, to DSTMAC) out of IFNAME as
 *	fast as one core can: BPF_PROG_TEST_RUN with
 *	BPF_F_TEST_XDP_LIVE_FRAMES runs an XDP_TX program, and every run
 *	puts a real frame on the wire (the kernel has no pktgen here). It
 *	prints the frames it sent and the seconds it took.
 *
 *	drop attaches a bare XDP_DROP program natively to IFNAME for
 *	SECONDS: the cheapest possible judge, for the benchmark's ratios.
 *
 *	floor attaches bpf/floor.bpf.c's floor_hash instead, with SRC in its
 *	hash map: the walk to TCP, the settings, one counter and one hash
 *	lookup that hits, XDP_DROP. It reads the frame, as any judge of its
 *	source must, and costs what a banned SYN's path can cost at least.
 *	Only 198.18.0.0/15 addresses are used (RFC 2544).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bare.skel.h"
#include "floor.skel.h"
#include "mxguard.h"
#include "pkt.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int gen(const char *ifname, const char *src, const char *dst, const char *mac,
	       double seconds)
{
	struct pkt p = { .family = AF_INET, .src = src, .dst = dst };
	uint8_t frame[PKT_MAX];
	unsigned int m[6];
	struct bare_bpf *bare;
	size_t len;
	int ifindex = (int)if_nametoindex(ifname);
	unsigned long long sent = 0;
	double t0, t1;

	if (!ifindex || sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
			       &m[5]) != 6) {
		fprintf(stderr, "linerate: bad interface or MAC\n");
		return 1;
	}
	len = pkt_build(frame, &p);
	for (int i = 0; i < 6; i++)
		frame[i] = (uint8_t)m[i];
	bare = bare_bpf__open_and_load();
	if (!bare) {
		fprintf(stderr, "linerate: cannot load the generator: %s\n", strerror(errno));
		return 1;
	}
	t0 = now_s();
	do {
		struct xdp_md ctx = { .data_end = (uint32_t)len, .ingress_ifindex = (uint32_t)ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1 << 20,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 256);

		if (bpf_prog_test_run_opts(bpf_program__fd(bare->progs.bare_tx), &o)) {
			fprintf(stderr, "linerate: live frames failed: %s\n", strerror(errno));
			bare_bpf__destroy(bare);
			return 1;
		}
		sent += 1 << 20;
		t1 = now_s();
	} while (t1 - t0 < seconds);
	printf("%llu frames in %.3f s\n", sent, t1 - t0);
	bare_bpf__destroy(bare);
	return 0;
}

/* attach_for - prog attached natively to ifname for seconds, then taken off */
static int attach_for(int ifindex, const char *ifname, int prog_fd, double seconds)
{
	if (bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "linerate: cannot attach to %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	usleep((useconds_t)(seconds * 1e6));
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	return 0;
}

static int drop(const char *ifname, double seconds)
{
	int ifindex = (int)if_nametoindex(ifname);
	struct bare_bpf *bare = bare_bpf__open_and_load();
	int r;

	if (!ifindex || !bare) {
		fprintf(stderr, "linerate: no interface %s or cannot load\n", ifname);
		return 1;
	}
	r = attach_for(ifindex, ifname, bpf_program__fd(bare->progs.bare_drop), seconds);
	bare_bpf__destroy(bare);
	return r;
}

/* floor_judge - floor_hash attached, src in its hash: the least a judge of a banned source does */
static int floor_judge(const char *ifname, const char *src, double seconds)
{
	int ifindex = (int)if_nametoindex(ifname);
	struct mx_config cfg = { .flags = MX_CFG_F_ACTIVE };
	struct mx_ban ban = { .flags = MX_BAN_F_MANUAL };
	struct floor_bpf *f;
	uint32_t zero = 0, addr;
	int r;

	if (!ifindex || inet_pton(AF_INET, src, &addr) != 1) {
		fprintf(stderr, "linerate: no interface %s or bad address %s\n", ifname, src);
		return 1;
	}
	f = floor_bpf__open();
	if (!f)
		return 1;
	/* Only floor_hash runs: the other programs' maps need no room. */
	bpf_map__set_max_entries(f->maps.floor_lru, 1);
	bpf_map__set_max_entries(f->maps.floor_lru_nc, 2 * libbpf_num_possible_cpus());
	bpf_map__set_max_entries(f->maps.floor_prefix, 1);
	cfg.ports[25 >> 3] |= 1 << (25 & 7);
	if (floor_bpf__load(f) ||
	    bpf_map_update_elem(bpf_map__fd(f->maps.floor_config), &zero, &cfg, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(f->maps.floor_exact), &addr, &ban, BPF_ANY)) {
		fprintf(stderr, "linerate: cannot load the floor judge: %s\n", strerror(errno));
		floor_bpf__destroy(f);
		return 1;
	}
	r = attach_for(ifindex, ifname, bpf_program__fd(f->progs.floor_hash), seconds);
	floor_bpf__destroy(f);
	return r;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "gen"))
		return gen(argv[2], argv[3], argv[4], argv[5], atof(argv[6]));
	if (argc == 4 && !strcmp(argv[1], "drop"))
		return drop(argv[2], atof(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "floor"))
		return floor_judge(argv[2], argv[3], atof(argv[4]));
	fprintf(stderr, "usage: linerate gen IFNAME SRC DST DSTMAC SECONDS | drop IFNAME SECONDS | "
		"floor IFNAME SRC SECONDS\n");
	return 2;
}
