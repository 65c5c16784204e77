// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_xdp_tables.c - the XDP program skips only the maps the agent
 *	knows to be empty (BPF_PROG_TEST_RUN)
 * DESCRIPTION
 *	As the agent does, mx_presence_start() ties the three address
 *	tables to the presence bits in config (which exact maps and which
 *	tries hold entries); then mx_table_put() and
 *	mx_table_del() keep them, mx_dp_write_config() keeps them across a
 *	settings reload, and the program decides exactly as it does when
 *	it looks every trie up (test_xdp.c, which never starts them).
 *
 *	The IPv4 ban summary (test_summary_*): mx_presence_summary()
 *	rebuilds ban4_summary from the ban trie and sets its flag; then a
 *	/24's bit is set while some ban prefix touches it, and a source
 *	whose /24 bit is clear skips the trie (shown with a prefix written
 *	into the trie behind the tables' back, which such a source never
 *	sees).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

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
	struct mx_presence pr;
	struct mx_settings s;
};

/* write_settings - the data plane's settings from f->s */
static void write_settings(struct fx *f)
{
	skel_fx_settings(f->skel, &f->s);
}

/* setup_loaded - the program and its maps, settings written, presence not started */
static int setup_loaded(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->skel = skel_fx_load();
	skel_fx_tables(f->skel, &f->bans, &f->allows, &f->classes);
	mx_settings_default(&f->s);
	write_settings(f);
	*state = f;
	return 0;
}

/* start - tie the tables to the presence bits, as the agent does at start */
static void start(struct fx *f)
{
	assert_int_equal(mx_presence_start(&f->pr, bpf_map__fd(f->skel->maps.config), &f->bans,
					   &f->allows, &f->classes), 0);
}

static int setup(void **state)
{
	setup_loaded(state);
	start(*state);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mx_presence_stop(&f->pr);
	mxguard_bpf__destroy(f->skel);
	free(f);
	return 0;
}

/* flags - config.flags as the program reads it */
static uint32_t flags(struct fx *f)
{
	struct mx_config cfg;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.config), &zero, &cfg), 0);
	return cfg.flags;
}

/* run - the frame's verdict, checked to be want */
static int run(struct fx *f, const struct pkt *p, enum mx_stat want)
{
	return skel_fx_run(f->skel, p, want);
}

static struct pkt syn(int family, const char *src)
{
	return (struct pkt){ .family = family, .src = src };
}

static struct mx_prefix prefix(const char *s)
{
	return skel_fx_prefix(s);
}

static void ban(struct fx *f, const char *s, uint64_t ttl_ns)
{
	skel_fx_ban(&f->bans, s, ttl_ns);
}

static void unban(struct fx *f, const char *s)
{
	struct mx_prefix p = prefix(s);

	assert_int_equal(mx_table_del(&f->bans, &p), 0);
}

/* Empty tables: known, no trie bit set. */
static void test_start_empty(void **state)
{
	struct fx *f = *state;
	uint32_t fl = flags(f);

	assert_true(fl & MX_CFG_F_TABLES_KNOWN);
	assert_true(fl & MX_CFG_F_ACTIVE);
	assert_int_equal(fl & MX_CFG_F_HOLD_ALL, 0);
	{
		struct pkt p = syn(AF_INET, "198.18.0.10");

		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	}
}

/* Tries filled before the start (an adopted data plane): their bits come from the tries. */
static void test_start_reads_the_tries(void **state)
{
	struct fx *f = *state;
	struct mx_prefix a = prefix("198.18.5.0/24");
	struct mx_allow al = { 0 };

	ban(f, "198.18.7.0/24", 0);
	ban(f, "2001:db8:2::/64", 0);
	assert_int_equal(mx_table_put(&f->allows, &a, &al, BPF_ANY), 0);
	assert_int_equal(flags(f) & MX_CFG_F_TABLES_KNOWN, 0);
	start(f);
	assert_int_equal(flags(f) & (MX_CFG_F_PFX_ALL | MX_CFG_F_TABLES_KNOWN),
			 MX_CFG_F_TABLES_KNOWN | MX_CFG_F_PFX_BAN4 | MX_CFG_F_PFX_BAN6 |
			 MX_CFG_F_PFX_ALLOW4);
	{
		struct pkt p = syn(AF_INET, "198.18.7.9"), q = syn(AF_INET6, "2001:db8:2::9");
		struct pkt r = syn(AF_INET, "198.18.5.9");

		assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
		assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
		assert_int_equal(run(f, &r, MX_STAT_PASS_ALLOWLISTED), XDP_PASS);
	}
}

/* A prefix added sets its trie's bit; the last one removed clears it; exact entries never. */
static void test_bits_follow_the_tries(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn(AF_INET, "198.18.7.9"), q = syn(AF_INET6, "2001:db8:2::9");

	ban(f, "198.18.0.66", 0);
	ban(f, "2001:db8:1::66", 0);
	assert_int_equal(flags(f) & MX_CFG_F_PFX_ALL, 0);
	ban(f, "198.18.7.0/24", 0);
	ban(f, "198.18.0.0/16", 60 * SEC_NS);
	assert_int_equal(flags(f) & MX_CFG_F_PFX_ALL, MX_CFG_F_PFX_BAN4);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	ban(f, "2001:db8:2::/64", 0);
	assert_int_equal(flags(f) & MX_CFG_F_PFX_ALL, MX_CFG_F_PFX_BAN4 | MX_CFG_F_PFX_BAN6);
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);

	unban(f, "198.18.7.0/24");
	assert_int_equal(flags(f) & MX_CFG_F_PFX_ALL, MX_CFG_F_PFX_BAN4 | MX_CFG_F_PFX_BAN6);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);	/* the /16 */
	unban(f, "198.18.0.0/16");
	assert_int_equal(flags(f) & MX_CFG_F_PFX_ALL, MX_CFG_F_PFX_BAN6);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	unban(f, "2001:db8:2::/64");
	assert_int_equal(flags(f) & MX_CFG_F_PFX_ALL, 0);
	assert_int_equal(run(f, &q, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	/* A removal of what is not there changes nothing. */
	{
		struct mx_prefix x = prefix("198.18.9.0/24");

		assert_int_equal(mx_table_del(&f->bans, &x), -ENOENT);
	}
	/* Exact bans still drop, with no trie bit. */
	p = syn(AF_INET, "198.18.0.66");
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	q = syn(AF_INET6, "2001:db8:1::66");
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
}

/*
 * Exact maps: the bit is set before the first entry and stays after the
 * last is gone (finding a hash map empty walks its buckets), until the
 * next start reads the maps again.
 */
static void test_exact_bits(void **state)
{
	struct fx *f = *state;
	struct mx_prefix a = prefix("198.18.0.30"), c6 = prefix("2001:db8:1::30");
	struct mx_allow al = { 0 };
	struct mx_class_ref strict = { .class_id = 1 };
	struct pkt p = syn(AF_INET, "198.18.0.66"), q = syn(AF_INET6, "2001:db8:1::66");
	struct pkt r = syn(AF_INET, "198.18.0.30");

	ban(f, "198.18.0.66", 0);
	assert_int_equal(flags(f) & MX_CFG_F_HOLD_ALL, MX_CFG_F_EXACT_BAN4);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	ban(f, "2001:db8:1::66", 0);
	assert_int_equal(mx_table_put(&f->allows, &a, &al, BPF_ANY), 0);
	assert_int_equal(mx_table_put(&f->classes, &c6, &strict, BPF_ANY), 0);
	assert_int_equal(flags(f) & MX_CFG_F_HOLD_ALL,
			 MX_CFG_F_EXACT_BAN4 | MX_CFG_F_EXACT_BAN6 | MX_CFG_F_EXACT_ALLOW4 |
			 MX_CFG_F_EXACT_CLASS6);
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
	assert_int_equal(run(f, &r, MX_STAT_PASS_ALLOWLISTED), XDP_PASS);
	unban(f, "198.18.0.66");
	assert_int_equal(mx_table_del(&f->allows, &a), 0);
	assert_int_equal(flags(f) & MX_CFG_F_HOLD_ALL,
			 MX_CFG_F_EXACT_BAN4 | MX_CFG_F_EXACT_BAN6 | MX_CFG_F_EXACT_ALLOW4 |
			 MX_CFG_F_EXACT_CLASS6);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_int_equal(run(f, &r, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	start(f);
	assert_int_equal(flags(f) & MX_CFG_F_HOLD_ALL, MX_CFG_F_EXACT_BAN6 | MX_CFG_F_EXACT_CLASS6);
	/* A clear exact bit skips the map: an entry written behind the tables' back is not seen. */
	{
		uint32_t k;
		struct mx_ban b = { .flags = MX_BAN_F_MANUAL };

		inet_pton(AF_INET, "198.18.0.66", &k);
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(f->skel->maps.ban4), &k, &b, BPF_ANY), 0);
		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
		start(f);
		assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	}
}

/* Allowlist and class prefixes the same way; allow still beats a prefix ban. */
static void test_allow_and_class_prefixes(void **state)
{
	struct fx *f = *state;
	struct mx_prefix a = prefix("198.18.5.0/24"), a6 = prefix("2001:db8:1::/64");
	struct mx_prefix c = prefix("198.18.9.0/24"), c6 = prefix("2001:db8:9::/48");
	struct mx_allow al = { 0 };
	struct mx_class_ref strict = { .class_id = 1 };

	f->s.classes[0].src_interval_ns = 3600 * SEC_NS;
	f->s.classes[0].src_burst = 10;
	f->s.classes[1].src_interval_ns = 3600 * SEC_NS;
	f->s.classes[1].src_burst = 1;
	write_settings(f);
	ban(f, "198.18.0.0/16", 0);
	assert_int_equal(mx_table_put(&f->allows, &a, &al, BPF_ANY), 0);
	assert_int_equal(mx_table_put(&f->allows, &a6, &al, BPF_ANY), 0);
	assert_int_equal(mx_table_put(&f->classes, &c, &strict, BPF_ANY), 0);
	assert_int_equal(mx_table_put(&f->classes, &c6, &strict, BPF_ANY), 0);
	assert_int_equal(flags(f) & MX_CFG_F_PFX_ALL,
			 MX_CFG_F_PFX_BAN4 | MX_CFG_F_PFX_ALLOW4 | MX_CFG_F_PFX_ALLOW6 |
			 MX_CFG_F_PFX_CLASS4 | MX_CFG_F_PFX_CLASS6);
	{
		struct pkt p = syn(AF_INET, "198.18.5.9"), q = syn(AF_INET6, "2001:db8:1::9");

		assert_int_equal(run(f, &p, MX_STAT_PASS_ALLOWLISTED), XDP_PASS);
		assert_int_equal(run(f, &q, MX_STAT_PASS_ALLOWLISTED), XDP_PASS);
	}
	unban(f, "198.18.0.0/16");
	{
		struct pkt p = syn(AF_INET, "198.18.9.9"), q = syn(AF_INET6, "2001:db8:9:1::9");

		assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
		assert_int_equal(run(f, &p, MX_STAT_DROP_SOURCE_RATE), XDP_DROP);	/* class 1 */
		assert_int_equal(run(f, &q, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
		assert_int_equal(run(f, &q, MX_STAT_DROP_SOURCE_RATE), XDP_DROP);
	}
	assert_int_equal(mx_table_del(&f->classes, &c), 0);
	assert_int_equal(mx_table_del(&f->allows, &a6), 0);
	assert_int_equal(flags(f) & MX_CFG_F_PFX_ALL,
			 MX_CFG_F_PFX_ALLOW4 | MX_CFG_F_PFX_CLASS6);
}

/* A settings reload (mx_dp_write_config) keeps the bits; so does one with other flags. */
static void test_reload_keeps_the_bits(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn(AF_INET, "198.18.7.9");

	ban(f, "198.18.7.0/24", 0);
	f->s.ban_reply = true;
	write_settings(f);
	assert_int_equal(flags(f) & (MX_CFG_F_PFX_ALL | MX_CFG_F_TABLES_KNOWN | MX_CFG_F_BAN_REPLY),
			 MX_CFG_F_PFX_BAN4 | MX_CFG_F_TABLES_KNOWN | MX_CFG_F_BAN_REPLY);
	f->s.ban_reply = false;
	write_settings(f);
	assert_int_equal(flags(f) & (MX_CFG_F_PFX_ALL | MX_CFG_F_TABLES_KNOWN | MX_CFG_F_BAN_REPLY),
			 MX_CFG_F_PFX_BAN4 | MX_CFG_F_TABLES_KNOWN);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
}

/*
 * The skip is real: an entry written into a trie behind the tables'
 * back (its bit clear) is not seen while the word says the trie is
 * empty, and is seen once the word is gone (an earlier agent's config).
 */
static void test_a_clear_bit_skips_the_trie(void **state)
{
	struct fx *f = *state;
	struct mx_lpm4_key k = { .prefixlen = 24 };
	struct mx_ban b = { .flags = MX_BAN_F_MANUAL };
	struct pkt p = syn(AF_INET, "198.18.7.9");

	inet_pton(AF_INET, "198.18.7.0", &k.addr);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(f->skel->maps.ban4_prefix), &k, &b, BPF_ANY), 0);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	{
		struct mx_config cfg;
		uint32_t zero = 0;
		int fd = bpf_map__fd(f->skel->maps.config);

		assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
		cfg.flags &= ~(MX_CFG_F_PFX_ALL | MX_CFG_F_TABLES_KNOWN);
		assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
	}
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
}

/* Expiring bans still expire (the clock is read only for them), permanent ones do not. */
static void test_expiry_with_bits(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn(AF_INET, "198.18.7.9"), q = syn(AF_INET, "198.18.0.20");

	ban(f, "198.18.7.0/24", 60 * SEC_NS);
	ban(f, "198.18.0.20", 0);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	f->skel->bss->mx_clock_offset_ns += 61 * SEC_NS;
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	f->skel->bss->mx_clock_offset_ns += 3650ULL * 86400 * SEC_NS;
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
	q.flags = PKT_ACK;
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
}

/* ---- the IPv4 ban summary ---- */

/* start_summary - as the agent does at start: presence, then the summary from the trie */
static void start_summary(struct fx *f)
{
	start(f);
	assert_int_equal(mx_presence_summary(&f->pr, bpf_map__fd(f->skel->maps.ban4_summary)), 0);
}

static int setup_summary(void **state)
{
	setup_loaded(state);
	start_summary(*state);
	return 0;
}

/* summary_map - ban4_summary as the program reads it, mapped read-only */
static const uint64_t *summary_map(struct fx *f)
{
	void *m = mmap(NULL, (size_t)MX_BAN4_SUMMARY_WORDS * 8, PROT_READ, MAP_SHARED,
		       bpf_map__fd(f->skel->maps.ban4_summary), 0);

	if (m == MAP_FAILED)
		fail_msg("cannot map ban4_summary: %s", strerror(errno));
	return m;
}

/* summary_bit - the bit of addr's /24, read through the map (not the mapping) */
static int summary_bit(struct fx *f, const char *addr)
{
	uint32_t a, i;
	uint64_t w;

	assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
	i = ntohl(a) >> 8;
	a = i >> 6;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.ban4_summary), &a, &w), 0);
	return (int)((w >> (i & 63)) & 1);
}

/* summary_bits - how many bits of the whole summary are set */
static unsigned long summary_bits(struct fx *f)
{
	const uint64_t *m = summary_map(f);
	unsigned long n = 0;

	for (uint32_t i = 0; i < MX_BAN4_SUMMARY_WORDS; i++)
		n += (unsigned long)__builtin_popcountll(m[i]);
	munmap((void *)m, (size_t)MX_BAN4_SUMMARY_WORDS * 8);
	return n;
}

/* behind_back - a ban prefix written into the trie without the tables (no bit, no count) */
static void behind_back(struct fx *f, const char *s)
{
	struct mx_prefix p = prefix(s);
	struct mx_lpm4_key k = { .prefixlen = p.len };
	struct mx_ban b = { .flags = MX_BAN_F_MANUAL };

	memcpy(&k.addr, p.addr, 4);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(f->skel->maps.ban4_prefix), &k, &b, BPF_ANY),
			 0);
}

/* A prefix ban drops the sources inside it and sets its /24's bit, no other. */
static void test_summary_prefix_ban(void **state)
{
	struct fx *f = *state;
	struct pkt in = syn(AF_INET, "198.18.7.9"), out = syn(AF_INET, "198.18.8.9");

	assert_true(flags(f) & MX_CFG_F_SUMMARY_BAN4);
	assert_int_equal(summary_bits(f), 0);
	ban(f, "198.18.7.0/24", 0);
	assert_int_equal(flags(f) & (MX_CFG_F_SUMMARY_BAN4 | MX_CFG_F_PFX_BAN4),
			 MX_CFG_F_SUMMARY_BAN4 | MX_CFG_F_PFX_BAN4);
	assert_int_equal(summary_bit(f, "198.18.7.0"), 1);
	assert_int_equal(summary_bit(f, "198.18.8.0"), 0);
	assert_int_equal(summary_bits(f), 1);
	assert_int_equal(run(f, &in, MX_STAT_DROP_BANNED), XDP_DROP);
	assert_int_equal(run(f, &out, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	in.flags = PKT_ACK;
	assert_int_equal(run(f, &in, MX_STAT_DROP_BANNED), XDP_DROP);
	/* A prefix longer than /24 sets its /24's bit too. */
	ban(f, "198.18.9.128/25", 0);
	assert_int_equal(summary_bit(f, "198.18.9.0"), 1);
	assert_int_equal(summary_bits(f), 2);
	in = syn(AF_INET, "198.18.9.200");
	out = syn(AF_INET, "198.18.9.100");
	assert_int_equal(run(f, &in, MX_STAT_DROP_BANNED), XDP_DROP);
	assert_int_equal(run(f, &out, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
}

/*
 * The skip is real: a prefix written behind the tables' back is not
 * seen from a /24 whose bit is clear, and is seen once a ban the
 * tables add sets the bit of its /24 (the trie is then looked up).
 */
static void test_summary_skips_the_trie(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn(AF_INET, "198.18.9.9");

	ban(f, "198.18.7.0/24", 0);		/* the trie is not empty: PFX_BAN4 set */
	behind_back(f, "198.18.9.0/24");
	assert_int_equal(summary_bit(f, "198.18.9.0"), 0);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	ban(f, "198.18.9.128/25", 0);		/* sets the bit of 198.18.9.0/24 */
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);	/* by the /24 */
}

/* A /24's bit stays while any prefix touches it and goes with the last one. */
static void test_summary_counts(void **state)
{
	struct fx *f = *state;
	struct pkt lo = syn(AF_INET, "198.18.7.9"), hi = syn(AF_INET, "198.18.7.200");

	ban(f, "198.18.7.0/24", 0);
	ban(f, "198.18.7.128/25", 0);
	unban(f, "198.18.7.0/24");
	assert_int_equal(summary_bit(f, "198.18.7.0"), 1);
	assert_int_equal(run(f, &hi, MX_STAT_DROP_BANNED), XDP_DROP);
	assert_int_equal(run(f, &lo, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	unban(f, "198.18.7.128/25");
	assert_int_equal(summary_bit(f, "198.18.7.0"), 0);
	assert_int_equal(summary_bits(f), 0);
	assert_int_equal(run(f, &hi, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);

	/* A replaced prefix is counted once: one removal clears it. */
	ban(f, "198.18.7.0/24", 0);
	ban(f, "198.18.7.0/24", 60 * SEC_NS);
	{
		struct mx_prefix x = prefix("198.18.7.0/24");
		struct mx_ban b = { .flags = MX_BAN_F_MANUAL };

		assert_int_equal(mx_table_put(&f->bans, &x, &b, BPF_NOEXIST), -EEXIST);
		assert_int_equal(mx_table_put(&f->bans, &x, &b, BPF_EXIST), 0);
	}
	assert_int_equal(summary_bits(f), 1);
	unban(f, "198.18.7.0/24");
	assert_int_equal(summary_bits(f), 0);
	assert_int_equal(mx_table_del(&f->bans, &(struct mx_prefix){ .family = AF_INET, .len = 24 }),
			 -ENOENT);
	assert_int_equal(summary_bits(f), 0);

	/* A /16 sets its 256 bits; a /24 inside it adds none; each removal leaves the other's. */
	ban(f, "198.18.0.0/16", 0);
	assert_int_equal(summary_bits(f), 256);
	assert_int_equal(summary_bit(f, "198.18.255.0"), 1);
	assert_int_equal(summary_bit(f, "198.19.0.0"), 0);
	ban(f, "198.18.3.0/24", 0);
	assert_int_equal(summary_bits(f), 256);
	unban(f, "198.18.0.0/16");
	assert_int_equal(summary_bits(f), 1);
	assert_int_equal(summary_bit(f, "198.18.3.0"), 1);
	unban(f, "198.18.3.0/24");
	assert_int_equal(summary_bits(f), 0);

	/* A /8, the widest counted, sets 65,536. */
	ban(f, "198.0.0.0/8", 0);
	assert_int_equal(summary_bits(f), 65536);
	assert_true(flags(f) & MX_CFG_F_SUMMARY_BAN4);
	assert_int_equal(run(f, &lo, MX_STAT_DROP_BANNED), XDP_DROP);
	unban(f, "198.0.0.0/8");
	assert_int_equal(summary_bits(f), 0);
}

/* A prefix wider than /8 turns the summary off (the trie for all) until it goes. */
static void test_summary_wide_prefix(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn(AF_INET, "198.18.7.9"), q = syn(AF_INET, "198.18.9.9");

	ban(f, "198.18.9.0/24", 0);
	ban(f, "198.0.0.0/7", 0);
	assert_int_equal(flags(f) & MX_CFG_F_SUMMARY_BAN4, 0);
	assert_int_equal(summary_bits(f), 1);	/* the /24 still kept */
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	/* A second wide one, and a replacement: the flag comes back with the last. */
	ban(f, "128.0.0.0/1", 0);
	ban(f, "198.0.0.0/7", 60 * SEC_NS);
	unban(f, "198.0.0.0/7");
	assert_int_equal(flags(f) & MX_CFG_F_SUMMARY_BAN4, 0);
	unban(f, "128.0.0.0/1");
	assert_true(flags(f) & MX_CFG_F_SUMMARY_BAN4);
	assert_int_equal(run(f, &p, MX_STAT_PASS_WITHIN_LIMITS), XDP_PASS);
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
}

/*
 * Without the flag (an agent of an earlier build; not yet rebuilt),
 * the bits are not read: a prefix ban drops with the summary all zero.
 */
static void test_summary_flag_off_drops(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn(AF_INET, "198.18.9.9");

	assert_int_equal(flags(f) & MX_CFG_F_SUMMARY_BAN4, 0);	/* started, no summary */
	ban(f, "198.18.9.0/24", 0);
	assert_int_equal(summary_bits(f), 0);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	/* Nor without TABLES_KNOWN, whatever the summary flag says. */
	{
		struct mx_config cfg;
		uint32_t zero = 0;
		int fd = bpf_map__fd(f->skel->maps.config);

		assert_int_equal(bpf_map_lookup_elem(fd, &zero, &cfg), 0);
		cfg.flags = (cfg.flags & ~MX_CFG_F_TABLES_KNOWN) | MX_CFG_F_SUMMARY_BAN4;
		assert_int_equal(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
	}
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
}

/*
 * A restart: the trie and the summary pinned by an earlier agent, and
 * changed since behind its back. The rebuild makes the bits exactly
 * the trie's before the flag is set; a settings reload keeps the flag.
 */
static void test_summary_rebuild(void **state)
{
	struct fx *f = *state;
	struct pkt p = syn(AF_INET, "198.18.9.9"), q = syn(AF_INET, "198.18.7.9");

	start_summary(f);
	ban(f, "198.18.7.0/24", 0);
	ban(f, "198.18.0.0/16", 0);
	mx_presence_stop(&f->pr);		/* the agent exits, its pins stay */
	behind_back(f, "198.18.9.0/24");	/* no bit */
	{
		struct mx_prefix x = prefix("198.18.0.0/16");
		struct mx_lpm4_key k = { .prefixlen = 16 };

		memcpy(&k.addr, x.addr, 4);
		assert_int_equal(bpf_map_delete_elem(bpf_map__fd(f->skel->maps.ban4_prefix), &k), 0);
	}
	assert_int_equal(summary_bits(f), 256);	/* stale: the /16's */
	start(f);
	assert_int_equal(flags(f) & MX_CFG_F_SUMMARY_BAN4, 0);	/* off until rebuilt */
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	assert_int_equal(mx_presence_summary(&f->pr, bpf_map__fd(f->skel->maps.ban4_summary)), 0);
	assert_true(flags(f) & MX_CFG_F_SUMMARY_BAN4);
	assert_int_equal(summary_bits(f), 2);
	assert_int_equal(summary_bit(f, "198.18.7.0"), 1);
	assert_int_equal(summary_bit(f, "198.18.9.0"), 1);
	assert_int_equal(run(f, &p, MX_STAT_DROP_BANNED), XDP_DROP);
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
	/* The counts came from the trie: removing what it held clears the bits. */
	unban(f, "198.18.9.0/24");
	unban(f, "198.18.7.0/24");
	assert_int_equal(summary_bits(f), 0);
	assert_int_equal(flags(f) & MX_CFG_F_PFX_BAN4, 0);
	/* A rebuild finding a wide prefix leaves the flag off. */
	behind_back(f, "0.0.0.0/0");
	start_summary(f);
	assert_int_equal(flags(f) & MX_CFG_F_SUMMARY_BAN4, 0);
	assert_int_equal(run(f, &q, MX_STAT_DROP_BANNED), XDP_DROP);
	unban(f, "0.0.0.0/0");
	assert_true(flags(f) & MX_CFG_F_SUMMARY_BAN4);
	/* A settings reload keeps the flag. */
	f->s.ban_reply = true;
	write_settings(f);
	assert_true(flags(f) & MX_CFG_F_SUMMARY_BAN4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_reads_the_tries, setup_loaded, teardown),
		cmocka_unit_test_setup_teardown(test_bits_follow_the_tries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_and_class_prefixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_the_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_clear_bit_skips_the_trie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_with_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_prefix_ban, setup_summary, teardown),
		cmocka_unit_test_setup_teardown(test_summary_skips_the_trie, setup_summary, teardown),
		cmocka_unit_test_setup_teardown(test_summary_counts, setup_summary, teardown),
		cmocka_unit_test_setup_teardown(test_summary_wide_prefix, setup_summary, teardown),
		cmocka_unit_test_setup_teardown(test_summary_flag_off_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_rebuild, setup_loaded, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
