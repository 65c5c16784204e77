/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	skel_fx.h - the mxguard program loaded for a BPF test, and its tables
 * DESCRIPTION
 *	skel_fx_load() opens and loads mxguard.bpf.c with maps of the test's
 *	own (bpf/maps.h pins the agent's by name; a test never does) and
 *	small flow and bucket tables. skel_fx_tables() gives the three
 *	address tables over its maps, as the agent builds them;
 *	skel_fx_settings() writes the settings; skel_fx_run() runs a crafted
 *	frame and checks the one verdict counter it adds to; skel_fx_prefix()
 *	and skel_fx_ban() make prefixes and bans. Each fails the running
 *	cmocka test when the kernel refuses.
 */
#ifndef MX_TESTS_SKEL_FX_H
#define MX_TESTS_SKEL_FX_H

#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "mxguard.skel.h"
#include "parse.h"
#include "pkt.h"
#include "tables.h"

/* skel_fx_table - the four maps of an address table */
static inline void skel_fx_table(struct mx_table *t, const char *name, uint32_t vs,
				 struct bpf_map *e4, struct bpf_map *e6, struct bpf_map *p4,
				 struct bpf_map *p6)
{
	t->name = name;
	t->value_size = vs;
	t->fd[MX_EXACT4] = bpf_map__fd(e4);
	t->fd[MX_EXACT6] = bpf_map__fd(e6);
	t->fd[MX_PREFIX4] = bpf_map__fd(p4);
	t->fd[MX_PREFIX6] = bpf_map__fd(p6);
}

/* skel_fx_load - the program and its unpinned maps, loaded */
static inline struct mxguard_bpf *skel_fx_load(void)
{
	struct mxguard_bpf *s = mxguard_bpf__open();
	struct bpf_map *m;

	if (!s)
		fail_msg("cannot open the skeleton: %s", strerror(errno));
	bpf_object__for_each_map(m, s->obj)
		bpf_map__set_pin_path(m, NULL);
	bpf_map__set_max_entries(s->maps.syn_bucket4, 4096);
	bpf_map__set_max_entries(s->maps.syn_bucket6, 4096);
	bpf_map__set_max_entries(s->maps.pending_flows, 1024);
	bpf_map__set_max_entries(s->maps.live_flows, 1024);
	if (mxguard_bpf__load(s))
		fail_msg("cannot load the XDP program (root, BPF needed): %s", strerror(errno));
	return s;
}

/* skel_fx_tables - the ban, allowlist and class tables over the program's maps */
static inline void skel_fx_tables(struct mxguard_bpf *s, struct mx_table *bans,
				  struct mx_table *allows, struct mx_table *classes)
{
	skel_fx_table(bans, "ban", sizeof(struct mx_ban), s->maps.ban4, s->maps.ban6,
		      s->maps.ban4_prefix, s->maps.ban6_prefix);
	skel_fx_table(allows, "allowlist", sizeof(struct mx_allow), s->maps.allow4,
		      s->maps.allow6, s->maps.allow4_prefix, s->maps.allow6_prefix);
	skel_fx_table(classes, "class", sizeof(struct mx_class_ref), s->maps.class4,
		      s->maps.class6, s->maps.class4_prefix, s->maps.class6_prefix);
}

/* skel_fx_settings - the data plane's settings and class limits from st */
static inline void skel_fx_settings(struct mxguard_bpf *s, const struct mx_settings *st)
{
	assert_int_equal(mx_dp_write_classes(bpf_map__fd(s->maps.class_limits), st), 0);
	assert_int_equal(mx_dp_write_config(bpf_map__fd(s->maps.config), st), 0);
}

/* skel_fx_run - build a frame, run it, and check it adds exactly one verdict of kind want */
static inline int skel_fx_run(struct mxguard_bpf *s, const struct pkt *p, enum mx_stat want)
{
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(buf, p);
	uint64_t before[MX_STAT__MAX], after[MX_STAT__MAX];
	int fd = bpf_map__fd(s->maps.stats);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)len);

	assert_int_equal(mx_stats_read(fd, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(s->progs.mxguard_xdp), &o), 0);
	assert_int_equal(mx_stats_read(fd, after), 0);
	if (after[want] - before[want] != 1)
		fail_msg("counter %d rose by %llu, expected 1", want,
			 (unsigned long long)(after[want] - before[want]));
	return (int)o.retval;
}

/* skel_fx_prefix - parse or fail */
static inline struct mx_prefix skel_fx_prefix(const char *s)
{
	struct mx_prefix p;
	char err[128];

	if (mx_parse_prefix(s, &p, err, sizeof(err)))
		fail_msg("%s", err);
	return p;
}

/* skel_fx_ban - a manual ban of s that ends ttl_ns from now (0: permanent) */
static inline void skel_fx_ban(struct mx_table *bans, const char *s, uint64_t ttl_ns)
{
	struct mx_prefix p = skel_fx_prefix(s);
	struct mx_ban b = { .expires_ns = ttl_ns ? mx_now_ns() + ttl_ns : 0,
			    .flags = MX_BAN_F_MANUAL };

	assert_int_equal(mx_table_put(bans, &p, &b, BPF_ANY), 0);
}

#endif /* MX_TESTS_SKEL_FX_H */
