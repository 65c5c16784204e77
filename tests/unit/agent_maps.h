/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	agent_maps.h - an agent on in-memory maps made from the real definitions
 * DESCRIPTION
 *	The maps come from the XDP program's own object: mxguard_bpf__open()
 *	(build/mxguard.skel.h) parses the ELF embedded in the skeleton and
 *	never loads it (no bpf() call: libbpf probes the kernel only at
 *	load), and each map a command can touch is made in memory
 *	(maps.h) with the type, key size, value size and flags that
 *	bpf/policy.h gives it. Only max_entries is the test's, for the
 *	tables a test fills, so the test maps cannot drift from production.
 *	The CLI's commands run against them exactly as in the agent.
 *
 *	The command tests (test_cli, test_clock, test_bans, fuzz_cli) need
 *	no root and no BPF: they run as any user. tests/run.sh still runs
 *	everything as root, for the tests that load programs. That memory
 *	maps behave as the kernel's where the agent relies on it is what
 *	test_maps.c checks, against real BPF maps.
 */
#ifndef MX_TEST_AGENT_MAPS_H
#define MX_TEST_AGENT_MAPS_H

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "agent.h"
#include "maps.h"
#include "mxguard.skel.h"

/* agent_object - the XDP program's object, its ELF parsed, not loaded; NULL, errno */
static inline struct mxguard_bpf *agent_object(void)
{
	return mxguard_bpf__open();
}

/* map_like - a memory map as the object defines m; entries 0: as defined */
static inline int map_like(const struct bpf_map *m, uint32_t entries)
{
	return mx_map_mem_like(m, entries);
}

/* map_new - a memory map as the object defines the map called name */
static inline int map_new(const char *name, uint32_t entries)
{
	struct mxguard_bpf *o = agent_object();
	struct bpf_map *m;
	int fd;

	if (!o)
		return -errno;
	m = bpf_object__find_map_by_name(o->obj, name);
	fd = m ? map_like(m, entries) : -ENOENT;
	mxguard_bpf__destroy(o);
	return fd;
}

/* table_like - an address table's four maps (as agent.c's table_fds), entries each */
static inline int table_like(struct mx_table *t, const char *name, struct bpf_map *e4,
			     struct bpf_map *e6, struct bpf_map *p4, struct bpf_map *p6,
			     uint32_t entries)
{
	t->name = name;
	t->value_size = bpf_map__value_size(e4);
	t->fd[MX_EXACT4] = map_like(e4, entries);
	t->fd[MX_EXACT6] = map_like(e6, entries);
	t->fd[MX_PREFIX4] = map_like(p4, entries);
	t->fd[MX_PREFIX6] = map_like(p6, entries);
	for (int i = 0; i < MX_TABLE_MAPS; i++)
		if (t->fd[i] < 0)
			return t->fd[i];
	return 0;
}

/* table_new - the table agent.c calls name ("ban", "allowlist", "class"), entries each */
static inline int table_new(struct mx_table *t, const char *name, uint32_t entries)
{
	struct mxguard_bpf *o = agent_object();
	int err;

	if (!o)
		return -errno;
	if (!strcmp(name, "ban"))
		err = table_like(t, name, o->maps.ban4, o->maps.ban6, o->maps.ban4_prefix,
				 o->maps.ban6_prefix, entries);
	else if (!strcmp(name, "allowlist"))
		err = table_like(t, name, o->maps.allow4, o->maps.allow6, o->maps.allow4_prefix,
				 o->maps.allow6_prefix, entries);
	else if (!strcmp(name, "class"))
		err = table_like(t, name, o->maps.class4, o->maps.class6, o->maps.class4_prefix,
				 o->maps.class6_prefix, entries);
	else
		err = -ENOENT;
	mxguard_bpf__destroy(o);
	return err;
}

/* table_close - close a table's maps */
static inline void table_close(struct mx_table *t)
{
	for (int m = 0; m < MX_TABLE_MAPS; m++)
		if (t->fd[m] > 0)
			mx_map_close(t->fd[m]);
}

/*
 * agent_maps_create - every map a command can touch; 0 or -errno.
 * The address tables, buckets and counts hold entries each; the
 * arrays (classes' limits, config, stats, reasons) are as defined.
 */
static inline int agent_maps_create(struct agent *a, uint32_t entries)
{
	struct mxguard_bpf *o = agent_object();
	char err_text[256];
	int fds[8], err;

	if (!o)
		return -errno;
	mx_config_default(&a->cfg);
	mx_settings_default(&a->settings);
	err = table_like(&a->store.bans, "ban", o->maps.ban4, o->maps.ban6, o->maps.ban4_prefix,
			 o->maps.ban6_prefix, entries);
	if (!err)
		err = table_like(&a->store.allows, "allowlist", o->maps.allow4, o->maps.allow6,
				 o->maps.allow4_prefix, o->maps.allow6_prefix, entries);
	if (!err)
		err = table_like(&a->store.classes, "class", o->maps.class4, o->maps.class6,
				 o->maps.class4_prefix, o->maps.class6_prefix, entries);
	fds[0] = a->dp.class_limits_fd = map_like(o->maps.class_limits, 0);
	fds[1] = a->dp.config_fd = map_like(o->maps.config, 0);
	fds[2] = a->dp.stats_fd = map_like(o->maps.stats, 0);
	fds[3] = a->store.reasons_fd = map_like(o->maps.reasons, 0);
	fds[4] = a->dp.bucket4_fd = map_like(o->maps.syn_bucket4, entries);
	fds[5] = a->dp.bucket6_fd = map_like(o->maps.syn_bucket6, entries);
	fds[6] = a->dp.count4_fd = map_like(o->maps.conn_count4, entries);
	fds[7] = a->dp.count6_fd = map_like(o->maps.conn_count6, entries);
	mxguard_bpf__destroy(o);
	if (err)
		return err;
	for (int i = 0; i < 8; i++)
		if (fds[i] < 0)
			return fds[i];
	a->cfg.ban_ttl_ns = MX_DEFAULT_BAN_TTL_NS;
	a->dp.pin_dir = "/sys/fs/bpf/test";
	a->dp.mode_name = "native";
	strcpy(a->dp.ifname, "test0");
	a->cfg.verdict.max_senders = 4096;
	a->store.settings = &a->settings;
	if (store_init(&a->store) ||
	    senders_init(&a->senders, &a->cfg, &a->settings, &a->store, err_text, sizeof(err_text)))
		return -ENOMEM;
	return mx_dp_write_classes(a->dp.class_limits_fd, &a->settings);
}

/* agent_maps_close - close what agent_maps_create opened */
static inline void agent_maps_close(struct agent *a)
{
	int fds[] = { a->dp.class_limits_fd, a->dp.config_fd, a->dp.stats_fd, a->store.reasons_fd,
		      a->dp.bucket4_fd, a->dp.bucket6_fd, a->dp.count4_fd, a->dp.count6_fd };

	table_close(&a->store.bans);
	table_close(&a->store.allows);
	table_close(&a->store.classes);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] > 0)
			mx_map_close(fds[i]);
	senders_free(&a->senders);
	store_free(&a->store);
}

#endif /* MX_TEST_AGENT_MAPS_H */
