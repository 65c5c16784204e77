// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_cli - libFuzzer harness for the CLI's command lines
 * DESCRIPTION
 *	The input, split at spaces, is a command line run through
 *	mx_run_command() against in-memory maps made once from the XDP
 *	program's definitions (agent_maps.h; no root needed), as the agent
 *	runs every control request. A failing command must
 *	say why on its error stream. Maps are emptied now and then so that
 *	they do not fill up.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "../unit/agent_maps.h"
#include "commands.h"
#include "maps.h"

static struct agent a;

/* empty - delete every key of a map */
static void empty(int fd)
{
	uint8_t key[32];

	while (mx_map_next_key(fd, NULL, key) == 0)
		if (mx_map_delete(fd, key))
			break;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int err = agent_maps_create(&a, 64);

	if (err) {
		fprintf(stderr, "fuzz_cli: creating the maps: %s\n", strerror(-err));
		exit(1);
	}
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
			empty(a.store.bans.fd[i]);
			empty(a.store.allows.fd[i]);
		}
	}
	return 0;
}
