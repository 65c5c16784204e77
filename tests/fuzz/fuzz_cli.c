// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_cli - libFuzzer harness for the CLI's command lines
 * DESCRIPTION
 *	The input, split at spaces, is a command line run through
 *	mx_run_command() against real BPF maps (created once; root needed),
 *	as the agent runs every control request. A failing command must
 *	say why on its error stream. Maps are emptied now and then so that
 *	they do not fill up.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "cmd.h"

static struct agent a;

/* mk - a small map like the program's */
static int mk(enum bpf_map_type type, uint32_t key, uint32_t val, uint32_t n)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int fd;

	if (type == BPF_MAP_TYPE_LPM_TRIE || type == BPF_MAP_TYPE_HASH)
		o.map_flags = BPF_F_NO_PREALLOC;
	fd = bpf_map_create(type, NULL, key, val, n, &o);
	if (fd < 0) {
		fprintf(stderr, "fuzz_cli: bpf_map_create: %s (needs root)\n", strerror(errno));
		exit(1);
	}
	return fd;
}

static void mk_table(struct mx_table *t, const char *name, uint32_t val)
{
	t->name = name;
	t->value_size = val;
	t->fd[MX_EXACT4] = mk(BPF_MAP_TYPE_HASH, 4, val, 64);
	t->fd[MX_EXACT6] = mk(BPF_MAP_TYPE_HASH, 16, val, 64);
	t->fd[MX_PREFIX4] = mk(BPF_MAP_TYPE_LPM_TRIE, 8, val, 64);
	t->fd[MX_PREFIX6] = mk(BPF_MAP_TYPE_LPM_TRIE, 20, val, 64);
}

/* empty - delete every key of a map */
static void empty(int fd)
{
	uint8_t key[32];

	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		if (bpf_map_delete_elem(fd, key))
			break;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mx_config_default(&a.cfg);
	mx_settings_default(&a.settings);
	mk_table(&a.bans, "ban", sizeof(struct mx_ban));
	mk_table(&a.allows, "allowlist", sizeof(struct mx_allow));
	mk_table(&a.classes, "class", sizeof(struct mx_class_ref));
	a.class_limits_fd = mk(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_class_limits), MX_MAX_CLASSES);
	a.config_fd = mk(BPF_MAP_TYPE_ARRAY, 4, sizeof(struct mx_config), 1);
	a.stats_fd = mk(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, MX_STAT__MAX);
	a.reasons_fd = mk(BPF_MAP_TYPE_ARRAY, 4, MX_REASON_LEN, MX_MAX_REASONS);
	a.bucket4_fd = mk(BPF_MAP_TYPE_HASH, 8, 8, 64);
	a.bucket6_fd = mk(BPF_MAP_TYPE_HASH, 20, 8, 64);
	a.count4_fd = mk(BPF_MAP_TYPE_HASH, 8, 4, 64);
	a.count6_fd = mk(BPF_MAP_TYPE_HASH, 20, 4, 64);
	a.default_ban_ttl_ns = MX_DEFAULT_BAN_TTL_NS;
	a.pin_dir = "/sys/fs/bpf/fuzz";
	a.mode_name = "native";
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned long runs;
	struct mx_cmd_ctx c = { .agent = &a };
	char *buf, *argv[64], *tok, *save = NULL, *out = NULL, *err = NULL;
	size_t out_len = 0, err_len = 0;
	int argc = 0, r;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	c.json = size && (data[0] & 1);
	c.out = open_memstream(&out, &out_len);
	c.err = open_memstream(&err, &err_len);
	if (c.json)
		c.jw = jsonw_new(c.out);
	for (tok = strtok_r(buf, " \n", &save); tok && argc < 63; tok = strtok_r(NULL, " \n", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	r = mx_run_command(&c, argc, argv);
	if (c.jw)
		jsonw_destroy(&c.jw);
	fclose(c.out);
	fclose(c.err);
	if (r && !c.json && err_len == 0 && out_len == 0)
		abort();	/* failed without a word */
	free(out);
	free(err);
	free(buf);
	if (++runs % 1000 == 0) {
		for (int i = 0; i < MX_TABLE_MAPS; i++) {
			empty(a.bans.fd[i]);
			empty(a.allows.fd[i]);
		}
	}
	return 0;
}
