/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	agent_maps.h - an agent on real BPF maps, for tests and fuzzing
 * DESCRIPTION
 *	Maps of the XDP program's types and key and value sizes, created
 *	with bpf_map_create() (root needed), small enough to fill: the CLI's
 *	commands run against them exactly as in the agent.
 */
#ifndef MX_TEST_AGENT_MAPS_H
#define MX_TEST_AGENT_MAPS_H

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent.h"

/* map_new - one map, or -errno */
static inline int map_new(enum bpf_map_type type, uint32_t key, uint32_t val, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int fd;

	if (type == BPF_MAP_TYPE_LPM_TRIE || type == BPF_MAP_TYPE_HASH)
		o.map_flags = BPF_F_NO_PREALLOC;
	fd = bpf_map_create(type, NULL, key, val, n, &o);
	return fd < 0 ? -errno : fd;
}

/* table_new - the four maps of an address table, entries each */
static inline int table_new(struct mx_table *t, const char *name, uint32_t val, uint32_t entries)
{
	t->name = name;
	t->value_size = val;
	t->fd[MX_EXACT4] = map_new(BPF_MAP_TYPE_HASH, 4, val, entries);
	t->fd[MX_EXACT6] = map_new(BPF_MAP_TYPE_HASH, 16, val, entries);
	t->fd[MX_PREFIX4] = map_new(BPF_MAP_TYPE_LPM_TRIE, 8, val, entries);
	t->fd[MX_PREFIX6] = map_new(BPF_MAP_TYPE_LPM_TRIE, 20, val, entries);
	for (int i = 0; i < MX_TABLE_MAPS; i++)
		if (t->fd[i] < 0)
			return t->fd[i];
	return 0;
}

/* agent_maps_create - every map a command can touch; 0 or -errno */
static inline int agent_maps_create(struct agent *a, uint32_t entries)
{
	char err_text[256];
	int fds[9], err;

	mx_config_default(&a->cfg);
	mx_settings_default(&a->settings);
	if ((err = table_new(&a->store.bans, "ban", sizeof(struct mx_ban), entries)) ||
	    (err = table_new(&a->store.allows, "allowlist", sizeof(struct mx_allow), entries)) ||
	    (err = table_new(&a->store.classes, "class", sizeof(struct mx_class_ref), entries)))
		return err;
	fds[0] = a->class_limits_fd = map_new(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_class_limits),
					      MX_MAX_CLASSES);
	fds[1] = a->config_fd = map_new(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_config), 1);
	fds[2] = a->stats_fd = map_new(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, MX_STAT__MAX);
	fds[3] = a->store.reasons_fd = map_new(BPF_MAP_TYPE_ARRAY, 4, MX_REASON_LEN, MX_MAX_REASONS);
	fds[4] = a->bucket4_fd = map_new(BPF_MAP_TYPE_HASH, 8, 8, entries);
	fds[5] = a->bucket6_fd = map_new(BPF_MAP_TYPE_HASH, 20, 8, entries);
	fds[6] = a->count4_fd = map_new(BPF_MAP_TYPE_HASH, 8, 8, entries);
	fds[7] = a->count6_fd = map_new(BPF_MAP_TYPE_HASH, 20, 8, entries);
	fds[8] = 0;
	for (int i = 0; i < 8; i++)
		if (fds[i] < 0)
			return fds[i];
	a->default_ban_ttl_ns = MX_DEFAULT_BAN_TTL_NS;
	a->pin_dir = "/sys/fs/bpf/test";
	a->mode_name = "native";
	strcpy(a->ifname, "test0");
	a->cfg.verdict.max_senders = 4096;
	a->store.settings = &a->settings;
	if (store_init(&a->store) ||
	    senders_init(&a->senders, &a->cfg, &a->settings, &a->store, err_text, sizeof(err_text)))
		return -ENOMEM;
	return mx_dp_write_classes(a->class_limits_fd, &a->settings);
}

/* agent_maps_close - close what agent_maps_create opened */
static inline void agent_maps_close(struct agent *a)
{
	const struct mx_table *t[] = { &a->store.bans, &a->store.allows, &a->store.classes };
	int fds[] = { a->class_limits_fd, a->config_fd, a->stats_fd, a->store.reasons_fd,
		      a->bucket4_fd, a->bucket6_fd, a->count4_fd, a->count6_fd };

	for (size_t i = 0; i < 3; i++)
		for (int m = 0; m < MX_TABLE_MAPS; m++)
			if (t[i]->fd[m] > 0)
				close(t[i]->fd[m]);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] > 0)
			close(fds[i]);
	senders_free(&a->senders);
	store_free(&a->store);
}

#endif /* MX_TEST_AGENT_MAPS_H */
