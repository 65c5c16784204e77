// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_conn.c - mxguard conn show [ADDR]: live connections
 * DESCRIPTION
 *	The live counts of the parallel-connection limit, per source and
 *	per prefix, largest first. With ADDR, the counts that apply to
 *	that address (its source and its prefix) and their limits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "commands.h"
#include "maps.h"

struct conn_row {
	struct mx_prefix p;
	uint32_t kind;		/* MX_BUCKET_SOURCE or MX_BUCKET_PREFIX */
	uint32_t count;
};

/* row_cmp - largest count first, then by address */
static int row_cmp(const void *x, const void *y)
{
	const struct conn_row *a = x, *b = y;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return memcmp(&a->p, &b->p, sizeof(a->p));
}

/* grow - room for one more row */
static int grow(struct conn_row **rows, size_t *n, size_t *cap)
{
	if (*n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 256;
	*rows = realloc(*rows, *cap * sizeof(**rows));
	return *rows ? 0 : -ENOMEM;
}

/* read_counts - every non-zero count of one family */
static int read_counts(const struct agent *a, int family, struct conn_row **rows,
		       size_t *n, size_t *cap)
{
	int fd = family == AF_INET ? a->dp.count4_fd : a->dp.count6_fd;
	size_t ksize = family == AF_INET ? sizeof(struct mx_bucket4_key) : sizeof(struct mx_bucket6_key);
	uint8_t key[24], next[24];
	void *prev = NULL;
	uint64_t word;

	while (mx_map_next_key(fd, prev, next) == 0) {
		struct conn_row *r;
		uint32_t kind, v;

		memcpy(key, next, ksize);
		prev = key;
		if (mx_map_lookup(fd, key, &word))
			continue;
		v = MX_COUNT_OF(word);
		if (v == 0 || v == MX_COUNT_DYING)
			continue;
		if (grow(rows, n, cap))
			return -ENOMEM;
		r = &(*rows)[(*n)++];
		memset(r, 0, sizeof(*r));
		memcpy(&kind, key + ksize - 4, 4);
		r->kind = kind;
		r->count = v;
		r->p.family = family;
		memcpy(r->p.addr, key, family == AF_INET ? 4 : 16);
		if (family == AF_INET)
			r->p.len = kind == MX_BUCKET_SOURCE ? a->settings.src_len4 : a->settings.pfx_len4;
		else
			r->p.len = kind == MX_BUCKET_SOURCE ? a->settings.src_len6 : a->settings.pfx_len6;
	}
	return 0;
}

/* do_show - conn show [ADDR] */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct conn_row *rows = NULL;
	size_t n = 0, cap = 0;
	struct mx_prefix want;
	bool filter = false;
	char err[160];

	if (argc) {
		if (mx_parse_prefix(*argv, &want, err, sizeof(err))) {
			p_err(c, "%s", err);
			return -1;
		}
		filter = true;
		NEXT_ARG();
		if (argc)
			return BAD_ARG();
	}
	if (read_counts(c->agent, AF_INET, &rows, &n, &cap) ||
	    read_counts(c->agent, AF_INET6, &rows, &n, &cap)) {
		free(rows);
		p_err(c, "out of memory");
		return -1;
	}
	if (n)
		qsort(rows, n, sizeof(*rows), row_cmp);
	if (c->json)
		jsonw_start_array(c->jw);
	else
		fprintf(c->out, "%-45s %-7s %s\n", "SOURCE/PREFIX", "KIND", "LIVE");
	for (size_t i = 0; i < n; i++) {
		char pfx[64];

		if (filter && !mx_prefix_contains(&rows[i].p, &want) &&
		    !mx_prefix_contains(&want, &rows[i].p))
			continue;
		mx_format_prefix(&rows[i].p, pfx, sizeof(pfx));
		if (c->json) {
			jsonw_start_object(c->jw);
			jsonw_string_field(c->jw, "prefix", pfx);
			jsonw_string_field(c->jw, "kind",
					   rows[i].kind == MX_BUCKET_SOURCE ? "source" : "prefix");
			jsonw_uint_field(c->jw, "live", rows[i].count);
			jsonw_end_object(c->jw);
		} else {
			fprintf(c->out, "%-45s %-7s %u\n", pfx,
				rows[i].kind == MX_BUCKET_SOURCE ? "source" : "prefix", rows[i].count);
		}
	}
	if (c->json)
		jsonw_end_array(c->jw);
	free(rows);
	return 0;
}

static const struct cmd cmds[] = {
	{ "show",	do_show },
	{ "list",	do_show },
	{ "help",	help_conn },
	{ 0 }
};

int do_conn(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_conn);
}
