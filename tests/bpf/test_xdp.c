// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_xdp.c - the XDP program on crafted frames (BPF_PROG_TEST_RUN)
 * DESCRIPTION
 *	Each test loads the real program from its skeleton with small maps,
 *	writes the default settings as the agent does (mx_dp_write_*), adds
 *	bans, allowlist entries and classes through the agent's table
 *	functions, runs frames built by pkt.h and checks the action and
 *	the counters. Time moves through the program's mx_clock_offset_ns.
 *	A program that cannot be loaded fails every test: nothing skips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mxguard.skel.h"
#include "skel_fx.h"
#include "pkt.h"
#include "tables.h"

#define SEC_NS 1000000000ULL

struct fx {
	struct mxguard_bpf *skel;
	struct mx_table bans, allows, classes;
	struct mx_settings s;
	uint64_t base[MX_STAT__MAX];
};

/* write_settings - the data plane's settings from f->s */
static void write_settings(struct fx *f)
{
	skel_fx_settings(f->skel, &f->s);
}

static int setup_inactive(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->skel = skel_fx_load();
	skel_fx_tables(f->skel, &f->bans, &f->allows, &f->classes);
	mx_settings_default(&f->s);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	setup_inactive(state);
	write_settings(*state);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mxguard_bpf__destroy(f->skel);
	free(f);
	return 0;
}

/* stats - the counters now */
static void stats(struct fx *f, uint64_t out[MX_STAT__MAX])
{
	assert_int_equal(mx_stats_read(bpf_map__fd(f->skel->maps.stats), out), 0);
}

/* delta - how much a counter rose since the last mark() */
static uint64_t delta(struct fx *f, enum mx_stat i)
{
	uint64_t now[MX_STAT__MAX];

	stats(f, now);
	return now[i] - f->base[i];
}

static void mark(struct fx *f)
{
	stats(f, f->base);
}

/* run_raw - the program's action on len bytes, or -errno from the kernel */
static int run_raw(struct fx *f, const void *data, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)len);
	int err = bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.mxguard_xdp), &o);

	return err ? -errno : (int)o.retval;
}

/* run - build a frame, run it, and check it adds exactly one verdict of kind want */
static int run(struct fx *f, const struct pkt *p, enum mx_stat want)
{
	return skel_fx_run(f->skel, p, want);
}

/* syn4 / syn6 - a plain SYN from src */
static struct pkt syn4(const char *src)
{
	return (struct pkt){ .family = AF_INET, .src = src };
}

static struct pkt syn6(const char *src)
{
	return (struct pkt){ .family = AF_INET6, .src = src };
}

/* prefix - parse or fail */
static struct mx_prefix prefix(const char *s)
{
	return skel_fx_prefix(s);
}

/* ban - add a ban that expires ttl_ns from now (0: permanent) */
static void ban(struct fx *f, const char *s, uint64_t ttl_ns)
{
	skel_fx_ban(&f->bans, s, ttl_ns);
}

static void allow(struct fx *f, const char *s)
{
	struct mx_prefix p = prefix(s);
	struct mx_allow a = { 0 };

	assert_int_equal(mx_table_put(&f->allows, &p, &a, BPF_ANY), 0);
}

/* advance - move the program's clock */
static void advance(struct fx *f, uint64_t ns)
{
	f->skel->bss->mx_clock_offset_ns += ns;
}

/* slow_limits - class 0 with the given bursts and a rate of one per hour */
static void slow_limits(struct fx *f, uint32_t src_burst, uint32_t pfx_burst)
{
	f->s.classes[0].src_interval_ns = 3600 * SEC_NS;
	f->s.classes[0].src_burst = src_burst;
	f->s.classes[0].pfx_interval_ns = 3600 * SEC_NS;
	f->s.classes[0].pfx_burst = pfx_burst;
	write_settings(f);
}

static void test_inactive_passes_everything(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn4(NULL);

	assert_int_equal(run(f, &p, MX_STAT_PASS_INACTIVE), XDP_PASS);
}

static void test_syn_passes_all_encapsulations(void **state)
{
	struct fx *f = *state;

	for (int vlans = 0; vlans <= 2; vlans++) {
		struct pkt p4 = syn4(NULL), p6 = syn6(NULL);

		p4.vlans = p6.vlans = vlans;
		assert_int_equal(run(f, &p4, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
		assert_int_equal(run(f, &p6, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	for (unsigned int words = 1; words <= 10; words++) {
		struct pkt p = syn4(NULL);

		p.ip_opt_words = words;
		p.tcp_opt_words = words;
		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	{
		struct pkt p = syn6(NULL);
		uint8_t chain[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT };

		memcpy(p.ext, chain, sizeof(chain));
		p.next = sizeof(chain);
		p.vlans = 2;
		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
}

static void test_ipv6_chain_too_long_is_malformed(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn6(NULL);

	p.next = MX_MAX_IPV6_EXT_HDRS;
	memset(p.ext, IPPROTO_DSTOPTS, p.next);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);	/* 8: allowed */
	p.next = MX_MAX_IPV6_EXT_HDRS + 1;
	memset(p.ext, IPPROTO_DSTOPTS, p.next);
	assert_int_equal(run(f, &p, MX_STAT_DROP_MALFORMED), XDP_DROP);
}

static void test_fragments(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn4(NULL);

	p.frag = 0x2000;	/* first fragment: judged */
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	p.frag = 185;		/* a later one: passes unjudged */
	assert_int_equal(run(f, &p, MX_STAT_PASS_FRAGMENT), XDP_PASS);
	p.frag = 0x2000 | 1;	/* offset 8 bytes: RFC 1858 */
	assert_int_equal(run(f, &p, MX_STAT_DROP_MALFORMED), XDP_DROP);

	p = syn6(NULL);
	p.ext[0] = IPPROTO_FRAGMENT;
	p.next = 1;
	p.ext_frag = 0;
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	p.ext_frag = 10;
	assert_int_equal(run(f, &p, MX_STAT_PASS_FRAGMENT), XDP_PASS);

	/* A banned source's first fragment is dropped, later ones pass. */
	ban(f, "198.18.0.10", 0);
	p = syn4(NULL);
	p.frag = 0x2000;
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	p.frag = 185;
	assert_int_equal(run(f, &p, MX_STAT_PASS_FRAGMENT), XDP_PASS);
}

static void test_malformed_headers(void **state)
{
	struct fx *f = *state;
	uint8_t buf[PKT_MAX];
	struct pkt p = syn4(NULL);
	size_t len;
	struct iphdr *iph = (struct iphdr *)(buf + ETH_HLEN);
	struct tcphdr *th = (struct tcphdr *)(buf + ETH_HLEN + 20);

	len = pkt_build(buf, &p);
	iph->ihl = 4;
	mark(f);
	assert_int_equal(run_raw(f, buf, len), XDP_DROP);
	len = pkt_build(buf, &p);
	iph->tot_len = htons((uint16_t)(len - ETH_HLEN + 1));	/* beyond the frame */
	assert_int_equal(run_raw(f, buf, len), XDP_DROP);
	len = pkt_build(buf, &p);
	iph->tot_len = htons(19);	/* shorter than its header */
	assert_int_equal(run_raw(f, buf, len), XDP_DROP);
	len = pkt_build(buf, &p);
	iph->tot_len = htons(30);	/* ends inside TCP */
	assert_int_equal(run_raw(f, buf, len), XDP_DROP);
	len = pkt_build(buf, &p);
	th->doff = 4;
	assert_int_equal(run_raw(f, buf, len), XDP_DROP);
	len = pkt_build(buf, &p);
	th->doff = 15;			/* options beyond the packet */
	assert_int_equal(run_raw(f, buf, len), XDP_DROP);
	len = pkt_build(buf, &p);
	iph->version = 5;
	assert_int_equal(run_raw(f, buf, len), XDP_DROP);
	assert_int_equal(delta(f, MX_STAT_DROP_MALFORMED), 7);

	p = syn6(NULL);
	len = pkt_build(buf, &p);
	((struct ipv6hdr *)(buf + ETH_HLEN))->payload_len = htons(200);
	assert_int_equal(run_raw(f, buf, len), XDP_DROP);
	assert_int_equal(delta(f, MX_STAT_DROP_MALFORMED), 8);
	/* Padding after a valid packet (short frames are padded) is fine. */
	p = syn4(NULL);
	len = pkt_build(buf, &p);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_int_equal(run_raw(f, buf, len + 6), XDP_PASS);
}

/* truncations - every length of a valid frame: pass, or a counted malformed drop */
static void truncations(struct fx *f, const struct pkt *p)
{
	uint8_t buf[PKT_MAX];
	size_t full = pkt_build(buf, p);

	for (size_t len = 0; len <= full; len++) {
		uint64_t before[MX_STAT__MAX], after[MX_STAT__MAX], sum = 0;
		int act;

		stats(f, before);
		act = run_raw(f, buf, len);
		stats(f, after);
		if (len < ETH_HLEN) {
			/* The kernel refuses to run XDP on less than an Ethernet header. */
			assert_true(act < 0);
			continue;
		}
		for (int i = 0; i < MX_STAT__MAX; i++)
			sum += after[i] - before[i];
		if (act == XDP_DROP)
			assert_int_equal(after[MX_STAT_DROP_MALFORMED] - before[MX_STAT_DROP_MALFORMED], 1);
		else
			assert_int_equal(act, XDP_PASS);
		assert_true(sum >= 1);
		/* The whole frame passes; any cut one lies about its lengths. */
		assert_int_equal(act, len == full ? XDP_PASS : XDP_DROP);
	}
}

static void test_every_truncation(void **state)
{
	struct fx *f = *state;
	struct pkt p4 = syn4(NULL), q4 = syn4(NULL), p6 = syn6(NULL);
	uint8_t chain[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT };

	slow_limits(f, 1000000, 1000000);
	q4.vlans = 2;
	q4.ip_opt_words = 3;
	memcpy(p6.ext, chain, sizeof(chain));
	p6.next = sizeof(chain);
	truncations(f, &p4);
	truncations(f, &q4);
	truncations(f, &p6);
}

static void test_segments_and_other_traffic(void **state)
{
	struct fx *f = *state;
	uint8_t flags[] = { PKT_ACK, PKT_SYN | PKT_ACK, PKT_RST, PKT_ACK | PKT_RST };
	struct pkt p;

	slow_limits(f, 1, 1);
	for (size_t i = 0; i < sizeof(flags); i++) {
		p = syn4(NULL);
		p.flags = flags[i];
		assert_int_equal(run(f, &p, MX_STAT_PASS_SEGMENT), XDP_PASS);
	}
	assert_int_equal(delta(f, MX_STAT_BUCKET_NEW_SOURCE), 0);
	p = syn4(NULL);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);	/* took no token before */

	p = syn4("198.18.0.11");
	p.dport = 587;
	assert_int_equal(run(f, &p, MX_STAT_PASS_NOT_GUARDED), XDP_PASS);
	p.proto = IPPROTO_UDP;
	p.dport = 25;
	assert_int_equal(run(f, &p, MX_STAT_PASS_NOT_GUARDED), XDP_PASS);
	p = syn6(NULL);
	p.proto = IPPROTO_ICMPV6;
	assert_int_equal(run(f, &p, MX_STAT_PASS_NOT_GUARDED), XDP_PASS);
	{
		uint8_t arp[60] = { [12] = 0x08, [13] = 0x06 };

		mark(f);
		assert_int_equal(run_raw(f, arp, sizeof(arp)), XDP_PASS);
		assert_int_equal(delta(f, MX_STAT_PASS_NOT_GUARDED), 1);
	}
	/* Guard 587 too: now it is judged. */
	f->s.ports[f->s.nports++] = 587;
	write_settings(f);
	p = syn4("198.18.3.11");	/* another /24: 198.18.0.0/24 has spent its token */
	p.dport = 587;
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
}

static void test_bans_exact_and_prefix(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	ban(f, "198.18.0.10", 60 * SEC_NS);
	ban(f, "2001:db8:1::10", 0);
	ban(f, "198.18.7.0/24", 0);
	ban(f, "2001:db8:2::/64", 0);
	ban(f, "2001:db9::/32", 0);

	p = syn4("198.18.0.10");
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	p.flags = PKT_ACK;	/* established connections of a banned source die too */
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	p = syn4("198.18.0.11");
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	p = syn4("198.18.7.200");
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	p = syn4("198.18.8.1");
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	p = syn6("2001:db8:1::10");
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	p = syn6("2001:db8:1::11");
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	p = syn6("2001:db8:2::ffff:1");
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	p = syn6("2001:db9:abcd::1");
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);

	/* /0 bans everyone of the family. */
	ban(f, "0.0.0.0/0", 0);
	p = syn4("198.19.255.1");
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	p = syn6("2001:db8:3::1");
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
}

static void test_allow_beats_ban_and_limits(void **state)
{
	struct fx *f = *state;
	struct pkt p;

	slow_limits(f, 1, 1);
	ban(f, "198.18.0.0/16", 0);
	allow(f, "198.18.0.10");
	allow(f, "198.18.5.0/24");
	allow(f, "2001:db8:1::/64");
	ban(f, "2001:db8:1::10", 0);
	for (int i = 0; i < 5; i++) {
		p = syn4("198.18.0.10");
		assert_int_equal(run(f, &p, MX_STAT_PASS_ALLOWLISTED), XDP_PASS);
		p = syn4("198.18.5.9");
		assert_int_equal(run(f, &p, MX_STAT_PASS_ALLOWLISTED), XDP_PASS);
		p = syn6("2001:db8:1::10");
		assert_int_equal(run(f, &p, MX_STAT_PASS_ALLOWLISTED), XDP_PASS);
	}
	p = syn4("198.18.0.11");
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
}

static void test_ban_expiry(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn4("198.18.0.10"), q = syn4("198.18.0.20");

	ban(f, "198.18.0.10", 60 * SEC_NS);
	ban(f, "198.18.0.20", 0);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	advance(f, 59 * SEC_NS);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	advance(f, 2 * SEC_NS);
	/* Expired: passes although the entry is still in the map. */
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	{
		struct mx_prefix pfx = prefix("198.18.0.10");
		struct mx_ban b;

		assert_int_equal(mx_table_get(&f->bans, &pfx, &b), 0);
	}
	advance(f, 3650ULL * 86400 * SEC_NS);
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);	/* permanent */
}

/*
 * The ban clock (the coarse monotonic clock plus the suspended time the
 * agent writes) is never ahead of CLOCK_BOOTTIME and at most a jiffy and
 * a ms of rounding behind: a ban still drops until its end and stops
 * 10 ms after it. A resume (the offset moving on) ends bans whose time
 * passed while the host slept.
 */
static void test_ban_clock(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn4("198.18.0.10"), q = syn4("198.18.0.20");
	int cfd = bpf_map__fd(f->skel->maps.config);
	struct mx_config cfg;
	uint32_t zero = 0, ms = mx_boot_offset_ms();

	assert_int_equal(bpf_map_lookup_elem(cfd, &zero, &cfg), 0);
	assert_true(cfg.boot_offset_ms == ms || cfg.boot_offset_ms + 1 == ms ||
		    cfg.boot_offset_ms == ms + 1);
	assert_in_range(mx_dp_clock_refresh(cfd), 0, 1);
	ban(f, "198.18.0.10", SEC_NS);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	advance(f, SEC_NS + 10 * 1000000ULL);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);

	/* Two hours asleep: the agent's offset ends a one-hour ban at once. */
	ban(f, "198.18.0.20", 3600 * SEC_NS);
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
	assert_int_equal(bpf_map_lookup_elem(cfd, &zero, &cfg), 0);
	cfg.boot_offset_ms += 2 * 3600 * 1000;
	assert_int_equal(bpf_map_update_elem(cfd, &zero, &cfg, BPF_ANY), 0);
	assert_int_equal(run(f, &q, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	/* Without an offset (an earlier agent's settings) bans end late, never early. */
	cfg.boot_offset_ms = 0;
	assert_int_equal(bpf_map_update_elem(cfd, &zero, &cfg, BPF_ANY), 0);
	ban(f, "198.18.0.20", 10 * SEC_NS);	/* 10 s: the program's clock is 1.01 s on */
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
}

static void test_source_burst_exact(void **state)
{
	struct fx *f = *state;

	slow_limits(f, 5, 1000);
	for (int i = 0; i < 5; i++) {
		struct pkt p = syn4("198.18.0.10");

		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	{
		struct pkt p = syn4("198.18.0.10"), q = syn4("198.18.0.11");

		assert_int_equal(run(f, &p, MX_STAT_DROP_SOURCE_RATE), XDP_DROP);
		assert_int_equal(run(f, &q, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	for (int i = 0; i < 5; i++) {
		struct pkt p = syn6("2001:db8:1::10");

		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	{
		/* Same /64: the same source. */
		struct pkt p = syn6("2001:db8:1::ffff"), q = syn6("2001:db8:1:1::10");

		assert_int_equal(run(f, &p, MX_STAT_DROP_SOURCE_RATE), XDP_DROP);
		assert_int_equal(run(f, &q, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
}

static void test_prefix_burst_exact(void **state)
{
	struct fx *f = *state;
	char src[32];

	slow_limits(f, 100, 4);
	for (int i = 1; i <= 4; i++) {
		struct pkt p;

		snprintf(src, sizeof(src), "198.18.0.%d", i);
		p = syn4(src);
		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	{
		struct pkt p = syn4("198.18.0.99"), q = syn4("198.18.1.99");

		assert_int_equal(run(f, &p, MX_STAT_DROP_PREFIX_RATE), XDP_DROP);
		assert_int_equal(run(f, &q, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	for (int i = 1; i <= 4; i++) {
		struct pkt p;

		snprintf(src, sizeof(src), "2001:db8:1:%x::1", i);	/* four /64s, one /48 */
		p = syn6(src);
		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	{
		struct pkt p = syn6("2001:db8:1:99::1"), q = syn6("2001:db8:2::1");

		assert_int_equal(run(f, &p, MX_STAT_DROP_PREFIX_RATE), XDP_DROP);
		assert_int_equal(run(f, &q, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	mark(f);
	assert_int_equal(delta(f, MX_STAT_BUCKET_NEW_SOURCE), 0);
	stats(f, f->base);
	assert_int_equal(f->base[MX_STAT_BUCKET_NEW_SOURCE], 4 + 1 + 1 + 4 + 1 + 1);
	/* Prefixes: 198.18.0/24, 198.18.1/24, 2001:db8:1::/48, 2001:db8:2::/48. */
	assert_int_equal(f->base[MX_STAT_BUCKET_NEW_PREFIX], 4);
}

static void test_refill(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn4("198.18.0.10");

	f->s.classes[0].src_interval_ns = 10 * SEC_NS;	/* 6/min */
	f->s.classes[0].src_burst = 3;
	write_settings(f);
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_int_equal(run(f, &p, MX_STAT_DROP_SOURCE_RATE), XDP_DROP);
	advance(f, 25 * SEC_NS);	/* two tokens and a half */
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_int_equal(run(f, &p, MX_STAT_DROP_SOURCE_RATE), XDP_DROP);
	advance(f, 3600 * SEC_NS);	/* a long pause refills to the burst, no more */
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_int_equal(run(f, &p, MX_STAT_DROP_SOURCE_RATE), XDP_DROP);
}

static void test_class_assignment(void **state)
{
	struct fx *f = *state;
	struct mx_class_ref strict = { .class_id = 1 }, bogus = { .class_id = 999 };
	struct mx_prefix a = prefix("198.18.0.10"), b = prefix("198.18.9.0/24");
	struct mx_prefix c = prefix("198.18.0.30");

	slow_limits(f, 10, 1000);
	f->s.classes[1].src_interval_ns = 3600 * SEC_NS;
	f->s.classes[1].src_burst = 2;
	write_settings(f);
	assert_int_equal(mx_table_put(&f->classes, &a, &strict, BPF_ANY), 0);
	assert_int_equal(mx_table_put(&f->classes, &b, &strict, BPF_ANY), 0);
	assert_int_equal(mx_table_put(&f->classes, &c, &bogus, BPF_ANY), 0);
	for (int round = 0; round < 2; round++) {
		const char *src = round ? "198.18.9.77" : "198.18.0.10";
		struct pkt p = syn4(src);

		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
		assert_int_equal(run(f, &p, MX_STAT_DROP_SOURCE_RATE), XDP_DROP);
	}
	/* An out-of-range class falls back to class 0 (burst 10). */
	for (int i = 0; i < 10; i++) {
		struct pkt p = syn4("198.18.0.30");

		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
}

/*
 * test_parallel_drop_hint - with over_limit drop, a source whose live
 * count (a count word: count low, tag high) is at its parallel limit
 * loses its SYN at XDP; below it, or DYING (being deleted), it passes.
 */
static void test_parallel_drop_hint(void **state)
{
	struct fx *f = *state;
	struct mx_bucket4_key key = { .kind = MX_BUCKET_SOURCE };
	int fd = bpf_map__fd(f->skel->maps.conn_count4);
	uint8_t addr[16] = { 0 };
	uint64_t word;
	uint32_t tag;

	f->s.over_limit_drop = true;
	f->s.classes[0].src_parallel = 2;
	write_settings(f);
	inet_pton(AF_INET, "198.18.0.40", addr);
	memcpy(&key.addr, addr, 4);
	tag = mx_count_tag(AF_INET, MX_BUCKET_SOURCE, addr);

	word = mx_count_word(tag, 1);
	assert_int_equal(bpf_map_update_elem(fd, &key, &word, BPF_ANY), 0);
	{
		struct pkt p = syn4("198.18.0.40");

		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
	word = mx_count_word(tag, 2);
	assert_int_equal(bpf_map_update_elem(fd, &key, &word, BPF_ANY), 0);
	{
		struct pkt p = syn4("198.18.0.40");

		assert_int_equal(run(f, &p, MX_STAT_DROP_PARALLEL), XDP_DROP);
	}
	word = mx_count_word(tag, MX_COUNT_DYING);
	assert_int_equal(bpf_map_update_elem(fd, &key, &word, BPF_ANY), 0);
	{
		struct pkt p = syn4("198.18.0.40");

		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
}

static void test_counters_add_up(void **state)
{
	struct fx *f = *state;
	uint64_t now[MX_STAT__MAX], verdicts = 0;
	int frames = 0;

	slow_limits(f, 2, 3);
	ban(f, "198.18.0.66", 0);
	mark(f);
	for (int i = 0; i < 40; i++) {
		char src[32];
		struct pkt p;

		snprintf(src, sizeof(src), "198.18.%d.%d", i % 3, 60 + i % 7);
		p = syn4(src);
		p.flags = i % 5 == 0 ? PKT_ACK : PKT_SYN;
		p.dport = i % 11 == 0 ? 80 : 25;
		p.frag = i % 13 == 0 ? 100 : 0;
		run_raw(f, (uint8_t[PKT_MAX]){ 0 }, 20);	/* malformed */
		{
			uint8_t buf[PKT_MAX];
			size_t len = pkt_build(buf, &p);

			run_raw(f, buf, len);
		}
		frames += 2;
	}
	stats(f, now);
	for (int i = 0; i < MX_STAT__MAX; i++) {
		if (i == MX_STAT_BUCKET_NEW_SOURCE || i == MX_STAT_BUCKET_NEW_PREFIX ||
		    i == MX_STAT_BUCKET_UNAVAILABLE || i >= MX_STAT_CONN_ADMITTED)
			continue;
		verdicts += now[i] - f->base[i];
	}
	assert_int_equal(verdicts, frames);
	assert_true(now[MX_STAT_DROP_BANNED] > f->base[MX_STAT_DROP_BANNED]);
	assert_true(now[MX_STAT_DROP_SOURCE_RATE] + now[MX_STAT_DROP_PREFIX_RATE] >
		    f->base[MX_STAT_DROP_SOURCE_RATE] + f->base[MX_STAT_DROP_PREFIX_RATE]);
}

/* note_slot - the syn_seen slot of a flow, as bpf/lookup.h computes it */
static uint32_t note_slot(const struct mx_flow *flow)
{
	uint32_t w[sizeof(*flow) / 4], h = 2166136261U;

	memcpy(w, flow, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / 4; i++)
		h = (h ^ w[i]) * 16777619U;
	return (h ^ (h >> 16)) & (MX_SYN_SLOTS - 1);
}

/* flow4 - the flow XDP notes for a SYN from src:sport to 198.18.0.1:25 */
static struct mx_flow flow4(const char *src, uint16_t sport)
{
	struct mx_flow fl = { .rport = sport, .lport = 25, .family = AF_INET };

	inet_pton(AF_INET, src, fl.remote);
	inet_pton(AF_INET, "198.18.0.1", fl.local);
	return fl;
}

/* noted - is the flow's note in slot? */
static bool noted(struct fx *f, uint32_t slot, const struct mx_flow *fl)
{
	struct mx_syn_note n;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.syn_seen), &slot, &n), 0);
	return memcmp(&n.flow, fl, sizeof(*fl)) == 0;
}

/*
 * Two SYNs whose flows share a slot keep both notes (the second takes
 * the neighbour); a third replaces the older; a retransmission finds
 * its own note. Only passing SYNs are noted.
 */
static void test_syn_notes_two_way(void **state)
{
	struct fx *f = *state;
	struct mx_flow a = flow4("198.18.0.10", 40000), b, c;
	uint32_t s = note_slot(&a);
	char src[2][32];
	uint16_t port[2] = { 0 };
	int n = 0;
	struct pkt p;

	/* Two more flows (other senders of the /24, other ports) in a's slot. */
	for (int host = 11; host < 250 && n < 2; host++) {
		for (uint32_t sp = 1024; sp < 65535 && n < 2; sp++) {
			struct mx_flow t;

			snprintf(src[n], sizeof(src[n]), "198.18.0.%d", host);
			t = flow4(src[n], (uint16_t)sp);
			if (note_slot(&t) == s) {
				port[n++] = (uint16_t)sp;
				break;
			}
		}
	}
	assert_int_equal(n, 2);
	b = flow4(src[0], port[0]);
	c = flow4(src[1], port[1]);
	p = syn4("198.18.0.10");
	p.dst = "198.18.0.1";
	p.sport = 40000;
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_true(noted(f, s, &a));
	p.src = src[0];
	p.sport = port[0];
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_true(noted(f, s, &a));
	assert_true(noted(f, s ^ 1, &b));
	/* b again: its own note, a stays */
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_true(noted(f, s, &a));
	assert_true(noted(f, s ^ 1, &b));
	p.src = src[1];		/* c: the older of the two (a) goes */
	p.sport = port[1];
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_true(noted(f, s, &c));
	assert_true(noted(f, s ^ 1, &b));
	/* A banned SYN is not noted. */
	{
		struct mx_prefix ban;
		struct mx_ban bv = { .flags = MX_BAN_F_MANUAL };
		struct mx_flow d = flow4("198.18.0.99", 40000);
		char err[64];

		assert_int_equal(mx_parse_prefix("198.18.0.99", &ban, err, sizeof(err)), 0);
		assert_int_equal(mx_table_put(&f->bans, &ban, &bv, BPF_ANY), 0);
		p = syn4("198.18.0.99");
		p.dst = "198.18.0.1";
		assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
		assert_false(noted(f, note_slot(&d), &d));
		assert_false(noted(f, note_slot(&d) ^ 1, &d));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inactive_passes_everything, setup_inactive, teardown),
		cmocka_unit_test_setup_teardown(test_syn_passes_all_encapsulations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_chain_too_long_is_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segments_and_other_traffic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bans_exact_and_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_beats_ban_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_burst_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_burst_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_class_assignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_drop_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_add_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_notes_two_way, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
